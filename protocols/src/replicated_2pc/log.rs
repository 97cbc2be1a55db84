//! The coordinator group's replicated log: a Raft or a Multi-Paxos replica, unchanged, whose
//! key-value state machine is the transaction manager's table.
//!
//! Each transaction is one register (key = its id) written only by compare-and-set, so the
//! log decides, once and for all, what a transaction is: [`TxnState::Begun`] (with its
//! participants), then [`TxnState::Decided`]. A decision is `Cas { expect: Begun, new:
//! Decided }`, a recovery abort `Cas { expect: what the table shows, new: Decided(abort) }`:
//! whichever is applied first wins and every later one fails, so two leaders (an old one not
//! yet aware it was replaced, and its successor) can never decide a transaction two ways. The
//! manager acts only on what its state machine shows once its own operation is applied.
//!
//! The replicas number themselves `0..2F+1`; in the cluster the group is node 0 (the
//! coordinator) and the layout's extra nodes. [`Group`] maps between the two.
//!
//! An idle group is quiet ([`Pace`]): while a member has nothing to do (no transaction of its
//! table undecided, none running, none held, a leader known) the heartbeat and election
//! timers its replica arms run [`IDLE_SLOWDOWN`] times longer — a longer idle heartbeat
//! interval, not a lease: the replicas are unchanged, only their timers are stretched, both
//! by the same factor so that idle followers still hear an idle leader well inside their
//! timeout. Work wakes a member at once ([`Log::wake`]): a leader re-arms its heartbeat at
//! the normal period, a follower its election timer at the normal range, so a leader that
//! crashed while idle is replaced as fast as a busy one once anybody needs it.
//!
//! The one thing that must never happen is a follower at the normal pace under a leader at
//! the idle one: the follower's timer would fire first and depose a live leader (in a
//! fault-free run that aborted a transaction everybody voted yes on). So a leader that sends
//! uncommitted entries heartbeats at the normal pace until its next heartbeat finds it idle;
//! a follower that gets uncommitted entries keeps the normal pace and slows down as soon as
//! its table shows their outcome; and a member back from a crash is *patient* — idle before
//! it hears of a leader — until it stands for election or is woken.

use sim_core::{Boot, Duration, Effect, NodeId, Process};

use super::embed::{embed, push_local};
use super::{Ctx, Msg, Record, Replicated2pc, Timer};
use crate::consensus::client::KvMsg;
use crate::consensus::kv::Kv;
use crate::consensus::replica::LogReplica;
use crate::consensus::wiring::{LogProtocol, LogTimer};
use crate::consensus::{KvCall, Op, OpId};
use crate::txn::{Outcome, TxnId};
use crate::{multi_paxos, raft, two_pc};

/// The coordinator group's members, by replica number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Group {
    pub members: Vec<NodeId>,
}

impl Group {
    /// Replica number of cluster node `node` (a member).
    pub fn replica(&self, node: NodeId) -> NodeId {
        let i = self.members.iter().position(|&m| m == node);
        NodeId(i.expect("a member of the coordinator group") as u32)
    }
    pub fn node(&self, replica: NodeId) -> NodeId {
        self.members[replica.index()]
    }
    pub fn contains(&self, node: NodeId) -> bool {
        self.members.contains(&node)
    }
}

/// A transaction as the log holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxnState {
    /// Begun with these participants (bit `i`: participant node `i + 1`).
    Begun {
        mask: u64,
    },
    Decided {
        outcome: Outcome,
        mask: u64,
    },
}

impl TxnState {
    const BEGUN: i64 = 1;
    const COMMIT: i64 = 2;
    const ABORT: i64 = 3;

    pub fn encode(self) -> i64 {
        let (mask, tag) = match self {
            TxnState::Begun { mask } => (mask, Self::BEGUN),
            TxnState::Decided { outcome: Outcome::Commit, mask } => (mask, Self::COMMIT),
            TxnState::Decided { outcome: Outcome::Abort, mask } => (mask, Self::ABORT),
        };
        assert!(mask < 1 << 60, "participant masks fit in 60 bits");
        (mask << 2) as i64 | tag
    }

    pub fn decode(v: i64) -> TxnState {
        let mask = (v >> 2) as u64;
        match v & 3 {
            Self::BEGUN => TxnState::Begun { mask },
            Self::COMMIT => TxnState::Decided { outcome: Outcome::Commit, mask },
            Self::ABORT => TxnState::Decided { outcome: Outcome::Abort, mask },
            _ => unreachable!("not a transaction state: {v}"),
        }
    }

    pub fn mask(self) -> u64 {
        match self {
            TxnState::Begun { mask } | TxnState::Decided { mask, .. } => mask,
        }
    }
}

/// The compare-and-set that moves `txn` from `expect` to `new`. Its id is a function of its
/// content, so whoever proposes the same transition proposes the same operation (and the
/// state machine applies it once).
pub fn transition(txn: TxnId, expect: Option<TxnState>, new: TxnState) -> Op {
    cas(txn, expect.map(TxnState::encode), new.encode())
}

/// The compare-and-set of `txn`'s row from `expect` to `new`, both encoded with the state in
/// their two low bits ([`TxnState`]'s tags: a participant group's rows use them too). Its id
/// names the transition: the transaction, the new state's tag, and whether a row existed.
pub fn cas(txn: TxnId, expect: Option<i64>, new: i64) -> Op {
    let kind = (new & 3) as u64;
    assert!(kind != 0, "{txn}: a row's value carries its state's tag");
    let from = u64::from(expect.is_some());
    assert!(txn.0 < 1 << 32, "{txn}: transaction ids fit the state machine's keys");
    let id: OpId = txn.0 << 8 | kind << 4 | from;
    Op { id, key: txn.0 as u32, call: KvCall::Cas { expect, new } }
}

/// The transaction `op` moves (see [`transition`]).
pub fn txn_of(op: OpId) -> TxnId {
    TxnId(op >> 8)
}

/// What the log told its host in one handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// The host's operation is applied (the table shows its effect, or why it failed).
    Applied(OpId),
    /// The host's operation was refused: this replica does not lead.
    Refused(OpId),
}

/// How many times longer an idle member's heartbeat and election timers run (see the module
/// docs): with the default timing (d = 10 ms) an idle leader heartbeats every 600 ms instead
/// of 30 ms, an idle follower stands for election after 2 to 4 s instead of 100 to 200 ms.
pub const IDLE_SLOWDOWN: u32 = 20;

/// The pace of a member's replica timers: the host says whether it is busy; the log records
/// whether the heartbeat and election timers it armed last were stretched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pace {
    /// The host runs or holds something (set before each call into the log).
    pub busy: bool,
    /// Back from a crash and not yet stood for election nor been woken: idle even before it
    /// hears from a leader, so that it waits for an idle leader's next heartbeat instead of
    /// deposing it (the replicas have no pre-vote).
    pub patient: bool,
    /// The log's normal heartbeat period and election timeout range.
    heartbeat_us: u64,
    election_us: (u64, u64),
    heartbeat_slow: bool,
    election_slow: bool,
}

impl Pace {
    /// A member's pace at boot, its log's normal timing; a recovered one is patient.
    pub fn at_boot(recovered: bool, heartbeat_us: u64, election_us: (u64, u64)) -> Pace {
        Pace { patient: recovered, heartbeat_us, election_us, ..Pace::default() }
    }

    /// A fresh election timeout at the normal pace, or the idle one.
    fn election(&self, ctx: &mut Ctx, idle: bool) -> Duration {
        let (min_us, max_us) = self.election_us;
        let us = sim_core::rng::uniform_u64(ctx.rng(), min_us, max_us);
        Duration::from_us(if idle { us * u64::from(IDLE_SLOWDOWN) } else { us })
    }
}

/// Which replicated log the group runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Log {
    Raft(raft::Replica),
    MultiPaxos(multi_paxos::Replica),
}

/// What a handler of the log is asked to do: by its host (of the host's vocabulary, see
/// [`Member::call`]), then of the replica (of the log's own, see [`drive`]).
pub enum Call<M, T> {
    Start,
    Message(NodeId, M),
    Timer(T),
    Submit(Op),
}

/// Runs `$call` on whichever replica `$log` holds, with that log's wrappers.
macro_rules! on_replica {
    ($log:expr, $ctx:expr, $group:expr, $pace:expr, |$q:ident| $call:expr) => {
        match $log {
            Log::Raft(r) => {
                #[allow(unused_imports)]
                use raft as $q;
                drive($ctx, $group, $pace, r, $call, RAFT)
            }
            Log::MultiPaxos(r) => {
                #[allow(unused_imports)]
                use multi_paxos as $q;
                drive($ctx, $group, $pace, r, $call, MULTI_PAXOS)
            }
        }
    };
}

impl Log {
    /// The replica as its disk leaves it (the host's records that are this log's), configured
    /// by `group`'s replica configurations.
    pub fn new(
        config: &super::Config,
        group: &super::LogConfig,
        replica: NodeId,
        disk: &[Record],
    ) -> Log {
        match config.log {
            super::LogKind::Raft => {
                let disk: Vec<raft::Record> = disk
                    .iter()
                    .filter_map(|r| if let Record::Raft(r) = r { Some(r.clone()) } else { None })
                    .collect();
                Log::Raft(raft::Replica::new(&group.raft, replica, &disk))
            }
            super::LogKind::MultiPaxos => {
                let disk: Vec<multi_paxos::Record> = disk
                    .iter()
                    .filter_map(|r| match r {
                        Record::MultiPaxos(r) => Some(r.clone()),
                        _ => None,
                    })
                    .collect();
                Log::MultiPaxos(multi_paxos::Replica::new(&group.multi_paxos, replica, &disk))
            }
        }
    }

    /// The host got work: if its replica's timers were stretched (idle), a leader's heartbeat
    /// comes back to its normal period and a follower's election timer to its normal range,
    /// so a dead idle leader is replaced as fast as a busy one.
    pub fn wake(&self, ctx: &mut Ctx, pace: &mut Pace, leading: bool) {
        if leading && pace.heartbeat_slow {
            let every = Duration::from_us(pace.heartbeat_us);
            ctx.set_timer(every, self.timer(LogTimer::Heartbeat));
            pace.heartbeat_slow = false;
        }
        pace.patient = false;
        if !leading && pace.election_slow {
            let after = pace.election(ctx, false);
            ctx.set_timer(after, self.timer(LogTimer::Election));
            pace.election_slow = false;
        }
    }

    /// `t` as this log's timer.
    fn timer(&self, t: LogTimer) -> Timer {
        match self {
            Log::Raft(_) => Timer::Raft(t),
            Log::MultiPaxos(_) => Timer::MultiPaxos(t),
        }
    }

    pub fn leader(&self, group: &Group) -> Option<NodeId> {
        let r = match self {
            Log::Raft(r) => r.leader(),
            Log::MultiPaxos(r) => r.leader(),
        };
        r.map(|r| group.node(r))
    }

    pub fn table(&self) -> &Kv {
        match self {
            Log::Raft(r) => r.state_machine(),
            Log::MultiPaxos(r) => r.state_machine(),
        }
    }

    /// Every row of the table, read by `decode` (the coordinator's [`TxnState::decode`], a
    /// participant group's `Row::decode`).
    pub fn rows<T: 'static>(&self, decode: fn(i64) -> T) -> impl Iterator<Item = (TxnId, T)> + '_ {
        self.table().values().map(move |(k, v)| (TxnId(u64::from(k)), decode(v)))
    }

    /// The table's row for `txn`, read by `decode`.
    pub fn row<T>(&self, txn: TxnId, decode: fn(i64) -> T) -> Option<T> {
        self.table().get(txn.0 as u32).map(decode)
    }

    /// The coordinator's table's row for `txn`.
    pub fn state(&self, txn: TxnId) -> Option<TxnState> {
        self.row(txn, TxnState::decode)
    }
}

/// What every group member's host keeps for its log, the same for a coordinator's and a
/// participant's: [`Host`]'s shared handlers read and move it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Member {
    pub log: Log,
    /// Whether the replica's timers run at the idle pace.
    pub pace: Pace,
    /// Booted fresh, not recovered (a fresh group's first member stands for election at once).
    pub fresh: bool,
    /// Whether its replica leads, as the host's last [`Host::after_log`] saw it.
    pub leading: bool,
    /// 2PC messages (with their origin) that came while no ready leader was known.
    pub held: Vec<(NodeId, two_pc::Msg)>,
}

impl Member {
    /// Replica `replica` of a group whose logs `group` configures, as its disk leaves it.
    pub fn new(
        config: &super::Config,
        group: &super::LogConfig,
        replica: NodeId,
        boot: &Boot<'_, Record>,
    ) -> Member {
        Member {
            log: Log::new(config, group, replica, boot.disk()),
            pace: group.pace(config.log, boot.is_recovery()),
            fresh: !boot.is_recovery(),
            leading: false,
            held: Vec::new(),
        }
    }

    /// Runs one of its replica's handlers as the host asks (the host set `pace.busy`):
    /// - `Start` boots it; a fresh group's first member stands for election at once instead
    ///   of after an election timeout (the group's first leader, so that a fault-free run has
    ///   a known leader from its start);
    /// - `Message` is one of the log's own protocol from member `from`;
    /// - `Timer` is one of the log's timers;
    /// - `Submit` submits `op` as the host (answered by a [`LogEvent`] when applied or
    ///   refused).
    pub fn call(&mut self, ctx: &mut Ctx, group: &Group, call: Call<Msg, Timer>) -> Vec<LogEvent> {
        let (log, pace) = (&mut self.log, &mut self.pace);
        match call {
            Call::Start => {
                let elect_now = self.fresh && ctx.id() == group.members[0];
                let mut events = on_replica!(&mut *log, ctx, group, pace, |q| Call::Start);
                if elect_now {
                    let stand =
                        on_replica!(log, ctx, group, pace, |q| Call::Timer(q::Timer::Election));
                    events.extend(stand);
                }
                events
            }
            Call::Message(from, msg) => {
                // A new entry (a transaction begun or decided, a new leader's no-op) is work:
                // the member keeps its normal pace until the table shows the entry's outcome.
                pace.busy |= carries_entry(&msg);
                match (log, msg) {
                    (Log::Raft(r), Msg::Raft(m)) => {
                        drive(ctx, group, pace, r, Call::Message(from, m), RAFT)
                    }
                    (Log::MultiPaxos(r), Msg::MultiPaxos(m)) => {
                        drive(ctx, group, pace, r, Call::Message(from, m), MULTI_PAXOS)
                    }
                    (_, m) => unreachable!("{}: another log's message {m:?}", ctx.id()),
                }
            }
            Call::Timer(timer) => {
                let t = match timer {
                    Timer::Raft(t) | Timer::MultiPaxos(t) => t,
                    t => unreachable!("{}: not a log's timer {t:?}", ctx.id()),
                };
                assert_eq!(log.timer(t), timer, "{}: another log's timer", ctx.id());
                if t == LogTimer::Election {
                    pace.patient = false; // it stands: at the normal pace from now on
                }
                on_replica!(log, ctx, group, pace, |q| Call::Timer(t))
            }
            Call::Submit(op) => on_replica!(log, ctx, group, pace, |q| Call::Submit(op)),
        }
    }
}

/// A node hosting a group member (a coordinator's or a participant's): its log's own
/// messages go to the log, 2PC messages (direct, from the client, or forwarded by a follower
/// with their origin) to the host's 2PC side if it plays it, to the leader it knows
/// otherwise. A host says what is its own (its member's part, whether it is busy or plays
/// 2PC, how it handles a 2PC message and what it does after its log spoke); how it calls
/// into its log, forwards, holds and releases is the same for every host.
pub trait Host {
    /// Its member's part, and its group.
    fn member(&mut self) -> (&mut Member, &Group);
    /// Whether it runs or holds something (see [`Pace`]).
    fn busy(&self) -> bool;
    /// Whether it handles 2PC messages itself: it leads, ready to play its 2PC side.
    fn plays_2pc(&self) -> bool;
    /// A 2PC message `origin` sent, for its 2PC side (only while [`Self::plays_2pc`]).
    fn handle(&mut self, ctx: &mut Ctx, origin: NodeId, msg: two_pc::Msg);
    /// After any handler of its log: act on `events` and on a change of leader, then
    /// [`Self::release_held`].
    fn after_log(&mut self, ctx: &mut Ctx, events: Vec<LogEvent>);

    /// Calls into the log (see [`Member::call`]), telling it whether this member is busy
    /// (see [`Pace`]), and acts on what it answers.
    fn with_log(&mut self, ctx: &mut Ctx, call: Call<Msg, Timer>) {
        let busy = self.busy();
        let (m, group) = self.member();
        m.pace.busy = busy;
        let events = m.call(ctx, group, call);
        self.after_log(ctx, events);
    }

    /// Boots the log.
    fn start_log(&mut self, ctx: &mut Ctx) {
        self.with_log(ctx, Call::Start);
    }

    /// One of the log's timers.
    fn on_log_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        self.with_log(ctx, Call::Timer(timer));
    }

    /// Submits `op` to the log as the host.
    fn submit(&mut self, ctx: &mut Ctx, op: Op) {
        self.with_log(ctx, Call::Submit(op));
    }

    /// A message of the log's own protocol from member `from`.
    fn on_log_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        self.with_log(ctx, Call::Message(from, msg));
    }

    /// A 2PC message `origin` sent: work (it wakes the log), handled here if this member
    /// plays 2PC, forwarded or held otherwise.
    fn on_2pc(&mut self, ctx: &mut Ctx, origin: NodeId, msg: two_pc::Msg) {
        let (m, _) = self.member();
        m.log.wake(ctx, &mut m.pace, m.leading);
        if self.plays_2pc() {
            return self.handle(ctx, origin, msg);
        }
        let (m, group) = self.member();
        let leader = m.log.leader(group);
        forward_or_hold(ctx, leader, &mut m.held, origin, msg);
    }

    /// Held messages go on as soon as this member plays 2PC, or knows who does.
    fn release_held(&mut self, ctx: &mut Ctx) {
        let plays = self.plays_2pc();
        let (m, group) = self.member();
        let ready = plays || m.log.leader(group).is_some_and(|l| l != ctx.id());
        if m.held.is_empty() || !ready {
            return;
        }
        for (origin, msg) in std::mem::take(&mut m.held) {
            self.on_2pc(ctx, origin, msg);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Raft(_) | Msg::MultiPaxos(_) => self.on_log_message(ctx, from, msg),
            Msg::Client(m) => self.on_2pc(ctx, from, two_pc::Msg::Client(m)),
            Msg::TwoPc(m) => self.on_2pc(ctx, from, m),
            Msg::Forward { origin, msg } => self.on_2pc(ctx, origin, msg),
        }
    }
}

/// 2PC messages a member holds while it knows no leader (or is one not ready yet), at most:
/// their senders retry what is dropped past it.
pub const HELD_MAX: usize = 64;

/// A 2PC message for a member that does not handle it: forwarded to `leader` if another
/// member leads, held otherwise (up to [`HELD_MAX`]; its sender retries what is dropped).
pub fn forward_or_hold(
    ctx: &mut Ctx,
    leader: Option<NodeId>,
    held: &mut Vec<(NodeId, two_pc::Msg)>,
    origin: NodeId,
    msg: two_pc::Msg,
) {
    match leader {
        Some(leader) if leader != ctx.id() => ctx.send(leader, Msg::Forward { origin, msg }),
        _ if held.len() < HELD_MAX => held.push((origin, msg)),
        _ => {}
    }
}

/// Whether a member with replica `r` is idle: its host busy with nothing, a leader known
/// (or patient), and no transaction of the table begun and undecided.
fn idle<Q: LogProtocol>(r: &impl LogReplica<Q>, pace: &Pace) -> bool {
    !pace.busy
        && (r.leader().is_some() || pace.patient)
        && r.state_machine()
            .values()
            .all(|(_, v)| !matches!(TxnState::decode(v), TxnState::Begun { .. }))
}

/// Whether `msg` proposes log entries not yet committed (a follower that gets one keeps its
/// normal pace, and a leader that sends one must heartbeat at its normal pace: see
/// [`drive`]). Committed entries re-sent to a member that lags (or is down) are not work.
fn carries_entry(msg: &Msg) -> bool {
    match msg {
        Msg::Raft(raft::Msg::AppendEntries { prev_index, entries, commit, .. }) => {
            prev_index + entries.len() as u64 > *commit
        }
        Msg::MultiPaxos(multi_paxos::Msg::Accept { .. }) => true,
        _ => false,
    }
}

/// A log's wrappers into the host's vocabulary.
pub struct Wrap<Q: sim_core::Protocol> {
    msg: fn(Q::Msg) -> Msg,
    timer: fn(Q::Timer) -> Timer,
    record: fn(Q::Record) -> Record,
}

/// Raft's wrappers.
const RAFT: Wrap<raft::Raft> = Wrap { msg: Msg::Raft, timer: Timer::Raft, record: Record::Raft };
/// Multi-Paxos's wrappers.
const MULTI_PAXOS: Wrap<multi_paxos::MultiPaxos> =
    Wrap { msg: Msg::MultiPaxos, timer: Timer::MultiPaxos, record: Record::MultiPaxos };

/// Runs one handler of replica `r` and pushes its effects as the host's: the replica's own
/// traffic to the other members (renumbered), its timers (stretched while idle, see
/// [`Pace`]) and records wrapped; answers to the host's operations come back as
/// [`LogEvent`]s. The replicas' observations (leaders, applied entries) are the consensus
/// checkers' vocabulary, not a commit's: they are not reported.
pub fn drive<Q: LogProtocol, R: Process<Q> + LogReplica<Q>>(
    ctx: &mut Ctx,
    group: &Group,
    pace: &mut Pace,
    r: &mut R,
    call: Call<Q::Msg, Q::Timer>,
    wrap: Wrap<Q>,
) -> Vec<LogEvent> {
    let Wrap { msg, timer, record } = wrap;
    let me = group.replica(ctx.id());
    let effects = embed::<Replicated2pc, Q>(ctx, me, |c| match call {
        Call::Start => r.on_start(c),
        Call::Message(from, m) => r.on_message(c, group.replica(from), m),
        Call::Timer(t) => r.on_timer(c, t),
        Call::Submit(op) => r.on_message(c, me, Q::wrap_msg(KvMsg::Request { op })),
    });
    let quiet = idle(r, pace);
    let mut sent_entry = false;
    let mut events = Vec::new();
    for e in effects {
        match e {
            Effect::SetTimer { after, timer: t } => {
                let t = timer(t);
                let slow = match t {
                    Timer::Raft(LogTimer::Heartbeat) | Timer::MultiPaxos(LogTimer::Heartbeat) => {
                        &mut pace.heartbeat_slow
                    }
                    Timer::Raft(LogTimer::Election) | Timer::MultiPaxos(LogTimer::Election) => {
                        &mut pace.election_slow
                    }
                    _ => {
                        ctx.set_timer(after, t);
                        continue;
                    }
                };
                *slow = quiet;
                let after = if quiet {
                    Duration::from_us(after.as_us() * u64::from(IDLE_SLOWDOWN))
                } else {
                    after
                };
                ctx.set_timer(after, t);
            }
            Effect::CancelTimer { timer: t } => {
                let t = timer(t);
                if matches!(
                    t,
                    Timer::Raft(LogTimer::Heartbeat) | Timer::MultiPaxos(LogTimer::Heartbeat)
                ) {
                    pace.heartbeat_slow = false;
                }
                ctx.cancel_timer(t);
            }
            Effect::Send { to, msg: m } if to == me => match Q::unwrap_msg(m) {
                Ok(KvMsg::Reply { op, .. }) => events.push(LogEvent::Applied(op)),
                Ok(KvMsg::Redirect { op, .. }) => events.push(LogEvent::Refused(op)),
                Ok(KvMsg::Request { .. }) | Err(_) => {
                    unreachable!("a replica sent itself a message")
                }
            },
            Effect::Send { to, msg: m } => {
                let m = msg(m);
                sent_entry |= carries_entry(&m);
                ctx.send(group.node(to), m)
            }
            other => push_local(ctx, other, timer, record, false),
        }
    }
    // A follower that gets the entries just sent runs its election timer at the normal pace
    // from then on: the leader must not be quiet until its next heartbeat tells it the
    // entries' outcome, or that timer would fire first and depose it.
    if sent_entry && pace.heartbeat_slow {
        let every = Duration::from_us(pace.heartbeat_us);
        ctx.set_timer(every, timer(LogTimer::Heartbeat));
        pace.heartbeat_slow = false;
    }
    // A follower that has just become idle (the last decision applied, say, by a message
    // that does not re-arm its election timer) slows its timer down now: the idle leader's
    // next heartbeat may be an idle period away.
    if quiet && !pace.election_slow && r.leader() != Some(me) {
        let after = pace.election(ctx, true);
        ctx.set_timer(after, timer(LogTimer::Election));
        pace.election_slow = true;
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_as_written() {
        for state in [
            TxnState::Begun { mask: 0b101 },
            TxnState::Decided { outcome: Outcome::Commit, mask: 0b111 },
            TxnState::Decided { outcome: Outcome::Abort, mask: 0 },
            TxnState::Begun { mask: (1 << 60) - 1 },
        ] {
            assert_eq!(TxnState::decode(state.encode()), state);
        }
    }

    #[test]
    fn transitions_are_named_by_their_content() {
        let t = TxnId(7);
        let begun = TxnState::Begun { mask: 0b11 };
        let commit = TxnState::Decided { outcome: Outcome::Commit, mask: 0b11 };
        let abort = TxnState::Decided { outcome: Outcome::Abort, mask: 0b11 };
        let ops = [
            transition(t, None, begun),
            transition(t, Some(begun), commit),
            transition(t, Some(begun), abort),
            transition(t, None, TxnState::Decided { outcome: Outcome::Abort, mask: 0 }),
        ];
        let mut ids: Vec<OpId> = ops.iter().map(|o| o.id).collect();
        assert!(ids.iter().all(|&id| txn_of(id) == t && id != 0));
        ids.dedup();
        assert_eq!(ids.len(), 4, "distinct transitions, distinct ids");
        // The same transition proposed twice (by two leaders) is one operation.
        assert_eq!(transition(t, Some(begun), commit), ops[1]);
        // First decision wins: commit after abort fails, and the row stays aborted.
        let mut kv = Kv::default();
        kv.apply(&ops[0]);
        kv.apply(&ops[2]);
        kv.apply(&ops[1]);
        assert_eq!(kv.get(7).map(TxnState::decode), Some(abort));
    }
}
