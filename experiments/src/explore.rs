//! `commitlab explore`: exhaustive exploration of a protocol's state space.
//!
//! The front end only: it looks the protocol up among the explorable variants
//! ([`protocols::catalog::explorable`]), maps the flags onto an
//! [`ExploreConfig`], calls the family's own entry point ([`protocols::Family::explore`],
//! which builds the model from its own types) and prints the report — a summary, or one
//! JSON object with `--json`. Exit codes as `check`: 1 a property violated, 0 none within
//! the bounds (verdict `holds` or `incomplete`), 2 bad input.

use std::io::Write;
use std::sync::Arc;

mod counterexample;

pub use counterexample::{is_explored, replay as replay_explored};

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use protocols::Scenario;
use protocols::explore::{ExploreRequest, LogBounds};
use serde::{Deserialize, Serialize};
use sim_core::Ordering;
use sim_core::explore::{
    Budget, Counterexample, ExploreConfig, ExploreReport, Progress, Strategy, Timers, Verdict,
};

use crate::error::Result;
use crate::exit::Exit;

/// The flags, also stored in a counterexample file (so `replay` rebuilds the same model).
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct ExploreArgs {
    /// An explorable protocol (the command lists them when given another).
    #[arg(long)]
    pub protocol: String,
    /// Participants (replicas for a replicated log), as `run` takes them.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=crate::MAX_PARTICIPANTS))]
    pub participants: u32,
    /// Transactions the client submits, one after the other (commit protocols).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub txns: u64,
    /// A property to check (repeatable; default: every property explore checks for the
    /// protocol). Safety properties are checked on every state, `non-blocking` on terminal
    /// states.
    #[arg(long = "property")]
    pub properties: Vec<String>,
    /// Crash faults per path (a node between steps, or after the k-th effect of a handler).
    #[arg(long, default_value_t = 0)]
    pub crashes: u32,
    /// Recoveries of crashed nodes per path.
    #[arg(long, default_value_t = 0)]
    pub recoveries: u32,
    /// Message losses per path.
    #[arg(long, default_value_t = 0)]
    pub drops: u32,
    /// Message duplications per path.
    #[arg(long, default_value_t = 0)]
    pub duplicates: u32,
    /// Partitions of the cluster in two per path (healing is free).
    #[arg(long, default_value_t = 0)]
    pub partitions: u32,
    #[arg(long, value_enum, default_value_t = StrategyArg::Bfs)]
    pub strategy: StrategyArg,
    /// When a timer may fire: `any` (next, whatever is in flight: every latency) or
    /// `quiescent` (only when no message is in flight: timeouts outlast every delay, a
    /// synchronous network).
    #[arg(long, value_enum, default_value_t = TimersArg::Any)]
    pub timers: TimersArg,
    /// Link ordering: `reorder` (any message in flight may arrive next) or `fifo` (each
    /// link delivers in send order, as over TCP: only the oldest message in flight on a link
    /// may arrive next; fewer interleavings, so a violation found is also one under
    /// `reorder`, and `holds` holds for FIFO networks only).
    #[arg(long, value_enum, default_value_t = LinksArg::Reorder)]
    #[serde(default)]
    pub links: LinksArg,
    /// Delay-bounded search: take every path that deviates at most D times from the default
    /// order (the oldest message in flight first; a timer, the one armed longest ago, only
    /// when none is in flight). Faults are bounded by their own budget, not by D.
    #[arg(long)]
    #[serde(default)]
    pub delays: Option<u32>,
    /// Replicated logs: elections (terms, ballot rounds, epochs) a replica may start
    /// (default: the family's bound, Raft 1, Multi-Paxos 1, ZAB 2).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=16))]
    #[serde(default)]
    pub max_round: Option<u64>,
    /// Replicated logs: retries of each client operation on its timer (default: the
    /// family's, ZAB 2, Raft and Multi-Paxos 0).
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=4))]
    #[serde(default)]
    pub client_retries: Option<u32>,
    /// Stop after this many unique states (verdict `incomplete`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_states: Option<u64>,
    /// Do not expand states deeper than this many steps (verdict `incomplete` if cut).
    #[arg(long)]
    pub max_depth: Option<u32>,
    /// Worker threads (the result is the same for any count). DFS runs on one thread under
    /// `--max-depth`, and runs again on one when the result depends on the order (a violation,
    /// `--max-states` reached): `threads_used` in `--json` says which.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Reduce by symmetry over interchangeable participants (`tla-two-phase` without faults;
    /// `2pc` and its variants, faults allowed).
    #[arg(long)]
    #[serde(default)]
    pub symmetry: bool,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Directory for the counterexample file (JSON: the flags and the path of events), which
    /// `commitlab replay FILE` re-runs. None: the path is printed only.
    #[arg(long)]
    #[serde(default, skip_serializing)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimersArg {
    Any,
    Quiescent,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinksArg {
    #[default]
    Reorder,
    Fifo,
}

#[derive(Clone, Copy, Debug, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyArg {
    Bfs,
    Dfs,
}

impl StrategyArg {
    /// The name a user types (`--strategy bfs`).
    pub fn name(self) -> &'static str {
        match self {
            StrategyArg::Bfs => "bfs",
            StrategyArg::Dfs => "dfs",
        }
    }
}

pub fn main(args: &ExploreArgs, out: &mut dyn Write) -> Result<Exit> {
    let report = run(args, None)?;
    let file = match (&report.counterexample, &args.out) {
        (Some(c), Some(dir)) => Some(counterexample::write(dir, args, c)?),
        _ => None,
    };
    if args.json {
        let mut v = to_json(&args.protocol, args, &report);
        if let Some(w) = &file {
            v["counterexample"] = w.json.display().to_string().into();
            let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
            v["mermaid"] = path(&w.mermaid).into();
            v["svg"] = path(&w.svg).into();
        }
        writeln!(out, "{v}")?;
    } else {
        write_summary(out, &args.protocol, args, &report)?;
        if let Some(d) = report.counterexample.as_ref().and_then(|c| c.diagrams.as_ref()) {
            let at = file.as_ref().and_then(|w| w.mermaid.as_ref());
            let at = at.map(|p| format!(" ({})", p.display())).unwrap_or_default();
            writeln!(out, "\nmermaid sequence diagram of the path{at}:")?;
            writeln!(out, "```mermaid\n{}```", d.mermaid)?;
        }
        if let Some(w) = &file {
            if let Some(svg) = &w.svg {
                writeln!(out, "space-time diagram: {}", svg.display())?;
            }
            writeln!(out, "counterexample written to {}", w.json.display())?;
            writeln!(out, "replay it: commitlab replay {}", w.json.display())?;
        }
    }
    Ok(if report.verdict == Verdict::Violated { Exit::PropertyFailed } else { Exit::Success })
}

/// Explores as `args` say, or replays `replay`'s steps through the same model.
pub fn run(args: &ExploreArgs, replay: Option<&[String]>) -> Result<ExploreReport> {
    let explorable = protocols::catalog::explorable();
    let names = || explorable.iter().map(|s| s.name).collect::<Vec<_>>().join(", ");
    let Some(spec) = explorable.iter().find(|s| s.name == args.protocol) else {
        let known = protocols::catalog::lookup(&args.protocol).is_ok();
        let why = if known { "cannot be explored yet" } else { "is not a known protocol" };
        return Err(format!("--protocol {}: {why}; explorable: {}", args.protocol, names()).into());
    };
    if !spec.replicates_log() {
        let set = [
            ("--max-round", args.max_round.is_some()),
            ("--client-retries", args.client_retries.is_some()),
        ];
        if let Some((flag, _)) = set.iter().find(|f| f.1) {
            let logs: Vec<&str> =
                explorable.iter().filter(|s| s.replicates_log()).map(|s| s.name).collect();
            let logs = logs.join(", ");
            return Err(format!("{flag} bounds a replicated log's explorer; {} is not one (replicated logs: {logs})", args.protocol).into());
        }
    }
    let explore = spec.family.explore.expect("explorable families have an entry point");
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} exploring {elapsed} {msg}").expect("static"),
    );
    let progress_bar = bar.clone();
    let started = std::time::Instant::now();
    let config = ExploreConfig {
        strategy: match args.strategy {
            StrategyArg::Bfs => Strategy::Bfs,
            StrategyArg::Dfs => Strategy::Dfs,
        },
        budget: Budget {
            crashes: args.crashes,
            recoveries: args.recoveries,
            drops: args.drops,
            duplicates: args.duplicates,
            partitions: args.partitions,
        },
        timers: match args.timers {
            TimersArg::Any => Timers::Any,
            TimersArg::Quiescent => Timers::Quiescent,
        },
        delays: args.delays,
        max_states: args.max_states,
        max_depth: args.max_depth,
        threads: args.threads as usize,
        progress: Some(Arc::new(move |p: &Progress| {
            // Wall time for the display only: it never steers the search.
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            progress_bar.set_message(format!(
                "{} unique, {} states, {:.0} states/s, depth {}, queue {}",
                p.unique_states,
                p.states,
                p.unique_states as f64 / secs,
                p.depth,
                p.queue
            ));
            progress_bar.tick();
        })),
    };
    let mut scenario = Scenario::new(spec.name, args.participants, args.txns, 1);
    if args.links == LinksArg::Fifo {
        scenario.network.default.ordering = Ordering::Fifo;
    }
    let request = ExploreRequest {
        variant: spec.name,
        scenario: &scenario,
        properties: &args.properties,
        replay,
        symmetry: args.symmetry,
        log_bounds: LogBounds { max_round: args.max_round, client_retries: args.client_retries },
    };
    let report = explore(&request, &config).map_err(|e| format!("{e}"))?;
    bar.finish_and_clear();
    Ok(report)
}

/// The report as one JSON object (see the issue's field list).
pub fn to_json(protocol: &str, args: &ExploreArgs, r: &ExploreReport) -> serde_json::Value {
    let mut v = serde_json::json!({
        "protocol": protocol,
        "participants": args.participants,
        "strategy": args.strategy.name(),
        "threads": args.threads,
        "symmetry": args.symmetry,
        "timers": match args.timers { TimersArg::Any => "any", TimersArg::Quiescent => "quiescent" },
        "links": match args.links { LinksArg::Reorder => "reorder", LinksArg::Fifo => "fifo" },
        "txns": args.txns,
        "crashes": args.crashes,
        "recoveries": args.recoveries,
        "drops": args.drops,
        "duplicates": args.duplicates,
        "partitions": args.partitions,
        "delays": args.delays,
        "max_round": args.max_round,
        "client_retries": args.client_retries,
        "unique_states": r.unique_states,
        "states": r.states,
        "max_depth": r.max_depth,
        "wall_ms": r.wall.as_millis() as u64,
        "states_per_sec": r.states_per_sec().round() as u64,
        "bytes_per_state": r.bytes_per_state,
        "threads_used": r.threads_used,
        "verdict": r.verdict.name(),
    });
    if let Some(c) = &r.counterexample {
        let steps: Vec<serde_json::Value> =
            c.steps.iter().map(|s| serde_json::from_str(s).expect("steps are JSON")).collect();
        v["property"] = c.property.clone().into();
        v["trace_hash"] = c.trace_hash.into();
        if let Some(message) = &c.panic {
            v["panic"] = message.clone().into();
        }
        v["counterexample"] = steps.into();
    }
    v
}

fn write_summary(
    out: &mut dyn Write,
    protocol: &str,
    args: &ExploreArgs,
    r: &ExploreReport,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{protocol}: {} participants, crashes {}{}, {}, {} thread(s)",
        args.participants,
        args.crashes,
        bounds_set(args),
        args.strategy.name(),
        args.threads
    )?;
    writeln!(
        out,
        "unique states {}, states {}, max depth {}, {:.3} s, {:.0} states/s, {} bytes/state",
        r.unique_states,
        r.states,
        r.max_depth,
        r.wall.as_secs_f64(),
        r.states_per_sec(),
        r.bytes_per_state
    )?;
    writeln!(out, "verdict: {}", r.verdict.name())?;
    if let Some(c) = &r.counterexample {
        write_path(out, c)?;
    }
    Ok(())
}

/// The other bounds a verdict holds within, those set (", drops 1, delays 3"): a `holds`
/// under a delay bound or a budget says nothing of the paths outside it.
fn bounds_set(args: &ExploreArgs) -> String {
    let counts = [
        ("recoveries", args.recoveries),
        ("drops", args.drops),
        ("duplicates", args.duplicates),
        ("partitions", args.partitions),
    ];
    let mut text: String =
        counts.iter().filter(|(_, n)| *n > 0).map(|(name, n)| format!(", {name} {n}")).collect();
    let optional = [
        ("delays", args.delays.map(u64::from)),
        ("max round", args.max_round),
        ("client retries", args.client_retries.map(u64::from)),
    ];
    for (name, n) in optional.iter().filter_map(|(name, n)| Some((name, (*n)?))) {
        text += &format!(", {name} {n}");
    }
    // The network and timing models that take fewer paths than the default ones.
    if matches!(args.timers, TimersArg::Quiescent) {
        text += ", timers quiescent";
    }
    if args.links == LinksArg::Fifo {
        text += ", links fifo";
    }
    text
}

/// The violated property, the steps to it, and the message of the panic it ended in.
fn write_path(out: &mut dyn Write, c: &Counterexample) -> std::io::Result<()> {
    writeln!(out, "{} violated after {} steps:", c.property, c.steps.len())?;
    for (i, s) in c.steps.iter().enumerate() {
        writeln!(out, "  {:>3}. {s}", i + 1)?;
    }
    if let Some(message) = &c.panic {
        writeln!(out, "a node panicked in the last step: {message}")?;
    }
    Ok(())
}
