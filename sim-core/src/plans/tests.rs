//! The builder is total (any integers build a fault the space admits) and the seeded
//! sampler stays inside the space, extra targets and crash limit included.

use std::collections::BTreeSet;

use rand::Rng;

use super::*;
use crate::fault::{Action, Fault, Trigger};
use crate::id::NodeId;
use crate::rng::{StreamDomain, stream};

fn space() -> FaultSpace {
    FaultSpace {
        nodes: 4,
        extra_nodes: vec![NodeId(6), NodeId(7)],
        horizon_us: 100_000,
        classes: FaultClass::ALL.to_vec(),
        max_faults: 5,
        marks: vec![(NodeId(0), "all-votes-in".into()), (NodeId(7), "accepted".into())],
        send_points: vec![(NodeId(0), 4), (NodeId(7), 2)],
        crash_limits: vec![CrashLimit { nodes: vec![NodeId(6), NodeId(7)], max: 1 }],
    }
}

#[test]
fn any_draws_build_a_fault_the_space_admits() {
    let space = space();
    let mut rng = stream(1, StreamDomain::User, 0, 0);
    let mut any = || match rng.next_u64() % 3 {
        0 => rng.next_u64() % 4,
        1 => rng.next_u64(),
        _ => u64::MAX - rng.next_u64() % 4,
    };
    for _ in 0..2_000 {
        let trigger = match any() % 3 {
            0 => TriggerDraw::Time { at_us: any() },
            1 => TriggerDraw::Mark { index: any() as usize, nth: any() as u32 },
            _ => TriggerDraw::Sends { index: any() as usize, count: any() },
        };
        let links = if any() % 2 == 0 { None } else { Some(any()) };
        for action in [
            ActionDraw::Crash { node: any(), recover_after_us: Some(any()) },
            ActionDraw::Recover { node: any() },
            ActionDraw::Partition { side: vec![any(), any()] },
            ActionDraw::Partition { side: vec![] },
            ActionDraw::Heal,
            ActionDraw::CutOneWay { from: any(), to: any() },
            ActionDraw::HealLink { a: any(), b: any() },
            ActionDraw::Drop { links, permille: any() as u32 },
            ActionDraw::Duplicate { links, permille: any() as u32 },
            ActionDraw::Delay { links, min_us: any(), extra_us: any() },
            ActionDraw::ClockDrift { node: any(), ppm: any() as i64 },
        ] {
            let fault = space.fault(trigger, action);
            space.admits(&fault).unwrap_or_else(|e| panic!("{fault:?}: {e}"));
            crate::FaultPlan::new(vec![fault]).validate(8).unwrap();
        }
    }
}

#[test]
fn seeded_plans_stay_in_the_space_and_reach_every_kind_and_target() {
    let space = space();
    let (mut kinds, mut crashed) = (BTreeSet::new(), BTreeSet::new());
    for seed in 0..3_000 {
        let plan = space.generate(seed);
        plan.validate(8).unwrap();
        let mut limited = BTreeSet::new();
        for f in &plan.faults {
            space.admits(f).unwrap_or_else(|e| panic!("seed {seed}: {f:?}: {e}"));
            kinds.insert(FaultKind::of(&f.action).unwrap());
            if let Action::Crash { node, .. } = f.action {
                crashed.insert(node);
                if node.0 >= 6 {
                    limited.insert(node);
                }
            }
        }
        assert!(limited.len() <= 1, "seed {seed}: at most one of n6, n7 crashes: {plan:?}");
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), space.kinds());
    assert_eq!(crashed.into_iter().collect::<Vec<_>>(), space.targets());
}

#[test]
fn admits_rejects_what_lies_outside() {
    let mut space = space();
    space.classes = vec![FaultClass::Crash];
    let crash = |node, recover_after_us| Action::Crash { node: NodeId(node), recover_after_us };
    let at = |at_us| Trigger::Time { at_us };
    let outside = [
        Fault { trigger: at(0), action: crash(4, None) },
        Fault { trigger: at(0), action: crash(0, Some(5_000)) },
        Fault { trigger: at(100_001), action: crash(0, None) },
        Fault { trigger: at(0), action: Action::Heal },
        Fault {
            trigger: Trigger::Mark { node: NodeId(1), mark: "all-votes-in".into(), nth: 1 },
            action: crash(0, None),
        },
        Fault { trigger: Trigger::Sends { node: NodeId(1), count: 1 }, action: crash(0, None) },
        Fault { trigger: Trigger::Sends { node: NodeId(7), count: 3 }, action: crash(0, None) },
    ];
    for f in outside {
        assert!(space.admits(&f).is_err(), "{f:?}");
    }
    assert!(space.admits(&Fault { trigger: at(0), action: crash(7, None) }).is_ok());
    let after_second_send = Trigger::Sends { node: NodeId(7), count: 2 };
    assert!(space.admits(&Fault { trigger: after_second_send, action: crash(7, None) }).is_ok());
}

#[test]
fn send_draws_name_a_send_point_and_a_count_within_its_bound() {
    let space = space();
    let draw = |index, count| space.trigger(TriggerDraw::Sends { index, count });
    assert_eq!(draw(0, 0), Trigger::Sends { node: NodeId(0), count: 1 });
    assert_eq!(draw(0, 3), Trigger::Sends { node: NodeId(0), count: 4 });
    assert_eq!(draw(2, 4), Trigger::Sends { node: NodeId(0), count: 1 }, "both wrap");
    assert_eq!(draw(1, u64::MAX), Trigger::Sends { node: NodeId(7), count: 2 });
    assert_eq!(space.trigger_node(TriggerDraw::Sends { index: 1, count: 0 }), Some(NodeId(7)));
    let mut bad = space.clone();
    bad.send_points.push((NodeId(1), FaultSpace::MAX_SENDS + 1));
    assert!(bad.validate().unwrap_err().to_string().contains("send_points[2].sends"));
}

#[test]
fn several_crash_limits_hold_together_each_on_its_own_set() {
    let crash = |n: u32| Fault {
        trigger: Trigger::Time { at_us: u64::from(n) },
        action: Action::Crash { node: NodeId(n), recover_after_us: None },
    };
    let mut space = space();
    // One member of each of two groups: {0, 1, 2} and {3, 6, 7}.
    space.crash_limits = vec![
        CrashLimit { nodes: vec![NodeId(0), NodeId(1), NodeId(2)], max: 1 },
        CrashLimit { nodes: vec![NodeId(3), NodeId(6), NodeId(7)], max: 1 },
    ];
    let plan = space.plan([1, 6, 2, 7, 3, 0].map(crash).to_vec());
    let crashed: Vec<u32> = plan
        .faults
        .iter()
        .map(|f| match f.action {
            Action::Crash { node, .. } => node.0,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(crashed, [1, 6], "the first crash of each group stays, the rest go");
    // The limits are independent: a limit on one set drops nothing of the other.
    assert_eq!(space.plan([1, 6].map(crash).to_vec()).faults.len(), 2);
}
