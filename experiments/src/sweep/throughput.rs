//! `commitlab sweep throughput`: the bank workload with several transactions in flight
//! while the coordinator fails and is repaired over and over. Failures arrive as a Poisson
//! process (exponential time to failure, mean `MTTF_MS`), each repair takes an exponential
//! time with the row's mean (MTTR); both are drawn from the run's own seeded stream, so a
//! row depends only on its seeds. Measured over a fixed window of simulated time: committed
//! transactions per simulated second and how long participants hold locks, as MTTR grows.

use std::io::Write;
use std::path::Path;

use protocols::Scenario;
use serde::Serialize;
use sim_core::rng::{StreamDomain, exponential_us, stream};
use sim_core::{Action, Fault, FaultPlan, NodeId, Trigger};

use super::Options;
use crate::aggregate::RunStats;
use crate::error::Result;
use crate::metrics::ms;

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
    s.workload = spec.bank_workload(PARTICIPANTS);
    s.max_in_flight = IN_FLIGHT;
    s.fault_horizon_us = WINDOW_US;
    s.liveness_bound_us = None;
    s.plan = crash_plan(seed, mttr_ms);
    s
}

/// The throughput sweep's rows: protocol × MTTR.
pub struct Throughput;

impl super::Seeded for Throughput {
    const NAME: &'static str = "throughput";
    const LOCK_HISTOGRAM: bool = true;
    const WINDOW_US: u64 = WINDOW_US;
    type Key = (&'static str, u64);
    type Row = Row;

    fn keys() -> Vec<Self::Key> {
        let mut keys = Vec::new();
        for protocol in protocols::catalog::correct_commit_protocols() {
            for mttr in MTTRS_MS {
                keys.push((protocol, mttr));
            }
        }
        keys
    }

    fn key_name(&(protocol, mttr): &Self::Key) -> String {
        format!("{protocol} mttr={mttr}ms")
    }

    fn scenario(&(protocol, mttr): &Self::Key, seed: u64) -> Scenario {
        scenario(protocol, mttr, seed)
    }

    fn row(&(protocol, mttr): &Self::Key, stats: &RunStats) -> Row {
        row(protocol, mttr, stats)
    }

    fn print(rows: &[Row], _seeds: u64, path: &Path, out: &mut dyn Write) -> Result<()> {
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
        for r in rows {
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
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    super::measure::<Throughput>(opts)
}

fn row(protocol: &str, mttr_ms: u64, s: &RunStats) -> Row {
    let n = s.runs.max(1) as f64;
    let window_s = WINDOW_US as f64 / 1e6;
    let locks = s.lock_held_us.as_ref().expect("the throughput sweep keeps lock intervals");
    Row {
        protocol: protocol.to_string(),
        mttr_ms: (mttr_ms > 0).then_some(mttr_ms),
        mttf_ms: MTTF_MS,
        participants: PARTICIPANTS,
        in_flight: IN_FLIGHT,
        runs: s.runs,
        window_s: format!("{window_s:.1}"),
        crashes_per_run: format!("{:.2}", s.crashes as f64 / n),
        committed_per_sim_s: format!("{:.1}", s.committed_in_window as f64 / n / window_s),
        aborted_per_sim_s: format!("{:.1}", s.aborted as f64 / n / window_s),
        mean_lock_held_ms: ms(locks.mean()),
        p99_lock_held_ms: ms(locks.percentile(99.0) as f64),
        mean_decision_ms: ms(s.decision_us.mean()),
        p99_decision_ms: ms(s.decision_us.percentile(99.0) as f64),
        atomicity_violations: s.atomicity_violations,
        inconclusive_runs: s.inconclusive_runs,
    }
}
