//! One Multi-Paxos replica: proposer (follower, candidate running phase 1, or leader running
//! phase 2 per slot), acceptor and learner at once, read top to bottom as the protocol runs:
//! phase 1, phase 2, learning and applying, then the acceptor's side of each phase.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Duration, NodeId};

use super::{
    Accepted, Ballot, BrokenMultiPaxos, Ctx, Entry, Msg, MultiPaxos, MultiPaxosConfig, Record,
    Timer,
};
use crate::consensus::Op;
use crate::consensus::replica::{Core, LogReplica, Waiting, apply_entry, misrouted, redirect};
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

/// The proposer's role: following, a candidate in phase 1, or the leader in phase 2.
type Role = crate::consensus::replica::Role<Candidate, Leader>;

/// Phase 1 of `ballot` for every slot from `from` on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Candidate {
    ballot: Ballot,
    from: u64,
    promised_by: BTreeSet<NodeId>,
    /// Per slot: the highest-ballot value the promises reported.
    reports: BTreeMap<u64, (Ballot, Entry)>,
}

/// Phase 2 of `ballot`, one slot per client operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Leader {
    ballot: Ballot,
    /// The slot the next client operation goes to.
    next_slot: u64,
    /// `next_slot` at the last heartbeat: a proposal below it that is still open at the next
    /// heartbeat went unanswered for a whole heartbeat period, and is re-sent.
    next_slot_at_tick: u64,
    /// Slots proposed in this ballot and not yet chosen.
    proposals: BTreeMap<u64, Proposal>,
    waiting: Waiting,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    core: Core<BrokenMultiPaxos>,
    // Persistent state (forced before any answer that depends on it).
    promised: Ballot,
    accepted: BTreeMap<u64, (Ballot, Entry)>,
    chosen: BTreeMap<u64, Entry>,
    // Volatile state.
    role: Role,
    /// Every slot through `applied` is chosen and applied to `kv`.
    applied: u64,
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
            core: Core::new(config, id),
            promised,
            accepted,
            chosen,
            role: Role::Follower { leader: None },
            applied: 0,
        }
    }
}

/// The handlers the engine calls (through [`ConsensusNode`](crate::consensus::wiring::ConsensusNode)),
/// and what a process hosting the replica reads.
impl LogReplica<MultiPaxos> for Replica {
    fn core(&self) -> &Core<BrokenMultiPaxos> {
        &self.core
    }

    /// The state machine is rebuilt from the chosen values on disk.
    fn recover(&mut self, ctx: &mut Ctx) {
        self.apply(ctx);
    }

    fn step(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Kv(m) => misrouted(self.core.id, &m),
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

    fn on_request(&mut self, ctx: &mut Ctx, from: NodeId, op: Op) {
        let Role::Leader(l) = &mut self.role else {
            redirect(ctx, from, &op, self.role.leader(self.core.id));
            return;
        };
        if !l.waiting.admit(ctx, &self.core.kv, from, &op) {
            return;
        }
        let carries = |e: &Entry| e.op.is_some_and(|o| o.id == op.id);
        let open = l.proposals.values().any(|p| carries(&p.entry))
            || self.chosen.range(self.applied + 1..).any(|(_, e)| carries(e));
        if open {
            return; // a retry of an operation already in the log: its applying will answer
        }
        let slot = l.next_slot;
        l.next_slot += 1;
        let entry = Entry { term: l.ballot.number(self.core.config.replicas), op: Some(op) };
        self.propose(ctx, slot, entry);
    }

    /// Phase 1 of a ballot above any this replica promised, for every slot not known
    /// chosen.
    fn on_election_timeout(&mut self, ctx: &mut Ctx) {
        self.core.config.arm_election(ctx);
        if self.leader_ballot().is_some() {
            return;
        }
        let ballot = Ballot { round: self.promised.round + 1, node: self.core.id.0 };
        self.promise(ctx, ballot);
        ctx.mark(Point::Phase1Started.name());
        // Every slot through `applied` is chosen and known: phase 1 covers the rest.
        let from = self.applied + 1;
        let reports = self.accepted.range(from..).map(|(&s, &v)| (s, v)).collect();
        let promised_by = BTreeSet::from([self.core.id]);
        self.role = Role::Candidate(Candidate { ballot, from, promised_by, reports });
        ctx.broadcast(self.core.others(), Msg::Prepare { ballot, from });
        self.count_promises(ctx);
    }

    /// Asserts leadership, and re-sends the proposals that went unanswered for a whole
    /// heartbeat period (their messages were lost): a proposal younger than that is not
    /// re-sent, so a fault-free command costs one Accept per replica, however the heartbeat
    /// falls.
    fn on_heartbeat_timer(&mut self, ctx: &mut Ctx) {
        let Role::Leader(l) = &self.role else { return };
        let (ballot, next_slot) = (l.ballot, l.next_slot);
        let others = || self.core.others();
        ctx.broadcast(others(), Msg::Heartbeat { ballot, applied: self.applied });
        let overdue = l.proposals.range(..l.next_slot_at_tick);
        for (&slot, p) in overdue.take(self.core.config.batch_max as usize) {
            let missing = others().filter(|n| !p.acks.contains(n));
            ctx.broadcast(missing, Msg::Accept { ballot, slot, entry: p.entry });
        }
        if let Role::Leader(l) = &mut self.role {
            l.next_slot_at_tick = next_slot;
        }
        ctx.set_timer(Duration::from_us(self.core.config.heartbeat_us), Timer::Heartbeat);
    }

    fn leader(&self) -> Option<NodeId> {
        self.role.leader(self.core.id)
    }

    /// The highest ballot the acceptor promised.
    fn promised(&self) -> Ballot {
        self.promised
    }
}

impl Replica {
    fn leader_ballot(&self) -> Option<Ballot> {
        self.role.leading().map(|l| l.ballot)
    }

    /// Promises `ballot` (higher than any promised) and forces the promise.
    fn promise(&mut self, ctx: &mut Ctx, ballot: Ballot) {
        debug_assert!(ballot > self.promised, "{}: promises only go up", self.core.id);
        self.promised = ballot;
        ctx.persist(Record::Promised { ballot });
    }

    // --- Phase 1: a new leader ----------------------------------------------------------

    fn on_promise(&mut self, ctx: &mut Ctx, from: NodeId, ballot: Ballot, accepted: &[Accepted]) {
        let Role::Candidate(c) = &mut self.role else { return };
        if c.ballot != ballot || !c.promised_by.insert(from) {
            return; // a stale or repeated promise
        }
        for a in accepted {
            let r = c.reports.entry(a.slot).or_insert((a.ballot, a.entry));
            if a.ballot > r.0 {
                *r = (a.ballot, a.entry);
            }
        }
        self.count_promises(ctx);
    }

    fn count_promises(&mut self, ctx: &mut Ctx) {
        let majority = self.core.config.majority();
        if !matches!(&self.role, Role::Candidate(c) if c.promised_by.len() >= majority) {
            return;
        }
        if let Role::Candidate(c) =
            std::mem::replace(&mut self.role, Role::Follower { leader: None })
        {
            self.become_leader(ctx, c.ballot, c.from, &c.reports);
        }
    }

    /// Phase 1 succeeded: re-propose what was reported (the highest ballot's value per slot),
    /// fill the gaps with no-ops, then serve clients.
    fn become_leader(
        &mut self,
        ctx: &mut Ctx,
        ballot: Ballot,
        from: u64,
        reports: &BTreeMap<u64, (Ballot, Entry)>,
    ) {
        let term = ballot.number(self.core.config.replicas);
        ctx.observe(Observation::LeaderElected { term });
        ctx.mark(Point::BecameLeader.name());
        let last = [reports.keys().last(), self.chosen.keys().last()]
            .into_iter()
            .flatten()
            .copied()
            .fold(from - 1, u64::max);
        self.role = Role::Leader(Leader {
            ballot,
            next_slot: last + 1,
            next_slot_at_tick: from,
            proposals: BTreeMap::new(),
            waiting: Waiting::default(),
        });
        let ignore_reports = self.core.config.broken == Some(BrokenMultiPaxos::IgnoresAccepted);
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

    /// Phase 2a for `slot`: the leader accepts its own proposal, then asks the others.
    fn propose(&mut self, ctx: &mut Ctx, slot: u64, entry: Entry) {
        let Role::Leader(l) = &mut self.role else { return };
        let ballot = l.ballot;
        l.proposals.insert(slot, Proposal { entry, acks: BTreeSet::new() });
        self.accepted.insert(slot, (ballot, entry));
        ctx.persist(Record::Accepted { slot, ballot, entry });
        ctx.broadcast(self.core.others(), Msg::Accept { ballot, slot, entry });
        self.on_accepted_ack(ctx, self.core.id, ballot, slot);
    }

    fn on_accepted_ack(&mut self, ctx: &mut Ctx, from: NodeId, ballot: Ballot, slot: u64) {
        let majority = self.core.config.majority();
        let Role::Leader(l) = &mut self.role else { return };
        if l.ballot != ballot {
            return;
        }
        let Some(p) = l.proposals.get_mut(&slot) else { return }; // chosen already
        p.acks.insert(from);
        if p.acks.len() < majority {
            return;
        }
        let entry = p.entry;
        l.proposals.remove(&slot);
        self.learn(ctx, slot, entry);
        ctx.mark(Point::Chosen.name());
        ctx.broadcast(self.core.others(), Msg::Chosen { values: vec![(slot, entry)] });
        self.apply(ctx);
    }

    // --- Learning and applying ----------------------------------------------------------

    /// Records (and forces) that `entry` was chosen at `slot`.
    fn learn(&mut self, ctx: &mut Ctx, slot: u64, entry: Entry) {
        if slot > self.applied && !self.chosen.contains_key(&slot) {
            self.chosen.insert(slot, entry);
            ctx.persist(Record::Chosen { slot, entry });
        }
    }

    /// Applies chosen values in slot order, each once, and answers the clients waiting on
    /// this leader.
    fn apply(&mut self, ctx: &mut Ctx) {
        while let Some(&entry) = self.chosen.get(&(self.applied + 1)) {
            self.applied += 1;
            let result = apply_entry(ctx, &mut self.core.kv, self.applied, entry.term, entry.op);
            if let (Some((id, result)), Role::Leader(l)) = (result, &mut self.role) {
                l.waiting.answer(ctx, id, result);
            }
        }
    }

    fn on_learn(&self, ctx: &mut Ctx, to: NodeId, from: u64) {
        let values: Vec<(u64, Entry)> = self
            .chosen
            .range(from..)
            .take(self.core.config.batch_max as usize)
            .map(|(&s, &e)| (s, e))
            .collect();
        if !values.is_empty() {
            ctx.send(to, Msg::Chosen { values });
        }
    }

    // --- The acceptor ---------------------------------------------------------------------

    fn on_prepare(&mut self, ctx: &mut Ctx, to: NodeId, ballot: Ballot, from: u64) {
        if ballot > self.promised {
            self.promise(ctx, ballot);
            self.role.follow(ctx, None);
        }
        // Give the candidate time to finish phase 1 before standing ourselves.
        self.core.config.arm_election(ctx);
        let accepted = self
            .accepted
            .range(from..)
            .map(|(&slot, &(ballot, entry))| Accepted { slot, ballot, entry })
            .collect();
        ctx.send(to, Msg::Promise { ballot, accepted });
        ctx.mark(Point::Promised.name());
    }

    fn on_accept(&mut self, ctx: &mut Ctx, to: NodeId, ballot: Ballot, slot: u64, entry: Entry) {
        if ballot > self.promised || self.leader_ballot().is_some_and(|b| b < ballot) {
            // The Accepted record below forces the promise with it.
            self.promised = ballot;
            self.role.follow(ctx, Some(to));
        }
        if let Role::Follower { leader } = &mut self.role {
            *leader = Some(to);
        }
        self.core.config.arm_election(ctx);
        if self.accepted.get(&slot) != Some(&(ballot, entry)) {
            self.accepted.insert(slot, (ballot, entry));
            ctx.persist(Record::Accepted { slot, ballot, entry });
        }
        ctx.send(to, Msg::AcceptedAck { ballot, slot });
        ctx.mark(Point::Accepted.name());
    }

    fn on_heartbeat(&mut self, ctx: &mut Ctx, to: NodeId, ballot: Ballot, applied: u64) {
        if ballot > self.promised {
            self.promise(ctx, ballot);
        }
        self.role.follow(ctx, Some(to));
        self.core.config.arm_election(ctx);
        if self.applied < applied {
            ctx.send(to, Msg::Learn { from: self.applied + 1 });
        }
    }

    /// Someone promised a higher ballot: adopt it (so the next phase 1 goes higher) and
    /// give up leading or standing.
    fn on_nack(&mut self, ctx: &mut Ctx, promised: Ballot) {
        if promised > self.promised {
            self.promise(ctx, promised);
            self.role.follow(ctx, None);
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
