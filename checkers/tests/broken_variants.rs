//! Each deliberately broken variant is caught by the checker meant for it, on a concrete
//! fault plan; its correct twin passes the same plan.

use checkers::{Property, check};
use protocols::workload::VotePolicy;
use protocols::{Outcome, Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

fn crash_at(node: u32, mark: &str, recover_after_us: Option<u64>) -> FaultPlan {
    FaultPlan::none().with(
        Trigger::Mark { node: NodeId(node), mark: mark.into(), nth: 1 },
        Action::Crash { node: NodeId(node), recover_after_us },
    )
}

#[test]
fn unilateral_abort_after_yes_violates_agreement() {
    // The coordinator logs COMMIT and crashes before sending it; it recovers after the
    // participants' timeouts and re-sends COMMIT to participants that already aborted.
    let mut s = Scenario::new("broken-2pc-unilateral-abort", 3, 1, 6);
    s.plan = crash_at(0, "decision-logged", Some(2_000_000));
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    let ac1 = v.get(Property::Agreement).violations();
    assert_eq!(ac1.len(), 1, "{v:?}");
    assert_eq!(ac1[0].txn, Some(TxnId(1)));
    assert!(ac1[0].decisions.contains(&(NodeId(0), Outcome::Commit)));
    for p in 1..=3 {
        assert!(ac1[0].decisions.contains(&(NodeId(p), Outcome::Abort)), "{:?}", ac1[0]);
    }
    assert_eq!(ac1[0].detail, "t1: n0 committed, n1, n2, n3 aborted");
    // The same plan on correct 2PC: every property that applies holds.
    s.protocol = "2pc".into();
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(check(&r, &s.plan).violated().count(), 0);
}

#[test]
fn unlogged_decision_violates_agreement_and_durability_of_the_disk() {
    // Crash after COMMIT reached participant 1 but before the coordinator logged it.
    let mut s = Scenario::new("broken-2pc-unlogged-decision", 3, 1, 6);
    s.plan = crash_at(0, "decision-sent-to-first", Some(10_000));
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    let ac1 = v.get(Property::Agreement).violations();
    assert_eq!(ac1.len(), 1, "{v:?}");
    assert!(ac1[0].decisions.contains(&(NodeId(1), Outcome::Commit)), "{:?}", ac1[0]);
    assert!(ac1[0].decisions.iter().any(|d| d.1 == Outcome::Abort));
    s.protocol = "2pc".into();
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(check(&r, &s.plan).violated().count(), 0);
}

#[test]
fn all_uncertain_commit_violates_commit_needs_all_yes() {
    // Participant 3 votes no and dies; the coordinator logs ABORT and dies before sending
    // it; the uncertain survivors must abort, the broken termination rule commits.
    let mut s = Scenario::new("broken-3pc-all-uncertain-commit", 3, 1, 3);
    s.liveness_bound_us = None;
    s.votes = VotePolicy::always_no(NodeId(3));
    s.plan = crash_at(0, "decision-logged", None).with(
        Trigger::Mark { node: NodeId(3), mark: "decided".into(), nth: 1 },
        Action::Crash { node: NodeId(3), recover_after_us: None },
    );
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    let ac3 = v.get(Property::CommitNeedsAllYes).violations();
    assert_eq!(ac3.len(), 1, "{v:?}");
    assert_eq!(ac3[0].nodes, vec![NodeId(3)], "n3 voted no");
    assert_eq!(ac3[0].decisions, vec![(NodeId(1), Outcome::Commit), (NodeId(2), Outcome::Commit)]);
    assert!(v.get(Property::Agreement).is_violated(), "the coordinator's disk says abort");
    s.protocol = "3pc".into();
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(check(&r, &s.plan).violated().count(), 0);
}

#[test]
fn a_protocol_that_forgets_to_report_still_fails_agreement_from_its_disks() {
    let mut s = Scenario::new("broken-2pc-unlogged-decision", 3, 1, 6);
    s.plan = crash_at(0, "decision-sent-to-first", Some(10_000));
    let mut r = protocols::run(&s).unwrap().report;
    // Strip every reported decision: only the disks are left to tell.
    r.observations.retain(|o| !matches!(o.obs, protocols::Observation::Decided { .. }));
    let v = check(&r, &s.plan);
    assert!(v.get(Property::Agreement).is_violated(), "{v:?}");
}
