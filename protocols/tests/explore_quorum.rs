//! The explorer over the quorum commit families (Skeen's quorum-based 3PC and E3PC), with
//! elections bounded by round (`quorum_commit::explore::MAX_ROUND`) and
//! `quorum-non-blocking` judged on terminal states.
//!
//! Counts depend on the protocols' behaviour: when a protocol change legitimately moves
//! one, re-pin it in [`pinned`] (and say why in the commit).

use protocols::Scenario;
use protocols::catalog::explorable;
use protocols::explore::ExploreRequest;
use sim_core::explore::{Budget, ExploreConfig, ExploreReport, Timers, Verdict};

/// Every pinned count of this file, in one place.
mod pinned {
    /// 3 participants, ≤ 1 crash, timers quiescent, explored to completion.
    pub const QUORUM_3PC_CRASH_UNIQUE: u64 = 24_398;
    /// The same for E3PC: one crash never leaves pc and pa side by side, so both rules
    /// take the same steps.
    pub const E3PC_CRASH_UNIQUE: u64 = 24_398;
}

fn explore(name: &str, budget: Budget, properties: &[&str]) -> ExploreReport {
    let spec = explorable().iter().find(|s| s.name == name).expect("explorable");
    let scenario = Scenario::new(name, 3, 1, 1);
    let properties: Vec<String> = properties.iter().map(|p| p.to_string()).collect();
    let request = ExploreRequest::new(name, &scenario, &properties);
    let config = ExploreConfig { budget, timers: Timers::Quiescent, ..Default::default() };
    (spec.family.explore.expect("explorable"))(&request, &config).expect("a valid request")
}

/// Under crashes alone both quorum 3PCs are atomic and a connected quorum never waits; a
/// crashed coordinator blocks nobody who can reach a quorum (plain `non-blocking` is not
/// asked: a participant cut off with the crashed coordinator's last word may wait).
#[test]
fn both_quorum_3pcs_hold_under_one_crash() {
    let props = ["atomicity", "quorum-non-blocking"];
    let crash = Budget { crashes: 1, ..Default::default() };
    let skeen = explore("quorum-3pc", crash, &props);
    assert_eq!(skeen.verdict, Verdict::Holds, "{:?}", skeen.counterexample);
    assert_eq!(skeen.unique_states, pinned::QUORUM_3PC_CRASH_UNIQUE);
    let e3pc = explore("e3pc", crash, &props);
    assert_eq!(e3pc.verdict, Verdict::Holds, "{:?}", e3pc.counterexample);
    assert_eq!(e3pc.unique_states, pinned::E3PC_CRASH_UNIQUE);
}

/// One partition is enough to block a participant cut off alone: plain `non-blocking`,
/// which quorum commit does not promise (`quorum-non-blocking` and atomicity hold for both
/// families over the 440,840 states of one partition: README, too slow for a debug test).
#[test]
fn a_participant_cut_off_alone_waits() {
    let split = Budget { partitions: 1, ..Default::default() };
    let r = explore("quorum-3pc", split, &["non-blocking"]);
    assert_eq!(r.verdict, Verdict::Violated);
    assert!(r.counterexample.expect("a path").steps.iter().any(|s| s.contains("partition")));
}
