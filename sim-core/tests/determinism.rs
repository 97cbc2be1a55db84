//! Determinism is the product: the same seed and plan give the same trace hash, every time
//! and at every trace level; different seeds give different runs.

mod common;

use std::collections::BTreeSet;

use common::{Script, lab};
use sim_core::{
    FaultClass, FaultPlan, FaultSpace, LinkConfig, NodeId, SimConfig, Time, TraceLevel,
};

/// Five gossiping nodes on a lossy, duplicating network: every RNG stream is exercised.
fn gossip_hash(seed: u64, plan: &FaultPlan, level: TraceLevel) -> u64 {
    let script = Script { gossip_rounds: 40, persist_data: true, ..Script::default() };
    let link = LinkConfig { drop_prob: 0.05, dup_prob: 0.05, ..LinkConfig::default() };
    let config = SimConfig::new(5, seed).with_link(link).with_trace(level);
    let (mut sim, _) = lab(config, plan.clone(), script);
    sim.run_until(Time::from_secs(5));
    sim.run_liveness_phase(sim_core::Duration::from_secs(1));
    sim.trace_hash()
}

fn swarm() -> FaultSpace {
    FaultSpace {
        nodes: 5,
        horizon_us: 200_000,
        classes: FaultClass::ALL.to_vec(),
        max_faults: 6,
        marks: vec![(NodeId(0), "tick".into())],
        send_points: vec![],
        extra_nodes: vec![],
        crash_limits: Vec::new(),
    }
}

#[test]
fn same_seed_same_hash_for_100_seeds_and_different_seeds_differ() {
    let mut hashes = BTreeSet::new();
    for seed in 0..100 {
        let a = gossip_hash(seed, &FaultPlan::none(), TraceLevel::Off);
        let b = gossip_hash(seed, &FaultPlan::none(), TraceLevel::Off);
        assert_eq!(a, b, "seed {seed} is not reproducible");
        hashes.insert(a);
    }
    assert_eq!(hashes.len(), 100, "distinct seeds must give distinct runs");
}

#[test]
fn the_hash_does_not_depend_on_the_trace_level() {
    for seed in 0..10 {
        let plan = swarm().generate(seed);
        let off = gossip_hash(seed, &plan, TraceLevel::Off);
        assert_eq!(off, gossip_hash(seed, &plan, TraceLevel::Observations));
        assert_eq!(off, gossip_hash(seed, &plan, TraceLevel::Full));
    }
}

#[test]
fn runs_under_generated_fault_plans_are_reproducible() {
    let swarm = swarm();
    swarm.validate().unwrap();
    let mut distinct_plans = BTreeSet::new();
    for seed in 0..100 {
        let plan = swarm.generate(seed);
        assert_eq!(plan, swarm.generate(seed), "the generator is a function of its seed");
        plan.validate(5).expect("generated plans are valid");
        distinct_plans.insert(plan.to_json_pretty());
        assert_eq!(
            gossip_hash(seed, &plan, TraceLevel::Off),
            gossip_hash(seed, &plan, TraceLevel::Off)
        );
    }
    assert!(
        distinct_plans.len() >= 95,
        "the generator explores: {} distinct plans",
        distinct_plans.len()
    );
}

#[test]
fn swarm_draws_every_class_and_respects_the_allowed_ones() {
    let mut seen = BTreeSet::new();
    let crash_only = FaultSpace { classes: vec![FaultClass::Crash], ..swarm() };
    for seed in 0..500 {
        for f in swarm().generate(seed).faults {
            seen.insert(
                serde_json::to_value(&f.action).unwrap()["do"].as_str().unwrap().to_string(),
            );
        }
        for f in crash_only.generate(seed).faults {
            assert!(
                matches!(f.action, sim_core::Action::Crash { recover_after_us: None, .. }),
                "crash-stop plans only crash: {f:?}"
            );
        }
    }
    // crash, recover, partition, heal, cut one way, heal link, drop, duplicate, latency, drift
    assert_eq!(seen.len(), 10);
}

#[test]
fn a_fault_that_never_fires_changes_nothing() {
    let base = gossip_hash(3, &FaultPlan::none(), TraceLevel::Off);
    let with_late_fault = FaultPlan::none().with(
        sim_core::Trigger::Time { at_us: 100_000_000 },
        sim_core::Action::Crash { node: NodeId(4), recover_after_us: None },
    );
    // The fault lies beyond the horizon and liveness disarms it: same run, same hash.
    assert_eq!(base, gossip_hash(3, &with_late_fault, TraceLevel::Off));
}
