//! The search finds nothing wrong with ZAB: every consensus property and ZAB's own hold over
//! thousands of fault plans drawing from every fault class (crashes, recoveries, partitions,
//! one-way cuts, drops, duplicates, delays, clock drift), with three operations per run so
//! that orders can differ. The broken variant is found in `search.rs`, with every other
//! broken variant.

use experiments::search::{SearchConfig, Target};
use sim_core::FaultClass;

mod common;
use common::holds;

#[test]
fn zab_keeps_every_consensus_and_zab_property_over_1000_cases_with_every_fault_class() {
    let cases = 1_000;
    for target in [
        Target::ElectionSafety,
        Target::StateMachineSafety,
        Target::Linearizability,
        Target::LeaderCompleteness,
        Target::Termination,
        Target::PrimaryOrder,
        Target::Integrity,
        Target::TotalOrder,
    ] {
        let mut cfg = SearchConfig::new("zab", target, FaultClass::ALL.to_vec());
        cfg.cases = cases;
        cfg.txns = 3;
        holds(&cfg, &format!("zab {}", target.name()));
    }
}
