//! The search finds nothing wrong with Multi-Paxos: every consensus property holds over
//! thousands of fault plans drawing from every fault class (crashes, recoveries, partitions,
//! one-way cuts, drops, duplicates, delays, clock drift). The broken variant is found in
//! `search.rs`, with every other broken variant.

use experiments::search::{Outcome, SearchConfig, Target, search};
use sim_core::FaultClass;

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
        match search(&cfg, &|_| {}).unwrap() {
            Outcome::NotFound { stats } => assert_eq!(stats.cases_run, u64::from(cases)),
            Outcome::Found(f) => panic!(
                "multi-paxos {}: counterexample {}",
                target.name(),
                serde_json::to_string_pretty(&f.scenario).unwrap()
            ),
        }
    }
}
