//! The seeded sampler (sweeps) and the proptest sampler (search) draw from one space: every
//! fault either yields is admitted by that space and valid in its cluster, and each reaches
//! every kind the space enables. The proptest sampler still shrinks a failing plan to fewer,
//! simpler faults.

use std::collections::BTreeSet;

use experiments::search::plan_strategy::plans;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use sim_core::{
    Action, CrashLimit, Fault, FaultClass, FaultKind, FaultPlan, FaultSpace, HashableF64, LinkSet,
    NodeId, Trigger,
};

fn space(classes: Vec<FaultClass>) -> FaultSpace {
    FaultSpace {
        nodes: 4,
        extra_nodes: vec![NodeId(6), NodeId(7), NodeId(8)],
        horizon_us: 100_000,
        classes,
        max_faults: 5,
        marks: vec![(NodeId(0), "all-votes-in".into()), (NodeId(1), "voted-yes".into())],
        crash_limit: Some(CrashLimit { nodes: vec![NodeId(6), NodeId(7), NodeId(8)], max: 1 }),
    }
}

/// Checks one plan against the space; returns the kinds it used.
fn inside(space: &FaultSpace, plan: &FaultPlan, who: &str) -> BTreeSet<FaultKind> {
    plan.validate(9).unwrap_or_else(|e| panic!("{who}: {e}: {plan:?}"));
    assert!(!plan.is_empty(), "{who}: an empty plan");
    let mut limited = BTreeSet::new();
    for f in &plan.faults {
        space.admits(f).unwrap_or_else(|e| panic!("{who}: {e}: {f:?}"));
        if let Action::Crash { node, .. } = f.action
            && node.0 >= 6
        {
            limited.insert(node);
        }
    }
    assert!(limited.len() <= 1, "{who}: the crash limit holds: {plan:?}");
    plan.faults.iter().map(|f| FaultKind::of(&f.action).unwrap()).collect()
}

#[test]
fn both_samplers_draw_from_the_same_space() {
    let mixes = [
        FaultClass::ALL.to_vec(),
        vec![FaultClass::Crash],
        vec![FaultClass::Crash, FaultClass::Recover],
        vec![FaultClass::Partition, FaultClass::OneWayCut],
        vec![FaultClass::Drop, FaultClass::Duplicate, FaultClass::Delay, FaultClass::ClockDrift],
    ];
    for classes in mixes {
        let space = space(classes.clone());
        let mut seeded = BTreeSet::new();
        for seed in 0..2_000 {
            seeded.extend(inside(&space, &space.generate(seed), &format!("seed {seed}")));
        }
        let strategy = plans(&space);
        let mut runner = TestRunner::deterministic();
        let mut searched = BTreeSet::new();
        for case in 0..2_000 {
            let plan = strategy.new_tree(&mut runner).unwrap().current();
            searched.extend(inside(&space, &plan, &format!("case {case}")));
        }
        let all: BTreeSet<FaultKind> = space.kinds().into_iter().collect();
        assert_eq!(seeded, all, "the seeded sampler reaches every kind of {classes:?}");
        assert_eq!(searched, all, "the proptest sampler reaches every kind of {classes:?}");
    }
}

#[test]
fn the_proptest_sampler_shrinks_to_fewer_simpler_faults() {
    // Fails whenever some fault drops 10% or more of the messages: the minimal plan is one
    // such fault, on every link, at exactly 10%, at the first mark.
    let fails = |p: &FaultPlan| {
        p.faults.iter().any(|f| matches!(f.action, Action::SetDrop { prob, .. } if prob.0 >= 0.1))
    };
    let strategy = plans(&space(FaultClass::ALL.to_vec()));
    let mut runner = TestRunner::deterministic();
    let mut tree = loop {
        let t = strategy.new_tree(&mut runner).unwrap();
        if fails(&t.current()) && t.current().faults.len() >= 3 {
            break t;
        }
    };
    let start = tree.current();
    for _ in 0..10_000 {
        let moved = if fails(&tree.current()) { tree.simplify() } else { tree.complicate() };
        if !moved {
            break;
        }
    }
    let minimal = tree.current();
    assert!(fails(&minimal) && minimal.faults.len() < start.faults.len(), "{start:?}");
    assert_eq!(
        minimal.faults,
        vec![Fault {
            trigger: Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
            action: Action::SetDrop { links: LinkSet::All, prob: HashableF64(0.1) },
        }]
    );
}
