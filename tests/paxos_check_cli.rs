//! `commitlab check` on Paxos Commit through the binary: with F + 1 acceptors crashable
//! (crash-stop faults reach the acceptors), the search finds blocking, exits 1, and writes a
//! minimal counterexample that crashes exactly F + 1 = 2 acceptors and nothing else.

use std::process::Command;

#[test]
fn check_finds_blocking_when_f_plus_one_acceptors_crash() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let args = [
        "check",
        "--protocol",
        "paxos-commit",
        "--property",
        "non-blocking",
        "--faults",
        "crash",
        "--out",
        out_dir,
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap());
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("verdict: non-blocking VIOLATED"), "{stdout}");
    let json = std::fs::read_to_string(dir.path().join("paxos-commit-non-blocking.json")).unwrap();
    let cx: serde_json::Value = serde_json::from_str(&json).unwrap();
    let scenario = &cx["scenario"];
    // The family's default F = 1: the file records only settings that were set.
    let n = scenario["participants"].as_u64().unwrap();
    let f = scenario.get("family").and_then(|s| s.get("f")).map_or(1, |f| f.as_u64().unwrap());
    assert_eq!(f, 1);
    // Acceptors follow the RMs (1..=n) and the client (n + 1).
    let acceptors = (n + 2)..(n + 2 + 2 * f + 1);
    let faults = scenario["plan"]["faults"].as_array().unwrap();
    assert_eq!(faults.len() as u64, f + 1, "{json}");
    let mut crashed: Vec<u64> = faults
        .iter()
        .map(|fault| {
            let action = &fault["action"];
            assert_eq!(action["do"], "crash", "only crashes: {json}");
            assert!(action["recover_after_us"].is_null(), "no recovery: {json}");
            action["node"].as_u64().unwrap()
        })
        .collect();
    crashed.sort_unstable();
    crashed.dedup();
    assert_eq!(crashed.len() as u64, f + 1, "{json}");
    assert!(crashed.iter().all(|a| acceptors.contains(a)), "{crashed:?} are acceptors: {json}");
}
