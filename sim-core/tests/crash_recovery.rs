//! Crash and recovery: volatile state, timers and in-flight deliveries are lost, the disk
//! survives, and the node is rebuilt by the protocol's constructor from its disk. A crash
//! triggered by a mark cuts the rest of that handler's effects.

mod common;

use common::{Msg, Obs, Script, Step, Timer, lab, received};
use sim_core::{
    Action, DropReason, FaultPlan, Latency, LinkConfig, NodeId, SimConfig, Time, TraceKind,
    TraceLevel, Trigger,
};

fn constant_1ms() -> LinkConfig {
    LinkConfig { latency: Latency::Constant { us: 1_000 }, ..LinkConfig::default() }
}

#[test]
fn crash_loses_volatile_state_and_timers_keeps_disk_and_rebuilds_from_it() {
    // Node 0 sends node 1 five Data at start (1 ms latency); node 1 persists each and arms a
    // 50 ms timer at start. Node 1 crashes at 20 ms and recovers at 30 ms.
    let script = Script {
        on_start: vec![
            vec![Step::Burst { to: 1, count: 5 }],
            vec![Step::SetTimer(50_000, Timer::Gossip)],
        ],
        persist_data: true,
        ..Script::default()
    };
    let plan = FaultPlan::none().with(
        Trigger::Time { at_us: 20_000 },
        Action::Crash { node: NodeId(1), recover_after_us: Some(10_000) },
    );
    let config = SimConfig::new(2, 5).with_link(constant_1ms()).with_trace(TraceLevel::Full);
    let (mut sim, boots) = lab(config, plan, script);

    sim.run_until(Time::from_us(19_999));
    assert_eq!(sim.node(NodeId(1)).unwrap().received, 5);
    assert_eq!(sim.disk(NodeId(1)).records(), &[0, 1, 2, 3, 4]);

    sim.run_until(Time::from_us(25_000));
    assert!(!sim.is_up(NodeId(1)));
    assert!(sim.node(NodeId(1)).is_none());
    assert_eq!(sim.down_since(NodeId(1)), Some(Time::from_us(20_000)));
    assert_eq!(sim.disk(NodeId(1)).records().len(), 5, "disk survives the crash");

    sim.run_until(Time::from_ms(200));
    let node = sim.node(NodeId(1)).expect("recovered");
    assert_eq!(node.received, 0, "volatile counter starts over");
    assert_eq!(node.from_disk, 5, "rebuilt from the 5 records on disk");
    assert_eq!(sim.disk(NodeId(1)).writes(), 5);
    // The factory ran three times: two fresh boots, then node 1 from its disk.
    assert_eq!(
        *boots.borrow(),
        vec![(NodeId(0), 0, false), (NodeId(1), 0, false), (NodeId(1), 5, true)]
    );
    // The timer armed before the crash (due at 50 ms) never fired; the one armed by the
    // recovered instance (at 30 ms, due at 80 ms) did.
    let fired: Vec<u64> = sim
        .trace()
        .observations()
        .iter()
        .filter(|o| o.node == NodeId(1) && o.obs == Obs::Fired(Timer::Gossip))
        .map(|o| o.time.as_us())
        .collect();
    assert_eq!(fired, vec![80_000]);
    assert_eq!(sim.stats().crashes, 1);
    assert_eq!(sim.stats().recoveries, 1);
}

#[test]
fn messages_arriving_while_down_are_lost() {
    // Node 0 pings node 1 every 10 ms (ticks at 10..100 ms); node 1 is down from 25 to 55 ms.
    let script = Script {
        on_start: vec![vec![Step::SetTimer(10_000, Timer::Tick(0))]],
        tick_period_us: 10_000,
        ticks: 10,
        ping_on_tick: vec![vec![1]],
        ..Script::default()
    };
    let plan = FaultPlan::none()
        .with(
            Trigger::Time { at_us: 25_000 },
            Action::Crash { node: NodeId(1), recover_after_us: None },
        )
        .with(Trigger::Time { at_us: 55_000 }, Action::Recover { node: NodeId(1) });
    let config = SimConfig::new(2, 5).with_link(constant_1ms()).with_trace(TraceLevel::Full);
    let (mut sim, _) = lab(config, plan, script);
    sim.run_to_quiescence();
    let got: Vec<u64> = received(&sim, 1).iter().map(|g| g.0).collect();
    assert_eq!(got, vec![11_000, 21_000, 61_000, 71_000, 81_000, 91_000, 101_000]);
    assert_eq!(sim.stats().dropped_receiver_down, 3);
    let drops = sim
        .trace()
        .events()
        .filter(|e| matches!(e.kind, TraceKind::Drop { reason: DropReason::ReceiverDown, .. }))
        .count();
    assert_eq!(drops, 3);
}

/// Node 0's start script: persist, mark "m", then three sends.
fn persist_mark_send3() -> Script {
    Script {
        on_start: vec![vec![
            Step::Persist(7),
            Step::Mark("m"),
            Step::Send(1, Msg::Data(1)),
            Step::Send(2, Msg::Data(2)),
            Step::Send(3, Msg::Data(3)),
        ]],
        ..Script::default()
    }
}

#[test]
fn crash_on_a_mark_cuts_the_rest_of_the_handler() {
    let plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "m".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let config = SimConfig::new(4, 1).with_link(constant_1ms()).with_trace(TraceLevel::Full);
    let (mut sim, _) = lab(config, plan, persist_mark_send3());
    sim.run_to_quiescence();
    assert_eq!(sim.disk(NodeId(0)).records(), &[7], "the persist before the mark was applied");
    assert_eq!(sim.sends_by(NodeId(0)), 0, "no send after the mark left");
    for n in 1..4 {
        assert!(received(&sim, n).is_empty());
    }
    let crash = sim.trace().events().find(|e| matches!(e.kind, TraceKind::Crash { .. })).unwrap();
    assert_eq!(crash.kind, TraceKind::Crash { cut: 3 });
}

#[test]
fn crash_after_the_first_send_lets_exactly_one_message_out() {
    let plan = FaultPlan::none().with(
        Trigger::Sends { node: NodeId(0), count: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let config = SimConfig::new(4, 1).with_link(constant_1ms()).with_trace(TraceLevel::Full);
    let (mut sim, _) = lab(config, plan, persist_mark_send3());
    sim.run_to_quiescence();
    assert_eq!(received(&sim, 1), vec![(1_000, NodeId(0), Msg::Data(1))]);
    assert!(received(&sim, 2).is_empty());
    assert!(received(&sim, 3).is_empty());
    let crash = sim.trace().events().find(|e| matches!(e.kind, TraceKind::Crash { .. })).unwrap();
    assert_eq!(crash.kind, TraceKind::Crash { cut: 2 });
}

#[test]
fn a_crashed_node_stays_down_and_recovery_of_an_up_node_is_a_no_op() {
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 5 }, Action::Recover { node: NodeId(0) })
        .with(
            Trigger::Time { at_us: 10 },
            Action::Crash { node: NodeId(1), recover_after_us: None },
        )
        .with(
            Trigger::Time { at_us: 20 },
            Action::Crash { node: NodeId(1), recover_after_us: None },
        );
    let (mut sim, boots) = lab(SimConfig::new(2, 1), plan, Script::default());
    sim.run_to_quiescence();
    assert_eq!(boots.borrow().len(), 2, "no extra construction");
    assert_eq!(sim.stats().crashes, 1);
    assert_eq!(sim.down_nodes(), vec![NodeId(1)]);
}
