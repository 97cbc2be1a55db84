//! Breadth-first search, level by level, on any number of threads with one result.
//!
//! A level's states are cut into contiguous chunks, one per worker; each worker checks its
//! states and expands them (keying every successor) on its own thread; then the calling
//! thread walks the workers' results in the level's order, inserting new keys into the
//! visited set. Which thread expanded what never shows: the visited set, the next level, the
//! counts and the first violation (in level order, so a shortest counterexample) are those
//! of the one-thread search.

use std::hash::Hash;

use crate::process::{Process, Protocol};
use crate::world::World;

use super::detached::Detached;
use super::path::{Arena, report, violated, world_key};
use super::report::ExploreReport;
use super::successors::{NO_PANIC, Spare, Used, expand};
use super::visited::{Visited, key};
use super::{ExploreConfig, Model, Progress, Rules};

/// Levels smaller than this many states per worker run on the calling thread.
const MIN_CHUNK: usize = 256;

struct Item<P: Protocol, N> {
    world: Detached<P, N>,
    id: u32,
    used: Used,
}

/// A successor not visited before its level: its world and the budget spent.
type Fresh<P, N> = (Detached<P, N>, Used);

/// One expanded state: the property it violates, or its successors.
struct Done<P: Protocol, N> {
    violation: Option<&'static str>,
    /// The first branch out of it whose step panicked (a successor violating no-panic).
    panicked: Option<u32>,
    /// Not expanded (the depth bound) although it had successors, or a branch was cut.
    cut: bool,
    /// Successors generated (each counts as a state, seen before or not).
    generated: u64,
    /// The successors neither visited before the level began (the visited set does not
    /// change while workers run: no thread sees another's result) nor generated before by
    /// the same worker in this level, in branch order: `(branch, key, world)`. A worker
    /// keeps each key's first world only, so a level holds about one world per new state.
    fresh: Vec<(u32, u64, Fresh<P, N>)>,
}

pub(super) fn run<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
{
    let rules = Rules::of(config);
    let root = (model.init)();
    let mut visited = Visited::default();
    visited.insert(key(world_key(model, &rules, &root), Used::default()));
    let mut arena = Arena::default();
    let root_id = arena.root();
    let mut frontier =
        vec![Item { world: Detached::from_world(root), id: root_id, used: Used::default() }];
    let (mut states, mut depth, mut incomplete) = (1u64, 0u32, false);
    let mut full = false;
    let mut found = None;
    while !frontier.is_empty() {
        let expanding = !full && config.max_depth.is_none_or(|d| depth < d);
        let ids: Vec<u32> = frontier.iter().map(|i| i.id).collect();
        let done = level(model, &rules, &visited, frontier, expanding, config.threads);
        if let Some((i, p)) = done.iter().enumerate().find_map(|(i, d)| Some((i, d.violation?))) {
            found = Some((arena.branches(ids[i]), p));
            break;
        }
        // A panicking step reaches a state one level deeper: after every violation of this
        // level, before any of the next (still a shortest counterexample).
        if let Some((i, b)) = done.iter().enumerate().find_map(|(i, d)| Some((i, d.panicked?))) {
            let mut branches = arena.branches(ids[i]);
            branches.push(b);
            found = Some((branches, NO_PANIC));
            break;
        }
        let mut next = Vec::new();
        for (d, &parent) in done.into_iter().zip(&ids) {
            incomplete |= d.cut;
            states += d.generated;
            for (branch, k, (world, used)) in d.fresh {
                if full || visited.contains(&k) {
                    continue;
                }
                if config.max_states.is_some_and(|m| visited.len() as u64 >= m) {
                    full = true;
                    incomplete = true;
                    continue;
                }
                visited.insert(k);
                let id = arena.push(parent, branch);
                next.push(Item { world, id, used });
            }
        }
        if !next.is_empty() {
            depth += 1;
        }
        if let Some(progress) = &config.progress {
            let unique_states = visited.len() as u64;
            progress(&Progress { unique_states, states, depth, queue: next.len() as u64 });
        }
        frontier = next;
    }
    let unique_states = visited.len() as u64;
    let report = report(model, &rules, found, incomplete, unique_states, states, depth);
    ExploreReport { threads_used: config.threads.max(1), ..report }
}

/// Checks and (if `expanding`) expands every state of a level, in order.
fn level<P, N>(
    model: &Model<P, N>,
    rules: &Rules,
    visited: &Visited,
    items: Vec<Item<P, N>>,
    expanding: bool,
    threads: usize,
) -> Vec<Done<P, N>>
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
{
    let workers = threads.clamp(1, items.len().div_ceil(MIN_CHUNK).max(1));
    let per = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<Item<P, N>>> = Vec::with_capacity(workers);
    let mut rest = items;
    while !rest.is_empty() {
        let tail = rest.split_off(per.min(rest.len()));
        chunks.push(rest);
        rest = tail;
    }
    // One worker's share, on the thread that runs it (worlds are attached to that thread's
    // template, and its spare worlds die there).
    let work = |chunk: Vec<Item<P, N>>| {
        let template = (model.init)();
        let mut worker = Worker { seen: Visited::default(), spare: Spare::default() };
        let done: Vec<Done<P, N>> = chunk
            .into_iter()
            .map(|i| one(model, rules, visited, &mut worker, &template, i, expanding))
            .collect();
        done
    };
    if chunks.len() <= 1 {
        return chunks.into_iter().flat_map(work).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> =
            chunks.into_iter().map(|chunk| s.spawn(move || work(chunk))).collect();
        handles.into_iter().flat_map(|h| h.join().expect("an explorer worker panicked")).collect()
    })
}

/// What one worker keeps across the states of its chunk.
struct Worker<P: Protocol, N> {
    /// The keys this worker generated in this level.
    seen: Visited,
    spare: Spare<P, N>,
}

/// Checks one state and, if it holds and `expanding`, keys its successors.
fn one<P, N>(
    model: &Model<P, N>,
    rules: &Rules,
    visited: &Visited,
    worker: &mut Worker<P, N>,
    template: &World<P, N>,
    item: Item<P, N>,
    expanding: bool,
) -> Done<P, N>
where
    P: Protocol,
    N: Process<P> + Clone + Hash,
{
    let world = item.world.attach(template);
    let mut done =
        Done { violation: None, panicked: None, cut: false, generated: 0, fresh: Vec::new() };
    if let Some(p) = violated(model, &world) {
        done.violation = Some(p);
        return done;
    }
    let Worker { seen, spare } = worker;
    let x = expand(&world, item.used, rules, spare, |b, w, u| {
        let branch = u32::try_from(done.generated).expect("at most 2^32 successors a state");
        done.generated += 1;
        if !expanding {
            return Some(w);
        }
        if b.panicked {
            done.panicked.get_or_insert(branch);
            return Some(w);
        }
        let k = key(world_key(model, rules, &w), u);
        if visited.contains(&k) || !seen.insert(k) {
            return Some(w);
        }
        done.fresh.push((branch, k, (Detached::from_world(*w), u)));
        None
    });
    spare.put(Box::new(world));
    if !expanding {
        done.cut = done.generated > 0 || x.over_capacity;
        done.generated = 0;
    } else {
        done.cut = x.over_capacity;
    }
    done
}
