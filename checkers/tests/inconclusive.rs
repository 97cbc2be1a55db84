//! A run a bound cut short is inconclusive, never judged as complete: what needs a finished
//! run (termination, non-blocking when the fault phase was cut, durability, conservation)
//! says `inconclusive` with the reason; a safety violation seen before the cut stands.

use checkers::{Property, Verdict, check};
use protocols::Scenario;
use protocols::workload::Workload;
use sim_core::{Action, FaultPlan, NodeId, Trigger};

fn inconclusive(v: &Verdict) -> &str {
    match v {
        Verdict::Inconclusive { reason } => reason,
        other => panic!("expected inconclusive, got {other:?}"),
    }
}

#[test]
fn a_tiny_event_budget_makes_the_run_inconclusive_not_complete() {
    let mut s = Scenario::new("2pc", 3, 10, 1);
    s.workload = Workload::bank();
    // The whole run, for comparison: every property that applies holds.
    let full = protocols::run(&s).unwrap().report;
    let v = check(&full, &s.plan);
    assert_eq!(v.inconclusive, None);
    assert_eq!(v.get(Property::Termination), &Verdict::Holds);
    assert_eq!(v.get(Property::Conservation), &Verdict::Holds);

    s.max_events = Some(50);
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.stats.events, 50, "the budget stopped the fault phase");
    assert!(!r.liveness_phase, "no liveness phase after a fault phase cut short");
    let v = check(&r, &s.plan);
    let reason = "event budget of 50 events exhausted in the fault phase";
    assert_eq!(v.inconclusive.as_deref(), Some(reason));
    for p in
        [Property::Termination, Property::NonBlocking, Property::Durability, Property::Conservation]
    {
        assert_eq!(inconclusive(v.get(p)), reason, "{}", p.name());
    }
    // Safety is judged over what ran: nothing broke it.
    for p in [Property::Agreement, Property::Irreversibility, Property::CommitNeedsAllYes] {
        assert_eq!(v.get(p), &Verdict::Holds, "{}", p.name());
    }
    assert!(!v.violated().any(|_| true), "nothing is violated, nothing is said to hold");
}

#[test]
fn a_budget_met_in_the_liveness_phase_keeps_the_blocking_verdict() {
    // 2PC blocks when its coordinator dies after every vote; the liveness phase then runs
    // out of budget: blocking was judged before the cut, termination cannot be.
    let mut s = Scenario::new("2pc", 3, 1, 11);
    s.workload = Workload::bank();
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    s.fault_horizon_us = 100_000;
    let full = protocols::run(&s).unwrap().report;
    assert!(check(&full, &s.plan).get(Property::NonBlocking).is_violated());
    // Each phase has the budget: one that lets the fault phase finish but not the liveness
    // phase (which recovers the coordinator and lets the client finish) cuts the latter.
    let mut fault_phase_only = s.clone();
    fault_phase_only.liveness_bound_us = None;
    let fault_phase_events = protocols::run(&fault_phase_only).unwrap().report.stats.events;
    let liveness_events = full.stats.events - fault_phase_events;
    assert!(liveness_events > fault_phase_events, "{liveness_events} vs {fault_phase_events}");
    s.max_events = Some(fault_phase_events);
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    assert!(v.get(Property::NonBlocking).is_violated(), "{:?}", v.get(Property::NonBlocking));
    let reason = inconclusive(v.get(Property::Termination));
    assert!(reason.ends_with("in the liveness phase"), "{reason}");
}

#[test]
fn a_safety_violation_seen_before_the_cut_stands() {
    // The unilateral-abort bug breaks agreement when the coordinator comes back at 2 s and
    // re-sends COMMIT; cut the fault phase one event before its end.
    let mut s = Scenario::new("broken-2pc-unilateral-abort", 3, 1, 6);
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "decision-logged".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: Some(2_000_000) },
    );
    s.liveness_bound_us = None;
    let events = protocols::run(&s).unwrap().report.stats.events;
    s.max_events = Some(events - 1);
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    assert!(v.inconclusive.is_some());
    assert!(v.get(Property::Agreement).is_violated(), "{:?}", v.get(Property::Agreement));
    inconclusive(v.get(Property::Termination));
}
