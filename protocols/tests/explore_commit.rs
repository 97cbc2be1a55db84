//! The explorer over the real commit protocols (the nodes `run` drives): Skeen's results
//! (2PC blocks on a coordinator crash, 3PC does not under crashes alone and loses atomicity
//! under a partition), every built-in broken variant found within two faults, Paxos Commit
//! safe and non-blocking with one crash.
//!
//! Counts depend on the protocols' behaviour: when a protocol change legitimately moves
//! one, re-pin it in [`pinned`] (and say why in the commit).

use protocols::catalog::explorable;
use protocols::explore::ExploreRequest;
use protocols::{ProtocolSpec, Scenario};
use sim_core::explore::{Budget, ExploreConfig, ExploreReport, Timers, Verdict};

/// Every pinned count of this file, in one place.
mod pinned {
    /// 2PC, 3 participants, ≤ 1 crash: BFS's shortest path to a blocked terminal state.
    pub const TWO_PC_BLOCKED_STEPS: usize = 33;
    /// 3PC, 3 participants, ≤ 1 crash, explored to completion.
    pub const THREE_PC_CRASH_UNIQUE: u64 = 10_183;
    /// 3PC, 3 participants, one partition: BFS's shortest path to an atomicity violation.
    pub const THREE_PC_PARTITION_STEPS: usize = 15;
    /// Paxos Commit (F = 1), 2 participants, ≤ 1 crash, explored to completion.
    pub const PAXOS_COMMIT_CRASH_UNIQUE: u64 = 40_669;
}

fn spec(name: &str) -> &'static ProtocolSpec {
    explorable().iter().find(|s| s.name == name).expect("an explorable protocol")
}

fn explore_with(
    name: &str,
    participants: u32,
    budget: Budget,
    properties: &[&str],
    threads: usize,
) -> ExploreReport {
    let scenario = Scenario::new(name, participants, 1, 1);
    let properties: Vec<String> = properties.iter().map(|p| p.to_string()).collect();
    let request = ExploreRequest::new(name, &scenario, &properties);
    // Timeouts outlast every delay: the synchronous network Skeen's results assume.
    let config = ExploreConfig { budget, timers: Timers::Quiescent, threads, ..Default::default() };
    let explore = spec(name).family.explore.expect("explorable");
    explore(&request, &config).expect("a valid request")
}

fn crashes(k: u32) -> Budget {
    Budget { crashes: k, ..Default::default() }
}

#[test]
fn two_pc_blocks_when_the_coordinator_crashes_with_a_shortest_counterexample() {
    let one = explore_with("2pc", 3, crashes(1), &["non-blocking"], 1);
    assert_eq!(one.verdict, Verdict::Violated);
    let c = one.counterexample.as_ref().expect("a counterexample");
    assert_eq!(c.property, "non-blocking");
    assert_eq!(c.steps.len(), pinned::TWO_PC_BLOCKED_STEPS);
    assert!(c.steps.iter().any(|s| s.contains("crash")), "a crash blocks 2PC: {:?}", c.steps);
    // Shortest: nothing is blocked one level earlier.
    let shallower = ExploreConfig {
        budget: crashes(1),
        timers: Timers::Quiescent,
        max_depth: Some(pinned::TWO_PC_BLOCKED_STEPS as u32 - 1),
        ..Default::default()
    };
    let scenario = Scenario::new("2pc", 3, 1, 1);
    let props = vec!["non-blocking".to_string()];
    let request = ExploreRequest::new("2pc", &scenario, &props);
    let cut = (spec("2pc").family.explore.unwrap())(&request, &shallower).unwrap();
    assert_eq!(cut.verdict, Verdict::Incomplete);
    // The same counts and counterexample on two threads.
    let two = explore_with("2pc", 3, crashes(1), &["non-blocking"], 2);
    assert_eq!((two.unique_states, two.states), (one.unique_states, one.states));
    assert_eq!(two.counterexample, one.counterexample);
}

#[test]
fn two_pc_without_faults_is_atomic_and_never_blocks() {
    let r = explore_with("2pc", 3, Budget::default(), &[], 1);
    assert_eq!(r.verdict, Verdict::Holds);
}

#[test]
fn three_pc_neither_blocks_nor_loses_atomicity_under_crashes() {
    let r = explore_with("3pc", 3, crashes(1), &[], 1);
    assert_eq!(r.verdict, Verdict::Holds, "{:?}", r.counterexample);
    assert_eq!(r.unique_states, pinned::THREE_PC_CRASH_UNIQUE);
}

#[test]
fn three_pc_loses_atomicity_under_one_partition() {
    let budget = Budget { partitions: 1, ..Default::default() };
    let r = explore_with("3pc", 3, budget, &[], 1);
    assert_eq!(r.verdict, Verdict::Violated);
    let c = r.counterexample.expect("a counterexample");
    assert_eq!(c.property, "atomicity");
    assert_eq!(c.steps.len(), pinned::THREE_PC_PARTITION_STEPS);
    assert!(c.steps.iter().any(|s| s.contains("partition")), "{:?}", c.steps);
}

/// Each broken variant of a commit family, with the smallest budget (at most two faults)
/// that exposes it.
#[test]
fn every_broken_variant_is_found_within_two_faults() {
    let budgets = |name: &str| match name {
        "broken-2pc-unilateral-abort" => crashes(1),
        "broken-2pc-unlogged-decision" => {
            Budget { crashes: 1, recoveries: 1, ..Default::default() }
        }
        "broken-3pc-all-uncertain-commit" => crashes(2),
        "broken-tla-two-phase-early-commit" => Budget::default(),
        other => panic!("no budget for broken variant {other}: add one here"),
    };
    // The commit families' (judged on atomicity); the sagas' are in
    // experiments/tests/explore_sagas.rs, the replicated logs' in explore_logs.rs.
    let broken: Vec<&str> = explorable()
        .iter()
        .filter(|s| !s.correct && s.has_property("atomicity"))
        .map(|s| s.name)
        .collect();
    assert!(broken.len() >= 4, "{broken:?}");
    for name in broken {
        let budget = budgets(name);
        let faults = budget.crashes
            + budget.recoveries
            + budget.drops
            + budget.duplicates
            + budget.partitions;
        assert!(faults <= 2);
        let r = explore_with(name, 2, budget, &["atomicity"], 1);
        assert_eq!(r.verdict, Verdict::Violated, "{name}");
        assert_eq!(r.counterexample.expect("a path").property, "atomicity", "{name}");
    }
}

#[test]
fn paxos_commit_is_atomic_and_non_blocking_with_one_crash() {
    let r = explore_with("paxos-commit", 2, crashes(1), &[], 1);
    assert_eq!(r.verdict, Verdict::Holds, "{:?}", r.counterexample);
    assert_eq!(r.unique_states, pinned::PAXOS_COMMIT_CRASH_UNIQUE);
}

#[test]
fn properties_are_checked_against_the_family() {
    let scenario = Scenario::new("2pc", 2, 1, 1);
    let explore = spec("2pc").family.explore.unwrap();
    let ask = |p: &str| {
        let props = vec![p.to_string()];
        let request = ExploreRequest::new("2pc", &scenario, &props);
        explore(&request, &ExploreConfig::default()).map(|_| ()).unwrap_err().to_string()
    };
    let typo = ask("atomicty");
    assert!(typo.contains("did you mean \"atomicity\""), "{typo}");
    let unchecked = ask("conservation");
    assert!(unchecked.contains("not checked by explore"), "{unchecked}");
}
