//! The orchestrated saga: every saga ends as T1..Tn or T1..Tj, Cj..C1, each step and each
//! compensation applied once however often requests are retried or duplicated, resumed from
//! the saga log after an orchestrator crash at any of its marks; and the volatile-log
//! variant strands a debit exactly where the log would have saved it.

mod common;

use std::collections::BTreeMap;

use common::*;
use protocols::workload::{VotePolicy, Workload};
use protocols::{Observation, Outcome, RunReport, SagaOutcome, Scenario, TxnId};
use sim_core::{HashableF64, NodeId};

/// One saga's history as the services and the orchestrator reported it, in trace order:
/// `T3` for a step applied, `R3` refused, `C3` compensated, `end:...` for its end.
fn histories(r: &RunReport) -> BTreeMap<TxnId, Vec<String>> {
    let mut h: BTreeMap<TxnId, Vec<String>> = BTreeMap::new();
    for o in &r.observations {
        let e = match &o.obs {
            Observation::StepApplied { step, .. } => format!("T{step}"),
            Observation::StepRefused { step, .. } => format!("R{step}"),
            Observation::CompensationApplied { step, .. } => format!("C{step}"),
            Observation::SagaEnded { outcome, .. } => format!("end:{outcome}"),
            _ => continue,
        };
        h.entry(o.obs.txn()).or_default().push(e);
    }
    h
}

/// The sequences a correct two-step saga may leave (Garcia-Molina & Salem).
fn valid_two_step(h: &[String]) -> bool {
    let h: Vec<&str> = h.iter().map(String::as_str).collect();
    matches!(
        h.as_slice(),
        ["T1", "T2", "end:completed"]
            | ["R1", "end:compensated"]
            | ["T1", "R2", "C1", "end:compensated"]
            | ["end:compensated"]
    )
}

fn learned(r: &RunReport) -> BTreeMap<TxnId, Outcome> {
    r.observations
        .iter()
        .filter_map(|o| match o.obs {
            Observation::ClientLearned { txn, outcome } => Some((txn, outcome)),
            _ => None,
        })
        .collect()
}

fn bank(protocol: &str, txns: u64, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, 3, txns, seed);
    s.workload = Workload::bank();
    s
}

/// Every saga ended once, in a valid form, the client heard its outcome, money is back.
fn assert_semantically_atomic(r: &RunReport, txns: u64, ctx: &str) {
    let h = histories(r);
    assert_eq!(h.len() as u64, txns, "{ctx}: every saga ran: {h:?}");
    let told = learned(r);
    for (txn, events) in &h {
        assert!(valid_two_step(events), "{ctx}: {txn} left {events:?}");
        let completed = events.last().map(String::as_str) == Some("end:completed");
        let expected = if completed { Outcome::Commit } else { Outcome::Abort };
        assert_eq!(told.get(txn), Some(&expected), "{ctx}: {txn} told {:?}", told.get(txn));
    }
    assert_eq!(r.end.applied_total, r.initial_total, "{ctx}: money conserved");
}

#[test]
fn fault_free_sagas_complete_and_conserve_money() {
    let r = protocols::run(&bank("saga-orchestration", 20, 5)).unwrap().report;
    assert_semantically_atomic(&r, 20, "fault-free");
    assert!(learned(&r).values().all(|&o| o == Outcome::Commit), "no step refused");
    // The orchestrator logs begun, 2 x (started, done), ended: 6 writes; each service 1.
    assert_eq!(r.end.disks[0].records, 6 * 20);
    assert_eq!(r.end.disks[0].decisions.len(), 20, "the end record is the saga's decision");
    assert!(r.end.in_doubt.iter().all(Vec::is_empty), "nobody is ever in doubt");
}

#[test]
fn a_refused_step_compensates_the_steps_done_in_reverse_order() {
    // Service 2 refuses every step: sagas debiting it end R1; sagas crediting it T1 R2 C1.
    let mut s = bank("saga-orchestration", 30, 9);
    s.votes = VotePolicy::always_no(NodeId(2));
    let r = protocols::run(&s).unwrap().report;
    assert_semantically_atomic(&r, 30, "refusals");
    let h = histories(&r);
    let compensated = h.values().filter(|e| e.len() == 4).count();
    assert!(compensated >= 3, "some saga compensated its debit: {h:?}");
    assert!(h.values().any(|e| e == &["R1", "end:compensated"]), "{h:?}");
    // Three-step sagas (spread workload): a refusal at T3 compensates C2 then C1.
    let mut s = Scenario::new("saga-orchestration", 3, 5, 2);
    s.votes = VotePolicy::always_no(NodeId(3));
    let r = protocols::run(&s).unwrap().report;
    for events in histories(&r).values() {
        assert_eq!(events, &["T1", "T2", "R3", "C2", "C1", "end:compensated"]);
    }
    assert_eq!(r.end.applied_total, r.initial_total);
}

#[test]
fn the_orchestrator_resumes_from_its_log_after_a_crash_at_any_mark() {
    let marks = ["saga-begun", "step-started", "step-done", "step-failed", "compensating"];
    let marks = marks.iter().chain(["compensated", "saga-ended"].iter());
    let mut crashed = 0;
    for &mark in marks {
        for (nth, recover) in [(1, Some(20_000)), (2, Some(300_000)), (3, None)] {
            for seed in 0..4 {
                let mut s = bank("saga-orchestration", 8, seed);
                s.max_in_flight = 2;
                s.votes = VotePolicy { no_vote_prob: 0.4, per_node: vec![] };
                s.plan = crash_at(0, mark, recover);
                s.plan.faults[0].trigger =
                    sim_core::Trigger::Mark { node: NodeId(0), mark: mark.into(), nth };
                let r = protocols::run(&s).unwrap().report;
                let ctx = format!("crash at {mark}#{nth}, recover {recover:?}, seed {seed}");
                assert_semantically_atomic(&r, 8, &ctx);
                decisions(&r); // the orchestrator never reverses an end (AC2 on its disk)
                crashed += r.stats.crashes;
            }
        }
    }
    assert!(crashed >= 70, "most runs reached their crash point: {crashed}");
}

#[test]
fn retries_and_duplicates_apply_each_step_and_compensation_once() {
    for seed in 0..30 {
        let mut s = bank("saga-orchestration", 10, seed);
        s.max_in_flight = 3;
        s.votes = VotePolicy { no_vote_prob: 0.3, per_node: vec![] };
        s.network.default.drop_prob = 0.2;
        s.network.default.dup_prob = 0.3;
        let r = protocols::run(&s).unwrap().report;
        assert!(r.stats.duplicated > 0 && r.stats.dropped_loss > 0, "seed {seed}");
        assert_semantically_atomic(&r, 10, &format!("lossy seed {seed}"));
    }
}

#[test]
fn a_volatile_orchestrator_strands_the_debit_of_a_saga_it_forgot() {
    // Crash right after T1 of saga 1 is done; the orchestrator comes back with nothing.
    let mut s = bank("broken-saga-volatile-orchestrator", 3, 1);
    s.plan = crash_at(0, "step-done", Some(50_000));
    let r = protocols::run(&s).unwrap().report;
    let h = histories(&r);
    assert_eq!(h[&TxnId(1)], ["T1", "end:compensated"], "told compensated, C1 never ran");
    assert_eq!(learned(&r)[&TxnId(1)], Outcome::Abort);
    assert!(r.end.applied_total < r.initial_total, "the debit is lost money");
    // The same crash against the durable log: resumed, T2 runs, nothing lost.
    s.protocol = "saga-orchestration".into();
    let r = protocols::run(&s).unwrap().report;
    assert_semantically_atomic(&r, 3, "durable log");
    assert_eq!(histories(&r)[&TxnId(1)], ["T1", "T2", "end:completed"]);
    let ended: Vec<_> = r
        .observations
        .iter()
        .filter(|o| {
            o.obs == Observation::SagaEnded { txn: TxnId(1), outcome: SagaOutcome::Completed }
        })
        .collect();
    assert_eq!(ended.len(), 1);
}

#[test]
fn runs_are_deterministic_with_jittered_retries() {
    let mut s = bank("saga-orchestration", 6, 3);
    s.network.default.drop_prob = 0.3;
    s.plan = crash_at(1, "step-applied", Some(40_000));
    s.plan = s.plan.with(
        sim_core::Trigger::Time { at_us: 1_000 },
        sim_core::Action::SetDuplicate { links: sim_core::LinkSet::All, prob: HashableF64(0.2) },
    );
    let a = protocols::run(&s).unwrap().report;
    let b = protocols::run(&s).unwrap().report;
    assert_eq!(a, b);
    assert_semantically_atomic(&a, 6, "service crash");
}
