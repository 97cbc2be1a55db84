//! The coordinator-failure study: what a coordinator crash does to each commit protocol.
//!
//! For every correct protocol in the catalog, every mark its coordinator emits, and every
//! recovery delay (never, 10 ms, 100 ms, 1 s), run `seeds` bank-workload scenarios in which
//! the coordinator crashes right after its first emission of that mark. A run is a pure
//! function of (protocol, mark, recovery, seed); rows come out in catalog × mark × recovery
//! order, so the CSV is the same on any number of threads.
//!
//! "Never" means the coordinator stays down for the whole fault phase (3 s): blocking is
//! judged at its end; the liveness phase that follows recovers it, so in-doubt and lock times
//! of a blocked participant run to the end of the fault phase.

use std::io::Write;
use std::path::PathBuf;

use protocols::Scenario;
use protocols::workload::Workload;
use sim_core::{Action, FaultPlan, Trigger};

use crate::error::Result;
use crate::exit::Exit;
use crate::metrics::{RunMetrics, mean, ms, percentile};
use crate::parallel;

mod plots;
mod row;

pub use row::{FAULT_HORIZON_US, RECOVERIES_MS, Row};

pub const LIVENESS_BOUND_US: u64 = 3_000_000;

#[derive(Clone, Debug)]
pub struct Options {
    pub seeds: u64,
    /// Seeds are `first_seed..first_seed + seeds`, the same for every row.
    pub first_seed: u64,
    pub participants: u32,
    pub txns: u64,
    pub threads: usize,
    pub out: PathBuf,
    pub plots: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seeds: DEFAULT_SEEDS,
            first_seed: 1,
            participants: 3,
            txns: 4,
            threads: 1,
            out: PathBuf::from("results"),
            plots: true,
        }
    }
}

/// Enough for rates to two digits, and the whole default study under a minute on 2 cores.
pub const DEFAULT_SEEDS: u64 = 1000;

/// One (protocol, crash point, recovery) cell.
#[derive(Clone, Debug)]
pub struct Cell {
    pub protocol: &'static str,
    pub crash_point: &'static str,
    pub recovery_ms: Option<u64>,
}

/// Every cell, in row order: catalog order, then the coordinator's mark order, then recovery.
pub fn cells() -> Vec<Cell> {
    let mut out = Vec::new();
    for spec in protocols::catalog().iter().filter(|s| s.correct && s.decides_transactions()) {
        for &crash_point in spec.coordinator_marks() {
            for recovery_ms in RECOVERIES_MS {
                out.push(Cell { protocol: spec.name, crash_point, recovery_ms });
            }
        }
    }
    out
}

/// The study's scenario without its fault: bank workload (sagas: the order saga), fault and
/// liveness phases.
pub fn fault_free_scenario(protocol: &str, opts: &Options, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, opts.participants, opts.txns, seed);
    let spec = protocols::catalog::lookup(protocol).expect("the study's protocols exist");
    s.workload = Workload::bank_for(spec, opts.participants);
    s.fault_horizon_us = FAULT_HORIZON_US;
    s.liveness_bound_us = Some(LIVENESS_BOUND_US);
    s
}

/// The scenario of one run.
pub fn scenario(cell: &Cell, opts: &Options, seed: u64) -> Scenario {
    let mut s = fault_free_scenario(cell.protocol, opts, seed);
    let roles = protocols::catalog::roles(&s).expect("the study's scenarios are valid");
    let coordinator = roles.first("coordinator").expect("every commit family has a coordinator");
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: coordinator, mark: cell.crash_point.to_string(), nth: 1 },
        Action::Crash { node: coordinator, recover_after_us: cell.recovery_ms.map(|ms| ms * 1000) },
    );
    s
}

/// Aggregates the runs of one cell (in seed order).
pub fn row(cell: &Cell, participants: u32, runs: &[RunMetrics]) -> Row {
    let n = runs.len() as u64;
    let count = |f: &dyn Fn(&RunMetrics) -> bool| runs.iter().filter(|m| f(m)).count() as u64;
    let latencies: Vec<u64> =
        runs.iter().flat_map(|m| m.decision_latencies_us.iter().copied()).collect();
    let worst_doubt: Vec<u64> = runs.iter().map(RunMetrics::worst_in_doubt_us).collect();
    let worst_locks: Vec<u64> = runs.iter().map(RunMetrics::worst_lock_held_us).collect();
    let anomaly: Vec<u64> = runs.iter().map(|m| m.anomaly_us).collect();
    let anomalous_reads: Vec<u64> = runs.iter().map(|m| m.anomalous_reads).collect();
    let txns: u64 = runs.iter().map(|m| m.txns_submitted).sum::<u64>().max(1);
    let per_txn = |x: u64| format!("{:.3}", x as f64 / txns as f64);
    Row {
        protocol: cell.protocol.to_string(),
        participants,
        crash_point: cell.crash_point.to_string(),
        recovery_ms: cell.recovery_ms,
        runs: n,
        crashed_runs: count(&|m| m.crashes > 0),
        committed: runs.iter().map(|m| m.committed).sum(),
        aborted: runs.iter().map(|m| m.aborted).sum(),
        blocked_runs: count(&|m| m.blocked),
        atomicity_violations: count(&|m| m.atomicity_violated),
        termination_failures: count(&|m| m.termination_failed),
        inconclusive_runs: count(&|m| m.inconclusive),
        mean_decision_ms: ms(mean(&latencies)),
        median_decision_ms: ms(percentile(&latencies, 50.0) as f64),
        p99_decision_ms: ms(percentile(&latencies, 99.0) as f64),
        mean_in_doubt_ms: ms(mean(&worst_doubt)),
        max_in_doubt_ms: ms(worst_doubt.iter().copied().max().unwrap_or(0) as f64),
        mean_lock_held_ms: ms(mean(&worst_locks)),
        messages_per_txn: per_txn(runs.iter().map(|m| m.protocol_messages).sum()),
        disk_writes_per_txn: per_txn(runs.iter().map(|m| m.disk_writes).sum()),
        mean_anomaly_ms: ms(mean(&anomaly)),
        anomalous_reads_per_run: format!("{:.3}", mean(&anomalous_reads)),
    }
}

/// Per protocol (catalog order), every decision latency of the study, in microseconds.
pub type LatenciesUs = Vec<(String, Vec<u64>)>;

/// Runs every cell × seed; returns the rows and every decision latency per protocol.
pub fn measure(opts: &Options) -> Result<(Vec<Row>, LatenciesUs)> {
    if opts.seeds == 0 {
        return Err("--seeds 0: need at least one seed".into());
    }
    let cells = cells();
    // Validate the shape once, before anything runs.
    scenario(&cells[0], opts, opts.first_seed).validate().map_err(|e| format!("study: {e}"))?;
    let jobs: Vec<(usize, u64)> = (0..cells.len())
        .flat_map(|c| (0..opts.seeds).map(move |i| (c, opts.first_seed.wrapping_add(i))))
        .collect();
    let results = parallel::run_all("coordinator-failure", &jobs, opts.threads, |&(c, seed)| {
        let s = scenario(&cells[c], opts, seed);
        let report = protocols::run(&s)?.report;
        let verdicts = checkers::check(&report, &s.plan);
        Ok(RunMetrics::of(&report, &verdicts, u64::MAX))
    })?;
    let per_cell: Vec<&[RunMetrics]> = results.chunks(opts.seeds as usize).collect();
    let rows: Vec<Row> =
        cells.iter().zip(&per_cell).map(|(c, runs)| row(c, opts.participants, runs)).collect();
    let mut latencies: LatenciesUs = Vec::new();
    for (c, runs) in cells.iter().zip(&per_cell) {
        if latencies.last().is_none_or(|(p, _)| p != c.protocol) {
            latencies.push((c.protocol.to_string(), Vec::new()));
        }
        let all = &mut latencies.last_mut().expect("pushed above").1;
        all.extend(runs.iter().flat_map(|m| m.decision_latencies_us.iter().copied()));
    }
    Ok((rows, latencies))
}

/// One line of the summary table.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolSummary {
    pub protocol: String,
    /// Crash points where some run blocked with recovery never.
    pub blocking_points: Vec<String>,
    pub crash_points: usize,
    /// Blocked runs over runs, recovery never.
    pub blocked_runs: u64,
    pub never_runs: u64,
    pub atomicity_violations: u64,
    pub runs: u64,
    pub median_decision_us: u64,
}

pub fn summarize(rows: &[Row], latencies: &[(String, Vec<u64>)]) -> Vec<ProtocolSummary> {
    latencies
        .iter()
        .map(|(protocol, lat)| {
            let mine: Vec<&Row> = rows.iter().filter(|r| &r.protocol == protocol).collect();
            let never: Vec<&&Row> = mine.iter().filter(|r| r.recovery_ms.is_none()).collect();
            ProtocolSummary {
                protocol: protocol.clone(),
                blocking_points: never
                    .iter()
                    .filter(|r| r.blocked_runs > 0)
                    .map(|r| r.crash_point.clone())
                    .collect(),
                crash_points: never.len(),
                blocked_runs: never.iter().map(|r| r.blocked_runs).sum(),
                never_runs: never.iter().map(|r| r.runs).sum(),
                atomicity_violations: mine.iter().map(|r| r.atomicity_violations).sum(),
                runs: mine.iter().map(|r| r.runs).sum(),
                median_decision_us: percentile(lat, 50.0),
            }
        })
        .collect()
}

/// The summary table, as Markdown (the README shows it as printed).
pub fn write_summary(out: &mut impl Write, summary: &[ProtocolSummary]) -> std::io::Result<()> {
    writeln!(
        out,
        "| protocol | blocks under coordinator crash | atomicity violations | median decision latency |"
    )?;
    writeln!(out, "|---|---|---|---|")?;
    for s in summary {
        let blocks = if s.blocking_points.is_empty() {
            format!("no (0 of {} runs)", s.never_runs)
        } else {
            format!(
                "yes: {:.1}% of runs; at {} of {} crash points ({})",
                100.0 * s.blocked_runs as f64 / s.never_runs.max(1) as f64,
                s.blocking_points.len(),
                s.crash_points,
                s.blocking_points.join(", ")
            )
        };
        writeln!(
            out,
            "| {} | {} | {} of {} runs | {} ms |",
            s.protocol,
            blocks,
            s.atomicity_violations,
            s.runs,
            ms(s.median_decision_us as f64)
        )?;
    }
    Ok(())
}

/// `commitlab study coordinator-failure`.
pub fn run(opts: &Options, out: &mut impl Write) -> Result<Exit> {
    let started = std::time::Instant::now();
    let (rows, latencies) = measure(opts)?;
    let csv = opts.out.join("coordinator_failure.csv");
    crate::csv_out::write_rows(&csv, &rows)?;
    writeln!(
        out,
        "coordinator-failure: {} protocols x their coordinator marks x 4 recoveries x {} seeds = {} runs",
        latencies.len(),
        opts.seeds,
        rows.iter().map(|r| r.runs).sum::<u64>()
    )?;
    writeln!(out, "wrote {}", csv.display())?;
    if opts.plots {
        for path in plots::coordinator_failure(&rows, &opts.out)? {
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    writeln!(out)?;
    write_summary(out, &summarize(&rows, &latencies))?;
    writeln!(out)?;
    writeln!(
        out,
        "decision latency: client submitted -> client learned, per transaction; blocking: recovery never, judged {} s after start",
        FAULT_HORIZON_US / 1_000_000
    )?;
    writeln!(
        out,
        "wall time: {:.1} s on {} threads",
        started.elapsed().as_secs_f64(),
        opts.threads
    )?;
    Ok(Exit::Success)
}
