//! `commitlab compare`: every verdict of the table agrees with the study and the sweeps that
//! measure the same thing, computed here for the same seeds (so these tests keep holding when
//! protocols or verdict definitions change); one row per correct protocol of the catalog;
//! byte-identical outputs for any thread count; bad input is exit 2.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use experiments::compare::{self, runs::Seeds, table::Row};
use experiments::study::coordinator_failure as study;
use experiments::sweep::{self, partition, scaling};

const SEEDS: u64 = 6;
const FIRST_SEED: u64 = 3;

fn table() -> Vec<Row> {
    compare::measure(Seeds { first: FIRST_SEED, count: SEEDS }, 2).unwrap()
}

fn by_protocol(rows: &[Row]) -> BTreeMap<&str, &Row> {
    rows.iter().map(|r| (r.protocol.as_str(), r)).collect()
}

#[test]
fn one_row_per_correct_protocol_in_catalog_order() {
    let rows = table();
    let names: Vec<&str> = rows.iter().map(|r| r.protocol.as_str()).collect();
    let correct: Vec<&str> = protocols::catalog::correct_commit_protocols().collect();
    assert_eq!(names, correct);
}

#[test]
fn crash_verdicts_agree_with_the_coordinator_failure_study() {
    let rows = table();
    let opts = study::Options {
        seeds: SEEDS,
        first_seed: FIRST_SEED,
        threads: 2,
        plots: false,
        ..study::Options::default()
    };
    let (study_rows, latencies) = study::measure(&opts).unwrap();
    let summary = study::summarize(&study_rows, &latencies);
    let rows = by_protocol(&rows);
    assert_eq!(summary.len(), rows.len());
    for s in &summary {
        let r = rows[s.protocol.as_str()];
        let never: Vec<&study::Row> = study_rows
            .iter()
            .filter(|x| x.protocol == s.protocol && x.recovery_ms.is_none())
            .collect();
        assert_eq!(r.crash_points, s.crash_points as u64, "{}", s.protocol);
        assert_eq!(r.crash_points_blocking, s.blocking_points.len() as u64, "{}", s.protocol);
        assert_eq!(r.crash_runs, s.never_runs, "{}", s.protocol);
        assert_eq!(r.crash_blocked_runs, s.blocked_runs, "{}", s.protocol);
        let lost: u64 = never.iter().map(|x| x.atomicity_violations).sum();
        assert_eq!(r.crash_atomicity_violations, lost, "{}", s.protocol);
        // The words say what the study's summary says.
        let judged = protocols::catalog::lookup(&s.protocol).unwrap().has_property("non-blocking");
        if !judged {
            assert!(r.crash_verdict.starts_with("not judged"), "{}", r.crash_verdict);
        } else if s.blocking_points.is_empty() {
            assert!(r.crash_verdict.starts_with("non-blocking"), "{}", r.crash_verdict);
        } else {
            let expected = format!("blocks at {} of {}", s.blocking_points.len(), s.crash_points);
            assert!(r.crash_verdict.starts_with(&expected), "{}", r.crash_verdict);
        }
    }
}

#[test]
fn partition_verdicts_agree_with_the_partition_sweep() {
    let rows = table();
    let opts =
        sweep::Options { seeds: SEEDS, first_seed: FIRST_SEED, threads: 2, out: "unused".into() };
    let sweep_rows = partition::measure(&opts).unwrap();
    for r in &rows {
        let mine: Vec<&partition::Row> =
            sweep_rows.iter().filter(|x| x.protocol == r.protocol).collect();
        assert_eq!(mine.len(), partition::MIXES.len(), "{}", r.protocol);
        let sum = |f: fn(&partition::Row) -> u64| mine.iter().map(|x| f(x)).sum::<u64>();
        assert_eq!(r.partition_runs, sum(|x| x.runs), "{}", r.protocol);
        assert_eq!(r.partition_blocked_runs, sum(|x| x.blocked_runs), "{}", r.protocol);
        let lost = sum(|x| x.atomicity_violations);
        assert_eq!(r.partition_atomicity_violations, lost, "{}", r.protocol);
        assert_eq!(r.partition_verdict.contains("atomic in all"), lost == 0, "{}", r.protocol);
        assert_eq!(
            r.partition_termination_failures,
            sum(|x| x.termination_failures),
            "{}",
            r.protocol
        );
    }
}

#[test]
fn cost_columns_agree_with_the_scaling_sweep_at_three_participants() {
    let rows = table();
    let opts = sweep::Options {
        seeds: SEEDS.min(scaling::DEFAULT_SEEDS),
        first_seed: FIRST_SEED,
        threads: 2,
        out: "unused".into(),
    };
    let sweep_rows = scaling::measure(&opts).unwrap();
    for r in &rows {
        let s = sweep_rows
            .iter()
            .find(|x| x.protocol == r.protocol && x.participants == r.participants)
            .unwrap_or_else(|| panic!("no scaling row for {} at N = 3", r.protocol));
        assert_eq!(r.messages_per_txn, s.messages_per_txn, "{}", r.protocol);
        assert_eq!(r.message_delays, s.critical_path_delays, "{}", r.protocol);
        assert_eq!(r.forced_writes_per_txn, s.disk_writes_per_txn, "{}", r.protocol);
        // Where the family claims a cost formula, the measured delays are its delays.
        if let Some(f) = scaling::formula(&r.protocol) {
            let delays: f64 = r.message_delays.parse().unwrap();
            assert_eq!(delays, f.delays as f64, "{}", r.protocol);
        }
    }
}

#[test]
fn a_claim_is_flagged_refuted_exactly_when_the_counts_contradict_it() {
    for r in &table() {
        let claim = compare::claims::of(&r.family);
        let judged = r.blocking_judged;
        let undecided = r.total_failure_blocked_runs
            + r.total_failure_termination_failures
            + r.total_failure_atomicity_violations;
        let partial = r.mean_anomaly_ms != "0.000" || r.anomalous_reads_per_run != "0.000";
        let columns = [
            (
                "coordinator crash",
                judged && r.crash_runs > 0 && claim.crash_blocks == Some(r.crash_blocked_runs == 0),
            ),
            (
                "partition blocking",
                judged && claim.partition_blocks == Some(r.partition_blocked_runs == 0),
            ),
            (
                "partition atomicity",
                claim.partition_atomic == Some(r.partition_atomicity_violations > 0),
            ),
            ("readers", claim.readers_atomic == Some(partial)),
            (
                "total failure",
                r.total_failure_runs > 0 && claim.total_failure_decides == Some(undecided > 0),
            ),
        ];
        let flagged: Vec<&str> = r.refuted_claims.split(';').filter(|x| !x.is_empty()).collect();
        for (column, contradicted) in columns {
            assert_eq!(flagged.contains(&column), contradicted, "{}: {column}: {r:?}", r.protocol);
        }
        assert!(flagged.iter().all(|f| columns.iter().any(|(c, _)| c == f)), "{flagged:?}");
    }
}

fn compare_cli(threads: &str, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_commitlab"))
        .args(["compare", "--seeds", "4", "--threads", threads, "--out", out.to_str().unwrap()])
        .output()
        .unwrap()
}

#[test]
fn csv_and_chart_are_byte_identical_for_one_and_two_threads() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (threads, dir) in [("1", a.path()), ("2", b.path())] {
        let o = compare_cli(threads, dir);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8(o.stdout).unwrap();
        for p in protocols::catalog::correct_commit_protocols() {
            assert!(stdout.contains(&format!("| {p} |")), "no row for {p}:\n{stdout}");
        }
    }
    for file in ["compare.csv", "compare.svg"] {
        let one = std::fs::read(a.path().join(file)).unwrap();
        let two = std::fs::read(b.path().join(file)).unwrap();
        assert!(!one.is_empty(), "{file} is empty");
        assert_eq!(one, two, "{file}: --threads 1 and 2 differ");
    }
}

#[test]
fn bad_input_is_exit_2_with_a_message_and_no_file() {
    let d = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["compare", "--seeds", "0"], "--seeds"),
        (vec!["compare", "--threads", "0", "--seeds", "1"], "--threads"),
        (vec!["compare", "--seeds", "many"], "--seeds"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_commitlab"))
            .args(&args)
            .args(["--out", d.path().to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!d.path().join("compare.csv").exists());
    // An output directory that cannot be created: one line naming the file, exit 2.
    let blocker = d.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let o = compare_cli("1", &blocker.join("sub"));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("compare.csv"));
}

#[test]
fn a_total_failure_crashes_every_node_but_the_client_and_all_recover() {
    let seeds = Seeds { first: FIRST_SEED, count: SEEDS };
    for spec in protocols::catalog().iter().filter(|s| s.correct && s.decides_transactions()) {
        let mark = spec.coordinator_marks()[0];
        let s = compare::runs::total_failure_scenario(spec.name, mark, seeds, FIRST_SEED);
        let roles = protocols::catalog::roles(&s).unwrap();
        let clients = roles.ids("client").count() as u64;
        let report = protocols::run(&s).unwrap().report;
        assert_eq!(report.stats.crashes, u64::from(roles.nodes()) - clients, "{}", spec.name);
        let recovered = report
            .facts()
            .filter(|f| {
                matches!(f, protocols::FactRef::Other(x) if x.what == protocols::Happened::Recovered)
            })
            .count() as u64;
        assert!(recovered >= report.stats.crashes, "{}: {recovered} recoveries", spec.name);
    }
}
