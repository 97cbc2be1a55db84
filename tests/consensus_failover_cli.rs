//! `commitlab sweep consensus-failover` end to end: a row per correct consensus protocol,
//! election-timeout range and leader mark; no acknowledged command lost; a new leader never
//! sooner than an election timeout allows; the CSV byte-identical whatever the thread count.

use std::process::Command;

fn sweep(dir: &std::path::Path, threads: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab"))
        .args(["sweep", "consensus-failover", "--seeds", "2", "--threads", threads, "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("consensus-failover.svg").exists());
    std::fs::read_to_string(dir.join("consensus-failover.csv")).unwrap()
}

#[test]
fn failover_rows_lose_nothing_and_do_not_depend_on_threads() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let csv = sweep(a.path(), "1");
    assert_eq!(csv, sweep(b.path(), "2"), "byte-identical whatever the thread count");
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let mut seen = Vec::new();
    for r in rows.records() {
        let r = r.unwrap();
        let what = format!("{r:?}");
        assert_eq!(&r[col("lost_commands")], "0", "{what}");
        assert_eq!(&r[col("runs")], "2", "{what}");
        assert_eq!(&r[col("no_new_leader_runs")], "0", "{what}");
        // Followers stand only after an election timeout without a heartbeat (every 3d = 30 ms).
        let min_ms: f64 = r[col("election_min_ms")].parse().unwrap();
        let new_leader_ms: f64 = r[col("mean_new_leader_ms")].parse().unwrap();
        assert!(new_leader_ms >= min_ms - 30.0, "{what}");
        seen.push((r[col("protocol")].to_string(), r[col("election_timeout_d")].to_string()));
    }
    for p in protocols::catalog::correct_consensus_protocols() {
        for (lo, hi) in experiments::sweep::consensus_failover::RANGES_D {
            let range = format!("{lo}-{hi}");
            assert!(seen.contains(&(p.to_string(), range.clone())), "{p} {range}: {seen:?}");
        }
    }
}
