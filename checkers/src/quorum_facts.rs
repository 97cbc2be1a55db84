//! What quorum non-blocking ([`crate::quorum`]) is judged on, kept as the history grows: the
//! quorum system a protocol states, and who has been connected to a quorum of up processes
//! since when (from crashes, recoveries and cut links alone).

use std::collections::BTreeMap;

use sim_core::{NodeId, Time};

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
