//! 2PC over consensus, the coordinator leader crashed for good at each of its marks (the
//! coordinator-failure study's runs): a new leader finishes the transaction from its log —
//! commit where the decision entry was committed, abort where it was not — nobody blocks,
//! and every property holds. The same crash of plain 2PC's coordinator blocks.

use checkers::{Property, Verdict};
use protocols::{Observation, Outcome, Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

/// Bank workload, 3 participants, 4 transactions, node 0 crashed at its first `mark`, never
/// recovered in the fault phase.
fn crashed_at(protocol: &str, mark: &str, seed: u64) -> (Scenario, protocols::RunOutcome) {
    let mut s = Scenario::new(protocol, 3, 4, seed);
    let spec = protocols::catalog::lookup(protocol).unwrap();
    s.workload = spec.bank_workload(3);
    s.fault_horizon_us = 3_000_000;
    s.liveness_bound_us = Some(3_000_000);
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: mark.into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us: None },
    );
    let outcome = protocols::run(&s).unwrap();
    (s, outcome)
}

/// What the participants of transaction 1 decided.
fn decided(outcome: &protocols::RunOutcome, txn: TxnId) -> Vec<Outcome> {
    let roles = &outcome.report.roles;
    let mut out: Vec<Outcome> = outcome
        .report
        .observations
        .iter()
        .filter(|o| roles.is(o.node, "participant"))
        .filter_map(|o| match o.obs {
            Observation::Decided { txn: t, outcome } if t == txn => Some(outcome),
            _ => None,
        })
        .collect();
    out.dedup();
    out
}

#[test]
fn a_new_leader_commits_what_the_log_decided_and_aborts_what_it_did_not() {
    for protocol in ["2pc-raft", "2pc-multipaxos"] {
        let marks = protocols::catalog::lookup(protocol).unwrap().coordinator_marks();
        for &mark in marks {
            for seed in 1..=20 {
                let (s, outcome) = crashed_at(protocol, mark, seed);
                let ctx = format!("{protocol}, crash at {mark}, seed {seed}");
                let verdicts = checkers::check(&outcome.report, &s.plan);
                for (p, v) in &verdicts.verdicts {
                    assert!(!matches!(v, Verdict::Violated { .. }), "{ctx}: {p:?} {v:?}");
                }
                assert_eq!(verdicts.get(Property::NonBlocking), &Verdict::Holds, "{ctx}");
                // Every vote is yes in the bank workload (funds allowing): what transaction 1
                // ends as depends only on whether its decision entry was committed.
                let t1 = decided(&outcome, TxnId(1));
                let expect = match mark {
                    "prepare-sent" | "all-votes-in" => Outcome::Abort,
                    "decision-proposed" => continue, // committed if the entry reached a majority
                    _ => Outcome::Commit,
                };
                assert_eq!(t1, [expect], "{ctx}");
            }
        }
    }
}

#[test]
fn the_same_crash_blocks_plain_2pc() {
    let (s, outcome) = crashed_at("2pc", "all-votes-in", 1);
    let verdicts = checkers::check(&outcome.report, &s.plan);
    assert!(matches!(verdicts.get(Property::NonBlocking), Verdict::Violated { .. }));
}
