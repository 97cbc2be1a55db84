//! Depth-first search on the calling thread: only the unexpanded states are kept.
//!
//! States are marked visited when generated and expanded last-in first-out, the first
//! successor of a state first. A complete search reaches the same states as BFS (the same
//! counts); a counterexample is a path, not necessarily a shortest one.

use std::hash::Hash;

use crate::process::{Process, Protocol};
use crate::world::World;

use super::path::{Arena, violated, world_key};
use super::report::ExploreReport;
use super::successors::{Used, expand};
use super::visited::{Visited, key};
use super::{ExploreConfig, Model, Progress, Rules};

/// How often (in expanded states) progress is reported.
const PROGRESS_EVERY: u64 = 1 << 16;

pub(super) fn run<P, N>(model: &Model<P, N>, config: &ExploreConfig) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone + Hash,
{
    let rules = Rules::of(config);
    let root = (model.init)();
    let mut visited = Visited::default();
    visited.insert(key(world_key(model, &root), Used::default()));
    let mut arena = Arena::default();
    let mut stack: Vec<(World<P, N>, u32, u32, Used)> =
        vec![(root, arena.root(), 0, Used::default())];
    let (mut states, mut max_depth, mut incomplete, mut full) = (1u64, 0u32, false, false);
    let mut found = None;
    let mut expanded = 0u64;
    let (mut out, mut fresh) = (Vec::new(), Vec::new());
    while let Some((world, id, depth, used)) = stack.pop() {
        if let Some(p) = violated(model, &world) {
            found = Some((id, p));
            break;
        }
        out.clear();
        let x = expand(&world, used, &rules, &mut out);
        incomplete |= x.over_capacity;
        if full || config.max_depth.is_some_and(|d| depth >= d) {
            incomplete |= !out.is_empty();
            continue;
        }
        for (branch, s) in out.drain(..).enumerate() {
            states += 1;
            let k = key(world_key(model, &s.world), s.used);
            if full || visited.contains(&k) {
                continue;
            }
            if config.max_states.is_some_and(|m| visited.len() as u64 >= m) {
                full = true;
                incomplete = true;
                continue;
            }
            visited.insert(k);
            let child = arena.push(id, branch as u32);
            max_depth = max_depth.max(depth + 1);
            fresh.push((s.world, child, depth + 1, s.used));
        }
        stack.extend(fresh.drain(..).rev());
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
    arena.report(model, &rules, found, incomplete, unique_states, states, max_depth)
}
