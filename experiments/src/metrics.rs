//! What one finished run measured, in the units studies aggregate: outcomes, decision
//! latency, in-doubt and lock-held intervals, messages, disk writes, and which properties
//! failed. `run`, the study and every sweep read a run through this one function so that a
//! number means the same thing in every table.
//!
//! Definitions (microseconds of simulated time):
//! - **decision latency** of a transaction: from the client's `Submitted` (first attempt) to
//!   its `ClientLearned` (first reply). Transactions the client never heard of have none.
//! - **in-doubt interval**: a participant's `Uncertain` to its next `Decided` on the same
//!   transaction; **lock-held interval**: `LocksAcquired` to `LocksReleased`. An interval
//!   still open when the run ends is closed at the end of the run, so a participant that
//!   stayed blocked counts until the liveness phase (if any) repaired its coordinator.
//! - **outcome** of a transaction: what the client learned; a transaction nobody told the
//!   client about is undecided.
//! - **anomaly window**: [`checkers::anomaly`]'s `unbalanced_us`, the time the sum of the
//!   services' balances was off the initial total because a saga was between steps. It is
//!   built from saga step and compensation observations only, so it is 0 for every commit
//!   protocol (2PC, 3PC, Paxos Commit: their writes are applied only once decided).
//! - **anomalous reads**: [`checkers::anomaly`]'s `reads_off`, the concurrent reads of the
//!   bank total (a saga scenario's audit rounds) whose total differed from the initial one.
//!   Only saga scenarios on the bank workload audit, so it is 0 for every commit protocol —
//!   not because their reads would be consistent, but because nobody reads there.

use std::collections::BTreeMap;

use checkers::{Property, Verdicts};
use protocols::{Observation, Outcome, RunReport, TxnId};
use sim_core::{NodeId, Time};

/// Measurements of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunMetrics {
    pub txns_submitted: u64,
    pub committed: u64,
    pub aborted: u64,
    /// Per transaction the client learned, in transaction order.
    pub decision_latencies_us: Vec<u64>,
    /// Every (participant, transaction) in-doubt interval, in observation order.
    pub in_doubt_us: Vec<u64>,
    /// Every (participant, transaction) lock-held interval, in observation order.
    pub lock_held_us: Vec<u64>,
    /// Every send, client traffic included.
    pub messages: u64,
    /// Coordinator–participant and participant–participant sends only.
    pub protocol_messages: u64,
    pub disk_writes: u64,
    pub crashes: u64,
    /// When the client learned its last outcome (None: it learned none).
    pub last_learned_us: Option<u64>,
    /// Committed transactions the client learned by `window_us` (see [`RunMetrics::of`]).
    pub committed_in_window: u64,
    /// Some up participant was still in doubt at the end of the fault phase.
    pub blocked: bool,
    /// An AC1–AC4 property, durability or conservation failed: atomicity was lost.
    pub atomicity_violated: bool,
    /// AC5 failed: still undecided after the liveness phase (a saga that never ended too).
    pub termination_failed: bool,
    /// A bound cut the run short: what needs a finished run was not judged.
    pub inconclusive: bool,
    /// How long the bank total was off while sagas were between steps (0 without sagas).
    pub anomaly_us: u64,
    /// Concurrent reads of the bank total that saw it off (0 without sagas: nobody reads).
    pub anomalous_reads: u64,
}

impl RunMetrics {
    /// The longest in-doubt interval of the run (0 if nobody was ever in doubt).
    pub fn worst_in_doubt_us(&self) -> u64 {
        self.in_doubt_us.iter().copied().max().unwrap_or(0)
    }

    /// The longest lock-held interval of the run.
    pub fn worst_lock_held_us(&self) -> u64 {
        self.lock_held_us.iter().copied().max().unwrap_or(0)
    }

    /// Measures `report` judged by `verdicts`; `window_us` bounds `committed_in_window`.
    pub fn of(report: &RunReport, verdicts: &Verdicts, window_us: u64) -> RunMetrics {
        let mut m = RunMetrics {
            messages: report.messages.total,
            protocol_messages: report.messages.protocol,
            disk_writes: report.stats.disk_writes,
            crashes: report.stats.crashes,
            blocked: verdicts.get(Property::NonBlocking).is_violated(),
            atomicity_violated: verdicts
                .verdicts
                .iter()
                .any(|(p, v)| v.is_violated() && p.is_safety()),
            termination_failed: verdicts.get(Property::Termination).is_violated(),
            inconclusive: verdicts.inconclusive.is_some(),
            ..RunMetrics::default()
        };
        let anomaly = checkers::anomaly(report);
        m.anomaly_us = anomaly.unbalanced_us;
        m.anomalous_reads = u64::from(anomaly.reads_off);
        let end = report.end.time;
        let mut submitted: BTreeMap<TxnId, Time> = BTreeMap::new();
        let mut learned: BTreeMap<TxnId, (Time, Outcome)> = BTreeMap::new();
        let mut open_doubt: BTreeMap<(NodeId, TxnId), Time> = BTreeMap::new();
        let mut open_locks: BTreeMap<(NodeId, TxnId), Time> = BTreeMap::new();
        for o in &report.observations {
            match o.obs {
                Observation::Submitted { txn, .. } => {
                    submitted.entry(txn).or_insert(o.time);
                }
                Observation::ClientLearned { txn, outcome } => {
                    learned.entry(txn).or_insert((o.time, outcome));
                }
                Observation::Uncertain { txn } => {
                    open_doubt.entry((o.node, txn)).or_insert(o.time);
                }
                Observation::Decided { txn, .. } => {
                    if let Some(since) = open_doubt.remove(&(o.node, txn)) {
                        m.in_doubt_us.push(o.time.since(since).as_us());
                    }
                }
                Observation::LocksAcquired { txn, .. } => {
                    open_locks.entry((o.node, txn)).or_insert(o.time);
                }
                Observation::LocksReleased { txn } => {
                    if let Some(since) = open_locks.remove(&(o.node, txn)) {
                        m.lock_held_us.push(o.time.since(since).as_us());
                    }
                }
                _ => {}
            }
        }
        m.in_doubt_us.extend(open_doubt.values().map(|&t| end.since(t).as_us()));
        m.lock_held_us.extend(open_locks.values().map(|&t| end.since(t).as_us()));
        m.txns_submitted = submitted.len() as u64;
        for (txn, &(at, outcome)) in &learned {
            match outcome {
                Outcome::Commit => {
                    m.committed += 1;
                    if at.as_us() <= window_us {
                        m.committed_in_window += 1;
                    }
                }
                Outcome::Abort => m.aborted += 1,
            }
            if let Some(&sub) = submitted.get(txn) {
                m.decision_latencies_us.push(at.since(sub).as_us());
            }
            m.last_learned_us = m.last_learned_us.max(Some(at.as_us()));
        }
        m
    }
}

/// The arithmetic mean, 0 for no samples.
pub fn mean(xs: &[u64]) -> f64 {
    if xs.is_empty() { 0.0 } else { xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len() as f64 }
}

/// The nearest-rank percentile `p` in (0, 100] (0 for no samples): an actual sample, so the
/// result never depends on interpolation or on the order samples arrived in.
pub fn percentile(xs: &[u64], p: f64) -> u64 {
    if xs.is_empty() {
        return 0;
    }
    let mut v = xs.to_vec();
    v.sort_unstable();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Microseconds as milliseconds with three decimals (fixed formatting: byte-stable CSV).
pub fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_are_samples() {
        let xs = [5, 1, 4, 2, 3];
        assert_eq!(percentile(&xs, 50.0), 3);
        assert_eq!(percentile(&xs, 99.0), 5);
        assert_eq!(percentile(&xs, 1.0), 1);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(mean(&[1, 2]), 1.5);
        assert_eq!(ms(1234.0), "1.234");
    }
}
