//! Conservation judges what can be judged: every transaction whose outcome is known at every
//! participant's disk, or known while every failure was repaired (after the liveness phase).
//! A participant whose disk lost a decision it had (a recovery bug) no longer silences the
//! checker: the money it failed to apply is reported destroyed.

use checkers::{Property, Verdict, check};
use protocols::workload::Workload;
use protocols::{Happened, RunReport, Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

fn bank_run(txns: u64) -> (Scenario, RunReport) {
    let mut s = Scenario::new("2pc", 3, txns, 5);
    s.workload = Workload::bank();
    let r = protocols::run(&s).unwrap().report;
    (s, r)
}

/// Doctors `r` as if `txn`'s decision had been lost from the disk of its first participant
/// that committed: its `Logged` fact is gone and its writes are not in the total at the end.
fn lose_a_decision(r: &mut RunReport, txn: TxnId) -> i64 {
    let (at, node) = r
        .events
        .iter()
        .enumerate()
        .find_map(|(i, e)| match e.fact.what {
            Happened::Logged { txn: t, .. } if t == txn && e.fact.node != NodeId(0) => {
                Some((i, e.fact.node))
            }
            _ => None,
        })
        .expect("a participant logged the decision");
    r.events.remove(at);
    let delta: i64 = r
        .events
        .iter()
        .find_map(|e| match e.fact.what {
            Happened::Prepared { txn: t, delta } if t == txn && e.fact.node == node => Some(delta),
            _ => None,
        })
        .expect("it prepared");
    assert_ne!(delta, 0, "a transfer moves money at each end");
    r.end.applied_total -= delta;
    delta
}

#[test]
fn a_decision_lost_from_a_disk_is_money_destroyed_not_a_run_left_unjudged() {
    let (s, r) = bank_run(1);
    assert_eq!(check(&r, &s.plan).get(Property::Conservation), &Verdict::Holds);
    let mut bad = r.clone();
    let delta = lose_a_decision(&mut bad, TxnId(1));
    let v = check(&bad, &s.plan);
    let c = v.get(Property::Conservation).violations();
    assert_eq!(c.len(), 1, "{:?}", v.get(Property::Conservation));
    // The debit side not applied creates money; the credit side destroys it.
    let what = if delta < 0 { "created" } else { "destroyed" };
    let judged = format!("{} {what} by the 1 transactions judged", delta.abs());
    assert!(c[0].detail.ends_with(&judged), "{}", c[0].detail);
    assert!(v.conservation_not_judged.is_empty());
}

#[test]
fn without_a_liveness_phase_a_missing_decision_may_be_on_its_way_and_is_not_judged() {
    let (s, mut r) = bank_run(2);
    lose_a_decision(&mut r, TxnId(2));
    r.liveness_phase = false;
    let v = check(&r, &s.plan);
    // t1 is judged and balances; t2's money may still be in flight.
    assert_eq!(v.get(Property::Conservation), &Verdict::Holds);
    assert_eq!(v.conservation_not_judged, vec![TxnId(2)]);
}

#[test]
fn a_blocked_2pc_run_is_judged_on_what_is_decided_and_names_what_is_not() {
    // The coordinator dies once COMMIT reached the first participant of the first transfer;
    // the second stays in doubt (no liveness phase): money in flight, not destroyed.
    let mut s = Scenario::new("2pc-no-cooperative-termination", 3, 3, 5);
    s.workload = Workload::bank();
    s.liveness_bound_us = None;
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "decision-sent-to-first".into(), nth: 2 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    assert!(v.get(Property::NonBlocking).is_violated(), "the premise: someone is blocked");
    assert_eq!(v.get(Property::Conservation), &Verdict::Holds, "judged, and it holds");
    assert_eq!(v.conservation_not_judged, vec![TxnId(2)], "the blocked transfer");
}
