//! Every correct protocol, every single crash of any node at any mark it emits (with and
//! without recovery), bank workload with concurrency: decisions agree everywhere (AC1, on
//! observations and disks), money is conserved, and after the liveness phase no participant
//! is in doubt or holds a lock (AC5).

mod common;

use common::*;
use protocols::Scenario;
use protocols::workload::Workload;

const MARKS: &[&str] = &[
    "prepare-sent",
    "can-commit-sent",
    "all-votes-in",
    "precommit-sent-to-first",
    "precommit-sent-to-all",
    "all-acks-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
    "prepared-logged",
    "voted-yes",
    "precommitted",
    "decided",
];

#[test]
fn single_crashes_at_every_mark_keep_atomicity_and_terminate() {
    let mut runs = 0;
    for protocol in protocols::catalog::correct_commit_protocols() {
        for node in 0..=3u32 {
            for &mark in MARKS {
                for (nth, recover) in [(1, None), (2, Some(40_000)), (3, Some(400_000))] {
                    let mut s = Scenario::new(protocol, 3, 8, 1000 + u64::from(node));
                    s.workload = Workload::bank();
                    s.max_in_flight = 2;
                    s.plan = crash_at(node, mark, recover);
                    s.plan.faults[0].trigger = sim_core::Trigger::Mark {
                        node: sim_core::NodeId(node),
                        mark: mark.into(),
                        nth,
                    };
                    let r = protocols::run(&s).unwrap().report;
                    let ctx = format!("{protocol}: n{node} at {mark}#{nth}, recover {recover:?}");
                    let all = decisions(&r); // panics on any disagreement
                    assert_eq!(all.len(), 8, "{ctx}: every txn decided: {all:?}");
                    let learned: Vec<_> = r
                        .observations
                        .iter()
                        .filter_map(|o| match o.obs {
                            protocols::Observation::ClientLearned { txn, outcome } => {
                                Some((txn, outcome))
                            }
                            _ => None,
                        })
                        .collect();
                    assert_eq!(learned.len(), 8, "{ctx}: the client heard every outcome");
                    for (txn, outcome) in learned {
                        assert_eq!(all[&txn], outcome, "{ctx}: the client was told the truth");
                    }
                    assert_eq!(r.end.applied_total, r.initial_total, "{ctx}: money");
                    for p in r.participants() {
                        let i = p.index();
                        assert!(r.end.in_doubt[i].is_empty(), "{ctx}: {p} in doubt");
                        assert!(r.end.locks[i].is_empty(), "{ctx}: {p} locks");
                    }
                    runs += usize::from(r.stats.crashes == 1);
                }
            }
        }
    }
    assert!(runs > 150, "only {runs} runs crashed at all");
}

#[test]
fn two_pc_stays_atomic_under_loss_and_duplication() {
    for protocol in ["2pc", "2pc-presumed-abort", "2pc-no-cooperative-termination"] {
        for seed in 0..40 {
            let mut s = Scenario::new(protocol, 3, 10, seed);
            s.workload = Workload::bank();
            s.max_in_flight = 3;
            s.network.default.drop_prob = 0.1;
            s.network.default.dup_prob = 0.1;
            s.plan = crash_at((seed % 4) as u32, "decision-sent-to-first", Some(100_000));
            let r = protocols::run(&s).unwrap().report;
            let ctx = format!("{protocol} seed {seed}");
            let all = decisions(&r);
            assert_eq!(all.len(), 10, "{ctx}");
            assert_eq!(r.end.applied_total, r.initial_total, "{ctx}: money");
            assert_all_participants_settled(&r);
        }
    }
}
