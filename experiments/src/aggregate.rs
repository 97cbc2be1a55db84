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
//! [`Sum::mean`] asserts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::RunMetrics;

/// Largest integer sum whose `f64` running sum is exact at every step.
const EXACT_F64: u128 = 1 << 53;

/// Count, sum and maximum of one value per sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sum {
    pub n: u64,
    pub sum: u128,
    pub max: u64,
}

impl Sum {
    pub fn add(&mut self, x: u64) {
        self.n += 1;
        self.sum += u128::from(x);
        self.max = self.max.max(x);
    }

    pub fn merge(&mut self, other: &Sum) {
        self.n += other.n;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// Equal to [`crate::metrics::mean`] of the samples (0 for none).
    pub fn mean(&self) -> f64 {
        assert!(
            self.sum < EXACT_F64,
            "a sum of {} exceeds 2^53: its f64 mean is inexact",
            self.sum
        );
        if self.n == 0 { 0.0 } else { self.sum as f64 / self.n as f64 }
    }
}

/// Consecutive values per page of a [`Histogram`].
const PAGE: u64 = 32;

/// An exact distribution of `u64` samples: how many times each value occurred, as dense
/// pages of [`PAGE`] consecutive values (only pages with a sample exist). Latencies cluster
/// (a few tens of milliseconds wide per recovery delay), so a row's pages fill up within a
/// thousand seeds and then stop growing: the size follows the spread of the values, not
/// the number of samples (a map entry per distinct value would keep growing until every
/// microsecond of the spread has been seen).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    pages: BTreeMap<u64, Box<[u64; PAGE as usize]>>,
    total: Sum,
}

impl Histogram {
    pub fn add(&mut self, x: u64) {
        self.add_n(x, 1);
    }

    fn add_n(&mut self, x: u64, count: u64) {
        let page = self.pages.entry(x / PAGE).or_insert_with(|| Box::new([0; PAGE as usize]));
        page[(x % PAGE) as usize] += count;
        self.total.n += count;
        self.total.sum += u128::from(x) * u128::from(count);
        self.total.max = self.total.max.max(x);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (&p, theirs) in &other.pages {
            let mine = self.pages.entry(p).or_insert_with(|| Box::new([0; PAGE as usize]));
            for (m, t) in mine.iter_mut().zip(theirs.iter()) {
                *m += t;
            }
        }
        self.total.merge(&other.total);
    }

    /// Every (value, count) with a positive count, ascending.
    pub fn counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.pages.iter().flat_map(|(&p, counts)| {
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(move |(i, &c)| (p * PAGE + i as u64, c))
        })
    }

    pub fn len(&self) -> u64 {
        self.total.n
    }

    pub fn is_empty(&self) -> bool {
        self.total.n == 0
    }

    /// Equal to [`crate::metrics::mean`] of the samples.
    pub fn mean(&self) -> f64 {
        self.total.mean()
    }

    /// Equal to [`crate::metrics::percentile`] of the samples: the nearest-rank sample.
    pub fn percentile(&self, p: f64) -> u64 {
        let n = self.total.n;
        if n == 0 {
            return 0;
        }
        let rank = (((p / 100.0) * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0u64;
        for (x, c) in self.counts() {
            seen += c;
            if seen >= rank {
                return x;
            }
        }
        unreachable!("the counts add up to n = {n}, and rank {rank} <= n")
    }
}

/// On disk (a shard's partial state): ascending values as gaps from the previous one, and
/// their counts; short numbers, and nothing to check but the lengths and the order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistogramFile {
    gaps: Vec<u64>,
    counts: Vec<u64>,
}

impl Serialize for Histogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut prev = 0u64;
        let (mut gaps, mut counts) = (Vec::new(), Vec::new());
        for (x, c) in self.counts() {
            gaps.push(x - prev);
            counts.push(c);
            prev = x;
        }
        HistogramFile { gaps, counts }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Histogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let f = HistogramFile::deserialize(d)?;
        if f.gaps.len() != f.counts.len() {
            return Err(D::Error::custom("a histogram needs as many counts as values"));
        }
        let mut h = Histogram::default();
        let mut x = 0u64;
        for (i, (&gap, &count)) in f.gaps.iter().zip(&f.counts).enumerate() {
            if (i > 0 && gap == 0) || count == 0 {
                return Err(D::Error::custom("histogram values must ascend, counts be positive"));
            }
            x = x.checked_add(gap).ok_or_else(|| D::Error::custom("histogram value overflows"))?;
            h.add_n(x, count);
        }
        Ok(h)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{mean, percentile};
    use proptest::prelude::*;

    proptest! {
        /// The folds give what the sorted sample lists give, split and merged anywhere.
        #[test]
        fn histograms_agree_with_the_sample_lists(
            xs in proptest::collection::vec(prop_oneof![0u64..5_000_000, 0u64..100], 0..300),
            cut in 0usize..300,
        ) {
            let cut = cut.min(xs.len());
            let (mut a, mut b) = (Histogram::default(), Histogram::default());
            xs[..cut].iter().for_each(|&x| a.add(x));
            xs[cut..].iter().for_each(|&x| b.add(x));
            b.merge(&a);
            for p in [1.0, 50.0, 99.0, 100.0] {
                prop_assert_eq!(b.percentile(p), percentile(&xs, p));
            }
            prop_assert_eq!(b.mean().to_bits(), mean(&xs).to_bits());
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(serde_json::from_str::<Histogram>(&json).unwrap(), b);
        }
    }

    #[test]
    fn a_malformed_histogram_is_refused() {
        for bad in [
            r#"{"gaps":[1,0],"counts":[1,1]}"#,
            r#"{"gaps":[1],"counts":[0]}"#,
            r#"{"gaps":[1],"counts":[]}"#,
        ] {
            assert!(serde_json::from_str::<Histogram>(bad).is_err(), "{bad}");
        }
    }
}
