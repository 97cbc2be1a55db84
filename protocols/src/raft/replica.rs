//! One Raft replica: follower, candidate or leader (Figure 2 of the paper), read top to
//! bottom as the paper's rules: elections, then replication, then commitment and applying.

use std::collections::BTreeSet;

use sim_core::{Duration, NodeId};

use super::{BrokenRaft, Ctx, Entry, Msg, Raft, RaftConfig, Record, Timer};
use crate::consensus::Op;
use crate::consensus::replica::{Core, LogReplica, Waiting, apply_entry, misrouted, redirect};
use crate::shared::Shared;
use crate::txn::Observation;

crate::crash_points! {
    /// A replica's crash points (normal path, in protocol order).
    pub enum Point {
        ElectionStarted, VoteGranted, BecameLeader, Appended, Replicated, Committed
    }
}

/// Follower, candidate (with the votes it got, its own included) or leader.
type Role = crate::consensus::replica::Role<BTreeSet<NodeId>, Leader>;

/// A leader's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Leader {
    /// Per replica: the next entry to send it. It advances as entries are sent, not as they
    /// are acknowledged (the thesis's pipelining; raft-rs's `Progress` in its replicate
    /// state), so an entry goes out once; it backs up only when the replica rejects an
    /// AppendEntries (a heartbeat's consistency check finds lost entries).
    next: Vec<u64>,
    /// Per replica: the highest entry known to match the leader's log there.
    matched: Vec<u64>,
    waiting: Waiting,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Replica {
    core: Core<BrokenRaft>,
    // Persistent state (forced before any answer that depends on it).
    term: u64,
    voted_for: Option<NodeId>,
    /// `log[i]` is entry `i + 1`.
    log: Vec<Entry>,
    // Volatile state.
    role: Role,
    commit: u64,
    applied: u64,
}

impl Replica {
    /// A replica as its disk leaves it (fresh: term 0, empty log). The state machine is
    /// volatile: it is rebuilt by re-applying entries as the commit index is learned again.
    pub fn new(config: &Shared<RaftConfig>, id: NodeId, disk: &[Record]) -> Replica {
        let (mut term, mut voted_for, mut log) = (0, None, Vec::new());
        for r in disk {
            match r {
                Record::HardState { term: t, voted_for: v } => (term, voted_for) = (*t, *v),
                Record::Append { index, entry } => {
                    assert_eq!(*index, log.len() as u64 + 1, "{id}: appends are in order");
                    log.push(*entry);
                }
                Record::Truncate { from } => log.truncate(*from as usize - 1),
            }
        }
        Replica {
            core: Core::new(config, id),
            term,
            voted_for,
            log,
            role: Role::Follower { leader: None },
            commit: 0,
            applied: 0,
        }
    }
}

/// The handlers the engine calls (through [`ConsensusNode`](crate::consensus::wiring::ConsensusNode)),
/// and what a process hosting the replica reads.
impl LogReplica<Raft> for Replica {
    fn core(&self) -> &Core<BrokenRaft> {
        &self.core
    }

    fn step(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        // §5.1: a message of a higher term makes any replica a follower in that term.
        if let Some(term) = msg.term()
            && term > self.term
        {
            self.step_down(ctx, term, None);
        }
        match msg {
            Msg::Kv(m) => misrouted(self.core.id, &m),
            Msg::RequestVote { term, last_index, last_term } => {
                self.on_request_vote(ctx, from, term, last_index, last_term)
            }
            Msg::Vote { term, granted } => self.on_vote(ctx, from, term, granted),
            Msg::AppendEntries { term, prev_index, prev_term, entries, commit } => {
                self.on_append(ctx, from, term, prev_index, prev_term, &entries, commit)
            }
            Msg::AppendReply { term, ok, index } => {
                self.on_append_reply(ctx, from, term, ok, index)
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx, from: NodeId, op: Op) {
        let Role::Leader(l) = &mut self.role else {
            return redirect(ctx, from, &op, self.role.leader(self.core.id));
        };
        if !l.waiting.admit(ctx, &self.core.kv, from, &op) {
            return;
        }
        let uncommitted = &self.log[self.commit as usize..];
        if uncommitted.iter().any(|e| e.op.is_some_and(|o| o.id == op.id)) {
            return; // a retry of an operation already in the log: its commit will answer
        }
        self.append(ctx, Entry { term: self.term, op: Some(op) });
        ctx.mark(Point::Appended.name());
        self.replicate_all(ctx);
        self.advance_commit(ctx);
    }

    fn on_election_timeout(&mut self, ctx: &mut Ctx) {
        self.core.config.arm_election(ctx);
        if self.is_leader() {
            return;
        }
        self.set_hard_state(ctx, self.term + 1, Some(self.core.id));
        ctx.mark(Point::ElectionStarted.name());
        self.role = Role::Candidate(BTreeSet::from([self.core.id]));
        let ask = Msg::RequestVote {
            term: self.term,
            last_index: self.last_index(),
            last_term: self.term_at(self.last_index()),
        };
        ctx.broadcast(self.core.others(), ask);
        self.count_votes(ctx);
    }

    fn on_heartbeat_timer(&mut self, ctx: &mut Ctx) {
        if self.is_leader() {
            self.replicate_all(ctx);
            let every = Duration::from_us(self.core.config.heartbeat_us);
            ctx.set_timer(every, Timer::Heartbeat);
        }
    }

    fn leader(&self) -> Option<NodeId> {
        self.role.leader(self.core.id)
    }

    /// `currentTerm`.
    fn promised(&self) -> u64 {
        self.term
    }
}

impl Replica {
    // --- Terms and elections (§5.2) -------------------------------------------------------

    fn is_leader(&self) -> bool {
        self.role.leading().is_some()
    }

    fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    fn term_at(&self, index: u64) -> u64 {
        if index == 0 { 0 } else { self.log[index as usize - 1].term }
    }

    /// Sets and forces `currentTerm` and `votedFor` (the broken volatile-vote variant forces
    /// only the term).
    fn set_hard_state(&mut self, ctx: &mut Ctx, term: u64, voted_for: Option<NodeId>) {
        debug_assert!(term >= self.term, "{}: terms never go back", self.core.id);
        self.term = term;
        self.voted_for = voted_for;
        let durable_vote = if self.core.config.broken == Some(BrokenRaft::VolatileVote) {
            None
        } else {
            voted_for
        };
        ctx.persist(Record::HardState { term, voted_for: durable_vote });
    }

    /// A higher term was seen: adopt it and follow (§5.1).
    fn step_down(&mut self, ctx: &mut Ctx, term: u64, leader: Option<NodeId>) {
        if term > self.term {
            self.set_hard_state(ctx, term, None);
        }
        self.role.follow(ctx, leader);
    }

    fn on_request_vote(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        term: u64,
        last_index: u64,
        last_term: u64,
    ) {
        // §5.4.1: vote only for a candidate whose log is at least as up to date as ours.
        let (my_index, my_term) = (self.last_index(), self.term_at(self.last_index()));
        let up_to_date = last_term > my_term || (last_term == my_term && last_index >= my_index);
        let free = self.voted_for.is_none_or(|v| v == from);
        let granted = term == self.term && free && up_to_date;
        if granted {
            if self.voted_for != Some(from) {
                self.set_hard_state(ctx, term, Some(from));
            }
            self.core.config.arm_election(ctx);
        }
        ctx.send(from, Msg::Vote { term: self.term, granted });
        if granted {
            // After the vote is out: a crash here leaves a vote the candidate counts.
            ctx.mark(Point::VoteGranted.name());
        }
    }

    fn on_vote(&mut self, ctx: &mut Ctx, from: NodeId, term: u64, granted: bool) {
        if let Role::Candidate(votes) = &mut self.role
            && term == self.term
            && granted
        {
            votes.insert(from);
            self.count_votes(ctx);
        }
    }

    fn count_votes(&mut self, ctx: &mut Ctx) {
        if let Role::Candidate(votes) = &self.role
            && votes.len() >= self.core.config.majority()
        {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx) {
        let n = self.core.config.replicas as usize;
        let last = self.last_index();
        let mut matched = vec![0; n];
        matched[self.core.id.index()] = last; // its own log matches itself
        self.role =
            Role::Leader(Leader { next: vec![last + 1; n], matched, waiting: Waiting::default() });
        ctx.observe(Observation::LeaderElected { term: self.term });
        let terms = self.log.iter().map(|e| e.term).collect();
        ctx.observe(Observation::LeaderLog { term: self.term, terms });
        ctx.mark(Point::BecameLeader.name());
        // A no-op of the new term, so that earlier entries commit with it (§8). The
        // commit-old-term variant leaves it out, as Figure 8's leaders do: with it, the old
        // entry would always travel (and commit) with the new term's no-op.
        if self.core.config.broken != Some(BrokenRaft::CommitOldTerm) {
            self.append(ctx, Entry { term: self.term, op: None });
        }
        self.replicate_all(ctx);
        self.advance_commit(ctx);
        ctx.set_timer(Duration::from_us(self.core.config.heartbeat_us), Timer::Heartbeat);
    }

    // --- Log replication (§5.3) -----------------------------------------------------------

    /// Appends and forces one entry; a leader counts itself as matching it.
    fn append(&mut self, ctx: &mut Ctx, entry: Entry) {
        self.log.push(entry);
        let index = self.last_index();
        ctx.persist(Record::Append { index, entry });
        if let Role::Leader(l) = &mut self.role {
            l.matched[self.core.id.index()] = index;
        }
    }

    fn replicate_all(&mut self, ctx: &mut Ctx) {
        for to in self.core.others() {
            self.replicate(ctx, to);
        }
    }

    /// Sends `to` the entries from its `next` on (none: a heartbeat, whose consistency check
    /// at `next - 1` is how the leader learns that entries were lost) and moves its `next`
    /// past them.
    fn replicate(&mut self, ctx: &mut Ctx, to: NodeId) {
        let last = self.last_index();
        let Role::Leader(Leader { next, .. }) = &mut self.role else { return };
        let prev_index = next[to.index()] - 1;
        let end = last.min(prev_index + self.core.config.batch_max);
        next[to.index()] = end + 1;
        let entries = self.log[prev_index as usize..end as usize].to_vec();
        let msg = Msg::AppendEntries {
            term: self.term,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries,
            commit: self.commit,
        };
        ctx.send(to, msg);
    }

    #[allow(clippy::too_many_arguments)] // the message's fields, as the paper names them
    fn on_append(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: &[Entry],
        leader_commit: u64,
    ) {
        self.step_down(ctx, term, Some(from));
        self.core.config.arm_election(ctx);
        if prev_index > self.last_index() || self.term_at(prev_index) != prev_term {
            // The consistency check failed: hint where our log could still match.
            let hint = (prev_index - 1).min(self.last_index());
            ctx.send(from, Msg::AppendReply { term: self.term, ok: false, index: hint });
            return;
        }
        for (k, entry) in entries.iter().enumerate() {
            let index = prev_index + 1 + k as u64;
            if index <= self.last_index() {
                if self.term_at(index) == entry.term {
                    continue; // already there (Log Matching: and everything before it)
                }
                // A conflict: drop this entry and all that follow it.
                self.log.truncate(index as usize - 1);
                ctx.persist(Record::Truncate { from: index });
            }
            self.append(ctx, *entry);
        }
        if !entries.is_empty() {
            ctx.mark(Point::Replicated.name());
        }
        let matched = prev_index + entries.len() as u64;
        // Only what is known to match the leader's log may be committed here.
        let commit = leader_commit.min(matched);
        if commit > self.commit {
            self.commit = commit;
            self.apply(ctx);
        }
        ctx.send(from, Msg::AppendReply { term: self.term, ok: true, index: matched });
    }

    fn on_append_reply(&mut self, ctx: &mut Ctx, from: NodeId, term: u64, ok: bool, index: u64) {
        let Role::Leader(Leader { next, matched, .. }) = &mut self.role else { return };
        if term != self.term {
            return; // a stale reply
        }
        let f = from.index();
        if ok {
            matched[f] = matched[f].max(index);
            next[f] = next[f].max(index + 1);
        } else {
            // Back up to the follower's hint, never below what is known to match.
            next[f] = (index + 1).min(next[f].saturating_sub(1)).max(matched[f] + 1);
        }
        // Entries not sent yet (more than one message holds), or sent again after a rejection.
        let behind = next[f] <= self.last_index();
        self.advance_commit(ctx);
        if behind || !ok {
            self.replicate(ctx, from);
        }
    }

    // --- Commitment and applying (§5.3, §5.4.2) ----------------------------------------------

    /// Commits the highest entry a majority holds — of the current term only: an earlier
    /// term's entry commits with it, never by counting its own replicas (Figure 8). The
    /// commit-old-term variant counts replicas of any term's entry: Figure 8's bug.
    fn advance_commit(&mut self, ctx: &mut Ctx) {
        let Role::Leader(Leader { matched, .. }) = &self.role else { return };
        let majority = self.core.config.majority();
        let any_term = self.core.config.broken == Some(BrokenRaft::CommitOldTerm);
        let committable = (self.commit + 1..=self.last_index()).rev().find(|&n| {
            let holders = matched.iter().filter(|&&m| m >= n).count();
            holders >= majority && (any_term || self.term_at(n) == self.term)
        });
        if let Some(n) = committable {
            self.commit = n;
            ctx.mark(Point::Committed.name());
            self.apply(ctx);
        }
    }

    /// Applies committed entries in index order, each once, and answers the clients waiting
    /// on this leader.
    fn apply(&mut self, ctx: &mut Ctx) {
        while self.applied < self.commit {
            self.applied += 1;
            let entry = self.log[self.applied as usize - 1];
            let result = apply_entry(ctx, &mut self.core.kv, self.applied, entry.term, entry.op);
            if let (Some((id, result)), Role::Leader(l)) = (result, &mut self.role) {
                l.waiting.answer(ctx, id, result);
            }
        }
    }
}

/// What `commitlab explore` reads to bound elections ([`crate::consensus::explore`]).
impl crate::consensus::explore::Round for Replica {
    const MAX_ROUND: u64 = 1;
    fn leads(&self) -> bool {
        self.is_leader()
    }
    fn round(&self) -> u64 {
        self.term
    }
}
