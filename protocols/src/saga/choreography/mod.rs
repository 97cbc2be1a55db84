//! The choreographed saga: no orchestrator. Services react to each other's events through a
//! broker (node 0), and the saga moves forward — or backward — one event at a time.
//!
//! - The saga travels with its events. The broker turns a client's request into the saga's
//!   first event, `started`; the service owning T1 reacts with `done(1)` or `failed(1)`; the
//!   owner of T2 reacts to `done(1)`, and so on. A refusal flows backwards: the owner of
//!   T(i-1) reacts to `failed(i)` (or `compensated(i)`) by compensating and publishing
//!   `compensated(i-1)`. The last event of a saga — `done(n)`, `failed(1)` or
//!   `compensated(1)` — is the broker's own subscription: it ends the saga and tells the
//!   client. Who reacts to what is one function, [`reaction`], shared by everyone.
//! - The broker forces every event to its disk before it acknowledges the publish, and
//!   delivers it *at least once*: it re-delivers (jittered, bounded backoff) until the
//!   subscriber acknowledges. A recovered broker re-delivers everything it stored (acks are
//!   not logged: deduplication makes the extra deliveries harmless).
//! - A service forces, in one record, the event it handled (its id), what it did to its
//!   ledger, and the event it will publish; only then does it acknowledge the delivery. A
//!   re-delivered event is recognised by its id and only acknowledged. Its own publishes sit
//!   in an outbox, re-sent until the broker acknowledges them (a recovered service re-sends
//!   all of them; the broker deduplicates by id too).
//!
//! So no event is lost (durable on both sides, retried until acknowledged) and none is acted
//! on twice (deduplicated by id): each saga ends as T1..Tn or T1..Tj, Cj..C1, with the same
//! observations as the orchestrated saga, judged by the same checker.
//!
//! The broken variant [`BrokenChoreography::LossyBus`] is the seed's in-memory event bus:
//! nothing stored, every event delivered once, and an event for a subscriber whose buffer
//! (deliveries not yet acknowledged) is full is dropped. One lost delivery, or one lost
//! acknowledgement that keeps a buffer slot taken, strands a saga half done.

mod broker;
mod service;
mod unacked;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use super::{LedgerRecord, StepResult, step_write, steps};
use crate::client::{ClientMsg, ClientTimer};
use crate::family::VariantSpec;
use crate::txn::{SagaOutcome, Txn, TxnId};

pub use broker::Broker;
pub use service::Service;

/// Textbook mistakes, for the checkers to catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokenChoreography {
    /// An in-memory bus: no durable events, no re-delivery, and an event for a subscriber
    /// with [`LOSSY_BUS_BUFFER`] unacknowledged deliveries is dropped.
    LossyBus,
}

/// A lossy-bus subscriber's buffer: deliveries it has not acknowledged yet.
pub const LOSSY_BUS_BUFFER: usize = 1;

pub type ChoreographyConfig = crate::saga::wiring::SagaConfig<BrokenChoreography>;

/// What an event says happened to its saga.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "step", rename_all = "snake_case")]
pub enum EventKind {
    /// The client asked for the saga (published by the broker).
    Started,
    Done(u32),
    Failed(u32),
    Compensated(u32),
}

/// An event's id: its saga and what happened, unique since each happens once per saga.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventId {
    pub txn: TxnId,
    pub kind: EventKind,
}

/// An event, carrying its saga's definition (the steps) so that every subscriber can act.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Event {
    pub saga: Txn,
    pub kind: EventKind,
}

impl Event {
    pub fn id(&self) -> EventId {
        EventId { txn: self.saga.id, kind: self.kind }
    }
}

/// What an event calls for, and so who subscribes to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    /// The owner of T`step` runs it.
    Step(u32),
    /// The owner of T`step` compensates it.
    Compensate(u32),
    /// The saga is over (the broker's subscription).
    End(SagaOutcome),
}

/// The choreography itself: what each event makes happen next.
pub fn reaction(event: &Event) -> Reaction {
    let n = steps(&event.saga);
    match event.kind {
        EventKind::Started => Reaction::Step(1),
        EventKind::Done(i) if i < n => Reaction::Step(i + 1),
        EventKind::Done(_) => Reaction::End(SagaOutcome::Completed),
        EventKind::Failed(i) | EventKind::Compensated(i) if i > 1 => Reaction::Compensate(i - 1),
        EventKind::Failed(_) | EventKind::Compensated(_) => Reaction::End(SagaOutcome::Compensated),
    }
}

/// The service subscribed to `event`, if a service is (the broker takes the rest).
pub fn subscriber(event: &Event) -> Option<NodeId> {
    match reaction(event) {
        Reaction::Step(s) | Reaction::Compensate(s) => Some(step_write(&event.saga, s).node),
        Reaction::End(_) => None,
    }
}

/// The choreographed saga's vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct SagaChoreography;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, SagaChoreography>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    /// Broker to subscriber.
    Deliver {
        event: Event,
    },
    /// Subscriber to broker: the event is handled (durably); stop re-delivering.
    Ack {
        id: EventId,
    },
    /// Service to broker.
    Publish {
        event: Event,
    },
    /// Broker to publisher: the event is stored; stop re-publishing.
    Stored {
        id: EventId,
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
    /// Broker: the event's delivery is unacknowledged; deliver it again.
    Redeliver(EventId),
    /// Service: the event's publish is unacknowledged; publish it again.
    Republish(EventId),
    /// Client node: the audit period is over (see [`crate::saga::audit`]).
    Audit,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Broker: an event, stored before its publish is acknowledged.
    Event { event: Event },
    /// Broker, before the client is told.
    Ended { txn: TxnId, outcome: SagaOutcome },
    /// Service: one event handled — what it did and what it publishes — in one record.
    Handled { id: EventId, ledger: LedgerRecord, publish: Event },
}

/// What a step's outcome publishes.
fn step_event(saga: &Txn, step: u32, result: StepResult) -> Event {
    let kind = match result {
        StepResult::Done => EventKind::Done(step),
        StepResult::Refused => EventKind::Failed(step),
    };
    Event { saga: saga.clone(), kind }
}

crate::saga::wiring::saga_family! {
    /// The saga choreography family.
    family: "saga choreography", protocol: SagaChoreography, broken: BrokenChoreography,
    coordinator: Broker(Broker), points: (broker::Point::NAMES, 4),
    ledger: Record::Handled { ledger, .. } => ledger,
}

const VARIANTS: &[(VariantSpec, Option<BrokenChoreography>)] = &[
    (
        VariantSpec::new(
            "saga-choreography",
            true,
            "choreographed saga: durable broker, at-least-once delivery, services dedup by event id",
        ),
        None,
    ),
    (
        VariantSpec::new(
            "broken-saga-lossy-bus",
            false,
            "BROKEN: an in-memory event bus that drops events for a subscriber whose buffer is full",
        ),
        Some(BrokenChoreography::LossyBus),
    ),
];
