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

use crate::history::History;
pub use crate::quorum_facts::{MAX_CLIQUES, MAX_MEMBERS, QuorumFacts, QuorumSystem};
use crate::verdict::{Property, Verdict, Violation};

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
    use sim_core::{NodeId, Time};

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
