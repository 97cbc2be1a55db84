//! Helpers shared by the protocol tests: consistency read from observations *and* disks.
#![allow(dead_code)]

use std::collections::BTreeMap;

use protocols::{Observation, Outcome, RunReport, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

/// Every decision anyone reported or wrote, per transaction; panics on a disagreement (AC1)
/// or a reversal.
pub fn decisions(report: &RunReport) -> BTreeMap<TxnId, Outcome> {
    let mut all: BTreeMap<TxnId, Outcome> = BTreeMap::new();
    let mut note = |txn: TxnId, outcome: Outcome, who: String| {
        let first = *all.entry(txn).or_insert(outcome);
        assert_eq!(first, outcome, "{txn}: {who} decided {outcome}, someone else {first}");
    };
    for o in &report.observations {
        if let Observation::Decided { txn, outcome } = o.obs {
            note(txn, outcome, format!("{} (observed)", o.node));
        }
    }
    for (i, d) in report.end.disks.iter().enumerate() {
        for &(txn, outcome) in &d.decisions {
            note(txn, outcome, format!("n{i} (disk)"));
        }
    }
    all
}

/// Outcome per transaction as `node` reported it.
pub fn decided_at(report: &RunReport, node: NodeId) -> BTreeMap<TxnId, Outcome> {
    report
        .observed_at(node)
        .filter_map(|o| match *o {
            Observation::Decided { txn, outcome } => Some((txn, outcome)),
            _ => None,
        })
        .collect()
}

/// Transactions `node` voted on, with its vote.
pub fn votes_at(report: &RunReport, node: NodeId) -> Vec<(TxnId, protocols::Vote)> {
    report
        .observed_at(node)
        .filter_map(|o| match *o {
            Observation::Voted { txn, vote } => Some((txn, vote)),
            _ => None,
        })
        .collect()
}

pub fn count_yes_votes(report: &RunReport) -> u64 {
    report
        .observations
        .iter()
        .filter(|o| matches!(o.obs, Observation::Voted { vote: protocols::Vote::Yes, .. }))
        .count() as u64
}

/// Crash `node` when it emits `mark` for the first time; recover it after `recover_after_us`.
pub fn crash_at(node: u32, mark: &str, recover_after_us: Option<u64>) -> FaultPlan {
    FaultPlan::none().with(
        Trigger::Mark { node: NodeId(node), mark: mark.into(), nth: 1 },
        Action::Crash { node: NodeId(node), recover_after_us },
    )
}

/// Every participant is up, has no transaction in doubt and holds no lock.
pub fn assert_all_participants_settled(report: &RunReport) {
    for p in report.participants() {
        let i = p.index();
        assert!(report.end.up[i], "{p} is down");
        assert!(
            report.end.in_doubt[i].is_empty(),
            "{p} still in doubt: {:?}",
            report.end.in_doubt[i]
        );
        assert!(report.end.locks[i].is_empty(), "{p} still holds locks: {:?}", report.end.locks[i]);
    }
}
