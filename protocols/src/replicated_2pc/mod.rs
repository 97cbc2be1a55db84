//! Two-phase commit over consensus: the coordinator is a group of 2F + 1 replicas running a
//! replicated log (Raft or Multi-Paxos), as Spanner and CockroachDB do, so a crashed
//! coordinator leader is replaced, not waited for. Gray & Lamport (*Consensus on Transaction
//! Commit*, §6) compare exactly this design with Paxos Commit.
//!
//! Parts, all reused unchanged:
//! - the log is the Raft or Multi-Paxos replica of `crate::raft` / `crate::multi_paxos`; its
//!   key-value state machine is the transaction manager's table, one register per
//!   transaction, moved only by compare-and-set (`log`: begun, then decided, first decision
//!   wins);
//! - the participants are `crate::two_pc`'s participant (prepared records, votes,
//!   cooperative termination), whose messages to "the coordinator" go to the group's leader
//!   (`participant`);
//! - the client is the commit client, whose retries go round the group's members from the
//!   last one that answered.
//!
//! The transaction manager (`tm`) runs on every member and acts only while its replica leads:
//! it logs the transaction as begun (not waited for), sends Prepare, collects the votes, and
//! logs the decision — commit after every yes, abort after a no or a timeout — and only once
//! the decision entry is committed and applied does it tell anyone (participants, client).
//! Followers forward the 2PC messages they get to the leader they know. A new leader finishes
//! every transaction its table holds: a decided one is announced again, a begun one aborted
//! through the log (its votes died with the old leader; the compare-and-set fails if the old
//! leader's commit made it into the log first, and then the commit is what is announced).
//! A participant asking about a transaction the table does not know gets it aborted the same
//! way. What participants are told is always what the log applied, so atomicity does not
//! depend on who leads; with F + 1 members down no entry commits and prepared participants
//! block, exactly as in 2PC.
//!
//! Normal-case cost over 2PC: two message delays (the decision entry's replication round)
//! and, per logged entry, 2F replication messages, 2F acknowledgements and 2F + 1 forced
//! writes. Between transactions the group is quiet: an idle member's heartbeat and election
//! timers run 20 times longer, and any work wakes it (`log`, [`log::IDLE_SLOWDOWN`]). Participants do not acknowledge decisions: the log keeps every outcome (no log
//! compaction), so the manager has nothing to end.
//!
//! Replicated participants (setting `participant_replicas` = R, odd, default 1): each
//! participant is then a group of R members running the same replicated log, whose table holds
//! the participant's transaction state (prepared with its write and vote, then the decision);
//! the 2PC participant runs on the group's leader only, every durable step of it an entry of
//! the log, and every member applies the committed rows (`participant_group`). 2PC messages go
//! between group leaders (`route`). With R = 1 a participant is one node, as above.
//!
//! Not implemented: log compaction.

mod embed;
mod log;
mod participant;
mod participant_group;
mod route;
mod tm;

use serde::{Deserialize, Serialize};
use sim_core::{Boot, Context, Duration, NodeId, Process, Protocol};

use crate::client::{Client, ClientMsg, ClientTimer};
use crate::consensus::wiring::Timeouts;
use crate::family::{Family, RoleSpec, SettingSpec, SettingsView, VariantSpec};
use crate::roles::commit_roles;
use crate::scenario::{CommitProtocol, NodeView, RunOutcome, Scenario, ScenarioError};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::two_pc::{Presumption, Shape, TwoPcConfig};
use crate::txn::{Key, Layout, Observation, TxnId};
use crate::{multi_paxos, raft, two_pc};

pub use log::{Group, Host, TxnState};
pub use participant::Participant;
pub use participant_group::GroupParticipant;
pub use route::{Parties, Routes};
pub use tm::CoordinatorReplica;

/// The vocabulary: 2PC's messages, and the log's.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Replicated2pc;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = Context<'a, Replicated2pc>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    /// Between participants and the group's leader, and among participants.
    TwoPc(two_pc::Msg),
    /// A follower passes a 2PC message on to the leader it knows; `origin` sent it.
    Forward {
        origin: NodeId,
        msg: two_pc::Msg,
    },
    Raft(raft::Msg),
    MultiPaxos(multi_paxos::Msg),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Client(ClientTimer),
    /// The client's start (see [`Config::client_start_us`]).
    ClientStart,
    /// A participant's (2PC's own timers).
    TwoPc(two_pc::Timer),
    /// Leader: the votes on this transaction are late; abort it.
    Votes(TxnId),
    Raft(raft::Timer),
    MultiPaxos(multi_paxos::Timer),
}

/// What a node forces to disk: a member its log's records, a participant 2PC's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "log", rename_all = "snake_case")]
pub enum Record {
    Raft(raft::Record),
    MultiPaxos(multi_paxos::Record),
    Participant(two_pc::Record),
}

impl Protocol for Replicated2pc {
    type Msg = Msg;
    type Timer = Timer;
    type Record = Record;
    type Obs = Observation;

    fn label_msg(msg: &Msg) -> String {
        match msg {
            Msg::Raft(m) => raft::Raft::label_msg(m),
            Msg::MultiPaxos(m) => multi_paxos::MultiPaxos::label_msg(m),
            Msg::Forward { msg, .. } => format!("FWD {}", sim_core::export::short_label(msg)),
            other => sim_core::export::short_label(other),
        }
    }
}

crate::client_wire!(Replicated2pc, Msg, Timer);

/// Log entries are not durable decisions of their replica (an uncommitted Raft entry may be
/// truncated): only the participants' records count, as 2PC's.
impl crate::durable::TxnRecord for Record {
    fn prepared(&self) -> Option<(TxnId, &[crate::txn::Write])> {
        match self {
            Record::Participant(r) => r.prepared(),
            _ => None,
        }
    }
    fn decision(&self) -> Option<(TxnId, crate::txn::Outcome)> {
        match self {
            Record::Participant(r) => r.decision(),
            _ => None,
        }
    }
}

/// Which replicated log the coordinator group runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    Raft,
    MultiPaxos,
}

/// One group's replica configurations (the variant runs one of them).
#[derive(Clone, Debug)]
pub struct LogConfig {
    pub raft: Shared<raft::RaftConfig>,
    pub multi_paxos: Shared<multi_paxos::MultiPaxosConfig>,
}

impl LogConfig {
    /// A group of `replicas` with the logs' default election timing `t`.
    fn new(replicas: u32, t: &Timeouts, retry: crate::backoff::Backoff) -> LogConfig {
        let client = crate::consensus::client::KvClientConfig {
            replicas,
            ops: 0,
            max_in_flight: 1,
            keys: 1,
            retry,
        };
        LogConfig {
            raft: Shared::new(raft::RaftConfig::new(replicas, t, client.clone(), None)),
            multi_paxos: Shared::new(multi_paxos::MultiPaxosConfig::new(replicas, t, client, None)),
        }
    }

    /// A member's pace at boot: its log's heartbeat period and election timeout range.
    pub fn pace(&self, log: LogKind, recovered: bool) -> log::Pace {
        let (heartbeat_us, election_us) = match log {
            LogKind::Raft => {
                let c = &self.raft;
                (c.heartbeat_us, (c.election_min_us, c.election_max_us))
            }
            LogKind::MultiPaxos => {
                let c = &self.multi_paxos;
                (c.heartbeat_us, (c.election_min_us, c.election_max_us))
            }
        };
        log::Pace::at_boot(recovered, heartbeat_us, election_us)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub layout: Layout,
    /// Members tolerated down: the group has 2F + 1.
    pub f: u32,
    pub log: LogKind,
    pub group: Group,
    /// The participant groups (none with `participant_replicas` = 1).
    pub parties: Parties,
    /// The participants' (and the message flow's) 2PC configuration.
    pub two_pc: Shared<TwoPcConfig>,
    /// The coordinator group's replicas.
    pub coordinator_log: LogConfig,
    /// A participant group's replicas (R of them).
    pub participant_log: LogConfig,
    /// The client starts this long after the run (the group's first election, which replica 0
    /// starts at once, is over by then in a fault-free run): a transaction never waits for
    /// the group to boot, so its latency and cost are the commit's alone.
    pub client_start_us: u64,
    pub timing: Timing,
}

impl Config {
    pub fn shape(&self) -> Shape {
        self.two_pc.shape
    }

    /// How long the leader waits for the votes after Prepare: a round trip and slack, and
    /// with participant groups the replication round (2d) each vote waits for, its prepared
    /// entry committed in its group.
    pub fn votes_timeout_us(&self) -> u64 {
        let replication_us =
            if self.parties.groups().is_empty() { 0 } else { 2 * self.timing.latency_bound_us };
        self.timing.round_timeout_us + replication_us
    }

    /// The replicated group `node` is a member of: the coordinator group or a participant's.
    pub fn group_of(&self, node: NodeId) -> Option<&Group> {
        if self.group.contains(node) { Some(&self.group) } else { self.parties.group_of(node) }
    }
}

/// The client, whose request goes round the members starting from the last one that
/// answered: attempt `k` to member `(leader + k) mod (2F+1)`. Remembering the leader spares
/// every transaction after a leader change the retry the first one paid (the member that
/// answers is the one that leads, replies come only from a leader's announcement). The same
/// holds for a participant group the client addresses (Gray & Lamport's shape: the initiating
/// RM's).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GroupClient {
    config: Shared<Config>,
    client: Client,
    fresh: bool,
    /// Per group (by its first member), the index of the member that answered last (absent:
    /// 0, the group's first leader).
    leaders: std::collections::BTreeMap<NodeId, usize>,
}

impl GroupClient {
    fn on_start(&mut self, ctx: &mut Ctx) {
        if self.fresh {
            ctx.set_timer(Duration::from_us(self.config.client_start_us), Timer::ClientStart);
        }
    }

    /// Runs one of the client's handlers, routing its requests to the members.
    fn run(&mut self, ctx: &mut Ctx, handler: impl FnOnce(&mut Client, &mut Ctx)) {
        let me = ctx.id();
        let effects = embed::embed(ctx, me, |c| handler(&mut self.client, c));
        for e in effects {
            match e {
                sim_core::Effect::Send {
                    to,
                    msg: Msg::Client(ClientMsg::Request { txn, attempt }),
                } if self.config.group_of(to).is_some() => {
                    let members = &self.config.group_of(to).expect("a group").members;
                    let leader = self.leaders.get(&members[0]).copied().unwrap_or(0);
                    let member = members[(leader + attempt as usize) % members.len()];
                    ctx.send(member, Msg::Client(ClientMsg::Request { txn, attempt }));
                }
                sim_core::Effect::Send { to, msg } => ctx.send(to, msg),
                other => embed::push_local(ctx, other, |t| t, |r| r, true),
            }
        }
    }
}

/// One node: a coordinator-group member, a participant (one node, R = 1), a member of a
/// participant group (R > 1), or the client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Member(CoordinatorReplica),
    Participant(Participant),
    PartyMember(Box<GroupParticipant>),
    Client(GroupClient),
}

impl Process<Replicated2pc> for Node {
    fn on_start(&mut self, ctx: &mut Ctx) {
        match self {
            Node::Member(m) => m.on_start(ctx),
            Node::Participant(p) => p.on_start(ctx),
            Node::PartyMember(p) => p.on_start(ctx),
            Node::Client(c) => c.on_start(ctx),
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match (self, msg) {
            (Node::Member(m), msg) => m.on_message(ctx, from, msg),
            (Node::Participant(p), msg) => p.on_message(ctx, from, msg),
            (Node::PartyMember(p), msg) => p.on_message(ctx, from, msg),
            (Node::Client(c), Msg::Client(m)) => {
                if let Some(g) = c.config.group_of(from) {
                    let i = g.members.iter().position(|&m| m == from).expect("a member");
                    c.leaders.insert(g.members[0], i);
                }
                c.run(ctx, |cl, cx| cl.on_message(cx, m))
            }
            (Node::Client(_), msg) => panic!("the client got {msg:?}: a protocol bug"),
        }
    }
    fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match (self, timer) {
            (Node::Member(m), t) => m.on_timer(ctx, t),
            (Node::Participant(p), t) => p.on_timer(ctx, t),
            (Node::PartyMember(p), t) => p.on_timer(ctx, t),
            (Node::Client(c), Timer::ClientStart) => c.run(ctx, |cl, cx| cl.on_start(cx)),
            (Node::Client(c), Timer::Client(t)) => c.run(ctx, |cl, cx| cl.on_timer(cx, t)),
            (Node::Client(_), t) => panic!("the client got timer {t:?}: a protocol bug"),
        }
    }
}

impl NodeView for Node {
    fn in_doubt(&self) -> Vec<TxnId> {
        match self {
            Node::Participant(p) => p.inner().in_doubt(),
            Node::PartyMember(p) => p.in_doubt(),
            _ => Vec::new(),
        }
    }
    fn locks(&self) -> std::collections::BTreeMap<Key, TxnId> {
        match self {
            Node::Participant(p) => p.inner().locks().clone(),
            Node::PartyMember(p) => p.locks().clone(),
            _ => std::collections::BTreeMap::new(),
        }
    }
}

impl CommitProtocol for Replicated2pc {
    type Node = Node;
    type Config = Config;
    fn build(config: &Shared<Config>, id: NodeId, boot: Boot<'_, Record>) -> Node {
        let layout = &config.layout;
        if config.group.contains(id) {
            return Node::Member(CoordinatorReplica::new(config, id, boot));
        }
        if config.parties.group_of(id).is_some() {
            return Node::PartyMember(Box::new(GroupParticipant::new(config, id, boot)));
        }
        if layout.is_participant(id) {
            return Node::Participant(Participant::new(config, id, boot));
        }
        debug_assert_eq!(id, layout.client(), "the layout has no node {id}");
        let fresh = !boot.is_recovery();
        let client = Client::new(*layout, config.two_pc.client.clone(), !fresh);
        let leaders = std::collections::BTreeMap::new();
        Node::Client(GroupClient { config: config.clone(), client, fresh, leaders })
    }
}

// ----- the family ----------------------------------------------------------------------------

const VARIANTS: &[(VariantSpec, LogKind)] = &[
    (
        VariantSpec::new(
            "2pc-raft",
            true,
            "two-phase commit, the coordinator a Raft group of 2F+1 (its log holds begun and decisions)",
        ),
        LogKind::Raft,
    ),
    (
        VariantSpec::new(
            "2pc-multipaxos",
            true,
            "two-phase commit, the coordinator a Multi-Paxos group of 2F+1",
        ),
        LogKind::MultiPaxos,
    ),
];

/// Member roles: node 0 is `coordinator` (the group's first leader), the other 2F members
/// `coordinator-replica`; both run the manager, so both may emit its marks (the others only
/// after a takeover), and the replica's own marks inside the replication (Raft's or
/// Multi-Paxos's) are failure-path points of both. With `participant_replicas` R > 1, the
/// other R − 1 members of each participant's group are `participant-replica`s: they emit the
/// 2PC participant's marks only once they lead it (failure paths, as their log's marks).
const ROLES: &[RoleSpec] = &[
    RoleSpec {
        name: "coordinator",
        label: "coord",
        crash_points: tm::Point::NAMES,
        failure_points: &LOG_POINTS,
    },
    RoleSpec {
        name: "participant",
        label: "p",
        crash_points: two_pc::PARTICIPANT_POINTS,
        failure_points: &[],
    },
    RoleSpec { name: "client", label: "client", crash_points: &[], failure_points: &[] },
    RoleSpec {
        name: "coordinator-replica",
        label: "cr",
        crash_points: &[],
        failure_points: &MEMBER_POINTS,
    },
    RoleSpec {
        name: "participant-replica",
        label: "pr",
        crash_points: &[],
        failure_points: &PARTICIPANT_MEMBER_POINTS,
    },
];

const PARTICIPANT_MEMBER_POINTS: [&str; two_pc::PARTICIPANT_POINTS.len() + LOG_POINT_COUNT] =
    union(two_pc::PARTICIPANT_POINTS, &LOG_POINTS);

const LOG_POINT_COUNT: usize = union_len(raft::REPLICA_POINTS, multi_paxos::REPLICA_POINTS);
/// Raft's and Multi-Paxos's replica marks, each once.
const LOG_POINTS: [&str; LOG_POINT_COUNT] =
    union(raft::REPLICA_POINTS, multi_paxos::REPLICA_POINTS);
const MEMBER_POINTS: [&str; tm::Point::NAMES.len() + LOG_POINT_COUNT] =
    union(tm::Point::NAMES, &LOG_POINTS);

const fn contains(list: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if list[i].len() == name.len() && {
            let (a, b) = (list[i].as_bytes(), name.as_bytes());
            let mut k = 0;
            while k < a.len() && a[k] == b[k] {
                k += 1;
            }
            k == a.len()
        } {
            return true;
        }
        i += 1;
    }
    false
}

/// How many names `a` and `b` hold together, each counted once.
const fn union_len(a: &[&str], b: &[&str]) -> usize {
    let mut n = a.len();
    let mut j = 0;
    while j < b.len() {
        if !contains(a, b[j]) {
            n += 1;
        }
        j += 1;
    }
    n
}

/// `a`, then the names of `b` not in `a`.
const fn union<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut n = 0;
    while n < a.len() {
        out[n] = a[n];
        n += 1;
    }
    let mut j = 0;
    while j < b.len() {
        if !contains(a, b[j]) {
            out[n] = b[j];
            n += 1;
        }
        j += 1;
    }
    assert!(n == N, "the union's length");
    out
}

const SETTINGS: &[SettingSpec] = &[
    SettingSpec::int(
        "f",
        0..=8,
        1,
        "coordinator members tolerated down: the coordinator is a group of 2F+1",
    ),
    SettingSpec::flag(
        "colocated",
        "member 0 shares participant 1's host, member j participant j+1's (Gray & Lamport's co-located case)",
    ),
    SettingSpec::flag(
        "gray_lamport_shape",
        "Gray & Lamport's message flow: the initiating RM prepares first and tells the leader",
    ),
    SettingSpec::int(
        "participant_replicas",
        1..=MAX_PARTICIPANT_REPLICAS,
        1,
        "members of each participant's group (odd; 1: a participant is one node)",
    ),
];

/// At most this many members per participant group (a bound on the cluster's size).
const MAX_PARTICIPANT_REPLICAS: i64 = 7;

/// Two-phase commit over a replicated coordinator.
pub const FAMILY: Family = Family {
    name: "two-phase commit over consensus",
    variants: || VARIANTS.iter().map(|v| v.0).collect(),
    roles: ROLES,
    settings: SETTINGS,
    properties: crate::family::COMMIT_PROPERTIES,
    layout: roles,
    run,
    explore: None,
};

fn layout_of(scenario: &Scenario) -> Layout {
    let settings = SettingsView::new(SETTINGS, &scenario.family);
    let f = settings.int("f") as u32;
    let r = participant_replicas(&settings);
    Layout {
        participants: scenario.participants,
        extra: 2 * f + scenario.participants * (r - 1),
        colocated: settings.flag("colocated"),
    }
}

fn participant_replicas(settings: &SettingsView<'_>) -> u32 {
    settings.int("participant_replicas") as u32
}

/// The coordinator group (node 0, then the first 2F extra nodes) and the participant groups
/// (each participant, then R − 1 of the extra nodes after those).
fn groups_of(scenario: &Scenario) -> (Group, Parties) {
    let settings = SettingsView::new(SETTINGS, &scenario.family);
    let layout = layout_of(scenario);
    let f = settings.int("f") as u32;
    let mut extra = layout.extra_ids();
    let members = std::iter::once(layout.coordinator()).chain(extra.by_ref().take(2 * f as usize));
    let group = Group { members: members.collect() };
    let parties = Parties::new(layout.participants, participant_replicas(&settings), &mut extra);
    (group, parties)
}

/// The commit layout, members after the client; co-located (Gray & Lamport's case), member 0
/// shares the initiating RM's host (participant 1's) and member `j` participant `j + 1`'s
/// while there are participants left, its own host after that: no two members share a host
/// (they would fail together, which F-tolerance forbids).
/// Participant replicas (R > 1) come after the members, each on its own host.
fn roles(scenario: &Scenario) -> crate::family::Roles {
    let layout = layout_of(scenario);
    let (group, parties) = groups_of(scenario);
    let mut roles = commit_roles(&layout, ROLES, "coordinator-replica");
    if let Some(hosts) = roles.hosts.as_mut() {
        for (j, &id) in group.members[1..].iter().enumerate() {
            let rm = j as u32 + 2; // member j + 1 on participant j + 2's host
            hosts[id.index()] = if rm <= layout.participants { rm } else { id.0 };
        }
        for g in parties.groups() {
            for &id in &g.members[1..] {
                hosts[id.index()] = id.0;
            }
        }
    }
    for g in parties.groups() {
        for &id in &g.members[1..] {
            roles.names[id.index()] = "participant-replica".into();
            roles.labels[id.index()] = format!("pr{}", id.0);
        }
    }
    roles.groups =
        std::iter::once(&group).chain(parties.groups()).map(|g| g.members.clone()).collect();
    roles
}

fn run(variant: &str, scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    let log = VARIANTS.iter().find(|v| v.0.name == variant).expect("a 2pc-replicated variant").1;
    let settings = SettingsView::new(SETTINGS, &scenario.family);
    let layout = layout_of(scenario);
    let f = settings.int("f") as u32;
    let r = participant_replicas(&settings);
    if r.is_multiple_of(2) {
        return Err(ScenarioError::Invalid {
            field: "family.participant_replicas".into(),
            reason: format!(
                "{r} is even: a participant group is a majority-quorum log of 2F+1 members \
                 (did you mean {} or {}?)",
                r - 1,
                r + 1
            ),
        });
    }
    if r > 1 {
        participant_group::Row::fits(scenario)?;
    }
    let timing = Timing::for_network(&scenario.network);
    let mut client = scenario.client_config(&timing);
    let shape = if settings.flag("gray_lamport_shape") {
        client.entry = crate::client::Entry::FirstParticipant;
        Shape::GrayLamport
    } else {
        Shape::Classic
    };
    // The groups' election timing is the replicated logs' default (their own timeout settings
    // are not this family's).
    let t = Timeouts::of(&timing, &crate::settings::Settings::default())?;
    let (group, parties) = groups_of(scenario);
    let config = Config {
        layout,
        f,
        log,
        group,
        parties,
        two_pc: Shared::new(TwoPcConfig {
            layout,
            presumption: Presumption::Nothing,
            cooperative_termination: true,
            broken: None,
            shape,
            execution_phase: false,
            timing,
            votes: scenario.votes.clone(),
            client,
        }),
        coordinator_log: LogConfig::new(2 * f + 1, &t, timing.resend),
        participant_log: LogConfig::new(r, &t, timing.resend),
        client_start_us: t.election_min_us,
        timing,
    };
    let roles = (FAMILY.layout)(scenario);
    crate::scenario::run_with::<Replicated2pc>(scenario, roles, timing, config)
}
