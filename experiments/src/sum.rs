//! An exact count, sum and maximum of one value per sample: what the aggregates and the
//! histograms ([`crate::aggregate`], [`crate::histogram`]) total their samples with. Integer
//! sums are order-free, so merging shards or threads in any order gives the same bytes.

use serde::{Deserialize, Serialize};

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
