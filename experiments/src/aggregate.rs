//! Aggregating runs as they finish: the study and the sweeps fold each run's
//! [`RunMetrics`] into a [`RunStats`] and drop it, so their memory does not grow with the
//! number of seeds, and a shard's `RunStats` merge into exactly what one run over all the
//! seeds would have built.
//!
//! Everything here is exact and order-free: counts and integer sums, maxima, and
//! [`Histogram`], which keeps a count per distinct value (so a percentile is the same
//! sample the sorted list would give). Merging in any order, on any thread count, or across
//! machines gives the same bytes. Its size follows the spread of the values, not the number
//! of samples.
//!
//! Means are the integer sum over the count, converted once. [`crate::metrics::mean`] adds
//! the samples as `f64` one by one; every partial sum of integers below 2^53 is exact, so
//! the two agree bit for bit while the sum stays below 2^53 µs (285 years), which
//! [`Sum::mean`] asserts ([`crate::sum`]).

use serde::{Deserialize, Serialize};

pub use crate::histogram::Histogram;
use crate::metrics::RunMetrics;
pub use crate::sum::Sum;

/// Everything the study's and the sweeps' rows are computed from: one row's runs, folded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunStats {
    pub runs: u64,
    /// Runs with at least one crash.
    pub crashed_runs: u64,
    pub blocked_runs: u64,
    pub atomicity_violations: u64,
    pub termination_failures: u64,
    pub inconclusive_runs: u64,
    pub txns_submitted: u64,
    pub committed: u64,
    pub aborted: u64,
    pub committed_in_window: u64,
    pub crashes: u64,
    pub messages: u64,
    pub protocol_messages: u64,
    pub disk_writes: u64,
    /// Every decision latency of every run.
    pub decision_us: Histogram,
    /// Per run, its longest in-doubt interval.
    pub worst_in_doubt_us: Sum,
    /// Per run, its longest lock-held interval.
    pub worst_lock_held_us: Sum,
    /// Every lock-held interval, kept only when a row reports its percentiles.
    pub lock_held_us: Option<Histogram>,
    /// Per run, how long the bank total was off.
    pub anomaly_us: Sum,
    /// Per run, the audit reads that saw the bank total off.
    pub anomalous_reads: Sum,
}

impl RunStats {
    /// An empty fold; `lock_histogram` keeps every lock-held interval (for percentiles).
    pub fn new(lock_histogram: bool) -> RunStats {
        RunStats { lock_held_us: lock_histogram.then(Histogram::default), ..RunStats::default() }
    }

    /// `runs` folded (what the rows of `compare` are built from).
    pub fn of_runs(runs: &[RunMetrics], lock_histogram: bool) -> RunStats {
        let mut s = RunStats::new(lock_histogram);
        for m in runs {
            s.add(m);
        }
        s
    }

    pub fn add(&mut self, m: &RunMetrics) {
        self.runs += 1;
        self.crashed_runs += u64::from(m.crashes > 0);
        self.blocked_runs += u64::from(m.blocked);
        self.atomicity_violations += u64::from(m.atomicity_violated);
        self.termination_failures += u64::from(m.termination_failed);
        self.inconclusive_runs += u64::from(m.inconclusive);
        self.txns_submitted += m.txns_submitted;
        self.committed += m.committed;
        self.aborted += m.aborted;
        self.committed_in_window += m.committed_in_window;
        self.crashes += m.crashes;
        self.messages += m.messages;
        self.protocol_messages += m.protocol_messages;
        self.disk_writes += m.disk_writes;
        for &x in &m.decision_latencies_us {
            self.decision_us.add(x);
        }
        self.worst_in_doubt_us.add(m.worst_in_doubt_us());
        self.worst_lock_held_us.add(m.worst_lock_held_us());
        if let Some(h) = &mut self.lock_held_us {
            for &x in &m.lock_held_us {
                h.add(x);
            }
        }
        self.anomaly_us.add(m.anomaly_us);
        self.anomalous_reads.add(m.anomalous_reads);
    }

    /// Adds `other`'s runs: the result does not depend on the order of merges.
    pub fn merge(&mut self, other: &RunStats) {
        self.runs += other.runs;
        self.crashed_runs += other.crashed_runs;
        self.blocked_runs += other.blocked_runs;
        self.atomicity_violations += other.atomicity_violations;
        self.termination_failures += other.termination_failures;
        self.inconclusive_runs += other.inconclusive_runs;
        self.txns_submitted += other.txns_submitted;
        self.committed += other.committed;
        self.aborted += other.aborted;
        self.committed_in_window += other.committed_in_window;
        self.crashes += other.crashes;
        self.messages += other.messages;
        self.protocol_messages += other.protocol_messages;
        self.disk_writes += other.disk_writes;
        self.decision_us.merge(&other.decision_us);
        self.worst_in_doubt_us.merge(&other.worst_in_doubt_us);
        self.worst_lock_held_us.merge(&other.worst_lock_held_us);
        match (&mut self.lock_held_us, &other.lock_held_us) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, None) => {}
            _ => panic!("merging a fold that keeps lock intervals with one that does not"),
        }
        self.anomaly_us.merge(&other.anomaly_us);
        self.anomalous_reads.merge(&other.anomalous_reads);
    }
}
