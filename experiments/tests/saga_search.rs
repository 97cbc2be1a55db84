//! `commitlab check --property saga-atomicity`: the orchestrated and the choreographed saga
//! keep their semantic atomicity over 10,000 fault plans with crashes, recoveries, drops and
//! duplicates; the orchestrator without its durable log and the lossy in-memory event bus are
//! found, with one-fault plans.

use checkers::Property;
use experiments::search::counterexample::replay;
use experiments::search::{Outcome, SearchConfig, Target, search};
use protocols::Observation;
use protocols::workload::{VotePolicy, Workload};
use sim_core::{Action, FaultClass, FaultPlan, NodeId};

mod common;
use common::holds;

fn classes() -> Vec<FaultClass> {
    vec![FaultClass::Crash, FaultClass::Recover, FaultClass::Drop, FaultClass::Duplicate]
}

#[test]
fn orchestrated_sagas_keep_saga_atomicity_over_10000_cases() {
    let mut cfg = SearchConfig::new("saga-orchestration", Target::SagaAtomicity, classes());
    cfg.cases = 10_000;
    holds(&cfg, cfg.protocol.as_str());
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

#[test]
fn choreographed_sagas_keep_saga_atomicity_over_10000_cases() {
    let mut cfg = SearchConfig::new("saga-choreography", Target::SagaAtomicity, classes());
    cfg.cases = 10_000;
    holds(&cfg, cfg.protocol.as_str());
}

#[test]
fn the_lossy_bus_is_found_with_one_fault_and_a_saga_that_never_ends() {
    // A saga stranded by the bus never ends: a termination failure (AC5), as an undecided
    // commit participant is, not a loss of semantic atomicity (what ran, ran in order).
    let cfg = SearchConfig::new("broken-saga-lossy-bus", Target::Termination, classes());
    let Outcome::Found(f) = search(&cfg, &|_| {}).unwrap() else {
        panic!("the lossy bus was not found in 10,000 cases")
    };
    let plan = &f.scenario.plan;
    assert_eq!(plan.faults.len(), 1, "{}", plan.to_json_pretty());
    let r = replay(&f.scenario, Target::Termination).unwrap();
    assert!(!r.violations.is_empty(), "the minimal case still fails");
    assert!(r.violations.iter().all(|v| v.property == Property::Termination));
    // What the bus loses is never re-delivered: a saga is stranded, not reordered.
    assert!(r.violations.iter().any(|v| v.detail.contains("never ended")), "{:?}", r.violations);
    assert!(replay(&f.scenario, Target::SagaAtomicity).unwrap().violations.is_empty());
    // The same plan against the durable broker holds.
    let mut durable = f.scenario.clone();
    durable.protocol = "saga-choreography".into();
    let r = replay(&durable, Target::Termination).unwrap();
    assert!(r.violations.is_empty(), "{:?}", r.violations);
}

/// Searches run sagas as 3-step orders (create order, reserve stock, charge customer): a
/// refused charge compensates two steps, in reverse order, which a 2-step transfer never
/// shows.
#[test]
fn searched_sagas_are_three_step_orders_whose_refused_last_step_compensates_two() {
    for protocol in ["saga-orchestration", "saga-choreography"] {
        let cfg = SearchConfig::new(protocol, Target::SagaAtomicity, classes());
        let scenario = cfg.scenario(7, None, FaultPlan::none());
        assert_eq!(scenario.workload, Workload::order(3), "{protocol}");
        let mut compensated_two = false;
        for p in 1..=3 {
            let mut s = scenario.clone();
            s.votes = VotePolicy::always_no(NodeId(p));
            let report = protocols::run(&s).unwrap().report;
            let compensations: Vec<u32> = report
                .observations
                .iter()
                .filter_map(|o| match o.obs {
                    Observation::CompensationApplied { step, .. } => Some(step),
                    _ => None,
                })
                .collect();
            compensated_two |= compensations == [2, 1];
        }
        assert!(compensated_two, "{protocol}: a refused third step undoes steps 2 then 1");
    }
}
