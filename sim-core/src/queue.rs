//! The event queue: a binary heap ordered by `(time, seq)`, earliest first. `seq` is a
//! global insertion counter, so events at the same virtual time run in the order they were
//! scheduled, and a run is a pure function of its seed and fault plan.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::id::NodeId;
use crate::process::Protocol;
use crate::schedule::Envelope;
use crate::time::Time;

/// Something scheduled to happen.
pub(crate) enum Pending<P: Protocol> {
    /// A network message. The payload rides inline in the entry: no side table on the hot
    /// path.
    Deliver(Envelope<P>),
    /// A message between two processes of one host (never crosses the network).
    DeliverLocal(Envelope<P>),
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

pub(crate) struct Entry<P: Protocol> {
    pub what: Pending<P>,
    pub time: Time,
    pub seq: u64,
}

impl<P: Protocol> PartialEq for Entry<P> {
    fn eq(&self, o: &Self) -> bool {
        self.time == o.time && self.seq == o.seq
    }
}
impl<P: Protocol> Eq for Entry<P> {}
impl<P: Protocol> PartialOrd for Entry<P> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<P: Protocol> Ord for Entry<P> {
    /// Reversed, because `BinaryHeap` pops the greatest: the earliest `(time, seq)` wins.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.time, o.seq).cmp(&(self.time, self.seq))
    }
}

pub(crate) struct EventQueue<P: Protocol> {
    heap: BinaryHeap<Entry<P>>,
    next_seq: u64,
}

impl<P: Protocol> EventQueue<P> {
    pub fn new() -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(64), next_seq: 0 }
    }

    #[inline]
    pub fn push(&mut self, time: Time, what: Pending<P>) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { what, time, seq });
    }

    #[inline]
    pub fn pop(&mut self) -> Option<Entry<P>> {
        self.heap.pop()
    }

    #[inline]
    pub fn next_time(&self) -> Option<Time> {
        self.heap.peek().map(|e| e.time)
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }
}
