//! Depth-first search on the calling thread: only the unexpanded states are kept.
//!
//! States are marked visited when generated and expanded last-in first-out, the first
//! successor of a state first. A complete search reaches the same states as BFS (the same
//! counts); a counterexample is a path, not necessarily a shortest one.
//!
//! No parent links are kept: the stack is expanded in preorder, so when a state at depth d
//! is taken off it, every state on the path to it has been taken off before it and nothing
//! of another branch since its parent. The branches of the path to the current state are
//! therefore a stack too (`path`), cut back to depth d - 1 before the state's own branch is
//! pushed. Memory is the visited set and the stack, nothing per state beyond its key.

use std::hash::Hash;

use crate::process::{Process, Protocol};
use crate::world::World;

use super::path::{report, violated, world_key};
use super::report::ExploreReport;
use super::successors::{NO_PANIC, Spare, Used, expand};
use super::visited::{Visited, key};
use super::{ExploreConfig, Model, Progress, Rules};

/// How often (in expanded states) progress is reported.
const PROGRESS_EVERY: u64 = 1 << 16;

/// A state waiting to be expanded: its world, depth, branch from its parent, budget spent.
struct Entry<P: Protocol, N> {
    world: Box<World<P, N>>,
    depth: u32,
    branch: u32,
    used: Used,
}

pub(super) fn run<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone + Hash,
{
    let rules = Rules::of(config);
    let root = (model.init)();
    let mut visited = Visited::default();
    visited.insert(key(world_key(model, &rules, &root), Used::default()));
    let mut stack =
        vec![Entry { world: Box::new(root), depth: 0, branch: 0, used: Used::default() }];
    let mut path: Vec<u32> = Vec::new();
    let (mut states, mut max_depth, mut incomplete, mut full) = (1u64, 0u32, false, false);
    let mut found = None;
    let mut expanded = 0u64;
    let mut spare = Spare::default();
    let mut fresh = Vec::new();
    while let Some(Entry { world, depth, branch, used }) = stack.pop() {
        if depth > 0 {
            path.truncate(depth as usize - 1);
            path.push(branch);
        }
        debug_assert_eq!(path.len(), depth as usize, "the path is the entry's");
        if let Some(p) = violated(model, &world) {
            found = Some((path, p));
            break;
        }
        if full || config.max_depth.is_some_and(|d| depth >= d) {
            // Not expanded: only whether it had a successor matters.
            let mut any = false;
            let x = expand(&world, used, &rules, &mut spare, |_, w, _| {
                any = true;
                Some(w)
            });
            incomplete |= any || x.over_capacity;
            spare.put(world);
            continue;
        }
        let mut next_branch = 0u32;
        let mut panicked = None;
        let x = expand(&world, used, &rules, &mut spare, |branch, w, u| {
            let b = next_branch;
            next_branch += 1;
            states += 1;
            if branch.panicked {
                panicked.get_or_insert(b); // a state violating no-panic: found
                return Some(w);
            }
            let k = key(world_key(model, &rules, &w), u);
            if full || visited.contains(&k) {
                return Some(w);
            }
            if config.max_states.is_some_and(|m| visited.len() as u64 >= m) {
                full = true;
                incomplete = true;
                return Some(w);
            }
            visited.insert(k);
            fresh.push(Entry { world: w, depth: depth + 1, branch: b, used: u });
            None
        });
        if let Some(b) = panicked {
            path.push(b);
            found = Some((path, NO_PANIC));
            break;
        }
        incomplete |= x.over_capacity;
        if !fresh.is_empty() {
            max_depth = max_depth.max(depth + 1);
        }
        stack.extend(fresh.drain(..).rev());
        spare.put(world);
        expanded += 1;
        if expanded.is_multiple_of(PROGRESS_EVERY)
            && let Some(progress) = &config.progress
        {
            let unique_states = visited.len() as u64;
            let queue = stack.len() as u64;
            progress(&Progress { unique_states, states, depth: max_depth, queue });
        }
    }
    let unique_states = visited.len() as u64;
    report(model, &rules, found, incomplete, unique_states, states, max_depth)
}
