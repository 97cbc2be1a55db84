//! `commitlab sweep partition`: random partitions and one-way cuts, healing or not, drawn
//! per seed by the swarm generator (optionally mixed with crashes of any node, triggered on
//! coordinator marks or at random times). Skeen's result is the expectation: 3PC is
//! non-blocking under crashes but loses atomicity under partitions; 2PC stays atomic but
//! blocks.

use std::io::Write;
use std::path::Path;

use protocols::Scenario;
use serde::Serialize;
use sim_core::{FaultClass, FaultSpace};

use super::Options;
use crate::aggregate::RunStats;
use crate::error::Result;
use crate::metrics::{RunMetrics, ms};

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
    s.workload = spec.bank_workload(PARTICIPANTS);
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
        crash_limits: Vec::new(),
    };
    s.plan = space.generate(seed);
    s
}

/// The partition sweep's rows: protocol × fault mix.
pub struct Partition;

impl super::Seeded for Partition {
    const NAME: &'static str = "partition";
    const LOCK_HISTOGRAM: bool = false;
    const WINDOW_US: u64 = u64::MAX;
    type Key = (&'static str, &'static str, &'static [FaultClass]);
    type Row = Row;

    fn keys() -> Vec<Self::Key> {
        let mut keys = Vec::new();
        for protocol in protocols::catalog::correct_commit_protocols() {
            for &(mix, classes) in MIXES {
                keys.push((protocol, mix, classes));
            }
        }
        keys
    }

    fn key_name(&(protocol, mix, _): &Self::Key) -> String {
        format!("{protocol} {mix}")
    }

    fn scenario(&(protocol, _, classes): &Self::Key, seed: u64) -> Scenario {
        scenario(protocol, classes, seed)
    }

    fn row(&(protocol, mix, _): &Self::Key, stats: &RunStats) -> Row {
        row_of(protocol, mix, stats)
    }

    fn print(rows: &[Row], seeds: u64, path: &Path, out: &mut dyn Write) -> Result<()> {
        writeln!(out, "sweep partition: {seeds} seeds per row; wrote {}", path.display())?;
        writeln!(
            out,
            "| protocol | faults | runs | blocked runs | atomicity violations | AC5 failures |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        for r in rows {
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
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    super::measure::<Partition>(opts)
}

pub fn row(protocol: &str, mix: &str, runs: &[RunMetrics]) -> Row {
    row_of(protocol, mix, &RunStats::of_runs(runs, false))
}

fn row_of(protocol: &str, mix: &str, s: &RunStats) -> Row {
    Row {
        protocol: protocol.to_string(),
        faults: mix.to_string(),
        participants: PARTICIPANTS,
        runs: s.runs,
        committed: s.committed,
        aborted: s.aborted,
        blocked_runs: s.blocked_runs,
        atomicity_violations: s.atomicity_violations,
        termination_failures: s.termination_failures,
        inconclusive_runs: s.inconclusive_runs,
        mean_decision_ms: ms(s.decision_us.mean()),
        p99_decision_ms: ms(s.decision_us.percentile(99.0) as f64),
        mean_in_doubt_ms: ms(s.worst_in_doubt_us.mean()),
    }
}
