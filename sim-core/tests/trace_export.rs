//! A full trace exports to JSON Lines and reads back to the same events and the same hash.

mod common;

use common::{Lab, Script, Step, Timer, lab};
use sim_core::trace::{hash_events, read_jsonl};
use sim_core::{
    Action, FaultPlan, LinkConfig, NodeId, SimConfig, Time, TraceKind, TraceLevel, Trigger,
};

#[test]
fn jsonl_round_trip_preserves_events_and_hash() {
    let script = Script {
        on_start: vec![
            vec![Step::SetTimer(1_000, Timer::Tick(0)), Step::Mark("begin")],
            vec![Step::Persist(3)],
        ],
        tick_period_us: 2_000,
        ticks: 5,
        ping_on_tick: vec![vec![1, 2], vec![0]],
        gossip_rounds: 5,
        persist_data: true,
    };
    let plan = FaultPlan::none()
        .with(
            Trigger::Time { at_us: 4_000 },
            Action::Crash { node: NodeId(2), recover_after_us: Some(3_000) },
        )
        .with(
            Trigger::Mark { node: NodeId(0), mark: "tick".into(), nth: 2 },
            Action::Partition { groups: vec![vec![NodeId(0)]] },
        );
    let link = LinkConfig { drop_prob: 0.1, dup_prob: 0.1, ..LinkConfig::default() };
    let config = SimConfig::new(3, 21).with_link(link).with_trace(TraceLevel::Full);
    let (mut sim, _) = lab(config, plan, script);
    sim.run_until(Time::from_ms(50));
    sim.run_liveness_phase(sim_core::Duration::from_ms(20));

    let mut buf = Vec::new();
    sim.trace().write_jsonl(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.lines().count() as u64, sim.trace().len());
    // One self-describing object per line.
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["event"], "start");
    assert_eq!(first["node"], 0);
    assert_eq!(first["time"], 0);

    let back = read_jsonl::<Lab>(text.as_bytes()).unwrap();
    assert_eq!(back, sim.trace().events_vec());
    assert_eq!(hash_events(&back), sim.trace_hash());
    // The run exercised every kind of event worth exporting.
    let kinds: std::collections::BTreeSet<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for k in [
        "start",
        "send",
        "deliver",
        "drop",
        "duplicate",
        "timer_set",
        "timer_fire",
        "persist",
        "mark",
        "observe",
        "crash",
        "recover",
        "fault",
        "liveness_phase",
    ] {
        assert!(kinds.contains(k), "no {k} event in the trace");
    }
    assert!(back.iter().any(|e| matches!(e.kind, TraceKind::Fault { index: 1, .. })));
}

#[test]
fn a_corrupt_line_is_reported_by_number() {
    let text = "{\"time\":0,\"node\":0,\"event\":\"start\"}\n\nnot json\n";
    let e = read_jsonl::<Lab>(text.as_bytes()).unwrap_err();
    assert!(matches!(e, sim_core::SimError::MalformedTrace { line: 3, .. }), "{e}");
}
