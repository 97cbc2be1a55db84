//! The trace level decides what the engine keeps, never what is judged: the same run at
//! trace `off`, `observations` and `full` yields the same facts and the same verdicts.

use checkers::{Property, Verdicts, check};
use protocols::workload::Workload;
use protocols::{RunReport, Scenario};
use sim_core::{Action, FaultPlan, NodeId, TraceLevel, Trigger};

/// 3PC loses atomicity under a partition: the coordinator's side commits, the cut-off
/// participant's termination protocol aborts.
fn three_pc_partition() -> Scenario {
    let mut s = Scenario::new("3pc", 3, 1, 5176271972647535313);
    s.fault_horizon_us = 5_100_000;
    s.plan = FaultPlan::none().with(
        Trigger::Time { at_us: 11_746 },
        Action::Partition { groups: vec![vec![NodeId(0), NodeId(1), NodeId(2)]] },
    );
    s
}

/// 2PC blocks when the coordinator dies after every vote is in and stays down.
fn two_pc_coordinator_crash() -> Scenario {
    let mut s = Scenario::new("2pc", 3, 1, 11);
    s.workload = Workload::bank();
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    s
}

fn at_every_level(s: &Scenario) -> Vec<(TraceLevel, RunReport, Verdicts)> {
    [TraceLevel::Off, TraceLevel::Observations, TraceLevel::Full]
        .into_iter()
        .map(|level| {
            let mut s = s.clone();
            s.trace = level;
            let r = protocols::run(&s).unwrap().report;
            let v = check(&r, &s.plan);
            (level, r, v)
        })
        .collect()
}

fn assert_same(runs: &[(TraceLevel, RunReport, Verdicts)]) {
    let (_, first, verdicts) = &runs[0];
    assert!(!first.observations.is_empty() && !first.events.is_empty(), "facts at trace off");
    for (level, r, v) in &runs[1..] {
        assert_eq!(r.trace_hash, first.trace_hash, "{level:?}: the same run");
        assert_eq!(r.observations, first.observations, "{level:?}: observations");
        assert_eq!(r.events, first.events, "{level:?}: the other facts");
        assert_eq!(v, verdicts, "{level:?}: verdicts");
    }
}

#[test]
fn a_3pc_partition_violates_agreement_at_every_trace_level() {
    let runs = at_every_level(&three_pc_partition());
    assert_same(&runs);
    for (level, _, v) in &runs {
        let ac1 = v.get(Property::Agreement).violations();
        assert_eq!(ac1.len(), 1, "{level:?}: {v:?}");
        assert_eq!(ac1[0].detail, "t1: n0, n1, n2 committed, n3 aborted", "{level:?}");
    }
}

#[test]
fn a_2pc_coordinator_crash_blocks_at_every_trace_level() {
    let runs = at_every_level(&two_pc_coordinator_crash());
    assert_same(&runs);
    for (level, r, v) in &runs {
        let blocked = v.get(Property::NonBlocking).violations();
        assert_eq!(blocked.len(), 2, "{level:?}: both participants of the transfer");
        for b in blocked {
            assert_eq!(b.waiting_on.as_ref().unwrap().down, vec![NodeId(0)], "{level:?}");
            assert!(b.since.unwrap() < r.fault_phase.time, "{level:?}");
        }
        assert_eq!(v.get(Property::Termination), &checkers::Verdict::Holds, "{level:?}");
        assert_eq!(v.violated().filter(|x| x.property.is_atomicity()).count(), 0, "{level:?}");
    }
}
