//! 2PC in Gray & Lamport's shape (the initiating RM prepares first and tells the TM; no
//! acks): its cost-table rows equal the paper's 3N − 1 / 4 and 3N − 3 / 3 with N + 1 forced
//! writes, the paper's text example holds beside Paxos Commit, and the shape is as robust as
//! the classic one under single crashes at every mark, loss and duplication.

mod common;

use common::*;
use protocols::gray_lamport::{CostRow, measure, table};
use protocols::two_pc::run_gray_lamport_shape;
use protocols::workload::Workload;
use protocols::{Observation, Scenario};
use sim_core::{NodeId, Trigger};

fn row(protocol: &str, n: u32, f: u32, colocated: bool) -> CostRow {
    measure(protocol, n, f, colocated).unwrap()
}

#[test]
fn every_two_pc_row_equals_the_paper() {
    let rows: Vec<CostRow> = table().unwrap().into_iter().filter(|r| r.protocol == "2pc").collect();
    assert_eq!(rows.len(), 2 * 3 * 8, "N = 1..=8, F = 0..=2, co-located or not");
    for r in &rows {
        let ctx = format!("{r:?}");
        let n = u64::from(r.rms);
        let (messages, delays) = if r.colocated { (3 * n - 3, 3) } else { (3 * n - 1, 4) };
        assert_eq!(r.expected_messages, Some(messages), "{ctx}");
        assert_eq!(r.messages, messages, "{ctx}: messages counted from the trace");
        assert!(r.messages_formula_applies, "{ctx}");
        assert_eq!((r.expected_disk_writes, r.disk_writes), (Some(n + 1), n + 1), "{ctx}");
        // Off the critical path: each RM's decision record.
        assert_eq!(r.disk_writes_total, 2 * n + 1, "{ctx}");
        assert_eq!(r.expected_delays, Some(delays), "{ctx}");
        if r.rms >= 2 {
            assert!(r.delays_formula_applies, "{ctx}");
            assert_eq!(r.message_delays, delays, "{ctx}");
        } else {
            // One RM: no Prepare round, Prepared then Commit (both local when co-located).
            assert!(!r.delays_formula_applies, "{ctx}");
            assert_eq!(r.message_delays, if r.colocated { 0 } else { 2 }, "{ctx}");
        }
    }
}

#[test]
fn every_co_located_row_of_every_protocol_matches_where_the_formula_applies() {
    let rows = table().unwrap();
    assert_eq!(rows.len(), 3 * 2 * 3 * 8);
    let mut checked = 0;
    for r in rows.iter().filter(|r| r.colocated) {
        let ctx = format!("{r:?}");
        assert_eq!(Some(r.disk_writes), r.expected_disk_writes, "{ctx}");
        if r.messages_formula_applies {
            assert_eq!(Some(r.messages), r.expected_messages, "{ctx}");
            checked += 1;
        }
        if r.delays_formula_applies {
            assert_eq!(Some(r.message_delays), r.expected_delays, "{ctx}");
        }
    }
    // 2PC: 24 rows; Paxos Commit and Faster: N ≥ F + 1, 8 + 7 + 6 each.
    assert_eq!(checked, 24 + 2 * 21);
}

#[test]
fn the_papers_example_five_rms_one_fault_co_located() {
    let two_pc = row("2pc", 5, 1, true);
    let pc = row("paxos-commit", 5, 1, true);
    let faster = row("faster-paxos-commit", 5, 1, true);
    assert_eq!((two_pc.messages, pc.messages, faster.messages), (12, 17, 20));
    assert_eq!((two_pc.message_delays, pc.message_delays, faster.message_delays), (3, 4, 3));
    assert_eq!((two_pc.disk_writes, pc.disk_writes, faster.disk_writes), (6, 7, 7));
}

#[test]
fn with_f_zero_co_located_paxos_commit_sends_what_2pc_sends() {
    for n in 1..=8u32 {
        let (pc, two_pc) = (row("paxos-commit", n, 0, true), row("2pc", n, 0, true));
        assert_eq!(pc.messages, two_pc.messages, "N = {n}");
        assert_eq!(pc.disk_writes, two_pc.disk_writes, "N = {n}: N + 1 writes");
    }
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
