//! `commitlab sweep partition`: random partitions and one-way cuts, healing or not, drawn
//! per seed by the swarm generator (optionally mixed with crashes of any node, triggered on
//! coordinator marks or at random times). Skeen's result is the expectation: 3PC is
//! non-blocking under crashes but loses atomicity under partitions; 2PC stays atomic but
//! blocks.

use std::io::Write;

use protocols::Scenario;
use protocols::workload::Workload;
use serde::Serialize;
use sim_core::{FaultClass, FaultSpace};

use super::Options;
use crate::error::Result;
use crate::metrics::{RunMetrics, mean, ms, percentile};

pub const DEFAULT_SEEDS: u64 = 300;
const PARTICIPANTS: u32 = 3;
/// Faults are drawn in the first 300 ms, while transactions are in flight.
const FAULT_WINDOW_US: u64 = 300_000;

/// Fault mixes: (name, classes the generator may draw from).
pub const MIXES: &[(&str, &[FaultClass])] = &[
    ("partition", &[FaultClass::Partition, FaultClass::OneWayCut]),
    (
        "partition+crash",
        &[FaultClass::Partition, FaultClass::OneWayCut, FaultClass::Crash, FaultClass::Recover],
    ),
];

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub protocol: String,
    pub faults: String,
    pub participants: u32,
    pub runs: u64,
    pub committed: u64,
    pub aborted: u64,
    /// Runs with an up participant in doubt at the end of the fault phase (3 s).
    pub blocked_runs: u64,
    /// Runs that lost atomicity (AC1–AC4, durability or conservation).
    pub atomicity_violations: u64,
    /// Runs still undecided after the liveness phase (everything healed for 3 s), sagas
    /// that never ended included.
    pub termination_failures: u64,
    /// Runs a bound cut short (event budget, queue bound): counted in no verdict column.
    pub inconclusive_runs: u64,
    pub mean_decision_ms: String,
    pub p99_decision_ms: String,
    pub mean_in_doubt_ms: String,
}

/// The scenario of one run of the sweep: `protocol` under faults of `classes` drawn from `seed`.
pub fn scenario(protocol: &'static str, classes: &[FaultClass], seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, PARTICIPANTS, 6, seed);
    let spec = protocols::catalog::lookup(protocol).expect("the sweep's protocols exist");
    s.workload = Workload::bank_for(spec, PARTICIPANTS);
    s.max_in_flight = 2;
    s.fault_horizon_us = 3_000_000;
    s.liveness_bound_us = Some(3_000_000);
    let spec = protocols::catalog::lookup(protocol).expect("a catalog name");
    let roles = spec.roles(&s).expect("the sweep's scenarios are valid");
    let coordinator = roles.first("coordinator").expect("commit families have a coordinator");
    let space = FaultSpace {
        nodes: roles.nodes(),
        horizon_us: FAULT_WINDOW_US,
        classes: classes.to_vec(),
        max_faults: 4,
        marks: spec.coordinator_marks().iter().map(|m| (coordinator, m.to_string())).collect(),
        send_points: vec![],
        extra_nodes: vec![],
        crash_limit: None,
    };
    s.plan = space.generate(seed);
    s
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    let mut keys = Vec::new();
    let mut jobs = Vec::new();
    for protocol in protocols::catalog::correct_commit_protocols() {
        for &(mix, classes) in MIXES {
            keys.push((protocol, mix));
            jobs.extend(opts.seed_list().into_iter().map(|seed| scenario(protocol, classes, seed)));
        }
    }
    let per_row =
        super::measure_rows("sweep partition", &jobs, opts.seeds as usize, opts.threads, u64::MAX)?;
    Ok(keys.iter().zip(&per_row).map(|(&(p, mix), runs)| row(p, mix, runs)).collect())
}

pub fn row(protocol: &str, mix: &str, runs: &[RunMetrics]) -> Row {
    let count = |f: &dyn Fn(&RunMetrics) -> bool| runs.iter().filter(|m| f(m)).count() as u64;
    let lat: Vec<u64> = runs.iter().flat_map(|m| m.decision_latencies_us.clone()).collect();
    let doubt: Vec<u64> = runs.iter().map(RunMetrics::worst_in_doubt_us).collect();
    Row {
        protocol: protocol.to_string(),
        faults: mix.to_string(),
        participants: PARTICIPANTS,
        runs: runs.len() as u64,
        committed: runs.iter().map(|m| m.committed).sum(),
        aborted: runs.iter().map(|m| m.aborted).sum(),
        blocked_runs: count(&|m| m.blocked),
        atomicity_violations: count(&|m| m.atomicity_violated),
        termination_failures: count(&|m| m.termination_failed),
        inconclusive_runs: count(&|m| m.inconclusive),
        mean_decision_ms: ms(mean(&lat)),
        p99_decision_ms: ms(percentile(&lat, 99.0) as f64),
        mean_in_doubt_ms: ms(mean(&doubt)),
    }
}

pub fn run(opts: &Options, out: &mut impl Write) -> Result<()> {
    let rows = measure(opts)?;
    let path = opts.out.join("partition.csv");
    crate::csv_out::write_rows(&path, &rows)?;
    writeln!(out, "sweep partition: {} seeds per row; wrote {}", opts.seeds, path.display())?;
    writeln!(
        out,
        "| protocol | faults | runs | blocked runs | atomicity violations | AC5 failures |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for r in &rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.protocol,
            r.faults,
            r.runs,
            r.blocked_runs,
            r.atomicity_violations,
            r.termination_failures
        )?;
    }
    Ok(())
}
