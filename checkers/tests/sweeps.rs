//! Thousands of generated fault plans against the correct protocols. 2PC keeps atomicity
//! and durability under every fault class; 3PC on a reliable bounded network keeps
//! atomicity under crashes and recoveries, and never blocks under crash-stop faults.

use checkers::{Property, check};
use protocols::Scenario;
use protocols::workload::Workload;
use sim_core::{FaultClass, FaultPlan, FaultSpace, NodeId};

const PARTICIPANTS: u32 = 3;

fn marks(coordinator: &[&str], participant: &[&str]) -> Vec<(NodeId, String)> {
    let mut m: Vec<(NodeId, String)> =
        coordinator.iter().map(|k| (NodeId(0), k.to_string())).collect();
    for p in (1..=PARTICIPANTS).map(NodeId) {
        m.extend(participant.iter().map(|k| (p, k.to_string())));
    }
    m
}

fn scenario(protocol: &str, seed: u64, plan: FaultPlan) -> Scenario {
    let mut s = Scenario::new(protocol, PARTICIPANTS, 3, seed);
    s.workload = Workload::bank();
    s.max_in_flight = 2;
    s.plan = plan;
    s.fault_horizon_us = 5_000_000;
    s.liveness_bound_us = Some(10_000_000);
    s
}

/// Runs `runs` generated plans; returns how many violated each of `props`.
fn sweep(
    protocol: &str,
    swarm: &FaultSpace,
    runs: u64,
    props: &[Property],
) -> Vec<(Property, u64, Option<String>)> {
    let mut found: Vec<(Property, u64, Option<String>)> =
        props.iter().map(|p| (*p, 0, None)).collect();
    for seed in 0..runs {
        let plan = swarm.generate(seed);
        let s = scenario(protocol, seed, plan);
        let r = protocols::run(&s).unwrap().report;
        let v = check(&r, &s.plan);
        for (p, n, first) in found.iter_mut() {
            if v.get(*p).is_violated() {
                *n += 1;
                first.get_or_insert_with(|| {
                    format!(
                        "seed {seed}: {:?}\nplan {}",
                        v.get(*p).violations()[0],
                        s.plan.to_json_pretty()
                    )
                });
            }
        }
    }
    found
}

fn assert_none(found: Vec<(Property, u64, Option<String>)>) {
    for (p, n, first) in found {
        assert_eq!(n, 0, "{p:?} violated in {n} runs; first: {}", first.unwrap_or_default());
    }
}

const TWO_PC_COORDINATOR: &[&str] = &[
    "prepare-sent",
    "all-votes-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
];
const TWO_PC_PARTICIPANT: &[&str] = &["prepared-logged", "voted-yes", "decided"];

#[test]
fn two_pc_keeps_atomicity_and_durability_over_10000_plans_of_every_fault_class() {
    let swarm = FaultSpace {
        nodes: PARTICIPANTS + 2,
        horizon_us: 300_000,
        classes: FaultClass::ALL.to_vec(),
        max_faults: 6,
        marks: marks(TWO_PC_COORDINATOR, TWO_PC_PARTICIPANT),
        send_points: vec![],
        extra_nodes: vec![],
        crash_limits: Vec::new(),
    };
    let props = [
        Property::Agreement,
        Property::Irreversibility,
        Property::CommitNeedsAllYes,
        Property::Durability,
        Property::Conservation,
        Property::Termination,
    ];
    assert_none(sweep("2pc", &swarm, 10_000, &props));
}

const THREE_PC_COORDINATOR: &[&str] = &[
    "can-commit-sent",
    "all-votes-in",
    "precommit-sent-to-first",
    "precommit-sent-to-all",
    "all-acks-in",
    "decision-logged",
    "decision-sent-to-first",
    "decision-sent-to-all",
];
const THREE_PC_PARTICIPANT: &[&str] =
    &["prepared-logged", "voted-yes", "precommitted", "decided", "backup-elected"];

#[test]
fn three_pc_keeps_atomicity_over_10000_plans_of_crashes_and_recoveries() {
    let swarm = FaultSpace {
        nodes: PARTICIPANTS + 2,
        horizon_us: 300_000,
        classes: vec![FaultClass::Crash, FaultClass::Recover],
        max_faults: 6,
        marks: marks(THREE_PC_COORDINATOR, THREE_PC_PARTICIPANT),
        send_points: vec![],
        extra_nodes: vec![],
        crash_limits: Vec::new(),
    };
    let props = [
        Property::Agreement,
        Property::Irreversibility,
        Property::CommitNeedsAllYes,
        Property::Durability,
        Property::Conservation,
    ];
    assert_none(sweep("3pc", &swarm, 10_000, &props));
}

#[test]
fn three_pc_never_blocks_over_10000_crash_stop_plans() {
    let swarm = FaultSpace {
        nodes: PARTICIPANTS + 2,
        horizon_us: 300_000,
        classes: vec![FaultClass::Crash],
        max_faults: 4,
        marks: marks(THREE_PC_COORDINATOR, THREE_PC_PARTICIPANT),
        send_points: vec![],
        extra_nodes: vec![],
        crash_limits: Vec::new(),
    };
    let props = [Property::NonBlocking, Property::Agreement, Property::CommitNeedsAllYes];
    assert_none(sweep("3pc", &swarm, 10_000, &props));
}
