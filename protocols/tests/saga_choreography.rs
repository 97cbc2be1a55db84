//! The choreographed saga: services reacting to each other's events through a durable,
//! at-least-once broker end every saga as T1..Tn or T1..Tj, Cj..C1, each step and each
//! compensation applied once however often events are re-delivered, re-published, lost or
//! duplicated, and whatever mark the broker crashes at; the lossy in-memory bus strands sagas.

mod common;

use std::collections::BTreeMap;

use common::*;
use protocols::workload::{VotePolicy, Workload};
use protocols::{Observation, Outcome, RunReport, Scenario, TxnId};
use sim_core::NodeId;

/// One saga's history in trace order: `T3` applied, `R3` refused, `C3` compensated, `end:..`.
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

fn valid_two_step(h: &[String]) -> bool {
    let h: Vec<&str> = h.iter().map(String::as_str).collect();
    matches!(
        h.as_slice(),
        ["T1", "T2", "end:completed"]
            | ["R1", "end:compensated"]
            | ["T1", "R2", "C1", "end:compensated"]
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
    let r = protocols::run(&bank("saga-choreography", 20, 5)).unwrap().report;
    assert_semantically_atomic(&r, 20, "fault-free");
    assert!(learned(&r).values().all(|&o| o == Outcome::Commit), "no step refused");
    // The broker stores started, done(1), done(2) and the end: 4 writes per saga.
    assert_eq!(r.end.disks[0].records, 4 * 20);
    assert_eq!(r.end.disks[0].decisions.len(), 20, "the end record is the saga's decision");
    assert!(r.end.in_doubt.iter().all(Vec::is_empty), "nobody is ever in doubt");
    for mark in protocols::catalog::lookup("saga-choreography").unwrap().coordinator_marks() {
        let crash = crash_at(0, mark, Some(1));
        let mut s = bank("saga-choreography", 1, 5);
        s.plan = crash;
        let r = protocols::run(&s).unwrap().report;
        assert_eq!(r.stats.crashes, 1, "the broker reaches {mark} on a fault-free saga");
    }
}

#[test]
fn a_refused_step_flows_back_as_compensation_events_in_reverse_order() {
    let mut s = bank("saga-choreography", 30, 9);
    s.votes = VotePolicy::always_no(NodeId(2));
    let r = protocols::run(&s).unwrap().report;
    assert_semantically_atomic(&r, 30, "refusals");
    let h = histories(&r);
    assert!(h.values().filter(|e| e.len() == 4).count() >= 3, "a debit compensated: {h:?}");
    assert!(h.values().any(|e| e == &["R1", "end:compensated"]), "{h:?}");
    // Three-step sagas: a refusal at T3 sends failed(3), then compensated(2), then C1.
    let mut s = Scenario::new("saga-choreography", 3, 5, 2);
    s.votes = VotePolicy::always_no(NodeId(3));
    let r = protocols::run(&s).unwrap().report;
    for events in histories(&r).values() {
        assert_eq!(events, &["T1", "T2", "R3", "C2", "C1", "end:compensated"]);
    }
    assert_eq!(r.end.applied_total, r.initial_total);
}

#[test]
fn the_broker_redelivers_from_its_disk_after_a_crash_at_any_mark() {
    let mut crashed = 0;
    for mark in protocols::catalog::lookup("saga-choreography").unwrap().coordinator_marks() {
        for (nth, recover) in [(1, Some(20_000)), (2, Some(300_000)), (3, None)] {
            for seed in 0..4 {
                let mut s = bank("saga-choreography", 8, seed);
                s.max_in_flight = 2;
                s.votes = VotePolicy { no_vote_prob: 0.4, per_node: vec![] };
                s.plan = crash_at(0, mark, recover);
                s.plan.faults[0].trigger =
                    sim_core::Trigger::Mark { node: NodeId(0), mark: (*mark).into(), nth };
                let r = protocols::run(&s).unwrap().report;
                let ctx = format!("crash at {mark}#{nth}, recover {recover:?}, seed {seed}");
                assert_semantically_atomic(&r, 8, &ctx);
                decisions(&r); // the broker never reverses an end (AC2 on its disk)
                crashed += r.stats.crashes;
            }
        }
    }
    assert_eq!(crashed, 4 * 3 * 4, "every run reached its crash point");
}

#[test]
fn a_service_crash_loses_nothing_it_acknowledged() {
    for seed in 0..10 {
        let mut s = bank("saga-choreography", 8, seed);
        s.max_in_flight = 2;
        s.votes = VotePolicy { no_vote_prob: 0.3, per_node: vec![] };
        s.plan = crash_at(1, "step-applied", Some(40_000));
        let r = protocols::run(&s).unwrap().report;
        assert_eq!(r.stats.crashes, 1);
        assert_semantically_atomic(&r, 8, &format!("service crash, seed {seed}"));
    }
}

#[test]
fn redeliveries_and_duplicates_apply_each_step_and_compensation_once() {
    for seed in 0..30 {
        let mut s = bank("saga-choreography", 10, seed);
        s.max_in_flight = 3;
        s.votes = VotePolicy { no_vote_prob: 0.3, per_node: vec![] };
        s.network.default.drop_prob = 0.2;
        s.network.default.dup_prob = 0.3;
        let r = protocols::run(&s).unwrap().report;
        assert!(r.stats.duplicated > 0 && r.stats.dropped_loss > 0, "seed {seed}");
        assert_semantically_atomic(&r, 10, &format!("lossy seed {seed}"));
        let a = protocols::run(&s).unwrap().report;
        assert_eq!(a, r, "deterministic, seed {seed}");
    }
}

#[test]
fn the_lossy_bus_strands_a_saga_when_one_delivery_is_lost() {
    // Fault-free and one saga at a time, the in-memory bus works.
    let r = protocols::run(&bank("broken-saga-lossy-bus", 10, 3)).unwrap().report;
    assert_semantically_atomic(&r, 10, "lossy bus, no faults");
    // Lose the first delivery (the broker is cut off right after storing saga 1's first
    // event, until the liveness phase heals it): never re-delivered, the saga never ends,
    // and its subscriber's buffer slot stays taken.
    let mut s = bank("broken-saga-lossy-bus", 3, 3);
    s.plan = sim_core::FaultPlan::none().with(
        sim_core::Trigger::Mark { node: NodeId(0), mark: "saga-begun".into(), nth: 1 },
        sim_core::Action::Partition { groups: vec![vec![NodeId(0)]] },
    );
    let r = protocols::run(&s).unwrap().report;
    assert!(r.liveness_phase);
    let h = histories(&r);
    assert!(!h.contains_key(&TxnId(1)), "saga 1 never ran a step, never ended: {h:?}");
    assert_eq!(learned(&r).get(&TxnId(1)), None, "the client never heard of saga 1");
    // The same cut against the durable broker: re-delivered, every saga ends.
    s.protocol = "saga-choreography".into();
    let r = protocols::run(&s).unwrap().report;
    assert_semantically_atomic(&r, 3, "durable broker");
}
