//! The client: submits K transactions to the coordinator, one at a time or with a bounded
//! number in flight, and retries a request whose reply is late (the coordinator may have
//! crashed). The client is its own node, so its request and reply are counted apart from the
//! coordinator–participant messages.
//!
//! The client keeps no disk: a crashed client stops submitting (its restart would reuse
//! transaction ids). Crash studies crash the coordinator and participants, not the client.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::{Context, Duration, NodeId, Protocol};

use crate::backoff::Backoff;
use crate::shared::Shared;
use crate::txn::{Layout, Observation, Outcome, Txn, TxnId};
use crate::workload::Workload;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Run this transaction. `attempt` counts from 0; a retry has `attempt > 0`.
    Request {
        txn: Txn,
        attempt: u32,
    },
    Reply {
        txn: TxnId,
        outcome: Outcome,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ClientTimer {
    /// The reply to this transaction is late: ask again.
    Retry(TxnId),
    /// Think time after a reply is over: submit more.
    Think,
}

/// A protocol the client can speak: it embeds the client's messages and timers.
pub trait ClientWire: Protocol<Obs = Observation> {
    fn wrap_msg(m: ClientMsg) -> Self::Msg;
    fn wrap_timer(t: ClientTimer) -> Self::Timer;
}

/// Where the client submits a transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// To the coordinator (node 0), which replies.
    #[default]
    Coordinator,
    /// To the transaction's first (lowest-id) participant, the *initiating RM* of Gray &
    /// Lamport, which starts the commit and replies.
    FirstParticipant,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub txns: u64,
    /// At most this many transactions outstanding at once (1 = sequential).
    pub max_in_flight: u32,
    pub workload: Workload,
    pub retry: Backoff,
    /// Microseconds between one reply and the next submission.
    pub think_us: u64,
    #[serde(default)]
    pub entry: Entry,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            txns: 1,
            max_in_flight: 1,
            workload: Workload::default(),
            retry: Backoff { initial_us: 500_000, max_us: 2_000_000, max_attempts: 1_000 },
            think_us: 0,
            entry: Entry::Coordinator,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Outstanding {
    txn: Txn,
    attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    layout: Layout,
    /// Configuration, not state (see [`Shared`]).
    config: Shared<ClientConfig>,
    next: u64,
    outstanding: BTreeMap<TxnId, Outstanding>,
    learned: BTreeMap<TxnId, Outcome>,
    /// False for a recovered client, which submits nothing (see the module docs).
    active: bool,
}

impl Client {
    pub fn new(layout: Layout, config: ClientConfig, recovered: bool) -> Client {
        Client {
            layout,
            config: Shared::new(config),
            next: 1,
            outstanding: BTreeMap::new(),
            learned: BTreeMap::new(),
            active: !recovered,
        }
    }

    /// Outcomes learnt so far.
    pub fn learned(&self) -> &BTreeMap<TxnId, Outcome> {
        &self.learned
    }

    pub fn on_start<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        self.submit_more(ctx);
    }

    fn submit_more<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>) {
        if !self.active {
            return;
        }
        while self.next <= self.config.txns
            && self.outstanding.len() < self.config.max_in_flight as usize
        {
            let id = TxnId(self.next);
            self.next += 1;
            let txn = self
                .config
                .workload
                .choose(self.layout, id, &mut |label, n, draw| ctx.choose_index(label, n, draw));
            let participants = txn.participants();
            ctx.observe(Observation::Submitted { txn: id, participants });
            self.send(ctx, &txn, 0);
            self.outstanding.insert(id, Outstanding { txn, attempts: 0 });
        }
    }

    fn send<P: ClientWire>(&self, ctx: &mut Context<'_, P>, txn: &Txn, attempt: u32) {
        let msg = ClientMsg::Request { txn: txn.clone(), attempt };
        let to = match self.config.entry {
            Entry::Coordinator => self.layout.coordinator(),
            Entry::FirstParticipant => txn.participants()[0],
        };
        ctx.send(to, P::wrap_msg(msg));
        if let Some(after) = self.config.retry.delay(attempt) {
            ctx.set_timer(after, P::wrap_timer(ClientTimer::Retry(txn.id)));
        }
    }

    pub fn on_message<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>, msg: ClientMsg) {
        let ClientMsg::Reply { txn, outcome } = msg else { return };
        if let Some(previous) = self.learned.get(&txn) {
            assert_eq!(*previous, outcome, "the client was told two outcomes for {txn}");
            return;
        }
        if self.outstanding.remove(&txn).is_none() {
            return; // a reply for a transaction this (recovered) client never submitted
        }
        self.learned.insert(txn, outcome);
        ctx.observe(Observation::ClientLearned { txn, outcome });
        ctx.cancel_timer(P::wrap_timer(ClientTimer::Retry(txn)));
        if self.config.think_us == 0 {
            self.submit_more(ctx);
        } else {
            let think = Duration::from_us(self.config.think_us);
            ctx.set_timer(think, P::wrap_timer(ClientTimer::Think));
        }
    }

    pub fn on_timer<P: ClientWire>(&mut self, ctx: &mut Context<'_, P>, timer: ClientTimer) {
        let id = match timer {
            ClientTimer::Think => return self.submit_more(ctx),
            ClientTimer::Retry(id) => id,
        };
        let Some(o) = self.outstanding.get_mut(&id) else { return };
        o.attempts += 1;
        let (txn, attempt) = (o.txn.clone(), o.attempts);
        self.send(ctx, &txn, attempt);
    }

    pub fn node(&self) -> NodeId {
        self.layout.client()
    }
}

// Symmetry reduction (`explore --symmetry`): the client's transactions name participants.
sim_core::rename_enum!(ClientMsg { Request { txn, attempt }, Reply { txn, outcome } });
sim_core::rename_enum!(ClientTimer { Retry(txn), Think });
sim_core::rename_struct!(Outstanding { txn, attempts });
sim_core::rename_struct!(Client { layout, config, next, outstanding, learned, active });
