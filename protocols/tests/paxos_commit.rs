//! Paxos Commit and Faster Paxos Commit: normal commit and abort, non-blocking under leader
//! and up to F acceptor crashes, blocking with F + 1 acceptors down, determinism.

mod common;

use common::*;
use protocols::{Observation, Outcome, Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

const BOTH: [&str; 2] = ["paxos-commit", "faster-paxos-commit"];

#[test]
fn all_commit_when_all_vote_yes_all_abort_when_one_votes_no() {
    for protocol in BOTH {
        for colocated in [false, true] {
            let mut s = Scenario::new(protocol, 3, 5, 11);
            s.family.insert("colocated".into(), colocated.into());
            let r = protocols::run(&s).unwrap().report;
            let all = decisions(&r);
            assert_eq!(all.len(), 5, "{protocol}: {all:?}");
            assert!(all.values().all(|&o| o == Outcome::Commit), "{protocol}: {all:?}");
            for p in r.participants() {
                assert_eq!(decided_at(&r, p).len(), 5, "{protocol}: {p} decided every txn");
            }
            assert_all_participants_settled(&r);

            let mut s = Scenario::new(protocol, 3, 4, 12);
            s.family.insert("colocated".into(), colocated.into());
            s.votes = protocols::workload::VotePolicy::always_no(NodeId(2));
            let r = protocols::run(&s).unwrap().report;
            let all = decisions(&r);
            assert_eq!(all.len(), 4);
            assert!(all.values().all(|&o| o == Outcome::Abort), "{protocol}: {all:?}");
            for p in r.participants() {
                assert_eq!(decided_at(&r, p).len(), 4, "{protocol}: {p} learnt every abort");
            }
            assert_all_participants_settled(&r);
        }
    }
}

/// Crash `node` at its first `mark`, and crash acceptors `down` at time 0 (never recovered in
/// the fault phase).
fn leader_crash_plan(mark: &str, down: &[NodeId]) -> FaultPlan {
    let mut plan = crash_at(0, mark, None);
    for &a in down {
        plan = plan
            .with(Trigger::Time { at_us: 0 }, Action::Crash { node: a, recover_after_us: None });
    }
    plan
}

#[test]
fn leader_crash_at_every_mark_with_up_to_f_acceptors_down_blocks_no_rm() {
    let marks =
        ["prepare-sent", "all-instances-chosen", "decision-sent-to-first", "decision-sent-to-all"];
    let mut runs = 0;
    for protocol in BOTH {
        for f in 1..=2u32 {
            for &mark in &marks {
                for down in 0..=f {
                    let mut s = Scenario::new(protocol, 3, 6, 100 + u64::from(f));
                    s.family.insert("f".into(), f.into());
                    s.workload = protocols::workload::Workload::bank();
                    s.max_in_flight = 2;
                    s.liveness_bound_us = None;
                    let acceptors: Vec<NodeId> =
                        protocols::catalog::roles(&s).unwrap().ids("acceptor").collect();
                    // The acceptors the normal case uses go down first: the hardest case.
                    s.plan = leader_crash_plan(mark, &acceptors[..down as usize]);
                    let r = protocols::run(&s).unwrap().report;
                    let ctx = format!("{protocol} f={f}: TM at {mark}, {down} acceptors down");
                    let all = decisions(&r);
                    for p in r.participants() {
                        let i = p.index();
                        assert!(r.fault_phase.up[i], "{ctx}: {p} is up");
                        assert!(
                            r.fault_phase.in_doubt[i].is_empty(),
                            "{ctx}: {p} blocked on {:?}",
                            r.fault_phase.in_doubt[i]
                        );
                        for (txn, o) in decided_at(&r, p) {
                            assert_eq!(all[&txn], o, "{ctx}");
                        }
                    }
                    assert_eq!(r.fault_phase.applied_total, r.initial_total, "{ctx}: money");
                    if mark == "prepare-sent" {
                        assert!(!r.fault_phase.up[0], "{ctx}: the TM crashed");
                    }
                    runs += usize::from(!r.fault_phase.up[0]);
                }
            }
        }
    }
    // Faster's TM emits only its first mark; Paxos Commit's TM skips `all-instances-chosen`
    // when ballot 0 cannot finish (a normal-case acceptor is down) and decides by a ballot.
    assert_eq!(runs, 28, "runs that crashed the TM");
}

#[test]
fn with_f_plus_one_acceptors_down_prepared_rms_stay_uncertain() {
    for protocol in BOTH {
        let mut s = Scenario::new(protocol, 3, 1, 5);
        s.family.insert("f".into(), 1.into());
        s.liveness_bound_us = Some(10_000_000);
        let acceptors: Vec<NodeId> =
            protocols::catalog::roles(&s).unwrap().ids("acceptor").collect();
        s.plan = leader_crash_plan("prepare-sent", &acceptors[1..3]);
        let r = protocols::run(&s).unwrap().report;
        let txn = TxnId(1);
        for p in r.participants() {
            let i = p.index();
            assert!(r.fault_phase.up[i]);
            assert_eq!(r.fault_phase.in_doubt[i], vec![txn], "{protocol}: {p} is blocked");
            assert!(!r.fault_phase.locks[i].is_empty(), "{protocol}: {p} keeps its locks");
            let decided_in_fault_phase = r.observations.iter().any(|o| {
                o.node == p
                    && o.time <= r.fault_phase.time
                    && matches!(o.obs, Observation::Decided { .. })
            });
            assert!(!decided_in_fault_phase, "{protocol}: {p} decided nothing while blocked");
        }
        // Repairing the failures unblocks them, consistently.
        let all = decisions(&r);
        assert_eq!(all.len(), 1, "{protocol}: decided after the repair");
        assert_all_participants_settled(&r);
    }
}

#[test]
fn same_seed_and_plan_same_trace_hash() {
    for protocol in BOTH {
        for colocated in [false, true] {
            let run = |seed| {
                let mut s = Scenario::new(protocol, 4, 6, seed);
                s.family.insert("colocated".into(), colocated.into());
                s.workload = protocols::workload::Workload::bank();
                s.max_in_flight = 2;
                s.plan = crash_at(0, "prepare-sent", Some(50_000));
                protocols::run(&s).unwrap().report.trace_hash
            };
            assert_eq!(run(3), run(3), "{protocol}");
            assert_ne!(run(3), run(4), "{protocol}: the seed matters");
        }
    }
}

#[test]
fn client_learns_the_truth_and_observations_are_complete() {
    for protocol in BOTH {
        let r = protocols::run(&Scenario::new(protocol, 2, 3, 9)).unwrap().report;
        let learned: Vec<(TxnId, Outcome)> = r
            .observations
            .iter()
            .filter_map(|o| match o.obs {
                Observation::ClientLearned { txn, outcome } => Some((txn, outcome)),
                _ => None,
            })
            .collect();
        assert_eq!(learned.len(), 3);
        for p in r.participants() {
            assert_eq!(votes_at(&r, p).len(), 3, "{protocol}: {p} voted on each");
        }
    }
}
