//! `commitlab bench w1`, end to end through the binary: the raw loop's output format, 16
//! messages per transaction, a reproducible trace hash, JSON Lines export, and bad flags.

use std::process::Command;

use experiments::bench::w1::{self, W1};
use sim_core::trace::{hash_events, read_jsonl};
use sim_core::{SimConfig, TraceLevel};

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `key=value` pairs of the first line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn prints_the_raw_loop_line_with_16_messages_per_transaction() {
    let (code, out, err) = commitlab(&["bench", "w1", "--txns", "2000", "--seed", "7"]);
    assert_eq!(code, 0, "{err}");
    let f = fields(out.lines().next().unwrap());
    let keys: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["txns", "messages", "sim_time_us", "wall_ms", "events_per_sec"]);
    assert_eq!(f[0].1, "2000");
    assert_eq!(f[1].1, "32000");
    assert!(f[2].1.parse::<u64>().unwrap() > 2000 * 4 * 1_000, "4 delays of >= 1 ms each");
    assert!(f[3].1.parse::<f64>().is_ok() && f[4].1.parse::<f64>().is_ok());
    // Second line: checking a real 2PC history of the same size.
    let c = fields(out.lines().nth(1).unwrap());
    let keys: Vec<&str> = c.iter().map(|(k, _)| k.as_str()).collect();
    // check_cpu_ms where the OS reports a thread's CPU time (Unix).
    let cpu = cfg!(unix).then_some("check_cpu_ms");
    let expected: Vec<&str> =
        ["check_txns", "observations", "disk_records", "check_ms"].into_iter().chain(cpu).collect();
    assert_eq!(keys, expected);
    assert_eq!(c[0].1, "2000");
    // 4 participants: each logs prepared + decision, the coordinator decision + end.
    assert_eq!(c[2].1, (2000 * 10).to_string());
    assert!(c[3..].iter().all(|(_, v)| v.parse::<f64>().is_ok()));
}

#[test]
fn the_trace_hash_is_the_same_at_every_level_and_on_every_run() {
    let hash = |trace: &str| {
        let (code, out, err) = commitlab(&["bench", "w1", "--txns", "500", "--trace", trace]);
        assert_eq!(code, 0, "{err}");
        out.lines().find_map(|l| l.strip_prefix("trace_hash=")).unwrap().to_string()
    };
    let off = hash("off");
    assert_eq!(off, hash("off"));
    assert_eq!(off, hash("observations"));
    assert_eq!(off, hash("full"));
}

#[test]
fn the_trace_of_a_small_run_exports_to_jsonl_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w1.jsonl");
    let p = path.to_str().unwrap();
    let (code, out, err) =
        commitlab(&["bench", "w1", "--txns", "3", "--trace", "full", "--jsonl", p]);
    assert_eq!(code, 0, "{err}");
    let events =
        read_jsonl::<W1>(std::io::BufReader::new(std::fs::File::open(&path).unwrap())).unwrap();
    // 5 starts + 48 sends + 48 deliveries.
    assert_eq!(events.len(), 5 + 48 + 48);
    let printed = out.lines().find_map(|l| l.strip_prefix("trace_hash=")).unwrap();
    assert_eq!(format!("{:016x}", hash_events(&events)), printed);

    // The same run through the library gives the same events.
    let mut sim = w1::simulation(3, SimConfig::new(w1::NODES, 42).with_trace(TraceLevel::Full));
    w1::run(&mut sim, 3);
    assert_eq!(sim.trace().events_vec(), events);
}

#[test]
fn bad_flags_exit_2_with_a_message_and_write_nothing() {
    let (code, _, err) = commitlab(&["bench", "w1", "--txns", "lots"]);
    assert_eq!(code, 2);
    assert!(err.contains("--txns"), "{err}");

    let (code, _, err) = commitlab(&["bench", "w1", "--trace", "verbose"]);
    assert_eq!(code, 2);
    assert!(err.contains("verbose"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    let (code, _, err) =
        commitlab(&["bench", "w1", "--txns", "3", "--jsonl", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("--jsonl needs --trace full"), "{err}");
    assert!(!path.exists());
}
