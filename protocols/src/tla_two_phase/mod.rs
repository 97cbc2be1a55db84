//! `tla-two-phase`: Gray & Lamport's `TwoPhase` specification (tlaplus/Examples,
//! `specifications/transaction_commit/TwoPhase.tla`) as sim-core processes, so that the
//! explorer's state counts can be checked against TLC's.
//!
//! The specification is the fidelity anchor of `commitlab explore`: its distinct-state count
//! is known in closed form, 6^N + 4^N + 2^N for N resource managers (288 for 3, 8,832 for 5),
//! and TLC and stateright both report it. Here it is not a second model beside the engine:
//! the RMs and the TM are ordinary [`Process`](sim_core::Process) state machines (one
//! event of one node per TLA+ action, see [`nodes`]) that the explorer drives through the
//! same `World` seam as every protocol, and the timed runner could drive as well.
//!
//! # Messages that are never consumed
//!
//! In TLA+, `msgs` only grows: a message, once sent, stays receivable. The engine's
//! in-flight messages are consumed on delivery. The two agree through what the nodes keep:
//! an RM remembers that it sent `Prepared` (it is in `msgs` for good), the TM's state says
//! whether `Commit` or `Abort` is in `msgs`, so `msgs` is a function of the node states.
//! A delivery either is the TLA+ action it stands for or changes nothing a node holds
//! (`Abort` reaching an RM that already chose to abort; `Prepared` reaching a TM that has
//! decided) — TLA+'s stuttering re-reads of `msgs`. The model therefore declares a *view*
//! (TLC's `VIEW`): the node states alone, `(rmState, tmState, tmPrepared, msgs)`. Worlds with
//! equal views differ only in such no-op deliveries still in flight, so they have the same
//! futures, and the explored states are exactly TLA+'s. With faults in the budget (a crash
//! loses a node's state, a drop a message) that argument fails, so the full world
//! fingerprint is used instead.
//!
//! # Variants
//!
//! `tla-two-phase` is the specification; `broken-tla-two-phase-early-commit` lets the TM
//! commit as soon as *one* RM is prepared, which `TCConsistent` (no RM committed while
//! another aborted) must catch.

pub mod model;
pub mod nodes;

use serde::{Deserialize, Serialize};
use sim_core::Protocol;

use crate::family::{Family, RoleSpec, Roles, VariantSpec};
use crate::scenario::{RunOutcome, Scenario, ScenarioError};
use crate::txn::Observation;

/// The vocabulary of the model.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct TlaTwoPhase;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, TlaTwoPhase>;

/// `[type |-> "Prepared", rm |-> r]` (the RM is the sender), `[type |-> "Commit"]`,
/// `[type |-> "Abort"]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Msg {
    Prepared,
    Commit,
    Abort,
}

/// The spontaneous step of a node (RM: prepare or abort; TM: commit or abort), armed while
/// the node may still take it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Step,
}

impl Protocol for TlaTwoPhase {
    type Msg = Msg;
    type Timer = Timer;
    /// Nothing is durable in the specification.
    type Record = ();
    type Obs = Observation;
}

/// The specification.
pub const CORRECT: &str = "tla-two-phase";
/// The TM commits once any RM is prepared.
pub const BROKEN: &str = "broken-tla-two-phase-early-commit";

const ROLES: &[RoleSpec] = &[
    RoleSpec { name: "tm", label: "tm", crash_points: &[], failure_points: &[] },
    RoleSpec { name: "rm", label: "rm", crash_points: &[], failure_points: &[] },
];

/// The `TwoPhase` family: a model for `commitlab explore` (listed in
/// [`crate::catalog::MODELS`], not among the runnable commit protocols: it has no client,
/// workload or disk).
pub const FAMILY: Family = Family {
    name: "TLA+ TwoPhase (Gray & Lamport)",
    variants: || {
        vec![
            VariantSpec::new(CORRECT, true, "TLA+ TwoPhase: RMs, a TM, messages never consumed"),
            VariantSpec::new(BROKEN, false, "BROKEN: the TM commits once any RM is prepared"),
        ]
    },
    roles: ROLES,
    settings: &[],
    properties: &["atomicity"],
    layout: |s| Roles::from_groups(ROLES, &[("tm", 1), ("rm", s.participants)]),
    run,
    explore: Some(model::explore),
};

fn run(variant: &str, _scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    Err(ScenarioError::Invalid {
        field: "protocol".into(),
        reason: format!(
            "{variant} is a TLA+ model with no client or workload: explore it \
             (`commitlab explore --protocol {variant}`)"
        ),
    })
}
