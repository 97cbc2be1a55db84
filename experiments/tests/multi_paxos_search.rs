//! The search finds nothing wrong with Multi-Paxos: every consensus property holds over
//! thousands of fault plans drawing from every fault class (crashes, recoveries, partitions,
//! one-way cuts, drops, duplicates, delays, clock drift). The broken variant is found in
//! `search.rs`, with every other broken variant.

use experiments::search::{SearchConfig, Target};
use sim_core::FaultClass;

mod common;
use common::holds;

#[test]
fn multi_paxos_keeps_every_consensus_property_over_2000_cases_with_every_fault_class() {
    let cases = 2_000;
    for target in [
        Target::ElectionSafety,
        Target::StateMachineSafety,
        Target::Linearizability,
        Target::Termination,
    ] {
        let mut cfg = SearchConfig::new("multi-paxos", target, FaultClass::ALL.to_vec());
        cfg.cases = cases;
        holds(&cfg, &format!("multi-paxos {}", target.name()));
    }
}
