//! The exhaustive explorer: a scheduler over [`World`] that takes every branch.
//!
//! Random search misses the improbable (two crashes at two particular points, a crash
//! between two effects of one handler); an explorer does not. It drives the very nodes the
//! time-ordered runner drives, through the same seam ([`World::enabled`],
//! [`World::apply`]): from every reached state, each enabled event is a branch (deliver any
//! in-flight message, fire any armed timer), each option of every
//! [`choose`](crate::Context::choose) a handler makes is a branch, and, within a fault
//! [`Budget`], so is crashing any up node (also after the k-th effect of a handler),
//! recovering a down one, dropping or duplicating any message in flight, and partitioning
//! the cluster in two (then healing it). Time is
//! abstracted: any armed timer may fire next, which over-approximates every latency, so a
//! violation found is real for some timing and "none found" holds for all of them within the
//! budget (DESIGN, "Exploration semantics").
//!
//! States are deduplicated by a 64-bit key: the world's [`fingerprint`](World::fingerprint)
//! (or a model's *view* of it, as TLC's `VIEW`: a coarser key a model may declare when it
//! knows two worlds to be equivalent), combined with the fault budget spent so far. BFS
//! ([`bfs`]) runs level by level, expanding a level's states on `threads` threads and
//! merging what they produced in the level's order, so counts and the counterexample (the
//! first violating state in BFS order: a shortest one) are the same for any thread count.
//! DFS ([`dfs`]) keeps only the unexpanded states; on several threads
//! ([`parallel_dfs`]) it shares one visited set and reports what one thread reports (it
//! leaves every order-dependent outcome, such as a violation, to the one-thread search).
//!
//! A delay bound ([`ExploreConfig::delays`]) cuts the order rather than the faults: the
//! search takes every path that deviates from one default order (the oldest message first,
//! a timer only when nothing is in flight) at most D times, so a deep bug that needs few
//! deviations is found in a small state space (`delays.rs` says how, and why it is
//! exhaustive within its bound).
//!
//! A handler that panics is a finding: the step reaches a state that violates [`NO_PANIC`]
//! (`no-panic`), reported with the path to it like any other violation, and replayed the
//! same way; the explorer itself goes on (the panic is caught around the one step).
//!
//! Nothing here names a protocol: a model is an initial world plus predicates over worlds.

mod bfs;
mod delays;
mod depths;
mod detached;
mod dfs;
mod draw;
mod pages;
mod parallel_dfs;
mod path;
mod report;
mod successors;
mod visited;

use std::fmt;
use std::sync::Arc;

pub use draw::{Diagrams, Drawing, STEP_US, draw};
pub use path::{Replayed, replay};
pub use report::{Counterexample, ExploreReport, Verdict};
pub use successors::{NO_PANIC, Step};

use crate::process::{Process, Protocol};
use crate::world::World;

/// A model's view: a state key coarser than the world's fingerprint.
pub type ViewFn<P, N> = fn(&World<P, N>) -> u64;

/// A model's potential: a number that every step raises by exactly one.
pub type PotentialFn<P, N> = fn(&World<P, N>) -> u64;

/// A named predicate over worlds: true when the property holds in that state.
pub struct Predicate<P: Protocol, N> {
    pub name: &'static str,
    pub holds: fn(&World<P, N>) -> bool,
}

/// What to explore: an initial world and what must hold in it and everything it reaches.
pub struct Model<P: Protocol, N> {
    /// Builds the initial world. Called once per worker thread and level (worlds hold
    /// `Rc`s and never cross threads whole), so it must build the same world every time.
    pub init: Box<dyn Fn() -> World<P, N> + Send + Sync>,
    /// A coarser state key than [`World::fingerprint`], when the model knows that worlds
    /// with equal views have the same futures (as TLC's `VIEW`). `None`: the fingerprint.
    pub view: Option<ViewFn<P, N>>,
    /// A function of the state key (worlds with equal keys have equal potentials) that
    /// every step to another state raises by exactly one, when the model knows one: then a
    /// state's depth is its potential less the initial state's, in any search order, and
    /// DFS on several threads keeps no depth per state (it checks every transition against
    /// the potential instead, and leaves the search to one thread at the first step that
    /// does not raise it by one). `None`: the depths are stored and checked.
    pub potential: Option<PotentialFn<P, N>>,
    /// Checked on every reached state.
    pub invariants: Vec<Predicate<P, N>>,
    /// Checked on terminal states: those where nothing but a fault is enabled.
    pub terminal: Vec<Predicate<P, N>>,
    /// How to draw a counterexample (`None`: it is reported as steps only).
    pub drawing: Option<Drawing<P, N>>,
}

/// The faults an explorer may inject along one path, at most.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    /// Crash an up node, between steps or after the k-th effect of one of its handlers.
    pub crashes: u32,
    /// Recover a down node (recoveries a fault plan scheduled are not counted).
    pub recoveries: u32,
    /// Lose one in-flight message.
    pub drops: u32,
    /// Deliver one in-flight message twice.
    pub duplicates: u32,
    /// Split the whole cluster in two groups (every split is a branch). Healing every link
    /// is offered whenever some link is cut and is not counted: partitions bound the cycles.
    pub partitions: u32,
}

impl Budget {
    pub fn is_zero(&self) -> bool {
        *self == Budget::default()
    }
}

/// When an armed timer may fire: time is abstracted either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timers {
    /// Any armed timer may fire next, whatever is in flight: every latency, including a
    /// message slower than any timeout (an asynchronous network). Sound for every timing.
    #[default]
    Any,
    /// A timer fires only when no message is in flight: every timeout outlasts every message
    /// delay (a synchronous network, the assumption of 3PC's non-blocking claim). Timers
    /// still fire in any order among themselves.
    Quiescent,
}

impl Timers {
    pub fn name(self) -> &'static str {
        match self {
            Timers::Any => "any",
            Timers::Quiescent => "quiescent",
        }
    }
}

/// What a search may do from a state: the fault budget and the timer rule.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    pub(crate) budget: Budget,
    pub(crate) timers: Timers,
    /// Steps a path may take off the default order (`None`: any; [`delays`]).
    pub(crate) delays: Option<u32>,
}

impl Rules {
    pub(crate) fn of(config: &ExploreConfig) -> Rules {
        Rules { budget: config.budget, timers: config.timers, delays: config.delays }
    }
}

/// Breadth-first (shortest counterexamples, parallel) or depth-first (less memory).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    #[default]
    Bfs,
    Dfs,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Bfs => "bfs",
            Strategy::Dfs => "dfs",
        }
    }
}

/// Where a search is, for a progress display (never affects the search).
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub unique_states: u64,
    pub states: u64,
    pub depth: u32,
    /// States waiting to be expanded (the BFS frontier, the DFS stack).
    pub queue: u64,
}

/// A callback told about progress from the thread that runs the search.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// How to explore (protocol-agnostic; a family maps it onto its own model).
#[derive(Clone, Default)]
pub struct ExploreConfig {
    pub strategy: Strategy,
    pub budget: Budget,
    /// When an armed timer may fire.
    pub timers: Timers,
    /// Take every path that deviates from the default order at most this many times
    /// (delay-bounded search, see `delays` in this module's source); `None`: every path.
    pub delays: Option<u32>,
    /// Stop (verdict incomplete) once this many unique states are known.
    pub max_states: Option<u64>,
    /// Do not expand states this many steps from the start (incomplete if one had more).
    pub max_depth: Option<u32>,
    /// Worker threads (0 or 1: the calling thread only). The result is the same for any
    /// count; DFS uses them only without `max_depth`, and only while nothing violates.
    pub threads: usize,
    pub progress: Option<ProgressFn>,
}

impl fmt::Debug for ExploreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExploreConfig")
            .field("strategy", &self.strategy)
            .field("budget", &self.budget)
            .field("timers", &self.timers)
            .field("delays", &self.delays)
            .field("max_states", &self.max_states)
            .field("max_depth", &self.max_depth)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

/// Explores `model` as `config` says and reports what it found.
pub fn explore<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone + std::hash::Hash + Send,
{
    let started = std::time::Instant::now(); // reporting only: never steers the search
    let mut report = match config.strategy {
        Strategy::Bfs => bfs::run(model, config),
        Strategy::Dfs => parallel_dfs::run(model, config),
    };
    report.wall = started.elapsed();
    report.bytes_per_state = report::bytes_per_state(report.unique_states);
    report
}
