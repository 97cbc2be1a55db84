//! The saga checker: holds on correct orchestrated sagas under crashes, refusals, loss and
//! duplication; catches the volatile orchestrator; and each rule of Garcia-Molina & Salem's
//! definition is caught on a history doctored to break exactly that rule.

use checkers::{AnomalyWindow, Property, Verdict, anomaly, check};
use protocols::workload::{VotePolicy, Workload};
use protocols::{Observation, Outcome, RunReport, SagaOutcome, Scenario, TxnId, TxnObserved};
use sim_core::{Action, FaultPlan, NodeId, Time, Trigger};

fn bank(protocol: &str, txns: u64, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, 3, txns, seed);
    s.workload = Workload::bank();
    s
}

fn crash_orchestrator(mark: &str, nth: u32, recover_after_us: Option<u64>) -> FaultPlan {
    FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: mark.into(), nth },
        Action::Crash { node: NodeId(0), recover_after_us },
    )
}

fn run(s: &Scenario) -> RunReport {
    protocols::run(s).unwrap().report
}

/// The saga-atomicity violations' details (empty: it holds).
fn saga_violations(r: &RunReport) -> Vec<String> {
    let v = check(r, &FaultPlan::none());
    v.get(Property::SagaAtomicity).violations().iter().map(|v| v.detail.clone()).collect()
}

#[test]
fn correct_sagas_hold_and_the_commit_only_properties_do_not_apply() {
    let mut plans = vec![FaultPlan::none()];
    for mark in ["saga-begun", "step-started", "step-done", "compensating", "saga-ended"] {
        plans.push(crash_orchestrator(mark, 1, Some(30_000)));
        plans.push(crash_orchestrator(mark, 2, None));
    }
    for (i, plan) in plans.into_iter().enumerate() {
        for seed in 0..5 {
            let mut s = bank("saga-orchestration", 6, seed);
            s.max_in_flight = 2;
            s.votes = VotePolicy { no_vote_prob: 0.3, per_node: vec![] };
            s.network.default.dup_prob = 0.1;
            s.network.default.drop_prob = 0.1;
            s.plan = plan.clone();
            let r = run(&s);
            let v = check(&r, &s.plan);
            let ctx = format!("plan {i} seed {seed}");
            assert_eq!(v.get(Property::SagaAtomicity), &Verdict::Holds, "{ctx}");
            for p in [
                Property::Agreement,
                Property::Irreversibility,
                Property::NonBlocking,
                Property::Termination,
                Property::Conservation,
            ] {
                assert_eq!(v.get(p), &Verdict::Holds, "{ctx}: {}", p.name());
            }
            for p in
                [Property::CommitNeedsAllYes, Property::CommitWithoutFailures, Property::Durability]
            {
                assert!(matches!(v.get(p), Verdict::NotApplicable { .. }), "{ctx}: {}", p.name());
            }
        }
    }
}

#[test]
fn saga_atomicity_does_not_apply_to_a_commit_protocol() {
    let r = run(&bank("2pc", 3, 1));
    let v = check(&r, &FaultPlan::none());
    assert!(matches!(v.get(Property::SagaAtomicity), Verdict::NotApplicable { .. }));
    assert_eq!(v.get(Property::CommitNeedsAllYes), &Verdict::Holds, "2PC is judged as before");
    assert_eq!(anomaly(&r), AnomalyWindow::default(), "no saga, no anomaly");
}

#[test]
fn the_volatile_orchestrator_strands_a_debit_and_is_caught() {
    let mut s = bank("broken-saga-volatile-orchestrator", 3, 1);
    s.plan = crash_orchestrator("step-done", 1, Some(50_000));
    let r = run(&s);
    let v = check(&r, &s.plan);
    let saga = v.get(Property::SagaAtomicity).violations();
    assert_eq!(saga.len(), 1, "{saga:?}");
    assert_eq!(saga[0].txn, Some(TxnId(1)));
    assert_eq!(saga[0].detail, "saga t1: ended compensated as T1, not T1..Tj, Cj..C1");
    assert!(v.get(Property::Conservation).is_violated(), "the debit is missing money");
    // A crash after a saga completed: the forgotten saga is reported compensated on the
    // client's retry, a reversal of the orchestrator's own end.
    let mut s = bank("broken-saga-volatile-orchestrator", 1, 1);
    s.plan = crash_orchestrator("saga-ended", 1, Some(50_000));
    let r = run(&s);
    let v = check(&r, &s.plan);
    assert!(v.get(Property::Irreversibility).is_violated());
    let details = saga_violations(&r);
    assert_eq!(details.len(), 1);
    assert!(details[0].contains("ended both completed and compensated"), "{details:?}");
    assert!(details[0].contains("the client was told abort"), "{details:?}");
}

/// A correct run with one refused step (T1 R2 C1 for saga 1) to doctor.
fn compensated_run() -> RunReport {
    let mut s = Scenario::new("saga-orchestration", 3, 1, 4);
    s.votes = VotePolicy::always_no(NodeId(3));
    let r = run(&s);
    assert!(saga_violations(&r).is_empty());
    let seq: Vec<&Observation> =
        r.observations.iter().map(|o| &o.obs).filter(|o| o.is_saga()).collect();
    assert!(
        matches!(
            seq[..],
            [
                Observation::SagaBegun { steps: 3, .. },
                Observation::StepApplied { step: 1, .. },
                Observation::StepApplied { step: 2, .. },
                Observation::StepRefused { step: 3, .. },
                Observation::CompensationApplied { step: 2, .. },
                Observation::CompensationApplied { step: 1, .. },
                Observation::SagaEnded { outcome: SagaOutcome::Compensated, .. },
            ]
        ),
        "{seq:?}"
    );
    r
}

fn position(r: &RunReport, f: impl Fn(&Observation) -> bool) -> usize {
    r.observations.iter().position(|o| f(&o.obs)).unwrap()
}

#[test]
fn each_rule_is_caught_on_a_doctored_history() {
    let base = compensated_run();
    let is_c = |s: u32| move |o: &Observation| matches!(o, Observation::CompensationApplied { step, .. } if *step == s);
    let is_t = |s: u32| move |o: &Observation| matches!(o, Observation::StepApplied { step, .. } if *step == s);

    // A duplicate applied twice.
    let mut r = base.clone();
    let i = position(&r, is_t(2));
    let dup = r.observations[i].clone();
    r.observations.insert(i + 1, dup);
    assert_eq!(saga_violations(&r), ["saga t1: T2 applied 2 times"]);

    // Compensations out of order: C1 before C2.
    let mut r = base.clone();
    let (c2, c1) = (position(&r, is_c(2)), position(&r, is_c(1)));
    r.observations.swap(c2, c1);
    assert_eq!(saga_violations(&r), ["saga t1: C1 applied before C2 (not in reverse order)"]);

    // A step after its compensation: T2 moved after C2.
    let mut r = base.clone();
    let t2 = r.observations.remove(position(&r, is_t(2)));
    let c2 = position(&r, is_c(2));
    r.observations.insert(c2 + 1, t2);
    let d = saga_violations(&r);
    assert_eq!(d.len(), 1);
    assert!(d[0].contains("C2 applied without T2 before it"), "{d:?}");
    assert!(d[0].contains("T2 applied after its compensation"), "{d:?}");

    // A compensation lost: ended compensated with T2 standing.
    let mut r = base.clone();
    r.observations.remove(position(&r, is_c(2)));
    let d = saga_violations(&r);
    assert_eq!(
        d,
        [concat!(
            "saga t1: C1 applied before C2 (not in reverse order); ",
            "ended compensated as T1 T2 C1, not T1..Tj, Cj..C1"
        )]
    );

    // Never ended although the liveness phase ran.
    let mut r = base.clone();
    r.observations.retain(|o| !matches!(o.obs, Observation::SagaEnded { .. }));
    // Not ending is termination's failure (AC5), as for a commit protocol, not atomicity's.
    assert!(saga_violations(&r).is_empty(), "what it applied is in a valid order");
    let v = check(&r, &FaultPlan::none());
    let d: Vec<&str> =
        v.get(Property::Termination).violations().iter().map(|v| v.detail.as_str()).collect();
    assert_eq!(d, ["saga t1: never ended, even after the liveness phase (T1 T2 C2 C1)"]);
    r.liveness_phase = false;
    let v = check(&r, &FaultPlan::none());
    assert!(!v.get(Property::Termination).is_violated(), "without a liveness phase it may run");

    // The client told the opposite of the end.
    let mut r = base.clone();
    let i = position(&r, |o| matches!(o, Observation::ClientLearned { .. }));
    r.observations[i].obs = Observation::ClientLearned { txn: TxnId(1), outcome: Outcome::Commit };
    assert_eq!(saga_violations(&r), ["saga t1: ended compensated, but the client was told commit"]);
}

#[test]
fn the_anomaly_window_is_the_time_money_is_missing() {
    let mut r = compensated_run();
    let at = |us: u64, node: u32, obs: Observation| TxnObserved {
        time: Time::from_us(us),
        node: NodeId(node),
        obs,
    };
    let (t1, t2) = (TxnId(1), TxnId(2));
    // Saga 1 debits 50 at 10 and credits at 30; saga 2 debits 20 at 20, compensates at 60.
    r.observations = vec![
        at(10, 1, Observation::StepApplied { txn: t1, step: 1, delta: -50 }),
        at(20, 2, Observation::StepApplied { txn: t2, step: 1, delta: -20 }),
        at(30, 3, Observation::StepApplied { txn: t1, step: 2, delta: 50 }),
        at(60, 2, Observation::CompensationApplied { txn: t2, step: 1, delta: 20 }),
        // Two reads of the total: one during saga 1's window, one after everything settled.
        at(15, 4, Observation::AuditRead { total: r.initial_total - 50 }),
        at(70, 4, Observation::AuditRead { total: r.initial_total }),
    ];
    r.observations.sort_by_key(|o| o.time);
    let w = anomaly(&r);
    assert_eq!(
        w,
        AnomalyWindow {
            unbalanced_us: 50,
            max_off: 70,
            saga_exposure_us: 60,
            sagas_exposed: 2,
            reads: 2,
            reads_off: 1,
        }
    );

    // On a real bank run every transfer is off balance between its debit and its credit.
    let r = run(&bank("saga-orchestration", 10, 3));
    let w = anomaly(&r);
    assert_eq!(w.sagas_exposed, 10);
    assert!(w.unbalanced_us > 0 && w.unbalanced_us == w.saga_exposure_us, "sequential: {w:?}");
    assert!(w.max_off <= 100, "one transfer at a time, at most 100: {w:?}");
}

/// The reads the auditor made, and how many of them saw the total off.
fn reads(r: &RunReport) -> (u32, u32) {
    let w = anomaly(r);
    (w.reads, w.reads_off)
}

#[test]
fn concurrent_reads_see_the_missing_money_on_both_saga_styles() {
    for protocol in ["saga-orchestration", "saga-choreography"] {
        let (mut reads_on, mut reads_off) = (0, 0);
        for seed in 0..3 {
            let r = run(&bank(protocol, 10, seed));
            let w = anomaly(&r);
            assert!(w.unbalanced_us > 0, "{protocol} seed {seed}: a saga window: {w:?}");
            assert!(w.reads_off <= w.reads, "{protocol} seed {seed}: {w:?}");
            reads_off += w.reads_off;
            reads_on += w.reads - w.reads_off;
            // A read's total is the initial one, or off by what sagas in flight moved.
            for o in &r.observations {
                if let Observation::AuditRead { total } = o.obs {
                    assert!((total - r.initial_total).abs() <= 100, "one transfer at a time");
                }
            }
        }
        assert!(reads_off > 0, "{protocol}: some reads saw money missing");
        assert!(reads_on > 0, "{protocol}: some reads saw the total whole");
    }
}

#[test]
fn commit_protocols_are_not_audited() {
    for protocol in ["2pc", "3pc"] {
        let r = run(&bank(protocol, 5, 1));
        assert_eq!(reads(&r), (0, 0), "{protocol}");
        assert!(!r.observations.iter().any(|o| matches!(o.obs, Observation::AuditRead { .. })));
    }
    // Nor is a saga off the bank workload: there is no total to read.
    let r = run(&Scenario::new("saga-orchestration", 3, 5, 1));
    assert_eq!(reads(&r), (0, 0));
}

#[test]
fn a_longer_orchestrator_outage_after_a_debit_fools_more_readers() {
    let off = |recover_after_us: u64| -> u32 {
        (0..5)
            .map(|seed| {
                let mut s = bank("saga-orchestration", 6, seed);
                s.plan = crash_orchestrator("step-done", 1, Some(recover_after_us));
                let r = run(&s);
                assert_eq!(r.stats.crashes, 1, "seed {seed}: the crash fired");
                reads(&r).1
            })
            .sum()
    };
    let (short, long) = (off(10_000), off(1_000_000));
    eprintln!("reads off: recovery after 10 ms {short}, after 1 s {long}");
    assert!(long > short, "after 1 s: {long} reads off, after 10 ms: {short}");
}
