//! Named studies: experiments that answer one question across every correct protocol.
//! `commitlab study coordinator-failure` is also what `commitlab` does with no subcommand.

pub mod coordinator_failure;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::Result;
use crate::exit::Exit;

#[derive(Subcommand, Debug, Clone, PartialEq)]
pub enum StudyName {
    /// Crash the coordinator at each of its marks, recovery never/10ms/100ms/1s, every
    /// correct protocol, bank workload; CSV, SVG plots and a summary table.
    CoordinatorFailure(CoordinatorFailureArgs),
}

impl StudyName {
    /// What `commitlab` runs with no subcommand: the coordinator-failure study, defaults.
    pub fn default_study() -> StudyName {
        StudyName::CoordinatorFailure(CoordinatorFailureArgs::default())
    }
}

#[derive(Args, Debug, Clone, PartialEq)]
pub struct CoordinatorFailureArgs {
    /// Seeds per (protocol, crash point, recovery) row.
    #[arg(long, default_value_t = coordinator_failure::DEFAULT_SEEDS, value_parser = clap::value_parser!(u64).range(1..))]
    pub seeds: u64,
    /// First seed; rows use seeds FIRST..FIRST+SEEDS.
    #[arg(long, default_value_t = 1)]
    pub first_seed: u64,
    /// Participants per run (the bank workload needs at least 2).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(2..=crate::MAX_PARTICIPANTS))]
    pub participants: u32,
    /// Transactions per run (the coordinator crashes during the first).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    pub txns: u64,
    /// Worker threads (default: every core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Directory for coordinator_failure.csv and the plots.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Skip the SVG plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Run only part K of N of the seeds (1 <= K <= N) and leave its partial state beside
    /// the outputs, for `commitlab merge` (see README, "Sharding").
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
}

impl Default for CoordinatorFailureArgs {
    /// The same values as the clap defaults (a test keeps them equal).
    fn default() -> Self {
        let o = coordinator_failure::Options::default();
        CoordinatorFailureArgs {
            seeds: o.seeds,
            first_seed: o.first_seed,
            participants: o.participants,
            txns: o.txns,
            threads: None,
            out: o.out,
            no_plots: !o.plots,
            shard: None,
        }
    }
}

pub fn main(study: &StudyName, out: &mut impl Write) -> Result<Exit> {
    match study {
        StudyName::CoordinatorFailure(a) => {
            let opts = coordinator_failure::Options {
                seeds: a.seeds,
                first_seed: a.first_seed,
                participants: a.participants,
                txns: a.txns,
                threads: crate::parallel::thread_count(a.threads)?,
                out: a.out.clone(),
                plots: !a.no_plots,
            };
            coordinator_failure::run(&opts, a.shard, out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(subcommand)]
        study: StudyName,
    }

    #[test]
    fn the_default_study_is_the_command_line_default() {
        let parsed = Wrap::parse_from(["x", "coordinator-failure"]).study;
        assert_eq!(parsed, StudyName::default_study());
    }
}
