//! `commitlab explore`: the JSON report, the exit codes, and the counts it prints.

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
fn explore_tla_two_phase_prints_tlc_counts_as_json() {
    let args = ["explore", "--protocol", "tla-two-phase", "--participants", "3", "--json"];
    let (code, out, err) = commitlab(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["protocol"], "tla-two-phase");
    assert_eq!(v["unique_states"], 288);
    assert_eq!(v["states"], 1086);
    assert_eq!(v["max_depth"], 10);
    assert_eq!(v["verdict"], "holds");
    assert!(v["wall_ms"].is_u64() && v["states_per_sec"].is_u64(), "{v}");
    // Two threads, DFS: the same count.
    let (code, out, _) = commitlab(&[&args[..], &["--threads", "2"]].concat());
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["unique_states"],
        288
    );
    let (code, out, _) = commitlab(&[&args[..], &["--strategy", "dfs"]].concat());
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["unique_states"],
        288
    );
}

#[test]
fn a_violation_exits_1_with_a_shortest_counterexample() {
    let (code, out, err) = commitlab(&[
        "explore",
        "--protocol",
        "broken-tla-two-phase-early-commit",
        "--participants",
        "3",
        "--json",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["property"].as_str()),
        (Some("violated"), Some("atomicity"))
    );
    assert_eq!(v["counterexample"].as_array().unwrap().len(), 5, "{v}");
}

#[test]
fn bounds_make_it_incomplete_and_bad_input_exits_2() {
    let (code, out, _) = commitlab(&[
        "explore",
        "--protocol",
        "tla-two-phase",
        "--participants",
        "3",
        "--max-states",
        "100",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["unique_states"].as_u64()),
        (Some("incomplete"), Some(100))
    );
    let (code, _, err) = commitlab(&["explore", "--protocol", "2pc-raft"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be explored yet") && err.contains("tla-two-phase"), "{err}");
    let (code, _, err) = commitlab(&["explore", "--protocol", "2pc", "--property", "atomcity"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean \"atomicity\""), "{err}");
    let (code, _, err) = commitlab(&["explore", "--protocol", "3pc", "--participants", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("participants"), "{err}");
    let (code, _, err) =
        commitlab(&["explore", "--protocol", "tla-two-phase", "--participants", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("participants"), "{err}");
    // As `run` takes them: a thousand replicas is a typo, not a search to start.
    let (code, _, err) = commitlab(&["explore", "--protocol", "raft", "--participants", "1000"]);
    assert_eq!(code, 2);
    assert!(err.contains("--participants") && err.contains("1..=64"), "{err}");
    let (code, _, err) = commitlab(&["explore", "--protocol", "2pc", "--max-states", "0"]);
    assert_eq!(code, 2, "a search allowed no state is bad input: {err}");
    assert!(err.contains("--max-states"), "{err}");
    let (code, out, _) =
        commitlab(&["explore", "--protocol", "2pc", "--max-states", "10", "--strategy", "dfs"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("2pc: 3 participants, crashes 0, dfs, 1 thread(s)\n"), "{out}");
}

/// `explore --out` writes the path; `replay` re-runs it event by event through the same
/// world: the same property violated, the same trace hash (exit 1). A path cut short of
/// the violation replays to no violation (exit 0).
/// A search that finds the unlogged decision (atomicity, a crash and a recovery, timer rule
/// `quiescent`) and writes it under `out`.
fn unlogged_decision(out: &str) -> Vec<&str> {
    vec![
        "explore",
        "--protocol",
        "broken-2pc-unlogged-decision",
        "--participants",
        "2",
        "--crashes",
        "1",
        "--recoveries",
        "1",
        "--timers",
        "quiescent",
        "--property",
        "atomicity",
        "--out",
        out,
    ]
}

#[test]
fn an_explored_counterexample_replays_with_the_same_verdict_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, text, err) = commitlab(&[&unlogged_decision(out)[..], &["--json"]].concat());
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let file = v["counterexample"].as_str().expect("the file's path").to_string();
    let hash = v["trace_hash"].as_u64().expect("the path's trace hash");
    let (code, replayed, err) = commitlab(&["replay", &file]);
    assert_eq!(code, 1, "{replayed}{err}");
    assert!(replayed.contains(&format!("trace_hash={hash}")), "{replayed}");
    assert!(replayed.contains("same trace hash as recorded"), "{replayed}");
    assert!(replayed.contains("atomicity violated after"), "{replayed}");
    // Drawn on request, the same drawing `explore --out` wrote beside the file.
    for ext in ["svg", "mmd"] {
        let drawn = dir.path().join(format!("replayed.{ext}"));
        let (code, replayed, err) =
            commitlab(&["replay", &file, "--diagram", drawn.to_str().unwrap()]);
        assert_eq!(code, 1, "{replayed}{err}");
        assert!(replayed.contains(&format!("diagram: {}", drawn.display())), "{replayed}");
        let written = file.replace(".json", &format!(".{ext}"));
        assert_eq!(std::fs::read(&drawn).unwrap(), std::fs::read(written).unwrap(), "{ext}");
    }
    // Without its last step the path violates nothing.
    let mut f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    f["steps"].as_array_mut().unwrap().pop();
    std::fs::write(&file, f.to_string()).unwrap();
    let (code, replayed, err) = commitlab(&["replay", &file]);
    assert_eq!(code, 0, "{replayed}{err}");
    assert!(replayed.contains("no property violated"), "{replayed}");
    // A step that is not enabled where it is applied is bad input, named.
    f["steps"][0] = serde_json::json!({"event": "deliver", "id": 999});
    std::fs::write(&file, f.to_string()).unwrap();
    let (code, _, err) = commitlab(&["replay", &file]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("step 1") && err.contains("not enabled"), "{err}");
}

/// An explored counterexample is drawn as `check` draws its runs: the Mermaid diagram on the
/// terminal and in `DIR/….mmd`, the SVG space-time diagram in `DIR/….svg`, both showing the
/// protocol's own messages along the path (timer rule `quiescent`, as the replay test).
#[test]
fn an_explored_counterexample_is_drawn_beside_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, text, err) = commitlab(&unlogged_decision(out));
    assert_eq!(code, 1, "{err}");
    let stem = dir.path().join("explore-broken-2pc-unlogged-decision-atomicity");
    let mermaid = std::fs::read_to_string(stem.with_extension("mmd")).expect("the .mmd file");
    let svg = std::fs::read_to_string(stem.with_extension("svg")).expect("the .svg file");
    assert!(mermaid.starts_with("sequenceDiagram\n"), "{mermaid}");
    assert!(text.contains(&format!("```mermaid\n{mermaid}```")), "{text}");
    assert!(svg.starts_with("<svg"), "{svg}");
    for diagram in [&mermaid, &svg] {
        // 2PC's messages between the roles the path uses, and the crash it needs.
        for label in ["PREPARE t1", "VOTE t1 yes", "DECIDED t1 commit", "DECIDED t1 abort"] {
            assert!(diagram.contains(label), "{label} missing:\n{diagram}");
        }
    }
    assert!(mermaid.contains("coord->>p1: PREPARE t1"), "{mermaid}");
    assert!(mermaid.contains("Note over coord: CRASH"), "{mermaid}");
}

/// `--delays D` reaches Raft's Figure 8 (four elections, no fault): found, and the file
/// replays through `commitlab replay` to the same property and trace hash (DFS, the faster
/// search here: its path is not a shortest one). The log bounds are bad input for a protocol
/// that replicates no log (exit 2, naming the flag and the protocols it is for).
#[test]
fn a_delay_bounded_search_finds_figure8_and_the_path_replays() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let figure8 = [
        "explore",
        "--protocol",
        "broken-raft-commit-old-term",
        "--participants",
        "3",
        "--delays",
        "3",
        "--max-round",
        "4",
        "--client-retries",
        "2",
        "--strategy",
        "dfs",
        "--json",
        "--out",
        out,
    ];
    let (code, text, err) = commitlab(&figure8);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["property"], "leader-completeness", "{v}");
    assert_eq!(v["delays"], 3, "{v}");
    let file = v["counterexample"].as_str().expect("the file's path").to_string();
    let (code, replayed, err) = commitlab(&["replay", &file]);
    assert_eq!(code, 1, "{replayed}{err}");
    assert!(replayed.contains("leader-completeness violated after"), "{replayed}");
    assert!(replayed.contains("same trace hash as recorded"), "{replayed}");
    let (code, _, err) = commitlab(&["explore", "--protocol", "2pc", "--max-round", "3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-round") && err.contains("raft"), "{err}");
    // The summary names every bound a `holds` is within: nothing outside them was explored.
    let bounded = ["explore", "--protocol", "2pc", "--drops", "1", "--delays", "1", "--links"];
    let (code, text, err) = commitlab(&[&bounded[..], &["fifo"]].concat());
    assert_eq!(code, 0, "{err}");
    let header =
        "2pc: 3 participants, crashes 0, drops 1, delays 1, links fifo, bfs, 1 thread(s)\n";
    assert!(text.starts_with(header), "{text}");
    assert!(text.contains("verdict: holds"), "{text}");
}
