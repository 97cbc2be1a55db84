//! Depth-first search on several threads, reporting what the one-thread search reports.
//!
//! Each worker runs depth first over its own stack; all of them share one visited set
//! ([`SharedVisited`]: a lock per segment), so every reachable state is expanded exactly
//! once by some worker. A worker whose stack runs dry waits for work; a busy worker that
//! sees one waiting hands it the older half of its stack (the roots of the largest subtrees
//! it has not begun: so few hand-overs are needed), detached from its thread's handles
//! ([`Detached`]).
//!
//! Which worker reaches a state first, and from where, depends on the interleaving; the
//! result must not. What a complete search that finds nothing reports is a function of the
//! state graph alone: the reachable states (`unique_states`), one expansion each (`states`,
//! the transitions taken), whether a branch was cut for capacity. The exception is
//! `max_depth`, the depth each state was first reached at: the one-thread search's depths
//! are those of its order. So every transition is checked ([`super::depths`]): a state at
//! depth d whose successor (other than itself) is not at depth d + 1 (by the depth stored
//! with its key, or by the model's potential) means two paths of different lengths may
//! reach one state. When no such transition exists, every path to a state has the same
//! length, the depth of every state is that of any order, and so is `max_depth`
//! (`tla-two-phase` is such a model: each step advances exactly one RM, the TM or
//! `tmPrepared`, and it declares that count as its potential).
//!
//! Everything that depends on the order is left to the one-thread search ([`super::dfs`]),
//! which is deterministic: a violation (the first one in its order is the one reported,
//! with its path), a `max_states` bound that cuts the search (its first M states), a
//! `max_depth` bound (not tried here at all), a depth-inconsistent model (above), a stored
//! depth beyond a byte. The parallel search then stops, and the one-thread search runs from the
//! start and is the result. So the result is the one-thread search's for any thread count,
//! by construction; it is faster only when it holds.

use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::process::{Process, Protocol};
use crate::world::World;

use super::depths::{Depths, Potential, StoredDepths, Visit};
use super::detached::Detached;
use super::path::{report, violated, world_key};
use super::report::ExploreReport;
use super::successors::{Spare, Used, expand};
use super::visited::key;
use super::{ExploreConfig, Model, Progress, Rules, dfs};

/// How often (in states a worker expanded) progress is reported and counts are published.
const PROGRESS_EVERY: u64 = 1 << 16;

/// A state waiting to be expanded by the worker holding it.
struct Entry<P: Protocol, N> {
    world: Box<World<P, N>>,
    depth: u32,
    key: u64,
    used: Used,
}

/// An entry handed from one worker to another.
struct Shipped<P: Protocol, N> {
    world: Detached<P, N>,
    depth: u32,
    key: u64,
    used: Used,
}

/// Entries handed over (in batches, each the bottom of a stack), and who waits for them.
struct Pool<P: Protocol, N> {
    batches: Vec<Vec<Shipped<P, N>>>,
    /// Workers waiting for an entry.
    idle: usize,
    /// Every worker is idle with nothing to hand over, or the search was abandoned.
    done: bool,
}

/// What the workers share.
struct Shared<P: Protocol, N, D> {
    /// The visited set, checking every state's depth.
    visited: D,
    pool: Mutex<Pool<P, N>>,
    wake: Condvar,
    /// Workers waiting (read without the lock, to decide whether to hand work over).
    hungry: AtomicUsize,
    /// The result depends on the order: stop, the one-thread search decides.
    abandoned: AtomicBool,
    /// Unique states inserted, counted only under `max_states` (it must be exact there).
    inserted: AtomicU64,
    /// Transitions taken, published now and then for progress.
    states: AtomicU64,
}

/// What one worker found.
#[derive(Default)]
struct Tally {
    states: u64,
    max_depth: u32,
    incomplete: bool,
}

/// DFS on `config.threads` threads, or on the calling thread alone (see the module docs).
pub(super) fn run<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
{
    if config.threads <= 1 || config.max_depth.is_some() {
        return dfs::run(model, config);
    }
    search(model, config).unwrap_or_else(|| dfs::run(model, config))
}

/// The parallel search: its report, or `None` when the result depends on the order.
fn search<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> Option<ExploreReport>
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
{
    let root = (model.init)();
    match model.potential {
        Some(potential) => search_with(model, config, Potential::new(potential, &root), root),
        None => search_with(model, config, StoredDepths::default(), root),
    }
}

/// The parallel search from `root`, visiting states in `visited`.
fn search_with<P, N, D>(
    model: &Model<P, N>,
    config: &ExploreConfig,
    visited: D,
    root: World<P, N>,
) -> Option<ExploreReport>
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
    D: Depths<P, N>,
{
    let rules = Rules::of(config);
    let threads = config.threads;
    let shared = Shared {
        visited,
        pool: Mutex::new(Pool { batches: Vec::new(), idle: 0, done: false }),
        wake: Condvar::new(),
        hungry: AtomicUsize::new(0),
        abandoned: AtomicBool::new(false),
        inserted: AtomicU64::new(1),
        states: AtomicU64::new(0),
    };
    let root_key = key(world_key(model, &rules, &root), Used::default());
    assert_eq!(shared.visited.visit(root_key, &root, 0), Visit::New, "the first key");
    let first = Entry { world: Box::new(root), depth: 0, key: root_key, used: Used::default() };
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let shared = &shared;
        let rules = &rules;
        let helpers: Vec<_> = (1..threads)
            .map(|_| s.spawn(move || worker(model, config, rules, shared, None)))
            .collect();
        let mine = worker(model, config, rules, shared, Some(first));
        let mut tallies = vec![mine];
        tallies.extend(helpers.into_iter().map(|h| h.join().expect("an explorer worker panicked")));
        tallies
    });
    if shared.abandoned.load(Ordering::SeqCst) {
        return None;
    }
    let states = 1 + tallies.iter().map(|t| t.states).sum::<u64>();
    let max_depth = tallies.iter().map(|t| t.max_depth).max().unwrap_or(0);
    let incomplete = tallies.iter().any(|t| t.incomplete);
    let unique_states = shared.visited.len() as u64;
    let report = report(model, &rules, None, incomplete, unique_states, states, max_depth);
    Some(ExploreReport { threads_used: threads, ..report })
}

/// One worker: depth first from its own stack until every worker is idle or the search is
/// abandoned. Only the first worker (`first`: the initial state, on the calling thread)
/// reports progress.
fn worker<P, N, D>(
    model: &Model<P, N>,
    config: &ExploreConfig,
    rules: &Rules,
    shared: &Shared<P, N, D>,
    first: Option<Entry<P, N>>,
) -> Tally
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
    D: Depths<P, N>,
{
    let reporter = first.is_some();
    let template = (model.init)();
    let mut stack: Vec<Entry<P, N>> = first.into_iter().collect();
    let mut spare = Spare::default();
    let mut fresh = Vec::new();
    let mut tally = Tally::default();
    let (mut expanded, mut published) = (0u64, 0u64);
    loop {
        if stack.is_empty() {
            take(shared, &template, config.threads, &mut stack);
        }
        let Some(entry) = stack.pop() else { break };
        if shared.abandoned.load(Ordering::Relaxed) {
            break;
        }
        let Entry { world, depth, key: parent, used } = entry;
        if violated(model, &world).is_some() {
            abandon(shared);
            break;
        }
        let mut order_dependent = false;
        let x = expand(&world, used, rules, &mut spare, |branch, w, u| {
            tally.states += 1;
            if branch.panicked || order_dependent {
                order_dependent |= branch.panicked; // a violation: the one thread reports it
                return Some(w);
            }
            let k = key(world_key(model, rules, &w), u);
            if k == parent {
                return Some(w); // a self-loop: reached at the state's own depth
            }
            let next = depth + 1;
            match shared.visited.visit(k, &w, next) {
                Visit::Seen => Some(w),
                Visit::OrderDependent => {
                    order_dependent = true;
                    Some(w)
                }
                Visit::New => {
                    if let Some(m) = config.max_states {
                        // The one-thread search stops at the (m + 1)-th state: so does this.
                        order_dependent |= shared.inserted.fetch_add(1, Ordering::Relaxed) >= m;
                    }
                    fresh.push(Entry { world: w, depth: next, key: k, used: u });
                    None
                }
            }
        });
        if order_dependent {
            abandon(shared);
            break;
        }
        tally.incomplete |= x.over_capacity;
        if !fresh.is_empty() {
            tally.max_depth = tally.max_depth.max(depth + 1);
        }
        stack.extend(fresh.drain(..).rev());
        spare.put(world);
        if shared.hungry.load(Ordering::Relaxed) > 0 && stack.len() >= 2 {
            hand_over(shared, &mut stack);
        }
        expanded += 1;
        if expanded.is_multiple_of(PROGRESS_EVERY) {
            shared.states.fetch_add(tally.states - published, Ordering::Relaxed);
            published = tally.states;
            if reporter && let Some(progress) = &config.progress {
                progress(&Progress {
                    unique_states: shared.visited.len() as u64,
                    states: 1 + shared.states.load(Ordering::Relaxed),
                    depth: tally.max_depth,
                    queue: stack.len() as u64,
                });
            }
        }
    }
    tally
}

/// Hands the older half of `stack` to a waiting worker, unless every waiting worker has a
/// batch already.
fn hand_over<P, N, D>(shared: &Shared<P, N, D>, stack: &mut Vec<Entry<P, N>>)
where
    P: Protocol,
    N: Process<P>,
{
    let mut pool = shared.pool.lock().expect("the pool");
    if pool.batches.len() >= pool.idle {
        return;
    }
    let batch = stack.drain(..stack.len() / 2).map(|Entry { world, depth, key, used }| Shipped {
        world: Detached::from_world(*world),
        depth,
        key,
        used,
    });
    let batch = batch.collect();
    pool.batches.push(batch);
    drop(pool);
    shared.wake.notify_one();
}

/// Fills the empty `stack` with a batch another worker handed over, waiting for one; leaves
/// it empty when every worker is idle with nothing handed over (the search is done) or the
/// search was abandoned.
fn take<P, N, D>(
    shared: &Shared<P, N, D>,
    template: &World<P, N>,
    threads: usize,
    stack: &mut Vec<Entry<P, N>>,
) where
    P: Protocol,
    N: Process<P>,
{
    let mut pool = shared.pool.lock().expect("the pool");
    loop {
        if pool.done {
            return;
        }
        if let Some(batch) = pool.batches.pop() {
            drop(pool);
            stack.extend(batch.into_iter().map(|Shipped { world, depth, key, used }| Entry {
                world: Box::new(world.attach(template)),
                depth,
                key,
                used,
            }));
            return;
        }
        pool.idle += 1;
        if pool.idle == threads {
            pool.done = true;
            shared.wake.notify_all();
            return;
        }
        shared.hungry.fetch_add(1, Ordering::Relaxed);
        pool = shared.wake.wait(pool).expect("the pool");
        shared.hungry.fetch_sub(1, Ordering::Relaxed);
        pool.idle -= 1;
    }
}

/// Stops every worker: the one-thread search will decide.
fn abandon<P: Protocol, N, D>(shared: &Shared<P, N, D>) {
    shared.abandoned.store(true, Ordering::SeqCst);
    let mut pool = shared.pool.lock().expect("the pool");
    pool.done = true;
    pool.batches.clear();
    drop(pool);
    shared.wake.notify_all();
}
