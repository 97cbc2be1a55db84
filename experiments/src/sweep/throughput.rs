//! `commitlab sweep throughput`: the bank workload with several transactions in flight
//! while the coordinator fails and is repaired over and over. Failures arrive as a Poisson
//! process (exponential time to failure, mean `MTTF_MS`), each repair takes an exponential
//! time with the row's mean (MTTR); both are drawn from the run's own seeded stream, so a
//! row depends only on its seeds. Measured over a fixed window of simulated time: committed
//! transactions per simulated second and how long participants hold locks, as MTTR grows.

use std::io::Write;

use protocols::Scenario;
use protocols::workload::Workload;
use serde::Serialize;
use sim_core::rng::{StreamDomain, exponential_us, stream};
use sim_core::{Action, Fault, FaultPlan, NodeId, Trigger};

use super::Options;
use crate::error::Result;
use crate::metrics::{RunMetrics, mean, ms, percentile};

pub const DEFAULT_SEEDS: u64 = 20;
/// Mean repair times; 0 is the failure-free baseline.
pub const MTTRS_MS: [u64; 6] = [0, 10, 30, 100, 300, 1000];
/// Mean time between a repair and the next failure.
pub const MTTF_MS: u64 = 200;
/// The measured window of simulated time.
pub const WINDOW_US: u64 = 2_000_000;
const PARTICIPANTS: u32 = 4;
const IN_FLIGHT: u32 = 4;

/// The coordinator's failures and repairs over the window, drawn from `seed`'s own stream.
pub fn crash_plan(seed: u64, mttr_ms: u64) -> FaultPlan {
    if mttr_ms == 0 {
        return FaultPlan::none();
    }
    let mut rng = stream(seed, StreamDomain::User, 0x7468_7270, mttr_ms);
    let mut faults = Vec::new();
    let mut t = 0u64;
    loop {
        t += exponential_us(&mut rng, MTTF_MS * 1000).max(1);
        if t >= WINDOW_US {
            break;
        }
        let repair = exponential_us(&mut rng, mttr_ms * 1000).max(1);
        faults.push(Fault {
            trigger: Trigger::Time { at_us: t },
            action: Action::Crash { node: NodeId(0), recover_after_us: Some(repair) },
        });
        t += repair;
    }
    FaultPlan::new(faults)
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub protocol: String,
    /// Empty for the failure-free baseline.
    pub mttr_ms: Option<u64>,
    pub mttf_ms: u64,
    pub participants: u32,
    pub in_flight: u32,
    pub runs: u64,
    pub window_s: String,
    pub crashes_per_run: String,
    /// Transactions the client learned committed within the window, per simulated second.
    pub committed_per_sim_s: String,
    pub aborted_per_sim_s: String,
    /// Over every (participant, transaction) lock interval.
    pub mean_lock_held_ms: String,
    pub p99_lock_held_ms: String,
    pub mean_decision_ms: String,
    pub p99_decision_ms: String,
    pub atomicity_violations: u64,
    /// Runs a bound (the event budget, the queue) cut short: their rates are not comparable.
    pub inconclusive_runs: u64,
}

fn scenario(protocol: &str, mttr_ms: u64, seed: u64) -> Scenario {
    // More transactions than the window can hold: the client is never idle.
    let mut s = Scenario::new(protocol, PARTICIPANTS, 1_000_000, seed);
    let spec = protocols::catalog::lookup(protocol).expect("the sweep's protocols exist");
    s.workload = Workload::bank_for(spec, PARTICIPANTS);
    s.max_in_flight = IN_FLIGHT;
    s.fault_horizon_us = WINDOW_US;
    s.liveness_bound_us = None;
    s.plan = crash_plan(seed, mttr_ms);
    s
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    let mut keys = Vec::new();
    let mut jobs = Vec::new();
    for protocol in protocols::catalog::correct_commit_protocols() {
        for mttr in MTTRS_MS {
            keys.push((protocol, mttr));
            jobs.extend(opts.seed_list().into_iter().map(|seed| scenario(protocol, mttr, seed)));
        }
    }
    let per_row = super::measure_rows(
        "sweep throughput",
        &jobs,
        opts.seeds as usize,
        opts.threads,
        WINDOW_US,
    )?;
    Ok(keys.iter().zip(&per_row).map(|(&(p, mttr), runs)| row(p, mttr, runs)).collect())
}

fn row(protocol: &str, mttr_ms: u64, runs: &[RunMetrics]) -> Row {
    let n = runs.len().max(1) as f64;
    let window_s = WINDOW_US as f64 / 1e6;
    let locks: Vec<u64> = runs.iter().flat_map(|m| m.lock_held_us.clone()).collect();
    let lat: Vec<u64> = runs.iter().flat_map(|m| m.decision_latencies_us.clone()).collect();
    let committed: u64 = runs.iter().map(|m| m.committed_in_window).sum();
    let aborted: u64 = runs.iter().map(|m| m.aborted).sum();
    let crashes: u64 = runs.iter().map(|m| m.crashes).sum();
    Row {
        protocol: protocol.to_string(),
        mttr_ms: (mttr_ms > 0).then_some(mttr_ms),
        mttf_ms: MTTF_MS,
        participants: PARTICIPANTS,
        in_flight: IN_FLIGHT,
        runs: runs.len() as u64,
        window_s: format!("{window_s:.1}"),
        crashes_per_run: format!("{:.2}", crashes as f64 / n),
        committed_per_sim_s: format!("{:.1}", committed as f64 / n / window_s),
        aborted_per_sim_s: format!("{:.1}", aborted as f64 / n / window_s),
        mean_lock_held_ms: ms(mean(&locks)),
        p99_lock_held_ms: ms(percentile(&locks, 99.0) as f64),
        mean_decision_ms: ms(mean(&lat)),
        p99_decision_ms: ms(percentile(&lat, 99.0) as f64),
        atomicity_violations: runs.iter().filter(|m| m.atomicity_violated).count() as u64,
        inconclusive_runs: runs.iter().filter(|m| m.inconclusive).count() as u64,
    }
}

pub fn run(opts: &Options, out: &mut impl Write) -> Result<()> {
    let rows = measure(opts)?;
    let path = opts.out.join("throughput.csv");
    crate::csv_out::write_rows(&path, &rows)?;
    writeln!(
        out,
        "sweep throughput: {} in flight, coordinator MTTF {MTTF_MS} ms, {} s window; wrote {}",
        IN_FLIGHT,
        WINDOW_US / 1_000_000,
        path.display()
    )?;
    writeln!(
        out,
        "| protocol | MTTR ms | crashes/run | commits/sim s | mean lock held ms | p99 lock held ms |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for r in &rows {
        let mttr = r.mttr_ms.map(|m| m.to_string()).unwrap_or_else(|| "no failures".into());
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.protocol,
            mttr,
            r.crashes_per_run,
            r.committed_per_sim_s,
            r.mean_lock_held_ms,
            r.p99_lock_held_ms
        )?;
    }
    Ok(())
}
