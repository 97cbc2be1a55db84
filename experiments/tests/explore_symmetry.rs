//! `explore --symmetry` over the commit families' real nodes is sound: with 3 participants
//! and one fault, every 2PC variant (correct or broken) gets the same verdict and the same
//! violated property with and without it, in strictly fewer unique states and no fewer
//! than the orbit bound (states without / N!); the counts are the same on 1 and 2 threads;
//! a counterexample found with it is a concrete path that `commitlab replay` reproduces.
//!
//! Counts depend on the protocols' behaviour: when a protocol change legitimately moves
//! one, re-pin it in [`pinned`] (and say why in the commit).

use experiments::exit::Exit;
use experiments::explore::{ExploreArgs, LinksArg, StrategyArg, TimersArg, main, run};
use experiments::replay::ReplayArgs;
use sim_core::explore::{ExploreReport, Verdict};

/// Every pinned count of this file: `(variant, property violated, unique states without,
/// with --symmetry)`, 3 participants, one crash, `--timers quiescent`, every property.
mod pinned {
    pub const TWO_PC_ONE_CRASH: &[(&str, Option<&str>, u64, u64)] = &[
        ("2pc", Some("non-blocking"), 14_205, 2_981),
        ("2pc-presumed-abort", Some("non-blocking"), 10_411, 2_229),
        ("2pc-no-cooperative-termination", Some("non-blocking"), 3_853, 877),
        ("broken-2pc-unilateral-abort", Some("atomicity"), 3_128, 707),
        ("broken-2pc-unlogged-decision", Some("non-blocking"), 13_478, 2_834),
    ];
    /// The same, checking `atomicity` only, for every variant that keeps it: complete
    /// searches (`holds`).
    pub const TWO_PC_ONE_CRASH_ATOMIC: &[(&str, u64, u64)] = &[
        ("2pc", 14_205, 2_981),
        ("2pc-presumed-abort", 10_411, 2_229),
        ("2pc-no-cooperative-termination", 7_594, 1_743),
        ("broken-2pc-unlogged-decision", 13_478, 2_834),
    ];
}

/// 3! renamings of 3 participants.
const RENAMINGS: u64 = 6;

fn args(protocol: &str, crashes: u32, recoveries: u32, symmetry: bool) -> ExploreArgs {
    ExploreArgs {
        protocol: protocol.into(),
        participants: 3,
        txns: 1,
        properties: Vec::new(),
        crashes,
        recoveries,
        drops: 0,
        duplicates: 0,
        partitions: 0,
        strategy: StrategyArg::Bfs,
        timers: TimersArg::Quiescent,
        links: LinksArg::Reorder,
        delays: None,
        max_round: None,
        client_retries: None,
        max_states: None,
        max_depth: None,
        threads: 1,
        symmetry,
        json: true,
        out: None,
    }
}

fn explore(a: &ExploreArgs) -> ExploreReport {
    run(a, None).unwrap_or_else(|e| panic!("{}: {e}", a.protocol))
}

fn property(r: &ExploreReport) -> Option<&str> {
    r.counterexample.as_ref().map(|c| c.property.as_str())
}

#[test]
fn every_2pc_variant_keeps_its_verdict_in_fewer_states() {
    let mut measured = Vec::new();
    for &(variant, ..) in pinned::TWO_PC_ONE_CRASH {
        let full = explore(&args(variant, 1, 0, false));
        let reduced = explore(&args(variant, 1, 0, true));
        assert_eq!(reduced.verdict, full.verdict, "{variant}");
        assert_eq!(property(&reduced), property(&full), "{variant}");
        assert!(reduced.unique_states < full.unique_states, "{variant}");
        let found = pinned::TWO_PC_ONE_CRASH.iter().flat_map(|p| p.1);
        let violated = found.into_iter().find(|&p| Some(p) == property(&full));
        measured.push((variant, violated, full.unique_states, reduced.unique_states));
    }
    assert_eq!(measured, pinned::TWO_PC_ONE_CRASH);
    let broken = measured.iter().filter(|m| m.0.starts_with("broken-")).count();
    assert_eq!(broken, 2, "every broken 2PC variant is compared");
}

/// Complete searches: the reduced one keeps at least one state per orbit of the full one.
#[test]
fn complete_searches_keep_the_orbit_bound() {
    let mut measured = Vec::new();
    for &(variant, ..) in pinned::TWO_PC_ONE_CRASH_ATOMIC {
        let atomicity = |symmetry| ExploreArgs {
            properties: vec!["atomicity".into()],
            ..args(variant, 1, 0, symmetry)
        };
        let full = explore(&atomicity(false));
        let reduced = explore(&atomicity(true));
        assert_eq!((full.verdict, reduced.verdict), (Verdict::Holds, Verdict::Holds), "{variant}");
        assert!(reduced.unique_states < full.unique_states, "{variant}");
        assert!(reduced.unique_states * RENAMINGS >= full.unique_states, "{variant}");
        measured.push((variant, full.unique_states, reduced.unique_states));
    }
    assert_eq!(measured, pinned::TWO_PC_ONE_CRASH_ATOMIC);
}

/// The unlogged decision needs a recovery to show: with one crash and one recovery it is
/// found with and without `--symmetry`, violating the same property.
#[test]
fn the_unlogged_decision_is_found_with_symmetry() {
    let full = explore(&args("broken-2pc-unlogged-decision", 1, 1, false));
    let reduced = explore(&args("broken-2pc-unlogged-decision", 1, 1, true));
    assert_eq!(full.verdict, Verdict::Violated);
    assert_eq!(reduced.verdict, Verdict::Violated);
    assert_eq!(property(&reduced), Some("atomicity"));
    assert_eq!(property(&reduced), property(&full));
    // BFS: both are shortest, so equally long.
    let len = |r: &ExploreReport| r.counterexample.as_ref().map(|c| c.steps.len());
    assert_eq!(len(&reduced), len(&full));
}

#[test]
fn symmetry_gives_the_same_result_on_one_and_two_threads() {
    for variant in ["2pc", "broken-2pc-unilateral-abort"] {
        let one = explore(&args(variant, 1, 0, true));
        let two = explore(&ExploreArgs { threads: 2, ..args(variant, 1, 0, true) });
        assert_eq!((two.unique_states, two.states), (one.unique_states, one.states), "{variant}");
        assert_eq!(two.verdict, one.verdict, "{variant}");
        assert_eq!(two.counterexample, one.counterexample, "{variant}");
    }
}

/// The path written is the one the search walked (never a renamed one): `replay` applies
/// it step by step to the initial world and reaches the same violation and trace hash.
#[test]
fn a_counterexample_found_with_symmetry_replays() {
    let dir = std::env::temp_dir().join(format!("commitlab-xsym-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let a =
        ExploreArgs { out: Some(dir.clone()), ..args("broken-2pc-unilateral-abort", 1, 0, true) };
    let mut out = Vec::new();
    assert!(matches!(main(&a, &mut out).unwrap(), Exit::PropertyFailed));
    let summary: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let file = summary["counterexample"].as_str().expect("a counterexample file").to_string();
    let mut replayed = Vec::new();
    let exit = experiments::replay::main(
        &ReplayArgs { file: file.clone().into(), diagram: None },
        &mut replayed,
    )
    .unwrap();
    let replayed = String::from_utf8(replayed).unwrap();
    assert!(matches!(exit, Exit::PropertyFailed), "{replayed}");
    assert!(replayed.contains("same trace hash as recorded"), "{replayed}");
    assert!(replayed.contains("atomicity violated"), "{replayed}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn symmetry_is_refused_where_it_is_not_supported_or_not_exact() {
    let refused = |a: ExploreArgs| run(&a, None).expect_err("refused").to_string();
    let e = refused(args("3pc", 1, 0, true));
    assert!(e.contains("not supported for this family") && e.contains("2pc"), "{e}");
    let e = refused(ExploreArgs { participants: 7, ..args("2pc", 0, 0, true) });
    assert!(e.contains("at most 6"), "{e}");
    // Participants offered different votes are not interchangeable.
    let mut scenario = protocols::Scenario::new("2pc", 3, 1, 1);
    scenario.votes = protocols::workload::VotePolicy::always_no(sim_core::NodeId(2));
    let request = protocols::explore::ExploreRequest {
        symmetry: true,
        ..protocols::explore::ExploreRequest::new("2pc", &scenario, &[])
    };
    let spec = protocols::catalog::explorable().iter().find(|s| s.name == "2pc").unwrap();
    let config = sim_core::explore::ExploreConfig::default();
    let e = (spec.family.explore.unwrap())(&request, &config).expect_err("refused").to_string();
    assert!(e.contains("participant 2 does not start as participant 1"), "{e}");
}
