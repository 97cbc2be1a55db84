//! The simulation: one single-threaded run of a cluster under a fault plan.
//!
//! The loop pops the earliest event, hands it to the node it concerns, then applies the
//! node's effects in order. Fault triggers are checked as effects are applied, so a fault
//! can land between any two effects of one handler. Parallelism is across runs, never
//! inside one.
//!
//! # Co-location: several processes on one host
//!
//! By default every node is its own machine. [`SimConfig::hosts`] maps node `i` to a host id
//! (`hosts[i]`), so several processes (e.g. a transaction manager, a resource manager and an
//! acceptor, as in Gray & Lamport's co-located case) can share one host:
//!
//! - A message between two processes on the same host is **local**: it never touches the
//!   network (no latency, loss, duplication, partition or cut applies to it and no link RNG is
//!   drawn); it is delivered at the same virtual time, after every event already queued for
//!   that time (ties break by queue seq, so local messages are FIFO). It is counted in
//!   [`RunStats::local_messages`] / [`RunStats::local_delivered`], never in `sent` /
//!   `delivered`, which count network messages only. It is still traced as an ordinary
//!   `send` / `deliver` pair; [`Simulation::is_local`] tells a trace reader which is which.
//!   A self-send is local too when hosts are configured.
//! - **A host is the unit of failure.** [`Action::Crash`] of any node crashes every process on
//!   its host (in ascending id order; each gets its own `crash` trace event), and
//!   [`Action::Recover`] (or a crash's `recover_after_us`) recovers all of them. Fault plans
//!   keep naming nodes, so a mark trigger on one process can take its whole machine down.
//!
//! Without `hosts` the engine behaves exactly as before; the only cost on the hot path is one
//! predictable branch per send.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::disk::Disk;
use crate::error::SimError;
use crate::fault::{Action, FaultPlan, Trigger};
use crate::id::NodeId;
use crate::network::{NetworkConfig, Transit};
use crate::process::{Boot, Context, Effect, Process, Protocol};
use crate::queue::{EventQueue, Pending};
use crate::rng::{SimRng, StreamDomain, stream};
use crate::time::{Duration, Time};
use crate::topology::Topology;
use crate::trace::{DropReason, Tap, Trace, TraceKind, TraceLevel};
use crate::{network::LinkConfig, network::Network};

/// Everything a run needs besides its nodes and its fault plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    pub nodes: u32,
    pub seed: u64,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub trace: TraceLevel,
    /// Safety bound on events processed by one `run_*` call.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// Co-location: `hosts[i]` is the host node `i` runs on (see the module docs). `None`:
    /// every node is its own host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<u32>>,
}

fn default_max_events() -> u64 {
    1 << 40
}

impl SimConfig {
    pub fn new(nodes: u32, seed: u64) -> SimConfig {
        SimConfig {
            nodes,
            seed,
            network: NetworkConfig::default(),
            trace: TraceLevel::default(),
            max_events: default_max_events(),
            hosts: None,
        }
    }
    /// Places node `i` on host `hosts[i]`.
    pub fn with_hosts(mut self, hosts: Vec<u32>) -> Self {
        self.hosts = Some(hosts);
        self
    }
    /// Whether `a` and `b` run on the same host (always false without `hosts`).
    pub fn same_host(&self, a: NodeId, b: NodeId) -> bool {
        match &self.hosts {
            Some(h) => h.get(a.index()).is_some_and(|ha| Some(ha) == h.get(b.index())),
            None => false,
        }
    }
    pub fn with_trace(mut self, level: TraceLevel) -> Self {
        self.trace = level;
        self
    }
    pub fn with_link(mut self, config: LinkConfig) -> Self {
        self.network.default = config;
        self
    }
    pub fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::NoNodes);
        }
        if self.max_events == 0 {
            return Err(SimError::invalid("max_events", "must be at least 1"));
        }
        if let Some(hosts) = &self.hosts
            && hosts.len() != self.nodes as usize
        {
            return Err(SimError::invalid(
                "hosts",
                format!(
                    "has {} entries but the cluster has {} nodes (one host id per node)",
                    hosts.len(),
                    self.nodes
                ),
            ));
        }
        self.network.validate(self.nodes)
    }
}

/// Why a `run_*` call returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// No event left to process.
    Quiescent,
    /// The next event lies beyond the horizon; the clock stands at the horizon.
    Horizon,
    /// The caller's predicate held.
    Predicate,
    /// `max_events` were processed.
    EventBudget,
}

/// Counters of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStats {
    pub events: u64,
    pub sent: u64,
    pub delivered: u64,
    pub dropped_cut: u64,
    pub dropped_loss: u64,
    pub dropped_receiver_down: u64,
    pub duplicated: u64,
    /// Messages between processes on one host (see co-location); not in `sent`.
    #[serde(default)]
    pub local_messages: u64,
    /// Local messages delivered; not in `delivered`.
    #[serde(default)]
    pub local_delivered: u64,
    pub timers_fired: u64,
    pub disk_writes: u64,
    pub crashes: u64,
    pub recoveries: u64,
    pub faults_fired: u64,
}

/// Builds a node, fresh or from its disk. The protocol registers it; the engine calls it at
/// start and on every recovery.
pub type Factory<P, N> = Box<dyn Fn(NodeId, Boot<'_, <P as Protocol>::Record>) -> N>;

/// Per-node engine state. `node` is `None` while the node is down.
struct Slot<P: Protocol, N> {
    node: Option<N>,
    rng: SimRng,
    disk: Disk<P::Record>,
    /// Armed timers and the token of their pending queue entry.
    timers: BTreeMap<P::Timer, u64>,
    drift_ppm: i64,
    sends: u64,
    /// Send effects addressed to this node, by anyone (dropped messages included).
    sends_to: u64,
    /// Mark counts, kept only for nodes that a mark trigger watches.
    marks: Vec<(&'static str, u32)>,
    down_since: Option<Time>,
}

/// Fault triggers indexed for cheap checks on the hot path.
struct Triggers {
    /// Per node: (mark, nth, fault index).
    mark: Vec<Vec<(String, u32, u32)>>,
    /// Per node: (send count, fault index).
    sends: Vec<Vec<(u64, u32)>>,
    fired: Vec<bool>,
    /// False in the liveness phase: no new faults.
    armed: bool,
}

/// A run in progress.
pub struct Simulation<P: Protocol, N: Process<P>> {
    nodes: u32,
    max_events: u64,
    now: Time,
    queue: EventQueue<P>,
    slots: Vec<Slot<P, N>>,
    factory: Factory<P, N>,
    network: Network,
    topology: Topology,
    /// Host of each node; meaningful only when `colocated`.
    hosts: Vec<u32>,
    /// Some hosts run several processes: sends check locality, crashes take hosts down.
    colocated: bool,
    plan: FaultPlan,
    triggers: Triggers,
    trace: Trace<P>,
    effects: Vec<Effect<P>>,
    stats: RunStats,
    next_msg_id: u64,
    next_timer_token: u64,
    /// The node whose effects are being applied, and how many remain after the current one.
    applying: Option<(NodeId, u32)>,
    in_liveness: bool,
}

impl<P: Protocol, N: Process<P>> Simulation<P, N> {
    /// Validates `config` and `plan`, builds every node fresh and runs its `on_start`.
    pub fn new(
        config: SimConfig,
        plan: FaultPlan,
        factory: Factory<P, N>,
    ) -> Result<Self, SimError> {
        Self::build(config, plan, factory, None)
    }

    /// As [`new`](Self::new), with `tap` watching the run from before the first node boots
    /// (see [`Tap`]); take it back with [`tap_mut`](Self::tap_mut).
    pub fn with_tap(
        config: SimConfig,
        plan: FaultPlan,
        factory: Factory<P, N>,
        tap: Box<dyn Tap<P>>,
    ) -> Result<Self, SimError> {
        Self::build(config, plan, factory, Some(tap))
    }

    fn build(
        config: SimConfig,
        plan: FaultPlan,
        factory: Factory<P, N>,
        tap: Option<Box<dyn Tap<P>>>,
    ) -> Result<Self, SimError> {
        config.validate()?;
        plan.validate(config.nodes)?;
        let n = config.nodes as usize;
        let slots = (0..config.nodes)
            .map(|i| Slot {
                node: None,
                rng: stream(config.seed, StreamDomain::Node, i as u64, 0),
                disk: Disk::default(),
                timers: BTreeMap::new(),
                drift_ppm: 0,
                sends: 0,
                sends_to: 0,
                marks: Vec::new(),
                down_since: None,
            })
            .collect();
        let mut triggers = Triggers {
            mark: vec![Vec::new(); n],
            sends: vec![Vec::new(); n],
            fired: vec![false; plan.faults.len()],
            armed: true,
        };
        let mut queue = EventQueue::new();
        for (i, f) in plan.faults.iter().enumerate() {
            let index = i as u32;
            match &f.trigger {
                Trigger::Time { at_us } => {
                    queue.push(Time::from_us(*at_us), Pending::Fault { index })
                }
                Trigger::Mark { node, mark, nth } => {
                    triggers.mark[node.index()].push((mark.clone(), *nth, index))
                }
                Trigger::Sends { node, count } => {
                    triggers.sends[node.index()].push((*count, index))
                }
            }
        }
        let mut sim = Simulation {
            nodes: config.nodes,
            max_events: config.max_events,
            now: Time::ZERO,
            queue,
            slots,
            factory,
            network: Network::new(config.nodes, config.seed, &config.network),
            topology: Topology::new(config.nodes),
            colocated: config.hosts.is_some(),
            hosts: config.hosts.clone().unwrap_or_default(),
            plan,
            triggers,
            trace: Trace::new(config.trace),
            effects: Vec::with_capacity(16),
            stats: RunStats::default(),
            next_msg_id: 0,
            next_timer_token: 0,
            applying: None,
            in_liveness: false,
        };
        if let Some(tap) = tap {
            sim.trace.set_tap(tap);
        }
        for i in 0..config.nodes {
            let id = NodeId(i);
            if sim.colocated && sim.host_mates(id).iter().any(|m| sim.down_since(*m).is_some()) {
                // A host mate's start crashed the host: this process never starts either.
                sim.slots[id.index()].down_since = Some(sim.now);
                sim.stats.crashes += 1;
                sim.trace.record(sim.now, id, TraceKind::Crash { cut: 0 });
                continue;
            }
            sim.boot(id, false);
        }
        Ok(sim)
    }

    // ----- running -------------------------------------------------------------------

    /// Processes the next event, if any. Returns false when the queue is empty.
    pub fn step(&mut self) -> bool {
        let Some(entry) = self.queue.pop() else { return false };
        debug_assert!(entry.time >= self.now, "time went backwards");
        self.now = entry.time;
        self.stats.events += 1;
        match entry.what {
            Pending::Deliver { from, to, id, msg } => self.deliver(from, to, id, msg),
            Pending::DeliverLocal { from, to, id, msg } => self.deliver_local(from, to, id, msg),
            Pending::Timer { node, timer, token } => self.fire_timer(node, timer, token),
            Pending::Fault { index } => self.fire_fault(index),
            Pending::Recover { node } => self.recover(node),
        }
        true
    }

    /// Runs until no event is left, the next event lies beyond `horizon`, or the event
    /// budget is spent. Unless the horizon is `Time::MAX`, the clock then stands at the
    /// horizon even if the queue ran dry earlier: quiet time passes too.
    pub fn run_until(&mut self, horizon: Time) -> Stop {
        self.run_until_pred(horizon, |_| false)
    }

    /// As [`run_until`](Self::run_until), also stopping as soon as `pred` holds after an event.
    pub fn run_until_pred(&mut self, horizon: Time, mut pred: impl FnMut(&Self) -> bool) -> Stop {
        let mut budget = self.max_events;
        loop {
            match self.queue.next_time() {
                None => {
                    if horizon != Time::MAX {
                        self.now = self.now.max(horizon);
                    }
                    return Stop::Quiescent;
                }
                Some(t) if t > horizon => {
                    self.now = self.now.max(horizon);
                    return Stop::Horizon;
                }
                Some(_) => {}
            }
            if budget == 0 {
                return Stop::EventBudget;
            }
            budget -= 1;
            self.step();
            if pred(self) {
                return Stop::Predicate;
            }
        }
    }

    /// Runs to quiescence (or the event budget).
    pub fn run_to_quiescence(&mut self) -> Stop {
        self.run_until(Time::MAX)
    }

    /// Ends the fault phase and runs for `bound`: every down node recovers, the network
    /// heals and becomes reliable (no loss, no duplicates, configured latencies), clock
    /// drift stops, and no further fault fires. Whatever is undecided afterwards was not
    /// caused by a fault still in force.
    pub fn run_liveness_phase(&mut self, bound: Duration) -> Stop {
        self.begin_liveness_phase();
        let horizon = self.now + bound;
        self.run_until(horizon)
    }

    /// The first half of [`run_liveness_phase`](Self::run_liveness_phase), for callers that
    /// drive the clock themselves.
    pub fn begin_liveness_phase(&mut self) {
        if self.in_liveness {
            return;
        }
        self.in_liveness = true;
        self.triggers.armed = false;
        self.trace.record(self.now, NodeId(0), TraceKind::LivenessPhase);
        self.topology.heal();
        self.network.make_reliable();
        for i in 0..self.nodes {
            self.slots[i as usize].drift_ppm = 0;
            self.recover(NodeId(i));
        }
    }

    // ----- event handling --------------------------------------------------------------

    fn deliver(&mut self, from: NodeId, to: NodeId, id: u64, msg: P::Msg) {
        let now = self.now;
        let slot = &mut self.slots[to.index()];
        // A partition drops what is in flight, not only what is sent while it holds.
        if !self.topology.link_up(from, to) {
            self.stats.dropped_cut += 1;
            let reason = DropReason::Cut;
            self.trace.record(now, to, TraceKind::Drop { from, to, id, reason });
            return;
        }
        let Some(node) = slot.node.as_mut() else {
            self.stats.dropped_receiver_down += 1;
            let reason = DropReason::ReceiverDown;
            self.trace.record(now, to, TraceKind::Drop { from, to, id, reason });
            return;
        };
        self.stats.delivered += 1;
        self.trace.deliver(now, to, from, id);
        let mut ctx = Context::new(to, now, self.nodes, &mut slot.rng, &mut self.effects);
        node.on_message(&mut ctx, from, msg);
        self.apply_effects(to);
    }

    /// A message between two processes of one host: no network, so no cut applies.
    fn deliver_local(&mut self, from: NodeId, to: NodeId, id: u64, msg: P::Msg) {
        let now = self.now;
        let slot = &mut self.slots[to.index()];
        let Some(node) = slot.node.as_mut() else {
            self.stats.dropped_receiver_down += 1;
            let reason = DropReason::ReceiverDown;
            self.trace.record(now, to, TraceKind::Drop { from, to, id, reason });
            return;
        };
        self.stats.local_delivered += 1;
        self.trace.deliver(now, to, from, id);
        let mut ctx = Context::new(to, now, self.nodes, &mut slot.rng, &mut self.effects);
        node.on_message(&mut ctx, from, msg);
        self.apply_effects(to);
    }

    fn fire_timer(&mut self, node_id: NodeId, timer: P::Timer, token: u64) {
        let now = self.now;
        let slot = &mut self.slots[node_id.index()];
        // A re-armed, cancelled or crash-cleared timer leaves a stale entry: skip it.
        if slot.timers.get(&timer) != Some(&token) {
            return;
        }
        slot.timers.remove(&timer);
        let node = slot.node.as_mut().expect("a node with armed timers is up");
        self.stats.timers_fired += 1;
        self.trace.record(now, node_id, TraceKind::TimerFire { timer: timer.clone() });
        let mut ctx = Context::new(node_id, now, self.nodes, &mut slot.rng, &mut self.effects);
        node.on_timer(&mut ctx, timer);
        self.apply_effects(node_id);
    }

    fn boot(&mut self, id: NodeId, recovered: bool) {
        let slot = &mut self.slots[id.index()];
        debug_assert!(slot.node.is_none());
        let boot =
            if recovered { Boot::Recovered { disk: slot.disk.records() } } else { Boot::Fresh };
        let mut node = (self.factory)(id, boot);
        slot.down_since = None;
        let kind = if recovered { TraceKind::Recover } else { TraceKind::Start };
        self.trace.record(self.now, id, kind);
        let mut ctx = Context::new(id, self.now, self.nodes, &mut slot.rng, &mut self.effects);
        node.on_start(&mut ctx);
        slot.node = Some(node);
        self.apply_effects(id);
    }

    /// Applies the effects the handler of `id` pushed, in order, stopping at once if a
    /// fault triggered along the way crashed `id`.
    fn apply_effects(&mut self, id: NodeId) {
        let mut effects = std::mem::take(&mut self.effects);
        let total = effects.len() as u32;
        for (i, effect) in effects.drain(..).enumerate() {
            if self.slots[id.index()].node.is_none() {
                break; // crashed by a trigger on an earlier effect: the rest is cut
            }
            self.applying = Some((id, total - i as u32 - 1));
            self.apply_effect(id, effect);
        }
        self.applying = None;
        self.effects = effects;
    }

    #[inline]
    fn apply_effect(&mut self, id: NodeId, effect: Effect<P>) {
        let now = self.now;
        match effect {
            Effect::Send { to, msg } => {
                assert!(to.0 < self.nodes, "{id} sent to unknown node {to}: a protocol bug");
                self.send(id, to, msg);
                self.slots[to.index()].sends_to += 1;
                let slot = &mut self.slots[id.index()];
                slot.sends += 1;
                if !self.triggers.sends[id.index()].is_empty() {
                    let sends = slot.sends;
                    self.fire_matching(|t, k| {
                        let (count, index) = *t.sends[id.index()].get(k)?;
                        Some((count == sends).then_some(index))
                    });
                }
            }
            Effect::SetTimer { after, timer } => {
                let token = self.queue_token();
                let slot = &mut self.slots[id.index()];
                let at = now + after.drifted(slot.drift_ppm);
                slot.timers.insert(timer.clone(), token);
                self.trace.record(now, id, TraceKind::TimerSet { timer: timer.clone(), at });
                self.queue.push(at, Pending::Timer { node: id, timer, token });
            }
            Effect::CancelTimer { timer } => {
                if self.slots[id.index()].timers.remove(&timer).is_some() {
                    self.trace.record(now, id, TraceKind::TimerCancel { timer });
                }
            }
            Effect::Persist { record } => {
                self.stats.disk_writes += 1;
                self.trace.record(now, id, TraceKind::Persist { record: record.clone() });
                self.slots[id.index()].disk.append(record);
            }
            Effect::Observe { obs } => {
                self.trace.record(now, id, TraceKind::Observe { obs });
            }
            Effect::Mark { name } => {
                self.trace.record(now, id, TraceKind::Mark { name: name.into() });
                if !self.triggers.mark[id.index()].is_empty() {
                    let slot = &mut self.slots[id.index()];
                    let count = match slot.marks.iter_mut().find(|(m, _)| *m == name) {
                        Some((_, c)) => {
                            *c += 1;
                            *c
                        }
                        None => {
                            slot.marks.push((name, 1));
                            1
                        }
                    };
                    self.fire_matching(|t, k| {
                        let (mark, nth, index) = t.mark[id.index()].get(k)?;
                        Some((mark == name && *nth == count).then_some(*index))
                    });
                }
            }
        }
    }

    /// A token unique to one arming of one timer.
    fn queue_token(&mut self) -> u64 {
        self.next_timer_token += 1;
        self.next_timer_token
    }

    /// Fires, in plan order, the faults whose trigger matches. `at(triggers, k)` looks at the
    /// k-th trigger of the list being checked: `None` past its end, `Some(Some(fault))` when it
    /// matches. Indexing (rather than collecting the matches) keeps this allocation-free; the
    /// lists never change while a fault fires.
    fn fire_matching(&mut self, at: impl Fn(&Triggers, usize) -> Option<Option<u32>>) {
        let mut k = 0;
        while self.triggers.armed {
            match at(&self.triggers, k) {
                None => return,
                Some(Some(index)) => self.fire_fault(index),
                Some(None) => {}
            }
            k += 1;
        }
    }

    #[inline]
    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        if self.colocated && self.hosts[from.index()] == self.hosts[to.index()] {
            return self.send_local(from, to, msg);
        }
        let now = self.now;
        self.next_msg_id += 1;
        let id = self.next_msg_id;
        self.stats.sent += 1;
        self.trace.send(now, from, to, id, &msg);
        if !self.topology.link_up(from, to) {
            self.stats.dropped_cut += 1;
            let reason = DropReason::Cut;
            self.trace.record(now, from, TraceKind::Drop { from, to, id, reason });
            return;
        }
        match self.network.transit(now, from, to) {
            Transit::Lost => {
                self.stats.dropped_loss += 1;
                let reason = DropReason::Loss;
                self.trace.record(now, from, TraceKind::Drop { from, to, id, reason });
            }
            Transit::Delivered { at, duplicate_at } => {
                if let Some(dup_at) = duplicate_at {
                    self.stats.duplicated += 1;
                    self.trace.record(now, from, TraceKind::Duplicate { to, id, at: dup_at });
                    self.queue.push(dup_at, Pending::Deliver { from, to, id, msg: msg.clone() });
                }
                self.queue.push(at, Pending::Deliver { from, to, id, msg });
            }
        }
    }

    /// A send between processes of one host: delivered at the same virtual time, after
    /// everything already queued for it; no network draw, no cut.
    #[cold]
    fn send_local(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        let now = self.now;
        self.next_msg_id += 1;
        let id = self.next_msg_id;
        self.stats.local_messages += 1;
        self.trace.send(now, from, to, id, &msg);
        self.queue.push(now, Pending::DeliverLocal { from, to, id, msg });
    }

    // ----- faults ------------------------------------------------------------------------

    fn fire_fault(&mut self, index: u32) {
        let i = index as usize;
        if !self.triggers.armed || self.triggers.fired[i] {
            return;
        }
        self.triggers.fired[i] = true;
        self.stats.faults_fired += 1;
        let action = self.plan.faults[i].action.clone();
        let at_node = match &action {
            Action::Crash { node, .. }
            | Action::Recover { node }
            | Action::ClockDrift { node, .. } => *node,
            Action::CutOneWay { from, .. } => *from,
            _ => NodeId(0),
        };
        self.trace.record(
            self.now,
            at_node,
            TraceKind::Fault { index, action: Box::new(action.clone()) },
        );
        match action {
            Action::Crash { node, recover_after_us } => {
                self.crash(node);
                if let Some(d) = recover_after_us {
                    let at = self.now + Duration::from_us(d);
                    self.queue.push(at, Pending::Recover { node });
                }
            }
            // Recovery runs a handler; queue it rather than nest it inside another's effects.
            Action::Recover { node } => self.queue.push(self.now, Pending::Recover { node }),
            Action::Partition { .. }
            | Action::CutOneWay { .. }
            | Action::CutLink { .. }
            | Action::HealLink { .. }
            | Action::Heal => {
                self.topology.apply(&action);
            }
            Action::SetDrop { links, prob } => self.network.update(links, |c| c.drop_prob = prob.0),
            Action::SetDuplicate { links, prob } => {
                self.network.update(links, |c| c.dup_prob = prob.0)
            }
            Action::SetLatency { links, latency } => {
                self.network.update(links, |c| c.latency = latency)
            }
            Action::ClockDrift { node, ppm } => self.slots[node.index()].drift_ppm = ppm,
        }
    }

    /// Crashes `id`, and with co-location every process on its host.
    fn crash(&mut self, id: NodeId) {
        if self.colocated {
            for other in self.host_mates(id) {
                self.crash_process(other);
            }
        } else {
            self.crash_process(id);
        }
    }

    /// The nodes on `id`'s host, ascending (`id` included).
    fn host_mates(&self, id: NodeId) -> Vec<NodeId> {
        let host = self.hosts[id.index()];
        (0..self.nodes).map(NodeId).filter(|n| self.hosts[n.index()] == host).collect()
    }

    fn crash_process(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if slot.node.is_none() {
            return;
        }
        slot.node = None;
        slot.timers.clear();
        slot.down_since = Some(self.now);
        self.stats.crashes += 1;
        let cut = match self.applying {
            Some((node, remaining)) if node == id => remaining,
            _ => 0,
        };
        self.trace.record(self.now, id, TraceKind::Crash { cut });
    }

    /// Recovers `id`, and with co-location every process on its host.
    fn recover(&mut self, id: NodeId) {
        if self.colocated {
            for other in self.host_mates(id) {
                self.recover_process(other);
            }
        } else {
            self.recover_process(id);
        }
    }

    fn recover_process(&mut self, id: NodeId) {
        if self.slots[id.index()].node.is_some() {
            return;
        }
        self.stats.recoveries += 1;
        self.boot(id, true);
    }

    // ----- inspection ----------------------------------------------------------------------

    pub fn now(&self) -> Time {
        self.now
    }
    pub fn node_count(&self) -> u32 {
        self.nodes
    }
    /// The host `id` runs on: its own id unless hosts are configured.
    pub fn host_of(&self, id: NodeId) -> u32 {
        if self.colocated { self.hosts[id.index()] } else { id.0 }
    }
    /// Whether a message from `from` to `to` is local (same host, co-location configured).
    pub fn is_local(&self, from: NodeId, to: NodeId) -> bool {
        self.colocated && self.hosts[from.index()] == self.hosts[to.index()]
    }
    /// The node's live state, `None` while it is down.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.slots[id.index()].node.as_ref()
    }
    pub fn is_up(&self, id: NodeId) -> bool {
        self.slots[id.index()].node.is_some()
    }
    /// Since when `id` has been down, if it is.
    pub fn down_since(&self, id: NodeId) -> Option<Time> {
        self.slots[id.index()].down_since
    }
    pub fn down_nodes(&self) -> Vec<NodeId> {
        (0..self.nodes).map(NodeId).filter(|&n| !self.is_up(n)).collect()
    }
    pub fn disk(&self, id: NodeId) -> &Disk<P::Record> {
        &self.slots[id.index()].disk
    }
    /// Send effects `id` has applied so far (including dropped messages).
    pub fn sends_by(&self, id: NodeId) -> u64 {
        self.slots[id.index()].sends
    }
    /// Send effects addressed to `id` so far, by any node (including dropped messages).
    pub fn sends_to(&self, id: NodeId) -> u64 {
        self.slots[id.index()].sends_to
    }
    pub fn topology(&self) -> &Topology {
        &self.topology
    }
    /// The configuration a link currently has (after any fault changed it).
    pub fn link_config(&self, from: NodeId, to: NodeId) -> LinkConfig {
        self.network.config(from, to)
    }
    pub fn trace(&self) -> &Trace<P> {
        &self.trace
    }
    /// The tap installed by [`with_tap`](Self::with_tap), if it is a `T`.
    pub fn tap_mut<T: Tap<P>>(&mut self) -> Option<&mut T> {
        self.trace.tap_mut::<T>()
    }
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }
    pub fn stats(&self) -> RunStats {
        self.stats
    }
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }
    /// Which faults of the plan have fired.
    pub fn fired(&self) -> &[bool] {
        &self.triggers.fired
    }
    pub fn in_liveness_phase(&self) -> bool {
        self.in_liveness
    }
    pub fn pending_events(&self) -> usize {
        self.queue.len()
    }
}
