//! What the search tests share: a search that must find nothing.

use experiments::search::{Outcome, SearchConfig, search};

/// Runs the search `cfg` and asserts it found nothing in exactly `cfg.cases` cases (a
/// counterexample is printed whole). `what` names the search in failure messages.
pub fn holds(cfg: &SearchConfig, what: &str) {
    match search(cfg, &|_| {}).unwrap() {
        Outcome::NotFound { stats } => {
            assert_eq!(stats.cases_run, u64::from(cfg.cases), "{what}: every case ran")
        }
        Outcome::Found(f) => {
            panic!("{what}: counterexample {}", serde_json::to_string_pretty(&f.scenario).unwrap())
        }
    }
}
