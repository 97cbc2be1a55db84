//! Deep models and the parallel DFS: a model as deep as the shared visited set's depth byte
//! holds (255) is searched on every thread and reports what one thread reports; one a step
//! deeper is left to the one-thread search, with the same result.
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
}

impl Process<Lab> for Node {
    fn on_start(&mut self, ctx: &mut Context<'_, Lab>) {
        if self.count < self.limit {
            ctx.set_timer(Duration::from_ms(1), Timer::Tick(0));
        }
    }

    fn on_message(&mut self, _: &mut Context<'_, Lab>, _: NodeId, _: Msg) {}

    fn on_timer(&mut self, ctx: &mut Context<'_, Lab>, _: Timer) {
        self.count += 1;
        self.on_start(ctx);
    }
}

/// `nodes` counters, each up to `limit`.
fn model(nodes: u32, limit: u32) -> Model<Lab, Node> {
    let init = move || {
        let config = SimConfig::new(nodes, 1);
        World::new(config, FaultPlan::none(), move |_: NodeId, _: Boot<'_, u64>| Node {
            count: 0,
            limit,
        })
        .expect("valid config")
    };
    common::unjudged_model(init)
}

fn dfs(model: &Model<Lab, Node>, threads: usize) -> ExploreReport {
    explore(model, &ExploreConfig { strategy: Strategy::Dfs, threads, ..Default::default() })
}

/// Everything a report says but the wall time and memory.
fn result(r: &ExploreReport) -> impl PartialEq + std::fmt::Debug + use<> {
    (r.unique_states, r.states, r.max_depth, r.verdict, r.counterexample.clone())
}

/// Two counters up to 20: 21 × 21 states, 40 steps deep, 2 × 20 × 21 transitions; the same
/// on 2 and 3 threads as on one, searched on all of them.
#[test]
fn a_deep_grid_is_searched_on_every_thread() {
    let model = model(2, 20);
    let one = dfs(&model, 1);
    assert_eq!((one.unique_states, one.states, one.max_depth), (441, 1 + 840, 40));
    for threads in [2, 3] {
        let many = dfs(&model, threads);
        assert_eq!(result(&many), result(&one), "{threads} threads");
        assert_eq!(many.threads_used, threads, "the parallel search decided");
    }
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
