//! Quorum non-blocking (Keidar & Dolev, E3PC): **a connected quorum never blocks**.
//!
//! Definition (judged at the end of the fault phase, like `non-blocking`): a quorum-commit
//! protocol states its quorum system in a `QuorumSystem` observation — each participant's
//! weight, the commit quorum `Vc`, the abort quorum `Va`, and its timeout bound `B`.
//! A participant `p` is **connected to a quorum of up processes** at an instant if there is a
//! set `S` of participants, `p` among them, all up, every two of them joined by links that are
//! cut in neither direction, whose weight reaches both quorums (`≥ max(Vc, Va)`: whatever
//! the decision must be, the set can make it). The property is violated by every
//! participant that is up and in doubt when the fault phase ends and that has been, without
//! interruption, both in doubt and connected to a quorum of up processes for longer than
//! `B`. Recovered participants count (their state is on their disk; quorums count them).
//!
//! Connectivity comes from the history's facts alone: crashes and recoveries, and the cut
//! links after every partition, cut and heal. Random message loss on an uncut link is not a
//! disconnection; the bound `B` assumes the network's latency bound, so plans that slow or
//! drop messages are outside what the property promises (search it with partitions,
//! crashes and recoveries). Protocols that state no quorum system are not judged.

use std::collections::BTreeMap;

use sim_core::{NodeId, Time};

use crate::history::History;
use crate::verdict::{Property, Verdict, Violation};

/// A protocol's stated quorum system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumSystem {
    pub weights: Vec<(NodeId, u32)>,
    pub commit_quorum: u32,
    pub abort_quorum: u32,
    pub bound_us: u64,
}

/// Weighted participants at most this many (a bit each in a `u64`); a larger system is not
/// judged (the verdict says so).
pub const MAX_MEMBERS: usize = 64;

/// At most this many maximal sets of mutually connected participants are examined per
/// change (a partition into groups makes one per group; each one-way cut at most doubles
/// them); past it, nobody is counted as connected, so the property never claims a violation
/// it did not establish.
pub const MAX_CLIQUES: usize = 4096;

/// Who has been connected to a quorum of up processes since when, kept as the history grows.
#[derive(Clone, Debug, Default)]
pub struct QuorumFacts {
    system: Option<QuorumSystem>,
    /// Members connected to a quorum now, and since when.
    since: BTreeMap<NodeId, Time>,
    /// `since` when the fault phase ended.
    at_end: Option<BTreeMap<NodeId, Time>>,
}

impl QuorumFacts {
    /// The quorum system stated, if it can be judged (at most [`MAX_MEMBERS`] members).
    pub fn system(&self) -> Option<&QuorumSystem> {
        self.system.as_ref().filter(|s| s.weights.len() <= MAX_MEMBERS)
    }

    pub(crate) fn state(&mut self, system: QuorumSystem) {
        self.system = Some(system);
    }

    /// Re-reads connectivity after a change (`up`: whether a node is up; `cut`: directed
    /// links cut now).
    pub(crate) fn refresh(
        &mut self,
        now: Time,
        up: impl Fn(NodeId) -> bool,
        cut: &[(NodeId, NodeId)],
    ) {
        let Some(sys) = self.system() else { return };
        let need = sys.commit_quorum.max(sys.abort_quorum);
        let members: Vec<(NodeId, u32)> =
            sys.weights.iter().copied().filter(|(n, _)| up(*n)).collect();
        let linked = |a: NodeId, b: NodeId| !cut.contains(&(a, b)) && !cut.contains(&(b, a));
        // adj[i]: the members joined to member i both ways.
        let adj: Vec<u64> = (members.iter())
            .map(|&(a, _)| {
                (members.iter().enumerate())
                    .filter(|&(_, &(b, _))| a != b && linked(a, b))
                    .fold(0u64, |m, (j, _)| m | 1 << j)
            })
            .collect();
        let all = if members.len() == 64 { u64::MAX } else { (1u64 << members.len()) - 1 };
        let mut cliques = Vec::new();
        let complete = maximal_cliques(&adj, 0, all, 0, &mut cliques);
        let weight = |set: u64| -> u32 {
            (0..members.len()).filter(|i| set >> i & 1 == 1).map(|i| members[i].1).sum()
        };
        let mut connected = 0u64;
        if complete {
            for c in cliques.into_iter().filter(|&c| weight(c) >= need) {
                connected |= c;
            }
        }
        let connected: Vec<NodeId> =
            (0..members.len()).filter(|i| connected >> i & 1 == 1).map(|i| members[i].0).collect();
        self.since.retain(|n, _| connected.contains(n));
        for n in connected {
            self.since.entry(n).or_insert(now);
        }
    }

    /// Who was connected to a quorum when the fault phase ended, since when.
    pub fn at_end(&self) -> Option<&BTreeMap<NodeId, Time>> {
        self.at_end.as_ref()
    }

    pub(crate) fn freeze(&mut self) {
        if self.at_end.is_none() {
            self.at_end = Some(self.since.clone());
        }
    }
}

/// Bron–Kerbosch with pivoting over bit sets: every maximal clique extending `r` with
/// members of `p` and none of `x`, into `out`; false if [`MAX_CLIQUES`] was reached.
fn maximal_cliques(adj: &[u64], r: u64, mut p: u64, mut x: u64, out: &mut Vec<u64>) -> bool {
    if p == 0 && x == 0 {
        out.push(r);
        return out.len() < MAX_CLIQUES;
    }
    let pivot = (p | x).trailing_zeros() as usize;
    let mut candidates = p & !adj[pivot];
    while candidates != 0 {
        let v = candidates.trailing_zeros() as usize;
        let bit = 1u64 << v;
        if !maximal_cliques(adj, r | bit, p & adj[v], x & adj[v], out) {
            return false;
        }
        p &= !bit;
        x |= bit;
        candidates &= !bit;
    }
    true
}

/// Every up participant in doubt at the end of the fault phase that had been connected to a
/// quorum of up processes, and in doubt, for longer than the protocol's bound.
pub fn quorum_non_blocking(h: &History) -> Verdict {
    let Some(end) = h.fault_phase_end() else {
        return Verdict::NotApplicable { reason: "the fault phase has not ended".into() };
    };
    let q = h.quorum();
    let (Some(sys), Some(at_end)) = (q.system(), q.at_end()) else {
        return Verdict::NotApplicable {
            reason: format!(
                "the protocol states no quorum system of at most {MAX_MEMBERS} participants \
                 (not a quorum-commit protocol)"
            ),
        };
    };
    let mut out = Vec::new();
    for b in &end.blocked {
        let Some(&connected) = at_end.get(&b.node) else { continue };
        let from = connected.max(b.since);
        let waited = end.time.since(from);
        if waited.as_us() > sys.bound_us {
            out.push(Violation {
                property: Property::QuorumNonBlocking,
                txn: Some(b.txn),
                nodes: vec![b.node],
                detail: format!(
                    "{} is in doubt on {} although connected to a quorum of up processes since \
                     {from} ({} us, bound {} us)",
                    b.node,
                    b.txn,
                    waited.as_us(),
                    sys.bound_us
                ),
                since: Some(from),
                waiting_on: None,
                decisions: Vec::new(),
            });
        }
    }
    Verdict::from_violations(out)
}

#[cfg(test)]
mod tests {
    use protocols::{Happened, Observation, RunFact, TxnId};

    use super::*;

    fn judge(cuts: &[(u32, u32)]) -> Verdict {
        let mut h = History::new();
        let at = |us: u64, node: u32, what: Happened| RunFact {
            time: Time::from_us(us),
            node: NodeId(node),
            what,
        };
        let system = Observation::QuorumSystem {
            weights: (1..=3).map(|n| (NodeId(n), 1)).collect(),
            commit_quorum: 2,
            abort_quorum: 2,
            bound_us: 100,
        };
        h.push(&at(0, 1, Happened::Observed { obs: system }));
        h.push(&at(0, 1, Happened::Observed { obs: Observation::Uncertain { txn: TxnId(1) } }));
        let links = cuts.iter().map(|&(a, b)| (NodeId(a), NodeId(b))).collect();
        h.push(&at(10, 0, Happened::Cut { links }));
        h.push(&at(1_000, 0, Happened::FaultPhaseEnded));
        quorum_non_blocking(&h)
    }

    #[test]
    fn a_participant_in_a_connected_quorum_past_the_bound_violates_it() {
        assert!(judge(&[]).is_violated(), "all connected");
        assert!(judge(&[(1, 2)]).is_violated(), "{{p1, p3}} is still a connected quorum");
        assert_eq!(judge(&[(1, 2), (3, 1)]), Verdict::Holds, "p1 is cut from both others");
        // p2 and p3 cannot talk: {p1, p2} and {p1, p3} are quorums, p1 is in both.
        assert!(judge(&[(2, 3)]).is_violated());
    }
}
