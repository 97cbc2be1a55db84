//! Bad input on the command line: every case exits 2 with a message that names the problem
//! (and, for a mistyped name, the closest valid one). Nothing runs half-way.

use std::process::Command;

fn commitlab(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

fn rejects(args: &[&str], needles: &[&str]) {
    let (code, text) = commitlab(args);
    assert_eq!(code, Some(2), "{args:?} must exit 2:\n{text}");
    for n in needles {
        assert!(text.contains(n), "{args:?}: expected {n:?} in:\n{text}");
    }
}

#[test]
fn mistyped_names_get_the_closest_valid_one() {
    rejects(&["run", "--protocol", "3PC"], &["unknown protocol \"3PC\"", "did you mean \"3pc\""]);
    rejects(&["check", "--protocol", "paxos", "--property", "atomicity"], &["\"paxos-commit\""]);
    rejects(
        &["check", "--protocol", "2pc", "--property", "non-blockin"],
        &["unknown property", "did you mean \"non-blocking\""],
    );
    rejects(&["run", "--protocol", "paxos-commit", "--set", "ff=2"], &["did you mean \"f\""]);
}

#[test]
fn a_crash_mark_the_node_never_emits_is_refused() {
    rejects(
        &["run", "--crash", "coord@all-vote-in"],
        &["never emits mark \"all-vote-in\"", "did you mean \"all-votes-in\""],
    );
    // A 2PC mark on 3PC's coordinator.
    rejects(&["run", "--protocol", "3pc", "--crash", "coord@prepare-sent"], &["can-commit-sent"]);
    rejects(&["run", "--crash", "p9@voted-yes"], &["participants are p1..p3"]);
}

#[test]
fn nonsense_values_and_ignored_flags_are_refused() {
    rejects(&["run", "--txns", "0"], &["--txns"]);
    rejects(&["study", "coordinator-failure", "--txns", "0"], &["--txns"]);
    rejects(&["study", "coordinator-failure", "--seeds", "0"], &["--seeds"]);
    rejects(&["sweep", "partition", "--seeds", "0"], &["--seeds"]);
    // The Gray-Lamport sweep is deterministic: it offers no seed flags to ignore.
    rejects(&["sweep", "gray-lamport", "--seeds", "50"], &["--seeds"]);
    rejects(&["run", "--protocol", "paxos-commit", "--set", "f=-1"], &["family.f"]);
    rejects(&["run", "--protocol", "3pc", "--set", "f=1"], &["has no settings"]);
}

#[test]
fn properties_that_do_not_apply_are_refused() {
    rejects(
        &["check", "--protocol", "2pc", "--property", "saga-atomicity"],
        &["does not apply to 2pc"],
    );
}
