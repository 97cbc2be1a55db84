//! A transaction's facts about its nodes, a byte each, kept inside the transaction's slot of
//! the history's index.
//!
//! Why: at 1,000,000 transactions the index is the check's one large allocation, and its
//! cost is dominated by touching fresh memory (on a VM with transparent huge pages, the
//! first touch of each page costs more than everything the checkers compute on it). So the
//! index holds what a checker reads and nothing more, as densely as it can: one list per
//! transaction of (node, kind) entries — kind says whether the node was addressed as a
//! participant, voted, made a yes vote durable, or decided (reported, or on its disk) — each
//! packed in a byte while the node's id is below 32. A 2PC transaction with four
//! participants has 22 entries; the list holds [`INLINE`] in place and moves to a side table
//! ([`Spills`]) only when it is longer, or names a node the byte cannot hold.
//!
//! Entries keep their order of arrival, so the entries of one kind read in time order
//! (reported) or disk order (durable); participants are the submission's list as the client
//! gave it, replaced whole by a later submission.

use protocols::{Outcome, Vote};
use sim_core::NodeId;

/// What an entry says about its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Addressed by the client's submission.
    Participant,
    /// Reported a vote.
    Voted(Vote),
    /// Wrote a prepared record (a yes vote, durable).
    DurableYes,
    /// Reported a decision.
    Decided(Outcome),
    /// Wrote a decision record.
    Logged(Outcome),
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Participant,
        Kind::Voted(Vote::Yes),
        Kind::Voted(Vote::No),
        Kind::DurableYes,
        Kind::Decided(Outcome::Commit),
        Kind::Decided(Outcome::Abort),
        Kind::Logged(Outcome::Commit),
        Kind::Logged(Outcome::Abort),
    ];

    fn code(self) -> u8 {
        match self {
            Kind::Participant => 0,
            Kind::Voted(Vote::Yes) => 1,
            Kind::Voted(Vote::No) => 2,
            Kind::DurableYes => 3,
            Kind::Decided(Outcome::Commit) => 4,
            Kind::Decided(Outcome::Abort) => 5,
            Kind::Logged(Outcome::Commit) => 6,
            Kind::Logged(Outcome::Abort) => 7,
        }
    }
}

/// Entries held in place; with the length byte and the index's other fields, an entry of
/// the index is 32 bytes.
pub const INLINE: usize = 26;
/// Nodes below this id fit a byte beside the kind's three bits.
const NARROW_NODES: u32 = 1 << 5;
/// The length byte of a list that moved to the side table (its index is in the first four
/// bytes).
const SPILLED: u8 = u8::MAX;
const _: () = assert!(INLINE < SPILLED as usize);

fn narrow(node: NodeId, kind: Kind) -> Option<u8> {
    (node.0 < NARROW_NODES).then(|| (node.0 as u8) << 3 | kind.code())
}

fn wide(byte: u8) -> (NodeId, Kind) {
    (NodeId(u32::from(byte >> 3)), Kind::ALL[usize::from(byte & 7)])
}

/// Lists too long (or with nodes too large) for their place: one per such transaction.
#[derive(Clone, Debug, Default)]
pub struct Spills(Vec<Vec<(NodeId, Kind)>>);

/// One transaction's list of entries, in place or in the side table.
#[derive(Clone, Copy, Debug)]
pub struct Packed {
    len: u8,
    bytes: [u8; INLINE],
}

impl Default for Packed {
    fn default() -> Self {
        Packed { len: 0, bytes: [0; INLINE] }
    }
}

/// A list's entries, read in arrival order.
#[derive(Clone, Copy, Debug)]
pub struct Entries<'a> {
    narrow: &'a [u8],
    wide: &'a [(NodeId, Kind)],
}

impl<'a> Entries<'a> {
    pub fn iter(self) -> impl Iterator<Item = (NodeId, Kind)> + 'a {
        self.narrow.iter().map(|&b| wide(b)).chain(self.wide.iter().copied())
    }

    /// The nodes of the entries of `kind`, in arrival order.
    pub fn nodes(self, kind: Kind) -> impl Iterator<Item = NodeId> + 'a {
        let code = kind.code();
        let narrow = self.narrow.iter().filter(move |&&b| b & 7 == code).map(|&b| wide(b).0);
        narrow.chain(self.wide.iter().filter(move |e| e.1 == kind).map(|e| e.0))
    }

    /// Whether an entry of either kind is there (whichever node).
    pub fn any_of(self, a: Kind, b: Kind) -> bool {
        let (ca, cb) = (a.code(), b.code());
        // No early exit: the compiler compares the few bytes a vector at a time.
        let narrow = self.narrow.iter().fold(false, |c, &x| c | (x & 7 == ca) | (x & 7 == cb));
        narrow || self.wide.iter().any(|e| e.1 == a || e.1 == b)
    }

    pub fn contains(self, node: NodeId, kind: Kind) -> bool {
        match narrow(node, kind) {
            // No early exit: the compiler compares the few bytes a vector at a time.
            Some(b) if self.wide.is_empty() => self.narrow.iter().fold(false, |c, &x| c | (x == b)),
            _ => self.iter().any(|e| e == (node, kind)),
        }
    }
}

impl Packed {
    fn spill_index(&self) -> Option<usize> {
        (self.len == SPILLED).then(|| {
            let b = self.bytes;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
    }

    pub fn entries<'a>(&'a self, spills: &'a Spills) -> Entries<'a> {
        match self.spill_index() {
            Some(i) => Entries { narrow: &[], wide: &spills.0[i] },
            None => Entries { narrow: &self.bytes[..usize::from(self.len)], wide: &[] },
        }
    }

    /// Adds `node`'s entry of `kind` at the end.
    pub fn push(&mut self, spills: &mut Spills, node: NodeId, kind: Kind) {
        match (self.spill_index(), narrow(node, kind)) {
            (Some(i), _) => spills.0[i].push((node, kind)),
            (None, Some(b)) if usize::from(self.len) < INLINE => {
                self.bytes[usize::from(self.len)] = b;
                self.len += 1;
            }
            (None, _) => {
                let mut list: Vec<(NodeId, Kind)> = self.entries(spills).iter().collect();
                list.push((node, kind));
                self.spill(spills, list);
            }
        }
    }

    /// Drops every entry of `kind`.
    pub fn remove_all(&mut self, spills: &mut Spills, kind: Kind) {
        match self.spill_index() {
            Some(i) => spills.0[i].retain(|e| e.1 != kind),
            None => {
                let n = usize::from(self.len);
                let mut kept = 0;
                for i in 0..n {
                    let b = self.bytes[i];
                    if wide(b).1 != kind {
                        self.bytes[kept] = b;
                        kept += 1;
                    }
                }
                self.len = kept as u8;
            }
        }
    }

    fn spill(&mut self, spills: &mut Spills, list: Vec<(NodeId, Kind)>) {
        let i = u32::try_from(spills.0.len()).expect("fewer than 2^32 spilled lists");
        spills.0.push(list);
        self.len = SPILLED;
        self.bytes[..4].copy_from_slice(&i.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_what_was_added_in_place_and_spilled() {
        let mut spills = Spills::default();
        // Narrow and short; long; a wide node first; a wide node after narrow ones.
        let lists: [Vec<(NodeId, Kind)>; 4] = [
            (0..8).map(|i| (NodeId(i % 5), Kind::ALL[i as usize % 8])).collect(),
            (0..60).map(|i| (NodeId(i % 31), Kind::ALL[(i / 3) as usize % 8])).collect(),
            vec![(NodeId(40), Kind::DurableYes), (NodeId(1), Kind::Participant)],
            vec![
                (NodeId(2), Kind::Participant),
                (NodeId(2), Kind::Participant),
                (NodeId(32), Kind::Participant),
            ],
        ];
        let mut packed = [Packed::default(); 4];
        for (p, adds) in packed.iter_mut().zip(&lists) {
            for &(n, k) in adds {
                p.push(&mut spills, n, k);
            }
        }
        for (p, adds) in packed.iter().zip(&lists) {
            let read: Vec<(NodeId, Kind)> = p.entries(&spills).iter().collect();
            assert_eq!(&read, adds);
            for &(n, k) in adds {
                assert!(p.entries(&spills).contains(n, k));
            }
        }
        assert_eq!(usize::from(packed[0].len), 8, "short and narrow: in place");
        assert!(packed[1..].iter().all(|p| p.len == SPILLED), "long or wide: spilled");
        assert!(!packed[0].entries(&spills).contains(NodeId(33), Kind::Participant));
        for p in &mut packed {
            p.remove_all(&mut spills, Kind::Participant);
            assert!(p.entries(&spills).iter().all(|e| e.1 != Kind::Participant));
        }
    }
}
