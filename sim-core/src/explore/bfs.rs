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
use super::path::{Arena, violated, world_key};
use super::report::ExploreReport;
use super::successors::{Used, expand};
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
    /// Not expanded (the depth bound) although it had successors, or a branch was cut.
    cut: bool,
    /// Every successor's key, with its world unless the key was visited before the level
    /// began (the visited set does not change while workers run: no thread sees another's
    /// result, and a level holds far fewer worlds).
    succs: Vec<(u64, Option<Fresh<P, N>>)>,
}

pub(super) fn run<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone + Hash + Send,
{
    let rules = Rules::of(config);
    let root = (model.init)();
    let mut visited = Visited::default();
    visited.insert(key(world_key(model, &root), Used::default()));
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
            found = Some((ids[i], p));
            break;
        }
        let mut next = Vec::new();
        for (d, &parent) in done.into_iter().zip(&ids) {
            incomplete |= d.cut;
            for (branch, (k, succ)) in d.succs.into_iter().enumerate() {
                states += 1;
                let Some((world, used)) = succ else { continue };
                if full || visited.contains(&k) {
                    continue;
                }
                if config.max_states.is_some_and(|m| visited.len() as u64 >= m) {
                    full = true;
                    incomplete = true;
                    continue;
                }
                visited.insert(k);
                let id = arena.push(parent, branch as u32);
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
    arena.report(model, &rules, found, incomplete, unique_states, states, depth)
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
    if workers == 1 {
        let template = (model.init)();
        let one = |i| one(model, rules, visited, &template, i, expanding);
        return items.into_iter().map(one).collect();
    }
    let per = items.len().div_ceil(workers);
    let mut chunks: Vec<Vec<Item<P, N>>> = Vec::with_capacity(workers);
    let mut rest = items;
    while !rest.is_empty() {
        let tail = rest.split_off(per.min(rest.len()));
        chunks.push(rest);
        rest = tail;
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    let template = (model.init)();
                    chunk
                        .into_iter()
                        .map(|i| one(model, rules, visited, &template, i, expanding))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("an explorer worker panicked")).collect()
    })
}

/// Checks one state and, if it holds and `expanding`, keys its successors.
fn one<P, N>(
    model: &Model<P, N>,
    rules: &Rules,
    visited: &Visited,
    template: &World<P, N>,
    item: Item<P, N>,
    expanding: bool,
) -> Done<P, N>
where
    P: Protocol,
    N: Process<P> + Clone + Hash,
{
    let world = item.world.attach(template);
    if let Some(p) = violated(model, &world) {
        return Done { violation: Some(p), cut: false, succs: Vec::new() };
    }
    let mut out = Vec::new();
    let x = expand(&world, item.used, rules, &mut out);
    if !expanding {
        return Done {
            violation: None,
            cut: !out.is_empty() || x.over_capacity,
            succs: Vec::new(),
        };
    }
    let succs = out
        .into_iter()
        .map(|s| {
            let k = key(world_key(model, &s.world), s.used);
            let fresh = !visited.contains(&k);
            (k, fresh.then(|| (Detached::from_world(s.world), s.used)))
        })
        .collect();
    Done { violation: None, cut: x.over_capacity, succs }
}
