//! The orchestrated saga: one orchestrator (node 0) drives each saga step by step; services
//! (the participants) own the accounts and apply what they are asked, once.
//!
//! - The orchestrator forces its *saga log* before it acts: the saga begun (with its steps),
//!   each step started and done (or failed), each compensation started and done, the saga
//!   ended. After a crash it resumes every saga from the last record: forward if no step
//!   failed, backward otherwise. The log is what lets a recovered orchestrator tell "never
//!   begun" from "begun and forgotten".
//! - Every request carries an idempotency key, `(saga, step)`: a service forces what it did
//!   under the key before it answers, and answers a retry or a duplicate from its disk
//!   without acting again. So the orchestrator can retry freely — exponential backoff with a
//!   cap and jitter from its own stream ([`super::jittered`]) — until it hears an answer.
//! - A refused step (a business failure) turns the saga around: the steps done so far are
//!   compensated in reverse order, each retried until acknowledged.
//!
//! Nothing here blocks: a service never waits in doubt (its steps are local commits) and
//! holds no lock. The price is isolation: while a saga is between its debit and its credit
//! or compensation, the money is missing from the bank total.
//!
//! The broken variant [`BrokenOrchestration::VolatileOrchestrator`] keeps the saga log in
//! memory only. Everything else is the same code, including the reasoning the durable log
//! makes sound: "a retried saga I have no record of was never begun, so it ended with
//! nothing to undo". Without the log that strands the debits of sagas begun before a crash,
//! and can even report as compensated a saga it had already completed.

mod orchestrator;
mod service;

use serde::{Deserialize, Serialize};

use super::{LedgerRecord, StepResult};
use crate::client::{ClientMsg, ClientTimer};
use crate::family::VariantSpec;
use crate::txn::{SagaOutcome, Txn, TxnId, Write};

pub use orchestrator::Orchestrator;
pub use service::Service;

/// Textbook mistakes, for the checkers to catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokenOrchestration {
    /// The orchestrator keeps its saga log in memory: a crash forgets every saga.
    VolatileOrchestrator,
}

pub type OrchestrationConfig = crate::saga::wiring::SagaConfig<BrokenOrchestration>;

/// The orchestrated saga's vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct SagaOrchestration;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, SagaOrchestration>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    /// Run step T`step` of saga `txn`: apply `write`. `(txn, step)` is the idempotency key.
    Step {
        txn: TxnId,
        step: u32,
        write: Write,
    },
    StepReply {
        txn: TxnId,
        step: u32,
        result: StepResult,
    },
    /// Run compensation C`step`: undo what T`step` applied here (if it ran).
    Compensate {
        txn: TxnId,
        step: u32,
    },
    Compensated {
        txn: TxnId,
        step: u32,
    },
    /// Auditor to service: your applied balance sum, for audit round `round`.
    BalanceQuery {
        round: u64,
    },
    BalanceReply {
        round: u64,
        total: i64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Client(ClientTimer),
    /// Orchestrator: the answer to the saga's outstanding request is late; ask again.
    Retry(TxnId),
    /// Client node: the audit period is over (see [`crate::saga::audit`]).
    Audit,
}

/// The orchestrator's saga log and the services' ledgers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Orchestrator, before T1 is requested: the saga and its steps.
    Begun {
        saga: Txn,
    },
    StepStarted {
        txn: TxnId,
        step: u32,
    },
    StepDone {
        txn: TxnId,
        step: u32,
    },
    StepFailed {
        txn: TxnId,
        step: u32,
    },
    Compensating {
        txn: TxnId,
        step: u32,
    },
    Compensated {
        txn: TxnId,
        step: u32,
    },
    /// Orchestrator, before anyone is told.
    Ended {
        txn: TxnId,
        outcome: SagaOutcome,
    },
    /// A service's ledger.
    Service(LedgerRecord),
}

crate::saga::wiring::saga_family! {
    /// The saga orchestration family.
    family: "saga orchestration", protocol: SagaOrchestration, broken: BrokenOrchestration,
    coordinator: Orchestrator(Orchestrator), points: (orchestrator::Point::NAMES, 4),
    ledger: Record::Service(ledger) => ledger,
}

const VARIANTS: &[(VariantSpec, Option<BrokenOrchestration>)] = &[
    (
        VariantSpec::new(
            "saga-orchestration",
            true,
            "orchestrated saga: durable saga log, idempotent services, compensation in reverse",
        ),
        None,
    ),
    (
        VariantSpec::new(
            "broken-saga-volatile-orchestrator",
            false,
            "BROKEN: the saga orchestrator keeps its saga log in memory only",
        ),
        Some(BrokenOrchestration::VolatileOrchestrator),
    ),
];
