//! Sweeps: one question asked over a range of one parameter, for every correct protocol.
//! Each writes `results/<name>.csv` (or `--out DIR`) and prints a short table; rows come out
//! in a fixed order and each is derived only from its own seeds, so the CSV does not depend
//! on `--threads`.

pub mod consensus_failover;
mod failover_plot;
pub mod gray_lamport;
pub mod partition;
pub mod scaling;
pub mod steady_state;
pub mod throughput;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

pub use partition::Partition;
pub use scaling::Scaling;
pub use throughput::Throughput;

use crate::aggregate::RunStats;
use crate::error::Result;
use crate::exit::Exit;
use crate::shard::{PartialReader, PartialWriter, SeedSpan, Shard};

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum SweepName {
    /// Random partitions and one-way cuts (optionally with crashes) that may heal:
    /// atomicity violations, blocking and termination per protocol.
    Partition(ShardedSweepArgs),
    /// N = 2..64 participants, fault-free: messages, critical-path delays, disk writes and
    /// decision latency per protocol, next to the formula for each.
    Scaling(ShardedSweepArgs),
    /// Several transactions in flight while the coordinator crashes and recovers with a
    /// growing mean time to repair: committed transactions per simulated second, lock time.
    Throughput(ShardedSweepArgs),
    /// Gray & Lamport's Table 1 measured: 2PC, Paxos Commit, Faster Paxos Commit, N = 1..8,
    /// F = 0..2, co-located or not; messages, message delays, disk writes vs. the paper.
    /// Deterministic fault-free commits: no seeds to choose.
    GrayLamport(FixedSweepArgs),
    /// Replicated logs: crash the leader at each of its marks, with several election-timeout
    /// ranges: time to a new leader, client-visible unavailability, acknowledged commands
    /// lost (must be 0: exit 1 otherwise), messages per committed command; CSV and SVG.
    ConsensusFailover(SweepArgs),
}

/// Flags of a sweep whose runs are fully determined (no seeds).
#[derive(Args, Debug, Clone, PartialEq)]
pub struct FixedSweepArgs {
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Directory for the CSV.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// Flags every sweep takes.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct SweepArgs {
    /// Seeds per row (default: the sweep's own).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: Option<u64>,
    /// First seed; rows use seeds FIRST..FIRST+SEEDS.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Directory for the CSV.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

/// Flags of a seeded sweep: [`SweepArgs`] and `--shard`.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct ShardedSweepArgs {
    #[command(flatten)]
    pub common: SweepArgs,
    /// Run only part K of N of the seeds (1 <= K <= N) and leave its partial state beside
    /// the CSV, for `commitlab merge` (see README, "Sharding").
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// Resolved sweep options.
#[derive(Clone, Debug)]
pub struct Options {
    pub seeds: u64,
    pub first_seed: u64,
    pub threads: usize,
    pub out: PathBuf,
}

impl Options {
    /// Every seed, in order (sweeps that are not sharded: their runs are not folded by seed).
    pub fn seed_list(&self) -> Vec<u64> {
        (self.first_seed..self.first_seed + self.seeds).collect()
    }
}

impl SweepArgs {
    /// The resolved options, `default_seeds` where `--seeds` is not given.
    pub fn options(&self, default_seeds: u64) -> Result<Options> {
        let seeds = self.seeds.unwrap_or(default_seeds);
        if seeds == 0 {
            return Err("--seeds 0: need at least one seed".into());
        }
        Ok(Options {
            seeds,
            first_seed: self.first_seed,
            threads: crate::parallel::thread_count(self.threads)?,
            out: self.out.clone(),
        })
    }
}

pub fn main(sweep: &SweepName, out: &mut impl Write) -> Result<Exit> {
    let started = std::time::Instant::now();
    match sweep {
        SweepName::Partition(a) => {
            run::<Partition>(&a.common.options(partition::DEFAULT_SEEDS)?, a.shard, out)?
        }
        SweepName::Scaling(a) => {
            run::<Scaling>(&a.common.options(scaling::DEFAULT_SEEDS)?, a.shard, out)?
        }
        SweepName::Throughput(a) => {
            run::<Throughput>(&a.common.options(throughput::DEFAULT_SEEDS)?, a.shard, out)?
        }
        SweepName::ConsensusFailover(a) => {
            let exit =
                consensus_failover::run(&a.options(consensus_failover::DEFAULT_SEEDS)?, out)?;
            writeln!(out, "wall time: {:.1} s", started.elapsed().as_secs_f64())?;
            return Ok(exit);
        }
        // Deterministic fault-free commits: no seeds, one run per row.
        SweepName::GrayLamport(a) => {
            let threads = crate::parallel::thread_count(a.threads)?;
            let opts = Options { seeds: 1, first_seed: 1, threads, out: a.out.clone() };
            gray_lamport::run(&opts, out)?
        }
    }
    writeln!(out, "wall time: {:.1} s", started.elapsed().as_secs_f64())?;
    Ok(Exit::Success)
}

/// A sweep over seeds: one row per key, one scenario per (key, seed), each row computed
/// from its runs folded into [`RunStats`] (so rows stream, and shards merge).
pub trait Seeded {
    /// `sweep NAME` on the command line; `NAME.csv` and `NAME.partial.jsonl` on disk.
    const NAME: &'static str;
    /// Whether rows need every lock-held interval (percentiles), not just each run's worst.
    const LOCK_HISTOGRAM: bool;
    /// The window of [`RunMetrics::of`](crate::metrics::RunMetrics::of).
    const WINDOW_US: u64;
    type Key: Sync;
    type Row: serde::Serialize;
    /// Every row's key, in row order.
    fn keys() -> Vec<Self::Key>;
    /// The key as a partial file names it.
    fn key_name(key: &Self::Key) -> String;
    fn scenario(key: &Self::Key, seed: u64) -> protocols::Scenario;
    fn row(key: &Self::Key, stats: &RunStats) -> Self::Row;
    /// The table on stdout, after the CSV is written to `path`.
    fn print(rows: &[Self::Row], seeds: u64, path: &Path, out: &mut dyn Write) -> Result<()>;
    /// What the sweep writes besides its seeded rows (the same in a single run, every shard
    /// and a merge): nothing unless a sweep says so.
    fn write_more(_opts: &Options, _out: &mut dyn Write) -> Result<()> {
        Ok(())
    }
}

/// Every row of sweep `S` over every seed of `opts`.
pub fn measure<S: Seeded>(opts: &Options) -> Result<Vec<S::Row>> {
    measure_span::<S>(opts, &SeedSpan::new(opts.first_seed, opts.seeds, None)?, None)
}

/// Every row of sweep `S` over the seeds of `span`, runs folded as they finish; each row's
/// stats also go to `partial` (a shard's partial file) when given.
fn measure_span<S: Seeded>(
    opts: &Options,
    span: &SeedSpan,
    mut partial: Option<&mut PartialWriter>,
) -> Result<Vec<S::Row>> {
    let keys = S::keys();
    let label = format!("sweep {}", S::NAME);
    if let Some(first) = keys.first() {
        S::scenario(first, opts.first_seed).validate().map_err(|e| format!("{label}: {e}"))?;
    }
    let run = |k: usize, seed: u64| {
        let s = S::scenario(&keys[k], seed);
        let report = protocols::run(&s)?.report;
        let verdicts = checkers::check(&report, &s.plan);
        Ok(crate::metrics::RunMetrics::of(&report, &verdicts, S::WINDOW_US))
    };
    let mut rows = Vec::with_capacity(keys.len());
    crate::parallel::fold_rows(
        &label,
        keys.len(),
        span,
        opts.threads,
        S::LOCK_HISTOGRAM,
        run,
        |k, stats| {
            if let Some(p) = partial.as_deref_mut() {
                p.row(&S::key_name(&keys[k]), &stats)?;
            }
            rows.push(S::row(&keys[k], &stats));
            Ok(())
        },
    )?;
    Ok(rows)
}

/// The settings a sweep's shard records and a merge checks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub seeds: u64,
    pub first_seed: u64,
}

/// `commitlab sweep NAME`; with `shard`, that part of the seeds and a partial file.
fn run<S: Seeded>(opts: &Options, shard: Option<Shard>, out: &mut impl Write) -> Result<()> {
    let span = SeedSpan::new(opts.first_seed, opts.seeds, shard)?;
    let settings = Settings { seeds: opts.seeds, first_seed: opts.first_seed };
    let lines = S::keys().len() as u64;
    let experiment = experiment::<S>();
    let mut partial =
        PartialWriter::for_shard(&opts.out, S::NAME, &experiment, settings, shard, lines)?;
    let rows = measure_span::<S>(opts, &span, partial.as_mut())?;
    write_outputs::<S>(opts, &rows, span.len(), out)?;
    PartialWriter::finish_shard(partial, &span, out)?;
    Ok(())
}

/// The experiment name of sweep `S` in partial files.
pub fn experiment<S: Seeded>() -> String {
    format!("sweep {}", S::NAME)
}

/// The CSV and the table: a single run, a shard and a merge all write through here.
pub fn write_outputs<S: Seeded>(
    opts: &Options,
    rows: &[S::Row],
    seeds: u64,
    out: &mut dyn Write,
) -> Result<()> {
    let path = opts.out.join(format!("{}.csv", S::NAME));
    crate::csv_out::write_rows(&path, rows)?;
    S::print(rows, seeds, &path, out)?;
    S::write_more(opts, out)
}

/// Merges the shards' partial files of sweep `S` (readers in shard order, past their
/// headers) into the rows one run over every seed gives, with the options to write them.
pub fn merge<S: Seeded>(
    settings: &Settings,
    readers: &mut [PartialReader],
    out: &Path,
) -> Result<(Options, Vec<S::Row>)> {
    let opts = Options {
        seeds: settings.seeds,
        first_seed: settings.first_seed,
        threads: 1,
        out: out.to_path_buf(),
    };
    let keys = S::keys();
    let names: Vec<String> = keys.iter().map(S::key_name).collect();
    let mut rows = Vec::with_capacity(keys.len());
    crate::shard::merge_rows(readers, &names, |k, stats| {
        rows.push(S::row(&keys[k], &stats));
        Ok(())
    })?;
    Ok((opts, rows))
}
