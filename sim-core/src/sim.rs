//! The simulation: one single-threaded run of a cluster under a fault plan, driven by the
//! time-ordered runner.
//!
//! [`Simulation`] is a scheduler over a [`World`]: it keeps a `(time, seq)` queue of what is
//! due (deliveries with their payloads inline, timers, time-triggered faults, recoveries),
//! draws every message's fate from its link's PCG stream, and repeatedly pops the earliest
//! entry and applies it to the world, which runs the node's handler and applies its effects
//! in order. Fault triggers are checked as effects are applied, so a fault can land between
//! any two effects of one handler. Parallelism is across runs, never inside one.
//!
//! The queue is bounded: a run whose queue holds more than [`QUEUE_BOUND`] events stops with
//! [`Stop::Capacity`] (inconclusive) rather than growing without limit.
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
//! - **A host is the unit of failure.** [`Action::Crash`](crate::Action::Crash) of any node
//!   crashes every process on its host (in ascending id order; each gets its own `crash`
//!   trace event), and [`Action::Recover`](crate::Action::Recover) (or a crash's
//!   `recover_after_us`) recovers all of them. Fault plans keep naming nodes, so a mark
//!   trigger on one process can take its whole machine down.
//!
//! Without `hosts` the engine behaves exactly as before; the only cost on the hot path is one
//! predictable branch per send.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::disk::Disk;
use crate::error::SimError;
use crate::fault::{FaultPlan, Trigger};
use crate::id::NodeId;
use crate::network::LinkConfig;
use crate::process::{Boot, Process, Protocol};
use crate::queue::Pending;
use crate::time::{Duration, Time};
use crate::timed::Timed;
use crate::topology::Topology;
use crate::trace::{Tap, Trace};
use crate::world::World;

pub use crate::config::{RunStats, SimConfig};

pub use crate::world::Factory;

/// The most events the runner's queue may hold (deliveries, timers, faults, recoveries,
/// stale timer entries included). A `run_*` call that finds more stops with
/// [`Stop::Capacity`]: a protocol that floods the network is reported, not given all the
/// memory of the machine. The bound is checked every few thousand events, so the queue can
/// pass it by what those events push before the run stops. Far above any run the testbed
/// makes (W1 keeps four events queued).
pub const QUEUE_BOUND: usize = 1 << 22;

/// How many events a `run_*` call processes between two checks of the event budget and the
/// queue bound.
const CHECK_EVERY: u64 = 1 << 12;

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
    /// The queue held more than [`QUEUE_BOUND`] events: the run is inconclusive.
    Capacity,
}

impl Stop {
    /// Why a run that stopped here was cut short by one of its bounds, in words (`None`: it
    /// was not: it ran out of events, reached its horizon or its predicate). A cut-short run
    /// is inconclusive: what had to happen by its end may simply not have had its turn.
    pub fn cut_short(self, max_events: u64) -> Option<String> {
        match self {
            Stop::Quiescent | Stop::Horizon | Stop::Predicate => None,
            Stop::EventBudget => Some(format!("event budget of {max_events} events exhausted")),
            Stop::Capacity => {
                Some(format!("event queue bound of {QUEUE_BOUND} queued events exceeded"))
            }
        }
    }
}

/// A run in progress: the time-ordered runner over a [`World`].
pub struct Simulation<P: Protocol, N: Process<P>> {
    world: World<P, N>,
    timed: Timed<P>,
    max_events: u64,
}

impl<P: Protocol, N: Process<P>> Simulation<P, N> {
    /// Validates `config` and `plan`, builds every node fresh and runs its `on_start`.
    /// `factory` may be a closure or a boxed one (`Box<F>` is `Fn` too).
    pub fn new(
        config: SimConfig,
        plan: FaultPlan,
        factory: impl Fn(NodeId, Boot<'_, P::Record>) -> N + 'static,
    ) -> Result<Self, SimError> {
        Self::from_factory(config, plan, Rc::new(factory))
    }

    /// As [`new`](Self::new), with a shared factory.
    pub fn from_factory(
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
        factory: impl Fn(NodeId, Boot<'_, P::Record>) -> N + 'static,
        tap: Box<dyn Tap<P>>,
    ) -> Result<Self, SimError> {
        Self::build(config, plan, Rc::new(factory), Some(tap))
    }

    fn build(
        config: SimConfig,
        plan: FaultPlan,
        factory: Factory<P, N>,
        tap: Option<Box<dyn Tap<P>>>,
    ) -> Result<Self, SimError> {
        let (seed, max_events) = (config.seed, config.max_events);
        let mut world = World::unstarted(config, plan, factory)?;
        if let Some(tap) = tap {
            world.trace.set_tap(tap);
        }
        let mut timed = Timed::new(seed, &world.links);
        // Time triggers are queued before the nodes start: ties at one time go to the plan.
        for (i, f) in world.plan().faults.iter().enumerate() {
            if let Trigger::Time { at_us } = f.trigger {
                timed.queue.push(Time::from_us(at_us), Pending::Fault { index: i as u32 });
            }
        }
        world.start(&mut timed);
        Ok(Simulation { world, timed, max_events })
    }

    // ----- running -------------------------------------------------------------------

    /// Processes the next event, if any. Returns false when the queue is empty.
    #[inline]
    pub fn step(&mut self) -> bool {
        let Some(entry) = self.timed.queue.pop() else { return false };
        debug_assert!(entry.time >= self.world.now, "time went backwards");
        let world = &mut self.world;
        world.now = entry.time;
        world.stats.events += 1;
        let sched = &mut self.timed;
        match entry.what {
            Pending::Deliver(env) if world.is_local(env.from, env.to) => {
                world.deliver_local(env, sched)
            }
            Pending::Deliver(env) => world.deliver_network(env, sched),
            Pending::Timer { node, timer, token } => {
                world.fire_timer_in(node, timer, token, sched);
            }
            Pending::Fault { index } => world.fire_fault_in(index, sched),
            Pending::Recover { node } => world.recover_in(node, sched),
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
        // Events left in the budget beyond the current stretch, and events left in the
        // stretch: the event budget and the queue bound are checked once per stretch (at
        // most CHECK_EVERY events), so the hot loop pays one decrement per event. The budget
        // still stops at exactly `max_events`; the queue may pass its bound by what one
        // stretch pushes before the run stops.
        let mut budget = self.max_events;
        let mut stretch: u64 = 0;
        loop {
            match self.timed.queue.next_time() {
                None => {
                    if horizon != Time::MAX {
                        self.world.advance_to(horizon);
                    }
                    return Stop::Quiescent;
                }
                Some(t) if t > horizon => {
                    self.world.advance_to(horizon);
                    return Stop::Horizon;
                }
                Some(_) => {}
            }
            stretch = match stretch.checked_sub(1) {
                Some(left) => left,
                None => {
                    if budget == 0 {
                        return Stop::EventBudget;
                    }
                    if self.timed.queue.len() > QUEUE_BOUND {
                        return Stop::Capacity;
                    }
                    let next = budget.min(CHECK_EVERY);
                    budget -= next;
                    next - 1
                }
            };
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
        let horizon = self.now() + bound;
        self.run_until(horizon)
    }

    /// The first half of [`run_liveness_phase`](Self::run_liveness_phase), for callers that
    /// drive the clock themselves.
    pub fn begin_liveness_phase(&mut self) {
        self.world.begin_liveness_phase(&mut self.timed);
    }

    // ----- the world -------------------------------------------------------------------

    /// The world this runner drives. Its in-flight set is empty: the runner keeps its
    /// messages in its queue (see [`into_world`](Self::into_world)).
    pub fn world(&self) -> &World<P, N> {
        &self.world
    }

    /// Stops the runner and hands its world to another scheduler (an explorer, say): every
    /// queued delivery becomes an in-flight message (in the order the runner would have
    /// delivered them) and every queued recovery a pending one. Armed timers are already
    /// the world's; time-triggered faults not yet fired remain in the plan (see
    /// [`World::fired`]).
    pub fn into_world(mut self) -> World<P, N> {
        while let Some(entry) = self.timed.queue.pop() {
            match entry.what {
                Pending::Deliver(env) => self.world.in_flight.messages.push(env),
                Pending::Recover { node } => self.world.in_flight.recoveries.push(node),
                Pending::Timer { .. } | Pending::Fault { .. } => {}
            }
        }
        self.world
    }

    // ----- inspection ----------------------------------------------------------------------

    pub fn now(&self) -> Time {
        self.world.now()
    }
    pub fn node_count(&self) -> u32 {
        self.world.node_count()
    }
    /// The host `id` runs on: its own id unless hosts are configured.
    pub fn host_of(&self, id: NodeId) -> u32 {
        self.world.host_of(id)
    }
    /// Whether a message from `from` to `to` is local (same host, co-location configured).
    pub fn is_local(&self, from: NodeId, to: NodeId) -> bool {
        self.world.is_local(from, to)
    }
    /// The node's live state, `None` while it is down.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.world.node(id)
    }
    pub fn is_up(&self, id: NodeId) -> bool {
        self.world.is_up(id)
    }
    /// Since when `id` has been down, if it is.
    pub fn down_since(&self, id: NodeId) -> Option<Time> {
        self.world.down_since(id)
    }
    pub fn down_nodes(&self) -> Vec<NodeId> {
        self.world.down_nodes()
    }
    pub fn disk(&self, id: NodeId) -> &Disk<P::Record> {
        self.world.disk(id)
    }
    /// Send effects `id` has applied so far (including dropped messages).
    pub fn sends_by(&self, id: NodeId) -> u64 {
        self.world.sends_by(id)
    }
    /// Send effects addressed to `id` so far, by any node (including dropped messages).
    pub fn sends_to(&self, id: NodeId) -> u64 {
        self.world.sends_to(id)
    }
    pub fn topology(&self) -> &Topology {
        self.world.topology()
    }
    /// The configuration a link currently has (after any fault changed it).
    pub fn link_config(&self, from: NodeId, to: NodeId) -> LinkConfig {
        self.world.link_config(from, to)
    }
    pub fn trace(&self) -> &Trace<P> {
        self.world.trace()
    }
    /// The tap installed by [`with_tap`](Self::with_tap), if it is a `T`.
    pub fn tap_mut<T: Tap<P>>(&mut self) -> Option<&mut T> {
        self.world.trace.tap_mut::<T>()
    }
    pub fn trace_hash(&self) -> u64 {
        self.world.trace_hash()
    }
    pub fn stats(&self) -> RunStats {
        self.world.stats()
    }
    pub fn plan(&self) -> &FaultPlan {
        self.world.plan()
    }
    /// Which faults of the plan have fired.
    pub fn fired(&self) -> &[bool] {
        self.world.fired()
    }
    /// When each fault of the plan fired (`None`: it never did).
    pub fn fired_at(&self) -> &[Option<Time>] {
        self.world.fired_at()
    }
    pub fn in_liveness_phase(&self) -> bool {
        self.world.in_liveness_phase()
    }
    /// Events in the queue (stale timer entries included).
    pub fn pending_events(&self) -> usize {
        self.timed.queue.len()
    }
}
