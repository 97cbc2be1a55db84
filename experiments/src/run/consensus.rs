//! What `run` says of a replicated log's run: its client's operations and its leaders, in
//! place of the commit outcomes a replicated log does not have.

use std::collections::BTreeMap;

use protocols::{Observation, RunReport};
use serde::Serialize;

use crate::metrics::percentile;

/// A replicated log's run in numbers (`None` in [`super::Summary`] for commit protocols).
#[derive(Debug, Serialize)]
pub struct ConsensusSummary {
    pub ops_invoked: u64,
    pub ops_returned: u64,
    /// Distinct (term, leader) elections.
    pub leaders_elected: u64,
    pub highest_term: u64,
    /// The highest log index any replica applied.
    pub applied_index_max: u64,
    /// Invocation to return, per returned operation.
    pub op_latency_median_ms: f64,
    pub op_latency_p99_ms: f64,
}

impl ConsensusSummary {
    /// The summary of `report`, if a replicated log ran.
    pub fn of(report: &RunReport) -> Option<ConsensusSummary> {
        if !report.observations.iter().any(|o| o.obs.is_consensus()) {
            return None;
        }
        let mut invoked = BTreeMap::new();
        let mut latencies_us = Vec::new();
        let mut leaders = Vec::new();
        let mut applied_index_max = 0;
        for o in &report.observations {
            match o.obs {
                Observation::OpInvoked { op, .. } => {
                    invoked.entry(op).or_insert(o.time);
                }
                Observation::OpReturned { op, .. } => {
                    if let Some(at) = invoked.get(&op) {
                        latencies_us.push(o.time.as_us() - at.as_us());
                    }
                }
                Observation::LeaderElected { term } => leaders.push((term, o.node)),
                Observation::EntryApplied { index, .. } => {
                    applied_index_max = applied_index_max.max(index)
                }
                _ => {}
            }
        }
        leaders.sort_unstable();
        leaders.dedup();
        let ms = |us: u64| us as f64 / 1000.0;
        Some(ConsensusSummary {
            ops_invoked: invoked.len() as u64,
            ops_returned: latencies_us.len() as u64,
            leaders_elected: leaders.len() as u64,
            highest_term: leaders.last().map_or(0, |l| l.0),
            applied_index_max,
            op_latency_median_ms: ms(percentile(&latencies_us, 50.0)),
            op_latency_p99_ms: ms(percentile(&latencies_us, 99.0)),
        })
    }

    pub fn write_text(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        writeln!(
            out,
            "operations: invoked={} returned={} pending={}; leaders elected={} (highest term {}); \
             applied through index {}",
            self.ops_invoked,
            self.ops_returned,
            self.ops_invoked - self.ops_returned,
            self.leaders_elected,
            self.highest_term,
            self.applied_index_max
        )?;
        writeln!(
            out,
            "operation latency (invoked -> returned): median={:.3}ms p99={:.3}ms",
            self.op_latency_median_ms, self.op_latency_p99_ms
        )
    }
}
