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
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::exit::Exit;

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum SweepName {
    /// Random partitions and one-way cuts (optionally with crashes) that may heal:
    /// atomicity violations, blocking and termination per protocol.
    Partition(SweepArgs),
    /// N = 2..64 participants, fault-free: messages, critical-path delays, disk writes and
    /// decision latency per protocol, next to the formula for each.
    Scaling(SweepArgs),
    /// Several transactions in flight while the coordinator crashes and recovers with a
    /// growing mean time to repair: committed transactions per simulated second, lock time.
    Throughput(SweepArgs),
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

/// Resolved sweep options.
#[derive(Clone, Debug)]
pub struct Options {
    pub seeds: u64,
    pub first_seed: u64,
    pub threads: usize,
    pub out: PathBuf,
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

impl Options {
    /// The seeds of every row.
    pub fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds).map(|i| self.first_seed.wrapping_add(i)).collect()
    }
}

pub fn main(sweep: &SweepName, out: &mut impl Write) -> Result<Exit> {
    let started = std::time::Instant::now();
    match sweep {
        SweepName::Partition(a) => partition::run(&a.options(partition::DEFAULT_SEEDS)?, out)?,
        SweepName::Scaling(a) => scaling::run(&a.options(scaling::DEFAULT_SEEDS)?, out)?,
        SweepName::Throughput(a) => throughput::run(&a.options(throughput::DEFAULT_SEEDS)?, out)?,
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

/// Runs `scenarios` (jobs of `(row, scenario)`, rows in order, `seeds` jobs per row) and
/// returns each row's metrics in seed order.
pub(crate) fn measure_rows(
    label: &str,
    jobs: &[protocols::Scenario],
    seeds: usize,
    threads: usize,
    window_us: u64,
) -> Result<Vec<Vec<crate::metrics::RunMetrics>>> {
    if let Some(first) = jobs.first() {
        first.validate().map_err(|e| format!("{label}: {e}"))?;
    }
    let results = crate::parallel::run_all(label, jobs, threads, |s| {
        let report = protocols::run(s)?.report;
        let verdicts = checkers::check(&report, &s.plan);
        Ok(crate::metrics::RunMetrics::of(&report, &verdicts, window_us))
    })?;
    Ok(results.chunks(seeds).map(<[_]>::to_vec).collect())
}
