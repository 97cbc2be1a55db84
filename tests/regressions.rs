//! Counterexamples found by `commitlab check` are kept under tests/regressions/ and replayed
//! on every test run: each must reproduce its recorded trace hash and its violations
//! exactly. A change that alters any of these runs shows up here first.

use experiments::search::Counterexample;
use experiments::search::counterexample::replay;

#[test]
fn every_recorded_counterexample_replays_exactly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "the regression corpus is in place: {files:?}");
    for path in files {
        let c = Counterexample::load(&path).unwrap();
        let r = replay(&c.scenario, c.target().unwrap()).unwrap();
        assert_eq!(r.trace_hash, c.trace_hash, "{}: trace hash", path.display());
        assert_eq!(r.violations, c.violations, "{}: verdict", path.display());
        assert!(!r.violations.is_empty(), "{}: still a counterexample", path.display());
    }
}
