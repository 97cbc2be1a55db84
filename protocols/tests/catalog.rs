//! The catalog and the library entry point: names, errors, trace export, and the broken
//! variants misbehaving exactly where they should.

mod common;

use common::*;
use protocols::three_pc::ThreePc;
use protocols::two_pc::TwoPc;
use protocols::{Outcome, Scenario, ScenarioError, TxnId};
use sim_core::trace::{hash_events, read_jsonl};
use sim_core::{Action, NodeId, TraceLevel, Trigger};

#[test]
fn catalog_lists_correct_and_broken_apart() {
    let correct: Vec<_> = protocols::correct_protocols().collect();
    assert_eq!(
        correct,
        [
            "2pc",
            "2pc-presumed-abort",
            "2pc-no-cooperative-termination",
            "3pc",
            "quorum-3pc",
            "e3pc",
            "paxos-commit",
            "faster-paxos-commit",
            "2pc-raft",
            "2pc-multipaxos",
            "saga-orchestration",
            "saga-choreography",
            "raft",
            "multi-paxos",
            "zab"
        ]
    );
    let broken: Vec<_> = protocols::broken_protocols().collect();
    assert_eq!(
        broken,
        [
            "broken-2pc-unilateral-abort",
            "broken-2pc-unlogged-decision",
            "broken-3pc-all-uncertain-commit",
            "broken-saga-volatile-orchestrator",
            "broken-saga-lossy-bus",
            "broken-raft-volatile-vote",
            "broken-raft-commit-old-term",
            "broken-multipaxos-ignores-accepted",
            "broken-zab-skip-sync"
        ]
    );
    assert!(broken.iter().all(|b| b.starts_with("broken-")));
    // Every name runs the fault-free case: every transaction commits.
    for spec in protocols::catalog().iter().filter(|s| s.decides_transactions()) {
        let r = protocols::run(&Scenario::new(spec.name, 2, 2, 1)).unwrap().report;
        assert_eq!(r.protocol, spec.name);
        assert!(decisions(&r).values().all(|&o| o == Outcome::Commit), "{}", spec.name);
        assert_all_participants_settled(&r);
    }
}

#[test]
fn bad_input_is_a_typed_error_naming_the_field() {
    let err = protocols::run(&Scenario::new("4pc", 2, 1, 1)).err().unwrap();
    assert!(matches!(&err, ScenarioError::UnknownProtocol { name, .. } if name == "4pc"));
    assert!(err.to_string().contains("2pc"), "the message lists the known names: {err}");
    let err = protocols::run(&Scenario::new("2pc", 0, 1, 1)).err().unwrap();
    assert!(err.to_string().contains("participants"), "{err}");
    let mut s = Scenario::new("3pc", 1, 1, 1);
    s.workload = protocols::workload::Workload::bank();
    let err = protocols::run(&s).err().unwrap();
    assert!(err.to_string().contains("workload"), "{err}");
    let mut s = Scenario::new("2pc", 2, 1, 1);
    s.plan = crash_at(9, "decided", None);
    let err = protocols::run(&s).err().unwrap();
    assert!(err.to_string().contains("faults[0]"), "{err}");
}

#[test]
fn full_trace_exports_as_json_lines_with_the_run_hash() {
    let mut s = Scenario::new("2pc", 3, 2, 4);
    s.trace = TraceLevel::Full;
    s.plan = crash_at(0, "decision-sent-to-first", Some(20_000));
    let out = protocols::run(&s).unwrap();
    let mut buf = Vec::new();
    out.write_trace_jsonl(&mut buf).unwrap();
    let events = read_jsonl::<TwoPc>(&buf[..]).unwrap();
    assert!(events.len() > 40, "{} events", events.len());
    assert_eq!(hash_events(&events), out.report.trace_hash);
    let text = String::from_utf8(buf).unwrap();
    assert!(text.contains(r#""name":"decision-sent-to-first""#));

    s.protocol = "3pc".into();
    let out = protocols::run(&s).unwrap();
    let mut buf = Vec::new();
    out.write_trace_jsonl(&mut buf).unwrap();
    let events = read_jsonl::<ThreePc>(&buf[..]).unwrap();
    assert_eq!(hash_events(&events), out.report.trace_hash);
}

#[test]
fn scenarios_and_reports_are_serde() {
    let mut s = Scenario::new("2pc-presumed-abort", 3, 4, 9);
    s.workload = protocols::workload::Workload::bank();
    s.plan = crash_at(0, "all-votes-in", Some(50_000));
    let text = serde_json::to_string(&s).unwrap();
    let back: Scenario = serde_json::from_str(&text).unwrap();
    assert_eq!(back, s);
    let r = protocols::run(&back).unwrap().report;
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains(r#""obs":"decided""#), "observations carry the shared vocabulary");
}

#[test]
fn broken_unilateral_abort_disagrees_with_a_recovered_coordinator() {
    // The coordinator logs COMMIT and crashes before sending it; it comes back after the
    // participants' timeouts. Correct 2PC waits; the broken variant aborts on its own.
    let recover_after_us = 2_000_000;
    let mut s = Scenario::new("broken-2pc-unilateral-abort", 3, 1, 6);
    s.plan = crash_at(0, "decision-logged", Some(recover_after_us));
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.end.disks[0].decision(TxnId(1)), Some(Outcome::Commit));
    for p in r.participants() {
        assert_eq!(r.end.disks[p.index()].decision(TxnId(1)), Some(Outcome::Abort), "{p}");
    }
    s.protocol = "2pc".into();
    let r = protocols::run(&s).unwrap().report;
    for p in r.participants() {
        assert_eq!(r.end.disks[p.index()].decision(TxnId(1)), Some(Outcome::Commit), "{p}");
    }
}

#[test]
fn broken_unlogged_decision_forgets_a_commit_one_participant_applied() {
    // Crash after COMMIT reached participant 1 but before it was logged; the recovered
    // coordinator knows nothing and aborts when the others ask.
    let mut s = Scenario::new("broken-2pc-unlogged-decision", 3, 1, 6);
    s.plan = crash_at(0, "decision-sent-to-first", Some(10_000));
    let r = protocols::run(&s).unwrap().report;
    assert!(r.end.disks[0].decisions.is_empty(), "the decision never reached the disk");
    assert_eq!(r.end.disks[1].decision(TxnId(1)), Some(Outcome::Commit));
    let aborted = r
        .participants()
        .filter(|p| r.end.disks[p.index()].decision(TxnId(1)) == Some(Outcome::Abort))
        .count();
    assert!(aborted >= 1, "someone learnt abort: {:?}", r.end.disks);
    // The correct protocol logs first: the crash cuts the sends, never the log.
    s.protocol = "2pc".into();
    s.plan = crash_at(0, "decision-sent-to-first", Some(10_000));
    let r = protocols::run(&s).unwrap().report;
    assert!(decisions(&r).values().all(|&o| o == Outcome::Commit));
}

#[test]
fn broken_all_uncertain_commit_contradicts_the_coordinators_abort() {
    // Participant 3 votes no and dies; the coordinator logs ABORT and dies before sending
    // it. Participants 1 and 2 are uncertain: correct 3PC aborts, the broken one commits.
    let mut s = Scenario::new("broken-3pc-all-uncertain-commit", 3, 1, 3);
    s.liveness_bound_us = None;
    s.votes = protocols::workload::VotePolicy::always_no(NodeId(3));
    s.plan = crash_at(0, "decision-logged", None).with(
        Trigger::Mark { node: NodeId(3), mark: "decided".into(), nth: 1 },
        Action::Crash { node: NodeId(3), recover_after_us: None },
    );
    let r = protocols::run(&s).unwrap().report;
    assert_eq!(r.end.disks[0].decision(TxnId(1)), Some(Outcome::Abort));
    for p in 1..=2 {
        assert_eq!(r.end.disks[p].decision(TxnId(1)), Some(Outcome::Commit), "n{p}");
    }
    s.protocol = "3pc".into();
    let r = protocols::run(&s).unwrap().report;
    assert!(decisions(&r).values().all(|&o| o == Outcome::Abort));
}
