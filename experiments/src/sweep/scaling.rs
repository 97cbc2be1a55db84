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
use std::path::Path;

use protocols::Scenario;
use protocols::family::CostFormula;
use protocols::workload::Workload;
use serde::Serialize;
use sim_core::Latency;

use super::Options;
use crate::aggregate::RunStats;
use crate::error::Result;
use crate::metrics::{RunMetrics, ms};

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

/// The scaling sweep's rows: protocol × participants.
pub struct Scaling;

impl super::Seeded for Scaling {
    const NAME: &'static str = "scaling";
    const LOCK_HISTOGRAM: bool = false;
    const WINDOW_US: u64 = u64::MAX;
    type Key = (&'static str, u32);
    type Row = Row;

    fn keys() -> Vec<Self::Key> {
        let mut keys = Vec::new();
        for protocol in protocols::catalog::correct_commit_protocols() {
            for n in PARTICIPANTS {
                keys.push((protocol, n));
            }
        }
        keys
    }

    fn key_name(&(protocol, n): &Self::Key) -> String {
        format!("{protocol} n={n}")
    }

    fn scenario(&(protocol, n): &Self::Key, seed: u64) -> Scenario {
        scenario(protocol, n, seed)
    }

    fn row(&(protocol, n): &Self::Key, stats: &RunStats) -> Row {
        row_of(protocol, n, stats)
    }

    /// The replicated logs' steady-state table beside the commit protocols' rows.
    fn write_more(opts: &Options, out: &mut dyn Write) -> Result<()> {
        consensus_rows(opts, out)
    }
    fn print(rows: &[Row], _seeds: u64, path: &Path, out: &mut dyn Write) -> Result<()> {
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
        for r in rows {
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
        Ok(())
    }
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    super::measure::<Scaling>(opts)
}

pub fn row(protocol: &str, n: u32, runs: &[RunMetrics]) -> Row {
    row_of(protocol, n, &RunStats::of_runs(runs, false))
}

fn row_of(protocol: &str, n: u32, s: &RunStats) -> Row {
    let committed = s.committed;
    let per_txn = |x: u64| format!("{:.2}", x as f64 / committed.max(1) as f64);
    let f = formula(protocol);
    let n64 = u64::from(n);
    Row {
        protocol: protocol.to_string(),
        participants: n,
        runs: s.runs,
        inconclusive_runs: s.inconclusive_runs,
        committed,
        messages_per_txn: per_txn(s.protocol_messages),
        formula_messages_per_txn: f.as_ref().map(|f| (f.messages)(n64)),
        all_messages_per_txn: per_txn(s.messages),
        critical_path_delays: format!("{:.2}", s.decision_us.mean() / DELAY_US as f64),
        formula_delays: f.as_ref().map(|f| f.delays),
        disk_writes_per_txn: per_txn(s.disk_writes),
        formula_disk_writes_per_txn: f.as_ref().map(|f| (f.disk_writes)(n64)),
        mean_decision_ms: ms(s.decision_us.mean()),
        formula: f.map(|f| f.text.to_string()).unwrap_or_default(),
    }
}

/// The replicated logs' steady state (`steady_state`): messages, forced writes and delays
/// per committed command at N replicas, next to each protocol's formula.
pub(super) fn consensus_rows(opts: &Options, out: &mut dyn Write) -> Result<()> {
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
