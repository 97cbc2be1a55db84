//! A history judged as it grows, one fact at a time, as an explorer judges each state:
//! a safety property holds until the first fact that breaks it and stays broken after.

use checkers::{History, Property, Verdict, atomicity, check};
use protocols::{Happened, Observation, Outcome, RunFact, Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

/// Broken 2PC: the coordinator logs COMMIT and crashes before sending it; the participants
/// time out and abort on their own; the recovered coordinator commits.
fn unilateral_abort() -> Scenario {
    let mut s = Scenario::new("broken-2pc-unilateral-abort", 3, 1, 6);
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "decision-logged".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: Some(2_000_000) },
    );
    s
}

#[test]
fn agreement_holds_until_the_first_contradicting_decision_and_never_again() {
    let s = unilateral_abort();
    let r = protocols::run(&s).unwrap().report;
    let facts: Vec<RunFact> = r.facts().map(|f| f.to_fact()).collect();
    let mut h = History::new();
    let mut verdicts = Vec::with_capacity(facts.len());
    for f in &facts {
        h.push(f);
        verdicts.push(atomicity::agreement(&h));
    }
    let first = verdicts.iter().position(Verdict::is_violated).expect("agreement breaks");
    assert!(first > 0);
    assert!(verdicts[..first].iter().all(|v| *v == Verdict::Holds), "holds before");
    assert!(verdicts[first..].iter().all(Verdict::is_violated), "monotone: violated after");
    // The breaking fact is the first decision that contradicts another node's: a
    // participant's unilateral abort against the coordinator's durable COMMIT.
    let breaking = &facts[first];
    let earlier_commit = facts[..first].iter().any(|f| {
        matches!(f.what, Happened::Logged { txn: TxnId(1), outcome: Outcome::Commit })
            && f.node == NodeId(0)
    });
    assert!(earlier_commit, "the coordinator logged COMMIT before");
    assert!(
        matches!(
            breaking.what,
            Happened::Observed { obs: Observation::Decided { outcome: Outcome::Abort, .. } }
                | Happened::Logged { outcome: Outcome::Abort, .. }
        ),
        "{breaking:?}"
    );
    assert_ne!(breaking.node, NodeId(0), "a participant broke it");
    // The whole history judged at once says what the last step said.
    let whole = check(&r, &s.plan);
    assert_eq!(whole.get(Property::Agreement), verdicts.last().unwrap());
    assert_eq!(
        verdicts.last().unwrap().violations()[0].detail,
        "t1: n0 committed, n1, n2, n3 aborted"
    );
}

#[test]
fn every_safety_property_is_monotone_along_the_history() {
    let s = unilateral_abort();
    let r = protocols::run(&s).unwrap().report;
    let safety: [fn(&History) -> Verdict; 3] =
        [atomicity::agreement, atomicity::irreversibility, atomicity::commit_needs_all_yes];
    let mut h = History::new();
    let mut broken = [false; 3];
    for f in r.facts() {
        h.push_ref(f);
        for (p, was) in safety.iter().zip(broken.iter_mut()) {
            let now = p(&h).is_violated();
            assert!(now || !*was, "a safety violation is never undone by a later fact");
            *was = now;
        }
    }
    assert!(broken[0], "agreement ends violated");
}

#[test]
fn blocking_is_judged_where_the_fault_phase_ends_and_not_before() {
    let mut s = Scenario::new("2pc", 3, 1, 11);
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let r = protocols::run(&s).unwrap().report;
    let mut h = History::new();
    let mut judged = false;
    for f in r.facts() {
        let ends = matches!(f, protocols::FactRef::Other(x) if x.what == Happened::FaultPhaseEnded);
        if !judged {
            let v = checkers::liveness::non_blocking(&h);
            assert!(matches!(v, Verdict::NotApplicable { .. }), "not before the phase ends");
        }
        h.push_ref(f);
        if ends {
            judged = true;
            let v = checkers::liveness::non_blocking(&h);
            assert!(v.is_violated(), "blocked when the fault phase ends");
        }
    }
    // The liveness phase recovered the coordinator: nobody is in doubt at the end, yet the
    // blocking verdict stays the one judged at the end of the fault phase.
    assert!(judged && !h.anyone_in_doubt());
    assert_eq!(
        checkers::liveness::non_blocking(&h),
        *check(&r, &s.plan).get(Property::NonBlocking)
    );
}
