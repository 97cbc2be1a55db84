//! Running a commit scenario by protocol name and reading the result in the shared
//! vocabulary, whatever the protocol.
//!
//! Each protocol has its own [`sim_core::Protocol`] type, so a run is generic; the report is
//! not. The seam is two traits: [`CommitProtocol`] (how to build a protocol's nodes from one
//! config, and that its records implement [`TxnRecord`]) and [`NodeView`] (what a live node
//! shows: its doubts and its locks, for the report's [`Snapshot`]s).
//!
//! Everything a checker needs is a fact of the run ([`crate::facts`]): the runner collects
//! the observations and the other facts through a [`Tap`] as the engine records them, at
//! every trace level, into [`RunReport::observations`] and [`RunReport::events`]. Checkers
//! read those, never a node: a node's doubts and locks at an instant follow from its facts
//! (`Uncertain`/`Decided`, `LocksAcquired`/`LocksReleased`, crashes and recoveries). The
//! snapshots' `in_doubt` and `locks` are read from the live nodes through [`NodeView`] for
//! tests and readers of a report; they are an independent account of the same state. The
//! full trace stays behind [`RunOutcome::write_trace_jsonl`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::{
    Boot, Duration, FaultPlan, NetworkConfig, NodeId, Process, RunStats, SimConfig, Simulation,
    Tap, Time, Topology, TraceEvent, TraceKind, TraceLevel,
};

use crate::client::ClientConfig;
use crate::durable::{DiskView, TxnRecord, replay};
pub use crate::error::ScenarioError;
pub use crate::facts::TxnObserved;
use crate::facts::{FactRef, Happened, PlacedFact, RunFact};
use crate::roles::Roles;
use crate::settings::{SettingValue, Settings};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::txn::{Key, Observation, TxnId};
use crate::workload::{VotePolicy, Workload};

/// A protocol the scenario runner can drive: one that reports in the shared vocabulary.
/// (Commit families embed the transaction client, consensus families the key-value client;
/// the runner needs neither.)
pub trait CommitProtocol: sim_core::Protocol<Obs = Observation>
where
    Self::Record: TxnRecord,
{
    type Node: Process<Self> + NodeView + 'static;
    type Config: Clone + 'static;
    /// Builds node `id` (fresh or from its disk); `config` is shared by every node of the run.
    fn build(config: &Shared<Self::Config>, id: NodeId, boot: Boot<'_, Self::Record>)
    -> Self::Node;

    /// The data participant `node`'s disk holds (the report's `applied`). By default the
    /// commit-protocol [`replay`] of prepared and decision records; protocols whose
    /// participants write their data otherwise (a saga's steps are local commits) say so.
    fn applied(workload: &Workload, node: NodeId, records: &[Self::Record]) -> BTreeMap<Key, i64> {
        let r = replay(workload.initial_values(node), workload.allows_negative(), records);
        r.store.values().clone()
    }
}

/// What a live node shows the report's [`Snapshot`]s (participants; other roles show
/// nothing). Checkers never read it: they derive the same state from the run's facts.
pub trait NodeView {
    /// Transactions the node voted yes on and has not decided.
    fn in_doubt(&self) -> Vec<TxnId>;
    /// Locked keys and their holders.
    fn locks(&self) -> BTreeMap<Key, TxnId>;
}

/// Everything that defines a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A name from [`crate::catalog`].
    pub protocol: String,
    pub participants: u32,
    pub txns: u64,
    #[serde(default = "one")]
    pub max_in_flight: u32,
    #[serde(default)]
    pub workload: Workload,
    #[serde(default)]
    pub votes: VotePolicy,
    pub seed: u64,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub plan: FaultPlan,
    /// End of the fault phase (virtual microseconds from the start).
    pub fault_horizon_us: u64,
    /// Length of the liveness phase (everything recovered and healed); none: no such phase.
    #[serde(default)]
    pub liveness_bound_us: Option<u64>,
    #[serde(default)]
    pub trace: TraceLevel,
    /// The event budget of each phase (fault, liveness): a phase that processes this many
    /// events stops there and the run is inconclusive. None: [`sim_core::DEFAULT_MAX_EVENTS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events: Option<u64>,
    /// The protocol family's own configuration section (`[family]` in a scenario file,
    /// `--set KEY=VALUE` on the command line): e.g. Paxos Commit's `f`. Keys and values are
    /// checked against the family's [`crate::family::SettingSpec`]s.
    #[serde(default, skip_serializing_if = "Settings::is_empty")]
    pub family: Settings,
}

fn one() -> u32 {
    1
}

impl From<bool> for SettingValue {
    fn from(b: bool) -> Self {
        SettingValue::Bool(b)
    }
}

/// Integers of every width a caller has at hand become `Int`.
macro_rules! int_setting {
    ($($t:ty),*) => {$(
        impl From<$t> for SettingValue {
            fn from(i: $t) -> Self {
                SettingValue::Int(i64::from(i))
            }
        }
    )*};
}
int_setting!(i32, i64, u32);

impl Scenario {
    /// A fault-free scenario of `txns` spread transactions over `participants`, 10 s horizon,
    /// 10 s liveness phase.
    pub fn new(protocol: &str, participants: u32, txns: u64, seed: u64) -> Scenario {
        Scenario {
            protocol: protocol.to_string(),
            participants,
            txns,
            max_in_flight: 1,
            workload: Workload::default(),
            votes: VotePolicy::default(),
            seed,
            network: NetworkConfig::default(),
            plan: FaultPlan::none(),
            fault_horizon_us: 10_000_000,
            liveness_bound_us: Some(10_000_000),
            trace: TraceLevel::Observations,
            max_events: None,
            family: Settings::new(),
        }
    }

    /// Sets `key` of the family section (builder style, for tests and experiments).
    pub fn with(mut self, key: &str, value: impl Into<SettingValue>) -> Scenario {
        self.family.insert(key.to_string(), value.into());
        self
    }

    /// The most participants a scenario may have, from a file or from any command's flags:
    /// a bound on the cluster every run, search and exploration builds (1000 participants
    /// would start a run that prints nothing for minutes), one number for every entry point.
    pub const MAX_PARTICIPANTS: u32 = 64;

    /// The fields every family shares (the family section is checked by the family).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad =
            |field: &str, reason: String| ScenarioError::Invalid { field: field.into(), reason };
        if !(1..=Self::MAX_PARTICIPANTS).contains(&self.participants) {
            let max = Self::MAX_PARTICIPANTS;
            return Err(bad("participants", format!("must be within 1..={max}")));
        }
        if self.txns == 0 {
            return Err(bad(
                "txns",
                "must be at least 1 (a run with no transaction checks nothing)".into(),
            ));
        }
        if self.max_in_flight == 0 {
            return Err(bad("max_in_flight", "must be at least 1".into()));
        }
        if self.max_events == Some(0) {
            return Err(bad(
                "max_events",
                "must be at least 1 (the event budget of a phase)".into(),
            ));
        }
        self.workload.validate(self.participants).map_err(|r| bad("workload", r))?;
        self.votes.validate().map_err(|r| bad("votes", r))?;
        Ok(())
    }

    /// The client every commit family runs: this scenario's transactions and workload, retries
    /// timed from `timing`.
    pub fn client_config(&self, timing: &Timing) -> ClientConfig {
        // The client waits long enough for a whole transaction, termination included.
        let initial_us = 30 * timing.latency_bound_us;
        let retry = crate::backoff::Backoff::new(initial_us, 8 * initial_us);
        ClientConfig {
            txns: self.txns,
            max_in_flight: self.max_in_flight,
            workload: self.workload,
            retry,
            think_us: 0,
            entry: crate::client::Entry::Coordinator,
        }
    }
}

/// The cluster at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub time: Time,
    /// Per node: whether it is up.
    pub up: Vec<bool>,
    /// Per node: since when it has been down (None while up).
    #[serde(default)]
    pub down_since: Vec<Option<Time>>,
    /// Directed links cut at this instant (partitions, cuts), as (from, to).
    #[serde(default)]
    pub cut_links: Vec<(NodeId, NodeId)>,
    /// Per node: its disk read back in the shared vocabulary.
    pub disks: Vec<DiskView>,
    /// Per node: the applied store rebuilt from its disk (participants only).
    pub applied: Vec<Option<BTreeMap<Key, i64>>>,
    /// Per node: transactions in doubt right now (up nodes only), read from the live node
    /// ([`NodeView`]; checkers derive it from the facts instead).
    pub in_doubt: Vec<Vec<TxnId>>,
    /// Per node: locks held right now (up nodes only), read from the live node.
    pub locks: Vec<BTreeMap<Key, TxnId>>,
    /// Sum of every participant's applied values (the bank total).
    pub applied_total: i64,
}

/// Messages, split by who talked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    /// Every send effect applied (dropped ones included).
    pub total: u64,
    /// Everything the client node sent or was sent (requests and retries, replies to it, and
    /// in saga scenarios the audit reads), counted by the engine at any trace level.
    pub client: u64,
    /// Everything else: coordinator–participant and participant–participant.
    pub protocol: u64,
}

/// A finished run, in the shared vocabulary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub protocol: String,
    /// Which node plays which role (and co-location).
    pub roles: Roles,
    pub timing: Timing,
    /// Every observation of the run, in order, at every trace level.
    pub observations: Vec<TxnObserved>,
    /// The run's other facts (crashes, recoveries, durable votes and decisions, failures, cut
    /// links, phases), each placed among the observations; [`RunReport::facts`] merges the
    /// two into the history checkers read. Collected at every trace level.
    #[serde(default)]
    pub events: Vec<PlacedFact>,
    /// At the end of the fault phase (what blocking is judged on).
    pub fault_phase: Snapshot,
    /// At the end of the run (after the liveness phase, if any).
    pub end: Snapshot,
    /// Sum of the participants' initial values.
    pub initial_total: i64,
    /// The workload, so checkers know whether the total is an oracle (bank) or not.
    #[serde(default)]
    pub workload: Workload,
    /// Whether a liveness phase ran after the fault phase (AC5 is judged only then).
    #[serde(default)]
    pub liveness_phase: bool,
    /// Per fault of the plan: whether it fired.
    #[serde(default)]
    pub faults_fired: Vec<bool>,
    /// Per fault of the plan: when it fired, in simulated µs (`None`: it never did).
    #[serde(default)]
    pub faults_fired_at_us: Vec<Option<u64>>,
    pub stats: RunStats,
    pub messages: MessageCounts,
    pub trace_hash: u64,
}

impl RunReport {
    pub fn participants(&self) -> impl Iterator<Item = NodeId> + Clone + '_ {
        self.roles.ids("participant")
    }

    /// Observations of `node`.
    pub fn observed_at(&self, node: NodeId) -> impl Iterator<Item = &Observation> {
        self.observations.iter().filter(move |o| o.node == node).map(|o| &o.obs)
    }

    /// Every fact of the run in the order it happened: the observations with the other facts
    /// placed among them. The report's `liveness_phase` flag is authoritative: a report whose
    /// flag is cleared reads as a run without a liveness phase (its start is left out).
    pub fn facts(&self) -> impl Iterator<Item = FactRef<'_>> + '_ {
        let live = self.liveness_phase;
        let mut events = self
            .events
            .iter()
            .filter(move |e| live || e.fact.what != Happened::LivenessPhaseBegan)
            .peekable();
        let mut observations = self.observations.iter().enumerate().peekable();
        std::iter::from_fn(move || {
            let next_obs = observations.peek().map(|(i, _)| *i);
            match (events.peek(), next_obs) {
                (Some(e), Some(i)) if e.after > i => {
                    observations.next().map(|o| FactRef::Observed(o.1))
                }
                (Some(_), _) => events.next().map(|e| FactRef::Other(&e.fact)),
                (None, _) => observations.next().map(|o| FactRef::Observed(o.1)),
            }
        })
    }
}

/// A type-erased, finished simulation that can still export, draw and read its trace.
trait TraceExport {
    fn write_jsonl(&self, w: &mut dyn std::io::Write) -> std::io::Result<()>;
    fn render(&self, rendering: Rendering, names: &dyn Fn(NodeId) -> String) -> String;
    fn facts(&self) -> Vec<TraceFact>;
}

/// One full-trace event in the shared vocabulary: what every commit protocol's trace says,
/// with the protocol's own payloads (message bodies, timers, record bodies) left out. Lets
/// code that measures traces work for every protocol without naming its types.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFact {
    pub time: Time,
    pub node: NodeId,
    pub what: Fact,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Fact {
    Send {
        to: NodeId,
        id: u64,
    },
    Deliver {
        from: NodeId,
        id: u64,
    },
    /// A forced write; `decision` if the record is a durable decision.
    Persist {
        decision: Option<(TxnId, crate::txn::Outcome)>,
    },
    Observe(Observation),
    Mark(String),
    /// A handler no message started begins: a timer fired, or the node started or recovered
    /// (what a causal count, such as Gray & Lamport's cost table, leaves out).
    Wake,
    /// Drops, timers set, crashes, faults and the rest.
    Other,
}

impl<P: CommitProtocol> TraceExport for Simulation<P, P::Node>
where
    P::Record: TxnRecord,
{
    fn write_jsonl(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.trace().write_jsonl(w)
    }

    fn render(&self, rendering: Rendering, names: &dyn Fn(NodeId) -> String) -> String {
        use sim_core::export::{mermaid, shiviz, svg};
        let events = self.trace().events_vec();
        let nodes = self.node_count();
        match rendering {
            Rendering::Mermaid { max_lines, stop_at_liveness } => {
                let opts =
                    mermaid::MermaidOptions { max_lines, stop_at_liveness, ..Default::default() };
                mermaid::render(&events, nodes, names, opts)
            }
            Rendering::Svg { height_px } => svg::render(&events, nodes, names, height_px),
            Rendering::ShiViz => shiviz::render(&events, nodes, names),
        }
    }

    fn facts(&self) -> Vec<TraceFact> {
        use sim_core::TraceKind;
        self.trace()
            .events()
            .map(|e| TraceFact {
                time: e.time,
                node: e.node,
                what: match &e.kind {
                    TraceKind::Send { to, id, .. } => Fact::Send { to: *to, id: *id },
                    TraceKind::Deliver { from, id } => Fact::Deliver { from: *from, id: *id },
                    TraceKind::Persist { record } => Fact::Persist { decision: record.decision() },
                    TraceKind::Observe { obs } => Fact::Observe(obs.clone()),
                    TraceKind::Mark { name } => Fact::Mark(name.to_string()),
                    TraceKind::TimerFire { .. } | TraceKind::Start | TraceKind::Recover => {
                        Fact::Wake
                    }
                    _ => Fact::Other,
                },
            })
            .collect()
    }
}

/// A picture of a run's full trace (see `sim_core::export`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rendering {
    /// Mermaid `sequenceDiagram`, for short runs: at most `max_lines` lines, optionally
    /// stopping where the liveness phase begins.
    Mermaid { max_lines: usize, stop_at_liveness: bool },
    /// SVG space-time diagram, simulated time downwards.
    Svg { height_px: u32 },
    /// ShiViz log with vector clocks.
    ShiViz,
}

/// The report and the run it came from.
pub struct RunOutcome {
    pub report: RunReport,
    sim: Box<dyn TraceExport>,
}

impl RunOutcome {
    /// Writes the trace as JSON Lines (every event only at trace level `full`).
    pub fn write_trace_jsonl(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.sim.write_jsonl(w)?;
        w.flush()
    }

    /// The trace in the shared vocabulary (empty unless the run's trace level was `full`).
    pub fn facts(&self) -> Vec<TraceFact> {
        self.sim.facts()
    }

    /// Draws the trace (empty unless the run's trace level was `full`), naming nodes by
    /// their role labels (`coord`, `p1`..`pN`, `client`, ...).
    pub fn render(&self, rendering: Rendering) -> String {
        let roles = &self.report.roles;
        let names = |id: NodeId| roles.label(id);
        self.sim.render(rendering, &names)
    }
}

/// Collects a run's facts as the engine records them, whatever the trace level: every
/// observation, and the other facts of [`crate::facts`] in the shared vocabulary (a disk
/// record is kept only as the vote or decision it holds). Cut links are followed on a copy of
/// the topology, changed by the same [`Topology::apply`] the engine uses.
struct Collector {
    observations: Vec<TxnObserved>,
    events: Vec<PlacedFact>,
    topology: Topology,
}

impl Collector {
    fn push(&mut self, time: Time, node: NodeId, what: Happened) {
        let after = self.observations.len();
        self.events.push(PlacedFact { after, fact: RunFact { time, node, what } });
    }
}

impl<P: CommitProtocol> Tap<P> for Collector
where
    P::Record: TxnRecord,
{
    fn event(&mut self, ev: &TraceEvent<P>) {
        let (time, node) = (ev.time, ev.node);
        match &ev.kind {
            TraceKind::Observe { obs } => {
                self.observations.push(TxnObserved { time, node, obs: obs.clone() })
            }
            TraceKind::Persist { record } => {
                if let Some((txn, writes)) = record.prepared() {
                    let delta = writes.iter().map(|w| w.delta).sum();
                    self.push(time, node, Happened::Prepared { txn, delta });
                }
                if let Some((txn, outcome)) = record.decision() {
                    self.push(time, node, Happened::Logged { txn, outcome });
                }
            }
            TraceKind::Crash { .. } => self.push(time, node, Happened::Crashed),
            TraceKind::Recover => self.push(time, node, Happened::Recovered),
            TraceKind::Fault { index, action } => {
                self.push(time, node, Happened::FaultFired { index: *index });
                if self.topology.apply(action) {
                    let links = self.topology.cut_links();
                    self.push(time, node, Happened::Cut { links });
                }
            }
            TraceKind::Drop { .. } => self.push(time, node, Happened::Lost),
            TraceKind::Duplicate { .. } => self.push(time, node, Happened::Duplicated),
            TraceKind::LivenessPhase => {
                self.topology.heal();
                self.push(time, node, Happened::LivenessPhaseBegan);
            }
            _ => {}
        }
    }
}

/// Runs `scenario` with protocol `P` configured by `config`: the fault phase to its
/// horizon, then the liveness phase if one is asked for.
pub fn run_with<P: CommitProtocol>(
    scenario: &Scenario,
    roles: Roles,
    timing: Timing,
    config: P::Config,
) -> Result<RunOutcome, ScenarioError>
where
    P::Record: TxnRecord,
{
    scenario.validate()?;
    let sim_config = SimConfig {
        nodes: roles.nodes(),
        seed: scenario.seed,
        network: scenario.network.clone(),
        trace: scenario.trace,
        max_events: scenario.max_events.unwrap_or(sim_core::DEFAULT_MAX_EVENTS),
        hosts: roles.hosts.clone(),
    };
    let max_events = sim_config.max_events;
    let config = Shared::new(config);
    let factory =
        Box::new(move |id: NodeId, boot: Boot<'_, P::Record>| P::build(&config, id, boot));
    let collector = Collector {
        observations: Vec::new(),
        events: Vec::new(),
        topology: Topology::new(roles.nodes()),
    };
    let mut sim: Simulation<P, P::Node> =
        Simulation::with_tap(sim_config, scenario.plan.clone(), factory, Box::new(collector))?;
    let mark = |sim: &mut Simulation<P, P::Node>, what: Happened| {
        let now = sim.now();
        sim.tap_mut::<Collector>().expect("the runner's collector").push(now, NodeId(0), what);
    };
    // A phase a bound cut short says so before it ends (checkers then call what needs a
    // finished run inconclusive); a fault phase cut short is not followed by a liveness
    // phase, which would judge a run that never reached its horizon.
    let stop = sim.run_until(Time::from_us(scenario.fault_horizon_us));
    let cut = stop.cut_short(max_events);
    if let Some(reason) = &cut {
        mark(&mut sim, Happened::CutShort { reason: format!("{reason} in the fault phase") });
    }
    mark(&mut sim, Happened::FaultPhaseEnded);
    let fault_phase = snapshot(&sim, scenario, &roles);
    let liveness = scenario.liveness_bound_us.filter(|_| cut.is_none());
    if let Some(bound) = liveness {
        let stop = sim.run_liveness_phase(Duration::from_us(bound));
        if let Some(reason) = stop.cut_short(max_events) {
            let reason = format!("{reason} in the liveness phase");
            mark(&mut sim, Happened::CutShort { reason });
        }
    }
    mark(&mut sim, Happened::Ended);
    let end = snapshot(&sim, scenario, &roles);
    let collector = sim.tap_mut::<Collector>().expect("the runner's collector");
    let observations = std::mem::take(&mut collector.observations);
    let events = std::mem::take(&mut collector.events);
    let stats = sim.stats();
    // Everything the client node sent or was sent: requests and retries, replies, and the
    // saga audit reads. Counted by the engine, so exact at any trace level.
    let client: u64 = roles.ids("client").map(|c| sim.sends_by(c) + sim.sends_to(c)).sum();
    let messages = MessageCounts { total: stats.sent, client, protocol: stats.sent - client };
    let initial_total = roles
        .ids("participant")
        .map(|p| scenario.workload.initial_values(p).values().sum::<i64>())
        .sum();
    let report = RunReport {
        protocol: scenario.protocol.clone(),
        roles,
        timing,
        observations,
        events,
        fault_phase,
        end,
        initial_total,
        workload: scenario.workload,
        liveness_phase: liveness.is_some(),
        faults_fired: sim.fired().to_vec(),
        faults_fired_at_us: sim.fired_at().iter().map(|t| t.map(Time::as_us)).collect(),
        stats,
        messages,
        trace_hash: sim.trace_hash(),
    };
    Ok(RunOutcome { report, sim: Box::new(sim) })
}

fn snapshot<P: CommitProtocol>(
    sim: &Simulation<P, P::Node>,
    scenario: &Scenario,
    roles: &Roles,
) -> Snapshot
where
    P::Record: TxnRecord,
{
    let nodes: Vec<NodeId> = (0..roles.nodes()).map(NodeId).collect();
    let applied: Vec<Option<BTreeMap<Key, i64>>> = nodes
        .iter()
        .map(|&n| {
            roles
                .is(n, "participant")
                .then(|| P::applied(&scenario.workload, n, sim.disk(n).records()))
        })
        .collect();
    let applied_total = applied.iter().flatten().flat_map(|m| m.values()).sum();
    Snapshot {
        time: sim.now(),
        up: nodes.iter().map(|&n| sim.is_up(n)).collect(),
        down_since: nodes.iter().map(|&n| sim.down_since(n)).collect(),
        cut_links: sim.topology().cut_links(),
        disks: nodes.iter().map(|&n| DiskView::read(sim.disk(n).records())).collect(),
        applied,
        in_doubt: nodes
            .iter()
            .map(|&n| sim.node(n).map(|x| x.in_doubt()).unwrap_or_default())
            .collect(),
        locks: nodes.iter().map(|&n| sim.node(n).map(|x| x.locks()).unwrap_or_default()).collect(),
        applied_total,
    }
}
