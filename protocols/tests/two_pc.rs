//! Two-phase commit: message and disk-write counts, normal cases, blocking, termination,
//! recovery and determinism.

mod common;

use common::*;
use protocols::workload::{VotePolicy, Workload};
use protocols::{Observation, Outcome, Scenario, TxnId, Vote};
use sim_core::NodeId;

fn scenario(protocol: &str, n: u32, txns: u64, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, n, txns, seed);
    s.liveness_bound_us = None;
    s
}

#[test]
fn commit_costs_4n_messages_and_2n_plus_2_forced_writes() {
    const K: u64 = 3;
    for n in 1..=8u32 {
        let r = protocols::run(&scenario("2pc", n, K, u64::from(n))).unwrap().report;
        let n64 = u64::from(n);
        assert_eq!(r.messages.protocol, 4 * n64 * K, "N = {n}");
        assert_eq!(r.messages.client, 2 * K, "N = {n}: one request, one reply per txn");
        assert_eq!(r.stats.disk_writes, (2 * n64 + 2) * K, "N = {n}");
        let all = decisions(&r);
        assert_eq!(all.len() as u64, K);
        assert!(all.values().all(|&o| o == Outcome::Commit), "N = {n}: {all:?}");
        // Coordinator disk: decision + end per txn; participant disk: prepared + decision.
        assert_eq!(r.end.disks[0].records as u64, 2 * K);
        for p in r.participants() {
            assert_eq!(r.end.disks[p.index()].records as u64, 2 * K, "{p}");
            assert_eq!(r.end.disks[p.index()].prepared.len() as u64, K, "{p}");
            assert_eq!(r.end.applied[p.index()].as_ref().unwrap().values().sum::<i64>(), K as i64);
        }
    }
}

#[test]
fn presumed_abort_abort_costs_2n_plus_yes_voters_and_no_coordinator_write() {
    for n in 1..=8u32 {
        let mut s = scenario("2pc-presumed-abort", n, 4, 40 + u64::from(n));
        s.votes = VotePolicy::always_no(NodeId(1));
        let r = protocols::run(&s).unwrap().report;
        let yes = count_yes_votes(&r);
        assert_eq!(yes, 4 * u64::from(n - 1), "N = {n}: every other participant votes yes");
        assert_eq!(r.messages.protocol, 2 * u64::from(n) * 4 + yes, "N = {n}");
        // Only the yes voters' prepared records: no abort record anywhere, none at the coordinator.
        assert_eq!(r.stats.disk_writes, yes, "N = {n}");
        assert_eq!(r.end.disks[0].records, 0);
        assert!(decisions(&r).values().all(|&o| o == Outcome::Abort));
        assert_all_participants_settled(&r);
    }
}

#[test]
fn presumed_nothing_abort_acknowledges_and_logs() {
    let n = 4u32;
    let mut s = scenario("2pc", n, 1, 5);
    s.votes = VotePolicy::always_no(NodeId(2));
    let r = protocols::run(&s).unwrap().report;
    let yes = count_yes_votes(&r);
    // Abort and ack only to and from the yes voters that had voted when the no arrived or
    // voted afterwards: every yes voter.
    assert_eq!(r.messages.protocol, 2 * u64::from(n) + 2 * yes);
    // Coordinator: abort + end; each yes voter: prepared + abort.
    assert_eq!(r.stats.disk_writes, 2 + 2 * yes);
    assert_eq!(r.end.disks[0].decisions, vec![(TxnId(1), Outcome::Abort)]);
}

#[test]
fn all_commit_when_all_vote_yes_all_abort_when_one_votes_no() {
    for protocol in ["2pc", "2pc-presumed-abort", "2pc-no-cooperative-termination"] {
        let r = protocols::run(&scenario(protocol, 3, 5, 9)).unwrap().report;
        for p in r.participants() {
            assert!(votes_at(&r, p).iter().all(|v| v.1 == Vote::Yes));
            let d = decided_at(&r, p);
            assert_eq!(d.len(), 5, "{protocol} {p}");
            assert!(d.values().all(|&o| o == Outcome::Commit), "{protocol} {p}: {d:?} (AC4)");
        }
        assert_all_participants_settled(&r);

        let mut s = scenario(protocol, 3, 5, 9);
        s.votes = VotePolicy::always_no(NodeId(3));
        let r = protocols::run(&s).unwrap().report;
        let all = decisions(&r);
        assert_eq!(all.len(), 5);
        assert!(all.values().all(|&o| o == Outcome::Abort), "{protocol}: {all:?} (AC3)");
        for p in r.participants() {
            assert_eq!(decided_at(&r, p).len(), 5, "{protocol}: {p} decided every txn");
        }
        let learned = r
            .observations
            .iter()
            .filter(|o| matches!(o.obs, Observation::ClientLearned { outcome: Outcome::Abort, .. }))
            .count();
        assert_eq!(learned, 5, "{protocol}: the client heard every abort");
        assert_all_participants_settled(&r);
    }
}

#[test]
fn coordinator_crash_at_decision_logged_recovers_and_conserves_money() {
    for protocol in ["2pc", "2pc-presumed-abort", "2pc-no-cooperative-termination"] {
        let mut s = Scenario::new(protocol, 3, 20, 11);
        s.workload = Workload::bank();
        s.plan = crash_at(0, "decision-logged", Some(50_000));
        let r = protocols::run(&s).unwrap().report;
        assert_eq!(r.stats.crashes, 1, "{protocol}");
        assert_eq!(r.stats.recoveries, 1, "{protocol}");
        let all = decisions(&r);
        assert_eq!(all.len(), 20, "{protocol}: every txn decided");
        // The crashed decision was logged, so it survives: the first txn's decision on disk.
        assert!(r.end.disks[0].decision(TxnId(1)).is_some(), "{protocol}");
        for p in r.participants() {
            let d = decided_at(&r, p);
            for (t, o) in &d {
                assert_eq!(all[t], *o, "{protocol}: {p} on {t}");
            }
        }
        assert_all_participants_settled(&r);
        assert_eq!(r.end.applied_total, r.initial_total, "{protocol}: money conserved");
        assert!(all.values().any(|&o| o == Outcome::Commit), "{protocol}: some transfers ran");
    }
}

#[test]
fn without_recovery_a_crash_at_all_votes_in_blocks_participants_with_their_locks() {
    for protocol in ["2pc", "2pc-no-cooperative-termination", "2pc-presumed-abort"] {
        let mut s = scenario(protocol, 3, 2, 3);
        s.plan = crash_at(0, "all-votes-in", None);
        let r = protocols::run(&s).unwrap().report;
        assert!(!r.fault_phase.up[0], "the coordinator stays down");
        for p in r.participants() {
            let i = p.index();
            assert!(r.fault_phase.up[i]);
            assert_eq!(r.fault_phase.in_doubt[i], vec![TxnId(1)], "{protocol}: {p} blocked");
            assert!(!r.fault_phase.locks[i].is_empty(), "{protocol}: {p} keeps its locks");
            assert!(r.fault_phase.locks[i].values().all(|&t| t == TxnId(1)));
            assert!(decided_at(&r, p).is_empty(), "{protocol}: {p} must not decide");
            assert!(r.observed_at(p).any(|o| *o == Observation::Uncertain { txn: TxnId(1) }));
            assert!(r.fault_phase.disks[i].decisions.is_empty());
        }
        // They kept asking (bounded backoff), and nobody answered.
        assert!(r.messages.protocol > 6 * 3, "{protocol}: termination queries were sent");
    }
}

#[test]
fn cooperative_termination_learns_the_decision_from_the_first_participant() {
    let mut s = scenario("2pc", 4, 1, 21);
    s.plan = crash_at(0, "decision-sent-to-first", None);
    let r = protocols::run(&s).unwrap().report;
    assert!(!r.fault_phase.up[0]);
    // Participant 1 got COMMIT from the coordinator; 2..4 learnt it from 1.
    for p in r.participants() {
        let d = decided_at(&r, p);
        assert_eq!(d.get(&TxnId(1)), Some(&Outcome::Commit), "{p}");
        assert_eq!(r.fault_phase.disks[p.index()].decision(TxnId(1)), Some(Outcome::Commit));
    }
    assert_all_participants_settled(&r);
    assert_eq!(r.fault_phase.applied_total, 4, "every participant applied its write");

    // Without cooperative termination, the same crash leaves 2..4 blocked.
    s.protocol = "2pc-no-cooperative-termination".into();
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(decided_at(&r, NodeId(1)).get(&TxnId(1)), Some(&Outcome::Commit));
    for p in 2..=4 {
        assert_eq!(r.fault_phase.in_doubt[p], vec![TxnId(1)], "n{p} blocked");
    }
}

#[test]
fn blocked_participants_finish_in_the_liveness_phase() {
    let mut s = Scenario::new("2pc", 3, 3, 8);
    s.plan = crash_at(0, "all-votes-in", None);
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.fault_phase.in_doubt[1], vec![TxnId(1)]);
    // The recovered coordinator has no decision for txn 1: it is aborted.
    let all = decisions(&r);
    assert_eq!(all[&TxnId(1)], Outcome::Abort);
    assert_all_participants_settled(&r);
}

#[test]
fn same_seed_and_plan_same_trace_hash() {
    for protocol in protocols::catalog().iter().map(|s| s.name) {
        let mut s = Scenario::new(protocol, 3, 10, 77);
        s.workload = Workload::bank();
        s.max_in_flight = 3;
        s.plan = crash_at(0, "decision-sent-to-first", Some(30_000));
        let a = protocols::run(&s).unwrap().report;
        let b = protocols::run(&s).unwrap().report;
        assert_eq!(a.trace_hash, b.trace_hash, "{protocol}");
        assert_eq!(a, b, "{protocol}: same report");
        s.seed = 78;
        let c = protocols::run(&s).unwrap().report;
        assert_ne!(a.trace_hash, c.trace_hash, "{protocol}: another seed, another run");
    }
}

#[test]
fn a_participant_that_learns_the_outcome_from_a_peer_acks_the_coordinator() {
    // The link coordinator -> participant 3 is cut as the decision is logged, for the whole
    // run: 3 never hears the decision from the coordinator, and learns it from a peer. Its
    // ack lets the coordinator end the transaction and answer the client in the fault phase,
    // instead of re-sending over the cut link until the liveness phase.
    for protocol in ["2pc", "2pc-no-cooperative-termination"] {
        let mut s = scenario(protocol, 3, 1, 31);
        s.plan = sim_core::FaultPlan::none().with(
            sim_core::Trigger::Mark { node: NodeId(0), mark: "decision-logged".into(), nth: 1 },
            sim_core::Action::CutOneWay { from: NodeId(0), to: NodeId(3) },
        );
        let r = protocols::run(&s).unwrap().report;
        assert_eq!(r.faults_fired, vec![true]);
        if protocol == "2pc-no-cooperative-termination" {
            // Nobody but the coordinator answers: 3 stays in doubt, the coordinator waits.
            assert_eq!(r.fault_phase.in_doubt[3], vec![TxnId(1)], "{protocol}");
            assert_eq!(r.fault_phase.disks[0].records, 1, "{protocol}: decision, no end");
            continue;
        }
        assert_eq!(decided_at(&r, NodeId(3)).get(&TxnId(1)), Some(&Outcome::Commit));
        assert_all_participants_settled(&r);
        // The coordinator's end record (every ack in) and the client's answer, in the fault
        // phase, with the link still cut.
        assert_eq!(r.fault_phase.disks[0].records, 2, "decision and end");
        assert!(r.fault_phase.cut_links.contains(&(NodeId(0), NodeId(3))));
        let learned = r.observations.iter().any(|o| {
            matches!(o.obs, Observation::ClientLearned { txn: TxnId(1), outcome: Outcome::Commit })
        });
        assert!(learned, "the client learned the commit");
        // No re-send loop: the normal 12 messages, plus 3's one round of inquiries (3 asks,
        // 3 answers) and its ack. Re-sending until the end of the 10 s fault phase would add
        // dozens.
        assert!(r.messages.protocol <= 12 + 6 + 1, "{} protocol messages", r.messages.protocol);
    }
}

/// 2PC with the execution phase (`execution_phase = true`): WORK, WORK-DONE, then PREPARE.
fn with_execution_phase(n: u32, txns: u64, seed: u64) -> Scenario {
    scenario("2pc", n, txns, seed).with("execution_phase", true)
}

#[test]
fn the_execution_phase_is_refused_in_gray_and_lamports_shape() {
    let s = with_execution_phase(3, 1, 1).with("gray_lamport_shape", true);
    let e = protocols::run(&s).err().expect("an error").to_string();
    assert!(e.starts_with("family.execution_phase: "), "{e}");
}

#[test]
fn with_an_execution_phase_commit_costs_6n_messages() {
    for n in 1..=5u32 {
        let r = protocols::run(&with_execution_phase(n, 3, u64::from(n))).unwrap().report;
        assert_eq!(r.messages.protocol, 6 * u64::from(n) * 3, "N = {n}");
        assert!(decisions(&r).values().all(|&o| o == Outcome::Commit));
        assert_all_participants_settled(&r);
    }
}

#[test]
fn a_participant_never_prepared_aborts_alone_after_the_pre_vote_timeout() {
    // The coordinator crashes for good right after its last WORK (its N-th send), before
    // any PREPARE: the enlisted participants must not wait for it. Each aborts alone, with a
    // forced abort record, and holds nothing.
    for protocol in ["2pc", "2pc-presumed-abort", "2pc-no-cooperative-termination"] {
        let n = 3u32;
        let mut s = with_execution_phase(n, 1, 17);
        s.protocol = protocol.into();
        s.plan = sim_core::FaultPlan::none().with(
            sim_core::Trigger::Sends { node: NodeId(0), count: u64::from(n) },
            sim_core::Action::Crash { node: NodeId(0), recover_after_us: None },
        );
        let r = protocols::run(&s).unwrap().report;
        assert_eq!(r.stats.crashes, 1, "{protocol}");
        for p in r.participants() {
            let i = p.index();
            assert!(votes_at(&r, p).is_empty(), "{protocol}: {p} was never asked to vote");
            assert_eq!(decided_at(&r, p).get(&TxnId(1)), Some(&Outcome::Abort), "{protocol}: {p}");
            assert_eq!(r.fault_phase.disks[i].decision(TxnId(1)), Some(Outcome::Abort), "{p}");
            assert!(r.fault_phase.in_doubt[i].is_empty(), "{protocol}: {p}");
            assert!(r.fault_phase.locks[i].is_empty(), "{protocol}: {p}");
        }
    }
}

#[test]
fn a_late_prepare_after_the_pre_vote_timeout_is_answered_no() {
    // Right after the WORK messages, the coordinator's link to participant 1 slows to
    // 200 ms, far past the pre-vote timeout: 1 aborts alone before PREPARE arrives, then
    // votes no, and everyone aborts.
    let mut s = with_execution_phase(3, 1, 23);
    s.plan = sim_core::FaultPlan::none().with(
        sim_core::Trigger::Sends { node: NodeId(0), count: 3 },
        sim_core::Action::SetLatency {
            links: sim_core::LinkSet::OneWay { from: NodeId(0), to: NodeId(1) },
            latency: sim_core::Latency::Constant { us: 200_000 },
        },
    );
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.faults_fired, vec![true]);
    assert!(r.timing.pre_vote_timeout_us < 100_000);
    // 1 aborted alone (before its PREPARE could arrive) and never voted yes.
    let aborted_at = r.observations.iter().find_map(|o| {
        (o.node == NodeId(1)
            && o.obs == Observation::Decided { txn: TxnId(1), outcome: Outcome::Abort })
        .then_some(o.time.as_us())
    });
    assert!(aborted_at.is_some_and(|t| t < 200_000), "{aborted_at:?}");
    assert!(votes_at(&r, NodeId(1)).iter().all(|v| v.1 != Vote::Yes));
    assert_eq!(decisions(&r).get(&TxnId(1)), Some(&Outcome::Abort));
    assert_all_participants_settled(&r);
}

#[test]
fn a_yes_voter_never_takes_the_pre_vote_timeout() {
    // With the execution phase, a crash after every yes vote still blocks 2PC: the
    // participants stay in doubt with their locks for the whole fault phase, long past the
    // pre-vote timeout, and decide nothing alone.
    for protocol in ["2pc", "2pc-no-cooperative-termination", "2pc-presumed-abort"] {
        let mut s = with_execution_phase(3, 1, 3);
        s.protocol = protocol.into();
        s.plan = crash_at(0, "all-votes-in", None);
        let r = protocols::run(&s).unwrap().report;
        assert!(r.fault_phase.up.iter().skip(1).all(|&up| up));
        for p in r.participants() {
            let i = p.index();
            assert_eq!(r.fault_phase.in_doubt[i], vec![TxnId(1)], "{protocol}: {p} blocked");
            assert!(!r.fault_phase.locks[i].is_empty(), "{protocol}: {p} keeps its locks");
            assert!(decided_at(&r, p).is_empty(), "{protocol}: {p} must not decide");
        }
    }
}
