//! One Multi-Paxos replica: proposer (follower, candidate running phase 1, or leader running
//! phase 2 per slot), acceptor and learner at once, read top to bottom as the protocol runs:
//! phase 1, phase 2, learning and applying, then the acceptor's side of each phase.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Context, Duration, NodeId};

use super::{
    Accepted, Ballot, BrokenMultiPaxos, Entry, Msg, MultiPaxos, MultiPaxosConfig, Record, Timer,
};
use crate::consensus::client::KvMsg;
use crate::consensus::kv::Kv;
use crate::consensus::{Op, OpId};
use crate::shared::Shared;
use crate::txn::Observation;

crate::crash_points! {
    /// A replica's crash points (normal path, in protocol order).
    pub enum Point {
        Phase1Started, Promised, BecameLeader, Accepted, Chosen
    }
}

/// A leader's phase 2 for one slot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Proposal {
    entry: Entry,
    /// Acceptors that accepted it in the leader's ballot.
    acks: BTreeSet<NodeId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Role {
    Follower {
        leader: Option<NodeId>,
    },
    /// Phase 1 of `ballot` for every slot from `from` on.
    Candidate {
        ballot: Ballot,
        from: u64,
        promised_by: BTreeSet<NodeId>,
        /// Per slot: the highest-ballot value the promises reported.
        reports: BTreeMap<u64, (Ballot, Entry)>,
    },
    Leader {
        ballot: Ballot,
        /// The slot the next client operation goes to.
        next_slot: u64,
        /// `next_slot` at the last heartbeat: a proposal below it that is still open at the
        /// next heartbeat went unanswered for a whole heartbeat period, and is re-sent.
        next_slot_at_tick: u64,
        /// Slots proposed in this ballot and not yet chosen.
        proposals: BTreeMap<u64, Proposal>,
        /// Operations whose client waits for this leader's answer.
        waiting: BTreeMap<OpId, NodeId>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    config: Shared<MultiPaxosConfig>,
    id: NodeId,
    // Persistent state (forced before any answer that depends on it).
    promised: Ballot,
    accepted: BTreeMap<u64, (Ballot, Entry)>,
    chosen: BTreeMap<u64, Entry>,
    // Volatile state.
    role: Role,
    /// Every slot through `applied` is chosen and applied to `kv`.
    applied: u64,
    kv: Kv,
}

impl Replica {
    /// A replica as its disk leaves it. The state machine is volatile: `on_start` rebuilds it
    /// from the chosen values on disk.
    pub fn new(config: &Shared<MultiPaxosConfig>, id: NodeId, disk: &[Record]) -> Replica {
        let (mut promised, mut accepted, mut chosen) =
            (Ballot::ZERO, BTreeMap::new(), BTreeMap::new());
        for r in disk {
            match *r {
                Record::Promised { ballot } => promised = promised.max(ballot),
                Record::Accepted { slot, ballot, entry } => {
                    // Accepting in a ballot promises it too.
                    promised = promised.max(ballot);
                    accepted.insert(slot, (ballot, entry));
                }
                Record::Chosen { slot, entry } => {
                    chosen.insert(slot, entry);
                }
            }
        }
        Replica {
            config: config.clone(),
            id,
            promised,
            accepted,
            chosen,
            role: Role::Follower { leader: None },
            applied: 0,
            kv: Kv::default(),
        }
    }
}

/// What a process hosting the replica reads (`crate::replicated_2pc`'s transaction manager
/// runs on top of it): whom it follows, and its state machine.
impl Replica {
    /// This replica if it leads, the leader it follows if it knows one, else `None`.
    pub fn leader(&self) -> Option<NodeId> {
        match self.role {
            Role::Leader { .. } => Some(self.id),
            Role::Follower { leader } => leader,
            Role::Candidate { .. } => None,
        }
    }

    /// The state machine: every committed entry applied, in log order.
    pub fn state_machine(&self) -> &Kv {
        &self.kv
    }
}

/// The handlers the engine calls (through [`ConsensusNode`](crate::consensus::wiring::ConsensusNode)).
impl sim_core::Process<MultiPaxos> for Replica {
    fn on_start(&mut self, ctx: &mut Context<'_, MultiPaxos>) {
        self.apply(ctx);
        self.arm_election(ctx);
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, MultiPaxos>, timer: Timer) {
        match timer {
            Timer::Election => self.on_election_timeout(ctx),
            Timer::Heartbeat => self.on_heartbeat_timer(ctx),
            Timer::Kv(t) => debug_assert!(false, "{}: a replica got client timer {t:?}", self.id),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, MultiPaxos>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Kv(KvMsg::Request { op }) => self.on_request(ctx, from, op),
            Msg::Kv(_) => {} // replies and redirects are the client's
            Msg::Prepare { ballot, from: slot } => self.on_prepare(ctx, from, ballot, slot),
            Msg::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, &accepted),
            Msg::Accept { ballot, slot, entry } => self.on_accept(ctx, from, ballot, slot, entry),
            Msg::AcceptedAck { ballot, slot } => self.on_accepted_ack(ctx, from, ballot, slot),
            Msg::Nack { promised } => self.on_nack(ctx, promised),
            Msg::Chosen { values } => {
                for (slot, entry) in values {
                    self.learn(ctx, slot, entry);
                }
                self.apply(ctx);
            }
            Msg::Heartbeat { ballot, applied } => self.on_heartbeat(ctx, from, ballot, applied),
            Msg::Learn { from: slot } => self.on_learn(ctx, from, slot),
        }
    }
}

impl Replica {
    fn others(&self) -> impl Iterator<Item = NodeId> + use<> {
        let me = self.id;
        (0..self.config.replicas).map(NodeId).filter(move |&n| n != me)
    }

    fn arm_election(&self, ctx: &mut Context<'_, MultiPaxos>) {
        let after = self.config.election_timeout(ctx.rng());
        ctx.set_timer(after, Timer::Election);
    }

    fn leader_ballot(&self) -> Option<Ballot> {
        match self.role {
            Role::Leader { ballot, .. } => Some(ballot),
            _ => None,
        }
    }

    /// Promises `ballot` (higher than any promised) and forces the promise.
    fn promise(&mut self, ctx: &mut Context<'_, MultiPaxos>, ballot: Ballot) {
        debug_assert!(ballot > self.promised, "{}: promises only go up", self.id);
        self.promised = ballot;
        ctx.persist(Record::Promised { ballot });
    }

    /// Follows `leader` (if known): a leader or candidate of a lower ballot gives up.
    fn follow(&mut self, ctx: &mut Context<'_, MultiPaxos>, leader: Option<NodeId>) {
        if self.leader_ballot().is_some() {
            ctx.cancel_timer(Timer::Heartbeat);
        }
        self.role = Role::Follower { leader };
    }

    // --- Phase 1: a new leader ----------------------------------------------------------

    fn on_election_timeout(&mut self, ctx: &mut Context<'_, MultiPaxos>) {
        self.arm_election(ctx);
        if self.leader_ballot().is_some() {
            return;
        }
        let ballot = Ballot { round: self.promised.round + 1, node: self.id.0 };
        self.promise(ctx, ballot);
        ctx.mark(Point::Phase1Started.name());
        // Every slot through `applied` is chosen and known: phase 1 covers the rest.
        let from = self.applied + 1;
        let reports = self.accepted.range(from..).map(|(&s, &v)| (s, v)).collect();
        self.role =
            Role::Candidate { ballot, from, promised_by: BTreeSet::from([self.id]), reports };
        ctx.broadcast(self.others(), Msg::Prepare { ballot, from });
        self.count_promises(ctx);
    }

    fn on_promise(
        &mut self,
        ctx: &mut Context<'_, MultiPaxos>,
        from: NodeId,
        ballot: Ballot,
        accepted: &[Accepted],
    ) {
        let Role::Candidate { ballot: mine, promised_by, reports, .. } = &mut self.role else {
            return;
        };
        if *mine != ballot || !promised_by.insert(from) {
            return; // a stale or repeated promise
        }
        for a in accepted {
            let r = reports.entry(a.slot).or_insert((a.ballot, a.entry));
            if a.ballot > r.0 {
                *r = (a.ballot, a.entry);
            }
        }
        self.count_promises(ctx);
    }

    fn count_promises(&mut self, ctx: &mut Context<'_, MultiPaxos>) {
        let Role::Candidate { promised_by, .. } = &self.role else { return };
        if promised_by.len() < self.config.majority() {
            return;
        }
        let Role::Candidate { ballot, from, reports, .. } =
            std::mem::replace(&mut self.role, Role::Follower { leader: None })
        else {
            unreachable!("checked above")
        };
        self.become_leader(ctx, ballot, from, &reports);
    }

    /// Phase 1 succeeded: re-propose what was reported (the highest ballot's value per slot),
    /// fill the gaps with no-ops, then serve clients.
    fn become_leader(
        &mut self,
        ctx: &mut Context<'_, MultiPaxos>,
        ballot: Ballot,
        from: u64,
        reports: &BTreeMap<u64, (Ballot, Entry)>,
    ) {
        let term = ballot.number(self.config.replicas);
        ctx.observe(Observation::LeaderElected { term });
        ctx.mark(Point::BecameLeader.name());
        let last = [reports.keys().last(), self.chosen.keys().last()]
            .into_iter()
            .flatten()
            .copied()
            .fold(from - 1, u64::max);
        self.role = Role::Leader {
            ballot,
            next_slot: last + 1,
            next_slot_at_tick: from,
            proposals: BTreeMap::new(),
            waiting: BTreeMap::new(),
        };
        let ignore_reports = self.config.broken == Some(BrokenMultiPaxos::IgnoresAccepted);
        for slot in from..=last {
            if self.chosen.contains_key(&slot) {
                continue;
            }
            let entry = match reports.get(&slot) {
                Some(&(_, entry)) if !ignore_reports => entry,
                _ => Entry { term, op: None },
            };
            self.propose(ctx, slot, entry);
        }
        self.on_heartbeat_timer(ctx);
    }

    // --- Phase 2: one slot at a time ----------------------------------------------------

    fn on_request(&mut self, ctx: &mut Context<'_, MultiPaxos>, from: NodeId, op: Op) {
        let Role::Leader { ballot, next_slot, proposals, waiting, .. } = &mut self.role else {
            let leader = match self.role {
                Role::Follower { leader } => leader,
                _ => None,
            };
            ctx.send(from, Msg::Kv(KvMsg::Redirect { op: op.id, leader }));
            return;
        };
        if let Some(result) = self.kv.result(op.id) {
            ctx.send(from, Msg::Kv(KvMsg::Reply { op: op.id, result }));
            return;
        }
        waiting.insert(op.id, from);
        let carries = |e: &Entry| e.op.is_some_and(|o| o.id == op.id);
        let open = proposals.values().any(|p| carries(&p.entry))
            || self.chosen.range(self.applied + 1..).any(|(_, e)| carries(e));
        if open {
            return; // a retry of an operation already in the log: its applying will answer
        }
        let slot = *next_slot;
        *next_slot += 1;
        let entry = Entry { term: ballot.number(self.config.replicas), op: Some(op) };
        self.propose(ctx, slot, entry);
    }

    /// Phase 2a for `slot`: the leader accepts its own proposal, then asks the others.
    fn propose(&mut self, ctx: &mut Context<'_, MultiPaxos>, slot: u64, entry: Entry) {
        let Role::Leader { ballot, proposals, .. } = &mut self.role else { return };
        let ballot = *ballot;
        proposals.insert(slot, Proposal { entry, acks: BTreeSet::new() });
        self.accepted.insert(slot, (ballot, entry));
        ctx.persist(Record::Accepted { slot, ballot, entry });
        ctx.broadcast(self.others(), Msg::Accept { ballot, slot, entry });
        self.on_accepted_ack(ctx, self.id, ballot, slot);
    }

    fn on_accepted_ack(
        &mut self,
        ctx: &mut Context<'_, MultiPaxos>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
    ) {
        let majority = self.config.majority();
        let Role::Leader { ballot: mine, proposals, .. } = &mut self.role else { return };
        if *mine != ballot {
            return;
        }
        let Some(p) = proposals.get_mut(&slot) else { return }; // chosen already
        p.acks.insert(from);
        if p.acks.len() < majority {
            return;
        }
        let entry = p.entry;
        proposals.remove(&slot);
        self.learn(ctx, slot, entry);
        ctx.mark(Point::Chosen.name());
        ctx.broadcast(self.others(), Msg::Chosen { values: vec![(slot, entry)] });
        self.apply(ctx);
    }

    /// Asserts leadership, and re-sends the proposals that went unanswered for a whole
    /// heartbeat period (their messages were lost): a proposal younger than that is not
    /// re-sent, so a fault-free command costs one Accept per replica, however the heartbeat
    /// falls.
    fn on_heartbeat_timer(&mut self, ctx: &mut Context<'_, MultiPaxos>) {
        let Role::Leader { ballot, next_slot, next_slot_at_tick, proposals, .. } = &self.role
        else {
            return;
        };
        let (ballot, next_slot) = (*ballot, *next_slot);
        ctx.broadcast(self.others(), Msg::Heartbeat { ballot, applied: self.applied });
        let overdue = proposals.range(..*next_slot_at_tick).take(self.config.batch_max as usize);
        for (&slot, p) in overdue {
            let missing = self.others().filter(|n| !p.acks.contains(n));
            ctx.broadcast(missing, Msg::Accept { ballot, slot, entry: p.entry });
        }
        if let Role::Leader { next_slot_at_tick, .. } = &mut self.role {
            *next_slot_at_tick = next_slot;
        }
        ctx.set_timer(Duration::from_us(self.config.heartbeat_us), Timer::Heartbeat);
    }

    // --- Learning and applying ----------------------------------------------------------

    /// Records (and forces) that `entry` was chosen at `slot`.
    fn learn(&mut self, ctx: &mut Context<'_, MultiPaxos>, slot: u64, entry: Entry) {
        if slot > self.applied && !self.chosen.contains_key(&slot) {
            self.chosen.insert(slot, entry);
            ctx.persist(Record::Chosen { slot, entry });
        }
    }

    /// Applies chosen values in slot order, each once, and answers the clients waiting on
    /// this leader.
    fn apply(&mut self, ctx: &mut Context<'_, MultiPaxos>) {
        while let Some(&entry) = self.chosen.get(&(self.applied + 1)) {
            self.applied += 1;
            let result = entry.op.map(|op| (op.id, self.kv.apply(&op)));
            let op = result.map_or(0, |(id, _)| id);
            ctx.observe(Observation::EntryApplied { index: self.applied, term: entry.term, op });
            if let (Some((id, result)), Role::Leader { waiting, .. }) = (result, &mut self.role)
                && let Some(client) = waiting.remove(&id)
            {
                ctx.send(client, Msg::Kv(KvMsg::Reply { op: id, result }));
            }
        }
    }

    fn on_learn(&self, ctx: &mut Context<'_, MultiPaxos>, to: NodeId, from: u64) {
        let values: Vec<(u64, Entry)> = self
            .chosen
            .range(from..)
            .take(self.config.batch_max as usize)
            .map(|(&s, &e)| (s, e))
            .collect();
        if !values.is_empty() {
            ctx.send(to, Msg::Chosen { values });
        }
    }

    // --- The acceptor ---------------------------------------------------------------------

    fn on_prepare(
        &mut self,
        ctx: &mut Context<'_, MultiPaxos>,
        to: NodeId,
        ballot: Ballot,
        from: u64,
    ) {
        if ballot < self.promised {
            ctx.send(to, Msg::Nack { promised: self.promised });
            return;
        }
        if ballot > self.promised {
            self.promise(ctx, ballot);
            self.follow(ctx, None);
        }
        // Give the candidate time to finish phase 1 before standing ourselves.
        self.arm_election(ctx);
        let accepted = self
            .accepted
            .range(from..)
            .map(|(&slot, &(ballot, entry))| Accepted { slot, ballot, entry })
            .collect();
        ctx.send(to, Msg::Promise { ballot, accepted });
        ctx.mark(Point::Promised.name());
    }

    fn on_accept(
        &mut self,
        ctx: &mut Context<'_, MultiPaxos>,
        to: NodeId,
        ballot: Ballot,
        slot: u64,
        entry: Entry,
    ) {
        if ballot < self.promised {
            ctx.send(to, Msg::Nack { promised: self.promised });
            return;
        }
        if ballot > self.promised || self.leader_ballot().is_some_and(|b| b < ballot) {
            // The Accepted record below forces the promise with it.
            self.promised = ballot;
            self.follow(ctx, Some(to));
        }
        if let Role::Follower { leader } = &mut self.role {
            *leader = Some(to);
        }
        self.arm_election(ctx);
        if self.accepted.get(&slot) != Some(&(ballot, entry)) {
            self.accepted.insert(slot, (ballot, entry));
            ctx.persist(Record::Accepted { slot, ballot, entry });
        }
        ctx.send(to, Msg::AcceptedAck { ballot, slot });
        ctx.mark(Point::Accepted.name());
    }

    fn on_heartbeat(
        &mut self,
        ctx: &mut Context<'_, MultiPaxos>,
        to: NodeId,
        ballot: Ballot,
        applied: u64,
    ) {
        if ballot < self.promised {
            ctx.send(to, Msg::Nack { promised: self.promised });
            return;
        }
        if ballot > self.promised {
            self.promise(ctx, ballot);
        }
        self.follow(ctx, Some(to));
        self.arm_election(ctx);
        if self.applied < applied {
            ctx.send(to, Msg::Learn { from: self.applied + 1 });
        }
    }

    /// Someone promised a higher ballot: adopt it (so the next phase 1 goes higher) and
    /// give up leading or standing.
    fn on_nack(&mut self, ctx: &mut Context<'_, MultiPaxos>, promised: Ballot) {
        if promised > self.promised {
            self.promise(ctx, promised);
            self.follow(ctx, None);
        }
    }
}

/// What `commitlab explore` reads to bound elections ([`crate::consensus::explore`]).
impl crate::consensus::explore::Round for Replica {
    const MAX_ROUND: u64 = 1;
    fn leads(&self) -> bool {
        self.leader_ballot().is_some()
    }
    fn round(&self) -> u64 {
        self.promised.round
    }
}
