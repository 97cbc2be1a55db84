//! The event queue: earliest `(time, seq)` first. `seq` is a global insertion counter, so
//! events at the same virtual time run in the order they were scheduled, and a run is a pure
//! function of its seed and fault plan. Keys are unique, so any correct priority queue pops
//! exactly the same sequence: the choice of structure is a matter of speed alone.
//!
//! Public for `benches/queue.rs` only (the runner's queue is its own business).
//!
//! # Why a 4-ary heap with the payload inline
//!
//! Measured on benchmark W1 (README, "Benchmark W1") against std's `BinaryHeap`, which the
//! raw loop uses:
//!
//! - Most runs keep few events queued (W1 keeps at most four; a commit scenario tens), and
//!   virtual time only grows, but the gaps are drawn at random. A pop in a binary heap walks
//!   to the bottom and back up; in a 4-ary heap of up to five entries it is one level, and
//!   the smallest of four children is found by branch-free compares of a 128-bit key
//!   (`time` high, `seq` low), so random latencies cost no mispredicted branch there.
//! - A radix heap or a calendar queue would exploit monotone time, but both pay per
//!   bucket for what a four-entry heap does in a few compares, and a calendar queue's bucket
//!   width has to be tuned to the latency distribution; with large queues (thousands of
//!   timers) a 4-ary heap is still `O(log n)` with half the levels of a binary one.
//! - The payload stays inline in the entry (a side table of payloads was measured slower:
//!   one more indirection per event and a free list to maintain).

use crate::id::NodeId;
use crate::process::Protocol;
use crate::schedule::Envelope;
use crate::time::Time;

/// Something scheduled to happen.
pub(crate) enum Pending<P: Protocol> {
    /// A message. The payload rides inline in the entry: no side table on the hot path.
    /// Whether it crosses the network or stays on one host is the world's to say
    /// ([`World::is_local`](crate::World::is_local), fixed for a run): a single variant
    /// carrying an envelope lets the compiler keep the variant tag in a niche of the
    /// payload, so an entry is 8 bytes smaller (48 bytes on W1 instead of 56).
    Deliver(Envelope<P>),
    /// Fires only if `token` is still the node's armed token for `timer`.
    Timer {
        node: NodeId,
        timer: P::Timer,
        token: u64,
    },
    /// Fault `index` of the plan, triggered by time.
    Fault {
        index: u32,
    },
    Recover {
        node: NodeId,
    },
}

/// One queued item with its key.
pub struct Entry<T> {
    pub what: T,
    pub time: Time,
    pub seq: u64,
}

impl<T> Entry<T> {
    /// `(time, seq)` as one integer: comparing keys is one 128-bit compare, no branch.
    #[inline(always)]
    fn key(&self) -> u128 {
        ((self.time.as_us() as u128) << 64) | self.seq as u128
    }
}

/// A min-heap of entries by `(time, seq)` with four children per node (see the module docs).
/// Generic over the payload so that it can be tested against std's `BinaryHeap` alone.
pub struct QuadHeap<T> {
    heap: Vec<Entry<T>>,
    next_seq: u64,
}

impl<T> Default for QuadHeap<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Children per node.
const ARITY: usize = 4;

impl<T> QuadHeap<T> {
    pub fn new() -> Self {
        QuadHeap { heap: Vec::with_capacity(64), next_seq: 0 }
    }

    /// Queues `what` at `time`, after everything queued earlier for the same time.
    #[inline(always)]
    pub fn push(&mut self, time: Time, what: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { what, time, seq });
        self.sift_up(self.heap.len() - 1);
    }

    /// The earliest entry, removed. The last entry sinks from the root's hole without being
    /// written there first: writing it and reading it straight back (as `mem::replace` then
    /// a sift did) made the CPU wait on a store it could not forward to the wider load.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<Entry<T>> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(last);
        }
        // SAFETY: the heap is not empty, so slot 0 is in bounds; its entry is moved out and
        // `sink` fills the hole it leaves before anything else can observe the heap.
        let top = unsafe { std::ptr::read(self.heap.as_ptr()) };
        self.sink(last);
        Some(top)
    }

    #[inline]
    pub fn next_time(&self) -> Option<Time> {
        self.heap.first().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Moves the entry at `i` up to its place. Each entry on the way moves once (into the
    /// hole the rising entry leaves), rather than being swapped (three moves).
    #[inline(always)]
    fn sift_up(&mut self, i: usize) {
        let key = self.heap[i].key();
        let mut to = i;
        while to > 0 && self.heap[(to - 1) / ARITY].key() > key {
            to = (to - 1) / ARITY;
        }
        self.move_along(i, to);
    }

    /// Writes `sinking` into the hole at the root (slot 0, whose entry was moved out) and
    /// restores the heap: at each level the smallest child rises into the hole (one move),
    /// and the sinking entry is written once, at the end.
    #[inline(always)]
    fn sink(&mut self, sinking: Entry<T>) {
        let n = self.heap.len();
        assert!(n > 0);
        let base = self.heap.as_mut_ptr();
        let key = sinking.key();
        let mut hole = 0;
        // SAFETY: every index read or written is below `n`. Slot `hole` holds a stale copy
        // (moved out by the caller, or copied into its parent); each step copies one child
        // (below the hole, so a distinct slot) into the hole and makes the child's slot the
        // hole; `sinking` is written into the last hole. Only children of the hole are read
        // while it is stale, every entry ends in exactly one slot, and nothing can panic in
        // between (`key` is arithmetic on plain integers).
        unsafe {
            loop {
                let first = ARITY * hole + 1;
                if first >= n {
                    break;
                }
                // The smallest child, by compares the compiler turns into conditional moves.
                let mut best = first;
                let mut best_key = (*base.add(first)).key();
                for c in first + 1..(first + ARITY).min(n) {
                    let k = (*base.add(c)).key();
                    let smaller = k < best_key;
                    best = if smaller { c } else { best };
                    best_key = if smaller { k } else { best_key };
                }
                if best_key >= key {
                    break;
                }
                std::ptr::copy_nonoverlapping(base.add(best), base.add(hole), 1);
                hole = best;
            }
            std::ptr::write(base.add(hole), sinking);
        }
    }

    /// Moves the entry at `from` to `to`, an ancestor of it, shifting every entry on the path
    /// between them one level down.
    #[inline(always)]
    fn move_along(&mut self, from: usize, to: usize) {
        if from == to {
            return;
        }
        assert!(to < from && from < self.heap.len());
        let base = self.heap.as_mut_ptr();
        // SAFETY: `from` and every index on the path from it up to `to` are in bounds (an
        // ancestor's index is smaller). The rising entry is read out once, each ancestor on
        // the path is copied into its child's slot (distinct slots, so nonoverlapping), and
        // the rising entry is written into the last slot vacated: every entry ends up in
        // exactly one slot, none is dropped or duplicated, and nothing can panic in between.
        unsafe {
            let rising = std::ptr::read(base.add(from));
            let mut hole = from;
            while hole != to {
                let parent = (hole - 1) / ARITY;
                std::ptr::copy_nonoverlapping(base.add(parent), base.add(hole), 1);
                hole = parent;
            }
            std::ptr::write(base.add(hole), rising);
        }
    }
}

/// The runner's queue of pending events.
pub(crate) type EventQueue<P> = QuadHeap<Pending<P>>;

#[cfg(test)]
mod tests {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use proptest::prelude::*;

    use super::*;

    /// A protocol whose message is a small enum, as W1's and the commit protocols' are.
    #[derive(Clone, Debug, PartialEq, Hash)]
    struct Small;

    #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
    enum SmallMsg {
        Prepare(u64),
        Yes(u64),
        Commit(u64),
        Ack(u64),
    }

    impl Protocol for Small {
        type Msg = SmallMsg;
        type Timer = ();
        type Record = ();
        type Obs = ();
    }

    /// A queued delivery is as small as its envelope allows: the variant tag lives in a
    /// niche of the message, not in a word of its own (56 bytes when local and network
    /// deliveries were two variants carrying an envelope each).
    #[test]
    fn a_queued_delivery_of_a_small_message_takes_48_bytes() {
        assert_eq!(std::mem::size_of::<Envelope<Small>>(), 32);
        assert_eq!(std::mem::size_of::<Pending<Small>>(), 32);
        assert_eq!(std::mem::size_of::<Entry<Pending<Small>>>(), 48);
    }

    proptest! {
        /// Any interleaving of pushes (at times never before the last pop, as in a run) and
        /// pops gives exactly the order of std's binary heap keyed by `(time, seq)`.
        #[test]
        fn pops_in_the_order_of_a_binary_heap(
            ops in proptest::collection::vec((any::<bool>(), 0u64..50), 0..400)
        ) {
            let mut quad = QuadHeap::new();
            let mut reference = BinaryHeap::new();
            let (mut seq, mut now) = (0u64, 0u64);
            for (is_push, delay) in ops {
                if is_push {
                    let t = now + delay;
                    quad.push(Time::from_us(t), seq);
                    reference.push(Reverse((t, seq)));
                    seq += 1;
                } else {
                    let got = quad.pop().map(|e| (e.time.as_us(), e.seq, e.what));
                    let want = reference.pop().map(|Reverse((t, s))| (t, s, s));
                    prop_assert_eq!(got, want);
                    if let Some((t, _, _)) = got {
                        now = t;
                    }
                }
                prop_assert_eq!(quad.len(), reference.len());
                prop_assert_eq!(
                    quad.next_time().map(|t| t.as_us()),
                    reference.peek().map(|Reverse((t, _))| *t)
                );
            }
            while let Some(Reverse((t, s))) = reference.pop() {
                let e = quad.pop().expect("as long as the reference");
                prop_assert_eq!((e.time.as_us(), e.seq, e.what), (t, s, s));
            }
            prop_assert!(quad.pop().is_none());
        }
    }
}
