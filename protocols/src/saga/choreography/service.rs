//! A choreographed saga service: reacts to the events it subscribes to — runs its step, or
//! compensates it — and publishes what it did.
//!
//! Handling an event is one forced record: the event's id, the ledger change, and the event
//! to publish. Only then is the delivery acknowledged, so a crash either loses the delivery
//! (the broker re-delivers) or keeps all three. A re-delivered event is recognised by its id
//! and only acknowledged again. The event to publish waits in an outbox until the broker says
//! it is stored, re-sent with jittered, bounded backoff; a recovered service re-sends its
//! whole outbox (the broker deduplicates by id).

use std::collections::BTreeSet;

use sim_core::rng::Chance;
use sim_core::{Boot, NodeId};

use super::unacked::Unacked;
use super::{
    ChoreographyConfig, Ctx, Event, EventId, EventKind, Msg, Reaction, Record, SagaChoreography,
    Timer, reaction, step_event,
};
use crate::saga::wiring::SagaStyle;
use crate::saga::{Ledger, LedgerRecord, ServicePoint as Point, StepResult, jittered, step_write};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::txn::Observation;
use crate::workload::Workload;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Service {
    id: NodeId,
    /// The broker, where events are published and acknowledged.
    broker: NodeId,
    refuse: Chance,
    timing: Timing,
    ledger: Ledger,
    /// Ids of the events handled (durable: the deduplication).
    handled: BTreeSet<EventId>,
    /// Events published and not yet acknowledged, with their re-sends so far.
    outbox: Unacked<Event>,
}

/// A service's ledger as its disk holds it (recovery and the report both read it so).
pub(super) fn ledger(workload: &Workload, node: NodeId, records: &[Record]) -> Ledger {
    let own = records.iter().filter_map(<SagaChoreography as SagaStyle>::ledger_record);
    Ledger::replay(workload.initial_values(node), workload.allows_negative(), own)
}

impl Service {
    pub fn new(config: &Shared<ChoreographyConfig>, id: NodeId, boot: Boot<'_, Record>) -> Service {
        let mut handled = BTreeSet::new();
        let mut outbox = Unacked::default();
        for r in boot.disk() {
            if let Record::Handled { id, publish, .. } = r {
                handled.insert(*id);
                outbox.insert(publish.id(), publish.clone());
            }
        }
        Service {
            id,
            broker: config.layout.coordinator(),
            refuse: config.refusals.chance(id),
            timing: config.timing,
            ledger: ledger(&config.client.workload, id, boot.disk()),
            handled,
            outbox,
        }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Whether some unacknowledged publish spent its budget of re-sends: it waits for a
    /// recovery of this service (what the explorer reads on terminal states).
    pub fn retries_spent(&self) -> bool {
        self.outbox.spent(self.timing.resend.max_attempts)
    }

    /// After a recovery: the outbox read back from the disk is published again.
    pub fn on_start(&mut self, ctx: &mut Ctx) {
        let events: Vec<Event> = self.outbox.values().cloned().collect();
        for event in events {
            self.send_publish(ctx, event, 0);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, _from: NodeId, msg: Msg) {
        match msg {
            Msg::Deliver { event } => {
                let id = event.id();
                if !self.handled.contains(&id) {
                    self.handle(ctx, event);
                }
                ctx.send(self.broker, Msg::Ack { id });
            }
            Msg::Stored { id } => self.outbox.ack(ctx, id, Timer::Republish(id)),
            other => unreachable!("a saga service got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        let Timer::Republish(id) = timer else { unreachable!("a service got {timer:?}") };
        let Some((event, attempt)) = self.outbox.resend(id) else { return };
        self.send_publish(ctx, event, attempt);
    }

    /// The first delivery of `event`: act, force what was done with what to publish, report.
    fn handle(&mut self, ctx: &mut Ctx, event: Event) {
        let (txn, saga) = (event.saga.id, &event.saga);
        let (record, publish) = match reaction(&event) {
            Reaction::Step(step) => {
                let write = step_write(saga, step);
                assert_eq!(write.node, self.id, "{txn}: T{step} delivered to another service");
                // The overdraft first, so the business-failure chance is drawn only for a
                // step that could run (as the orchestrated service does).
                let refused =
                    !self.ledger.can_apply(&write) || crate::store::choose_vote(ctx, self.refuse);
                if refused {
                    let publish = step_event(saga, step, StepResult::Refused);
                    (LedgerRecord::StepRefused { txn, step }, publish)
                } else {
                    let publish = step_event(saga, step, StepResult::Done);
                    (LedgerRecord::StepApplied { txn, step, write }, publish)
                }
            }
            Reaction::Compensate(step) => {
                let write = self.ledger.applied_write(txn, step);
                let publish = Event { saga: saga.clone(), kind: EventKind::Compensated(step) };
                (LedgerRecord::Compensated { txn, step, write }, publish)
            }
            Reaction::End(_) => unreachable!("the broker takes a saga's last event"),
        };
        let id = event.id();
        let handled = Record::Handled { id, ledger: record.clone(), publish: publish.clone() };
        ctx.persist(handled);
        self.ledger.apply(&record);
        self.handled.insert(id);
        match record {
            LedgerRecord::StepApplied { step, write, .. } => {
                ctx.observe(Observation::StepApplied { txn, step, delta: write.delta });
                ctx.mark(Point::StepApplied.name());
            }
            LedgerRecord::StepRefused { step, .. } => {
                ctx.observe(Observation::StepRefused { txn, step });
                ctx.mark(Point::StepRefused.name());
            }
            LedgerRecord::Compensated { step, write, .. } => {
                if let Some(w) = write {
                    ctx.observe(Observation::CompensationApplied { txn, step, delta: -w.delta });
                    ctx.mark(Point::CompensationApplied.name());
                }
            }
        }
        self.outbox.insert(publish.id(), publish.clone());
        self.send_publish(ctx, publish, 0);
    }

    fn send_publish(&self, ctx: &mut Ctx, event: Event, attempt: u32) {
        let id = event.id();
        ctx.send(self.broker, Msg::Publish { event });
        // Past the budget the event waits for a recovery of this service to be re-sent.
        if let Some(after) = jittered(&self.timing.resend, attempt, ctx.rng()) {
            ctx.set_timer(after, Timer::Republish(id));
        }
    }
}
