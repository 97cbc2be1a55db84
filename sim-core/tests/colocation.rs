//! Co-location: processes sharing a host talk locally (same virtual time, no network, counted
//! apart, still traced) and fail together (a crash of one is a crash of its host).

mod common;

use common::{Msg, Script, Step, lab, received, try_lab};
use sim_core::{
    Action, DropReason, FaultPlan, Latency, LinkConfig, LinkSet, NodeId, SimConfig, SimError, Time,
    TraceKind, TraceLevel, Trigger, fault::HashableF64,
};

fn constant_1ms() -> LinkConfig {
    LinkConfig { latency: Latency::Constant { us: 1_000 }, ..LinkConfig::default() }
}

/// Nodes 0 and 1 share host 7; node 2 is alone on host 9.
fn three_nodes_two_hosts(seed: u64) -> SimConfig {
    SimConfig::new(3, seed)
        .with_link(constant_1ms())
        .with_trace(TraceLevel::Full)
        .with_hosts(vec![7, 7, 9])
}

#[test]
fn a_local_message_arrives_at_once_in_order_and_is_counted_apart() {
    // Node 0 sends two Data to its host mate 1 and one to node 2 on another host.
    let script = Script {
        on_start: vec![vec![
            Step::Send(1, Msg::Data(10)),
            Step::Send(2, Msg::Data(20)),
            Step::Send(1, Msg::Data(11)),
        ]],
        ..Script::default()
    };
    let (mut sim, _) = lab(three_nodes_two_hosts(1), FaultPlan::none(), script);
    sim.run_to_quiescence();
    assert_eq!(
        received(&sim, 1),
        vec![(0, NodeId(0), Msg::Data(10)), (0, NodeId(0), Msg::Data(11))]
    );
    assert_eq!(received(&sim, 2), vec![(1_000, NodeId(0), Msg::Data(20))]);
    let stats = sim.stats();
    assert_eq!((stats.sent, stats.delivered), (1, 1), "network messages only");
    assert_eq!((stats.local_messages, stats.local_delivered), (2, 2));
    assert_eq!(sim.sends_by(NodeId(0)), 3, "every send effect counts for triggers");
    // Still in the trace: three sends and three deliveries, classified by `is_local`.
    let sends: Vec<(NodeId, NodeId)> = sim
        .trace()
        .events()
        .filter_map(|e| match e.kind {
            TraceKind::Send { to, .. } => Some((e.node, to)),
            _ => None,
        })
        .collect();
    assert_eq!(sends, vec![(NodeId(0), NodeId(1)), (NodeId(0), NodeId(2)), (NodeId(0), NodeId(1))]);
    let local: Vec<bool> = sends.iter().map(|&(a, b)| sim.is_local(a, b)).collect();
    assert_eq!(local, vec![true, false, true]);
    let delivers = sim.trace().events().filter(|e| matches!(e.kind, TraceKind::Deliver { .. }));
    assert_eq!(delivers.count(), 3);
    assert_eq!((sim.host_of(NodeId(1)), sim.host_of(NodeId(2))), (7, 9));
}

#[test]
fn local_messages_ignore_loss_and_cuts() {
    // Every link loses everything and 0–1 is cut; host mates still talk.
    let plan = FaultPlan::none()
        .with(
            Trigger::Time { at_us: 0 },
            Action::SetDrop { links: LinkSet::All, prob: HashableF64(1.0) },
        )
        .with(Trigger::Time { at_us: 0 }, Action::CutLink { a: NodeId(0), b: NodeId(1) });
    let script = Script {
        on_start: vec![vec![], vec![Step::SetTimer(10, common::Timer::Tick(0))]],
        ticks: 1,
        ping_on_tick: vec![vec![], vec![0, 2]],
        ..Script::default()
    };
    let (mut sim, _) = lab(three_nodes_two_hosts(2), plan, script);
    sim.run_to_quiescence();
    assert_eq!(received(&sim, 0), vec![(10, NodeId(1), Msg::Ping(0))]);
    assert_eq!(received(&sim, 1), vec![(10, NodeId(0), Msg::Pong(0))], "the pong is local too");
    assert!(received(&sim, 2).is_empty(), "the network lost the ping to another host");
    assert_eq!(sim.stats().dropped_loss, 1);
}

#[test]
fn crashing_a_process_crashes_its_host_and_recovery_restores_it() {
    let plan = FaultPlan::none().with(
        Trigger::Time { at_us: 5_000 },
        Action::Crash { node: NodeId(1), recover_after_us: Some(1_000) },
    );
    let script = Script { on_start: vec![vec![Step::Persist(3)]], ..Script::default() };
    let (mut sim, boots) = lab(three_nodes_two_hosts(3), plan, script);
    sim.run_until(Time::from_us(5_500));
    assert_eq!(sim.down_nodes(), vec![NodeId(0), NodeId(1)], "the whole host 7 is down");
    assert!(sim.is_up(NodeId(2)));
    let crashes: Vec<NodeId> = sim
        .trace()
        .events()
        .filter(|e| matches!(e.kind, TraceKind::Crash { .. }))
        .map(|e| e.node)
        .collect();
    assert_eq!(crashes, vec![NodeId(0), NodeId(1)]);
    assert_eq!(sim.stats().crashes, 2);
    sim.run_until(Time::from_us(10_000));
    assert!(sim.down_nodes().is_empty());
    assert_eq!(sim.stats().recoveries, 2);
    let recovered: Vec<(NodeId, usize)> =
        boots.borrow().iter().filter(|b| b.2).map(|b| (b.0, b.1)).collect();
    assert_eq!(recovered, vec![(NodeId(0), 1), (NodeId(1), 0)], "each rebuilt from its own disk");
}

#[test]
fn a_mark_on_one_process_cuts_its_host_mate_too() {
    // Node 1 marks "m" and then sends to 2; the mark crashes node 0 (its host mate), which
    // takes node 1 down as well: the send after the mark is cut.
    let script = Script {
        on_start: vec![vec![], vec![Step::Mark("m"), Step::Send(2, Msg::Data(1))]],
        ..Script::default()
    };
    let plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(1), mark: "m".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let (mut sim, _) = lab(three_nodes_two_hosts(4), plan, script);
    sim.run_to_quiescence();
    assert_eq!(sim.down_nodes(), vec![NodeId(0), NodeId(1)]);
    let cut: Vec<(NodeId, u32)> = sim
        .trace()
        .events()
        .filter_map(|e| match e.kind {
            TraceKind::Crash { cut } => Some((e.node, cut)),
            _ => None,
        })
        .collect();
    assert_eq!(cut, vec![(NodeId(0), 0), (NodeId(1), 1)]);
    assert!(received(&sim, 2).is_empty());
}

#[test]
fn a_local_message_to_a_process_that_crashed_meanwhile_is_dropped() {
    // Node 0 sends to host mate 1 and then marks; the mark crashes the host before the local
    // delivery (queued for the same instant) runs. Node 1 has not even started yet (nodes
    // start in id order), and a process whose host is down does not start.
    let script = Script {
        on_start: vec![vec![Step::Send(1, Msg::Data(5)), Step::Mark("after-send")]],
        ..Script::default()
    };
    let plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "after-send".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let (mut sim, _) = lab(three_nodes_two_hosts(5), plan, script);
    sim.run_to_quiescence();
    let drops: Vec<DropReason> = sim
        .trace()
        .events()
        .filter_map(|e| match e.kind {
            TraceKind::Drop { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(drops, vec![DropReason::ReceiverDown]);
    assert_eq!(sim.stats().local_delivered, 0);
    assert_eq!(sim.down_nodes(), vec![NodeId(0), NodeId(1)]);
    assert_eq!(sim.stats().crashes, 2);
}

#[test]
fn hosts_must_name_one_host_per_node() {
    let config = SimConfig::new(3, 1).with_hosts(vec![0, 0]);
    let Err(e) = try_lab(config, FaultPlan::none(), Script::default()) else {
        panic!("a short hosts list was accepted")
    };
    assert!(matches!(&e, SimError::Invalid { field, .. } if field == "hosts"), "{e}");
    assert!(e.to_string().contains("2 entries") && e.to_string().contains("3 nodes"), "{e}");
}

#[test]
fn hosts_round_trip_through_json_and_stay_optional() {
    let config = SimConfig::new(2, 9).with_hosts(vec![4, 4]);
    let text = serde_json::to_string(&config).unwrap();
    assert!(text.contains(r#""hosts":[4,4]"#), "{text}");
    assert_eq!(serde_json::from_str::<SimConfig>(&text).unwrap(), config);
    let plain = serde_json::to_string(&SimConfig::new(2, 9)).unwrap();
    assert!(!plain.contains("hosts"), "absent when not configured: {plain}");
    assert!(!SimConfig::new(2, 9).same_host(NodeId(0), NodeId(1)));
    assert!(config.same_host(NodeId(0), NodeId(1)));
}

#[test]
fn colocated_runs_are_deterministic_and_differ_from_separate_hosts() {
    let script = || Script { gossip_rounds: 40, ..Script::default() };
    let run = |hosts: Option<Vec<u32>>| {
        let mut config = SimConfig::new(4, 77).with_trace(TraceLevel::Off);
        config.hosts = hosts;
        let (mut sim, _) = lab(config, FaultPlan::none(), script());
        sim.run_to_quiescence();
        (sim.trace_hash(), sim.stats())
    };
    let colocated = run(Some(vec![0, 0, 1, 1]));
    assert_eq!(colocated, run(Some(vec![0, 0, 1, 1])));
    let separate = run(None);
    assert_eq!(separate.1.local_messages, 0);
    assert!(colocated.1.local_messages > 0);
    assert_eq!(colocated.1.sent + colocated.1.local_messages, separate.1.sent, "same sends");
    assert_ne!(colocated.0, separate.0);
}
