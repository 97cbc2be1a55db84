//! What the replica of every replicated log does the same way, so that a family's replica
//! module holds only its protocol's rules: the roles of a leader-based replica, the clients
//! waiting on a leader, applying a chosen entry to the state machine, and the handlers the
//! engine calls (the two timers every replica arms, the client's requests, and the rule
//! every replica applies before its protocol's own: a request of an older term than the
//! replica promised to follow is refused).
//!
//! Each family still names its states as its paper does: Raft's candidate collects votes and
//! its leader keeps `nextIndex`/`matchIndex`; a Multi-Paxos candidate runs phase 1 and its
//! leader phase 2 per slot (their `C` and `L` below). ZAB's replica, whose roles are the
//! paper's election, following and leading phases, keeps its own role enum and shares the
//! rest.

use std::collections::BTreeMap;

use sim_core::{Context, NodeId, Protocol};

use super::client::{KvMsg, KvWire};
use super::kv::Kv;
use super::wiring::{LogConfig, LogProtocol, LogTimer};
use super::{KvResult, Op, OpId, Requests};
use crate::shared::Shared;
use crate::txn::Observation;

/// The role of a replica in a leader-based log: it follows a leader (if it knows one),
/// stands for election with the candidate's state `C`, or leads with the leader's state `L`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Role<C, L> {
    Follower { leader: Option<NodeId> },
    Candidate(C),
    Leader(L),
}

impl<C, L> Role<C, L> {
    /// `me` if it leads, the leader it follows if it knows one, else `None`.
    pub fn leader(&self, me: NodeId) -> Option<NodeId> {
        match self {
            Role::Leader(_) => Some(me),
            Role::Follower { leader } => *leader,
            Role::Candidate(_) => None,
        }
    }

    /// Follows `leader` (if known); a leader stops its heartbeat.
    pub fn follow<P: Protocol<Timer = LogTimer>>(
        &mut self,
        ctx: &mut Context<'_, P>,
        leader: Option<NodeId>,
    ) {
        if self.leading().is_some() {
            ctx.cancel_timer(LogTimer::Heartbeat);
        }
        *self = Role::Follower { leader };
    }

    /// The leader's state, if this replica leads.
    pub fn leading(&self) -> Option<&L> {
        match self {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    pub fn leading_mut(&mut self) -> Option<&mut L> {
        match self {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }
}

/// Operations whose client waits for this leader's answer. Bounded by the client's
/// operations in flight.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Waiting(BTreeMap<OpId, NodeId>);

impl Waiting {
    /// A client's request to the leader: a repeat of an operation the state machine applied
    /// already is answered at once (`false`); otherwise its client waits for the operation
    /// to apply (`true`: the leader has it to propose, unless it is in the log already).
    pub fn admit<P: KvWire>(
        &mut self,
        ctx: &mut Context<'_, P>,
        kv: &Kv,
        from: NodeId,
        op: &Op,
    ) -> bool {
        if let Some(result) = kv.result(op.id) {
            ctx.send(from, P::wrap_msg(KvMsg::Reply { op: op.id, result }));
            return false;
        }
        self.0.insert(op.id, from);
        true
    }

    /// Operation `id` was applied with `result`: its waiting client, if any, gets the answer.
    pub fn answer<P: KvWire>(&mut self, ctx: &mut Context<'_, P>, id: OpId, result: KvResult) {
        if let Some(client) = self.0.remove(&id) {
            ctx.send(client, P::wrap_msg(KvMsg::Reply { op: id, result }));
        }
    }
}

/// A replica that does not lead answers a client's request with the leader it knows of.
pub fn redirect<P: KvWire>(ctx: &mut Context<'_, P>, to: NodeId, op: &Op, leader: Option<NodeId>) {
    ctx.send(to, P::wrap_msg(KvMsg::Redirect { op: op.id, leader }));
}

/// A client's message reached a replica's [`LogReplica::step`], which
/// [`LogReplica::on_log_message`] never lets happen (it routes each elsewhere): every
/// family's `step` names the case, since its message enum carries the client's, and asserts
/// here.
pub fn misrouted(me: NodeId, msg: &KvMsg) {
    debug_assert!(false, "{me}: {msg:?} is the client's");
}

/// Applies the entry at `index` of the log (written in `term`; `op` `None`: a no-op) to
/// `kv`, and reports it: the operation's id and answer, for the client waiting on it.
pub fn apply_entry<P: Protocol<Obs = Observation>>(
    ctx: &mut Context<'_, P>,
    kv: &mut Kv,
    index: u64,
    term: u64,
    op: Option<Op>,
) -> Option<(OpId, KvResult)> {
    let result = op.map(|op| (op.id, kv.apply(&op)));
    let op = result.map_or(0, |(id, _)| id);
    ctx.observe(Observation::EntryApplied { index, term, op });
    result
}

/// What every replica of a replicated log has, whatever its protocol: the cluster's
/// configuration (`B` names the family's broken behaviours), its own id, and its state
/// machine (every committed entry applied, in log order). [`LogReplica`] reads it, so that
/// every family boots its replica and shows its state machine the same way.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Core<B> {
    pub config: Shared<LogConfig<B>>,
    pub id: NodeId,
    pub kv: Kv,
}

impl<B> Core<B> {
    /// Replica `id` of the cluster `config` describes, its state machine empty.
    pub fn new(config: &Shared<LogConfig<B>>, id: NodeId) -> Core<B> {
        Core { config: config.clone(), id, kv: Kv::default() }
    }

    /// Every replica but this one.
    pub fn others(&self) -> impl Iterator<Item = NodeId> + use<B> {
        self.config.others(self.id)
    }
}

/// A replica of a replicated log `P`: what the engine calls (written once for every family
/// as `sim_core::Process` by [`crate::replicated_log!`]) and what a process hosting the
/// replica reads (`crate::replicated_2pc`'s transaction manager runs on top of one).
pub trait LogReplica<P: LogProtocol> {
    /// What every replica has.
    fn core(&self) -> &Core<P::Broken>;
    /// What the replica does at boot before it arms its election timer (fresh, or recovered
    /// from its disk): nothing unless its disk holds what its state machine is rebuilt from.
    fn recover(&mut self, _ctx: &mut Context<'_, P>) {}
    /// A message of the log's own protocol (the client's requests go to [`Self::on_request`]),
    /// unless refused.
    fn step(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: P::Msg);
    /// A client asks for `op`.
    fn on_request(&mut self, ctx: &mut Context<'_, P>, from: NodeId, op: Op);
    /// No word from a leader for an election timeout.
    fn on_election_timeout(&mut self, ctx: &mut Context<'_, P>);
    /// A leader's heartbeat period is over.
    fn on_heartbeat_timer(&mut self, ctx: &mut Context<'_, P>);
    /// This replica if it leads, the leader it follows if it knows one, else `None`.
    fn leader(&self) -> Option<NodeId>;
    /// The newest term (ballot, epoch) this replica promised to follow: it acts on no
    /// request of an older one (see [`Self::on_log_message`]).
    fn promised(&self) -> <P::Msg as Requests>::Term;

    /// The state machine: every committed entry applied, in log order.
    fn state_machine(&self) -> &Kv {
        &self.core().kv
    }

    /// Boots the replica: recovers, then waits an election timeout for a leader.
    fn on_log_start(&mut self, ctx: &mut Context<'_, P>) {
        self.recover(ctx);
        self.core().config.arm_election(ctx);
    }

    /// Routes a message: the client's requests to [`Self::on_request`], the log's own to
    /// [`Self::step`]; replies and redirects are the client's, not a replica's. The rule
    /// every replicated log shares comes first: a request of a term older than the one this
    /// replica promised is not acted on but refused, telling its sender of the newer term.
    fn on_log_message(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: P::Msg) {
        match P::unwrap_msg(msg) {
            Ok(KvMsg::Request { op }) => self.on_request(ctx, from, op),
            Ok(KvMsg::Reply { .. } | KvMsg::Redirect { .. }) => {}
            Err(msg) => {
                let promised = self.promised();
                match msg.request_term() {
                    Some(term) if term < promised => ctx.send(from, msg.refusal(promised)),
                    _ => self.step(ctx, from, msg),
                }
            }
        }
    }

    /// Routes a timer to its handler.
    fn on_log_timer(&mut self, ctx: &mut Context<'_, P>, timer: LogTimer) {
        match timer {
            LogTimer::Election => self.on_election_timeout(ctx),
            LogTimer::Heartbeat => self.on_heartbeat_timer(ctx),
            LogTimer::Kv(t) => {
                debug_assert!(false, "{}: a replica got client timer {t:?}", ctx.id())
            }
        }
    }
}
