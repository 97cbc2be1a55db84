//! E3PC, Keidar & Dolev's enhanced three-phase commit ("Increasing the Resilience of Atomic
//! Commit, at No Additional Cost", PODS 1995 / JCSS 1998).
//!
//! The same phases, quorums and elections as Skeen's quorum-based 3PC
//! ([`crate::quorum_commit`]), plus two counters every process keeps on its disk, forced
//! before it answers: `last_elected`, the latest election it joined, and `last_attempt`, the
//! election whose attempt (pre-commit or pre-abort) it last took. An elected coordinator
//! looks only at the processes of the **maximal attempt** ([`rule`]): if all of them are
//! pre-committed the attempt is *committable*, and with a quorum it pre-commits; if not,
//! with a quorum it pre-aborts. A later attempt overrides an earlier one, which is what lets
//! a connected quorum go on where Skeen's pc and pa deadlock: **a connected quorum never
//! blocks** (the property `quorum-non-blocking`), at the normal-case cost of 3PC.
//!
//! Safety is Paxos's argument: a decision needs a quorum of acks for one attempt, a process
//! that joined a later election refuses older attempts, and every later election's quorum
//! meets the deciding one, so its maximal attempt is the decided one's kind or later.

use sim_core::NodeId;

use crate::quorum_commit::{self, Ballot, PreState, Quorums, Report, State, Step};
use crate::txn::Outcome;

/// E3PC's rule for a coordinator elected among `reports`: any aborted → abort; any
/// committed → commit; the maximal attempt committable and a commit quorum → pre-commit;
/// not committable and an abort quorum → pre-abort; otherwise block.
pub fn rule(reports: &[(NodeId, Report)], quorums: &Quorums) -> Step {
    let any = |s: State| reports.iter().any(|(_, r)| r.state == s);
    if any(State::A) {
        return Step::Decide(Outcome::Abort);
    }
    if any(State::C) {
        return Step::Decide(Outcome::Commit);
    }
    let weight = quorums.weight(reports.iter().map(|(n, _)| *n));
    if is_max_attempt_committable(reports) {
        if weight >= quorums.commit {
            return Step::Attempt(PreState::Pc);
        }
    } else if weight >= quorums.abort {
        return Step::Attempt(PreState::Pa);
    }
    Step::Block
}

/// Whether every process whose `last_attempt` is the maximal one is pre-committed (false
/// when nobody ever attempted anything).
pub fn is_max_attempt_committable(reports: &[(NodeId, Report)]) -> bool {
    let max = reports.iter().map(|(_, r)| r.last_attempt).max().unwrap_or(Ballot::NONE);
    max != Ballot::NONE
        && reports.iter().filter(|(_, r)| r.last_attempt == max).all(|(_, r)| r.state == State::Pc)
}

quorum_commit::quorum_family! {
    /// Keidar & Dolev's family: quorum commit with E3PC's [`rule`].
    E3pc: "E3PC",
    rule: "keidar_dolev" => rule, later_attempt_overrides: true,
    variant: "e3pc" => "E3PC (Keidar & Dolev): quorum 3PC with last_elected/last_attempt; a connected quorum never blocks",
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(state: State, round: u32, node: u32) -> Report {
        Report { state, last_attempt: Ballot { round, node: NodeId(node) } }
    }

    #[test]
    fn the_latest_attempt_decides() {
        let q = Quorums::majorities(3);
        // The separating case: p1 pc in the first attempt, p3 pa in p2's later one.
        let states = [(NodeId(1), r(State::Pc, 1, 0)), (NodeId(3), r(State::Pa, 2, 2))];
        assert_eq!(rule(&states, &q), Step::Attempt(PreState::Pa));
        let states = [(NodeId(1), r(State::Pc, 3, 1)), (NodeId(3), r(State::Pa, 2, 2))];
        assert_eq!(rule(&states, &q), Step::Attempt(PreState::Pc));
        // Mixed at the maximal attempt (never after one coordinator, but the rule says).
        let states = [(NodeId(1), r(State::Pc, 2, 2)), (NodeId(3), r(State::W, 0, 0))];
        assert_eq!(rule(&states, &q), Step::Attempt(PreState::Pc));
        let states = [(NodeId(1), r(State::W, 0, 0)), (NodeId(3), r(State::W, 0, 0))];
        assert_eq!(rule(&states, &q), Step::Attempt(PreState::Pa), "nobody attempted: abort");
        assert_eq!(rule(&[(NodeId(1), r(State::Pc, 1, 0))], &q), Step::Block, "no quorum");
    }
}
