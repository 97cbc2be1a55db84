//! `commitlab study coordinator-failure`, end to end through the binary: the CSV's columns
//! and row order, byte-identical output on 1 and 2 threads, the blocking it must find, and
//! bad flags.

use std::process::Command;

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const COLUMNS: &str = "protocol,participants,crash_point,recovery_ms,runs,crashed_runs,committed,aborted,blocked_runs,atomicity_violations,termination_failures,inconclusive_runs,mean_decision_ms,median_decision_ms,p99_decision_ms,mean_in_doubt_ms,max_in_doubt_ms,mean_lock_held_ms,messages_per_txn,disk_writes_per_txn,mean_anomaly_ms,anomalous_reads_per_run";

fn study(dir: &std::path::Path, threads: &str) -> (String, String, String) {
    let out = dir.to_str().unwrap();
    let (code, stdout, err) = commitlab(&[
        "study",
        "coordinator-failure",
        "--seeds",
        "6",
        "--threads",
        threads,
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    (read("coordinator_failure.csv"), read("blocked_by_crash_point.svg"), stdout)
}

#[test]
fn the_study_is_byte_identical_on_one_and_two_threads_and_finds_2pc_blocking() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (csv1, svg1, summary) = study(a.path(), "1");
    let (csv2, svg2, _) = study(b.path(), "2");
    assert_eq!(csv1, csv2, "CSV differs between --threads 1 and 2");
    assert_eq!(svg1, svg2, "plot differs between --threads 1 and 2");
    assert!(b.path().join("in_doubt_vs_recovery.svg").exists());
    let no_temp = std::fs::read_dir(a.path())
        .unwrap()
        .all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
    assert!(no_temp, "a temporary file was left behind");

    let mut lines = csv1.lines();
    assert_eq!(lines.next().unwrap(), COLUMNS);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Rows: every correct protocol in catalog order × its coordinator marks × 4 recoveries.
    let mut expected = Vec::new();
    for spec in protocols::catalog().iter().filter(|s| s.correct) {
        for mark in spec.coordinator_marks() {
            for rec in ["", "10", "100", "1000"] {
                expected.push((spec.name, *mark, rec));
            }
        }
    }
    let got: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[2], r[3])).collect();
    assert_eq!(got, expected);
    let col = |name: &str| COLUMNS.split(',').position(|c| c == name).unwrap();
    let cell = |protocol: &str, mark: &str, rec: &str, column: &str| -> u64 {
        let r = rows.iter().find(|r| r[0] == protocol && r[2] == mark && r[3] == rec).unwrap();
        r[col(column)].parse().unwrap()
    };
    for r in &rows {
        // Every listed mark is real: the coordinator reached it and crashed in every run.
        assert_eq!(r[col("crashed_runs")], r[col("runs")], "{r:?}");
        assert_eq!(r[col("atomicity_violations")], "0", "{r:?}");
        assert_eq!(r[col("inconclusive_runs")], "0", "no run was cut short: {r:?}");
    }
    assert_eq!(cell("2pc", "all-votes-in", "", "blocked_runs"), 6, "2PC blocks");
    assert_eq!(cell("2pc", "all-votes-in", "10", "blocked_runs"), 0, "until recovery");
    for r in rows.iter().filter(|r| r[0] == "3pc") {
        assert_eq!(r[col("blocked_runs")], "0", "3PC never blocks under a crash: {r:?}");
    }
    // Cooperative termination saves a participant that can ask one who knows.
    assert_eq!(cell("2pc", "decision-sent-to-first", "", "blocked_runs"), 0);
    assert_eq!(
        cell("2pc-no-cooperative-termination", "decision-sent-to-first", "", "blocked_runs"),
        6
    );
    // The in-doubt time grows with the recovery delay.
    let doubt = |rec: &str| -> f64 {
        let r =
            rows.iter().find(|r| r[0] == "2pc" && r[2] == "all-votes-in" && r[3] == rec).unwrap();
        r[col("mean_in_doubt_ms")].parse().unwrap()
    };
    assert!(
        doubt("10") < doubt("100") && doubt("100") < doubt("1000") && doubt("1000") < doubt("")
    );
    assert!(summary.contains("| 3pc | no (0 of"), "{summary}");
    assert!(summary.contains("| 2pc | yes"), "{summary}");
}

#[test]
fn bad_study_flags_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let out = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--seeds", "0"], "--seeds"),
        (vec!["--threads", "0"], "--threads"),
        (vec!["--participants", "1"], "participants"),
        (vec!["--seeds", "x"], "--seeds"),
    ] {
        let mut all = vec!["study", "coordinator-failure", "--out", out];
        all.extend(args.iter().copied());
        let (code, _, err) = commitlab(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!std::path::Path::new(out).exists(), "{args:?} wrote {out}");
    }
}
