//! A handler's panic is a finding of the explorer, not a crash of it: a tiny protocol whose
//! echo node asserts it is pinged at most once (a retry breaks that) is explored with BFS
//! (1 and 2 threads) and DFS; each reports `no-panic` violated with a path that ends in the
//! panicking step, BFS's a shortest one, and replaying the path reaches the same verdict
//! and trace hash. The counterexample carries the handler's panic message.

mod common;

use serde::{Deserialize, Serialize};
use sim_core::explore::{
    Budget, ExploreConfig, Model, NO_PANIC, Strategy, Verdict, explore, replay,
};
use sim_core::{Boot, Context, Duration, FaultPlan, NodeId, Process, Protocol, SimConfig, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
enum Msg {
    Ping,
    Pong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
enum Timer {
    Retry,
}

#[derive(Clone, Debug, PartialEq, Hash)]
struct Echo;

impl Protocol for Echo {
    type Msg = Msg;
    type Timer = Timer;
    type Record = u8;
    type Obs = u8;
}

/// Node 0 pings node 1 and retries once on its timer; node 1 answers the first ping and
/// panics on a second (the planted bug: it assumes no retry ever arrives).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    Pinger { answered: bool, retried: bool },
    Echo { pinged: bool },
}

impl Process<Echo> for Node {
    fn on_start(&mut self, ctx: &mut Context<'_, Echo>) {
        if let Node::Pinger { .. } = self {
            ctx.send(NodeId(1), Msg::Ping);
            ctx.set_timer(Duration::from_ms(10), Timer::Retry);
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, Echo>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (Node::Echo { pinged }, Msg::Ping) => {
                assert!(!*pinged, "pinged twice");
                *pinged = true;
                ctx.send(from, Msg::Pong);
            }
            (Node::Pinger { answered, .. }, Msg::Pong) => {
                *answered = true;
                ctx.cancel_timer(Timer::Retry);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, Echo>, _timer: Timer) {
        if let Node::Pinger { answered: false, retried } = self
            && !*retried
        {
            *retried = true;
            ctx.send(NodeId(1), Msg::Ping);
        }
    }
}

fn model() -> Model<Echo, Node> {
    let init = || {
        World::new(SimConfig::new(2, 1), FaultPlan::none(), |id: NodeId, _: Boot<'_, u8>| {
            if id == NodeId(0) {
                Node::Pinger { answered: false, retried: false }
            } else {
                Node::Echo { pinged: false }
            }
        })
        .expect("valid config")
    };
    // Holds everywhere: the only violation there is to find is the panic.
    common::unjudged_model(init)
}

fn config(strategy: Strategy, threads: usize) -> ExploreConfig {
    ExploreConfig { strategy, threads, budget: Budget::default(), ..Default::default() }
}

#[test]
fn a_panicking_handler_is_reported_as_no_panic_with_a_path_that_replays() {
    let model = model();
    let mut hashes = Vec::new();
    for (strategy, threads) in [(Strategy::Bfs, 1), (Strategy::Bfs, 2), (Strategy::Dfs, 1)] {
        let report = explore(&model, &config(strategy, threads));
        assert_eq!(report.verdict, Verdict::Violated, "{strategy:?}/{threads}");
        let c = report.counterexample.expect("a counterexample");
        assert_eq!(c.property, NO_PANIC);
        assert_eq!(c.panic.as_deref(), Some("pinged twice"), "the handler's own message");
        // Shortest: fire the retry (the first ping still in flight), deliver one ping, then
        // the other: the echo's handler panics in the third step.
        if strategy == Strategy::Bfs {
            assert_eq!(c.steps.len(), 3, "{:?}", c.steps);
        }
        assert!(c.steps.last().unwrap().contains("deliver"), "{:?}", c.steps);
        let r = replay(&model, &c.steps).expect("the path replays");
        assert_eq!(r.property, Some(NO_PANIC));
        assert_eq!(r.panic, c.panic);
        assert_eq!(r.steps, c.steps.len());
        assert_eq!(r.trace_hash, c.trace_hash);
        hashes.push((strategy, c.steps, c.trace_hash));
    }
    assert_eq!(hashes[0], hashes[1], "BFS on 1 and 2 threads: the same counterexample");
}

#[test]
fn a_depth_bound_short_of_the_panic_is_incomplete_not_violated() {
    // States two steps deep are not expanded: the panicking third step is never taken (it
    // is only seen to exist), so nothing is judged violated and the search says it was cut.
    let mut cfg = config(Strategy::Bfs, 1);
    cfg.max_depth = Some(2);
    let report = explore(&model(), &cfg);
    assert_eq!(report.verdict, Verdict::Incomplete);
    assert!(report.counterexample.is_none());
}
