//! Both saga styles under `commitlab explore`: the orchestrator or broker, the services and
//! the client that `run` builds, on the explored scenario of the commit families
//! ([`crate::explore::scenario`]: one saga per transaction, one step per participant, one key
//! each, so no auditor), with every retry loop — the orchestrator's requests, the broker's
//! re-deliveries, the services' re-publishes, the client's retries — capped at
//! [`RETRIES`] rounds. A service's business failure is the same enumerated choice as a
//! commit participant's vote: every step is explored both done and refused.
//!
//! # The saga properties without the checkers
//!
//! `protocols` cannot read `checkers`, so the saga properties are judged here, on every
//! state, from the world itself. What a service applied is read from its disk, not from its
//! reports: the explorer crashes a node between any two effects of a handler, also between a
//! service's forced ledger record and its report of it, and a step durably applied but never
//! reported is still applied (judged from the reports, the next step would look applied
//! before it). Disks only grow and every state of a path is judged, so the order rules are
//! rules on one state: "Ti only after T(i-1)" is "no Ti on a disk without T(i-1)". What no
//! disk holds is kept as a finite memory in the state key, as the commit model keeps one
//! ([`crate::explore`]): per saga, whether it was reported begun, the outcomes it was
//! reported ended with (the broken variants log none), the outcome its client learned.
//!
//! - `saga-atomicity`, on every state: no step or compensation applied twice; no Ti applied
//!   without T(i-1), none after its own compensation; no Cj while a later step done stands;
//!   one outcome per saga (on a disk or reported), of the form it names (T1..Tn completed,
//!   T1..Tj, Cj..C1 with j < n compensated), and the client told that outcome.
//! - `termination`, on terminal states with every node up and the network whole (the
//!   checker asks it after the liveness phase, which repairs every failure): every saga
//!   begun has ended. A saga never begun is not judged: a client whose request was lost, or
//!   that crashed, may abandon it within the bounded retries.
//! - `conservation`, on terminal states where every saga submitted has ended: the services'
//!   disks moved exactly the writes of the completed sagas (the checker's "the bank total is
//!   back where it started", for a workload whose sagas do not net to zero).
//!
//! # Bounded retries and terminal states
//!
//! With time abstracted a retry loop's rounds can all fire, and be lost, before anything
//! arrives; past [`RETRIES`] a correct saga waits for a recovery that the fault budget may
//! not allow, where `run`'s loops (thousands of rounds) would still be retrying. A terminal
//! state where the orchestrator's, the broker's or a service's loop spent its budget is that
//! artefact of the bound (one more round would move the saga), and termination is not judged
//! there, as the quorum families leave out the states their election bound stops
//! ([`crate::quorum_commit::explore`]). A loop that never retried at all — the lossy bus
//! re-delivers nothing — spent no budget: a saga it strands is judged.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hash;

use sim_core::explore::{ExploreConfig, ExploreReport, Model, Predicate};
use sim_core::{NodeId, World};

use super::LedgerRecord;
use super::family;
use super::wiring::{SagaNode, SagaStyle, config};
use crate::durable::TxnRecord;
use crate::explore::{
    ExploreRequest, Memory, RETRIES, bounded, explore_with, memory_key, remember,
};
use crate::scenario::ScenarioError;
use crate::txn::{Layout, Observation, Outcome, SagaOutcome, TxnId};
use crate::workload::Workload;

/// What the saga explorer checks: every property the saga families declare.
pub const EXPLORED: &[&str] = crate::family::SAGA_PROPERTIES;

/// The workload of the explored scenario ([`crate::explore::scenario`]): a saga's writes
/// are fixed by its participants, which [`conserved`] relies on.
const WORKLOAD: Workload = Workload::Spread { keys_per_participant: 1 };

/// Explores `request` as the saga `request.variant` of style `S`.
pub fn explore<S: SagaStyle>(
    request: &ExploreRequest<'_>,
    explore: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError>
where
    S::Record: TxnRecord,
{
    let configure = |scenario: &crate::scenario::Scenario| {
        assert_eq!(scenario.workload, WORKLOAD, "the explored scenario's workload");
        let mut c = config::<S>(request.variant, scenario);
        bounded(&mut c.timing, &mut c.client);
        debug_assert_eq!(c.timing.resend.max_attempts, RETRIES);
        Ok(c)
    };
    let extend = |model: &mut Model<S, S::Node>, checked: &[&'static str]| {
        // The commit model's memory (votes, decisions) says nothing of sagas: this one does.
        model.view = Some(memory_key::<SagaMemory, S, S::Node>);
        if checked.contains(&"saga-atomicity") {
            model.invariants.push(Predicate { name: "saga-atomicity", holds: atomic::<S> });
        }
        if checked.contains(&"termination") {
            model.terminal.push(Predicate { name: "termination", holds: terminated::<S> });
        }
        if checked.contains(&"conservation") {
            model.terminal.push(Predicate { name: "conservation", holds: conserved::<S> });
        }
    };
    explore_with::<S>(&family::<S>(), request, explore, configure, EXPLORED, extend)
}

/// What the observations tell that no disk holds: per saga, whether its coordinating node
/// reported it begun, the outcomes it reported it ended with (the broken variants log
/// nothing), and the outcome its client learned; and the participants of each saga
/// submitted. Part of the state's key (module docs).
#[derive(Debug, Default, PartialEq, Eq, Hash)]
struct SagaMemory {
    begun: BTreeSet<TxnId>,
    ended: BTreeSet<(TxnId, SagaOutcome)>,
    learned: BTreeMap<TxnId, Outcome>,
    submitted: BTreeMap<TxnId, Vec<NodeId>>,
}

impl Memory for SagaMemory {
    fn note(&mut self, _node: NodeId, obs: &Observation) {
        match obs {
            Observation::Submitted { txn, participants } => {
                self.submitted.insert(*txn, participants.clone());
            }
            Observation::SagaBegun { txn, .. } => {
                self.begun.insert(*txn);
            }
            Observation::SagaEnded { txn, outcome } => {
                self.ended.insert((*txn, *outcome));
            }
            Observation::ClientLearned { txn, outcome } => {
                self.learned.entry(*txn).or_insert(*outcome);
            }
            _ => {}
        }
    }
}

/// One saga as the disks and the [`SagaMemory`] show it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Saga {
    /// Its steps (one per participant of the explored workload).
    steps: u32,
    /// Times each step was applied, over every service's disk.
    done: BTreeMap<u32, u32>,
    /// Times each step was compensated (its applied write undone).
    undone: BTreeMap<u32, u32>,
    /// Some service applied a step after compensating it (in its disk's order).
    after_own_compensation: bool,
    /// Outcomes on a disk or reported.
    ended: BTreeSet<SagaOutcome>,
    /// Its coordinating node reported it begun, or a disk names it.
    begun: bool,
    learned: Option<Outcome>,
}

/// Every saga of `world`: submitted, begun or on a disk.
fn sagas<S: SagaStyle>(world: &World<S, S::Node>) -> BTreeMap<TxnId, Saga>
where
    S::Record: TxnRecord,
{
    let m: SagaMemory = remember(world);
    let mut out: BTreeMap<TxnId, Saga> = BTreeMap::new();
    for (txn, participants) in &m.submitted {
        out.entry(*txn).or_default().steps = participants.len() as u32;
    }
    for id in (0..world.node_count()).map(NodeId) {
        let mut compensated: BTreeSet<(TxnId, u32)> = BTreeSet::new();
        for r in world.disk(id).records() {
            if let Some((txn, outcome)) = r.decision() {
                let saga = out.entry(txn).or_default();
                saga.begun = true;
                saga.ended.insert(match outcome {
                    Outcome::Commit => SagaOutcome::Completed,
                    Outcome::Abort => SagaOutcome::Compensated,
                });
            }
            let (txn, step, compensation) = match S::ledger_record(r) {
                Some(&LedgerRecord::StepApplied { txn, step, .. }) => (txn, step, false),
                Some(&LedgerRecord::Compensated { txn, step, write: Some(_) }) => (txn, step, true),
                _ => continue,
            };
            let saga = out.entry(txn).or_default();
            saga.begun = true;
            if compensation {
                compensated.insert((txn, step));
                *saga.undone.entry(step).or_default() += 1;
            } else {
                saga.after_own_compensation |= compensated.contains(&(txn, step));
                *saga.done.entry(step).or_default() += 1;
            }
        }
    }
    for txn in &m.begun {
        out.entry(*txn).or_default().begun = true;
    }
    for (txn, outcome) in &m.ended {
        out.entry(*txn).or_default().ended.insert(*outcome);
    }
    for (txn, outcome) in m.learned {
        out.entry(txn).or_default().learned = Some(outcome);
    }
    out
}

impl Saga {
    /// Saga atomicity for this saga (the rules of the module docs), judged on a state that
    /// every earlier state of the path passed: disks only grow, so "Ti only after T(i-1)" is
    /// "no Ti on a disk without T(i-1)" on every state, and "Cj only once every later step
    /// done is compensated" is "no later step done and not compensated beside Cj".
    fn atomic(&self) -> bool {
        let once = self.done.values().chain(self.undone.values()).all(|&n| n == 1);
        let in_order = self.done.keys().all(|&s| s == 1 || self.done.contains_key(&(s - 1)));
        let reversed = self.undone.keys().all(|&c| {
            self.done.contains_key(&c)
                && self.done.keys().all(|&l| l <= c || self.undone.contains_key(&l))
        });
        let one_end = self.ended.len() <= 1;
        once && in_order
            && reversed
            && !self.after_own_compensation
            && one_end
            && self.ended.first().is_none_or(|&o| self.has_form(o))
    }

    /// Whether the saga is in the form `outcome` names, and its client (if told) was told it.
    fn has_form(&self, outcome: SagaOutcome) -> bool {
        let j = self.done.len() as u32;
        // Every step done is a prefix T1..Tj (in_order, with each step once).
        let form = match outcome {
            SagaOutcome::Completed => j == self.steps && j > 0 && self.undone.is_empty(),
            SagaOutcome::Compensated => j < self.steps && self.undone.keys().eq(self.done.keys()),
        };
        form && self.learned.is_none_or(|l| l == outcome.outcome())
    }
}

/// Saga atomicity on every state.
fn atomic<S: SagaStyle>(world: &World<S, S::Node>) -> bool
where
    S::Record: TxnRecord,
{
    sagas(world).values().all(Saga::atomic)
}

/// On a terminal state with every node up and the network whole: every saga begun ended,
/// unless a retry loop spent its bounded budget (module docs).
fn terminated<S: SagaStyle>(world: &World<S, S::Node>) -> bool
where
    S::Record: TxnRecord,
{
    let nodes = (0..world.node_count()).map(NodeId);
    let up: Vec<&S::Node> = nodes.filter_map(|id| world.node(id)).collect();
    if up.len() < world.node_count() as usize || !world.topology().is_whole() {
        return true; // a failure is still to be repaired: the liveness phase's question
    }
    if up.iter().any(|n| n.retries_spent()) {
        return true; // an artefact of the bounded retries
    }
    sagas(world).values().all(|s| !s.begun || !s.ended.is_empty())
}

/// On a terminal state where every submitted saga ended: the services' disks moved exactly
/// the writes of the completed sagas.
fn conserved<S: SagaStyle>(world: &World<S, S::Node>) -> bool
where
    S::Record: TxnRecord,
{
    let (m, sagas) = (remember::<SagaMemory, S, S::Node>(world), sagas(world));
    if m.submitted.keys().any(|txn| sagas[txn].ended.is_empty()) {
        return true; // a saga is still running: termination's question
    }
    let mut expected = 0;
    for (txn, participants) in &m.submitted {
        if sagas[txn].ended.contains(&SagaOutcome::Completed) {
            let layout = Layout::new(participants.len() as u32);
            // One key per participant: every choice of the saga has one option.
            let saga = WORKLOAD.choose(layout, *txn, &mut |_, _, _| 0);
            debug_assert_eq!(saga.participants(), *participants);
            expected += saga.writes.iter().map(|w| w.delta).sum::<i64>();
        }
    }
    let moved: i64 = (0..world.node_count())
        .map(NodeId)
        .map(|id| {
            let now: i64 = S::applied(&WORKLOAD, id, world.disk(id).records()).values().sum();
            now - WORKLOAD.initial_values(id).values().sum::<i64>()
        })
        .sum();
    moved == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A saga of `steps` steps with `done` and `undone` applied once each, ended `ended`.
    fn saga(steps: u32, done: &[u32], undone: &[u32], ended: &[SagaOutcome]) -> Saga {
        Saga {
            steps,
            done: done.iter().map(|&s| (s, 1)).collect(),
            undone: undone.iter().map(|&s| (s, 1)).collect(),
            ended: ended.iter().copied().collect(),
            begun: true,
            ..Saga::default()
        }
    }

    use SagaOutcome::{Compensated, Completed};

    #[test]
    fn the_two_forms_are_atomic_and_nothing_else_is() {
        assert!(saga(2, &[1, 2], &[], &[Completed]).atomic());
        assert!(saga(3, &[1, 2], &[1, 2], &[Compensated]).atomic());
        assert!(saga(2, &[], &[], &[Compensated]).atomic(), "refused at once: nothing to undo");
        assert!(saga(2, &[1], &[], &[]).atomic(), "under way");
        assert!(saga(3, &[1, 2], &[2], &[]).atomic(), "compensating");
        // A step left standing (the volatile orchestrator), a step out of order, a step
        // done beside an earlier compensation, two outcomes, a completed saga cut short.
        assert!(!saga(2, &[1], &[], &[Compensated]).atomic());
        assert!(!saga(2, &[2], &[], &[]).atomic());
        assert!(!saga(3, &[1, 2], &[1], &[]).atomic());
        assert!(!saga(2, &[1, 2], &[], &[Completed, Compensated]).atomic());
        assert!(!saga(3, &[1, 2], &[], &[Completed]).atomic());
        let mut told = saga(2, &[1, 2], &[], &[Completed]);
        told.learned = Some(Outcome::Abort);
        assert!(!told.atomic(), "the client told the other outcome");
        let mut twice = saga(2, &[1], &[], &[]);
        twice.done.insert(1, 2);
        assert!(!twice.atomic());
        let mut late = saga(2, &[1], &[1], &[]);
        late.after_own_compensation = true;
        assert!(!late.atomic());
    }
}
