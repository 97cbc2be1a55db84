//! The world: everything that defines a state of a run, as one value.
//!
//! A run used to be one object that fused three things: the state of the cluster, the one
//! scheduler that ever drove it (earliest `(time, seq)` event first) and the network's random
//! draws. Nothing could be cloned or compared, so no other scheduler — an exhaustive
//! explorer that branches on every enabled event, a replay of an explored path — could run
//! the same nodes. The world is the state alone:
//!
//! - per node: its state (`None` while down), its RNG stream, its disk, its armed timers, its
//!   clock drift, its send and mark counters, since when it is down;
//! - the messages in flight and the recoveries pending *when no scheduler holds them*
//!   (an explorer's world; the time-ordered runner keeps its messages inline in its queue
//!   for speed, and [`Simulation::into_world`](crate::Simulation::into_world) hands them over);
//! - the topology, the link configurations (faults change them), the fault plan's progress
//!   (which faults fired, the counters their triggers watch);
//! - the counters ([`RunStats`]) and the [`Trace`].
//!
//! It answers two questions — which events are enabled ([`World::enabled`]) and what one
//! event does ([`World::apply`]) — and it is a value: `Clone` when the node type is, and,
//! through its [`fingerprint`](World::fingerprint), `Eq + Hash` when the node type is `Hash`.
//! The handler and effect machinery lives in one place (the `effects` module), shared by
//! every scheduler: the runner drives it through [`World::deliver`], [`World::fire_timer`],
//! [`World::fire_fault`] and [`World::recover`], handing itself over as the
//! [`Schedule`] that receives what each step sends into the future.
//!
//! # The fingerprint
//!
//! A stable 64-bit hash ([`StableHasher`]: the same on every run and machine) of exactly what
//! decides the future: node states and up/down, disks, armed timers (by name, not token),
//! clock drifts, in-flight messages as a *multiset* (sender, receiver and payload, not the
//! message id, in any order), pending recoveries, the topology, the link configurations and
//! the fault plan's progress (fired flags, whether faults are still armed, and the send and
//! mark counters that a trigger still watches, capped at the largest count it waits for).
//! Not the clock, not message ids, timer tokens or sequence counters, not the statistics,
//! not the trace, and not the nodes' RNG positions: under exploration a node's
//! nondeterminism is meant to go through [`Context::choose`](crate::Context::choose), which
//! an explorer forces; a protocol that draws from `ctx.rng()` directly has those draws
//! treated as if they were always the same. Equality of worlds *is* equality of
//! fingerprints (two distinct states collide with probability about 2^-64 per pair).

use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use crate::armed::Armed;
use crate::config::{RunStats, SimConfig};
use crate::disk::Disk;
use crate::error::SimError;
use crate::fault::{FaultPlan, Trigger};
use crate::hash::StableHasher;
use crate::id::NodeId;
use crate::network::{LinkConfig, Links};
use crate::process::{Boot, Effect, Process, Protocol};
use crate::rename::{MAX_INTERCHANGEABLE, Rename, Renaming};
use crate::rng::{SimRng, StreamDomain, stream};
use crate::schedule::{Envelope, InFlight, Plain, Sched, Schedule};
use crate::time::Time;
use crate::topology::Topology;
use crate::trace::{Trace, TraceKind};

/// Builds a node, fresh or from its disk. The protocol registers it; the world calls it at
/// start and on every recovery. Shared (`Rc`), so a cloned world builds with the same one.
pub type Factory<P, N> = Rc<dyn Fn(NodeId, Boot<'_, <P as Protocol>::Record>) -> N>;

/// The most messages a world keeps in flight (with no scheduler holding them): a step that
/// leaves more fails with [`StepError::OverCapacity`](crate::StepError::OverCapacity), and
/// the state it reached is inconclusive.
pub const IN_FLIGHT_BOUND: usize = 1 << 22;

/// Per-node state. `node` is `None` while the node is down.
pub(crate) struct Slot<P: Protocol, N> {
    pub(crate) node: Option<N>,
    pub(crate) rng: SimRng,
    pub(crate) disk: Disk<P::Record>,
    /// Armed timers and the token of their current arming.
    pub(crate) timers: Armed<P::Timer>,
    pub(crate) drift_ppm: i64,
    pub(crate) sends: u64,
    /// Send effects addressed to this node, by anyone (dropped messages included).
    pub(crate) sends_to: u64,
    /// Mark counts, kept only for nodes that a mark trigger watches.
    pub(crate) marks: Vec<(&'static str, u32)>,
    pub(crate) down_since: Option<Time>,
}

/// `*to = from.clone()`, without touching the counts when both are the same already (an
/// explorer's copies of one world share them).
fn share<T: ?Sized>(to: &mut Arc<T>, from: &Arc<T>) {
    if !Arc::ptr_eq(to, from) {
        *to = from.clone();
    }
}

/// Fault triggers indexed for cheap checks on the hot path, and the plan's progress.
pub(crate) struct Triggers {
    /// Per node: (mark, nth, fault index). Fixed by the plan, so shared (`Arc`: a BFS worker sends them) between the clones
    /// an explorer makes at every branch instead of copied.
    pub(crate) mark: Arc<[Vec<(String, u32, u32)>]>,
    /// Per node: (send count, fault index). Shared as `mark`.
    pub(crate) sends: Arc<[Vec<(u64, u32)>]>,
    /// Cluster-wide: (mark, nth, delay in µs, fault index). Shared as `mark`.
    pub(crate) any_mark: Arc<[(String, u32, u64, u32)]>,
    /// Cluster-wide mark counts, kept only for the marks an `any_mark` trigger watches.
    pub(crate) any_counts: Vec<(&'static str, u32)>,
    /// Per fault: the node whose mark or send matched its trigger (what a marked action
    /// acts on), once it did.
    pub(crate) marked: Vec<Option<NodeId>>,
    pub(crate) fired: Vec<bool>,
    /// When each fault fired (not part of the state hash: `fired` is).
    pub(crate) fired_at: Vec<Option<Time>>,
    /// False in the liveness phase: no new faults.
    pub(crate) armed: bool,
}

impl Clone for Triggers {
    fn clone(&self) -> Self {
        Triggers {
            mark: self.mark.clone(),
            sends: self.sends.clone(),
            any_mark: self.any_mark.clone(),
            any_counts: self.any_counts.clone(),
            marked: self.marked.clone(),
            fired: self.fired.clone(),
            fired_at: self.fired_at.clone(),
            armed: self.armed,
        }
    }
    fn clone_from(&mut self, source: &Self) {
        // Destructured: a field added to `Triggers` and forgotten here does not compile.
        let Triggers { mark, sends, any_mark, any_counts, marked, fired, fired_at, armed } = source;
        share(&mut self.mark, mark);
        share(&mut self.sends, sends);
        share(&mut self.any_mark, any_mark);
        self.any_counts.clone_from(any_counts);
        self.marked.clone_from(marked);
        self.fired.clone_from(fired);
        self.fired_at.clone_from(fired_at);
        self.armed = *armed;
    }
}

/// Everything that defines a state of a run (see the module docs).
pub struct World<P: Protocol, N> {
    pub(crate) nodes: u32,
    pub(crate) now: Time,
    pub(crate) slots: Vec<Slot<P, N>>,
    pub(crate) factory: Factory<P, N>,
    /// Shared until a fault changes them (copy-on-write): an explorer clones worlds at
    /// every branch, and these are O(n²) each.
    pub(crate) links: Arc<Links>,
    pub(crate) topology: Arc<Topology>,
    /// Host of each node; meaningful only when `colocated`.
    pub(crate) hosts: Vec<u32>,
    /// Some hosts run several processes: sends check locality, crashes take hosts down.
    pub(crate) colocated: bool,
    pub(crate) plan: Rc<FaultPlan>,
    pub(crate) triggers: Triggers,
    pub(crate) trace: Trace<P>,
    /// The buffer handlers push their effects into; empty between steps.
    pub(crate) effects: Vec<Effect<P>>,
    pub(crate) stats: RunStats,
    pub(crate) next_msg_id: u64,
    pub(crate) next_timer_token: u64,
    /// The node whose effects are being applied, and how many remain after the current one.
    pub(crate) applying: Option<(NodeId, u32)>,
    pub(crate) in_liveness: bool,
    pub(crate) started: bool,
    /// Messages in flight and recoveries pending when no scheduler holds them.
    pub(crate) in_flight: InFlight<P>,
    /// The nodes a model declared interchangeable (see [`crate::rename`]); none by default.
    pub(crate) interchangeable: Arc<[NodeId]>,
}

/// Field by field, so that [`clone_from`](Clone::clone_from) reuses every buffer of the
/// world it overwrites: an explorer copies a state into a recycled world for each branch
/// and, for the many that reach a state already seen, allocates nothing.
impl<P: Protocol, N: Clone> Clone for Slot<P, N> {
    fn clone(&self) -> Self {
        Slot {
            node: self.node.clone(),
            rng: self.rng.clone(),
            disk: self.disk.clone(),
            timers: self.timers.clone(),
            drift_ppm: self.drift_ppm,
            sends: self.sends,
            sends_to: self.sends_to,
            marks: self.marks.clone(),
            down_since: self.down_since,
        }
    }
    fn clone_from(&mut self, source: &Self) {
        // Destructured: a field added to `Slot` and forgotten here does not compile.
        let Slot { node, rng, disk, timers, drift_ppm, sends, sends_to, marks, down_since } =
            source;
        self.node.clone_from(node);
        self.rng.clone_from(rng);
        self.disk.clone_from(disk);
        self.timers.clone_from(timers);
        self.drift_ppm = *drift_ppm;
        self.sends = *sends;
        self.sends_to = *sends_to;
        self.marks.clone_from(marks);
        self.down_since = *down_since;
    }
}

impl<P: Protocol, N: Clone> Clone for World<P, N> {
    fn clone(&self) -> Self {
        World {
            nodes: self.nodes,
            now: self.now,
            slots: self.slots.clone(),
            factory: self.factory.clone(),
            links: self.links.clone(),
            topology: self.topology.clone(),
            hosts: self.hosts.clone(),
            colocated: self.colocated,
            plan: self.plan.clone(),
            triggers: self.triggers.clone(),
            trace: self.trace.clone(),
            effects: self.effects.clone(),
            stats: self.stats,
            next_msg_id: self.next_msg_id,
            next_timer_token: self.next_timer_token,
            applying: self.applying,
            in_liveness: self.in_liveness,
            started: self.started,
            in_flight: self.in_flight.clone(),
            interchangeable: self.interchangeable.clone(),
        }
    }
    fn clone_from(&mut self, source: &Self) {
        // Destructured: a field added to `World` and forgotten here does not compile.
        let World {
            nodes,
            now,
            slots,
            factory,
            links,
            topology,
            hosts,
            colocated,
            plan,
            triggers,
            trace,
            effects,
            stats,
            next_msg_id,
            next_timer_token,
            applying,
            in_liveness,
            started,
            in_flight,
            interchangeable,
        } = source;
        self.nodes = *nodes;
        self.now = *now;
        self.slots.clone_from(slots);
        if !Rc::ptr_eq(&self.factory, factory) {
            self.factory = factory.clone();
        }
        share(&mut self.links, links);
        share(&mut self.topology, topology);
        self.hosts.clone_from(hosts);
        self.colocated = *colocated;
        if !Rc::ptr_eq(&self.plan, plan) {
            self.plan = plan.clone();
        }
        self.triggers.clone_from(triggers);
        self.trace.clone_from(trace);
        self.effects.clone_from(effects);
        self.stats = *stats;
        self.next_msg_id = *next_msg_id;
        self.next_timer_token = *next_timer_token;
        self.applying = *applying;
        self.in_liveness = *in_liveness;
        self.started = *started;
        self.in_flight.clone_from(in_flight);
        share(&mut self.interchangeable, interchangeable);
    }
}

impl<P: Protocol, N: Process<P>> World<P, N> {
    /// Validates `config` and `plan`, builds every node fresh and runs its `on_start`, with
    /// no scheduler: what the nodes send stays in flight (see [`World::apply`]). Without a
    /// clock, the plan's time-triggered faults fire only when an explorer applies
    /// [`Event::Fault`](crate::Event::Fault); mark and send triggers fire as in a timed run.
    /// An explorer clones worlds at every branch: a `full` trace is cloned with them, so
    /// exploration usually runs at level `off` (the trace hash is still kept).
    pub fn new(
        config: SimConfig,
        plan: FaultPlan,
        factory: impl Fn(NodeId, Boot<'_, P::Record>) -> N + 'static,
    ) -> Result<Self, SimError> {
        let mut world = Self::unstarted(config, plan, Rc::new(factory))?;
        let mut in_flight = std::mem::take(&mut world.in_flight);
        world.start(&mut in_flight);
        world.in_flight = in_flight;
        Ok(world)
    }

    /// Validates `config` and `plan` and builds a world whose nodes have not started yet: a
    /// scheduler queues what it must before the nodes' first effects (the runner queues the
    /// plan's time triggers), then calls [`start`](Self::start).
    pub fn unstarted(
        config: SimConfig,
        plan: FaultPlan,
        factory: Factory<P, N>,
    ) -> Result<Self, SimError> {
        config.validate()?;
        plan.validate(config.nodes)?;
        let n = config.nodes as usize;
        let slots = (0..config.nodes)
            .map(|i| Slot {
                node: None,
                rng: stream(config.seed, StreamDomain::Node, i as u64, 0),
                disk: Disk::default(),
                timers: Armed::default(),
                drift_ppm: 0,
                sends: 0,
                sends_to: 0,
                marks: Vec::new(),
                down_since: None,
            })
            .collect();
        let (mut marks, mut sends) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        let mut any_mark = Vec::new();
        for (i, f) in plan.faults.iter().enumerate() {
            let index = i as u32;
            match &f.trigger {
                Trigger::Time { .. } => {} // the scheduler's business
                Trigger::Mark { node, mark, nth } => {
                    marks[node.index()].push((mark.clone(), *nth, index))
                }
                Trigger::Sends { node, count } => sends[node.index()].push((*count, index)),
                Trigger::AnyMark { mark, nth, after_us } => {
                    any_mark.push((mark.clone(), *nth, *after_us, index))
                }
            }
        }
        let triggers = Triggers {
            mark: marks.into(),
            sends: sends.into(),
            any_mark: any_mark.into(),
            any_counts: Vec::new(),
            marked: vec![None; plan.faults.len()],
            fired: vec![false; plan.faults.len()],
            fired_at: vec![None; plan.faults.len()],
            armed: true,
        };
        Ok(World {
            nodes: config.nodes,
            now: Time::ZERO,
            slots,
            factory,
            links: Arc::new(Links::new(config.nodes, &config.network)),
            topology: Arc::new(Topology::new(config.nodes)),
            colocated: config.hosts.is_some(),
            hosts: config.hosts.unwrap_or_default(),
            plan: Rc::new(plan),
            triggers,
            trace: Trace::new(config.trace),
            effects: Vec::with_capacity(16),
            stats: RunStats::default(),
            next_msg_id: 0,
            next_timer_token: 0,
            applying: None,
            in_liveness: false,
            started: false,
            in_flight: InFlight::default(),
            interchangeable: Arc::from(Vec::new()),
        })
    }

    /// Builds every node fresh and runs its `on_start`, in id order, handing what they
    /// schedule to `sched`. Panics if the world has started already.
    pub fn start(&mut self, sched: &mut impl Schedule<P>) {
        self.start_in(&mut Plain(sched))
    }

    fn start_in(&mut self, sched: &mut impl Sched<P>) {
        assert!(!self.started, "a world starts once");
        self.started = true;
        for i in 0..self.nodes {
            let id = NodeId(i);
            if self.colocated && self.host_mates(id).iter().any(|m| self.down_since(*m).is_some()) {
                // A host mate's start crashed the host: this process never starts either.
                self.slots[id.index()].down_since = Some(self.now);
                self.stats.crashes += 1;
                self.trace.record(self.now, id, TraceKind::Crash { cut: 0 });
                continue;
            }
            self.boot(id, false, sched);
        }
    }
}

// ----- inspection ----------------------------------------------------------------------------

impl<P: Protocol, N> World<P, N> {
    /// The virtual time: where a timed scheduler has brought the world (an explorer's world
    /// stays at zero).
    pub fn now(&self) -> Time {
        self.now
    }
    /// Moves the clock to `t` before a timed scheduler applies the event due then. Time
    /// never goes backwards: an earlier `t` is ignored.
    pub fn advance_to(&mut self, t: Time) {
        self.now = self.now.max(t);
    }
    pub fn node_count(&self) -> u32 {
        self.nodes
    }
    /// The host `id` runs on: its own id unless hosts are configured.
    pub fn host_of(&self, id: NodeId) -> u32 {
        if self.colocated { self.hosts[id.index()] } else { id.0 }
    }
    /// Whether a message from `from` to `to` is local (same host, co-location configured).
    #[inline]
    pub fn is_local(&self, from: NodeId, to: NodeId) -> bool {
        self.colocated && self.hosts[from.index()] == self.hosts[to.index()]
    }
    /// The nodes on `id`'s host, ascending (`id` included).
    pub(crate) fn host_mates(&self, id: NodeId) -> Vec<NodeId> {
        let host = self.hosts[id.index()];
        (0..self.nodes).map(NodeId).filter(|n| self.hosts[n.index()] == host).collect()
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
    /// The timers `id` has armed, in timer order.
    pub fn armed_timers(&self, id: NodeId) -> impl Iterator<Item = &P::Timer> + '_ {
        self.slots[id.index()].timers.keys()
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
        self.links.config(from, to)
    }
    pub fn trace(&self) -> &Trace<P> {
        &self.trace
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
    /// When each fault of the plan fired (`None`: it never did).
    pub fn fired_at(&self) -> &[Option<Time>] {
        &self.triggers.fired_at
    }
    /// Whether faults may still happen (false once the liveness phase began).
    pub fn faults_armed(&self) -> bool {
        self.triggers.armed
    }
    pub fn in_liveness_phase(&self) -> bool {
        self.in_liveness
    }
    /// The messages in flight that no scheduler holds, in send order (empty in the runner's
    /// world: its messages ride in its queue).
    pub fn in_flight(&self) -> &[Envelope<P>] {
        &self.in_flight.messages
    }
    /// Recoveries a fault scheduled that no scheduler holds.
    pub fn pending_recoveries(&self) -> &[NodeId] {
        &self.in_flight.recoveries
    }

    /// The world's fingerprint: a stable hash of exactly the state-defining parts (see the
    /// module docs). Equal worlds have equal fingerprints, whatever path reached them.
    pub fn fingerprint(&self) -> u64
    where
        N: Hash,
    {
        self.fingerprint_by(&AsIs)
    }

    /// The fingerprint the world would have with its nodes renamed by `r`: the renamed
    /// slots in their new places, every id inside node states, timers, records and messages
    /// mapped (see [`crate::rename`]). The identity renaming gives [`fingerprint`](Self::fingerprint).
    /// Only for a world without a fault plan and without co-location (the plan's triggers
    /// and the hosts name nodes and are not renamed).
    pub fn fingerprint_renamed(&self, r: &Renaming) -> u64
    where
        N: Hash + Clone + Rename,
        P::Msg: Rename,
        P::Timer: Rename,
        P::Record: Rename,
    {
        assert!(self.plan.faults.is_empty(), "renaming a world with a fault plan");
        assert!(!self.colocated, "renaming a world with co-located nodes");
        assert_eq!(r.nodes(), self.nodes, "a renaming of another cluster");
        self.fingerprint_by(&Renamed(r))
    }

    /// The nodes [`symmetric_fingerprint`](Self::symmetric_fingerprint) permutes.
    pub fn interchangeable(&self) -> &[NodeId] {
        &self.interchangeable
    }

    /// Declares `nodes` interchangeable (see [`crate::rename`]): a model that knows them to
    /// be configured alike says so once, on its initial world; clones keep it.
    pub fn with_interchangeable(mut self, nodes: Vec<NodeId>) -> Self {
        assert!(
            nodes.len() <= MAX_INTERCHANGEABLE,
            "at most {MAX_INTERCHANGEABLE} interchangeable nodes"
        );
        assert!(nodes.iter().all(|n| n.0 < self.nodes), "an interchangeable node out of range");
        self.interchangeable = nodes.into();
        self
    }

    /// The world's key up to a permutation of its [interchangeable](Self::interchangeable)
    /// nodes: the smallest, over every such permutation `r`, of the renamed fingerprint
    /// combined with what `extra` hashes for `r` (a model's own state beside the world,
    /// renamed by `r` too). Worlds that are renamings of each other get the same key, and
    /// (hash collisions aside) no others: an exact orbit representative.
    pub fn symmetric_fingerprint(&self, mut extra: impl FnMut(&Renaming, &mut StableHasher)) -> u64
    where
        N: Hash + Clone + Rename,
        P::Msg: Rename,
        P::Timer: Rename,
        P::Record: Rename,
    {
        Renaming::permutations(self.nodes, &self.interchangeable)
            .iter()
            .map(|r| {
                let mut h = StableHasher::default();
                h.write_u64(self.fingerprint_renamed(r));
                extra(r, &mut h);
                h.finish()
            })
            .min()
            .expect("the identity is a permutation")
    }

    /// The fingerprint, with node ids seen through `names` (as they are, or renamed).
    fn fingerprint_by(&self, names: &impl Names<P, N>) -> u64 {
        let mut h = StableHasher::default();
        h.write_u32(self.nodes);
        for new in 0..self.nodes {
            let i = names.slot(NodeId(new)).index();
            let s = &self.slots[i];
            match &s.node {
                None => h.write_u8(0),
                Some(node) => {
                    h.write_u8(1);
                    names.node(node, &mut h);
                }
            }
            names.records(s.disk.records(), &mut h);
            h.write_usize(s.timers.len());
            names.timers(&mut s.timers.keys(), &mut h);
            h.write_i64(s.drift_ppm);
            // The counters a trigger still reads, capped where they stop mattering.
            if let Some(cap) = self.triggers.sends[i].iter().map(|&(count, _)| count).max() {
                h.write_u64(s.sends.min(cap));
            }
            let mut marks: Vec<(&str, u32)> = s
                .marks
                .iter()
                .filter_map(|&(name, count)| {
                    let cap = self.triggers.mark[i]
                        .iter()
                        .filter(|(mark, _, _)| mark == name)
                        .map(|&(_, nth, _)| nth)
                        .max()?;
                    Some((name, count.min(cap)))
                })
                .collect();
            marks.sort_unstable();
            marks.hash(&mut h);
        }
        let mut messages: Vec<u64> =
            self.in_flight.messages.iter().map(|e| names.message(e)).collect();
        messages.sort_unstable();
        messages.hash(&mut h);
        let mut recoveries: Vec<NodeId> =
            self.in_flight.recoveries.iter().map(|&n| names.id(n)).collect();
        recoveries.sort_unstable();
        recoveries.hash(&mut h);
        let mut cut: Vec<(NodeId, NodeId)> = self
            .topology
            .cut_links()
            .into_iter()
            .map(|(a, b)| (names.id(a), names.id(b)))
            .collect();
        cut.sort_unstable();
        cut.hash(&mut h);
        self.links.hash_into(&mut h, |new| names.slot(new));
        if !self.triggers.any_mark.is_empty() {
            self.hash_any_marks(&mut h);
        }
        self.triggers.fired.hash(&mut h);
        (self.triggers.armed, self.in_liveness).hash(&mut h);
        h.finish()
    }

    /// The `any_mark` triggers' progress: cluster-wide counts (capped where they stop
    /// mattering) and the nodes matched so far. Hashed only when the plan has such a
    /// trigger, so other plans keep their fingerprints.
    fn hash_any_marks(&self, h: &mut StableHasher) {
        let mut any_counts: Vec<(&str, u32)> = self
            .triggers
            .any_counts
            .iter()
            .filter_map(|&(name, count)| {
                let cap = self
                    .triggers
                    .any_mark
                    .iter()
                    .filter(|(mark, ..)| mark == name)
                    .map(|&(_, nth, ..)| nth)
                    .max()?;
                Some((name, count.min(cap)))
            })
            .collect();
        any_counts.sort_unstable();
        any_counts.hash(h);
        self.triggers.marked.hash(h);
    }
}

/// How [`World::fingerprint_by`] sees node ids: as they are, or renamed.
trait Names<P: Protocol, N> {
    /// What node `id` is called.
    fn id(&self, id: NodeId) -> NodeId;
    /// The node called `new`: whose slot is hashed in place `new`.
    fn slot(&self, new: NodeId) -> NodeId;
    fn node(&self, node: &N, h: &mut StableHasher);
    fn records(&self, records: &[P::Record], h: &mut StableHasher);
    /// `timers` in timer order; hashed in the order of their (renamed) values.
    fn timers(&self, timers: &mut dyn Iterator<Item = &P::Timer>, h: &mut StableHasher);
    /// One in-flight message's own hash: sender, receiver and payload.
    fn message(&self, e: &Envelope<P>) -> u64;
}

/// Node ids as they are: the world's own fingerprint.
struct AsIs;

impl<P: Protocol, N: Hash> Names<P, N> for AsIs {
    #[inline]
    fn id(&self, id: NodeId) -> NodeId {
        id
    }
    #[inline]
    fn slot(&self, new: NodeId) -> NodeId {
        new
    }
    #[inline]
    fn node(&self, node: &N, h: &mut StableHasher) {
        node.hash(h);
    }
    #[inline]
    fn records(&self, records: &[P::Record], h: &mut StableHasher) {
        records.hash(h);
    }
    #[inline]
    fn timers(&self, timers: &mut dyn Iterator<Item = &P::Timer>, h: &mut StableHasher) {
        timers.for_each(|t| t.hash(h));
    }
    #[inline]
    fn message(&self, e: &Envelope<P>) -> u64 {
        let mut d = StableHasher::default();
        (e.from, e.to, &e.msg).hash(&mut d);
        d.finish()
    }
}

/// Node ids renamed: every value holding one is copied and renamed before it is hashed.
struct Renamed<'a>(&'a Renaming);

impl<P, N> Names<P, N> for Renamed<'_>
where
    P: Protocol,
    N: Hash + Clone + Rename,
    P::Msg: Rename,
    P::Timer: Rename,
    P::Record: Rename,
{
    fn id(&self, id: NodeId) -> NodeId {
        self.0.of(id)
    }
    fn slot(&self, new: NodeId) -> NodeId {
        self.0.inverse(new)
    }
    fn node(&self, node: &N, h: &mut StableHasher) {
        node.renamed(self.0).hash(h);
    }
    fn records(&self, records: &[P::Record], h: &mut StableHasher) {
        // As a slice hashes: its length, then each element.
        h.write_usize(records.len());
        records.iter().for_each(|r| r.renamed(self.0).hash(h));
    }
    fn timers(&self, timers: &mut dyn Iterator<Item = &P::Timer>, h: &mut StableHasher) {
        let mut renamed: Vec<P::Timer> = timers.map(|t| t.renamed(self.0)).collect();
        renamed.sort_unstable();
        renamed.iter().for_each(|t| t.hash(h));
    }
    fn message(&self, e: &Envelope<P>) -> u64 {
        let mut d = StableHasher::default();
        (self.0.of(e.from), self.0.of(e.to), &e.msg.renamed(self.0)).hash(&mut d);
        d.finish()
    }
}

/// Worlds are equal when their fingerprints are (see the module docs).
impl<P: Protocol, N: Hash> PartialEq for World<P, N> {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint() == other.fingerprint()
    }
}

impl<P: Protocol, N: Hash> Eq for World<P, N> {}

impl<P: Protocol, N: Hash> Hash for World<P, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint());
    }
}
