//! The consensus scenario files through the binary: `--scenario FILE --protocol P` runs a
//! file with any consensus protocol, flags override the file's fields, and an `any_mark`
//! trigger naming a mark no node emits is refused with the closest mark.

use std::process::Command;

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const REELECTION: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/consensus/reelection.toml");

#[test]
fn flags_override_a_scenario_file_for_every_consensus_protocol() {
    for protocol in protocols::catalog::correct_consensus_protocols() {
        let args = ["run", "--json", "--scenario", REELECTION, "--protocol", protocol];
        let (code, out, err) = commitlab(
            &[&args[..], &["--seed", "5", "--txns", "12", "--participants", "5"]].concat(),
        );
        assert_eq!(code, 0, "{protocol}: {err}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["protocol"], protocol);
        assert_eq!((v["seed"].as_u64(), v["txns"].as_u64()), (Some(5), Some(12)));
        assert_eq!(v["participants"].as_u64(), Some(5));
        assert_eq!(v["consensus"]["ops_returned"].as_u64(), Some(12), "{protocol}");
        let faults = v["faults"].as_array().unwrap();
        assert!(faults.iter().all(|f| f["fired"] == true), "{protocol}: {faults:?}");
        assert!(faults[0]["fault"].as_str().unwrap().contains("1st became-leader"), "{faults:?}");
    }
}

#[test]
fn an_any_mark_no_node_emits_is_refused_with_the_closest_mark() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(REELECTION)
        .unwrap()
        .replace("mark = \"became-leader\"", "mark = \"became-leadr\"");
    std::fs::write(&file, text).unwrap();
    let (code, out, err) = commitlab(&["run", "--scenario", file.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("became-leadr") && err.contains("did you mean \"became-leader\""),
        "{err}"
    );
}
