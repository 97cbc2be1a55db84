//! Where the search may crash a node: every role's marks, the failure-path marks each family
//! declares, and the points learned from every run the search makes, deterministically.

use experiments::search::runner::discover_marks;
use experiments::search::{CrashPoints, Outcome, SearchConfig, Target, search_with_points};
use sim_core::{FaultClass, NodeId};

fn marks(protocol: &str) -> Vec<(NodeId, String)> {
    discover_marks(&SearchConfig::new(protocol, Target::Atomicity, vec![FaultClass::Crash]))
        .unwrap()
}

#[test]
fn failure_path_marks_are_crash_points_though_no_fault_free_run_emits_them() {
    // 3PC's termination protocol (backup election) runs only after a coordinator failure.
    let three_pc = marks("3pc");
    for p in 1..=3 {
        assert!(three_pc.contains(&(NodeId(p), "backup-elected".into())), "{three_pc:?}");
    }
    // A saga's compensation runs only after a refused step.
    let saga = marks("saga-orchestration");
    assert!(saga.contains(&(NodeId(0), "compensating".into())), "{saga:?}");
    // The fault-free run's marks come first, in emission order: shrinking prefers them.
    assert_eq!(three_pc[0], (NodeId(0), "can-commit-sent".into()));
}

#[test]
fn every_role_but_the_client_is_a_crash_target_including_paxos_acceptors() {
    let cfg = SearchConfig::new("paxos-commit", Target::Atomicity, vec![FaultClass::Crash]);
    let acceptors = cfg.acceptors();
    assert!(!acceptors.is_empty());
    let marks = discover_marks(&cfg).unwrap();
    for a in &acceptors {
        assert!(marks.iter().any(|(n, _)| n == a), "acceptor {a} has marks: {marks:?}");
    }
    let client = cfg.nodes_of("client");
    assert!(marks.iter().all(|(n, _)| !client.contains(n)), "{marks:?}");
}

/// The pool grows from the search's own runs (a blocked participant's retries show up only
/// in faulty runs), and the search is a function of its seed: same seed, same cases, same
/// pool, same minimal plan.
#[test]
fn the_crash_points_grow_from_every_run_and_the_search_stays_deterministic() {
    let mut cfg = SearchConfig::new("2pc", Target::Atomicity, vec![FaultClass::Crash]);
    cfg.cases = 300;
    let start = CrashPoints::discover(&cfg).unwrap();
    let (outcome, grown) = search_with_points(&cfg, &|_| {}).unwrap();
    assert!(matches!(outcome, Outcome::NotFound { .. }), "2pc keeps atomicity");
    assert!(grown.marks.starts_with(&start.marks), "points are appended, never inserted");
    let more_sends = grown
        .sends
        .iter()
        .any(|(n, k)| start.sends.iter().find(|(m, _)| m == n).is_none_or(|(_, j)| k > j));
    assert!(more_sends, "faulty runs send more (retries): {start:?} -> {grown:?}");

    let mut broken = SearchConfig::new(
        "broken-2pc-unlogged-decision",
        Target::Atomicity,
        FaultClass::ALL.to_vec(),
    );
    broken.cases = 20_000;
    let (first, first_points) = search_with_points(&broken, &|_| {}).unwrap();
    let (second, second_points) = search_with_points(&broken, &|_| {}).unwrap();
    let (Outcome::Found(a), Outcome::Found(b)) = (first, second) else {
        panic!("the unlogged decision is found")
    };
    assert_eq!(a.scenario, b.scenario);
    assert_eq!(a.stats, b.stats);
    assert_eq!(first_points, second_points);
}
