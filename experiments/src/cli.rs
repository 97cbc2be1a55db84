//! The `commitlab` command line. Exit codes: 0 success, 1 a property failed (for commands
//! that check one), 2 bad input.
//!
//! Each subcommand lives in its own module and returns `Result<Exit, Error>`: `Ok` carries
//! the exit code it chose (0, or 1 for a found counterexample); `Err` is bad input or an
//! I/O failure, printed as one line naming the problem, exit 2.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use sim_core::TraceLevel;

use crate::bench;
use crate::error;

pub use crate::exit::Exit;

#[derive(Parser, Debug)]
#[command(
    name = "commitlab",
    version,
    about = "A deterministic testbed for distributed commit protocols"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Measure engine throughput on a reference workload.
    Bench {
        #[command(subcommand)]
        workload: BenchWorkload,
    },
    /// Search a protocol for a counterexample to a property; print the minimal one.
    Check(crate::check::CheckArgs),
    /// Every correct protocol measured against the textbook's comparison table.
    Compare(crate::sweep::SweepArgs),
    /// A guided first run: one transaction per protocol, fault-free then coordinator crashed.
    Demo(crate::demo::DemoArgs),
    /// Explore every state a protocol can reach (BFS/DFS, fault budget); report the counts.
    Explore(Box<crate::explore::ExploreArgs>),
    /// Re-run a counterexample file exactly: same trace hash, same verdict.
    Replay(crate::replay::ReplayArgs),
    /// Run one scenario (flags or a TOML file), check it, print a summary.
    Run(Box<crate::run::RunArgs>),
    /// List protocols (with variants), properties, fault kinds and experiments.
    List,
    /// Combine the outputs of `--shard K/N` runs into exactly what one run writes.
    Merge(crate::merge::MergeArgs),
    /// Run a named study (default command: `study coordinator-failure`).
    #[command(about = subcommand_about::<crate::study::StudyName>(
        "Run a named study (default command: `study coordinator-failure`)"
    ))]
    Study {
        #[command(subcommand)]
        study: crate::study::StudyName,
    },
    /// Sweep one parameter for every correct protocol.
    #[command(about = subcommand_about::<crate::sweep::SweepName>(
        "Sweep one parameter for every correct protocol"
    ))]
    Sweep {
        #[command(subcommand)]
        sweep: crate::sweep::SweepName,
    },
}

/// `lead: name, name, ...` with the names of `S`'s subcommands, so that help never lists a
/// stale set.
fn subcommand_about<S: Subcommand>(lead: &str) -> String {
    let cmd = S::augment_subcommands(clap::Command::new("x"));
    let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
    format!("{lead}: {}", names.join(", "))
}

#[derive(Subcommand, Debug)]
pub enum BenchWorkload {
    /// W1: sequential 2PC commits, 5 nodes, 16 messages per transaction.
    W1 {
        #[arg(long, default_value_t = 1_000_000)]
        txns: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = TraceArg::Off)]
        trace: TraceArg,
        /// Export the trace as JSON Lines (needs --trace full).
        #[arg(long)]
        jsonl: Option<PathBuf>,
        /// Transactions in the 2PC history whose checking is timed on the second line
        /// (default: as many as --txns, at most 100000; 0 skips the line).
        #[arg(long)]
        check_txns: Option<u64>,
    },
    /// Median cases `check` needs to find each broken variant, over many search seeds.
    Search {
        /// Search seeds 1..=N per variant.
        #[arg(long, default_value_t = 20)]
        seeds: u64,
        /// Case budget of each search.
        #[arg(long, default_value_t = 20_000)]
        cases: u32,
        /// Threads (default: every core); the table does not depend on it.
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TraceArg {
    Off,
    Observations,
    Full,
}

impl From<TraceArg> for TraceLevel {
    fn from(t: TraceArg) -> TraceLevel {
        match t {
            TraceArg::Off => TraceLevel::Off,
            TraceArg::Observations => TraceLevel::Observations,
            TraceArg::Full => TraceLevel::Full,
        }
    }
}

/// Parses the process arguments, runs, and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let mut stdout = std::io::stdout().lock();
    // No subcommand: the project's main job, the coordinator-failure study with defaults.
    let command = cli
        .command
        .unwrap_or_else(|| Command::Study { study: crate::study::StudyName::default_study() });
    let result: error::Result<Exit> = match command {
        Command::Bench { workload: BenchWorkload::W1 { txns, seed, trace, jsonl, check_txns } } => {
            let check_txns = check_txns.unwrap_or(txns.min(100_000));
            let opts = bench::W1Options { txns, seed, trace: trace.into(), jsonl, check_txns };
            bench::run_w1(&opts, &mut stdout).map(|()| Exit::Success)
        }
        Command::Bench { workload: BenchWorkload::Search { seeds, cases, threads } } => {
            crate::parallel::thread_count(threads).and_then(|threads| {
                let opts = bench::search::SearchBenchOptions { seeds, cases, threads };
                bench::search::run(&opts, &mut stdout).map(|()| Exit::Success)
            })
        }
        Command::Check(args) => crate::check::main(&args, &mut stdout),
        Command::Compare(args) => crate::compare::main(&args, &mut stdout),
        Command::Demo(args) => crate::demo::main(&args, &mut stdout),
        Command::Explore(args) => crate::explore::main(&args, &mut stdout),
        Command::Replay(args) => crate::replay::main(&args, &mut stdout),
        Command::Run(args) => crate::run::run(&args, &mut stdout),
        Command::List => crate::list::run(&mut stdout),
        Command::Merge(args) => crate::merge::main(&args, &mut stdout),
        Command::Study { study } => crate::study::main(&study, &mut stdout),
        Command::Sweep { sweep } => crate::sweep::main(&sweep, &mut stdout),
    };
    match result {
        Ok(exit) => exit as i32,
        // A closed stdout (`commitlab ... | head -1`) is the reader's choice, not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>().map(|io| io.kind())
                == Some(std::io::ErrorKind::BrokenPipe) =>
        {
            0
        }
        Err(e) => {
            eprintln!("commitlab: {e}");
            2
        }
    }
}
