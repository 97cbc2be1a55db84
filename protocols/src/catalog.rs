//! The protocols by name: what studies, property tests and (later) the CLI select from.
//!
//! A name is a protocol family plus a variant, i.e. a config; broken variants are listed
//! apart so that a study over "the correct protocols" can never pick one up by accident.

use crate::client::Entry;
use crate::paxos_commit::{PaxosCommit, PaxosCommitConfig};
use crate::saga::choreography::{BrokenChoreography, ChoreographyConfig, SagaChoreography};
use crate::saga::orchestration::{BrokenOrchestration, OrchestrationConfig, SagaOrchestration};
use crate::scenario::{RunOutcome, Scenario, ScenarioError, run_with};
use crate::three_pc::{Broken3pc, ThreePc, ThreePcConfig};
use crate::timing::Timing;
use crate::two_pc::{Broken2pc, Presumption, Shape, TwoPc, TwoPcConfig};
use crate::workload::VotePolicy;

/// One runnable protocol variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolSpec {
    pub name: &'static str,
    /// False for the deliberately broken variants.
    pub correct: bool,
    pub summary: &'static str,
    variant: Variant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    TwoPc { presumption: Presumption, cooperative: bool, broken: Option<Broken2pc> },
    ThreePc { broken: Option<Broken3pc> },
    PaxosCommit { faster: bool },
    SagaOrchestration { broken: Option<BrokenOrchestration> },
    SagaChoreography { broken: Option<BrokenChoreography> },
}

/// The marks a 2PC coordinator emits, in protocol order (crash points of studies).
pub const TWO_PC_COORDINATOR_MARKS: &[&str] = &[
    "prepare-sent",
    "all-votes-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
];

/// The marks a 3PC coordinator emits, in protocol order.
pub const THREE_PC_COORDINATOR_MARKS: &[&str] = &[
    "can-commit-sent",
    "all-votes-in",
    "precommit-sent-to-first",
    "precommit-sent-to-all",
    "all-acks-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
];

/// The marks the Paxos Commit TM (leader, node 0) emits on a commit, in protocol order.
pub const PAXOS_COMMIT_LEADER_MARKS: &[&str] =
    &["prepare-sent", "all-instances-chosen", "decision-sent-to-first", "decision-sent-to-all"];

/// Faster Paxos Commit's TM only sends Prepare: the acceptors answer the RMs.
pub const FASTER_PAXOS_COMMIT_LEADER_MARKS: &[&str] = &["prepare-sent"];

/// The marks a saga orchestrator emits on every saga, in protocol order (it also emits
/// `step-failed`, `compensating` and `compensated`, but only on sagas that fail a step).
pub const SAGA_ORCHESTRATOR_MARKS: &[&str] =
    &["saga-begun", "step-started", "step-done", "saga-ended"];

/// The marks a saga choreography's broker emits on every saga, in protocol order.
pub const SAGA_BROKER_MARKS: &[&str] =
    &["saga-begun", "event-delivered", "event-stored", "saga-ended"];

impl ProtocolSpec {
    /// The marks this protocol's coordinator (node 0) emits on every transaction, in
    /// protocol order: where a study crashes it.
    pub fn coordinator_marks(&self) -> &'static [&'static str] {
        match self.variant {
            Variant::TwoPc { .. } => TWO_PC_COORDINATOR_MARKS,
            Variant::ThreePc { .. } => THREE_PC_COORDINATOR_MARKS,
            Variant::PaxosCommit { faster: false } => PAXOS_COMMIT_LEADER_MARKS,
            Variant::PaxosCommit { faster: true } => FASTER_PAXOS_COMMIT_LEADER_MARKS,
            Variant::SagaOrchestration { .. } => SAGA_ORCHESTRATOR_MARKS,
            Variant::SagaChoreography { .. } => SAGA_BROKER_MARKS,
        }
    }
}

const fn two_pc(
    name: &'static str,
    summary: &'static str,
    presumption: Presumption,
    cooperative: bool,
    broken: Option<Broken2pc>,
) -> ProtocolSpec {
    ProtocolSpec {
        name,
        correct: broken.is_none(),
        summary,
        variant: Variant::TwoPc { presumption, cooperative, broken },
    }
}

const fn three_pc(
    name: &'static str,
    summary: &'static str,
    broken: Option<Broken3pc>,
) -> ProtocolSpec {
    ProtocolSpec { name, correct: broken.is_none(), summary, variant: Variant::ThreePc { broken } }
}

const fn paxos_commit(name: &'static str, summary: &'static str, faster: bool) -> ProtocolSpec {
    ProtocolSpec { name, correct: true, summary, variant: Variant::PaxosCommit { faster } }
}

const fn saga_orchestration(
    name: &'static str,
    summary: &'static str,
    broken: Option<BrokenOrchestration>,
) -> ProtocolSpec {
    let variant = Variant::SagaOrchestration { broken };
    ProtocolSpec { name, correct: broken.is_none(), summary, variant }
}

const fn saga_choreography(
    name: &'static str,
    summary: &'static str,
    broken: Option<BrokenChoreography>,
) -> ProtocolSpec {
    let variant = Variant::SagaChoreography { broken };
    ProtocolSpec { name, correct: broken.is_none(), summary, variant }
}

const CATALOG: &[ProtocolSpec] = &[
    two_pc(
        "2pc",
        "two-phase commit, presumed nothing, cooperative termination",
        Presumption::Nothing,
        true,
        None,
    ),
    two_pc(
        "2pc-presumed-abort",
        "two-phase commit, presumed abort (no acks, no forced records on abort)",
        Presumption::Abort,
        true,
        None,
    ),
    two_pc(
        "2pc-no-cooperative-termination",
        "two-phase commit; uncertain participants ask only the coordinator",
        Presumption::Nothing,
        false,
        None,
    ),
    three_pc(
        "3pc",
        "three-phase commit with the BHG termination protocol (non-blocking under crashes)",
        None,
    ),
    paxos_commit(
        "paxos-commit",
        "Paxos Commit (Gray & Lamport): one Paxos instance per RM, 2F+1 acceptors (config f)",
        false,
    ),
    paxos_commit(
        "faster-paxos-commit",
        "Faster Paxos Commit: acceptors send phase 2b straight to the RMs",
        true,
    ),
    saga_orchestration(
        "saga-orchestration",
        "orchestrated saga: durable saga log, idempotent services, compensation in reverse",
        None,
    ),
    saga_choreography(
        "saga-choreography",
        "choreographed saga: durable broker, at-least-once delivery, services dedup by event id",
        None,
    ),
    two_pc(
        "broken-2pc-unilateral-abort",
        "BROKEN: an uncertain participant aborts on timeout",
        Presumption::Nothing,
        true,
        Some(Broken2pc::UnilateralAbort),
    ),
    two_pc(
        "broken-2pc-unlogged-decision",
        "BROKEN: the coordinator sends its decision before logging it",
        Presumption::Nothing,
        true,
        Some(Broken2pc::UnloggedDecision),
    ),
    three_pc(
        "broken-3pc-all-uncertain-commit",
        "BROKEN: the 3PC termination protocol commits when all are uncertain",
        Some(Broken3pc::AllUncertainCommit),
    ),
    saga_orchestration(
        "broken-saga-volatile-orchestrator",
        "BROKEN: the saga orchestrator keeps its saga log in memory only",
        Some(BrokenOrchestration::VolatileOrchestrator),
    ),
    saga_choreography(
        "broken-saga-lossy-bus",
        "BROKEN: an in-memory event bus that drops events for a subscriber whose buffer is full",
        Some(BrokenChoreography::LossyBus),
    ),
];

impl ProtocolSpec {
    /// Whether the protocol runs acceptors (laid out after the client, 2F + 1 of them).
    pub fn uses_acceptors(&self) -> bool {
        matches!(self.variant, Variant::PaxosCommit { .. })
    }
}

/// Every protocol variant, correct and broken.
pub fn catalog() -> &'static [ProtocolSpec] {
    CATALOG
}

/// Names of the correct protocols (what studies sweep over).
pub fn correct_protocols() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().filter(|s| s.correct).map(|s| s.name)
}

/// Names of the deliberately broken variants (what checker tests must catch).
pub fn broken_protocols() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().filter(|s| !s.correct).map(|s| s.name)
}

pub fn lookup(name: &str) -> Result<&'static ProtocolSpec, ScenarioError> {
    CATALOG.iter().find(|s| s.name == name).ok_or_else(|| ScenarioError::UnknownProtocol {
        name: name.to_string(),
        known: CATALOG.iter().map(|s| s.name).collect::<Vec<_>>().join(", "),
    })
}

/// Builds and runs `scenario` with the protocol it names.
pub fn run(scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    let spec = lookup(&scenario.protocol)?;
    scenario.validate()?;
    let timing = Timing::for_network(&scenario.network);
    let client = scenario.client_config(&timing);
    let votes: VotePolicy = scenario.votes.clone();
    match spec.variant {
        Variant::TwoPc { presumption, cooperative, broken } => {
            let config = TwoPcConfig {
                layout: scenario.layout(),
                presumption,
                cooperative_termination: cooperative,
                broken,
                shape: Shape::Classic,
                timing,
                votes,
                client,
            };
            run_with::<TwoPc>(scenario, timing, config)
        }
        Variant::ThreePc { broken } => {
            let config = ThreePcConfig { layout: scenario.layout(), broken, timing, votes, client };
            run_with::<ThreePc>(scenario, timing, config)
        }
        Variant::PaxosCommit { faster } => {
            let client = crate::client::ClientConfig { entry: Entry::FirstParticipant, ..client };
            let layout = scenario.layout();
            let config = PaxosCommitConfig { layout, f: scenario.f, faster, timing, votes, client };
            run_with::<PaxosCommit>(scenario, timing, config)
        }
        Variant::SagaOrchestration { broken } => {
            let layout = scenario.layout();
            let config = OrchestrationConfig { layout, broken, timing, refusals: votes, client };
            run_with::<SagaOrchestration>(scenario, timing, config)
        }
        Variant::SagaChoreography { broken } => {
            let layout = scenario.layout();
            let config = ChoreographyConfig { layout, broken, timing, refusals: votes, client };
            run_with::<SagaChoreography>(scenario, timing, config)
        }
    }
}
