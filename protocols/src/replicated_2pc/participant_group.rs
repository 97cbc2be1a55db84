//! A member of a participant's group (`participant_replicas` R > 1): the participant's state
//! kept by a replicated log, as the coordinator's is, so that a crashed participant leader is
//! replaced instead of waited for.
//!
//! The group's log holds one row per transaction ([`Row`]): *prepared* (with the
//! participant's write and the transaction's participants: its yes vote), then *decided*
//! (commit or abort; an abort of a transaction never prepared is the participant's unilateral
//! abort). Rows move only by compare-and-set, as the coordinator's table does.
//!
//! - **The 2PC participant runs on the leader only**: `crate::two_pc`'s participant,
//!   unchanged, embedded as the coordinator group embeds its replicas. Every record it forces
//!   becomes an entry of the log instead (a prepared record, a decision), and every effect it
//!   asks for after that one waits until the entry is committed and applied (*output
//!   commit*): it votes yes only once `prepared` is committed in its group, and acts on a
//!   decision only once the decision is. Its marks (`prepared-logged`, `voted-yes`,
//!   `decided`) are the leader's crash points, emitted when the entry they follow is applied.
//! - **A new leader finishes from its log**: once its own first entry (a read, the barrier)
//!   is applied, its table holds everything any earlier leader committed; it rebuilds the 2PC
//!   participant from the table exactly as a participant recovers from its disk — prepared
//!   and undecided is in doubt (it asks the coordinator group and, cooperatively, the other
//!   participants), not prepared means it may still abort alone — and only then plays it.
//! - **Every member applies the committed rows** to its own disk and store, as a replicated
//!   state machine applies committed commands (CockroachDB's replicas apply committed Raft
//!   commands to their storage engine): a prepared record and a decision record, with the
//!   participant's observations (locks, yes vote, doubt; writes applied, locks released,
//!   decision). So a follower in doubt that can never learn the outcome (its group lost its
//!   majority) is a blocked participant, as the checkers define it, and the participant's
//!   node holds the decision on its disk as a one-node participant does.
//! - Followers forward the 2PC messages they get to the leader they know; senders remember
//!   the member that spoke for the participant last (`super::route`).

use std::collections::BTreeMap;

use sim_core::{Boot, Duration, Effect, NodeId};

use super::embed::embed;
use super::log::{Group, Host, LogEvent, Member, cas};
use super::participant::send;
use super::route::Routes;
use super::{Config, Ctx, Record, Replicated2pc, Timer};
use crate::consensus::{KvCall, Op};
use crate::durable::recover_participant;
use crate::error::ScenarioError;
use crate::scenario::Scenario;
use crate::shared::Shared;
use crate::store::Store;
use crate::two_pc::{self, TwoPc};
use crate::txn::{Key, Observation, Outcome, TxnId, Vote, Write};
use crate::workload::Workload;

/// Effects the 2PC participant asked for after a record, waiting for its entry, at most: a
/// transaction's handful, for the few transactions a run has in flight.
const QUEUED_MAX: usize = 4_096;

/// A participant's transaction as its group's log holds it, packed into one register: the
/// state in the two low bits (the coordinator table's tags, so that the log's idle test reads
/// both), then whether it was prepared, its write, and the participants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Row {
    /// `None`: prepared and undecided.
    pub outcome: Option<Outcome>,
    /// It was prepared (a yes vote) before any decision; false only for an abort of a
    /// transaction this participant never prepared.
    pub prepared: bool,
    /// Its participants: bit `i` is participant `i + 1`.
    pub mask: u32,
    /// Its write here, `(key, delta)`.
    pub write: Option<(Key, i64)>,
}

impl Row {
    /// At most this many participants (the mask's bits).
    pub const MAX_PARTICIPANTS: u32 = 16;
    /// Keys below this (12 bits).
    pub const MAX_KEYS: u32 = 1 << 12;
    /// |delta| at most this (32 bits, signed).
    pub const MAX_DELTA: i64 = i32::MAX as i64;

    /// Whether `scenario`'s transactions fit a row: few enough participants, keys and amounts.
    pub fn fits(scenario: &Scenario) -> Result<(), ScenarioError> {
        let bad = |field: &str, reason: String| {
            Err(ScenarioError::Invalid { field: field.into(), reason })
        };
        if scenario.participants > Self::MAX_PARTICIPANTS {
            let n = scenario.participants;
            let max = Self::MAX_PARTICIPANTS;
            return bad(
                "participants",
                format!("{n} participants: with participant_replicas > 1 at most {max}"),
            );
        }
        let (keys, delta) = match scenario.workload {
            Workload::Spread { keys_per_participant } => (keys_per_participant, 1),
            Workload::Bank { accounts_per_participant, max_amount, .. } => {
                (accounts_per_participant, max_amount)
            }
        };
        if keys > Self::MAX_KEYS || delta > Self::MAX_DELTA {
            let (k, d) = (Self::MAX_KEYS, Self::MAX_DELTA);
            return bad(
                "workload",
                format!("with participant_replicas > 1, at most {k} keys and amounts up to {d}"),
            );
        }
        Ok(())
    }

    pub fn encode(self) -> i64 {
        let tag: u64 = match self.outcome {
            None => 1,
            Some(Outcome::Commit) => 2,
            Some(Outcome::Abort) => 3,
        };
        let (has, key, delta) = match self.write {
            Some((key, delta)) => (1, u64::from(key), delta),
            None => (0, 0, 0),
        };
        assert!(key < u64::from(Self::MAX_KEYS) && delta.abs() <= Self::MAX_DELTA, "{self:?}");
        assert!(self.mask < 1 << Self::MAX_PARTICIPANTS, "{self:?}");
        let bits = tag
            | u64::from(self.prepared) << 2
            | has << 3
            | u64::from(self.mask) << 4
            | key << 20
            | u64::from(delta as i32 as u32) << 32;
        bits as i64
    }

    pub fn decode(v: i64) -> Row {
        let bits = v as u64;
        let outcome = match bits & 3 {
            1 => None,
            2 => Some(Outcome::Commit),
            3 => Some(Outcome::Abort),
            _ => unreachable!("not a participant row: {v}"),
        };
        let write = (bits >> 3 & 1 == 1)
            .then(|| ((bits >> 20 & 0xfff) as Key, i64::from((bits >> 32) as u32 as i32)));
        Row { outcome, prepared: bits >> 2 & 1 == 1, mask: (bits >> 4 & 0xffff) as u32, write }
    }

    fn mask_of(participants: &[NodeId]) -> u32 {
        participants.iter().fold(0, |m, p| m | 1 << (p.0 - 1))
    }

    fn participants(self) -> Vec<NodeId> {
        (0..Self::MAX_PARTICIPANTS)
            .filter(|i| self.mask & 1 << i != 0)
            .map(|i| NodeId(i + 1))
            .collect()
    }

    fn writes(self, party: NodeId) -> Vec<Write> {
        self.write.map(|(key, delta)| Write { node: party, key, delta }).into_iter().collect()
    }

    /// The records of a participant's disk this row stands for (what a new leader rebuilds
    /// the 2PC participant from).
    fn records(self, txn: TxnId, party: NodeId) -> Vec<two_pc::Record> {
        let participants = self.participants();
        let mut out = Vec::new();
        if self.prepared {
            let writes = self.writes(party);
            out.push(two_pc::Record::Prepared { txn, participants: participants.clone(), writes });
        }
        if let Some(outcome) = self.outcome {
            out.push(two_pc::Record::Decision { txn, outcome, participants });
        }
        out
    }
}

/// An effect of the 2PC participant (hashable, unlike the engine's), queued behind an entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Queued {
    Send(NodeId, two_pc::Msg),
    SetTimer(Duration, two_pc::Timer),
    CancelTimer(two_pc::Timer),
    Persist(two_pc::Record),
    Observe(Observation),
    Mark(&'static str),
}

impl From<Effect<TwoPc>> for Queued {
    fn from(e: Effect<TwoPc>) -> Queued {
        match e {
            Effect::Send { to, msg } => Queued::Send(to, msg),
            Effect::SetTimer { after, timer } => Queued::SetTimer(after, timer),
            Effect::CancelTimer { timer } => Queued::CancelTimer(timer),
            Effect::Persist { record } => Queued::Persist(record),
            Effect::Observe { obs } => Queued::Observe(obs),
            Effect::Mark { name } => Queued::Mark(name),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupParticipant {
    config: Shared<Config>,
    /// The participant the group plays (its first member).
    party: NodeId,
    group: Group,
    member: Member,
    /// Leading: the barrier read whose application makes the table complete.
    barrier: Option<u64>,
    /// Leading, past the barrier: the 2PC participant.
    inner: Option<two_pc::Participant>,
    /// The entry the participant's later effects wait for (its compare-and-set).
    waiting: Option<Op>,
    queue: Vec<Queued>,
    /// The coordinator-group member heard from last.
    coordinator: NodeId,
    routes: Routes,
    /// What this member applied of each row to its disk and store (`None`: prepared).
    applied: BTreeMap<TxnId, Option<Outcome>>,
    store: Store,
}

impl GroupParticipant {
    pub fn new(config: &Shared<Config>, id: NodeId, boot: Boot<'_, Record>) -> GroupParticipant {
        let group = config.parties.group_of(id).expect("a participant group's member").clone();
        let party = group.members[0];
        let rows: Vec<two_pc::Record> = boot
            .disk()
            .iter()
            .filter_map(|r| if let Record::Participant(r) = r { Some(r.clone()) } else { None })
            .collect();
        let workload = &config.two_pc.client.workload;
        let (store, applied) = recover_participant(workload, party, &rows, Some, |_| None);
        GroupParticipant {
            config: config.clone(),
            party,
            member: Member::new(config, &config.participant_log, group.replica(id), &boot),
            group,
            barrier: None,
            inner: None,
            waiting: None,
            queue: Vec::new(),
            coordinator: config.layout.coordinator(),
            routes: Routes::default(),
            applied,
            store,
        }
    }

    /// Transactions this member applied as prepared and not (yet) as decided.
    pub fn in_doubt(&self) -> Vec<TxnId> {
        self.applied.iter().filter(|(_, o)| o.is_none()).map(|(t, _)| *t).collect()
    }

    pub fn locks(&self) -> &BTreeMap<Key, TxnId> {
        self.store.locks()
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        // Back from a crash: still in doubt where its disk says so, locks re-taken.
        for txn in self.in_doubt() {
            crate::store::report_recovered_doubt(ctx, &self.store, txn);
        }
        self.start_log(ctx);
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            // The participant's timers mean nothing to a member that no longer plays it.
            Timer::TwoPc(t) if self.inner.is_some() => self.run(ctx, |p, c| p.on_timer(c, t)),
            Timer::TwoPc(_) => {}
            Timer::Raft(_) | Timer::MultiPaxos(_) => self.on_log_timer(ctx, timer),
            other => unreachable!("participant member {} got timer {other:?}", ctx.id()),
        }
    }
}

impl Host for GroupParticipant {
    fn member(&mut self) -> (&mut Member, &Group) {
        (&mut self.member, &self.group)
    }

    fn busy(&self) -> bool {
        self.waiting.is_some()
            || self.barrier.is_some()
            || !self.queue.is_empty()
            || !self.member.held.is_empty()
    }

    /// It plays the participant once it leads and its barrier is applied.
    fn plays_2pc(&self) -> bool {
        self.inner.is_some()
    }

    // ----- the log's answers -------------------------------------------------------------

    /// After any handler of the log: apply the rows it committed, act on our applied
    /// entries, and notice a change of leader.
    fn after_log(&mut self, ctx: &mut Ctx, events: Vec<LogEvent>) {
        self.apply_rows(ctx);
        for e in events {
            let LogEvent::Applied(id) = e else { continue }; // refused: noticed just below
            if self.barrier == Some(id) {
                self.barrier = None;
                self.take_over(ctx);
            } else if let Some(op) = self.waiting.filter(|op| op.id == id) {
                let KvCall::Cas { new, .. } = op.call else { unreachable!("rows move by CAS") };
                assert_eq!(
                    self.member.log.table().get(op.key),
                    Some(new),
                    "{}: the group's table diverged from its leader's participant",
                    self.party
                );
                self.waiting = None;
                self.release(ctx);
            }
        }
        let leads = self.member.log.leader(&self.group) == Some(ctx.id());
        if leads && !self.member.leading {
            self.member.leading = true;
            let op = self.barrier_op(ctx);
            self.barrier = Some(op.id);
            self.submit(ctx, op);
        } else if !leads && self.member.leading {
            // The next leader finishes from the log; whatever waited here is dropped (its
            // entry may still commit: the next leader then acts on it).
            self.member.leading = false;
            self.barrier = None;
            self.inner = None;
            self.waiting = None;
            self.queue.clear();
        }
        self.release_held(ctx);
    }

    // ----- 2PC messages --------------------------------------------------------------------

    /// The leader's participant handles a message, its sender named as the participant sees
    /// it: any coordinator member is "the coordinator", any member of another participant's
    /// group that participant.
    fn handle(&mut self, ctx: &mut Ctx, origin: NodeId, msg: two_pc::Msg) {
        let from = if self.config.group.contains(origin) {
            self.coordinator = origin;
            self.config.layout.coordinator()
        } else {
            self.routes.heard(&self.config.parties, origin)
        };
        self.run(ctx, |p, c| p.on_message(c, from, msg));
    }
}

impl GroupParticipant {
    /// A read through the log, unique to this member and instant: once it is applied, every
    /// entry before it is (all an earlier leader committed among them).
    fn barrier_op(&self, ctx: &mut Ctx) -> Op {
        let replica = u64::from(self.group.replica(ctx.id()).0);
        let id = 1 << 63 | (ctx.now().as_us() & ((1 << 54) - 1)) << 8 | replica;
        Op { id, key: u32::MAX, call: KvCall::Get }
    }

    /// The barrier is applied: rebuild the 2PC participant from the table, as it recovers
    /// from its disk, and start it (it asks about what it is in doubt on).
    fn take_over(&mut self, ctx: &mut Ctx) {
        let party = self.party;
        let records: Vec<two_pc::Record> = self
            .member
            .log
            .rows(Row::decode)
            .flat_map(|(txn, row)| row.records(txn, party))
            .collect();
        let boot = Boot::Recovered { disk: &records };
        self.inner = Some(two_pc::Participant::new(&self.config.two_pc, party, boot));
        self.run(ctx, |p, c| p.on_start(c));
        self.release_held(ctx);
    }

    /// Applies every row the table shows past what this member applied: its records forced,
    /// its store moved, its observations reported (in a 2PC participant's order).
    fn apply_rows(&mut self, ctx: &mut Ctx) {
        let rows: Vec<(TxnId, Row)> = self
            .member
            .log
            .rows(Row::decode)
            .filter(|(t, r)| match self.applied.get(t) {
                None => true,
                Some(None) => r.outcome.is_some(),
                // Back from a crash, the table is rebuilt by re-applying the log from its start:
                // it may show less than this member's disk, never something else.
                Some(Some(o)) => {
                    assert!(r.outcome.is_none_or(|x| x == *o), "{t}: a decided row changed");
                    false
                }
            })
            .collect();
        for (txn, row) in rows {
            let participants = row.participants();
            if row.prepared && !self.applied.contains_key(&txn) {
                let writes = row.writes(self.party);
                self.store.lock(txn, &writes);
                let prepared = two_pc::Record::Prepared {
                    txn,
                    participants: participants.clone(),
                    writes: writes.clone(),
                };
                ctx.persist(Record::Participant(prepared));
                let keys = writes.len() as u32;
                ctx.observe(Observation::LocksAcquired { txn, keys });
                ctx.observe(Observation::Voted { txn, vote: Vote::Yes });
                ctx.observe(Observation::Uncertain { txn });
                self.applied.insert(txn, None);
            }
            let Some(outcome) = row.outcome else { continue };
            ctx.persist(Record::Participant(two_pc::Record::Decision {
                txn,
                outcome,
                participants,
            }));
            if row.prepared {
                match outcome {
                    Outcome::Commit => {
                        assert!(self.store.commit(txn), "{txn} committed without its writes");
                        ctx.observe(Observation::Applied { txn });
                    }
                    Outcome::Abort => {
                        self.store.abort(txn);
                    }
                }
                ctx.observe(Observation::LocksReleased { txn });
            }
            ctx.observe(Observation::Decided { txn, outcome });
            self.applied.insert(txn, Some(outcome));
        }
    }

    // ----- 2PC messages --------------------------------------------------------------------

    /// Runs one handler of the leader's participant and pushes its effects.
    fn run(
        &mut self,
        ctx: &mut Ctx,
        handler: impl FnOnce(&mut two_pc::Participant, &mut two_pc::Ctx),
    ) {
        let inner = self.inner.as_mut().expect("the leader's participant");
        let effects = embed::<Replicated2pc, TwoPc>(ctx, self.party, |c| handler(inner, c));
        for e in effects {
            self.push(ctx, e.into());
        }
    }

    /// One effect of the participant, in order: queued while an entry is awaited; a record
    /// becomes the entry awaited; the rest goes out (observations the applied rows report
    /// are left to them).
    fn push(&mut self, ctx: &mut Ctx, e: Queued) {
        if self.waiting.is_some() {
            assert!(self.queue.len() < QUEUED_MAX, "{}: the queue behind an entry", self.party);
            self.queue.push(e);
            return;
        }
        match e {
            Queued::Persist(record) => {
                let op = self.entry_of(&record);
                self.waiting = Some(op);
                self.submit(ctx, op);
            }
            Queued::Send(to, msg) => {
                let (config, routes) = (self.config.clone(), &self.routes);
                send(ctx, &config, self.coordinator, |p| routes.to(p), to, msg)
            }
            Queued::SetTimer(after, t) => ctx.set_timer(after, Timer::TwoPc(t)),
            Queued::CancelTimer(t) => ctx.cancel_timer(Timer::TwoPc(t)),
            Queued::Observe(obs) if self.reported_by_rows(&obs) => {}
            Queued::Observe(obs) => ctx.observe(obs),
            Queued::Mark(name) => ctx.mark(name),
        }
    }

    /// Effects queued behind the entry just applied go out, up to the next record.
    fn release(&mut self, ctx: &mut Ctx) {
        while self.waiting.is_none() && !self.queue.is_empty() {
            let e = self.queue.remove(0);
            self.push(ctx, e);
        }
    }

    /// Whether applying the rows reports `obs` already (every member reports those).
    fn reported_by_rows(&self, obs: &Observation) -> bool {
        match obs {
            Observation::LocksAcquired { .. }
            | Observation::Voted { vote: Vote::Yes, .. }
            | Observation::Uncertain { .. }
            | Observation::Applied { .. }
            | Observation::LocksReleased { .. } => true,
            Observation::Decided { txn, .. } => self.applied.get(txn).is_some_and(Option::is_some),
            _ => false,
        }
    }

    /// The log entry a record of the participant becomes: its row's compare-and-set.
    fn entry_of(&self, record: &two_pc::Record) -> Op {
        let (txn, now) = match record {
            two_pc::Record::Prepared { txn, .. } | two_pc::Record::Decision { txn, .. } => {
                (*txn, self.member.log.row(*txn, Row::decode))
            }
            two_pc::Record::End { .. } => unreachable!("a participant ends nothing"),
        };
        let new = match (record, now) {
            (two_pc::Record::Prepared { participants, writes, .. }, None) => {
                assert!(writes.len() <= 1, "{txn}: one write per participant, got {writes:?}");
                let write = writes.first().map(|w| (w.key, w.delta));
                Row { outcome: None, prepared: true, mask: Row::mask_of(participants), write }
            }
            (two_pc::Record::Decision { outcome, .. }, Some(row)) if row.outcome.is_none() => {
                Row { outcome: Some(*outcome), ..row }
            }
            (two_pc::Record::Decision { outcome, participants, .. }, None) => Row {
                outcome: Some(*outcome),
                prepared: false,
                mask: Row::mask_of(participants),
                write: None,
            },
            (r, now) => unreachable!("{txn}: record {r:?} over row {now:?}"),
        };
        cas(txn, now.map(Row::encode), new.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_as_written() {
        for row in [
            Row { outcome: None, prepared: true, mask: 0b101, write: Some((3, -100)) },
            Row {
                outcome: Some(Outcome::Commit),
                prepared: true,
                mask: 0xffff,
                write: Some((4095, i32::MAX as i64)),
            },
            Row { outcome: Some(Outcome::Abort), prepared: false, mask: 0, write: None },
            Row {
                outcome: Some(Outcome::Abort),
                prepared: true,
                mask: 1,
                write: Some((0, -(i32::MAX as i64))),
            },
        ] {
            assert_eq!(Row::decode(row.encode()), row);
            // The coordinator table's tags: the log's idle test reads prepared as undecided.
            let undecided = matches!(
                super::super::TxnState::decode(row.encode()),
                super::super::TxnState::Begun { .. }
            );
            assert_eq!(undecided, row.outcome.is_none());
        }
    }
}
