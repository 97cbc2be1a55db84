//! 3PC after a total failure: every process (coordinator and participants) crashed while the
//! transaction was undecided, and all recovered. Skeen's recovery rule, as implemented: once a
//! recovered participant holds the state of every other process, each of them recovered too
//! and none decided, the termination rule decides (see `three_pc::recovery`).

mod common;

use common::*;
use protocols::{Observation, Outcome, Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

/// Adds to `plan`: crash `node` at the first `mark` it emits, recovering after
/// `recover_after_us` (never in the fault phase if `None`).
fn crash(plan: FaultPlan, node: u32, mark: &str, recover_after_us: Option<u64>) -> FaultPlan {
    plan.with(
        Trigger::Mark { node: NodeId(node), mark: mark.into(), nth: 1 },
        Action::Crash { node: NodeId(node), recover_after_us },
    )
}

fn client_learned(r: &protocols::RunReport, txn: TxnId) -> Option<Outcome> {
    r.observations.iter().find_map(|o| match o.obs {
        Observation::ClientLearned { txn: t, outcome } if t == txn => Some(outcome),
        _ => None,
    })
}

#[test]
fn after_a_total_failure_with_nobody_decided_every_process_aborts() {
    for n in [1u32, 2, 3, 5] {
        // The coordinator dies right after sending every PreCommit; each participant dies as
        // it becomes committable (the state it loses: pre-commit is not logged). Nobody has
        // decided; everyone is back within 100 ms.
        let mut s = Scenario::new("3pc", n, 1, 40 + u64::from(n));
        s.plan = crash(FaultPlan::none(), 0, "precommit-sent-to-all", Some(100_000));
        for p in 1..=n {
            s.plan = crash(s.plan, p, "precommitted", Some(50_000));
        }
        let r = protocols::run(&s).unwrap().report;
        assert_eq!(r.stats.crashes, u64::from(n) + 1, "N = {n}: a total failure");
        assert_eq!(r.stats.recoveries, u64::from(n) + 1, "N = {n}: every process recovered");
        // Decided within the fault phase, by the processes themselves (no liveness phase
        // needed): every participant, identically, and the coordinator too.
        let all = decisions(&r); // panics on a disagreement (AC1)
        assert_eq!(all.get(&TxnId(1)), Some(&Outcome::Abort), "N = {n}");
        for p in r.participants() {
            let i = p.index();
            assert!(r.fault_phase.up[i], "N = {n}: {p}");
            assert!(r.fault_phase.in_doubt[i].is_empty(), "N = {n}: {p} still in doubt");
            assert!(r.fault_phase.locks[i].is_empty(), "N = {n}: {p} keeps locks");
            assert_eq!(r.fault_phase.disks[i].decision(TxnId(1)), Some(Outcome::Abort), "{p}");
        }
        assert_eq!(r.fault_phase.disks[0].decision(TxnId(1)), Some(Outcome::Abort), "N = {n}");
        assert_eq!(client_learned(&r, TxnId(1)), Some(Outcome::Abort), "N = {n}");
        assert_all_participants_settled(&r);
    }
}

#[test]
fn after_a_total_failure_a_decision_made_before_it_stands() {
    // The coordinator dies after sending every PreCommit; participants 2 and 3 die as they
    // become committable; participant 1 (committable, alive) becomes the backup, finds itself
    // alone, commits, forces its decision and dies before sending it. Total failure, with one
    // durable commit: everyone must commit once back, never abort.
    let mut s = Scenario::new("3pc", 3, 1, 7);
    s.plan = crash(FaultPlan::none(), 0, "precommit-sent-to-all", Some(400_000));
    s.plan = crash(s.plan, 2, "precommitted", Some(400_000));
    s.plan = crash(s.plan, 3, "precommitted", Some(400_000));
    s.plan = crash(s.plan, 1, "backup-decision-logged", Some(400_000));
    let r = protocols::run(&s).unwrap().report;
    assert_eq!((r.stats.crashes, r.stats.recoveries), (4, 4), "a total failure");
    assert_eq!(r.fault_phase.disks[1].decision(TxnId(1)), Some(Outcome::Commit));
    let all = decisions(&r);
    assert_eq!(all.get(&TxnId(1)), Some(&Outcome::Commit));
    for p in r.participants() {
        assert_eq!(r.fault_phase.disks[p.index()].decision(TxnId(1)), Some(Outcome::Commit));
    }
    assert_eq!(client_learned(&r, TxnId(1)), Some(Outcome::Commit));
    assert_all_participants_settled(&r);
}

#[test]
fn a_recovered_participant_does_not_decide_while_a_peer_is_operational() {
    // Only participant 3 and the coordinator crash (3 recovers soon, the coordinator never in
    // the fault phase): participants 1 and 2 stay operational and terminate. Participant 3
    // must learn their outcome, not decide by the recovery rule (it cannot hear from the
    // coordinator, so it never holds everyone's state).
    let mut s = Scenario::new("3pc", 3, 1, 9);
    s.liveness_bound_us = None;
    s.plan = crash(FaultPlan::none(), 0, "precommit-sent-to-all", None);
    s.plan = crash(s.plan, 3, "precommitted", Some(20_000));
    let r = protocols::run(&s).unwrap().report;
    let all = decisions(&r);
    let outcome = all[&TxnId(1)];
    for p in r.participants() {
        assert_eq!(decided_at(&r, p).get(&TxnId(1)), Some(&outcome), "{p}");
    }
    // Participants 1 and 2 were committable: the backup commits.
    assert_eq!(outcome, Outcome::Commit);
}

#[test]
fn a_total_crash_stop_failure_is_decided_once_the_liveness_phase_recovers_everyone() {
    // As `commitlab run --protocol 3pc --txns 1 --crash coord@precommit-sent-to-all --crash
    // p1@precommitted --crash p2@precommitted --crash p3@precommitted`: nobody recovers in
    // the fault phase; the liveness phase brings every process back, undecided. Before the
    // recovery rule they asked each other forever (AC5 violated after the liveness phase).
    let mut s = Scenario::new("3pc", 3, 1, 1);
    s.plan = crash(FaultPlan::none(), 0, "precommit-sent-to-all", None);
    for p in 1..=3 {
        s.plan = crash(s.plan, p, "precommitted", None);
    }
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.stats.crashes, 4);
    assert!(r.fault_phase.up.iter().take(4).all(|&up| !up), "all down in the fault phase");
    let all = decisions(&r);
    assert_eq!(all.get(&TxnId(1)), Some(&Outcome::Abort));
    for p in r.participants() {
        assert_eq!(r.end.disks[p.index()].decision(TxnId(1)), Some(Outcome::Abort), "{p}");
    }
    assert_eq!(client_learned(&r, TxnId(1)), Some(Outcome::Abort));
    assert_all_participants_settled(&r);
}
