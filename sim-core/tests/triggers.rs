//! Fault triggers fire exactly once, at the event they name: a virtual time, the n-th
//! emission of a mark, or the k-th send of a node.

mod common;

use common::{Script, Step, Timer, lab};
use sim_core::{
    Action, FaultPlan, HashableF64, Latency, LinkConfig, LinkSet, NodeId, SimConfig, Time,
    TraceEvent, TraceKind, TraceLevel, Trigger,
};

/// Three nodes; each ticks every 10 ms (marking "tick" and pinging the others) ten times.
fn ticking(plan: FaultPlan) -> sim_core::Simulation<common::Lab, common::LabNode> {
    let script = Script {
        on_start: (0..3).map(|_| vec![Step::SetTimer(10_000, Timer::Tick(0))]).collect(),
        tick_period_us: 10_000,
        ticks: 10,
        ping_on_tick: vec![vec![1, 2], vec![0, 2], vec![0, 1]],
        ..Script::default()
    };
    let link = LinkConfig { latency: Latency::Constant { us: 500 }, ..LinkConfig::default() };
    let config = SimConfig::new(3, 9).with_link(link).with_trace(TraceLevel::Full);
    let (mut sim, _) = lab(config, plan, script);
    sim.run_until(Time::from_ms(150));
    sim
}

fn faults(
    sim: &sim_core::Simulation<common::Lab, common::LabNode>,
) -> Vec<TraceEvent<common::Lab>> {
    sim.trace().events().filter(|e| matches!(e.kind, TraceKind::Fault { .. })).collect()
}

/// The event recorded just before `ev` in the full trace.
fn event_before(
    sim: &sim_core::Simulation<common::Lab, common::LabNode>,
    ev: &TraceEvent<common::Lab>,
) -> TraceEvent<common::Lab> {
    let all: Vec<_> = sim.trace().events().collect();
    let i = all.iter().position(|e| e == ev).unwrap();
    all[i - 1].clone()
}

#[test]
fn time_trigger_fires_once_at_its_time() {
    let drift = Action::ClockDrift { node: NodeId(2), ppm: 100_000 };
    let sim = ticking(FaultPlan::none().with(Trigger::Time { at_us: 35_000 }, drift));
    let f = faults(&sim);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].time, Time::from_us(35_000));
    assert_eq!(sim.fired(), &[true]);
    // The drift took effect on the next timer node 2 armed (at 40 ms): 10 ms * 1.1.
    let ticks_n2: Vec<u64> = sim
        .trace()
        .events()
        .filter(|e| e.node == NodeId(2) && matches!(e.kind, TraceKind::TimerFire { .. }))
        .map(|e| e.time.as_us())
        .collect();
    assert_eq!(ticks_n2[..5], [10_000, 20_000, 30_000, 40_000, 51_000]);
}

#[test]
fn mark_trigger_fires_once_right_after_the_nth_mark() {
    let action = Action::SetDrop { links: LinkSet::All, prob: HashableF64(1.0) };
    let plan = FaultPlan::none()
        .with(Trigger::Mark { node: NodeId(1), mark: "tick".into(), nth: 3 }, action);
    let sim = ticking(plan);
    let f = faults(&sim);
    assert_eq!(f.len(), 1, "fires once although node 1 marks tick ten times");
    assert_eq!(f[0].time, Time::from_us(30_000), "node 1's third tick");
    let before = event_before(&sim, &f[0]);
    assert_eq!(before.node, NodeId(1));
    assert_eq!(before.kind, TraceKind::Mark { name: "tick".into() });
    // Loss is drawn at send time. Ticks at 10 and 20 ms: 6 pings + 6 pongs each. At 30 ms
    // node 0 ticks first (its timer was armed first) and its 2 pings leave before the fault;
    // their pongs, and everything else, are sent after it and lost.
    assert_eq!(sim.stats().delivered, 12 + 12 + 2);
}

#[test]
fn send_count_trigger_fires_once_right_after_the_kth_send() {
    let crash = Action::Crash { node: NodeId(0), recover_after_us: Some(1_000) };
    let plan = FaultPlan::none().with(Trigger::Sends { node: NodeId(0), count: 5 }, crash);
    let sim = ticking(plan);
    let f = faults(&sim);
    assert_eq!(f.len(), 1, "node 0 sends many more than 5 messages, the fault fires once");
    let before = event_before(&sim, &f[0]);
    assert_eq!(before.node, NodeId(0));
    // Node 0's sends: pings to 1 and 2 at 10 ms, pongs to 1 and 2 at 10.5 ms, then the
    // ping to 1 at 20 ms is the 5th; the rest of that tick handler (the ping to 2 and the
    // re-arming of the tick timer) is cut.
    assert!(matches!(before.kind, TraceKind::Send { to: NodeId(1), .. }), "{before:?}");
    assert_eq!(f[0].time, Time::from_ms(20));
    let crash = sim.trace().events().find(|e| matches!(e.kind, TraceKind::Crash { .. })).unwrap();
    assert_eq!((crash.time, &crash.kind), (f[0].time, &TraceKind::Crash { cut: 2 }));
    assert_eq!(sim.stats().crashes, 1);
    assert_eq!(sim.stats().recoveries, 1);
}

#[test]
fn triggers_on_nodes_that_never_reach_them_do_not_fire() {
    let plan = FaultPlan::none()
        .with(Trigger::Mark { node: NodeId(0), mark: "never".into(), nth: 1 }, Action::Heal)
        .with(Trigger::Sends { node: NodeId(1), count: 1_000 }, Action::Heal)
        .with(Trigger::Time { at_us: 10_000_000 }, Action::Heal);
    let sim = ticking(plan);
    assert_eq!(sim.fired(), &[false, false, false]);
    assert!(faults(&sim).is_empty());
}

/// The k-th mark counted over the whole cluster, acting on whoever emitted it: ticks come
/// n0, n1, n2 at 10 ms, then n0, n1 at 20 ms, so the cluster's 5th tick is n1's.
#[test]
fn any_mark_trigger_acts_on_the_node_that_emitted_the_nth_mark_cluster_wide() {
    let trigger = Trigger::AnyMark { mark: "tick".into(), nth: 5, after_us: 0 };
    let plan = FaultPlan::none().with(trigger, Action::CrashMarked { recover_after_us: None });
    let sim = ticking(plan);
    let f = faults(&sim);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].time, Time::from_us(20_000));
    let TraceKind::Fault { action, .. } = &f[0].kind else { unreachable!() };
    assert_eq!(**action, Action::Crash { node: NodeId(1), recover_after_us: None }, "resolved");
    let before = event_before(&sim, &f[0]);
    assert_eq!((before.node, before.kind), (NodeId(1), TraceKind::Mark { name: "tick".into() }));
    let crashed: Vec<NodeId> = sim
        .trace()
        .events()
        .filter(|e| matches!(e.kind, TraceKind::Crash { .. }))
        .map(|e| e.node)
        .collect();
    assert_eq!(crashed, [NodeId(1)]);
}

/// With a delay the fault fires that long after the mark, still on the node that emitted it.
#[test]
fn a_delayed_any_mark_trigger_isolates_the_marked_node_later() {
    let trigger = Trigger::AnyMark { mark: "tick".into(), nth: 4, after_us: 3_000 };
    let plan = FaultPlan::none().with(trigger, Action::IsolateMarked { with: vec![NodeId(2)] });
    let sim = ticking(plan);
    let f = faults(&sim);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].time, Time::from_us(23_000), "n0's second tick, plus 3 ms");
    let TraceKind::Fault { action, .. } = &f[0].kind else { unreachable!() };
    assert_eq!(**action, Action::Partition { groups: vec![vec![NodeId(0), NodeId(2)]] });
}

#[test]
fn a_marked_action_needs_a_trigger_that_names_a_node() {
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 5 }, Action::CrashMarked { recover_after_us: None });
    let err = plan.validate(3).unwrap_err().to_string();
    assert!(err.contains("faults[0].action") && err.contains("time trigger"), "{err}");
    let json = r#"{"faults":[{"trigger":{"on":"any_mark","mark":"tick","nth":2,"after_us":7},
        "action":{"do":"isolate_marked"}}]}"#;
    let plan = FaultPlan::from_json(json).unwrap();
    assert_eq!(plan.faults[0].action, Action::IsolateMarked { with: vec![] });
    assert!(plan.validate(3).is_ok());
}
