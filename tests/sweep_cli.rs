//! `commitlab sweep partition|scaling|throughput` end to end: byte-identical CSV for any
//! thread count, and the findings the literature predicts.

use std::path::Path;
use std::process::Command;

fn sweep(name: &str, seeds: &str, threads: &str, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_commitlab"))
        .args([
            "sweep",
            name,
            "--seeds",
            seeds,
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap()
}

/// Rows as maps from column name to value.
fn rows(csv: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn num(row: &std::collections::BTreeMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap_or_else(|_| panic!("{col} = {:?}", row[col]))
}

#[test]
fn every_sweep_writes_the_same_csv_whatever_the_thread_count() {
    for (name, seeds) in [("partition", "12"), ("scaling", "2"), ("throughput", "3")] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let one = sweep(name, seeds, "1", a.path());
        let two = sweep(name, seeds, "2", b.path());
        assert_eq!(one, two, "{name}: --threads 1 and 2 differ");
        assert!(one.lines().count() > 6, "{name}: one row per protocol (and parameter)");
    }
}

#[test]
fn partitions_break_3pc_atomicity_and_block_2pc() {
    let d = tempfile::tempdir().unwrap();
    let csv = sweep("partition", "60", "2", d.path());
    let rows = rows(&csv);
    let get = |p: &str, f: &str| {
        rows.iter().find(|r| r["protocol"] == p && r["faults"] == f).unwrap().clone()
    };
    assert!(
        num(&get("3pc", "partition"), "atomicity_violations") > 0.0,
        "Skeen: 3PC is not partition-tolerant"
    );
    assert_eq!(num(&get("3pc", "partition"), "blocked_runs"), 0.0, "3PC does not block");
    for p in ["2pc", "2pc-presumed-abort", "2pc-no-cooperative-termination", "paxos-commit"] {
        for f in ["partition", "partition+crash"] {
            assert_eq!(num(&get(p, f), "atomicity_violations"), 0.0, "{p} {f} stays atomic");
        }
        assert!(num(&get(p, "partition"), "blocked_runs") > 0.0, "{p} blocks behind a partition");
    }
    // Sagas keep semantic atomicity; a saga that never ended is a termination failure, as
    // an undecided participant is, never an atomicity violation.
    for p in ["saga-orchestration", "saga-choreography"] {
        for f in ["partition", "partition+crash"] {
            assert_eq!(num(&get(p, f), "atomicity_violations"), 0.0, "{p} {f}");
        }
    }
    assert!(rows.iter().all(|r| num(r, "inconclusive_runs") == 0.0), "no run was cut short");
}

#[test]
fn scaling_matches_the_textbook_formulas_for_2pc_and_3pc() {
    let d = tempfile::tempdir().unwrap();
    let csv = sweep("scaling", "1", "2", d.path());
    let mut checked = 0;
    for r in rows(&csv).into_iter().filter(|r| r["protocol"] == "2pc" || r["protocol"] == "3pc") {
        let n = num(&r, "participants");
        assert_eq!(num(&r, "inconclusive_runs"), 0.0, "every run finished: {r:?}");
        let per_n = if r["protocol"] == "2pc" { 4.0 } else { 6.0 };
        assert_eq!(num(&r, "messages_per_txn"), per_n * n, "{r:?}");
        assert_eq!(num(&r, "messages_per_txn"), num(&r, "formula_messages_per_txn"));
        assert_eq!(num(&r, "critical_path_delays"), num(&r, "formula_delays"), "{r:?}");
        assert_eq!(num(&r, "disk_writes_per_txn"), 2.0 * n + 2.0, "{r:?}");
        checked += 1;
    }
    assert_eq!(checked, 14, "N = 2, 3, 4, 8, 16, 32, 64 for both");
}

#[test]
fn throughput_falls_as_the_coordinator_takes_longer_to_repair() {
    let d = tempfile::tempdir().unwrap();
    let csv = sweep("throughput", "5", "2", d.path());
    let rows = rows(&csv);
    let twopc: Vec<_> = rows.iter().filter(|r| r["protocol"] == "2pc").collect();
    let failure_free =
        num(twopc.iter().find(|r| r["mttr_ms"].is_empty()).unwrap(), "committed_per_sim_s");
    let slowest =
        num(twopc.iter().find(|r| r["mttr_ms"] == "1000").unwrap(), "committed_per_sim_s");
    assert!(slowest < failure_free / 2.0, "{slowest} vs {failure_free}");
    assert!(rows.iter().all(|r| num(r, "atomicity_violations") == 0.0));
    // Every run ran its whole window: no rate comes from a run a bound cut short.
    assert!(rows.iter().all(|r| num(r, "inconclusive_runs") == 0.0), "{rows:?}");
}

#[test]
fn gray_lamport_reproduces_the_papers_table() {
    let d = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_commitlab"))
        .args(["sweep", "gray-lamport", "--out", d.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(d.path().join("gray_lamport.csv")).unwrap();
    let rows = rows(&csv);
    // The paper's three protocols and 2PC over consensus (2pc-raft, 2pc-multipaxos).
    assert_eq!(rows.len(), 5 * 8 * 3 * 2, "5 protocols x N 1..8 x F 0..2 x co-located or not");
    // The paper's text example: 5 RMs, F = 1, co-located: 12, 17, 20 messages.
    for (p, m) in [("2pc", 12.0), ("paxos-commit", 17.0), ("faster-paxos-commit", 20.0)] {
        let r = rows
            .iter()
            .find(|r| {
                r["protocol"] == p && r["rms"] == "5" && r["f"] == "1" && r["colocated"] == "true"
            })
            .unwrap();
        assert_eq!(num(r, "messages"), m, "{p}");
    }
    // Every co-located row and every 2PC row: measured = expected where the formula applies.
    for r in rows.iter().filter(|r| r["colocated"] == "true" || r["protocol"] == "2pc") {
        if r["messages_formula_applies"] == "true" && !r["expected_messages"].is_empty() {
            assert_eq!(num(r, "messages"), num(r, "expected_messages"), "{r:?}");
        }
        if r["delays_formula_applies"] == "true" && !r["expected_delays"].is_empty() {
            assert_eq!(num(r, "message_delays"), num(r, "expected_delays"), "{r:?}");
        }
        if !r["expected_disk_writes"].is_empty() {
            assert_eq!(num(r, "disk_writes"), num(r, "expected_disk_writes"), "{r:?}");
        }
    }
    // Disk writes: N+1 for 2PC, N+F+1 for Paxos Commit, in every row.
    for r in &rows {
        let (n, f) = (num(r, "rms"), num(r, "f"));
        let expected = if r["protocol"] == "2pc" {
            n + 1.0
        } else if r["protocol"] == "paxos-commit" {
            n + f + 1.0
        } else {
            continue;
        };
        assert_eq!(num(r, "disk_writes"), expected, "{r:?}");
    }
}
