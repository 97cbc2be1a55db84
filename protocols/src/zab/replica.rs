//! One ZAB replica, read top to bottom as the paper's phases run: election (phase 0),
//! discovery (phase 1), synchronization (phase 2), broadcast (phase 3), then delivery. Each
//! phase shows the prospective leader's side and the follower's side together.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Duration, NodeId};

use super::{BrokenZab, Ctx, Msg, Record, Timer, Txn, Zab, ZabConfig, Zxid};
use crate::consensus::Op;
use crate::consensus::replica::{Core, LogReplica, Waiting, apply_entry, misrouted, redirect};
use crate::shared::Shared;
use crate::txn::Observation;

crate::crash_points! {
    /// A replica's crash points (normal path, in protocol order).
    pub enum Point {
        Stood, EpochAccepted, BecameLeader, Synchronized, Established, Proposed, Acked, Committed
    }
}

/// Where a replica is in the paper's phases, as a follower or as the (prospective) leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Phase {
    Discovery,
    Synchronization,
    Broadcast,
}

/// The (prospective) leader's state through the phases.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Leading {
    phase: Phase,
    /// Discovery: `CEPOCH(f.p)` received, the leader's own included.
    cepochs: BTreeMap<NodeId, u64>,
    /// The new epoch `e'`, once a quorum sent `CEPOCH` (0: not chosen yet).
    epoch: u64,
    /// Discovery: who answered `ACK-E`, and the best `(f.a, h_f)` among them.
    ack_epochs: BTreeSet<NodeId>,
    best: (u64, Vec<Txn>),
    /// Synchronization: who answered `ACK-LD`.
    ack_leaders: BTreeSet<NodeId>,
    /// The followers synchronized in this epoch, and how far each acknowledged the history.
    matched: BTreeMap<NodeId, u64>,
    /// The counter of the last zxid proposed in this epoch.
    counter: u64,
    /// The history's length at the previous heartbeat: what a follower has not acknowledged
    /// by the next one is re-sent.
    last_at_tick: u64,
    waiting: Waiting,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Role {
    /// Phase 0: looking for a leader.
    Election,
    Follower {
        leader: NodeId,
        phase: Phase,
    },
    Leader(Box<Leading>),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    core: Core<BrokenZab>,
    // Persistent state (forced before any answer that depends on it).
    /// `f.p`: the last epoch whose `NEWEPOCH` this replica accepted, and from whom.
    accepted_epoch: u64,
    accepted_leader: Option<NodeId>,
    /// `f.a`: the last epoch this replica was synchronized in.
    current_epoch: u64,
    /// `h_f`: transaction `i + 1` at `history[i]`.
    history: Vec<Txn>,
    // Volatile state.
    role: Role,
    /// Transactions through `commit` are committed; through `delivered`, delivered to `kv`.
    commit: u64,
    delivered: u64,
    /// A follower's history was short of the leader's commit point at the last heartbeat.
    behind: bool,
}

impl Replica {
    /// A replica as its disk leaves it. The state machine is volatile: it is rebuilt by
    /// delivering again as the commit point is learned.
    pub fn new(config: &Shared<ZabConfig>, id: NodeId, disk: &[Record]) -> Replica {
        let (mut accepted_epoch, mut accepted_leader) = (0, None);
        let (mut current_epoch, mut history) = (0, Vec::new());
        for r in disk {
            match r {
                Record::AcceptedEpoch { epoch, leader } => {
                    (accepted_epoch, accepted_leader) = (*epoch, Some(*leader))
                }
                Record::NewLeader { epoch, history: h } => {
                    (current_epoch, history) = (*epoch, h.clone())
                }
                Record::Append { index, txn } => {
                    assert_eq!(*index, history.len() as u64 + 1, "{id}: appends are in order");
                    history.push(*txn);
                }
            }
        }
        Replica {
            core: Core::new(config, id),
            accepted_epoch,
            accepted_leader,
            current_epoch,
            history,
            role: Role::Election,
            commit: 0,
            delivered: 0,
            behind: false,
        }
    }
}

/// The handlers the engine calls (through [`ConsensusNode`](crate::consensus::wiring::ConsensusNode)),
/// and what a process hosting the replica would read.
impl LogReplica<Zab> for Replica {
    fn core(&self) -> &Core<BrokenZab> {
        &self.core
    }

    fn step(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Kv(m) => misrouted(self.core.id, &m),
            Msg::Elect { current_epoch, last_zxid } => {
                self.on_elect(ctx, from, current_epoch, last_zxid)
            }
            Msg::CEpoch { accepted_epoch } => self.on_cepoch(ctx, from, accepted_epoch),
            Msg::NewEpoch { epoch, established } => {
                self.on_new_epoch(ctx, from, epoch, established)
            }
            Msg::AckEpoch { epoch, current_epoch, history } => {
                self.on_ack_epoch(ctx, from, epoch, current_epoch, history)
            }
            Msg::NewLeader { epoch, history } => self.on_new_leader(ctx, from, epoch, history),
            Msg::AckNewLeader { epoch, index } => self.on_ack_new_leader(ctx, from, epoch, index),
            Msg::Proposal { epoch, index, txn } => self.on_proposal(ctx, from, epoch, index, txn),
            Msg::Ack { epoch, index } => self.on_ack(ctx, from, epoch, index),
            Msg::Commit { epoch, index } => self.on_commit(ctx, from, epoch, index),
            Msg::Heartbeat { epoch, commit } => self.on_heartbeat(ctx, from, epoch, commit),
            Msg::NewerEpoch { accepted_epoch } => self.on_newer_epoch(ctx, accepted_epoch),
        }
    }

    /// Phase 3: the leader in broadcast turns an operation into a proposal.
    fn on_request(&mut self, ctx: &mut Ctx, from: NodeId, op: Op) {
        let leader = self.leader();
        let commit = self.commit as usize;
        let Role::Leader(l) = &mut self.role else {
            redirect(ctx, from, &op, leader);
            return;
        };
        if l.phase != Phase::Broadcast {
            redirect(ctx, from, &op, None);
            return;
        }
        if !l.waiting.admit(ctx, &self.core.kv, from, &op) {
            return;
        }
        if self.history[commit..].iter().any(|t| t.op.id == op.id) {
            return; // a retry of an operation already proposed: its commit will answer
        }
        self.propose(ctx, op);
    }

    fn on_election_timeout(&mut self, ctx: &mut Ctx) {
        self.core.config.arm_election(ctx);
        if self.broadcasting().is_none() {
            // No word from an established leader, or a phase that never finished.
            self.stand(ctx);
        }
    }

    fn on_heartbeat_timer(&mut self, ctx: &mut Ctx) {
        let Some(epoch) = self.broadcasting() else { return };
        ctx.broadcast(self.core.others(), Msg::Heartbeat { epoch, commit: self.commit });
        let Some(l) = self.leading() else { return };
        // Proposals a follower left unacknowledged for a whole heartbeat period were lost.
        let behind: Vec<(NodeId, u64)> =
            l.matched.iter().filter(|&(_, &m)| m < l.last_at_tick).map(|(&n, &m)| (n, m)).collect();
        for (to, m) in behind {
            self.send_proposals(ctx, to, m);
        }
        let last = self.history.len() as u64;
        if let Role::Leader(l) = &mut self.role {
            l.last_at_tick = last;
        }
        ctx.set_timer(Duration::from_us(self.core.config.heartbeat_us), Timer::Heartbeat);
    }

    /// The leader in broadcast: this replica if it is, the one it follows if it does.
    fn leader(&self) -> Option<NodeId> {
        match &self.role {
            Role::Leader(l) if l.phase == Phase::Broadcast => Some(self.core.id),
            Role::Follower { leader, phase: Phase::Broadcast } => Some(*leader),
            _ => None,
        }
    }

    /// `acceptedEpoch`: the replica follows no leader of an older epoch.
    fn promised(&self) -> u64 {
        self.accepted_epoch
    }
}

impl Replica {
    fn last_zxid(&self) -> Zxid {
        self.history.last().map_or(Zxid::default(), |t| t.zxid)
    }

    fn leading(&self) -> Option<&Leading> {
        match &self.role {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    /// The epoch this replica leads in broadcast, if it does.
    fn broadcasting(&self) -> Option<u64> {
        self.leading().filter(|l| l.phase == Phase::Broadcast).map(|l| l.epoch)
    }

    /// Whether this replica follows `leader` in broadcast, synchronized in `epoch`.
    fn follows_in_broadcast(&self, leader: NodeId, epoch: u64) -> bool {
        self.role == Role::Follower { leader, phase: Phase::Broadcast }
            && self.current_epoch == epoch
            && self.accepted_epoch == epoch
    }

    /// Follows `leader` in `phase`; a leader gives up leading.
    fn follow(&mut self, ctx: &mut Ctx, leader: NodeId, phase: Phase) {
        if self.broadcasting().is_some() {
            ctx.cancel_timer(Timer::Heartbeat);
        }
        self.role = Role::Follower { leader, phase };
    }

    // --- Phase 0: election ---------------------------------------------------------------

    /// Stands as prospective leader: discovery starts with our own `CEPOCH`.
    fn stand(&mut self, ctx: &mut Ctx) {
        self.role = Role::Leader(Box::new(Leading {
            phase: Phase::Discovery,
            cepochs: BTreeMap::from([(self.core.id, self.accepted_epoch)]),
            epoch: 0,
            ack_epochs: BTreeSet::new(),
            best: (0, Vec::new()),
            ack_leaders: BTreeSet::new(),
            matched: BTreeMap::new(),
            counter: 0,
            last_at_tick: 0,
            waiting: Waiting::default(),
        }));
        ctx.mark(Point::Stood.name());
        let elect = Msg::Elect { current_epoch: self.current_epoch, last_zxid: self.last_zxid() };
        ctx.broadcast(self.core.others(), elect);
        self.count_cepochs(ctx);
    }

    /// A candidate's rank: the most up-to-date history wins, the node id breaks ties.
    fn rank(&self) -> (u64, Zxid, u32) {
        (self.current_epoch, self.last_zxid(), self.core.id.0)
    }

    fn on_elect(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, last: Zxid) {
        let standing = self.leading().is_some_and(|l| l.phase == Phase::Discovery && l.epoch == 0);
        if !(standing || self.role == Role::Election) {
            return; // following or leading someone already
        }
        if (epoch, last, from.0) > self.rank() {
            self.follow(ctx, from, Phase::Discovery);
            ctx.send(from, Msg::CEpoch { accepted_epoch: self.accepted_epoch });
            self.core.config.arm_election(ctx);
        } else if standing {
            let elect =
                Msg::Elect { current_epoch: self.current_epoch, last_zxid: self.last_zxid() };
            ctx.send(from, elect);
        } else {
            self.stand(ctx);
        }
    }

    // --- Phase 1: discovery --------------------------------------------------------------

    fn on_cepoch(&mut self, ctx: &mut Ctx, from: NodeId, accepted_epoch: u64) {
        let Role::Leader(l) = &mut self.role else { return };
        if l.epoch == 0 {
            l.cepochs.insert(from, accepted_epoch);
            self.count_cepochs(ctx);
        } else {
            // A follower joining an epoch already chosen (late, or recovered).
            let established = l.phase != Phase::Discovery;
            ctx.send(from, Msg::NewEpoch { epoch: l.epoch, established });
        }
    }

    /// With a quorum of `CEPOCH`, proposes `e' = max f.p + 1`.
    fn count_cepochs(&mut self, ctx: &mut Ctx) {
        let quorum = self.core.config.majority();
        let Role::Leader(l) = &self.role else { return };
        if l.epoch != 0 || l.cepochs.len() < quorum {
            return;
        }
        let epoch = l.cepochs.values().max().expect("a quorum") + 1;
        let to: Vec<NodeId> = l.cepochs.keys().copied().filter(|&n| n != self.core.id).collect();
        self.accept_epoch(ctx, epoch, self.core.id);
        let best = (self.current_epoch, self.history.clone());
        let Role::Leader(l) = &mut self.role else { unreachable!("leading above") };
        l.epoch = epoch;
        l.ack_epochs = BTreeSet::from([self.core.id]);
        l.best = best;
        ctx.broadcast(to, Msg::NewEpoch { epoch, established: false });
        self.count_ack_epochs(ctx);
    }

    /// Sets and forces `acceptedEpoch`.
    fn accept_epoch(&mut self, ctx: &mut Ctx, epoch: u64, leader: NodeId) {
        assert!(epoch >= self.accepted_epoch, "{}: accepted epochs never go down", self.core.id);
        self.accepted_epoch = epoch;
        self.accepted_leader = Some(leader);
        ctx.persist(Record::AcceptedEpoch { epoch, leader });
    }

    fn on_new_epoch(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, established: bool) {
        if epoch > self.accepted_epoch {
            self.accept_epoch(ctx, epoch, from);
        } else if self.accepted_leader != Some(from) {
            // We accepted this epoch from another candidate. Never help a second one to a
            // quorum; but one that already has its quorum is the epoch's leader, and the
            // other can no longer get one: follow it (our answer is not counted).
            if !established {
                return;
            }
            self.accept_epoch(ctx, epoch, from);
        }
        if !self.follows_in_broadcast(from, epoch) {
            self.follow(ctx, from, Phase::Synchronization);
        }
        let ack = Msg::AckEpoch {
            epoch,
            current_epoch: self.current_epoch,
            history: self.history.clone(),
        };
        ctx.send(from, ack);
        ctx.mark(Point::EpochAccepted.name());
        self.core.config.arm_election(ctx);
    }

    fn on_ack_epoch(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        epoch: u64,
        current_epoch: u64,
        history: Vec<Txn>,
    ) {
        let skip_sync = self.core.config.broken == Some(BrokenZab::SkipSync);
        let Role::Leader(l) = &mut self.role else { return };
        if l.epoch != epoch {
            return;
        }
        match l.phase {
            Phase::Discovery => {
                if !l.ack_epochs.insert(from) {
                    return;
                }
                let last = |h: &[Txn]| h.last().map_or(Zxid::default(), |t| t.zxid);
                if (current_epoch, last(&history)) > (l.best.0, last(&l.best.1)) {
                    l.best = (current_epoch, history);
                }
                self.count_ack_epochs(ctx);
            }
            // The broken variant takes a late follower as it is.
            _ if skip_sync => {
                l.matched.entry(from).or_insert(0);
            }
            // A late follower: synchronize it with the whole history.
            _ => ctx.send(from, Msg::NewLeader { epoch, history: self.history.clone() }),
        }
    }

    /// With a quorum of `ACK-E`, the best history among them becomes the initial history
    /// `I_e'`, and synchronization starts (the broken variant skips it).
    fn count_ack_epochs(&mut self, ctx: &mut Ctx) {
        let quorum = self.core.config.majority();
        let Role::Leader(l) = &mut self.role else { return };
        if l.phase != Phase::Discovery || l.epoch == 0 || l.ack_epochs.len() < quorum {
            return;
        }
        let epoch = l.epoch;
        let best = std::mem::take(&mut l.best.1);
        let followers: Vec<NodeId> =
            l.ack_epochs.iter().copied().filter(|&n| n != self.core.id).collect();
        let skip_sync = self.core.config.broken == Some(BrokenZab::SkipSync);
        let initial = if skip_sync { self.history.clone() } else { best };
        let epochs = initial.iter().map(|t| t.zxid.epoch).collect();
        self.synchronize(ctx, epoch, initial);
        ctx.observe(Observation::LeaderElected { term: epoch });
        ctx.observe(Observation::LeaderLog { term: epoch, terms: epochs });
        ctx.mark(Point::BecameLeader.name());
        let Role::Leader(l) = &mut self.role else { unreachable!("leading above") };
        if skip_sync {
            l.matched = followers.iter().map(|&f| (f, 0)).collect();
            self.establish(ctx);
        } else {
            l.phase = Phase::Synchronization;
            l.ack_leaders = BTreeSet::from([self.core.id]);
            let msg = Msg::NewLeader { epoch, history: self.history.clone() };
            ctx.broadcast(followers, msg);
            self.count_ack_leaders(ctx);
        }
    }

    // --- Phase 2: synchronization --------------------------------------------------------

    /// Sets and forces `currentEpoch` and the history together. A delivered transaction is
    /// committed, so every later initial history holds it where it was delivered.
    fn synchronize(&mut self, ctx: &mut Ctx, epoch: u64, history: Vec<Txn>) {
        let kept = self.delivered as usize;
        assert!(
            history.len() >= kept && history[..kept] == self.history[..kept],
            "{}: synchronization in epoch {epoch} takes back a delivered transaction",
            self.core.id
        );
        self.current_epoch = epoch;
        self.history = history;
        self.commit = self.commit.min(self.history.len() as u64);
        ctx.persist(Record::NewLeader { epoch, history: self.history.clone() });
    }

    fn on_new_leader(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, history: Vec<Txn>) {
        if epoch != self.accepted_epoch || self.accepted_leader != Some(from) {
            return;
        }
        // Both histories are prefixes of the leader's, which only grows in its epoch: a
        // repeated or late NEWLEADER never shortens ours.
        if self.current_epoch < epoch || history.len() > self.history.len() {
            self.synchronize(ctx, epoch, history);
        }
        self.follow(ctx, from, Phase::Broadcast);
        let index = self.history.len() as u64;
        ctx.send(from, Msg::AckNewLeader { epoch, index });
        ctx.mark(Point::Synchronized.name());
        self.core.config.arm_election(ctx);
    }

    fn on_ack_new_leader(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, index: u64) {
        let Role::Leader(l) = &mut self.role else { return };
        if l.epoch != epoch {
            return;
        }
        let m = l.matched.entry(from).or_insert(0);
        *m = (*m).max(index);
        match l.phase {
            Phase::Discovery => {}
            Phase::Synchronization => {
                l.ack_leaders.insert(from);
                self.count_ack_leaders(ctx);
            }
            Phase::Broadcast => {
                // A late follower: it may complete a quorum, then it needs the commit point
                // and what it lacks.
                self.advance_commit(ctx);
                if self.commit > 0 {
                    ctx.send(from, Msg::Commit { epoch, index: self.commit });
                }
                self.send_proposals(ctx, from, index);
            }
        }
    }

    fn count_ack_leaders(&mut self, ctx: &mut Ctx) {
        let quorum = self.core.config.majority();
        if self.leading().is_some_and(|l| l.ack_leaders.len() >= quorum) {
            self.establish(ctx);
        }
    }

    /// A quorum holds the initial history: commit it, and broadcast from now on.
    fn establish(&mut self, ctx: &mut Ctx) {
        let Role::Leader(l) = &mut self.role else { return };
        l.phase = Phase::Broadcast;
        l.last_at_tick = self.history.len() as u64;
        let (epoch, followers): (u64, Vec<NodeId>) = (l.epoch, l.matched.keys().copied().collect());
        ctx.mark(Point::Established.name());
        self.commit = self.history.len() as u64;
        if self.commit > 0 {
            ctx.broadcast(followers, Msg::Commit { epoch, index: self.commit });
        }
        self.deliver(ctx);
        self.on_heartbeat_timer(ctx);
    }

    // --- Phase 3: broadcast --------------------------------------------------------------

    /// `PROPOSE(e', <v, z>)`: the leader forces the transaction, then sends it.
    fn propose(&mut self, ctx: &mut Ctx, op: Op) {
        let Role::Leader(l) = &mut self.role else { return };
        l.counter += 1;
        let zxid = Zxid { epoch: l.epoch, counter: l.counter };
        let followers: Vec<NodeId> = l.matched.keys().copied().collect();
        let txn = Txn { zxid, op };
        // Reported before it is forced: a leader that crashes between the two keeps the
        // transaction, and may deliver it later, so it must already count as broadcast
        // (`integrity`); one that crashes before forcing loses it, which no property forbids.
        let (epoch, counter) = (zxid.epoch, zxid.counter);
        ctx.observe(Observation::PrimaryBroadcast { epoch, counter, op: op.id });
        self.history.push(txn);
        let index = self.history.len() as u64;
        ctx.persist(Record::Append { index, txn });
        ctx.mark(Point::Proposed.name());
        ctx.broadcast(followers, Msg::Proposal { epoch, index, txn });
        self.advance_commit(ctx);
    }

    /// Proposals after `index` to `to`, at most `batch_max` of them.
    fn send_proposals(&self, ctx: &mut Ctx, to: NodeId, index: u64) {
        let Some(epoch) = self.broadcasting() else { return };
        let end = (self.history.len() as u64).min(index + self.core.config.batch_max);
        for i in index + 1..=end {
            let txn = self.history[i as usize - 1];
            ctx.send(to, Msg::Proposal { epoch, index: i, txn });
        }
    }

    fn on_proposal(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, index: u64, txn: Txn) {
        self.skip_sync(ctx, from, epoch);
        if !self.follows_in_broadcast(from, epoch) {
            return;
        }
        self.core.config.arm_election(ctx);
        let len = self.history.len() as u64;
        if index == len + 1 {
            self.history.push(txn);
            ctx.persist(Record::Append { index, txn });
        } else if index > len || self.history[index as usize - 1].zxid != txn.zxid {
            return; // a gap (the leader re-sends), or (broken variant only) a conflict
        }
        ctx.send(from, Msg::Ack { epoch, index });
        ctx.mark(Point::Acked.name());
    }

    fn on_ack(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, index: u64) {
        let Role::Leader(l) = &mut self.role else { return };
        if l.epoch != epoch || l.phase != Phase::Broadcast {
            return;
        }
        // Only a follower synchronized by this leader in this epoch acknowledges in it.
        let m = l.matched.entry(from).or_insert(0);
        *m = (*m).max(index);
        self.advance_commit(ctx);
    }

    /// Commits the longest prefix a quorum holds, and sends `COMMIT` for it.
    fn advance_commit(&mut self, ctx: &mut Ctx) {
        let quorum = self.core.config.majority();
        let Role::Leader(l) = &self.role else { return };
        let last = self.history.len() as u64;
        let held = |i: u64| 1 + l.matched.values().filter(|&&m| m >= i).count();
        let Some(index) = (self.commit + 1..=last).rev().find(|&i| held(i) >= quorum) else {
            return;
        };
        let (epoch, followers): (u64, Vec<NodeId>) = (l.epoch, l.matched.keys().copied().collect());
        self.commit = index;
        ctx.mark(Point::Committed.name());
        ctx.broadcast(followers, Msg::Commit { epoch, index });
        self.deliver(ctx);
    }

    fn on_commit(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, index: u64) {
        self.skip_sync(ctx, from, epoch);
        if self.follows_in_broadcast(from, epoch) {
            self.learn_commit(ctx, index);
        }
    }

    /// A follower learns the commit point: its history is a prefix of the leader's.
    fn learn_commit(&mut self, ctx: &mut Ctx, index: u64) {
        let commit = index.min(self.history.len() as u64);
        if commit > self.commit {
            self.commit = commit;
            self.deliver(ctx);
        }
    }

    fn on_heartbeat(&mut self, ctx: &mut Ctx, from: NodeId, epoch: u64, commit: u64) {
        self.skip_sync(ctx, from, epoch);
        if self.follows_in_broadcast(from, epoch) {
            self.core.config.arm_election(ctx);
            self.learn_commit(ctx, commit);
            // Short of the commit point for a whole heartbeat period: the leader lost track
            // of us (an ACK-LD or ACKs lost). Say how far we hold its history.
            let index = self.history.len() as u64;
            let behind = index < commit;
            if behind && self.behind {
                ctx.send(from, Msg::Ack { epoch, index });
            }
            self.behind = behind;
            return;
        }
        // An established leader we do not follow yet: join it through discovery.
        self.follow(ctx, from, Phase::Discovery);
        ctx.send(from, Msg::CEpoch { accepted_epoch: self.accepted_epoch });
        self.core.config.arm_election(ctx);
    }

    /// The sender accepted a later epoch: a leader or candidate of an older one gives up.
    fn on_newer_epoch(&mut self, ctx: &mut Ctx, accepted_epoch: u64) {
        if accepted_epoch > self.accepted_epoch && self.leading().is_some() {
            if self.broadcasting().is_some() {
                ctx.cancel_timer(Timer::Heartbeat);
            }
            self.role = Role::Election;
        }
    }

    /// The broken variant: a follower that accepted `epoch` from `leader` takes its
    /// proposals without synchronization, keeping its own history.
    fn skip_sync(&mut self, ctx: &mut Ctx, leader: NodeId, epoch: u64) {
        let skipping = self.core.config.broken == Some(BrokenZab::SkipSync)
            && self.accepted_epoch == epoch
            && self.accepted_leader == Some(leader)
            && self.current_epoch < epoch
            && matches!(self.role, Role::Follower { leader: l, .. } if l == leader);
        if skipping {
            let own = self.history.clone();
            self.synchronize(ctx, epoch, own);
            self.role = Role::Follower { leader, phase: Phase::Broadcast };
        }
    }

    // --- Delivery ------------------------------------------------------------------------

    /// Delivers committed transactions in history (zxid) order, each once, and answers the
    /// clients waiting on this leader.
    fn deliver(&mut self, ctx: &mut Ctx) {
        while self.delivered < self.commit {
            self.delivered += 1;
            let txn = self.history[self.delivered as usize - 1];
            let (epoch, counter) = (txn.zxid.epoch, txn.zxid.counter);
            let applied = apply_entry(ctx, &mut self.core.kv, self.delivered, epoch, Some(txn.op));
            let (op, result) = applied.expect("a transaction carries an operation");
            ctx.observe(Observation::Delivered { epoch, counter, op });
            if let Role::Leader(l) = &mut self.role {
                l.waiting.answer(ctx, op, result);
            }
        }
    }
}

/// What `commitlab explore` reads to bound elections ([`crate::consensus::explore`]).
impl crate::consensus::explore::Round for Replica {
    const MAX_ROUND: u64 = 2;
    /// An operation sent before any leader exists is redirected nowhere (under `--timers
    /// quiescent` it always is: it arrives before the first election): one retry reaches
    /// a leader, a second reaches the leader of a later epoch, as in `run` when the first
    /// leader loses its epoch. Without them, an explored epoch change never carries an
    /// operation into the new epoch, and `broken-zab-skip-sync` is out of reach.
    const CLIENT_RETRIES: u32 = 2;
    fn leads(&self) -> bool {
        self.broadcasting().is_some()
    }
    fn round(&self) -> u64 {
        self.accepted_epoch
    }
}
