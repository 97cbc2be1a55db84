//! A protocol defined outside the workspace's crates (examples/custom_protocol.rs, written
//! against public APIs only) runs through the same runner, is judged by the same checkers,
//! and the same search finds the bug planted in its broken variant and shrinks it.

#[path = "../examples/custom_protocol.rs"]
mod custom_protocol;

use checkers::Property;
use custom_protocol::{asserting_lean, broken_lean, lean, search_atomicity, vote_before_log_lean};
use experiments::search::counterexample::replay_spec;
use experiments::search::{Outcome, Target};
use protocols::Scenario;
use protocols::workload::Workload;
use sim_core::{Action, FaultClass, Trigger};

#[test]
fn the_example_protocol_commits_and_conserves_money_without_faults() {
    let mut s = Scenario::new("lean-2pc", 3, 20, 1);
    s.workload = Workload::bank();
    let outcome = lean().run(&s).unwrap();
    let verdicts = checkers::check(&outcome.report, &s.plan);
    for p in Property::ALL {
        assert!(!verdicts.get(p).is_violated(), "{}: {:?}", p.name(), verdicts.get(p));
    }
    assert_eq!(*verdicts.get(Property::Conservation), checkers::Verdict::Holds, "judged");
    let learned = outcome
        .report
        .observations
        .iter()
        .filter(|o| matches!(o.obs, protocols::Observation::ClientLearned { .. }))
        .count();
    assert_eq!(learned, 20, "every transfer ends");
    assert_eq!(outcome.report.roles.labels, ["coord", "p1", "p2", "p3", "client"]);
}

#[test]
fn the_search_holds_for_the_example_and_finds_its_planted_bug() {
    let Outcome::NotFound { stats } = search_atomicity(lean(), 3_000) else {
        panic!("lean-2pc keeps atomicity under crashes and recoveries")
    };
    assert_eq!(stats.cases_run, 3_000);

    let Outcome::Found(found) = search_atomicity(broken_lean(), 10_000) else {
        panic!("the volatile decision is found")
    };
    // Minimal: the coordinator crashes after sending a commit to some participant, and comes
    // back without it (crash with recovery, or crash then recover).
    let faults = &found.scenario.plan.faults;
    assert!(!faults.is_empty() && faults.len() <= 2, "{faults:?}");
    assert!(
        faults.iter().any(|f| matches!(f.action, Action::Crash { node, .. } if node.0 == 0)),
        "the coordinator crashes: {faults:?}"
    );
    let replayed = replay_spec(&broken_lean(), &found.scenario, Target::Atomicity).unwrap();
    assert!(
        replayed.violations.iter().any(|v| v.property == Property::Agreement),
        "participants disagree: {:?}",
        replayed.violations
    );
    // Same scenario, same trace: the counterexample replays exactly.
    let again = replay_spec(&broken_lean(), &found.scenario, Target::Atomicity).unwrap();
    assert_eq!(again.trace_hash, replayed.trace_hash);
}

/// A panic inside a node (the protocol's own assertion) is a finding: the search reports it,
/// the replay catches it as a `no-panic` violation, and nothing crashes.
#[test]
fn a_protocol_that_panics_is_a_finding_not_a_crash() {
    let classes = vec![sim_core::FaultClass::Duplicate];
    let mut cfg =
        experiments::search::SearchConfig::for_spec(asserting_lean(), Target::Atomicity, classes);
    cfg.cases = 2_000;
    let Outcome::Found(found) = experiments::search::search(&cfg, &|_| {}).unwrap() else {
        panic!("a duplicated Prepare makes the participant's assertion fire")
    };
    let replayed = replay_spec(&asserting_lean(), &found.scenario, Target::Atomicity).unwrap();
    assert!(replayed.outcome.is_none(), "the run was cut short by the panic");
    assert_eq!(replayed.trace_hash, experiments::search::counterexample::PANICKED);
    assert_eq!(replayed.violations.len(), 1);
    let v = &replayed.violations[0];
    assert_eq!(v.property, Property::NoPanic);
    assert!(v.detail.contains("Prepare seen twice"), "{}", v.detail);
    // `commitlab run` of the same scenario reports the panic the same way: a no-panic
    // violation with the message, exit 1, and no output file (nothing finished to write).
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let args =
        experiments::run::RunArgs { json: true, trace: Some(trace.clone()), ..Default::default() };
    let mut out = Vec::new();
    let exit = experiments::run::run_resolved(&asserting_lean(), &found.scenario, &args, &mut out)
        .unwrap();
    assert_eq!(exit, experiments::exit::Exit::PropertyFailed);
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(summary["verdicts"]["no-panic"], "violated", "{summary}");
    assert_eq!(summary["trace_hash"], "panicked");
    let line = summary["violations"][0].as_str().unwrap();
    assert!(line.starts_with("no-panic: a node panicked:") && line.contains("Prepare seen twice"));
    assert!(!trace.exists(), "no half-written trace");
    // The minimal plan duplicates messages: nothing else is needed.
    assert!(
        found.scenario.plan.faults.iter().all(|f| matches!(f.action, Action::SetDuplicate { .. })),
        "{:?}",
        found.scenario.plan
    );
}

/// A bug between two effects of one handler, with no mark between them (the participant's
/// vote leaves before its prepared record is forced), is reached only by an effect-level
/// crash point: the search draws "crash the participant right after its k-th send", the
/// handler is cut before the persist, and the recovered participant has forgotten a yes
/// vote the coordinator committed on: it never decides (AC5). Time and mark triggers never
/// land inside a handler.
#[test]
fn a_bug_between_two_effects_of_one_handler_is_found_by_a_crash_after_a_send() {
    let search = |spec| {
        let classes = vec![FaultClass::Crash, FaultClass::Recover];
        let mut cfg =
            experiments::search::SearchConfig::for_spec(spec, Target::Termination, classes);
        cfg.cases = 3_000;
        experiments::search::search(&cfg, &|_| {}).unwrap()
    };
    let Outcome::NotFound { .. } = search(lean()) else {
        panic!("lean-2pc forces its prepared record first: every yes voter decides")
    };
    let Outcome::Found(found) = search(vote_before_log_lean()) else {
        panic!("a crash right after the vote is sent loses the prepared record")
    };
    let faults = &found.scenario.plan.faults;
    let crash_after_own_send = |f: &sim_core::Fault| match (&f.trigger, &f.action) {
        (Trigger::Sends { node, .. }, Action::Crash { node: crashed, .. }) => node == crashed,
        _ => false,
    };
    assert!(faults.iter().any(crash_after_own_send), "{faults:?}");
    let replayed =
        replay_spec(&vote_before_log_lean(), &found.scenario, Target::Termination).unwrap();
    assert!(
        replayed.violations.iter().any(|v| v.property == Property::Termination),
        "{:?}",
        replayed.violations
    );
}
