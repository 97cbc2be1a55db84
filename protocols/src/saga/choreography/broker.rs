//! The event broker: stores each published event, delivers it to its subscriber until
//! acknowledged, and takes the saga's last event itself — it ends the saga and tells the
//! client.
//!
//! Marks, in protocol order on every saga: `saga-begun` (the saga's `started` event stored),
//! `event-delivered` (an event's first delivery sent), `event-stored` (a service's event
//! stored), `saga-ended` (the end record forced, before the client is told). The lossy bus
//! also marks `event-dropped`.

use std::collections::BTreeMap;

use sim_core::{Boot, NodeId};

use super::unacked::Unacked;
use super::{
    BrokenChoreography, ChoreographyConfig, Ctx, Event, EventId, EventKind, LOSSY_BUS_BUFFER, Msg,
    Reaction, Record, Timer, reaction, subscriber,
};
use crate::client::ClientMsg;
use crate::saga::{jittered, steps};
use crate::shared::Shared;
use crate::txn::{Observation, SagaOutcome, Txn, TxnId};

crate::crash_points! {
    /// The broker's crash points on every saga, in protocol order (then the lossy bus's drop).
    pub enum Point {
        SagaBegun, EventDelivered, EventStored, SagaEnded, EventDropped
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Broker {
    config: Shared<ChoreographyConfig>,
    /// Every event published so far (on disk, unless the bus is lossy).
    stored: BTreeMap<EventId, Event>,
    ended: BTreeMap<TxnId, SagaOutcome>,
    /// Deliveries not acknowledged yet: the subscriber and the re-deliveries so far.
    pending: Unacked<NodeId>,
    /// Read back at recovery; routed again by `on_start`.
    to_resume: Vec<Event>,
}

impl Broker {
    pub fn new(config: &Shared<ChoreographyConfig>, boot: Boot<'_, Record>) -> Broker {
        let mut b = Broker {
            config: config.clone(),
            stored: BTreeMap::new(),
            ended: BTreeMap::new(),
            pending: Unacked::default(),
            to_resume: Vec::new(),
        };
        for r in boot.disk() {
            match r {
                Record::Event { event } => {
                    b.stored.insert(event.id(), event.clone());
                    b.to_resume.push(event.clone());
                }
                Record::Ended { txn, outcome } => {
                    b.ended.insert(*txn, *outcome);
                }
                Record::Handled { .. } => unreachable!("the broker handles no events"),
            }
        }
        b
    }

    fn lossy(&self) -> bool {
        self.config.broken == Some(BrokenChoreography::LossyBus)
    }

    /// After a recovery: every saga not ended gets its events again (acks are not logged;
    /// services deduplicate), and a saga whose last event was stored but not its end ends.
    pub fn on_start(&mut self, ctx: &mut Ctx) {
        for event in std::mem::take(&mut self.to_resume) {
            if !self.ended.contains_key(&event.saga.id) {
                self.route(ctx, event);
            }
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, .. }) => self.on_request(ctx, txn),
            Msg::Publish { event } => {
                let id = event.id();
                if !self.stored.contains_key(&id) {
                    self.store(ctx, event.clone());
                    ctx.mark(Point::EventStored.name());
                    ctx.send(from, Msg::Stored { id });
                    self.route(ctx, event);
                } else {
                    ctx.send(from, Msg::Stored { id });
                }
            }
            Msg::Ack { id } => self.pending.ack(ctx, id, Timer::Redeliver(id)),
            other => unreachable!("the broker got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        let Timer::Redeliver(id) = timer else { unreachable!("the broker got {timer:?}") };
        let Some((node, attempt)) = self.pending.resend(id) else { return };
        ctx.send(node, Msg::Deliver { event: self.stored[&id].clone() });
        self.arm(ctx, id, attempt);
    }

    /// Whether some unacknowledged delivery spent its budget of re-deliveries: it waits for
    /// a recovery of the broker (what the explorer reads on terminal states).
    pub fn retries_spent(&self) -> bool {
        self.pending.spent(self.config.timing.resend.max_attempts)
    }

    fn on_request(&mut self, ctx: &mut Ctx, saga: Txn) {
        let txn = saga.id;
        if let Some(&outcome) = self.ended.get(&txn) {
            return self.reply(ctx, txn, outcome);
        }
        if self.stored.contains_key(&EventId { txn, kind: EventKind::Started }) {
            return; // under way: the reply comes when it ends
        }
        assert!(!saga.writes.is_empty(), "{txn} has no steps");
        let n = steps(&saga);
        let event = Event { saga, kind: EventKind::Started };
        self.store(ctx, event.clone());
        ctx.observe(Observation::SagaBegun { txn, steps: n });
        ctx.mark(Point::SagaBegun.name());
        self.route(ctx, event);
    }

    /// Forces `event` to the broker's disk (the lossy bus keeps it in memory only).
    fn store(&mut self, ctx: &mut Ctx, event: Event) {
        if !self.lossy() {
            ctx.persist(Record::Event { event: event.clone() });
        }
        self.stored.insert(event.id(), event);
    }

    /// Hands `event` to its subscriber, or ends the saga if it is the last.
    fn route(&mut self, ctx: &mut Ctx, event: Event) {
        match (reaction(&event), subscriber(&event)) {
            (Reaction::End(outcome), _) => {
                if !self.ended.contains_key(&event.saga.id) {
                    self.end(ctx, event.saga.id, outcome);
                }
            }
            (_, Some(node)) => self.deliver(ctx, event, node),
            (_, None) => unreachable!("every step has an owner"),
        }
    }

    fn deliver(&mut self, ctx: &mut Ctx, event: Event, node: NodeId) {
        let id = event.id();
        if self.lossy() {
            let buffered = self.pending.values().filter(|&&n| n == node).count();
            if buffered >= LOSSY_BUS_BUFFER {
                ctx.mark(Point::EventDropped.name());
                return;
            }
        }
        ctx.send(node, Msg::Deliver { event });
        ctx.mark(Point::EventDelivered.name());
        self.pending.insert(id, node);
        self.arm(ctx, id, 0);
    }

    /// Re-delivery after a jittered, bounded backoff (never on the lossy bus). Past the
    /// budget the event waits for a recovery of the broker to be delivered again.
    fn arm(&self, ctx: &mut Ctx, id: EventId, attempt: u32) {
        if self.lossy() {
            return;
        }
        if let Some(after) = jittered(&self.config.timing.resend, attempt, ctx.rng()) {
            ctx.set_timer(after, Timer::Redeliver(id));
        }
    }

    fn end(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: SagaOutcome) {
        if !self.lossy() {
            ctx.persist(Record::Ended { txn, outcome });
        }
        ctx.observe(Observation::SagaEnded { txn, outcome });
        ctx.observe(Observation::Decided { txn, outcome: outcome.outcome() });
        ctx.mark(Point::SagaEnded.name());
        self.ended.insert(txn, outcome);
        self.reply(ctx, txn, outcome);
    }

    fn reply(&self, ctx: &mut Ctx, txn: TxnId, outcome: SagaOutcome) {
        let client = self.config.layout.client();
        crate::decision::reply_to_client(ctx, client, txn, outcome.outcome());
    }
}
