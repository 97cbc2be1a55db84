//! `commitlab run` and `commitlab list`, end to end through the binary: the JSON summary,
//! scenario files that round-trip, exports, exit codes, and bad input that names the
//! problem and leaves no file behind.

use std::path::Path;
use std::process::Command;

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["run", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = commitlab(&all);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(out.trim()).unwrap()
}

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_str().unwrap().to_string()
}

#[test]
fn json_summary_has_the_documented_fields_and_is_reproducible() {
    let v = json(&["--protocol", "2pc", "--txns", "6", "--seed", "3"]);
    for field in [
        "protocol",
        "seed",
        "trace_hash",
        "messages",
        "disk_writes",
        "committed",
        "aborted",
        "blocked",
        "verdicts",
        "decision_median_ms",
        "in_doubt_max_ms",
    ] {
        assert!(v.get(field).is_some(), "missing {field} in {v}");
    }
    assert_eq!(v["protocol"], "2pc");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["committed"].as_u64().unwrap() + v["aborted"].as_u64().unwrap(), 6);
    assert_eq!(v["blocked"], false);
    assert_eq!(v["verdicts"]["ac1-agreement"], "holds");
    assert_eq!(v["verdicts"].as_object().unwrap().len(), checkers::Property::ALL.len());
    assert_eq!(v["verdicts"]["saga-atomicity"], "not-applicable", "no saga in a 2PC run");
    assert_eq!(v["trace_hash"].as_str().unwrap().len(), 16);
    let again = json(&["--protocol", "2pc", "--txns", "6", "--seed", "3"]);
    assert_eq!(v, again, "same flags, same run");
}

#[test]
fn a_coordinator_crash_after_all_votes_blocks_2pc_but_not_3pc() {
    let two = json(&["--protocol", "2pc", "--crash", "coord@all-votes-in"]);
    assert_eq!(two["blocked"], true);
    assert_eq!(two["verdicts"]["non-blocking"], "violated");
    assert!(!two["blocked_participants"].as_array().unwrap().is_empty());
    assert!(two["blocked_participants"][0].as_str().unwrap().contains("waiting on down n0"));
    let three = json(&["--protocol", "3pc", "--crash", "coord@all-votes-in"]);
    assert_eq!(three["blocked"], false);
    assert_eq!(three["verdicts"]["ac1-agreement"], "holds");
}

#[test]
fn a_safety_violation_exits_1() {
    let (code, out, err) = commitlab(&[
        "run",
        "--protocol",
        "broken-2pc-unilateral-abort",
        "--crash",
        "coord@decision-sent-to-first+2000",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("ac1-agreement") && out.contains("violated"), "{out}");
}

#[test]
fn scenario_files_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let saved = path(&dir, "s.toml");
    let first = json(&[
        "--protocol",
        "3pc",
        "--participants",
        "4",
        "--txns",
        "5",
        "--in-flight",
        "2",
        "--seed",
        "9",
        "--latency-ms",
        "2-6",
        "--drop",
        "0.05",
        "--crash",
        "coord@precommit-sent-to-first+50",
        "--save-scenario",
        &saved,
    ]);
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("protocol = \"3pc\""), "{text}");
    let second = json(&["--scenario", &saved]);
    assert_eq!(first, second, "the saved scenario is the same run");
    // Flags override the file's fields.
    let other = json(&["--scenario", &saved, "--seed", "10"]);
    assert_eq!(other["seed"], 10);
    assert_ne!(other["trace_hash"], first["trace_hash"]);
    // Saving the loaded file again gives the same text.
    let resaved = path(&dir, "s2.toml");
    json(&["--scenario", &saved, "--save-scenario", &resaved]);
    assert_eq!(text, std::fs::read_to_string(&resaved).unwrap());
}

#[test]
fn exports_trace_diagrams_and_shiviz() {
    let dir = tempfile::tempdir().unwrap();
    let (jsonl, svg, mmd, shiviz) =
        (path(&dir, "t.jsonl"), path(&dir, "d.svg"), path(&dir, "d.mmd"), path(&dir, "s.log"));
    let crash = ["--txns", "2", "--crash", "coord@decision-logged+20"];
    let mut args = vec!["run", "--trace", &jsonl, "--diagram", &svg, "--shiviz", &shiviz];
    args.extend_from_slice(&crash);
    let (code, _, err) = commitlab(&args);
    assert_eq!(code, 0, "{err}");
    let mut args = vec!["run", "--diagram", &mmd];
    args.extend_from_slice(&crash);
    assert_eq!(commitlab(&args).0, 0);
    let lines = std::fs::read_to_string(&jsonl).unwrap();
    assert!(lines.lines().count() > 20);
    assert!(lines.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    assert!(std::fs::read_to_string(&mmd).unwrap().contains("sequenceDiagram"));
    assert!(!std::fs::read_to_string(&shiviz).unwrap().is_empty());
}

/// Runs `args` (with `--trace OUT`), expects exit 2 with `needle` on stderr, and no OUT.
fn rejects(args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = path(&dir, "out.jsonl");
    let mut all = vec!["run", "--trace", &out];
    all.extend_from_slice(args);
    let (code, stdout, err) = commitlab(&all);
    assert_eq!(code, 2, "{args:?}: {stdout}{err}");
    assert!(err.contains(needle), "{args:?}: {err:?} should name {needle:?}");
    assert!(!Path::new(&out).exists(), "{args:?} left {out} behind");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{args:?} left files: {left:?}");
}

#[test]
fn bad_flags_exit_2_naming_the_problem() {
    rejects(&["--protocol", "4pc"], "4pc");
    rejects(&["--drop", "1.5"], "--drop");
    rejects(&["--dup=-0.1"], "--dup");
    rejects(&["--latency-ms", "fast"], "--latency-ms");
    rejects(&["--crash", "coord"], "--crash");
    rejects(&["--crash", "p7@voted-yes"], "p7");
    rejects(&["--workload", "lottery"], "--workload");
    rejects(&["--participants", "0"], "participants");
    rejects(&["--diagram", "x.png"], "--diagram");
    rejects(&["--txns", "many"], "--txns");
    rejects(&["--plan", "/nonexistent/plan.json"], "plan");
}

#[test]
fn bad_scenario_files_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = path(&dir, name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let base =
        "protocol = \"2pc\"\nparticipants = 3\ntxns = 2\nseed = 1\nfault_horizon_us = 1000000\n";
    let unknown = write("unknown.toml", &format!("{base}colour = \"blue\"\n"));
    rejects(&["--scenario", &unknown], "colour");
    let wrong_type = write("type.toml", &base.replace("txns = 2", "txns = \"two\""));
    rejects(&["--scenario", &wrong_type], "txns");
    let bad_prob = write(
        "prob.toml",
        &format!(
            "{base}[network.default]\nlatency = {{ dist = \"constant\", us = 5 }}\ndrop_prob = 2.0\n"
        ),
    );
    rejects(&["--scenario", &bad_prob], "drop_prob");
    let missing = write("missing.toml", &base.replace("seed = 1\n", ""));
    rejects(&["--scenario", &missing], "seed");
    rejects(&["--scenario", "/nonexistent/s.toml"], "/nonexistent/s.toml");
    // A good file runs.
    let good = write("good.toml", base);
    assert_eq!(commitlab(&["run", "--scenario", &good]).0, 0);
}

#[test]
fn list_names_every_protocol_property_fault_kind_and_experiment() {
    let (code, out, err) = commitlab(&["list"]);
    assert_eq!(code, 0, "{err}");
    for spec in protocols::catalog() {
        assert!(out.contains(spec.name), "{} missing", spec.name);
    }
    for p in checkers::Property::ALL {
        assert!(out.contains(p.name()), "{} missing", p.name());
    }
    for f in sim_core::FaultClass::ALL {
        assert!(out.contains(f.name()), "{} missing", f.name());
    }
    for name in
        ["study coordinator-failure", "sweep partition", "sweep scaling", "sweep throughput"]
    {
        assert!(out.contains(name), "{name} missing");
    }
}

/// A run its event budget cuts short says so: `inconclusive` with the reason, the properties
/// that need a finished run `inconclusive`, safety judged over what ran, exit 0 (no safety
/// property was violated).
#[test]
fn a_run_cut_short_by_its_event_budget_is_inconclusive() {
    let (code, out, err) = commitlab(&["run", "--json", "--max-events", "50"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["inconclusive"], "event budget of 50 events exhausted in the fault phase");
    for p in ["ac5-termination", "non-blocking", "durability", "conservation"] {
        assert_eq!(v["verdicts"][p], "inconclusive", "{p}: {v}");
    }
    assert_eq!(v["verdicts"]["ac1-agreement"], "holds");
    assert_eq!(v["blocked"], false, "not judged, so not blocked");
    let (code, text, _) = commitlab(&["run", "--max-events", "50"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("inconclusive: event budget of 50 events exhausted in the fault phase"),
        "{text}"
    );
    // A run that ran its course has no such field.
    assert!(json(&[]).get("inconclusive").is_none());
    let (code, _, err) = commitlab(&["run", "--max-events", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-events"), "{err}");
}
