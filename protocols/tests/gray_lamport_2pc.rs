//! 2PC in Gray & Lamport's shape (the initiating RM prepares first and tells the TM; no
//! acks; the `gray_lamport_shape` setting of the 2PC family) is as robust as the classic one
//! under single crashes at every mark, loss and duplication. Its cost-table rows are tested
//! with the cost table, in experiments.

mod common;

use common::*;
use protocols::workload::Workload;
use protocols::{Observation, RunOutcome, Scenario, ScenarioError};
use sim_core::{NodeId, Trigger};

/// Runs `s` as 2PC in Gray & Lamport's shape.
fn run_gray_lamport_shape(s: &Scenario) -> Result<RunOutcome, ScenarioError> {
    protocols::run(&s.clone().with("gray_lamport_shape", true))
}

#[test]
fn the_measurement_comes_from_the_trace_a_fault_free_run_commits_everything() {
    let mut s = Scenario::new("2pc", 4, 20, 3);
    s.workload = Workload::bank();
    s.max_in_flight = 3;
    let r = run_gray_lamport_shape(&s).unwrap().report;
    let all = decisions(&r);
    assert_eq!(all.len(), 20);
    let learned = r
        .observations
        .iter()
        .filter(|o| matches!(o.obs, Observation::ClientLearned { .. }))
        .count();
    assert_eq!(learned, 20, "the initiating RMs answered the client");
    assert_eq!(r.end.applied_total, r.initial_total);
    assert_all_participants_settled(&r);
}

const MARKS: &[&str] = &[
    "prepare-sent",
    "all-votes-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
    "prepared-logged",
    "voted-yes",
    "decided",
];

#[test]
fn single_crashes_at_every_mark_keep_atomicity_and_terminate() {
    let mut crashed = 0;
    for node in 0..=3u32 {
        for &mark in MARKS {
            for (nth, recover) in [(1, None), (2, Some(40_000)), (3, Some(400_000))] {
                let mut s = Scenario::new("2pc", 3, 8, 1000 + u64::from(node));
                s.workload = Workload::bank();
                s.max_in_flight = 2;
                s.plan = crash_at(node, mark, recover);
                s.plan.faults[0].trigger =
                    Trigger::Mark { node: NodeId(node), mark: mark.into(), nth };
                let r = run_gray_lamport_shape(&s).unwrap().report;
                let ctx = format!("n{node} at {mark}#{nth}, recover {recover:?}");
                let all = decisions(&r); // panics on any disagreement
                assert_eq!(all.len(), 8, "{ctx}: every txn decided: {all:?}");
                let learned: Vec<_> = r
                    .observations
                    .iter()
                    .filter_map(|o| match o.obs {
                        Observation::ClientLearned { txn, outcome } => Some((txn, outcome)),
                        _ => None,
                    })
                    .collect();
                assert_eq!(learned.len(), 8, "{ctx}: the client heard every outcome");
                for (txn, outcome) in learned {
                    assert_eq!(all[&txn], outcome, "{ctx}: the client was told the truth");
                }
                assert_eq!(r.end.applied_total, r.initial_total, "{ctx}: money");
                assert_all_participants_settled(&r);
                crashed += usize::from(r.stats.crashes == 1);
            }
        }
    }
    // The TM's 5 marks and each participant's 3, each at its 1st, 2nd and 3rd occurrence.
    assert_eq!(crashed, 5 * 3 + 3 * 3 * 3, "every crash point was reached");
}

#[test]
fn stays_atomic_and_terminates_under_loss_and_duplication() {
    for seed in 0..40 {
        let mut s = Scenario::new("2pc", 3, 10, seed);
        s.workload = Workload::bank();
        s.max_in_flight = 3;
        s.network.default.drop_prob = 0.1;
        s.network.default.dup_prob = 0.1;
        s.plan = crash_at((seed % 4) as u32, "decision-sent-to-first", Some(100_000));
        let r = run_gray_lamport_shape(&s).unwrap().report;
        let ctx = format!("seed {seed}");
        assert_eq!(decisions(&r).len(), 10, "{ctx}");
        assert_eq!(r.end.applied_total, r.initial_total, "{ctx}: money");
        assert_all_participants_settled(&r);
    }
}

#[test]
fn same_seed_and_plan_same_trace_hash() {
    let mut s = Scenario::new("2pc", 3, 10, 77);
    s.workload = Workload::bank();
    s.max_in_flight = 3;
    s.plan = crash_at(0, "decision-sent-to-first", Some(30_000));
    let a = run_gray_lamport_shape(&s).unwrap().report;
    let b = run_gray_lamport_shape(&s).unwrap().report;
    assert_eq!(a, b);
    s.seed = 78;
    assert_ne!(a.trace_hash, run_gray_lamport_shape(&s).unwrap().report.trace_hash);
}
