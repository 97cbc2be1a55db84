//! One blocking definition for every command: `run` (its summary), `check` and `replay`
//! (the search's target) read the checkers' non-blocking verdict, which leaves a participant
//! that crashed and recovered out and lists it as waiting after recovery.

use experiments::run::{RunArgs, run};
use experiments::search::Target;
use experiments::search::counterexample::replay;
use sim_core::NodeId;

/// 2PC without cooperative termination, one transfer: the coordinator dies once every vote
/// is in (no recovery), and participant 1 crashes right after its yes vote and recovers
/// 100 ms later, in doubt from its disk. Participant 3 (the transfer's other end) never
/// crashed and waits on the coordinator: blocked. Participant 1 waits too, after its own
/// failure: waiting after recovery, not blocked.
fn args() -> RunArgs {
    RunArgs {
        protocol: Some("2pc-no-cooperative-termination".into()),
        txns: Some(1),
        liveness_ms: Some(0),
        crash: vec!["coord@all-votes-in".into(), "p1@voted-yes+100".into()],
        json: true,
        ..RunArgs::default()
    }
}

#[test]
fn run_and_replay_give_the_same_blocking_verdict() {
    let mut out = Vec::new();
    run(&args(), &mut out).unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let blocked: Vec<String> =
        serde_json::from_value(summary["blocked_participants"].clone()).expect("a list of lines");
    let waiting: Vec<String> =
        serde_json::from_value(summary["waiting_after_recovery"].clone()).expect("a list of lines");
    assert_eq!(blocked.len(), 1, "{blocked:?}");
    assert!(blocked[0].starts_with("n3 is blocked on t1"), "{blocked:?}");
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert!(waiting[0].starts_with("n1 recovered in doubt on t1"), "{waiting:?}");

    // `check` and `replay` judge a scenario through the search's target: the same verdict.
    let scenario = experiments::run::flags::resolve(&args()).unwrap();
    let replayed = replay(&scenario, Target::NonBlocking).unwrap();
    let nodes: Vec<NodeId> = replayed.violations.iter().flat_map(|v| v.nodes.clone()).collect();
    assert_eq!(nodes, vec![NodeId(3)], "replay blocks exactly whom run blocks");
    let lines: Vec<String> = replayed.violations.iter().map(|v| v.detail.clone()).collect();
    assert_eq!(lines, blocked, "same lines, same definition");
}
