//! Three-phase commit: counts, normal cases, and non-blocking termination under crashes.

mod common;

use common::*;
use protocols::workload::{VotePolicy, Workload};
use protocols::{Outcome, Scenario, TxnId, Vote};
use sim_core::NodeId;

fn scenario(protocol: &str, n: u32, txns: u64, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, n, txns, seed);
    s.liveness_bound_us = None;
    s
}

/// Every mark the 3PC coordinator emits on a commit.
const COORDINATOR_MARKS: &[&str] = &[
    "can-commit-sent",
    "all-votes-in",
    "precommit-sent-to-first",
    "precommit-sent-to-all",
    "all-acks-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
];

#[test]
fn commit_costs_6n_messages_and_2n_plus_2_forced_writes() {
    const K: u64 = 3;
    for n in 1..=8u32 {
        let r = protocols::run(&scenario("3pc", n, K, u64::from(n))).unwrap().report;
        let n64 = u64::from(n);
        assert_eq!(r.messages.protocol, 6 * n64 * K, "N = {n}");
        assert_eq!(r.messages.client, 2 * K, "N = {n}");
        assert_eq!(r.stats.disk_writes, (2 * n64 + 2) * K, "N = {n}");
        let all = decisions(&r);
        assert_eq!(all.len() as u64, K);
        assert!(all.values().all(|&o| o == Outcome::Commit), "N = {n}: {all:?}");
        assert_all_participants_settled(&r);
    }
}

#[test]
fn all_commit_when_all_vote_yes_all_abort_when_one_votes_no() {
    let r = protocols::run(&scenario("3pc", 4, 5, 2)).unwrap().report;
    for p in r.participants() {
        assert!(votes_at(&r, p).iter().all(|v| v.1 == Vote::Yes));
        let d = decided_at(&r, p);
        assert_eq!(d.len(), 5);
        assert!(d.values().all(|&o| o == Outcome::Commit), "{p}: {d:?} (AC4)");
    }
    let mut s = scenario("3pc", 4, 5, 2);
    s.votes = VotePolicy::always_no(NodeId(4));
    let r = protocols::run(&s).unwrap().report;
    let all = decisions(&r);
    assert_eq!(all.len(), 5);
    assert!(all.values().all(|&o| o == Outcome::Abort), "{all:?} (AC3)");
    for p in r.participants() {
        assert_eq!(decided_at(&r, p).len(), 5, "{p}");
    }
    assert_all_participants_settled(&r);
}

#[test]
fn coordinator_crash_at_every_mark_leaves_no_operational_participant_blocked() {
    for n in [1u32, 2, 3, 5] {
        for &mark in COORDINATOR_MARKS {
            let mut s = scenario("3pc", n, 1, 100 + u64::from(n));
            s.plan = crash_at(0, mark, None);
            let r = protocols::run(&s).unwrap().report;
            assert_eq!(r.stats.crashes, 1, "N = {n}, {mark}: the crash fired");
            assert!(!r.fault_phase.up[0]);
            let all = decisions(&r); // panics on disagreement
            let outcome = all.get(&TxnId(1)).copied();
            for p in r.participants() {
                let d = decided_at(&r, p);
                assert_eq!(d.get(&TxnId(1)).copied(), outcome, "N = {n}, {mark}: {p}");
                assert!(r.fault_phase.in_doubt[p.index()].is_empty(), "N = {n}, {mark}: {p}");
                assert!(r.fault_phase.locks[p.index()].is_empty(), "N = {n}, {mark}: {p}");
            }
            // Past the pre-commit point the outcome is commit; before it, abort.
            let committed = COORDINATOR_MARKS.iter().position(|m| *m == mark).unwrap() >= 2;
            let expected = if committed { Outcome::Commit } else { Outcome::Abort };
            assert_eq!(outcome, Some(expected), "N = {n}, {mark}");
        }
    }
}

#[test]
fn backup_crash_is_replaced_by_the_next_participant() {
    // The coordinator dies after one PreCommit reached participant 1; participant 1, the
    // first backup, dies as soon as it is elected; participant 2 takes over. Only 1 was
    // committable and it is gone: the rest are all uncertain, so they abort.
    let mut s = scenario("3pc", 4, 1, 5);
    s.plan = crash_at(0, "precommit-sent-to-first", None).with(
        sim_core::Trigger::Mark { node: NodeId(1), mark: "backup-elected".into(), nth: 1 },
        sim_core::Action::Crash { node: NodeId(1), recover_after_us: None },
    );
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.stats.crashes, 2);
    for p in 2..=4u32 {
        let d = decided_at(&r, NodeId(p));
        assert_eq!(d.get(&TxnId(1)), Some(&Outcome::Abort), "n{p}");
        assert!(r.fault_phase.in_doubt[p as usize].is_empty());
    }
    assert!(r.observed_at(NodeId(2)).count() > 0);
}

#[test]
fn coordinator_crash_at_decision_logged_recovers_and_conserves_money() {
    let mut s = Scenario::new("3pc", 3, 20, 11);
    s.workload = Workload::bank();
    s.plan = crash_at(0, "decision-logged", Some(50_000));
    let r = protocols::run(&s).unwrap().report;
    assert_eq!((r.stats.crashes, r.stats.recoveries), (1, 1));
    let all = decisions(&r);
    assert_eq!(all.len(), 20, "every txn decided");
    assert_all_participants_settled(&r);
    assert_eq!(r.end.applied_total, r.initial_total, "money conserved");
    assert!(all.values().any(|&o| o == Outcome::Commit));
}

#[test]
fn recovered_participant_asks_and_learns() {
    // Participant 2 crashes right after voting yes and recovers 200 ms later: it asks and
    // learns the outcome the others reached.
    let mut s = scenario("3pc", 3, 2, 13);
    s.plan = crash_at(2, "voted-yes", Some(200_000));
    let r = protocols::run(&s).unwrap().report;
    let all = decisions(&r);
    assert_eq!(all.len(), 2);
    assert_eq!(decided_at(&r, NodeId(2)).len(), 2);
    assert_all_participants_settled(&r);
}

#[test]
fn a_participant_that_learns_the_outcome_from_a_peer_acks_the_coordinator() {
    // The link coordinator -> participant 3 is cut as the commit is logged, for the whole
    // run: 3 (committable) times out on the coordinator, asks participant 1 to act as backup,
    // and 1, already committed, answers the outcome. 3's ack lets the coordinator end the
    // transaction and answer the client in the fault phase, instead of re-sending over the
    // cut link until the liveness phase.
    let mut s = scenario("3pc", 3, 1, 31);
    s.plan = sim_core::FaultPlan::none().with(
        sim_core::Trigger::Mark { node: NodeId(0), mark: "decision-logged".into(), nth: 1 },
        sim_core::Action::CutOneWay { from: NodeId(0), to: NodeId(3) },
    );
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.faults_fired, vec![true]);
    assert_eq!(decided_at(&r, NodeId(3)).get(&TxnId(1)), Some(&Outcome::Commit));
    assert_all_participants_settled(&r);
    assert_eq!(r.fault_phase.disks[0].records, 2, "decision and end");
    assert!(r.fault_phase.cut_links.contains(&(NodeId(0), NodeId(3))));
    let learned = r.observations.iter().any(|o| {
        matches!(
            o.obs,
            protocols::Observation::ClientLearned { txn: TxnId(1), outcome: Outcome::Commit }
        )
    });
    assert!(learned, "the client learned the commit");
    // No re-send loop: the normal 18 messages, 3's election request, 1's answer, 3's ack.
    assert!(r.messages.protocol <= 18 + 2 + 1, "{} protocol messages", r.messages.protocol);
}
