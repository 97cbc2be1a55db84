//! The runner's bounds: the event budget stops a `run_*` call after exactly `max_events`
//! events (each call gets a fresh budget), whatever the budget's size relative to the
//! stretches the runner checks it in.

mod common;

use common::{Msg, Script, Step, lab};
use sim_core::{FaultPlan, SimConfig, Stop, Time};

fn burst(max_events: u64) -> sim_core::Simulation<common::Lab, common::LabNode> {
    let script = Script {
        on_start: vec![
            vec![Step::Burst { to: 1, count: 10_000 }],
            vec![Step::Send(0, Msg::Ping(0))],
        ],
        ..Script::default()
    };
    let mut config = SimConfig::new(2, 7);
    config.max_events = max_events;
    lab(config, FaultPlan::none(), script).0
}

#[test]
fn the_event_budget_stops_each_call_after_exactly_max_events() {
    for max in [1, 3, 4095, 4096, 4097, 9_000] {
        let mut sim = burst(max);
        let mut calls = 0u64;
        loop {
            let before = sim.stats().events;
            let stop = sim.run_until(Time::MAX);
            let ran = sim.stats().events - before;
            calls += 1;
            if stop == Stop::Quiescent {
                assert!(ran <= max, "max {max}");
                break;
            }
            assert_eq!((stop, ran), (Stop::EventBudget, max), "max {max}, call {calls}");
        }
        // 10,000 Data + 1 Ping + 1 Pong.
        assert_eq!(sim.stats().events, 10_002, "max {max}");
        assert_eq!(calls, 10_002u64.div_ceil(max), "max {max}");
    }
}
