//! Skeen's quorum-based 3PC and E3PC under `commitlab explore`: the nodes `run` builds, with
//! the retry loops bounded as the shared commit model says ([`crate::explore`]), elections
//! bounded by round, and `quorum-non-blocking` judged on terminal states.
//!
//! # Bounding elections
//!
//! Time is abstracted, so a participant in doubt may start election after election (each
//! one a higher round, each a new state). The model lets no participant start an election
//! above round [`MAX_ROUND`] (round 1 is the first coordinator's): two elections in a row,
//! enough for Keidar & Dolev's separating case (p2's election, then p1's with p3, which must
//! outrank p2's). A participant past the bound stays in doubt and silent but still joins
//! others' elections.
//!
//! # Judging "a connected quorum never blocks" without time
//!
//! The property speaks of a participant connected to a quorum of up processes for longer than
//! the protocol's timeout. With time abstracted, it is judged on terminal states (nothing
//! enabled but faults): a participant `p` up and in doubt there, whose side of the partition
//! holds up participants `S` weighing at least both quorums, is **blocked** when the family's
//! own decision rule, applied to the states `S` reports (what any further election among
//! them would collect: every member of `S` reaches every other), says *wait*: no election of
//! that connected quorum can move on until a failure is repaired. When the rule would decide
//! or attempt, the terminal state is an artefact of [`MAX_ROUND`] (one more election would
//! move on), and it is not counted: that is where the bound makes the search incomplete.
//! For E3PC the rule never waits with a quorum, so under this judgment what the search
//! establishes for it is that atomicity holds over every reached state.

use sim_core::explore::{ExploreConfig, ExploreReport, Model, Predicate};
use sim_core::{NodeId, World};

use super::participant::Participant;
use super::{Ballot, Node, QuorumCommit, Report, Rule, State, Step};
use crate::explore::{COMMIT_EXPLORED, ExploreRequest, bounded};
use crate::family::Family;
use crate::scenario::ScenarioError;

/// The highest election round a participant may start under exploration (module docs).
pub const MAX_ROUND: u32 = 3;

/// What the quorum families' explorer checks: the commit properties and
/// `quorum-non-blocking` (on terminal states).
const EXPLORED: &[&str] = &[COMMIT_EXPLORED[0], COMMIT_EXPLORED[1], "quorum-non-blocking"];

/// Explores `request` with `rule` (what each quorum family's `explore` calls).
pub fn explore(
    rule: Rule,
    family: &Family,
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError> {
    let configure = |scenario: &_| {
        let mut c = super::config(rule, scenario)?;
        bounded(&mut c.timing, &mut c.client);
        c.max_round = Some(MAX_ROUND);
        Ok(c)
    };
    let extend = |model: &mut Model<QuorumCommit, Node>, checked: &[&'static str]| {
        if checked.contains(&"quorum-non-blocking") {
            model
                .terminal
                .push(Predicate { name: "quorum-non-blocking", holds: no_quorum_blocked });
        }
    };
    crate::explore::explore_with::<QuorumCommit>(
        family, request, config, configure, EXPLORED, extend,
    )
}

/// On a terminal state: no up participant in doubt is connected to a quorum of up
/// participants whose states the rule cannot move on (module docs).
fn no_quorum_blocked(world: &World<QuorumCommit, Node>) -> bool {
    let up: Vec<(NodeId, &Participant)> = (0..world.node_count())
        .map(NodeId)
        .filter_map(|id| world.node(id).and_then(Node::participant).map(|p| (id, p)))
        .collect();
    let components = world.topology().components();
    up.iter().all(|(id, p)| {
        let side = components.iter().find(|c| c.contains(id)).expect("every node has a side");
        let connected: Vec<&(NodeId, &Participant)> =
            up.iter().filter(|(q, _)| side.contains(q)).collect();
        p.in_doubt().into_iter().all(|txn| {
            let (config, quorums) = (&p.config, &p.config.quorums);
            let weight = quorums.weight(connected.iter().map(|(q, _)| *q));
            if weight < quorums.commit.max(quorums.abort) {
                return true; // not connected to a quorum: allowed to wait
            }
            // A process that never voted reports abort when asked (it aborts alone).
            let never = Report { state: State::A, last_attempt: Ballot::NONE };
            let reports: Vec<(NodeId, Report)> = connected
                .iter()
                .map(|(q, r)| (*q, r.txns.get(&txn).map_or(never, |e| e.report())))
                .collect();
            config.rule.step(&reports, quorums) != Step::Block
        })
    })
}
