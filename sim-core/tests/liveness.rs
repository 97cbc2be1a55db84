//! The liveness phase: everything recovers, the network heals and stops losing messages,
//! drift stops, and no further fault fires.

mod common;

use common::{Msg, Script, Step, Timer, lab, received};
use sim_core::{
    Action, Duration, FaultPlan, HashableF64, LinkSet, NodeId, SimConfig, Stop, Time, TraceLevel,
    Trigger,
};

#[test]
fn liveness_phase_repairs_every_failure_and_disarms_the_plan() {
    let script = Script {
        on_start: vec![vec![], vec![Step::SetTimer(1_000, Timer::Tick(0))]],
        tick_period_us: 10_000,
        ticks: 100,
        ping_on_tick: vec![vec![], vec![0, 2]],
        ..Script::default()
    };
    let plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 0 }, Action::Crash { node: NodeId(2), recover_after_us: None })
        .with(Trigger::Time { at_us: 0 }, Action::CutOneWay { from: NodeId(1), to: NodeId(0) })
        .with(
            Trigger::Time { at_us: 0 },
            Action::SetDrop { links: LinkSet::All, prob: HashableF64(1.0) },
        )
        .with(Trigger::Time { at_us: 0 }, Action::ClockDrift { node: NodeId(1), ppm: 500_000 })
        // Would crash node 0 during the liveness phase: must not fire.
        .with(
            Trigger::Time { at_us: 300_000 },
            Action::Crash { node: NodeId(0), recover_after_us: None },
        );
    let config = SimConfig::new(3, 4).with_trace(TraceLevel::Observations);
    let (mut sim, boots) = lab(config, plan, script);

    assert_eq!(sim.run_until(Time::from_ms(200)), Stop::Horizon);
    assert!(received(&sim, 0).is_empty() && received(&sim, 2).is_empty());
    assert_eq!(sim.down_nodes(), vec![NodeId(2)]);

    sim.run_liveness_phase(Duration::from_ms(200));
    assert!(sim.in_liveness_phase());
    assert!(sim.down_nodes().is_empty());
    assert!(sim.topology().is_whole());
    assert_eq!(sim.link_config(NodeId(1), NodeId(0)).drop_prob, 0.0);
    assert_eq!(sim.fired(), &[true, true, true, true, false]);
    assert_eq!(boots.borrow().last(), Some(&(NodeId(2), 0, true)));
    // Node 1's pings now arrive at both peers, and their pongs come back.
    let at0 = received(&sim, 0);
    assert!(at0.len() >= 10 && at0.iter().all(|g| g.0 > 200_000 && matches!(g.2, Msg::Ping(_))));
    assert!(!received(&sim, 2).is_empty());
    // Drift is gone: ticks are 10 ms apart again (they were 15 ms before).
    let ticks: Vec<u64> = sim
        .trace()
        .observations()
        .iter()
        .filter(|o| o.node == NodeId(1) && matches!(o.obs, common::Obs::Fired(_)))
        .map(|o| o.time.as_us())
        .collect();
    let last_gaps: Vec<u64> = ticks.windows(2).rev().take(5).map(|w| w[1] - w[0]).collect();
    assert_eq!(last_gaps, vec![10_000; 5]);
    assert_eq!(ticks[1] - ticks[0], 15_000);
}
