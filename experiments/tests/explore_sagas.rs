//! `commitlab explore` over both saga styles (the nodes `run` drives): each broken saga
//! variant found within two faults, by the property `check` catches it with, on a shortest
//! path; the correct styles holding under the same budgets, with their unique-state counts
//! pinned and the same on one and two threads; and an explored saga counterexample replayed
//! through `commitlab replay` to the same verdict and trace hash.
//!
//! The orchestrated saga is explored with every timing (any armed timer may fire next). The
//! choreographed one runs every event through retry loops on both sides of the broker, whose
//! rounds are independent of each other: with every timing, a fault-free two-step saga
//! already has more than 300,000 states, so it is explored with timeouts outlasting every
//! message delay (timer rule `quiescent`, the synchronous network), as the commit tests do.
//!
//! Counts depend on the protocols' behaviour: when a protocol change legitimately moves one,
//! re-pin it in [`pinned`] (and say why in the commit).

use clap::Parser;
use experiments::exit::Exit;
use experiments::explore::ExploreArgs;
use experiments::replay::ReplayArgs;

/// Every pinned count of this file, in one place.
mod pinned {
    /// The volatile orchestrator, 3 services, ≤ 1 crash and 1 recovery: BFS's shortest path
    /// to a saga-atomicity violation.
    pub const VOLATILE_STEPS: usize = 5;
    /// The lossy bus, 3 services, ≤ 1 drop (quiescent timers): BFS's shortest path to a saga
    /// that never ends.
    pub const LOSSY_STEPS: usize = 4;
    /// The orchestrated saga, 2 services, ≤ 1 crash and 1 recovery, explored to completion.
    pub const ORCHESTRATION_UNIQUE: u64 = 12_423;
    /// The orchestrated saga, 2 services, ≤ 2 drops: a request and its one retry can both be
    /// lost, which leaves the saga waiting on its spent retry loop (not judged: module docs of
    /// `protocols::saga::explore`).
    pub const ORCHESTRATION_TWO_DROPS_UNIQUE: u64 = 2_122;
    /// The lossy bus, 2 services, no fault, every timing: BFS's shortest path to a saga that
    /// never ends (an acknowledgement slower than the next event for the same subscriber).
    pub const LOSSY_NO_FAULT_STEPS: usize = 11;
    /// The choreographed saga, 2 services, ≤ 1 drop (quiescent timers), to completion.
    pub const CHOREOGRAPHY_DROP_UNIQUE: u64 = 1_738;
    /// The choreographed saga, 2 services, ≤ 1 crash and 1 recovery (quiescent timers).
    pub const CHOREOGRAPHY_CRASH_UNIQUE: u64 = 27_521;
}

/// `commitlab explore ARGS --json`: its exit and its JSON report.
fn explore(args: &[&str]) -> (Exit, serde_json::Value) {
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        explore: ExploreArgs,
    }
    let argv = [&["explore", "--json"][..], args].concat();
    let cli = Cli::try_parse_from(argv).expect("valid flags");
    let mut out = Vec::new();
    let exit = experiments::explore::main(&cli.explore, &mut out).expect("a valid request");
    let text = String::from_utf8(out).unwrap();
    (exit, serde_json::from_str(text.trim()).expect("one JSON object"))
}

fn steps(v: &serde_json::Value) -> usize {
    v["counterexample"].as_array().map_or(0, Vec::len)
}

const CRASH_AND_RECOVERY: [&str; 4] = ["--crashes", "1", "--recoveries", "1"];
const ONE_DROP: [&str; 2] = ["--drops", "1"];
const QUIESCENT: [&str; 2] = ["--timers", "quiescent"];

#[test]
fn the_volatile_orchestrator_loses_saga_atomicity_with_a_crash_and_its_recovery() {
    let args = [
        &["--protocol", "broken-saga-volatile-orchestrator", "--participants", "3"][..],
        &CRASH_AND_RECOVERY,
        &["--property", "saga-atomicity"],
    ]
    .concat();
    let (exit, v) = explore(&args);
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    assert_eq!((&v["verdict"], &v["property"]), (&"violated".into(), &"saga-atomicity".into()));
    assert_eq!(steps(&v), pinned::VOLATILE_STEPS, "{v}");
    let path = v["counterexample"].to_string();
    assert!(path.contains("\"crash") && path.contains("\"recover\""), "{path}");
    // Shortest: BFS finds nothing one level earlier.
    let depth = (pinned::VOLATILE_STEPS - 1).to_string();
    let (exit, cut) = explore(&[&args[..], &["--max-depth", &depth]].concat());
    assert_eq!((exit, &cut["verdict"]), (Exit::Success, &"incomplete".into()), "{cut}");
}

#[test]
fn the_lossy_bus_strands_a_saga_with_one_lost_delivery() {
    let args = [
        &["--protocol", "broken-saga-lossy-bus", "--participants", "3"][..],
        &ONE_DROP,
        &QUIESCENT,
        &["--property", "termination"],
    ]
    .concat();
    let (exit, v) = explore(&args);
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    assert_eq!((&v["verdict"], &v["property"]), (&"violated".into(), &"termination".into()));
    assert_eq!(steps(&v), pinned::LOSSY_STEPS, "{v}");
    assert!(v["counterexample"].to_string().contains("\"drop\""), "{v}");
    // What the bus loses is lost for good, but what ran, ran in order.
    let atomic = [&args[..args.len() - 1], &["saga-atomicity"]].concat();
    let (exit, v) = explore(&atomic);
    assert_eq!((exit, &v["verdict"]), (Exit::Success, &"holds".into()), "{v}");
    // With every timing it needs no fault at all: p1's acknowledgement of T1's event is
    // still on its way when p2 refuses T2, so the event asking p1 to compensate finds p1's
    // buffer full and is dropped by the bus itself.
    let args = ["--protocol", "broken-saga-lossy-bus", "--participants", "2"];
    let (exit, v) = explore(&[&args[..], &["--property", "termination"]].concat());
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    assert_eq!(steps(&v), pinned::LOSSY_NO_FAULT_STEPS, "{v}");
    let path = v["counterexample"].to_string();
    assert!(path.contains("\"choices\":[1]") && !path.contains("\"drop\""), "{path}");
    let durable = ["--protocol", "saga-choreography", "--participants", "2"];
    let (exit, v) = explore(&[&durable[..], &["--max-depth", "11"]].concat());
    assert_eq!(exit, Exit::Success, "the durable broker re-delivers: {v}");
}

/// Every broken saga variant, with the budget (at most two faults) and the property that
/// expose it; the correct style of the same family holds under that budget.
#[test]
fn every_broken_saga_variant_is_found_within_two_faults_and_its_correct_style_holds() {
    let cases: [(&str, &str, Vec<&str>, &str); 2] = [
        (
            "broken-saga-volatile-orchestrator",
            "saga-orchestration",
            CRASH_AND_RECOVERY.to_vec(),
            "saga-atomicity",
        ),
        (
            "broken-saga-lossy-bus",
            "saga-choreography",
            [ONE_DROP, QUIESCENT].concat(),
            "termination",
        ),
    ];
    let broken: Vec<&str> = protocols::catalog::explorable()
        .iter()
        .filter(|s| !s.correct && s.name.starts_with("broken-saga-"))
        .map(|s| s.name)
        .collect();
    assert_eq!(
        broken,
        cases.iter().map(|c| c.0).collect::<Vec<_>>(),
        "a broken saga variant without a case here"
    );
    for (variant, correct, budget, property) in &cases {
        let faults: u32 = budget
            .chunks(2)
            .filter(|f| f[0] != "--timers")
            .map(|f| f[1].parse::<u32>().unwrap())
            .sum();
        assert!(faults <= 2, "{variant}");
        for (name, found) in [(variant, true), (correct, false)] {
            let flag = ["--property", property];
            let args = [&["--protocol", name, "--participants", "2"][..], budget, &flag].concat();
            let (exit, v) = explore(&args);
            if found {
                assert_eq!(exit, Exit::PropertyFailed, "{name}: {v}");
                assert_eq!(v["property"], *property, "{name}");
            } else {
                assert_eq!((exit, &v["verdict"]), (Exit::Success, &"holds".into()), "{name}: {v}");
            }
        }
    }
}

/// The correct styles hold every saga property under the budgets that find the broken ones,
/// with the same counts on one and two threads.
#[test]
fn the_correct_saga_styles_hold_with_pinned_counts_on_one_and_two_threads() {
    let cases: [(&str, Vec<&str>, u64); 4] = [
        ("saga-orchestration", CRASH_AND_RECOVERY.to_vec(), pinned::ORCHESTRATION_UNIQUE),
        ("saga-orchestration", vec!["--drops", "2"], pinned::ORCHESTRATION_TWO_DROPS_UNIQUE),
        ("saga-choreography", [ONE_DROP, QUIESCENT].concat(), pinned::CHOREOGRAPHY_DROP_UNIQUE),
        (
            "saga-choreography",
            [&CRASH_AND_RECOVERY[..], &QUIESCENT].concat(),
            pinned::CHOREOGRAPHY_CRASH_UNIQUE,
        ),
    ];
    for (name, budget, unique) in cases {
        let args = [&["--protocol", name, "--participants", "2"][..], &budget].concat();
        let (exit, one) = explore(&args);
        assert_eq!((exit, &one["verdict"]), (Exit::Success, &"holds".into()), "{name}: {one}");
        assert_eq!(one["unique_states"], unique, "{name} {budget:?}");
        let (_, two) = explore(&[&args[..], &["--threads", "2"]].concat());
        for field in ["unique_states", "states", "max_depth", "verdict"] {
            assert_eq!(two[field], one[field], "{name} {budget:?}: {field}");
        }
    }
}

/// `explore --out` writes the volatile orchestrator's path; `commitlab replay` re-runs it
/// step by step through the same world: saga-atomicity violated again, same trace hash.
#[test]
fn an_explored_saga_counterexample_replays_with_the_same_verdict_and_hash() {
    let dir = std::env::temp_dir().join(format!("explore-sagas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.to_str().unwrap();
    let args = [
        &["--protocol", "broken-saga-volatile-orchestrator", "--participants", "2"][..],
        &CRASH_AND_RECOVERY,
        &["--property", "saga-atomicity", "--out", out],
    ]
    .concat();
    let (exit, v) = explore(&args);
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    let file = v["counterexample"].as_str().expect("the file's path").to_string();
    let hash = v["trace_hash"].as_u64().expect("the path's trace hash");
    let replay = ReplayArgs { file: file.clone().into(), diagram: None };
    let mut text = Vec::new();
    let exit = experiments::replay::main(&replay, &mut text).expect("reproduced");
    let text = String::from_utf8(text).unwrap();
    assert_eq!(exit, Exit::PropertyFailed, "{text}");
    assert!(text.contains(&format!("trace_hash={hash}")), "{text}");
    assert!(text.contains("same trace hash as recorded"), "{text}");
    assert!(text.contains("saga-atomicity violated after"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
