//! Skeen's quorum-based three-phase commit (Skeen, "A Quorum-Based Commit Protocol", 1982).
//!
//! 3PC with weighted commit and abort quorums (`Vc + Va > V`): the coordinator commits once a
//! commit quorum is pre-committed; when it falls silent, the processes that can reach each
//! other elect a coordinator that collects their states and applies **Skeen's recovery rule**
//! ([`rule`]). A pre-committed process never pre-aborts and a pre-aborted one never
//! pre-commits. The machinery (quorums, elections, state reports, persistence) is shared
//! with E3PC in [`crate::quorum_commit`].
//!
//! It never loses atomicity under partitions, but it can **block with a connected quorum**
//! after cascading failures (Keidar & Dolev's example, `scenarios/commit/quorum-3pc-separating.toml`):
//! p1 alone pre-committed and was cut off; p2 and p3 elected p2, which moved p3 to pre-abort
//! and failed before it pre-aborted itself; when p1 and p3 reconnect, {p1, p3} is a quorum
//! but p1 is pc and p3 is pa: neither a commit quorum among pc ∪ w nor an abort quorum among
//! w ∪ pa exists, and the rule waits for p2. `check --property quorum-non-blocking` finds such
//! cases; [`crate::e3pc`] is the protocol that does not block there.

use sim_core::NodeId;

use crate::quorum_commit::{self, PreState, Quorums, Report, State, Step};
use crate::txn::Outcome;

/// Skeen's rule for a coordinator elected among `reports` (BHG's termination rule with
/// quorums): any aborted → abort; any committed → commit; some pre-committed and a commit
/// quorum among the pre-committed and uncertain → pre-commit; an abort quorum among the
/// uncertain and pre-aborted → pre-abort; otherwise wait.
pub fn rule(reports: &[(NodeId, Report)], quorums: &Quorums) -> Step {
    let any = |s: State| reports.iter().any(|(_, r)| r.state == s);
    let weight_of = |states: &[State]| {
        quorums.weight(reports.iter().filter(|(_, r)| states.contains(&r.state)).map(|(n, _)| *n))
    };
    if any(State::A) {
        Step::Decide(Outcome::Abort)
    } else if any(State::C) {
        Step::Decide(Outcome::Commit)
    } else if any(State::Pc) && weight_of(&[State::Pc, State::W]) >= quorums.commit {
        Step::Attempt(PreState::Pc)
    } else if weight_of(&[State::W, State::Pa]) >= quorums.abort {
        Step::Attempt(PreState::Pa)
    } else {
        Step::Block
    }
}

quorum_commit::quorum_family! {
    /// Skeen's family: quorum commit with Skeen's [`rule`].
    Quorum3pc: "quorum-based three-phase commit",
    rule: "skeen" => rule, later_attempt_overrides: false,
    variant: "quorum-3pc" => "Skeen's quorum-based 3PC: weighted commit/abort quorums; safe under partitions, can block a connected quorum",
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quorum_commit::Ballot;

    fn r(state: State) -> Report {
        Report { state, last_attempt: Ballot::NONE }
    }

    #[test]
    fn the_separating_states_block_skeen() {
        let q = Quorums::majorities(3);
        // p1 pre-committed, p3 pre-aborted, p2 down: a quorum, and no rule applies.
        assert_eq!(rule(&[(NodeId(1), r(State::Pc)), (NodeId(3), r(State::Pa))], &q), Step::Block);
        assert_eq!(
            rule(&[(NodeId(1), r(State::Pc)), (NodeId(2), r(State::W))], &q),
            Step::Attempt(PreState::Pc)
        );
        assert_eq!(
            rule(&[(NodeId(2), r(State::W)), (NodeId(3), r(State::W))], &q),
            Step::Attempt(PreState::Pa)
        );
        assert_eq!(rule(&[(NodeId(2), r(State::W))], &q), Step::Block, "no quorum");
        assert_eq!(rule(&[(NodeId(2), r(State::C))], &q), Step::Decide(Outcome::Commit));
    }
}
