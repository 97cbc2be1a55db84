//! `commitlab bench`: throughput of the engine on reference workloads, in the same output
//! format as the raw loop in ../shared/bench, so the two can be compared in one run.

pub mod search;
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
    /// Transactions in the checked 2PC history of the second line (0: skip it).
    pub check_txns: u64,
}

/// Runs W1 and prints the raw loop's line: `txns= messages= sim_time_us= wall_ms= events_per_sec=`.
pub fn run_w1(opts: &W1Options, out: &mut impl Write) -> crate::error::Result<()> {
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
    if opts.check_txns > 0 {
        check_line(opts.check_txns, opts.seed, out)?;
    }
    writeln!(out, "trace_hash={:016x}", r.trace_hash)?;
    if let Some(path) = &opts.jsonl {
        write_atomically(path, "the JSON Lines trace", |w| sim.trace().write_jsonl(w))?;
        writeln!(out, "trace written to {}", path.display())?;
    }
    Ok(())
}

/// The cost of checking: W1's shape (4 participants, every transaction at all of them,
/// W1's latencies) run as real 2PC with logging and observations, then every checker over
/// its history. Prints `check_txns= observations= disk_records= check_ms=` and, where the
/// OS reports a thread's CPU time, `check_cpu_ms=`.
///
/// The run's simulation lives until the check is done, as in `commitlab run`: tearing it
/// down frees over ten million small blocks (disk records, node states, the engine's own
/// trace), and glibc's allocator defers that work (its fast bins) to the next large
/// allocation, which would be the history's index: at 1,000,000 transactions four fifths of
/// what the timer saw was that deferred free, not checking.
fn check_line(txns: u64, seed: u64, out: &mut impl Write) -> crate::error::Result<()> {
    let mut s = protocols::Scenario::new("2pc", 4, txns, seed);
    s.fault_horizon_us = u64::MAX / 4;
    s.liveness_bound_us = None;
    let outcome = protocols::run(&s)?;
    let report = &outcome.report;
    let disk_records: usize = report.end.disks.iter().map(|d| d.records).sum();
    let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
    let verdicts = checkers::check(report, &s.plan);
    let check_ms = start.elapsed().as_secs_f64() * 1e3;
    let cpu = thread_cpu_ns().zip(cpu_start).map(|(end, start)| (end - start) as f64 / 1e6);
    let violated = verdicts.violated().count();
    if violated > 0 {
        return Err(format!("the fault-free 2PC history has {violated} violations").into());
    }
    write!(
        out,
        "check_txns={txns} observations={} disk_records={disk_records} check_ms={check_ms:.3}",
        report.observations.len()
    )?;
    if let Some(cpu_ms) = cpu {
        write!(out, " check_cpu_ms={cpu_ms:.3}")?;
    }
    writeln!(out)?;
    Ok(())
}

/// The CPU time this thread has run so far, in nanoseconds, where the OS says: unlike wall
/// time, other processes on a loaded machine do not inflate it.
#[cfg(unix)]
fn thread_cpu_ns() -> Option<u64> {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through the pointer, which is valid.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    ok.then(|| ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

#[cfg(not(unix))]
fn thread_cpu_ns() -> Option<u64> {
    None
}
