//! `commitlab sweep scaling`: fault-free commits with N = 2..64 participants, every
//! transaction at every participant (the spread workload), constant one-way latency `d`.
//! Measured per committed transaction: protocol messages (client traffic apart), message
//! delays on the critical path (decision latency / d: the client's request to its reply),
//! disk writes (forced log appends) — each next to the formula for this implementation.
//!
//! The formulas count this implementation's shape: a coordinator apart from the participants,
//! acknowledged decisions, and a client answered once the transaction is complete (all acks
//! in). 2PC: prepare, vote, decision, ack = 4N messages; N prepared + N decision records + the
//! coordinator's decision and end records = 2N+2 forced writes; request, prepare, vote,
//! decision, ack, reply = 6 delays client to client (the decision itself is reached after 3).
//! 3PC adds a pre-commit round and its acks (not logged): 6N messages, 2N+2 writes, 8 delays.
//! Gray & Lamport's 3N−1 messages / N+1 writes / 4 delays count an RM-initiated 2PC without
//! acks or a client. A protocol without a formula here gets empty formula columns.

use std::io::Write;

use protocols::Scenario;
use protocols::family::CostFormula;
use protocols::workload::Workload;
use serde::Serialize;
use sim_core::Latency;

use super::Options;
use crate::error::Result;
use crate::metrics::{RunMetrics, mean, ms};

pub const DEFAULT_SEEDS: u64 = 3;
pub const PARTICIPANTS: [u32; 7] = [2, 3, 4, 8, 16, 32, 64];
const TXNS: u64 = 10;
/// One-way latency of every link.
pub const DELAY_US: u64 = 5_000;

/// Per transaction, as functions of N.
/// The cost a protocol's family claims for it (see `protocols::family::CostFormula`).
pub fn formula(protocol: &str) -> Option<CostFormula> {
    protocols::catalog::lookup(protocol).ok()?.variant.cost
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub protocol: String,
    pub participants: u32,
    pub runs: u64,
    /// Runs a bound (the event budget, the queue) cut short: their costs are not comparable.
    pub inconclusive_runs: u64,
    pub committed: u64,
    pub messages_per_txn: String,
    pub formula_messages_per_txn: Option<u64>,
    /// Client requests and replies included.
    pub all_messages_per_txn: String,
    pub critical_path_delays: String,
    pub formula_delays: Option<u64>,
    pub disk_writes_per_txn: String,
    pub formula_disk_writes_per_txn: Option<u64>,
    pub mean_decision_ms: String,
    pub formula: String,
}

pub fn scenario(protocol: &str, n: u32, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, n, TXNS, seed);
    s.workload = Workload::Spread { keys_per_participant: 8 };
    s.network.default.latency = Latency::Constant { us: DELAY_US };
    s.liveness_bound_us = None;
    s
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    let mut keys = Vec::new();
    let mut jobs = Vec::new();
    for protocol in protocols::catalog::correct_commit_protocols() {
        for n in PARTICIPANTS {
            keys.push((protocol, n));
            jobs.extend(opts.seed_list().into_iter().map(|seed| scenario(protocol, n, seed)));
        }
    }
    let per_row =
        super::measure_rows("sweep scaling", &jobs, opts.seeds as usize, opts.threads, u64::MAX)?;
    Ok(keys.iter().zip(&per_row).map(|(&(p, n), runs)| row(p, n, runs)).collect())
}

pub fn row(protocol: &str, n: u32, runs: &[RunMetrics]) -> Row {
    let committed: u64 = runs.iter().map(|m| m.committed).sum();
    let per_txn = |x: u64| format!("{:.2}", x as f64 / committed.max(1) as f64);
    let lat: Vec<u64> = runs.iter().flat_map(|m| m.decision_latencies_us.clone()).collect();
    let f = formula(protocol);
    let n64 = u64::from(n);
    Row {
        protocol: protocol.to_string(),
        participants: n,
        runs: runs.len() as u64,
        inconclusive_runs: runs.iter().filter(|m| m.inconclusive).count() as u64,
        committed,
        messages_per_txn: per_txn(runs.iter().map(|m| m.protocol_messages).sum()),
        formula_messages_per_txn: f.as_ref().map(|f| (f.messages)(n64)),
        all_messages_per_txn: per_txn(runs.iter().map(|m| m.messages).sum()),
        critical_path_delays: format!("{:.2}", mean(&lat) / DELAY_US as f64),
        formula_delays: f.as_ref().map(|f| f.delays),
        disk_writes_per_txn: per_txn(runs.iter().map(|m| m.disk_writes).sum()),
        formula_disk_writes_per_txn: f.as_ref().map(|f| (f.disk_writes)(n64)),
        mean_decision_ms: ms(mean(&lat)),
        formula: f.map(|f| f.text.to_string()).unwrap_or_default(),
    }
}

pub fn run(opts: &Options, out: &mut impl Write) -> Result<()> {
    let rows = measure(opts)?;
    let path = opts.out.join("scaling.csv");
    crate::csv_out::write_rows(&path, &rows)?;
    let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "sweep scaling: fault-free, d = {} ms constant; wrote {}",
        DELAY_US / 1000,
        path.display()
    )?;
    writeln!(
        out,
        "| protocol | N | msgs/txn (formula) | delays (formula) | disk writes/txn (formula) |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for r in &rows {
        writeln!(
            out,
            "| {} | {} | {} ({}) | {} ({}) | {} ({}) |",
            r.protocol,
            r.participants,
            r.messages_per_txn,
            opt(r.formula_messages_per_txn),
            r.critical_path_delays,
            opt(r.formula_delays),
            r.disk_writes_per_txn,
            opt(r.formula_disk_writes_per_txn)
        )?;
    }
    consensus_rows(opts, out)
}

/// The replicated logs' steady state (`steady_state`): messages, forced writes and delays
/// per committed command at N replicas, next to each protocol's formula.
fn consensus_rows(opts: &Options, out: &mut impl Write) -> Result<()> {
    let rows = super::steady_state::rows(&opts.seed_list(), opts.threads)?;
    let path = opts.out.join("scaling-consensus.csv");
    crate::csv_out::write_rows(&path, &rows)?;
    let opt = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "replicated logs, steady state (one command at a time, idle heartbeats subtracted); wrote {}",
        path.display()
    )?;
    writeln!(
        out,
        "| protocol | N | msgs/command (formula) ± | disk writes/command (formula) | delays |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for r in &rows {
        writeln!(
            out,
            "| {} | {} | {} ({}) ± {} | {} ({}) | {} |",
            r.protocol,
            r.replicas,
            r.messages_per_command,
            opt(&r.formula_messages_per_command),
            r.tolerance,
            r.disk_writes_per_command,
            opt(&r.formula_disk_writes_per_command),
            r.delays
        )?;
    }
    Ok(())
}
