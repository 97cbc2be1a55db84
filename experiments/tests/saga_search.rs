//! `commitlab check --property saga-atomicity`: the orchestrated saga keeps its semantic
//! atomicity over 10,000 fault plans with crashes, recoveries, drops and duplicates; the
//! orchestrator without its durable log is found, with a one-fault plan.

use checkers::Property;
use experiments::search::counterexample::replay;
use experiments::search::{Outcome, SearchConfig, Target, search};
use sim_core::{Action, FaultClass, NodeId};

fn classes() -> Vec<FaultClass> {
    vec![FaultClass::Crash, FaultClass::Recover, FaultClass::Drop, FaultClass::Duplicate]
}

#[test]
fn orchestrated_sagas_keep_saga_atomicity_over_10000_cases() {
    let mut cfg = SearchConfig::new("saga-orchestration", Target::SagaAtomicity, classes());
    cfg.cases = 10_000;
    match search(&cfg, &|_| {}).unwrap() {
        Outcome::NotFound { stats } => assert_eq!(stats.cases_run, 10_000),
        Outcome::Found(f) => {
            panic!("counterexample: {}", serde_json::to_string_pretty(&f.scenario).unwrap())
        }
    }
}

#[test]
fn the_volatile_orchestrator_is_found_with_one_crash_and_its_recovery() {
    let cfg =
        SearchConfig::new("broken-saga-volatile-orchestrator", Target::SagaAtomicity, classes());
    let Outcome::Found(f) = search(&cfg, &|_| {}).unwrap() else {
        panic!("the volatile orchestrator was not found in 10,000 cases")
    };
    let plan = &f.scenario.plan;
    assert_eq!(plan.faults.len(), 1, "{}", plan.to_json_pretty());
    // The one fault: the orchestrator crashes once a step is under way; it comes back (by
    // the plan, or in the liveness phase) without its log, and the client's retry finds
    // nothing to resume.
    let fault = &plan.faults[0];
    assert!(
        matches!(fault.action, Action::Crash { node: NodeId(0), .. }),
        "{}",
        plan.to_json_pretty()
    );
    let r = replay(&f.scenario, Target::SagaAtomicity).unwrap();
    assert!(!r.violations.is_empty(), "the minimal case still fails");
    assert!(r.violations.iter().all(|v| v.property == Property::SagaAtomicity));
    let v = &r.violations[0];
    assert!(v.nodes.contains(&NodeId(0)), "the orchestrator ended the saga: {v:?}");
    assert!(
        v.detail.contains("ended compensated as T1") || v.detail.contains("ended both"),
        "a step left standing, or an end reversed: {}",
        v.detail
    );
}
