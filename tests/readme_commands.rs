//! Every command in README.md's fenced `sh`/`bash` blocks is pasteable as written: each is one
//! command (no pipes, redirections or `a|b` alternatives), and the fast ones run, in order,
//! in a fresh temporary copy of the repository, with the exit code README documents (0, or 1
//! for `check` / `replay`, which report a counterexample). `cargo run --release -- ARGS` is
//! run as this build's `commitlab ARGS`.
//!
//! Not run here, by this explicit allow-list (each is run by hand or by CI in its own right):
//! the whole test suite, `cargo install`, the default study, the comparison and the sweeps
//! (seconds to minutes in release, far longer in a test build), the 1M-transaction benchmark
//! and the raw-loop comparison script (which builds a second crate). The test fails if README
//! gains a command that is neither run nor on this list.

use std::path::Path;
use std::process::Command;

/// Commands skipped on purpose, exactly as README writes them (comments stripped).
const NOT_RUN: &[&str] = &[
    "cargo run --release",
    "cargo test --workspace --locked",
    "cargo install --path . --locked",
    "cargo run --release -- sweep gray-lamport",
    "cargo run --release -- compare",
    "cargo run --release -- bench w1 --txns 1000000 --trace off",
    "scripts/compare-w1.sh 1000000",
];

/// The commands of README's `sh`/`bash` blocks, comments and blank lines removed.
fn readme_commands(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        let fence = line.trim_start();
        if let Some(lang) = fence.strip_prefix("```") {
            in_block = !in_block && (lang == "sh" || lang == "bash");
            continue;
        }
        if !in_block {
            continue;
        }
        let command = match line.find(" #") {
            Some(i) => &line[..i],
            None => line,
        };
        let command = command.trim();
        if !command.is_empty() && !command.starts_with('#') {
            out.push(command.to_string());
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [".git", "target", "results"].iter().any(|n| name == *n) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else if entry.file_type().unwrap().is_file() {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn every_readme_command_is_pasteable_and_the_fast_ones_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = readme_commands(&readme);
    assert!(commands.len() >= 10, "README lost its examples? {commands:?}");
    for c in &commands {
        assert!(
            !c.contains(['|', '<', '>', ';', '&', '$', '`']) && !c.contains(".."),
            "not pasteable as one command, or points outside the repository: {c}"
        );
    }
    for skipped in NOT_RUN {
        assert!(commands.iter().any(|c| c == skipped), "allow-list entry not in README: {skipped}");
    }

    let dir = tempfile::tempdir().unwrap();
    copy_tree(root, dir.path());
    let mut ran = 0;
    for c in commands.iter().filter(|c| !NOT_RUN.contains(&c.as_str())) {
        let args: Vec<&str> = c
            .strip_prefix("cargo run --release -- ")
            .unwrap_or_else(|| panic!("neither run nor on the allow-list: {c}"))
            .split_whitespace()
            .collect();
        let out = Command::new(env!("CARGO_BIN_EXE_commitlab"))
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        let expected: &[i32] = if ["check", "replay"].contains(&args[0]) { &[1] } else { &[0] };
        assert!(
            out.status.code().is_some_and(|code| expected.contains(&code)),
            "{c}: exit {:?}, expected {expected:?}:\n{text}",
            out.status.code()
        );
        ran += 1;
    }
    assert!(ran >= 9, "ran {ran} commands");
    // What the examples say they write, they wrote.
    for f in ["run.svg", "run.jsonl", "run.log", "s.toml", "w1.jsonl"] {
        assert!(dir.path().join(f).is_file(), "{f} was not written");
    }
    assert!(dir.path().join("results/counterexamples/2pc-non-blocking.json").is_file());
    // ... and .gitignore keeps them out of a commit.
    let ignore = std::fs::read_to_string(root.join(".gitignore")).unwrap();
    for f in ["/run.svg", "/run.jsonl", "/run.log", "/s.toml", "/w1.jsonl", "/results"] {
        assert!(ignore.lines().any(|l| l == f), ".gitignore lacks {f}");
    }
}

#[test]
fn the_readme_scenario_file_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("```toml\n").expect("README has a TOML scenario") + 8;
    let toml = &readme[start..start + readme[start..].find("```").unwrap()];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_commitlab"))
        .args(["run", "--scenario", path.to_str().unwrap()])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("3pc seed=7"), "{text}");
}
