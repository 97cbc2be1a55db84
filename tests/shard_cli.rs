//! Streaming aggregation and sharding, end to end through the binary:
//! - the study's and the sweeps' CSVs are byte-identical to what the code before streaming
//!   aggregation wrote (golden files under `tests/golden/`, written by commit 5316412 with
//!   the commands named in each test), on 1 and on 3 threads — for the protocols that existed
//!   then; rows of protocols added since are new, and left out of the comparison;
//! - 4 shards run as separate processes and `commitlab merge` give exactly the bytes of a
//!   single run (study with its plots, a sweep, and `check`'s counterexample files);
//! - bad `--shard` values and mismatched shards exit 2 naming the problem, writing nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = commitlab(args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

fn golden(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    std::fs::read_to_string(path).unwrap()
}

/// A CSV or summary-table line's protocol (its first field).
fn protocol_of(line: &str) -> &str {
    line.trim_start_matches('|').split([',', '|']).next().unwrap_or("").trim()
}

/// `current` with the rows of protocols the golden file (written before they existed) has
/// no row of left out: the protocols it has must match it byte for byte; later protocols'
/// rows are new, not changed.
fn as_of_golden(current: &str, golden: &str) -> String {
    let known: std::collections::BTreeSet<&str> = golden.lines().map(protocol_of).collect();
    let kept: String = current
        .lines()
        .filter(|l| known.contains(protocol_of(l)))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(kept.len() < current.len() || kept == current, "rows were only left out");
    kept
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// `args` with `--out DIR` appended.
fn with_out<'a>(args: &[&'a str], dir: &'a Path) -> Vec<&'a str> {
    let mut v = args.to_vec();
    v.extend(["--out", dir.to_str().unwrap()]);
    v
}

/// The summary table's lines of a study's stdout.
fn table(stdout: &str) -> String {
    stdout.lines().filter(|l| l.starts_with('|')).map(|l| format!("{l}\n")).collect()
}

const STUDY: &[&str] = &["study", "coordinator-failure", "--seeds", "40", "--first-seed", "3"];

#[test]
fn the_study_streams_the_same_bytes_as_before_on_any_thread_count() {
    // Golden: `commitlab study coordinator-failure --seeds 40 --first-seed 3` at 5316412.
    for threads in ["1", "3"] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = with_out(STUDY, dir.path());
        args.extend(["--threads", threads, "--no-plots"]);
        let stdout = ok(&args);
        let csv = golden("coordinator_failure-seeds40-first3.csv");
        let written = read(dir.path(), "coordinator_failure.csv");
        assert_eq!(as_of_golden(&written, &csv), csv, "--threads {threads}");
        let summary = golden("coordinator_failure-seeds40-first3-summary.md");
        assert_eq!(as_of_golden(&table(&stdout), &summary), summary);
    }
}

#[test]
fn the_sweeps_stream_the_same_bytes_as_before_on_any_thread_count() {
    // Golden: `commitlab sweep NAME --seeds S [--first-seed F]` at 5316412.
    let cases: [(&str, &[&str], &str); 3] = [
        ("partition", &["--seeds", "30", "--first-seed", "2"], "partition-seeds30-first2.csv"),
        ("throughput", &["--seeds", "3"], "throughput-seeds3.csv"),
        ("scaling", &["--seeds", "2"], "scaling-seeds2.csv"),
    ];
    for (name, flags, file) in cases {
        for threads in ["1", "3"] {
            let dir = tempfile::tempdir().unwrap();
            let mut args = vec!["sweep", name, "--threads", threads];
            args.extend(flags);
            ok(&with_out(&args, dir.path()));
            let (written, golden) = (read(dir.path(), &format!("{name}.csv")), golden(file));
            assert_eq!(as_of_golden(&written, &golden), golden, "{name} {threads}");
        }
    }
}

/// Runs `args` as 4 shards, one process each, all at once; returns their directories.
fn run_shards(args: &[&str], root: &Path) -> Vec<PathBuf> {
    let dirs: Vec<PathBuf> = (1..=4).map(|k| root.join(format!("shard-{k}"))).collect();
    let children: Vec<_> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            let shard = format!("{}/4", i + 1);
            let mut a = with_out(args, dir);
            a.extend(["--shard", &shard]);
            if a[0] != "check" {
                a.extend(["--threads", "1"]);
            }
            Command::new(env!("CARGO_BIN_EXE_commitlab")).args(&a).output_async()
        })
        .collect();
    for (child, dir) in children.into_iter().zip(&dirs) {
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        assert!(matches!(code, Some(0 | 1)), "{dir:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    dirs
}

/// `merge --out OUT SHARD_DIR...`, shard directories given in reverse order (any order
/// does); returns (exit code, stdout).
fn merge(out: &Path, dirs: &[PathBuf]) -> (i32, String) {
    let mut args = vec!["merge", "--out", out.to_str().unwrap()];
    args.extend(dirs.iter().rev().map(|d| d.to_str().unwrap()));
    let (code, stdout, err) = commitlab(&args);
    assert!(code == 0 || code == 1, "{err}");
    (code, stdout)
}

trait Spawn {
    fn output_async(&mut self) -> std::process::Child;
}

impl Spawn for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn four_study_shards_merge_into_the_single_runs_bytes() {
    let root = tempfile::tempdir().unwrap();
    let single = root.path().join("single");
    let single_out = ok(&with_out(STUDY, &single));
    let dirs = run_shards(STUDY, root.path());
    // A shard is the study over its own seeds: 10 of the 40 here.
    let shard_csv = read(&dirs[1], "coordinator_failure.csv");
    assert!(shard_csv.lines().nth(1).unwrap().contains(",3,prepare-sent,,10,"), "{shard_csv}");
    let merged = root.path().join("merged");
    let (code, merged_out) = merge(&merged, &dirs);
    assert_eq!(code, 0);
    for f in ["coordinator_failure.csv", "blocked_by_crash_point.svg", "in_doubt_vs_recovery.svg"] {
        assert_eq!(read(&merged, f), read(&single, f), "{f}");
    }
    let csv = golden("coordinator_failure-seeds40-first3.csv");
    assert_eq!(as_of_golden(&read(&merged, "coordinator_failure.csv"), &csv), csv);
    assert_eq!(table(&merged_out), table(&single_out));
    let names: Vec<String> = std::fs::read_dir(&merged)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "nothing but the single run's files: {names:?}");
}

#[test]
fn four_sweep_shards_merge_into_the_single_runs_bytes() {
    for (name, seeds) in [("partition", "30"), ("throughput", "4")] {
        let root = tempfile::tempdir().unwrap();
        let args = ["sweep", name, "--seeds", seeds, "--first-seed", "2"];
        let single = root.path().join("single");
        ok(&with_out(&args, &single));
        let dirs = run_shards(&args, root.path());
        let merged = root.path().join("merged");
        assert_eq!(merge(&merged, &dirs).0, 0);
        let csv = format!("{name}.csv");
        assert_eq!(read(&merged, &csv), read(&single, &csv), "{name}");
    }
}

/// Search seeds 3..=6 with 20 cases each: seed 3 finds nothing, seeds 4, 5 and 6 each find
/// a counterexample. The merge must report seed 4's, the one a single run stops at.
const CHECK: &[&str] = &[
    "check",
    "--protocol",
    "2pc",
    "--property",
    "non-blocking",
    "--cases",
    "30",
    "--seed",
    "1",
    "--seeds",
    "4",
];

#[test]
fn four_check_shards_merge_into_the_single_runs_counterexample() {
    let root = tempfile::tempdir().unwrap();
    let single = root.path().join("single");
    let (code, single_out, err) = commitlab(&with_out(CHECK, &single));
    assert_eq!(code, 1, "{single_out}{err}");
    assert!(single_out.contains("search seed 2: the first with a counterexample (30 cases"));
    let dirs = run_shards(CHECK, root.path());
    // Shards 2, 3 and 4 each found one of their own; shard 1 found none.
    assert!(!dirs[0].join("2pc-non-blocking.json").exists());
    for d in &dirs[1..] {
        assert!(d.join("2pc-non-blocking.json").exists(), "{d:?}");
    }
    assert_ne!(read(&dirs[1], "2pc-non-blocking.json"), read(&dirs[2], "2pc-non-blocking.json"));
    let merged = root.path().join("merged");
    let (code, merged_out) = merge(&merged, &dirs);
    assert_eq!(code, 1, "a merged counterexample exits 1, as the single run does");
    for f in ["2pc-non-blocking.json", "2pc-non-blocking.mmd", "2pc-non-blocking.svg"] {
        assert_eq!(read(&merged, f), read(&single, f), "{f}");
    }
    let strip = |s: &str, dir: &Path| s.replace(dir.to_str().unwrap(), "DIR");
    let merged_report: String = merged_out
        .lines()
        .filter(|l| !l.starts_with("merged "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(strip(&merged_report, &merged), strip(&single_out, &single));
}

#[test]
fn mismatched_shards_exit_2_naming_the_problem_and_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let args = ["sweep", "partition", "--seeds", "8"];
    let dirs = run_shards(&args, root.path());
    // The same shard 2/4 with other settings.
    let other = root.path().join("other");
    ok(&with_out(&["sweep", "partition", "--seeds", "12", "--shard", "2/4"], &other));
    let out = root.path().join("merged");
    let o = out.to_str().unwrap();
    let d: Vec<&str> = dirs.iter().map(|d| d.to_str().unwrap()).collect();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![d[0], d[1], d[2]], "shard(s) 4/4 missing"),
        (vec![d[0], d[1], d[2], d[2]], "shard 3/4 appears twice"),
        (vec![d[0], other.to_str().unwrap(), d[2], d[3]], "different settings"),
        (vec![d[0], root.path().to_str().unwrap()], "holds no shard output"),
    ];
    for (shards, expected) in cases {
        let mut a = vec!["merge", "--out", o];
        a.extend(&shards);
        let (code, _, err) = commitlab(&a);
        assert_eq!(code, 2, "{shards:?}: {err}");
        assert!(err.contains(expected), "{shards:?}: {err}");
        assert!(!out.exists(), "{shards:?}: a failed merge wrote {out:?}");
    }
    for (shard, expected) in [
        ("5/4", "K = 5 is outside 1..=4"),
        ("0/4", "K = 0 is outside"),
        ("1/0", "N must be at least 1"),
        ("x", "expected K/N"),
    ] {
        let (code, _, err) = commitlab(&["sweep", "partition", "--shard", shard, "--out", o]);
        assert_eq!(code, 2, "{shard}: {err}");
        assert!(err.contains(expected), "{shard}: {err}");
    }
    let (code, _, err) =
        commitlab(&["study", "coordinator-failure", "--seeds", "3", "--shard", "1/4", "--out", o]);
    assert_eq!(code, 2);
    assert!(err.contains("3 seed(s) cannot be split into 4 parts"), "{err}");
    assert!(!out.exists());
}

#[test]
fn check_shards_with_other_crash_limits_are_not_parts_of_one_run() {
    let root = tempfile::tempdir().unwrap();
    let base = ["check", "--protocol", "2pc", "--property", "atomicity", "--cases", "5"];
    let seeds = ["--seeds", "2"];
    let first = root.path().join("first");
    let mut a = with_out(&base, &first);
    a.extend(seeds);
    a.extend(["--shard", "1/2"]);
    let (code, stdout, err) = commitlab(&a);
    assert_eq!(code, 0, "{stdout}{err}");
    let second = root.path().join("second");
    let mut b = with_out(&base, &second);
    b.extend(seeds);
    b.extend(["--shard", "2/2", "--crash-limit", "coordinator=0"]);
    let (code, stdout, err) = commitlab(&b);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("crash limits coordinator=0"), "{stdout}");
    let out = root.path().join("merged");
    let (code, _, err) = commitlab(&[
        "merge",
        "--out",
        out.to_str().unwrap(),
        first.to_str().unwrap(),
        second.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("different settings") && err.contains("coordinator=0"), "{err}");
    assert!(!out.exists(), "a failed merge wrote {out:?}");
}
