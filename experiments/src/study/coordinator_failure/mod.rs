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
use sim_core::{Action, FaultPlan, Trigger};

use serde::{Deserialize, Serialize};

use crate::aggregate::{Histogram, RunStats};
use crate::error::Result;
use crate::exit::Exit;
use crate::metrics::{RunMetrics, ms};
use crate::parallel;
use crate::shard::{PartialReader, PartialWriter, SeedSpan, Shard};

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
    s.workload = spec.bank_workload(opts.participants);
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

/// Aggregates the runs of one cell.
pub fn row(cell: &Cell, participants: u32, runs: &[RunMetrics]) -> Row {
    row_of(cell, participants, &RunStats::of_runs(runs, false))
}

/// One cell's row from its folded runs.
pub fn row_of(cell: &Cell, participants: u32, s: &RunStats) -> Row {
    let txns = s.txns_submitted.max(1);
    let per_txn = |x: u64| format!("{:.3}", x as f64 / txns as f64);
    Row {
        protocol: cell.protocol.to_string(),
        participants,
        crash_point: cell.crash_point.to_string(),
        recovery_ms: cell.recovery_ms,
        runs: s.runs,
        crashed_runs: s.crashed_runs,
        committed: s.committed,
        aborted: s.aborted,
        blocked_runs: s.blocked_runs,
        atomicity_violations: s.atomicity_violations,
        termination_failures: s.termination_failures,
        inconclusive_runs: s.inconclusive_runs,
        mean_decision_ms: ms(s.decision_us.mean()),
        median_decision_ms: ms(s.decision_us.percentile(50.0) as f64),
        p99_decision_ms: ms(s.decision_us.percentile(99.0) as f64),
        mean_in_doubt_ms: ms(s.worst_in_doubt_us.mean()),
        max_in_doubt_ms: ms(s.worst_in_doubt_us.max as f64),
        mean_lock_held_ms: ms(s.worst_lock_held_us.mean()),
        messages_per_txn: per_txn(s.protocol_messages),
        disk_writes_per_txn: per_txn(s.disk_writes),
        mean_anomaly_ms: ms(s.anomaly_us.mean()),
        anomalous_reads_per_run: format!("{:.3}", s.anomalous_reads.mean()),
    }
}

/// Per protocol (catalog order), the median of every decision latency of the study, in
/// microseconds.
pub type MediansUs = Vec<(String, u64)>;

/// What the study keeps of its rows as they complete (in row order): the CSV rows, and one
/// latency histogram for the protocol whose rows are coming in (its median is taken, and
/// the histogram dropped, when the next protocol's first row arrives).
struct Collect<'a> {
    cells: &'a [Cell],
    participants: u32,
    rows: Vec<Row>,
    medians: MediansUs,
    open: Option<(&'static str, Histogram)>,
}

impl<'a> Collect<'a> {
    fn new(cells: &'a [Cell], participants: u32) -> Self {
        Collect { cells, participants, rows: Vec::new(), medians: Vec::new(), open: None }
    }

    fn add(&mut self, c: usize, stats: &RunStats) {
        assert_eq!(c, self.rows.len(), "rows arrive in order");
        let cell = &self.cells[c];
        self.rows.push(row_of(cell, self.participants, stats));
        match &mut self.open {
            Some((p, h)) if *p == cell.protocol => h.merge(&stats.decision_us),
            _ => {
                self.close();
                self.open = Some((cell.protocol, stats.decision_us.clone()));
            }
        }
    }

    fn close(&mut self) {
        if let Some((p, h)) = self.open.take() {
            self.medians.push((p.to_string(), h.percentile(50.0)));
        }
    }

    fn finish(mut self) -> (Vec<Row>, MediansUs) {
        self.close();
        assert_eq!(self.rows.len(), self.cells.len(), "every cell has its row");
        (self.rows, self.medians)
    }
}

/// A cell's key in a shard's partial file.
fn cell_key(c: &Cell) -> String {
    let rec = c.recovery_ms.map_or("never".to_string(), |ms| format!("{ms}ms"));
    format!("{} {} {rec}", c.protocol, c.crash_point)
}

/// Runs every cell × seed; returns the rows and every protocol's median decision latency.
pub fn measure(opts: &Options) -> Result<(Vec<Row>, MediansUs)> {
    measure_span(opts, &SeedSpan::new(opts.first_seed, opts.seeds, None)?, None)
}

/// Runs every cell × the seeds of `span`, folding runs as they finish; each cell's stats
/// also go to `partial` (a shard's partial file) when given.
fn measure_span(
    opts: &Options,
    span: &SeedSpan,
    mut partial: Option<&mut PartialWriter>,
) -> Result<(Vec<Row>, MediansUs)> {
    let cells = cells();
    // Validate the shape once, before anything runs.
    scenario(&cells[0], opts, opts.first_seed).validate().map_err(|e| format!("study: {e}"))?;
    let mut collect = Collect::new(&cells, opts.participants);
    let run = |c: usize, seed: u64| {
        let s = scenario(&cells[c], opts, seed);
        let report = protocols::run(&s)?.report;
        let verdicts = checkers::check(&report, &s.plan);
        Ok(RunMetrics::of(&report, &verdicts, u64::MAX))
    };
    parallel::fold_rows(
        "coordinator-failure",
        cells.len(),
        span,
        opts.threads,
        false,
        run,
        |c, stats| {
            if let Some(p) = partial.as_deref_mut() {
                p.row(&cell_key(&cells[c]), &stats)?;
            }
            collect.add(c, &stats);
            Ok(())
        },
    )?;
    Ok(collect.finish())
}

/// The settings a shard records and a merge checks: everything the outputs depend on but
/// the shard (threads change nothing; the output directory is the merge's own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub seeds: u64,
    pub first_seed: u64,
    pub participants: u32,
    pub txns: u64,
    pub plots: bool,
}

/// The experiment name in partial files.
pub const EXPERIMENT: &str = "study coordinator-failure";
/// The stem of the CSV and of the partial file.
const STEM: &str = "coordinator_failure";

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

pub fn summarize(rows: &[Row], medians_us: &[(String, u64)]) -> Vec<ProtocolSummary> {
    medians_us
        .iter()
        .map(|(protocol, median_us)| {
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
                median_decision_us: *median_us,
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

/// `commitlab study coordinator-failure`; with `shard`, only that part of the seeds, and
/// `coordinator_failure.partial.jsonl` for `commitlab merge` beside the outputs.
pub fn run(opts: &Options, shard: Option<Shard>, out: &mut impl Write) -> Result<Exit> {
    let started = std::time::Instant::now();
    let span = SeedSpan::new(opts.first_seed, opts.seeds, shard)?;
    let settings = Settings {
        seeds: opts.seeds,
        first_seed: opts.first_seed,
        participants: opts.participants,
        txns: opts.txns,
        plots: opts.plots,
    };
    let lines = cells().len() as u64;
    let mut partial =
        PartialWriter::for_shard(&opts.out, STEM, EXPERIMENT, settings, shard, lines)?;
    let (rows, medians) = measure_span(opts, &span, partial.as_mut())?;
    write_outputs(opts, &rows, &medians, span.len(), out)?;
    PartialWriter::finish_shard(partial, &span, out)?;
    writeln!(
        out,
        "wall time: {:.1} s on {} threads",
        started.elapsed().as_secs_f64(),
        opts.threads
    )?;
    Ok(Exit::Success)
}

/// Merges the shards' partial files (readers in shard order, past their headers) into the
/// rows and medians one run over every seed gives; returns them with the options to
/// write them with (`out` the merge's directory).
pub fn merge(
    settings: &Settings,
    readers: &mut [PartialReader],
    out: &std::path::Path,
) -> Result<(Options, Vec<Row>, MediansUs)> {
    let opts = Options {
        seeds: settings.seeds,
        first_seed: settings.first_seed,
        participants: settings.participants,
        txns: settings.txns,
        threads: 1,
        out: out.to_path_buf(),
        plots: settings.plots,
    };
    let cells = cells();
    let keys: Vec<String> = cells.iter().map(cell_key).collect();
    let mut collect = Collect::new(&cells, opts.participants);
    crate::shard::merge_rows(readers, &keys, |c, stats| {
        collect.add(c, &stats);
        Ok(())
    })?;
    let (rows, medians) = collect.finish();
    Ok((opts, rows, medians))
}

/// The study's outputs from its rows: the CSV, the plots (unless turned off) and the
/// summary on `out`. A single run, a shard and a merge all write through here.
pub fn write_outputs(
    opts: &Options,
    rows: &[Row],
    medians: &[(String, u64)],
    seeds: u64,
    out: &mut impl Write,
) -> Result<()> {
    let csv = opts.out.join(format!("{STEM}.csv"));
    crate::csv_out::write_rows(&csv, rows)?;
    writeln!(
        out,
        "coordinator-failure: {} protocols x their coordinator marks x 4 recoveries x {} seeds = {} runs",
        medians.len(),
        seeds,
        rows.iter().map(|r| r.runs).sum::<u64>()
    )?;
    writeln!(out, "wrote {}", csv.display())?;
    if opts.plots {
        for path in plots::coordinator_failure(rows, &opts.out)? {
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    writeln!(out)?;
    write_summary(out, &summarize(rows, medians))?;
    writeln!(out)?;
    writeln!(
        out,
        "decision latency: client submitted -> client learned, per transaction; blocking: recovery never, judged {} s after start",
        FAULT_HORIZON_US / 1_000_000
    )?;
    Ok(())
}
