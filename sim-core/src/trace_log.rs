//! The full trace, kept compact in memory.
//!
//! A full trace of W1 at 1,000,000 transactions holds 32 million events; kept as
//! [`TraceEvent`] values (48 bytes each) that is 1.5 GB. Nearly all of them are sends and
//! deliveries, and a send or delivery says little that the events around it do not already
//! say: its time is usually the previous event's, its ids are close to the latest send's, a
//! broadcast repeats one message. So the log stores:
//!
//! - sends and deliveries as a few bytes each in a byte stream (layout below), a send's
//!   message only when it differs from the previous send's (in a table of its own);
//! - every other event (timers, disk writes, observations, faults, ...) whole, in a table of
//!   its own, with one byte in the stream marking its place.
//!
//! About 6 bytes per event on W1 instead of 48, with nothing thrown away: reading the log
//! back gives exactly the events recorded, in order (the trace hash of the events read back
//! is the run's). Kept in memory rather than spilled to disk: at this size it fits well under
//! the memory a long run may use, needs no file to clean up, and can be read any number of
//! times. Every piece is stored in chunks that never move, so a long run never copies what
//! it holds when it grows.
//!
//! # Layout of one event in the stream
//!
//! A head byte: bits 0–1 the kind (send, delivery, other); bit 2 set when the time is the
//! previous event's; bit 3 (sends) set when the message is the previous send's; bits 4–7
//! the node, or 15 when the node follows as a varint. Then, for a send or a delivery: the
//! time's difference from the previous event's (zigzag varint, unless bit 2), the node
//! (varint, if escaped), the peer (varint: `to` of a send, `from` of a delivery) and the
//! message id as its difference from the latest send's id plus one (a send) or from the
//! latest send's id (a delivery), zigzag varint. An "other" event is its head byte alone.

use crate::id::NodeId;
use crate::process::Protocol;
use crate::time::Time;
use crate::trace_event::{TraceEvent, TraceKind};

const KIND_SEND: u8 = 0;
const KIND_DELIVER: u8 = 1;
const KIND_OTHER: u8 = 2;
const KIND_MASK: u8 = 0b11;
const SAME_TIME: u8 = 1 << 2;
const SAME_MSG: u8 = 1 << 3;
const NODE_SHIFT: u32 = 4;
const NODE_ESCAPE: u8 = 15;

/// The longest encoding of one event: a head byte, a time difference (10), a node (5), a
/// peer (5) and an id difference (10).
const MAX_EVENT_BYTES: usize = 31;

/// Everything a full trace holds, compact (see the module docs).
#[derive(Clone)]
pub(crate) struct FullLog<P: Protocol> {
    bytes: ChunkedLog<u8>,
    msgs: ChunkedLog<P::Msg>,
    others: ChunkedLog<TraceEvent<P>>,
    len: usize,
    /// The encoder's position: what the next event is encoded against.
    at: Cursor,
}

impl<P: Protocol> Default for FullLog<P> {
    fn default() -> Self {
        FullLog {
            bytes: ChunkedLog::default(),
            msgs: ChunkedLog::default(),
            others: ChunkedLog::default(),
            len: 0,
            at: Cursor::default(),
        }
    }
}

/// What an event is encoded against: the previous event's time and the latest send's id
/// (the same on both sides, encoder and decoder).
#[derive(Clone, Copy, Default)]
struct Cursor {
    time: u64,
    send_id: u64,
}

impl<P: Protocol> FullLog<P> {
    #[inline]
    pub(crate) fn send(&mut self, time: Time, node: NodeId, to: NodeId, id: u64, msg: &P::Msg) {
        let same_msg = self.msgs.last().is_some_and(|m| m == msg);
        if !same_msg {
            self.msgs.push(msg.clone());
        }
        let expected = self.at.send_id.wrapping_add(1);
        self.at.send_id = id;
        let flags = if same_msg { SAME_MSG } else { 0 };
        self.put(KIND_SEND | flags, time, node, to, id.wrapping_sub(expected));
    }

    #[inline]
    pub(crate) fn deliver(&mut self, time: Time, node: NodeId, from: NodeId, id: u64) {
        let diff = id.wrapping_sub(self.at.send_id);
        self.put(KIND_DELIVER, time, node, from, diff);
    }

    /// Any event but a send or a delivery, kept whole.
    pub(crate) fn other(&mut self, ev: TraceEvent<P>) {
        debug_assert!(!matches!(ev.kind, TraceKind::Send { .. } | TraceKind::Deliver { .. }));
        self.at.time = ev.time.as_us();
        self.others.push(ev);
        let buf = self.bytes.reserve(1);
        buf.push(KIND_OTHER);
        self.len += 1;
    }

    #[inline(always)]
    fn put(&mut self, kind: u8, time: Time, node: NodeId, peer: NodeId, id_diff: u64) {
        let time = time.as_us();
        let dt = time.wrapping_sub(self.at.time) as i64;
        self.at.time = time;
        let small_node = node.0 < NODE_ESCAPE as u32;
        let node_bits = if small_node { node.0 as u8 } else { NODE_ESCAPE };
        let same_time = if dt == 0 { SAME_TIME } else { 0 };
        let buf = self.bytes.reserve(MAX_EVENT_BYTES);
        buf.push(kind | same_time | (node_bits << NODE_SHIFT));
        if dt != 0 {
            put_varint(buf, zigzag(dt));
        }
        if !small_node {
            put_varint(buf, node.0 as u64);
        }
        put_varint(buf, peer.0 as u64);
        put_varint(buf, zigzag(id_diff as i64));
        self.len += 1;
    }

    /// Every event, in order, decoded.
    pub(crate) fn iter(&self) -> Events<'_, P> {
        Events {
            bytes: &self.bytes.chunks,
            chunk: 0,
            pos: 0,
            msgs: self.msgs.chunks.iter().flatten(),
            msg: None,
            others: self.others.chunks.iter().flatten(),
            at: Cursor::default(),
            left: self.len,
        }
    }
}

/// The events of a [`FullLog`], decoded one at a time.
#[derive(Clone)]
pub(crate) struct Events<'a, P: Protocol> {
    bytes: &'a [Vec<u8>],
    chunk: usize,
    pos: usize,
    /// The message table, read in order, and the message of the latest send.
    msgs: Flatten<'a, P::Msg>,
    msg: Option<&'a P::Msg>,
    /// The table of other events, read in order.
    others: Flatten<'a, TraceEvent<P>>,
    at: Cursor,
    left: usize,
}

type Flatten<'a, T> = std::iter::Flatten<std::slice::Iter<'a, Vec<T>>>;

impl<P: Protocol> Iterator for Events<'_, P> {
    type Item = TraceEvent<P>;

    fn next(&mut self) -> Option<TraceEvent<P>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        while self.pos == self.bytes[self.chunk].len() {
            self.chunk += 1;
            self.pos = 0;
        }
        let bytes = &self.bytes[self.chunk];
        let head = bytes[self.pos];
        self.pos += 1;
        let kind = head & KIND_MASK;
        if kind == KIND_OTHER {
            let ev = self.others.next().expect("every other event is in its table").clone();
            self.at.time = ev.time.as_us();
            return Some(ev);
        }
        let mut read = || get_varint(bytes, &mut self.pos);
        if head & SAME_TIME == 0 {
            self.at.time = self.at.time.wrapping_add(unzigzag(read()) as u64);
        }
        let node_bits = head >> NODE_SHIFT;
        let node = if node_bits == NODE_ESCAPE { read() as u32 } else { node_bits as u32 };
        let peer = NodeId(read() as u32);
        let id_diff = unzigzag(read()) as u64;
        let (time, node) = (Time::from_us(self.at.time), NodeId(node));
        let kind = if kind == KIND_SEND {
            let id = self.at.send_id.wrapping_add(1).wrapping_add(id_diff);
            self.at.send_id = id;
            if head & SAME_MSG == 0 {
                self.msg = self.msgs.next();
            }
            let msg = self.msg.expect("every new message is in its table").clone();
            TraceKind::Send { to: peer, id, msg }
        } else {
            assert_eq!(kind, KIND_DELIVER, "a corrupt trace log");
            TraceKind::Deliver { from: peer, id: self.at.send_id.wrapping_add(id_diff) }
        };
        Some(TraceEvent { time, node, kind })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<P: Protocol> ExactSizeIterator for Events<'_, P> {}

#[inline(always)]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline(always)]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// LEB128: seven bits per byte, low first, the top bit set on every byte but the last.
#[inline(always)]
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push(v as u8 | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

#[inline]
fn get_varint(bytes: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = bytes[*pos];
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
        assert!(shift < 64, "a varint longer than 64 bits: a corrupt trace log");
    }
}

/// An append-only log stored in chunks that never move. A long run holds tens of millions
/// of items; growing one `Vec` would copy all of them at each doubling (and briefly hold
/// both copies).
#[derive(Clone)]
struct ChunkedLog<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for ChunkedLog<T> {
    fn default() -> Self {
        ChunkedLog { chunks: Vec::new() }
    }
}

impl<T> ChunkedLog<T> {
    /// Chunks double from 1 Ki items up to 1 Mi items, so a short run allocates little and a
    /// long one makes few, large allocations.
    const CHUNK_MIN: usize = 1 << 10;
    const CHUNK_MAX: usize = 1 << 20;

    /// The last chunk, with room for at least `n` more items (a new chunk if need be).
    #[inline(always)]
    fn reserve(&mut self, n: usize) -> &mut Vec<T> {
        debug_assert!(n <= Self::CHUNK_MIN);
        let full = self.chunks.last().is_none_or(|c| c.capacity() - c.len() < n);
        if full {
            self.grow();
        }
        self.chunks.last_mut().expect("a chunk was just made")
    }

    #[cold]
    fn grow(&mut self) {
        let held: usize = self.chunks.iter().map(Vec::len).sum();
        let size = held.clamp(Self::CHUNK_MIN, Self::CHUNK_MAX);
        self.chunks.push(Vec::with_capacity(size));
    }

    #[inline]
    fn push(&mut self, v: T) {
        self.reserve(1).push(v);
    }

    fn last(&self) -> Option<&T> {
        self.chunks.last()?.last()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug, PartialEq, Hash)]
    struct Lab;
    impl Protocol for Lab {
        type Msg = u64;
        type Timer = u8;
        type Record = ();
        type Obs = ();
    }

    /// One event to record: (kind 0..3, time step -2..=20 000, node, peer, id jump, msg).
    fn event() -> impl Strategy<Value = (u8, i64, u32, u32, i64, u64)> {
        (0u8..3, -2i64..20_000, 0u32..40, 0u32..40, -6i64..6, 0u64..3)
    }

    proptest! {
        /// Whatever is recorded (times going back, nodes past the 4-bit field, ids far from
        /// the latest send, repeated and new messages, other events between) reads back
        /// exactly (so it hashes as what was recorded).
        #[test]
        fn reads_back_exactly_what_was_recorded(events in proptest::collection::vec(event(), 0..3_000)) {
            let mut log = FullLog::<Lab>::default();
            let mut want = Vec::new();
            let (mut time, mut send_id) = (1_000u64, 0u64);
            for (kind, step, node, peer, jump, msg) in events {
                time = time.saturating_add_signed(step);
                let (t, n, p) = (Time::from_us(time), NodeId(node), NodeId(peer));
                let kind = match kind {
                    0 => {
                        send_id = send_id.wrapping_add_signed(1 + jump.max(0));
                        log.send(t, n, p, send_id, &msg);
                        TraceKind::Send { to: p, id: send_id, msg }
                    }
                    1 => {
                        let id = send_id.wrapping_add_signed(jump);
                        log.deliver(t, n, p, id);
                        TraceKind::Deliver { from: p, id }
                    }
                    _ => {
                        let kind = TraceKind::TimerFire { timer: msg as u8 };
                        log.other(TraceEvent { time: t, node: n, kind: kind.clone() });
                        kind
                    }
                };
                want.push(TraceEvent { time: t, node: n, kind });
            }
            let got: Vec<_> = log.iter().collect();
            prop_assert_eq!(log.iter().len(), want.len());
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn a_long_run_spans_many_chunks_and_stays_compact() {
        let mut log = FullLog::<Lab>::default();
        let n = 3_000_000u64;
        for i in 0..n {
            let t = Time::from_us(i * 5_000);
            log.send(t, NodeId(0), NodeId(1 + (i % 4) as u32), i + 1, &(i / 4));
            log.deliver(t, NodeId(1 + (i % 4) as u32), NodeId(0), i + 1);
        }
        assert!(log.bytes.chunks.len() > 4, "the byte stream is chunked");
        let bytes: usize = log.bytes.chunks.iter().map(Vec::len).sum();
        assert!(bytes <= 8 * n as usize, "{bytes} bytes for {} events", 2 * n);
        let mut it = log.iter();
        assert_eq!(it.len(), 2 * n as usize);
        let last = it.by_ref().last().unwrap();
        assert_eq!(
            last,
            TraceEvent {
                time: Time::from_us((n - 1) * 5_000),
                node: NodeId(4),
                kind: TraceKind::Deliver { from: NodeId(0), id: n }
            }
        );
    }
}
