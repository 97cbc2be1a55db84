//! `commitlab check` and `commitlab replay` through the binary: exit codes, files written,
//! and replays that reproduce the recorded trace hash.

use std::process::Command;

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_counterexample_exits_1_writes_its_files_and_replays_to_the_same_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let (code, out, err) = commitlab(&[
        "check",
        "--protocol",
        "2pc",
        "--property",
        "non-blocking",
        "--faults",
        "crash",
        "--out",
        out_dir,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("COUNTEREXAMPLE after"), "{out}");
    assert!(out.contains("1. at n0's 1st prepare-sent: crash n0 (no recovery)"), "{out}");
    assert!(out.contains("verdict: non-blocking VIOLATED"), "{out}");
    assert!(out.contains("```mermaid\nsequenceDiagram"), "{out}");
    // Protocol words, and a blocked participant's retries drawn once with their count.
    assert!(out.contains(": VOTE t1 yes"), "{out}");
    assert!(out.contains("DECISION-REQUEST t1 (receiver down) ×"), "{out}");
    assert!(out.contains("Note over p1: UNCERTAIN t1"), "{out}");
    assert!(!out.contains("more lines not shown"), "{out}");
    let json = dir.path().join("2pc-non-blocking.json");
    assert!(
        out.contains(&format!("replay: cargo run --release -- replay {}", json.display())),
        "{out}"
    );
    for ext in ["json", "mmd", "svg"] {
        assert!(dir.path().join(format!("2pc-non-blocking.{ext}")).exists(), "{ext}");
    }
    let hash = out.lines().find_map(|l| l.strip_prefix("trace_hash=")).unwrap().to_string();

    let (code, replayed, err) = commitlab(&["replay", json.to_str().unwrap()]);
    assert_eq!(code, 1, "still a counterexample: {err}");
    assert_eq!(replayed.lines().next().unwrap(), format!("trace_hash={hash}"));
    assert!(replayed.contains("same trace hash as recorded"));
    assert!(replayed.contains("verdict: non-blocking VIOLATED"));

    // The replayed run drawn: the same space-time diagram `check` wrote.
    let drawn = dir.path().join("replayed.svg");
    let (code, replayed, err) =
        commitlab(&["replay", json.to_str().unwrap(), "--diagram", drawn.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(replayed.contains(&format!("diagram: {}", drawn.display())), "{replayed}");
    let svg = std::fs::read_to_string(&drawn).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..40]);
    assert!(svg.contains("PREPARE"), "the protocol's words are drawn");
    // A drawing it cannot make is refused before anything runs, and nothing is written.
    let bad = dir.path().join("replayed.png");
    let (code, _, err) =
        commitlab(&["replay", json.to_str().unwrap(), "--diagram", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("expected a .svg or .mmd file"), "{err}");
    assert!(!bad.exists());
}

#[test]
fn no_counterexample_exits_0_and_says_how_many_cases_ran() {
    let (code, out, err) = commitlab(&[
        "check",
        "--protocol",
        "3pc",
        "--property",
        "non-blocking",
        "--faults",
        "crash",
        "--cases",
        "500",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("no counterexample in 500 cases: non-blocking held"), "{out}");
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["check", "--protocol", "4pc", "--property", "atomicity"],
            "--protocol: unknown protocol \"4pc\"",
        ),
        (
            &["check", "--protocol", "2pc", "--property", "liveness"],
            "--property: unknown property \"liveness\"",
        ),
        (
            &["check", "--protocol", "2pc", "--property", "atomicity", "--faults", "meteor"],
            "--faults",
        ),
        (&["check", "--protocol", "2pc", "--property", "atomicity", "--cases", "0"], "--cases"),
        (&["replay", "/nonexistent/cx.json"], "cannot read /nonexistent/cx.json"),
    ];
    for (args, needle) in cases {
        let (code, _, err) = commitlab(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"property": "atomicity"}"#).unwrap();
    let (code, _, err) = commitlab(&["replay", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a counterexample file") && err.contains("missing field"), "{err}");
}
