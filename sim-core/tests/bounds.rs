//! The runner's bounds: the event budget stops a `run_*` call after exactly `max_events`
//! events (each call gets a fresh budget), whatever the budget's size relative to the
//! stretches the runner checks it in; a queue past [`QUEUE_BOUND`] stops it with
//! `Stop::Capacity`; both say why in words (the reason an inconclusive run reports). An
//! explorer's world past [`IN_FLIGHT_BOUND`] messages in flight refuses to go on.

mod common;

use common::{Msg, Script, Step, lab};
use sim_core::{
    Event, FaultPlan, IN_FLIGHT_BOUND, QUEUE_BOUND, SimConfig, Steering, StepError, Stop, Time,
    World,
};

fn burst(max_events: u64) -> sim_core::Simulation<common::Lab, common::LabNode> {
    burst_of(10_000, max_events)
}

fn burst_of(count: u64, max_events: u64) -> sim_core::Simulation<common::Lab, common::LabNode> {
    let script = Script {
        on_start: vec![vec![Step::Burst { to: 1, count }], vec![Step::Send(0, Msg::Ping(0))]],
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

#[test]
fn a_queue_past_its_bound_stops_the_run_with_capacity() {
    // Node 0 sends one more message than the queue may hold, all at once, at start.
    let count = QUEUE_BOUND as u64 + 1;
    let mut sim = burst_of(count, u64::MAX);
    assert_eq!(sim.run_until(Time::MAX), Stop::Capacity);
    assert_eq!(sim.stats().events, 0, "checked before the first event");
    let reason = Stop::Capacity.cut_short(u64::MAX).unwrap();
    assert_eq!(reason, format!("event queue bound of {QUEUE_BOUND} queued events exceeded"));
    // At the bound exactly (the burst and node 1's ping), the run goes on.
    let mut sim = burst_of(QUEUE_BOUND as u64 - 1, 10);
    assert_eq!(sim.run_until(Time::MAX), Stop::EventBudget);
}

#[test]
fn only_a_bound_cuts_a_run_short() {
    assert_eq!(
        Stop::EventBudget.cut_short(50).as_deref(),
        Some("event budget of 50 events exhausted")
    );
    for stop in [Stop::Quiescent, Stop::Horizon, Stop::Predicate] {
        assert_eq!(stop.cut_short(50), None, "{stop:?}");
    }
}

#[test]
fn a_world_past_its_in_flight_bound_reports_over_capacity() {
    // A world started step by step keeps what its nodes send at start in flight: node 0's
    // burst and node 1's ping. Delivering one of them (a step that sends nothing) leaves the
    // world past its bound.
    let script = Script {
        on_start: vec![
            vec![Step::Burst { to: 1, count: IN_FLIGHT_BOUND as u64 + 2 }],
            vec![Step::Send(0, Msg::Ping(0))],
        ],
        ..Script::default()
    };
    let factory = common::lab_factory(script, Default::default());
    let mut world = World::new(SimConfig::new(2, 7), FaultPlan::none(), factory).unwrap();
    assert_eq!(world.in_flight().len(), IN_FLIGHT_BOUND + 3, "the burst and node 1's ping");
    let id = world.in_flight()[0].id;
    let step = world.apply(&Event::Deliver { id }, Steering::default());
    assert_eq!(step, Err(StepError::OverCapacity { in_flight: IN_FLIGHT_BOUND + 2 }));
}
