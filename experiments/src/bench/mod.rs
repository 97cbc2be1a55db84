//! `commitlab bench`: throughput of the engine on reference workloads, in the same output
//! format as the raw loop in ../shared/bench, so the two can be compared in one run.

pub mod w1;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use sim_core::{SimConfig, TraceLevel};

use crate::output::write_atomically;

/// Options of `commitlab bench w1`.
pub struct W1Options {
    pub txns: u64,
    pub seed: u64,
    pub trace: TraceLevel,
    pub jsonl: Option<PathBuf>,
}

/// Runs W1 and prints the raw loop's line: `txns= messages= sim_time_us= wall_ms= events_per_sec=`.
pub fn run_w1(opts: &W1Options, out: &mut impl Write) -> anyhow_lite::Result<()> {
    if opts.jsonl.is_some() && opts.trace != TraceLevel::Full {
        return Err("--jsonl needs --trace full (only a full trace holds every event)".into());
    }
    let config = SimConfig::new(w1::NODES, opts.seed).with_trace(opts.trace);
    let mut sim = w1::simulation(opts.txns, config);
    // Wall-clock timing is the benchmark's own business, outside the simulated run.
    let start = Instant::now();
    let r = w1::run(&mut sim, opts.txns);
    let wall_ms = start.elapsed().as_secs_f64() * 1e3;
    let eps = if wall_ms > 0.0 { r.messages as f64 * 1000.0 / wall_ms } else { f64::INFINITY };
    writeln!(
        out,
        "txns={} messages={} sim_time_us={} wall_ms={wall_ms:.3} events_per_sec={eps:.0}",
        r.committed, r.messages, r.sim_time_us
    )?;
    writeln!(out, "trace_hash={:016x}", r.trace_hash)?;
    if let Some(path) = &opts.jsonl {
        write_atomically(path, |w| sim.trace().write_jsonl(w))?;
        writeln!(out, "trace written to {}", path.display())?;
    }
    Ok(())
}

/// A tiny boxed-error result for CLI plumbing (no extra dependency for it).
pub mod anyhow_lite {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
    pub type Result<T> = std::result::Result<T, Error>;
}
