//! `commitlab sweep gray-lamport`: Gray & Lamport's Table 1 (*Consensus on Transaction
//! Commit*), measured. For 2PC in their shape, Paxos Commit and Faster Paxos Commit, N = 1..8
//! resource managers, F = 0..2, co-located or not: one fault-free commit each, messages,
//! message delays and forced writes counted from the trace (never from a formula;
//! `crate::gray_lamport` documents the counting conventions), beside the paper's values.
//! The runs are deterministic and fault-free, so there are no seeds to sweep.

use std::io::Write;

use serde::Serialize;

use crate::gray_lamport::{CostRow, table};

use super::Options;
use crate::error::Result;

/// One CSV row. Expected values are empty where the paper gives none.
#[derive(Serialize)]
struct Row {
    protocol: String,
    rms: u32,
    f: u32,
    colocated: bool,
    messages: u64,
    message_delays: u64,
    disk_writes: u64,
    disk_writes_total: u64,
    expected_messages: Option<u64>,
    expected_delays: Option<u64>,
    expected_disk_writes: Option<u64>,
    messages_formula_applies: bool,
    delays_formula_applies: bool,
}

impl From<&CostRow> for Row {
    fn from(r: &CostRow) -> Row {
        Row {
            protocol: r.protocol.clone(),
            rms: r.rms,
            f: r.f,
            colocated: r.colocated,
            messages: r.messages,
            message_delays: r.message_delays,
            disk_writes: r.disk_writes,
            disk_writes_total: r.disk_writes_total,
            expected_messages: r.expected_messages,
            expected_delays: r.expected_delays,
            expected_disk_writes: r.expected_disk_writes,
            messages_formula_applies: r.messages_formula_applies,
            delays_formula_applies: r.delays_formula_applies,
        }
    }
}

/// Whether a measured value agrees with the formula, where the formula applies.
fn agrees(measured: u64, expected: Option<u64>, applies: bool) -> bool {
    !applies || expected.is_none_or(|e| e == measured)
}

pub fn run(opts: &Options, out: &mut impl Write) -> Result<()> {
    let rows = table()?;
    let path = opts.out.join("gray_lamport.csv");
    let csv: Vec<Row> = rows.iter().map(Row::from).collect();
    crate::csv_out::write_rows(&path, &csv)?;
    writeln!(
        out,
        "sweep gray-lamport: {} fault-free commits; wrote {}",
        rows.len(),
        path.display()
    )?;
    writeln!(out, "the paper's example, 5 RMs, F = 1, co-located:")?;
    writeln!(
        out,
        "| protocol | messages (paper) | message delays (paper) | disk writes (paper) |"
    )?;
    writeln!(out, "|---|---|---|---|")?;
    let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
    for r in rows.iter().filter(|r| r.rms == 5 && r.f == 1 && r.colocated) {
        writeln!(
            out,
            "| {} | {} ({}) | {} ({}) | {} ({}) |",
            r.protocol,
            r.messages,
            opt(r.expected_messages),
            r.message_delays,
            opt(r.expected_delays),
            r.disk_writes,
            opt(r.expected_disk_writes)
        )?;
    }
    let outside =
        rows.iter().filter(|r| !r.messages_formula_applies || !r.delays_formula_applies).count();
    let disagree: Vec<&CostRow> = rows
        .iter()
        .filter(|r| {
            !agrees(r.messages, r.expected_messages, r.messages_formula_applies)
                || !agrees(r.message_delays, r.expected_delays, r.delays_formula_applies)
                || !agrees(r.disk_writes, r.expected_disk_writes, true)
        })
        .collect();
    writeln!(
        out,
        "{} rows: every measured value equals the paper's where its formula applies ({} rows outside a formula, see protocols/src/gray_lamport.rs)",
        rows.len(),
        outside
    )
    .map_err(crate::error::Error::from)
    .and_then(|()| {
        if disagree.is_empty() {
            Ok(())
        } else {
            Err(format!("{} rows disagree with the paper: first {:?}", disagree.len(), disagree[0]).into())
        }
    })
}
