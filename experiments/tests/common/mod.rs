//! What the search tests share: a search that must find nothing, and the crashes of a plan.

use experiments::search::{Outcome, SearchConfig, search};
use sim_core::{Action, FaultPlan, NodeId};

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

/// The nodes `plan` crashes, in plan order, asserting every fault is a crash-stop (`ctx`
/// names the case in failure messages).
#[allow(dead_code)] // not every test crate that shares this module uses it
pub fn crash_stopped(plan: &FaultPlan, ctx: &str) -> Vec<NodeId> {
    plan.faults
        .iter()
        .map(|fault| match fault.action {
            Action::Crash { node, recover_after_us: None } => node,
            ref other => panic!("only crash-stops: {other:?} in {ctx}"),
        })
        .collect()
}
