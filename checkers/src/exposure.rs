//! In-doubt exposure: metrics, not verdicts. Per participant, how long it was uncertain
//! (from `Uncertain` to its next `Decided` on the same transaction) and how long locks were
//! held (from `LocksAcquired` to `LocksReleased`), each interval closed at the end of the
//! run if it never ended. This is the real price of blocking: others wait on those locks.

use serde::{Deserialize, Serialize};
use sim_core::{NodeId, Time};

use protocols::{Observation, RunReport, TxnId};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    pub node: NodeId,
    pub uncertain_us: u64,
    pub lock_held_us: u64,
    /// Longest single uncertain interval.
    pub uncertain_us_max: u64,
}

/// One entry per participant, in id order. Linear in the observations.
pub fn exposure(report: &RunReport) -> Vec<Exposure> {
    let end = report.end.time;
    let mut per: Vec<Exposure> =
        report.participants().map(|node| Exposure { node, ..Exposure::default() }).collect();
    let first = report.participants().next().map(|n| n.index()).unwrap_or(0);
    // Open intervals per participant: (txn, since), at most one per transaction.
    let mut open_uncertain: Vec<Vec<(TxnId, Time)>> = vec![Vec::new(); per.len()];
    let mut open_locks: Vec<Vec<(TxnId, Time)>> = vec![Vec::new(); per.len()];
    let close = |open: &mut Vec<(TxnId, Time)>, txn: TxnId, at: Time| -> Option<u64> {
        let i = open.iter().position(|o| o.0 == txn)?;
        Some(at.since(open.swap_remove(i).1).as_us())
    };
    for o in &report.observations {
        let Some(i) = o.node.index().checked_sub(first).filter(|i| *i < per.len()) else {
            continue;
        };
        match o.obs {
            Observation::Uncertain { txn } if !open_uncertain[i].iter().any(|u| u.0 == txn) => {
                open_uncertain[i].push((txn, o.time));
            }
            Observation::Decided { txn, .. } => {
                if let Some(d) = close(&mut open_uncertain[i], txn, o.time) {
                    per[i].uncertain_us += d;
                    per[i].uncertain_us_max = per[i].uncertain_us_max.max(d);
                }
            }
            Observation::LocksAcquired { txn, .. } if !open_locks[i].iter().any(|u| u.0 == txn) => {
                open_locks[i].push((txn, o.time));
            }
            Observation::LocksReleased { txn } => {
                if let Some(d) = close(&mut open_locks[i], txn, o.time) {
                    per[i].lock_held_us += d;
                }
            }
            _ => {}
        }
    }
    for (i, e) in per.iter_mut().enumerate() {
        for (_, since) in open_uncertain[i].drain(..) {
            let d = end.since(since).as_us();
            e.uncertain_us += d;
            e.uncertain_us_max = e.uncertain_us_max.max(d);
        }
        for (_, since) in open_locks[i].drain(..) {
            e.lock_held_us += end.since(since).as_us();
        }
    }
    per
}
