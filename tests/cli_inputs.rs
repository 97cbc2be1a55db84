//! Bad input on the command line: every case exits 2 with a message that names the problem
//! (and, for a mistyped name, the closest valid one). Nothing runs half-way.

use std::process::Command;

fn commitlab(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

fn rejects(args: &[&str], needles: &[&str]) {
    let (code, text) = commitlab(args);
    assert_eq!(code, Some(2), "{args:?} must exit 2:\n{text}");
    for n in needles {
        assert!(text.contains(n), "{args:?}: expected {n:?} in:\n{text}");
    }
}

#[test]
fn mistyped_names_get_the_closest_valid_one() {
    rejects(&["run", "--protocol", "3PC"], &["unknown protocol \"3PC\"", "did you mean \"3pc\""]);
    rejects(&["check", "--protocol", "paxos", "--property", "atomicity"], &["\"paxos-commit\""]);
    rejects(
        &["check", "--protocol", "2pc", "--property", "non-blockin"],
        &["unknown property", "did you mean \"non-blocking\""],
    );
    rejects(&["run", "--protocol", "paxos-commit", "--set", "ff=2"], &["did you mean \"f\""]);
}

#[test]
fn a_crash_mark_the_node_never_emits_is_refused() {
    rejects(
        &["run", "--crash", "coord@all-vote-in"],
        &["never emits mark \"all-vote-in\"", "did you mean \"all-votes-in\""],
    );
    // A 2PC mark on 3PC's coordinator.
    rejects(&["run", "--protocol", "3pc", "--crash", "coord@prepare-sent"], &["can-commit-sent"]);
    rejects(&["run", "--crash", "p9@voted-yes"], &["participants are p1..p3"]);
}

#[test]
fn nonsense_values_and_ignored_flags_are_refused() {
    rejects(&["run", "--txns", "0"], &["--txns"]);
    rejects(&["study", "coordinator-failure", "--txns", "0"], &["--txns"]);
    rejects(&["study", "coordinator-failure", "--seeds", "0"], &["--seeds"]);
    rejects(&["sweep", "partition", "--seeds", "0"], &["--seeds"]);
    // The Gray-Lamport sweep is deterministic: it offers no seed flags to ignore.
    rejects(&["sweep", "gray-lamport", "--seeds", "50"], &["--seeds"]);
    rejects(&["run", "--protocol", "paxos-commit", "--set", "f=-1"], &["family.f"]);
    rejects(&["run", "--protocol", "3pc", "--set", "f=1"], &["has no settings"]);
}

#[test]
fn properties_that_do_not_apply_are_refused() {
    rejects(
        &["check", "--protocol", "2pc", "--property", "saga-atomicity"],
        &["does not apply to 2pc"],
    );
}

fn temp_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_plan_mark_the_node_never_emits_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plan = temp_file(
        &dir,
        "plan.json",
        r#"{"faults": [{"trigger": {"on": "mark", "node": 0, "mark": "all-vote-in", "nth": 1},
                        "action": {"do": "crash", "node": 0}}]}"#,
    );
    rejects(
        &["run", "--plan", &plan],
        &["--plan", "fault 1 of the plan", "never emits mark \"all-vote-in\"", "all-votes-in"],
    );
    let scenario = temp_file(
        &dir,
        "s.toml",
        "protocol = \"3pc\"\nparticipants = 3\ntxns = 2\nseed = 1\nfault_horizon_us = 1000000\n\n[[plan.faults]]\n\
         trigger = { on = \"mark\", node = 0, mark = \"prepare-sent\", nth = 1 }\n\
         action = { do = \"crash\", node = 0 }\n",
    );
    rejects(
        &["run", "--scenario", &scenario],
        &["--scenario", "never emits mark \"prepare-sent\""],
    );
    // A scenario file is held to the bound the flags are (1..=64 participants): before, a file
    // could ask for any number while `--participants 100` was refused.
    let crowded = temp_file(
        &dir,
        "crowded.toml",
        "protocol = \"2pc\"\nparticipants = 100\ntxns = 1\nseed = 1\nfault_horizon_us = 1000000\n",
    );
    rejects(&["run", "--scenario", &crowded], &["participants", "must be within 1..=64"]);
    rejects(&["run", "--participants", "100"], &["--participants", "1..=64"]);
}

#[test]
fn run_reports_whether_each_fault_fired_and_when() {
    // The first crash fires on the first transaction; the 99th all-votes-in of a 10-transaction
    // run never comes.
    let args = ["run", "--crash", "coord@all-votes-in+50", "--crash", "p1@voted-yes#99"];
    let (code, text) = commitlab(&[&args[..], &["--json"]].concat());
    assert_eq!(code, Some(0), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let faults = v["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 2, "{text}");
    assert_eq!(faults[0]["fired"], true);
    assert!(faults[0]["at_us"].as_u64().unwrap() > 0, "{text}");
    assert_eq!(
        faults[0]["fault"],
        "at coord's 1st all-votes-in: crash coord, recover 50000us later"
    );
    assert_eq!(faults[1]["fired"], false);
    assert!(faults[1]["at_us"].is_null(), "{text}");

    let (code, text) = commitlab(&args);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("warning: fault 2 never fired: at p1's 99th voted-yes"), "{text}");
    assert!(!text.contains("warning: fault 1"), "{text}");
}

#[test]
fn io_errors_name_the_path_and_what_was_written() {
    rejects(
        &["run", "--txns", "1", "--diagram", "/proc/x.svg"],
        &["cannot write the diagram (--diagram) to /proc/x.svg"],
    );
    let dir = tempfile::tempdir().unwrap();
    let file = temp_file(&dir, "a-file", "not a directory");
    let (code, text) = commitlab(&[
        "study",
        "coordinator-failure",
        "--seeds",
        "1",
        "--txns",
        "1",
        "--no-plots",
        "--out",
        &file,
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains(&format!("cannot create directory {file}")), "{text}");
    assert!(text.contains("cannot write the CSV results"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    let (code, text) = commitlab(&[
        "check",
        "--protocol",
        "2pc",
        "--property",
        "non-blocking",
        "--cases",
        "200",
        "--out",
        &file,
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("cannot write the counterexample"), "{text}");
    assert!(text.contains(&format!("cannot create directory {file}")), "{text}");
}

#[test]
fn help_lists_come_from_the_catalogs() {
    let (code, text) = commitlab(&["check", "--help"]);
    assert_eq!(code, Some(0));
    for p in
        ["atomicity", "non-blocking", "termination", "durability", "conservation", "saga-atomicity"]
    {
        assert!(text.contains(p), "check --help lacks {p}:\n{text}");
    }
    assert!(text.contains("clock-drift"), "{text}");
    for args in [&["sweep", "--help"][..], &["--help"][..]] {
        let (_, text) = commitlab(args);
        for s in ["partition", "scaling", "throughput", "gray-lamport"] {
            assert!(text.contains(s), "{args:?} lacks {s}:\n{text}");
        }
    }
    rejects(
        &["check", "--protocol", "2pc", "--property", "atomicity", "--faults", "crash,partiton"],
        &["--faults: unknown fault class \"partiton\"", "did you mean \"partition\""],
    );
    let (_, text) =
        commitlab(&["check", "--protocol", "2pc", "--property", "atomicity", "--faults", "x"]);
    assert!(!text.contains("is invalid"), "{text}");
}

#[test]
fn list_names_the_explorable_protocols_and_models() {
    let (code, text) = commitlab(&["list"]);
    assert_eq!(code, Some(0), "{text}");
    let section = text.split("explorable with").nth(1).expect("an explorable section");
    assert!(section.contains("tla-two-phase"), "{text}");
    assert!(section.contains("broken-tla-two-phase-early-commit"), "{text}");
}

#[test]
fn saga_steps_outside_their_bounds_are_refused_and_order_sagas_run() {
    let saga = ["run", "--protocol", "saga-orchestration"];
    rejects(&[&saga[..], &["--steps", "0"]].concat(), &["workload.steps = 0", "1..=16"]);
    rejects(&[&saga[..], &["--steps", "4"]].concat(), &["workload.steps = 4", "own participant"]);
    rejects(&["run", "--workload", "spread", "--steps", "3"], &["--steps", "spread"]);
    rejects(&["run", "--workload", "orders"], &["expected bank, order or spread"]);
    rejects(&["bench", "search", "--seeds", "0"], &["--seeds"]);
    let (code, text) = commitlab(&[&saga[..], &["--workload", "order", "--txns", "3"]].concat());
    assert_eq!(code, Some(0), "{text}");
}
