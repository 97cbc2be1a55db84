//! The key-value client of every consensus family: `ops` operations (put, get,
//! compare-and-set on a few keys), at most `max_in_flight` at once, each sent to the replica
//! the client believes leads.
//!
//! A replica that does not lead answers with a redirect naming the leader it knows of; a
//! late reply makes the client retry, after an exponential backoff (capped, jittered from the
//! client's own stream, so that retries of concurrent operations spread out), at the next
//! replica in turn. Every retry carries the operation's id, so the state machine applies it
//! once however often it arrives. The client keeps no disk: a recovered client submits
//! nothing (its operations that were in flight stay pending in the history, which
//! linearizability allows to have taken effect or not).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::rng::uniform_u64;
use sim_core::{Context, Duration, NodeId, Protocol};

use super::{KvCall, KvResult, Op, OpId};
use crate::Observation;
use crate::backoff::Backoff;
use crate::shared::Shared;

/// The client's side of the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kv", rename_all = "snake_case")]
pub enum KvMsg {
    /// Run `op` (a retry carries the same op).
    Request { op: Op },
    /// `op` took effect (once) with this answer.
    Reply { op: OpId, result: KvResult },
    /// The receiver does not lead; `leader` is the leader it knows of, if any.
    Redirect { op: OpId, leader: Option<NodeId> },
}

impl KvMsg {
    /// The message's label on a diagram's arrow.
    pub fn label(&self) -> String {
        match self {
            KvMsg::Request { op } => format!("REQ {}", op.id),
            KvMsg::Reply { op, .. } => format!("REPLY {op}"),
            KvMsg::Redirect { op, .. } => format!("REDIRECT {op}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KvTimer {
    /// The reply to this operation is late: ask again, elsewhere.
    Retry(OpId),
}

/// A protocol the key-value client speaks: it embeds the client's messages and timers.
pub trait KvWire: Protocol<Obs = Observation> {
    fn wrap_msg(m: KvMsg) -> Self::Msg;
    fn wrap_timer(t: KvTimer) -> Self::Timer;
    /// The client's own message inside `m`, or `m` back if it is the replicas'.
    fn unwrap_msg(m: Self::Msg) -> Result<KvMsg, Self::Msg>;
    /// The client's own timer inside `t`, or `t` back if it is a replica's.
    fn unwrap_timer(t: Self::Timer) -> Result<KvTimer, Self::Timer>;
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KvClientConfig {
    /// Replicas are nodes `0..replicas`.
    pub replicas: u32,
    /// Operations to run in all.
    pub ops: u64,
    pub max_in_flight: u32,
    /// Keys `0..keys` (few, so that operations contend).
    pub keys: u32,
    pub retry: Backoff,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Pending {
    op: Op,
    attempts: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvClient {
    config: Shared<KvClientConfig>,
    /// The replica requests go to.
    leader: NodeId,
    next: OpId,
    pending: BTreeMap<OpId, Pending>,
    /// The last value the client saw per key: what its compare-and-sets expect.
    seen: BTreeMap<u32, Option<i64>>,
    /// False for a recovered client (see the module docs).
    active: bool,
}

impl KvClient {
    pub fn new(config: Shared<KvClientConfig>, recovered: bool) -> KvClient {
        assert!(config.replicas > 0 && config.keys > 0, "a client needs replicas and keys");
        KvClient {
            config,
            leader: NodeId(0),
            next: 1,
            pending: BTreeMap::new(),
            seen: BTreeMap::new(),
            active: !recovered,
        }
    }

    pub fn on_start<P: KvWire>(&mut self, ctx: &mut Context<'_, P>) {
        self.submit_more(ctx);
    }

    fn submit_more<P: KvWire>(&mut self, ctx: &mut Context<'_, P>) {
        while self.active
            && self.next <= self.config.ops
            && self.pending.len() < self.config.max_in_flight as usize
        {
            let op = self.draw(ctx);
            self.next += 1;
            ctx.observe(Observation::OpInvoked { op: op.id, key: op.key, call: op.call });
            self.pending.insert(op.id, Pending { op, attempts: 0 });
            self.send(ctx, op.id);
        }
    }

    /// The next operation: a key and a call drawn from the client's stream. Values written are
    /// the operation's id, so every written value is unique (a linearizability witness can
    /// tell writes apart).
    fn draw<P: KvWire>(&self, ctx: &mut Context<'_, P>) -> Op {
        let keys = self.config.keys as usize;
        let key = ctx.choose_index("kv-key", keys, |r| uniform_u64(r, 0, keys as u64 - 1) as usize)
            as u32;
        let id = self.next;
        let value = id as i64;
        let calls = [
            KvCall::Put { value },
            KvCall::Get,
            KvCall::Cas { expect: self.seen.get(&key).copied().flatten(), new: value },
        ];
        let call =
            ctx.choose("kv-call", &calls, |r| uniform_u64(r, 0, calls.len() as u64 - 1) as usize);
        Op { id, key, call }
    }

    fn send<P: KvWire>(&self, ctx: &mut Context<'_, P>, id: OpId) {
        let p = &self.pending[&id];
        ctx.send(self.leader, P::wrap_msg(KvMsg::Request { op: p.op }));
        if let Some(delay) = self.config.retry.delay(p.attempts) {
            // Jitter: up to half the delay again, so concurrent retries do not move in step.
            let jitter = uniform_u64(ctx.rng(), 0, delay.as_us() / 2);
            ctx.set_timer(
                Duration::from_us(delay.as_us() + jitter),
                P::wrap_timer(KvTimer::Retry(id)),
            );
        }
    }

    pub fn on_message<P: KvWire>(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: KvMsg) {
        match msg {
            KvMsg::Reply { op, result } => {
                let Some(p) = self.pending.remove(&op) else { return }; // a duplicate reply
                self.leader = from;
                let value = match (p.op.call, result) {
                    (KvCall::Get, KvResult::Read { value }) => value,
                    (KvCall::Put { value }, _) => Some(value),
                    (KvCall::Cas { new, .. }, KvResult::Swapped { ok: true }) => Some(new),
                    _ => self.seen.get(&p.op.key).copied().flatten(),
                };
                self.seen.insert(p.op.key, value);
                ctx.cancel_timer(P::wrap_timer(KvTimer::Retry(op)));
                ctx.observe(Observation::OpReturned { op, result });
                self.submit_more(ctx);
            }
            KvMsg::Redirect { op, leader } => {
                if !self.pending.contains_key(&op) {
                    return;
                }
                // Follow a hint to another replica at once; a replica that knows no leader
                // leaves the retry timer to move on.
                if let Some(l) = leader.filter(|&l| l != from && l.0 < self.config.replicas) {
                    self.leader = l;
                    self.retry(ctx, op);
                } else if self.leader == from {
                    self.leader = self.next_replica(from);
                }
            }
            KvMsg::Request { .. } => {
                debug_assert!(false, "{}: the client got a request from {from}", ctx.id())
            }
        }
    }

    pub fn on_timer<P: KvWire>(&mut self, ctx: &mut Context<'_, P>, timer: KvTimer) {
        let KvTimer::Retry(op) = timer;
        if self.pending.contains_key(&op) {
            self.leader = self.next_replica(self.leader);
            self.retry(ctx, op);
        }
    }

    fn retry<P: KvWire>(&mut self, ctx: &mut Context<'_, P>, op: OpId) {
        if let Some(p) = self.pending.get_mut(&op) {
            p.attempts += 1;
            self.send(ctx, op);
        }
    }

    fn next_replica(&self, after: NodeId) -> NodeId {
        NodeId((after.0 + 1) % self.config.replicas)
    }
}
