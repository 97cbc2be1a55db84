//! Deep models and the parallel DFS: a model as deep as the shared visited set's depth byte
//! holds (255) is searched on every thread and reports what one thread reports; one a step
//! deeper is left to the one-thread search, with the same result, unless the model declares
//! a potential (then no depth is stored, and any depth is searched on every thread). A
//! potential that some step does not raise by exactly one is caught, and the search left to
//! one thread.
//!
//! The model: nodes that each count up to a limit, one tick of an armed timer at a time.
//! Any armed timer may fire next, so the states are the counts (a grid) and every path to
//! one has the same length (the sum of the counts): the parallel search can decide.

mod common;

use common::{Lab, Msg, Timer};
use sim_core::explore::{ExploreConfig, ExploreReport, Model, Strategy, explore};
use sim_core::{Boot, Context, Duration, FaultPlan, NodeId, Process, SimConfig, World};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Node {
    count: u32,
    limit: u32,
    /// A tick adds 1 or, when `leap`, 2 at the counter's choice (up to `limit`).
    leap: bool,
}

impl Process<Lab> for Node {
    fn on_start(&mut self, ctx: &mut Context<'_, Lab>) {
        if self.count < self.limit {
            ctx.set_timer(Duration::from_ms(1), Timer::Tick(0));
        }
    }

    fn on_message(&mut self, _: &mut Context<'_, Lab>, _: NodeId, _: Msg) {}

    fn on_timer(&mut self, ctx: &mut Context<'_, Lab>, _: Timer) {
        let step = if self.leap { ctx.choose("step", &[1, 2], |_| 0) } else { 1 };
        self.count = (self.count + step).min(self.limit);
        self.on_start(ctx);
    }
}

/// `nodes` counters, each up to `limit`.
fn model(nodes: u32, limit: u32) -> Model<Lab, Node> {
    counters(nodes, limit, false)
}

/// `nodes` counters, each up to `limit`, by 1 or by 1 or 2 (`leap`).
fn counters(nodes: u32, limit: u32, leap: bool) -> Model<Lab, Node> {
    let init = move || {
        let config = SimConfig::new(nodes, 1);
        World::new(config, FaultPlan::none(), move |_: NodeId, _: Boot<'_, u64>| Node {
            count: 0,
            limit,
            leap,
        })
        .expect("valid config")
    };
    common::unjudged_model(init)
}

/// The model with `potential` declared.
fn with_potential(
    model: Model<Lab, Node>,
    potential: sim_core::explore::PotentialFn<Lab, Node>,
) -> Model<Lab, Node> {
    Model { potential: Some(potential), ..model }
}

/// The true potential: the sum of the counts (every step raises one count by one).
fn ticks(world: &World<Lab, Node>) -> u64 {
    (0..world.node_count()).filter_map(|i| world.node(NodeId(i))).map(|n| u64::from(n.count)).sum()
}

fn dfs(model: &Model<Lab, Node>, threads: usize) -> ExploreReport {
    explore(model, &ExploreConfig { strategy: Strategy::Dfs, threads, ..Default::default() })
}

/// Everything a report says but the wall time and memory.
fn result(r: &ExploreReport) -> impl PartialEq + std::fmt::Debug + use<> {
    (r.unique_states, r.states, r.max_depth, r.verdict, r.counterexample.clone())
}

/// Searches `model` on 2 and 3 threads: the result is `one`'s (the one-thread search's),
/// decided by the parallel search when `parallel`, else by the one-thread search again.
fn same_on_more_threads(model: &Model<Lab, Node>, one: &ExploreReport, parallel: bool, what: &str) {
    for threads in [2, 3] {
        let many = dfs(model, threads);
        assert_eq!(result(&many), result(one), "{what}, {threads} threads");
        let used = if parallel { threads } else { 1 };
        assert_eq!(many.threads_used, used, "{what}, {threads} threads: who decided");
    }
}

/// Two counters up to 20: 21 × 21 states, 40 steps deep, 2 × 20 × 21 transitions; the same
/// on 2 and 3 threads as on one, searched on all of them.
#[test]
fn a_deep_grid_is_searched_on_every_thread() {
    let model = model(2, 20);
    let one = dfs(&model, 1);
    assert_eq!((one.unique_states, one.states, one.max_depth), (441, 1 + 840, 40));
    same_on_more_threads(&model, &one, true, "the grid");
}

/// One counter up to 255 and up to 256: the depth byte holds the first, so the parallel
/// search decides; the second is left to one thread. Both report what one thread reports.
#[test]
fn a_model_deeper_than_the_depth_byte_is_left_to_one_thread() {
    for (limit, threads_used) in [(255, 2), (256, 1)] {
        let model = model(1, limit);
        let one = dfs(&model, 1);
        let states = u64::from(limit) + 1;
        assert_eq!((one.unique_states, one.states, one.max_depth), (states, states, limit));
        let two = dfs(&model, 2);
        assert_eq!(result(&two), result(&one), "up to {limit}");
        assert_eq!(two.threads_used, threads_used, "up to {limit}");
    }
}

/// With the potential declared the depth is not stored: the 21 × 21 grid and a counter far
/// deeper than the depth byte (300 steps) are searched on every thread, with the one-thread
/// search's counts and depth (the stored depth would leave the 300 steps to one thread).
#[test]
fn a_potential_lets_any_depth_be_searched_on_every_thread() {
    for (nodes, limit, states, depth) in [(2, 20, 441, 40), (1, 300, 301, 300)] {
        let graded = with_potential(model(nodes, limit), ticks);
        let one = dfs(&graded, 1);
        assert_eq!((one.unique_states, one.max_depth), (states, depth), "{nodes} × {limit}");
        assert_eq!(result(&one), result(&dfs(&model(nodes, limit), 1)), "the same search");
        same_on_more_threads(&graded, &one, true, &format!("{nodes} × {limit}"));
    }
}

/// Potentials that some step does not raise by exactly one: every step by two, the first 25
/// steps only (a wrong step deep in the search, after the workers shared it out), all but
/// the steps of node 1; and the sum of the counts where a tick may add 2 (states reached
/// at several depths, whose depth is the one-thread order's). Each is caught on some
/// transition, and the one-thread search decides: the result is the one-thread search's.
#[test]
fn a_wrong_potential_leaves_the_search_to_one_thread() {
    let wrong: [(&str, sim_core::explore::PotentialFn<Lab, Node>); 3] = [
        ("twice the ticks", |w| 2 * ticks(w)),
        ("capped at 25", |w| ticks(w).min(25)),
        ("node 0 only", |w| w.node(NodeId(0)).map_or(0, |n| u64::from(n.count))),
    ];
    let one = dfs(&model(2, 20), 1);
    for (name, potential) in wrong {
        same_on_more_threads(&with_potential(model(2, 20), potential), &one, false, name);
    }
    let leaps = counters(2, 20, true);
    let one = dfs(&leaps, 1);
    // Each state's depth is the one-thread order's first path to it: 20 to 40 steps to the
    // last one, 28 in DFS's order.
    assert_eq!((one.unique_states, one.max_depth), (441, 28));
    same_on_more_threads(&leaps, &one, false, "leaps, stored depths");
    let graded = with_potential(counters(2, 20, true), ticks);
    same_on_more_threads(&graded, &one, false, "leaps, the ticks as potential");
}
