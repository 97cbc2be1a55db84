//! AC1–AC4 (Bernstein, Hadzilacos & Goodman, ch. 7), per transaction, from every reported
//! decision *and* every decision on every disk: a protocol that forgets to report a
//! decision, or reports one it never made durable, is still judged on what it did.
//!
//! Each property first asks the cheap question of every transaction (did anyone commit? did
//! anyone abort?) and builds a witness only for the transactions that fail it: judging a
//! history allocates nothing per transaction, only per violation.

use std::collections::BTreeSet;

use protocols::Outcome;
use sim_core::NodeId;

use crate::history::History;
use crate::verdict::{Property, Verdict, Violation};

/// AC1: all processes that decide reach the same decision.
pub fn agreement(h: &History) -> Verdict {
    let mut out = Vec::new();
    for (txn, f) in h.txns() {
        if !(f.any_decided(Outcome::Commit) && f.any_decided(Outcome::Abort)) {
            continue;
        }
        let commits: BTreeSet<NodeId> =
            f.all_decisions().filter(|d| d.1 == Outcome::Commit).map(|d| d.0).collect();
        let aborts: BTreeSet<NodeId> =
            f.all_decisions().filter(|d| d.1 == Outcome::Abort).map(|d| d.0).collect();
        if !commits.is_empty() && !aborts.is_empty() {
            let decisions = commits
                .iter()
                .map(|n| (*n, Outcome::Commit))
                .chain(aborts.iter().map(|n| (*n, Outcome::Abort)))
                .collect();
            out.push(Violation {
                property: Property::Agreement,
                txn: Some(txn),
                nodes: commits.iter().chain(&aborts).copied().collect(),
                detail: format!("{txn}: {} committed, {} aborted", list(&commits), list(&aborts)),
                since: None,
                waiting_on: None,
                decisions,
            });
        }
    }
    Verdict::from_violations(out)
}

/// AC2: no process reverses its decision. A node's reported decisions (in time order, across
/// recoveries) and its durable decisions (in disk order) must all be one outcome.
pub fn irreversibility(h: &History) -> Verdict {
    let mut out = Vec::new();
    for (txn, f) in h.txns() {
        // One outcome throughout: nobody can have reversed.
        if !(f.any_decided(Outcome::Commit) && f.any_decided(Outcome::Abort)) {
            continue;
        }
        // Reported decisions in time order, then durable ones by node (each node's in disk
        // order): a node's first decision is its first reported one, else its first durable.
        let mut durable: Vec<(NodeId, Outcome)> = f.durable_decisions().collect();
        durable.sort_by_key(|d| d.0);
        let mut per_node: Vec<(NodeId, Outcome, Outcome)> = Vec::new();
        for (node, outcome) in f.decided().chain(durable) {
            match per_node.iter_mut().find(|p| p.0 == node) {
                Some(p) if p.1 != outcome => p.2 = outcome,
                Some(_) => {}
                None => per_node.push((node, outcome, outcome)),
            }
        }
        for (node, first, other) in per_node.into_iter().filter(|p| p.1 != p.2) {
            out.push(Violation {
                property: Property::Irreversibility,
                txn: Some(txn),
                nodes: vec![node],
                detail: format!("{txn}: {node} decided {first}, later {other}"),
                since: None,
                waiting_on: None,
                decisions: vec![(node, first), (node, other)],
            });
        }
    }
    Verdict::from_violations(out)
}

/// AC3: commit is decided only if every participant voted yes.
pub fn commit_needs_all_yes(h: &History) -> Verdict {
    let mut out = Vec::new();
    for (txn, f) in h.txns() {
        let lacks_yes = |p: NodeId| !f.voted_yes(p) || f.voted_no(p);
        if !f.any_decided(Outcome::Commit) || (f.submitted() && !f.participants().any(lacks_yes)) {
            continue;
        }
        let committers: BTreeSet<NodeId> =
            f.all_decisions().filter(|d| d.1 == Outcome::Commit).map(|d| d.0).collect();
        let missing: Vec<NodeId> = f.participants().filter(|&p| lacks_yes(p)).collect();
        out.push(Violation {
            property: Property::CommitNeedsAllYes,
            txn: Some(txn),
            nodes: missing.clone(),
            detail: if f.submitted() {
                format!("{txn} committed without a yes vote from {}", list(&missing))
            } else {
                format!("{txn} committed but was never submitted")
            },
            since: None,
            waiting_on: None,
            decisions: committers.into_iter().map(|n| (n, Outcome::Commit)).collect(),
        });
    }
    Verdict::from_violations(out)
}

/// AC4: with no failures and all votes yes, the decision is commit. A failure is a fault
/// that fired, a crash, or a message the network lost or duplicated.
pub fn commit_without_failures(h: &History) -> Verdict {
    if !h.failure_free() {
        return Verdict::NotApplicable { reason: "the run had failures".into() };
    }
    let mut out = Vec::new();
    for (txn, f) in h.txns().filter(|(_, f)| f.submitted()) {
        let all_yes = f.participants().next().is_some()
            && f.participants().all(|p| f.voted_yes(p) && !f.voted_no(p));
        if !all_yes || !f.any_decided(Outcome::Abort) {
            continue;
        }
        let aborted: BTreeSet<NodeId> =
            f.all_decisions().filter(|d| d.1 == Outcome::Abort).map(|d| d.0).collect();
        if !aborted.is_empty() {
            out.push(Violation {
                property: Property::CommitWithoutFailures,
                txn: Some(txn),
                nodes: aborted.iter().copied().collect(),
                detail: format!(
                    "{txn}: all voted yes, no failures, yet {} aborted",
                    list(&aborted)
                ),
                since: None,
                waiting_on: None,
                decisions: aborted.into_iter().map(|n| (n, Outcome::Abort)).collect(),
            });
        }
    }
    Verdict::from_violations(out)
}

pub(crate) fn list<'a>(nodes: impl IntoIterator<Item = &'a NodeId>) -> String {
    let v: Vec<String> = nodes.into_iter().map(|n| n.to_string()).collect();
    if v.is_empty() { "nobody".into() } else { v.join(", ") }
}
