//! From measured rows to verdicts: one CSV row and one Markdown line per protocol, each
//! measured verdict beside the textbook's claim, and a mark where the measurement refutes
//! the claim. Nothing here runs anything: every number comes from [`super::runs`].

use std::io::Write;

use serde::Serialize;

use super::claims::{self, Claim};
use super::runs::{Measured, PARTICIPANTS, TOTAL_FAILURE_RECOVERY_MS};
use crate::study::coordinator_failure::Row as StudyRow;

/// One CSV row. Field order is column order; counts are runs unless named otherwise.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Row {
    pub protocol: String,
    pub family: String,
    pub participants: u32,
    /// Coordinator–participant round trips on the commit path: (delays − 2) / 2, the client's
    /// request and reply left out.
    pub rounds: String,
    /// Message delays from the client's request to its reply (fault-free, constant d).
    pub message_delays: String,
    pub messages_per_txn: String,
    pub forced_writes_per_txn: String,
    pub claim_phases: String,
    /// Whether the family's checkers judge blocking (sagas have no votes, so no one is in
    /// doubt); where false, the blocked counts are 0 by definition, not by measurement.
    pub blocking_judged: bool,
    pub crash_points: u64,
    pub crash_points_blocking: u64,
    pub crash_runs: u64,
    pub crash_blocked_runs: u64,
    pub crash_atomicity_violations: u64,
    pub crash_verdict: String,
    pub claim_crash: String,
    pub partition_runs: u64,
    pub partition_blocked_runs: u64,
    pub partition_atomicity_violations: u64,
    pub partition_termination_failures: u64,
    pub partition_verdict: String,
    pub claim_partition: String,
    pub normal_runs: u64,
    /// Per run, how long the bank total was off (a saga between steps); mean over runs.
    pub mean_anomaly_ms: String,
    pub anomalous_reads_per_run: String,
    pub readers_verdict: String,
    pub claim_readers: String,
    pub median_decision_ms: String,
    pub p99_decision_ms: String,
    pub total_failure_runs: u64,
    /// Runs with someone still in doubt at the end of the fault phase, all nodes up again.
    pub total_failure_blocked_runs: u64,
    /// Runs still undecided after the liveness phase.
    pub total_failure_termination_failures: u64,
    pub total_failure_atomicity_violations: u64,
    pub total_failure_verdict: String,
    pub claim_total_failure: String,
    /// The columns whose measurement refutes the textbook's claim, `;`-separated.
    pub refuted_claims: String,
}

/// A verdict in words, and what it says about a yes/no claim (None: nothing to compare).
struct Verdict {
    text: String,
    refutes: bool,
}

fn verdict(text: String, measured: Option<bool>, claimed: Option<bool>) -> Verdict {
    let refutes = matches!((measured, claimed), (Some(m), Some(c)) if m != c);
    Verdict { text, refutes }
}

fn pct(part: u64, whole: u64) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

fn sum(rows: &[StudyRow], f: impl Fn(&StudyRow) -> u64) -> u64 {
    rows.iter().map(f).sum()
}

/// Blocking is judged only where the family's checkers judge it (sagas have no votes).
fn judges_blocking(m: &Measured) -> bool {
    m.spec.has_property("non-blocking")
}

fn crash_verdict(m: &Measured, claim: &Claim) -> Verdict {
    let runs = sum(&m.crash, |r| r.runs);
    let blocked = sum(&m.crash, |r| r.blocked_runs);
    let points: Vec<&str> =
        m.crash.iter().filter(|r| r.blocked_runs > 0).map(|r| r.crash_point.as_str()).collect();
    let lost = sum(&m.crash, |r| r.atomicity_violations);
    let lost_text =
        if lost > 0 { format!("; atomicity lost in {lost} runs") } else { String::new() };
    if m.crash.is_empty() {
        return verdict("not measured: no coordinator crash point".into(), None, None);
    }
    if !judges_blocking(m) {
        return verdict(format!("not judged: no votes, nobody in doubt{lost_text}"), None, None);
    }
    let text = if points.is_empty() {
        format!("non-blocking: 0 of {runs} runs blocked{lost_text}")
    } else {
        format!(
            "blocks at {} of {} crash points ({} of runs){lost_text}",
            points.len(),
            m.crash.len(),
            pct(blocked, runs)
        )
    };
    verdict(text, Some(!points.is_empty()), claim.crash_blocks)
}

fn partition_verdict(m: &Measured, claim: &Claim) -> (Verdict, Verdict) {
    let runs: u64 = m.partition.iter().map(|r| r.runs).sum();
    let blocked: u64 = m.partition.iter().map(|r| r.blocked_runs).sum();
    let lost: u64 = m.partition.iter().map(|r| r.atomicity_violations).sum();
    let blocking = if judges_blocking(m) {
        verdict(
            format!("blocked in {}", pct(blocked, runs)),
            Some(blocked > 0),
            claim.partition_blocks,
        )
    } else {
        verdict("blocking not judged".into(), None, None)
    };
    let atomic = verdict(
        if lost == 0 {
            format!("atomic in all {runs} runs")
        } else {
            format!("atomicity lost in {} of runs", pct(lost, runs))
        },
        Some(lost == 0),
        claim.partition_atomic,
    );
    (blocking, atomic)
}

fn readers_verdict(m: &Measured, claim: &Claim) -> Verdict {
    let n = &m.normal;
    let partial = n.mean_anomaly_ms != "0.000" || n.anomalous_reads_per_run != "0.000";
    let text = if partial {
        format!(
            "partial state visible: {} ms per run, {} reads off per run",
            n.mean_anomaly_ms, n.anomalous_reads_per_run
        )
    } else {
        "atomic: no partial state (writes applied at the decision)".to_string()
    };
    verdict(text, Some(!partial && n.atomicity_violations == 0), claim.readers_atomic)
}

fn total_failure_verdict(m: &Measured, claim: &Claim) -> Verdict {
    let rows = &m.total_failure;
    let runs = sum(rows, |r| r.runs);
    let waiting = sum(rows, |r| r.blocked_runs);
    let never = sum(rows, |r| r.termination_failures);
    let lost = sum(rows, |r| r.atomicity_violations);
    if rows.is_empty() {
        return verdict("not measured: no coordinator crash point".into(), None, None);
    }
    let points = rows.iter().filter(|r| r.blocked_runs + r.termination_failures > 0).count();
    let mut parts = Vec::new();
    if waiting > 0 {
        parts.push(format!(
            "still in doubt after everyone recovered in {} of runs",
            pct(waiting, runs)
        ));
    }
    if never > 0 {
        parts.push(format!("never decides in {}", pct(never, runs)));
    }
    let mut text = if parts.is_empty() {
        format!("decides after recovery in all {runs} runs")
    } else {
        format!("{} (at {points} of {} crash points)", parts.join("; "), rows.len())
    };
    if lost > 0 {
        text.push_str(&format!("; atomicity lost in {}", pct(lost, runs)));
    }
    verdict(text, Some(waiting + never == 0 && lost == 0), claim.total_failure_decides)
}

/// Rounds from client-to-client delays: the request and the reply are one delay each.
fn rounds(delays: &str) -> String {
    let d: f64 = delays.parse().unwrap_or(0.0);
    format!("{:.1}", ((d - 2.0) / 2.0).max(0.0))
}

/// The CSV row of one protocol.
pub fn row(m: &Measured) -> Row {
    let claim = claims::of(m.spec.family.name);
    let crash = crash_verdict(m, &claim);
    let (p_blocking, p_atomic) = partition_verdict(m, &claim);
    let readers = readers_verdict(m, &claim);
    let total = total_failure_verdict(m, &claim);
    let refuted: Vec<&str> = [
        ("coordinator crash", crash.refutes),
        ("partition blocking", p_blocking.refutes),
        ("partition atomicity", p_atomic.refutes),
        ("readers", readers.refutes),
        ("total failure", total.refutes),
    ]
    .iter()
    .filter(|(_, r)| *r)
    .map(|(name, _)| *name)
    .collect();
    let part = |f: fn(&crate::sweep::partition::Row) -> u64| m.partition.iter().map(f).sum();
    Row {
        protocol: m.spec.name.to_string(),
        family: m.spec.family.name.to_string(),
        participants: PARTICIPANTS,
        rounds: rounds(&m.cost.critical_path_delays),
        message_delays: m.cost.critical_path_delays.clone(),
        messages_per_txn: m.cost.messages_per_txn.clone(),
        forced_writes_per_txn: m.cost.disk_writes_per_txn.clone(),
        claim_phases: claim.phases.to_string(),
        blocking_judged: judges_blocking(m),
        crash_points: m.crash.len() as u64,
        crash_points_blocking: m.crash.iter().filter(|r| r.blocked_runs > 0).count() as u64,
        crash_runs: sum(&m.crash, |r| r.runs),
        crash_blocked_runs: sum(&m.crash, |r| r.blocked_runs),
        crash_atomicity_violations: sum(&m.crash, |r| r.atomicity_violations),
        crash_verdict: crash.text,
        claim_crash: claim.crash.to_string(),
        partition_runs: part(|r| r.runs),
        partition_blocked_runs: part(|r| r.blocked_runs),
        partition_atomicity_violations: part(|r| r.atomicity_violations),
        partition_termination_failures: part(|r| r.termination_failures),
        partition_verdict: format!("{}; {}", p_blocking.text, p_atomic.text),
        claim_partition: claim.partition.to_string(),
        normal_runs: m.normal.runs,
        mean_anomaly_ms: m.normal.mean_anomaly_ms.clone(),
        anomalous_reads_per_run: m.normal.anomalous_reads_per_run.clone(),
        readers_verdict: readers.text,
        claim_readers: claim.readers.to_string(),
        median_decision_ms: m.normal.median_decision_ms.clone(),
        p99_decision_ms: m.normal.p99_decision_ms.clone(),
        total_failure_runs: sum(&m.total_failure, |r| r.runs),
        total_failure_blocked_runs: sum(&m.total_failure, |r| r.blocked_runs),
        total_failure_termination_failures: sum(&m.total_failure, |r| r.termination_failures),
        total_failure_atomicity_violations: sum(&m.total_failure, |r| r.atomicity_violations),
        total_failure_verdict: total.text,
        claim_total_failure: claim.total_failure.to_string(),
        refuted_claims: refuted.join(";"),
    }
}

/// A measured verdict beside its claim, flagged when the claim is refuted.
fn cell(measured: &str, claim: &str, refuted: bool) -> String {
    let flag = if refuted { " **✗ textbook**" } else { "" };
    format!("{measured} _(textbook: {claim})_{flag}")
}

/// The Markdown table (the README shows it as printed).
pub fn write_markdown(out: &mut impl Write, rows: &[Row]) -> std::io::Result<()> {
    writeln!(
        out,
        "| protocol | rounds (delays) | msgs / forced writes per txn | coordinator crash, never recovers | partitions (± crashes) | concurrent readers | decision latency p50 / p99 | after a total failure |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for r in rows {
        let refuted = |name: &str| r.refuted_claims.split(';').any(|x| x == name);
        writeln!(
            out,
            "| {} | {} | {} / {} | {} | {} | {} | {} / {} ms | {} |",
            r.protocol,
            cell(&format!("{} ({})", r.rounds, r.message_delays), &r.claim_phases, false),
            r.messages_per_txn,
            r.forced_writes_per_txn,
            cell(&r.crash_verdict, &r.claim_crash, refuted("coordinator crash")),
            cell(
                &r.partition_verdict,
                &r.claim_partition,
                refuted("partition blocking") || refuted("partition atomicity")
            ),
            cell(&r.readers_verdict, &r.claim_readers, refuted("readers")),
            r.median_decision_ms,
            r.p99_decision_ms,
            cell(&r.total_failure_verdict, &r.claim_total_failure, refuted("total failure")),
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} participants; rounds = coordinator round trips on the commit path, (delays - 2) / 2, from fault-free runs with constant one-way delay d; total failure: every node but the client crashes at a coordinator crash point and all recover after {} ms; ✗ textbook: the measurement refutes the claim.",
        PARTICIPANTS, TOTAL_FAILURE_RECOVERY_MS
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::runs::{self, Seeds};

    #[test]
    fn a_protocol_without_a_coordinator_crash_point_is_not_measured_there_nor_refuted() {
        let mut m = runs::measure(Seeds { first: 1, count: 1 }, 1).unwrap().remove(0);
        let before = row(&m);
        assert!(!before.crash_verdict.starts_with("not measured"), "{}", before.crash_verdict);
        m.crash.clear();
        m.total_failure.clear();
        let r = row(&m);
        assert_eq!(r.crash_verdict, "not measured: no coordinator crash point");
        assert_eq!(r.total_failure_verdict, "not measured: no coordinator crash point");
        assert_eq!((r.crash_runs, r.total_failure_runs), (0, 0));
        assert!(!r.refuted_claims.contains("coordinator crash"), "{}", r.refuted_claims);
        assert!(!r.refuted_claims.contains("total failure"), "{}", r.refuted_claims);
    }

    #[test]
    fn rounds_leave_out_the_clients_request_and_reply() {
        assert_eq!(rounds("6.00"), "2.0");
        assert_eq!(rounds("8.00"), "3.0");
        assert_eq!(rounds("7.00"), "2.5");
        assert_eq!(rounds("0.00"), "0.0");
    }
}
