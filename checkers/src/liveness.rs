//! Termination (AC5) and blocking: the two liveness questions.
//!
//! - **Blocked** is judged at the end of the fault phase (the scenario's horizon, which the
//!   caller sets past every timeout and retry after the last fault): an operational
//!   participant that voted yes, is still undecided and never crashed is blocked. The
//!   verdict names it, the transaction, since when it has been uncertain, and the failures
//!   still in force (down nodes, cut links) — why it cannot decide.
//! - **Waiting after recovery**: a participant that crashed, recovered and is in doubt at
//!   the end of the fault phase is *not* blocked. Skeen's non-blocking is a crash-stop
//!   property: it promises that the operational sites decide despite the failed ones, not
//!   that a failed site decides alone when it comes back (no commit protocol lets it: after
//!   a total failure it must ask the others). Such nodes are listed apart
//!   ([`waiting_after_recovery`]), never silently dropped. This is the one definition every
//!   command (`run`, `check`, `replay`, study, sweeps) reads.
//! - **AC5** is judged after the liveness phase (everything recovered and healed for a
//!   bound): any participant that voted yes and has still not decided violates termination.
//!
//! Both read who is in doubt from the history's facts (a node's `Uncertain` until its
//! `Decided`, emptied by a crash), never from a live node, so they judge a growing history
//! and an explorer's state as they judge a finished run.

use sim_core::{NodeId, Time};

use crate::history::History;
use crate::verdict::{Property, Verdict, Violation, Waiting, WaitingOn};

/// Operational participants that never crashed and are still in doubt at the end of the
/// fault phase.
pub fn non_blocking(h: &History) -> Verdict {
    let Some(end) = h.fault_phase_end() else {
        return Verdict::NotApplicable { reason: "the fault phase has not ended".into() };
    };
    let mut out = Vec::new();
    for b in end.blocked.iter().filter(|b| !b.after_recovery) {
        let (node, txn, since) = (b.node, b.txn, b.since);
        let wait = waits_on(&end.waiting_on, node);
        let why = describe(&wait);
        out.push(Violation {
            property: Property::NonBlocking,
            txn: Some(txn),
            nodes: vec![node],
            detail: format!("{node} is blocked on {txn} since {since}, waiting on {why}"),
            since: Some(since),
            waiting_on: Some(wait),
            decisions: Vec::new(),
        });
    }
    Verdict::from_violations(out)
}

/// Participants that crashed, recovered and are in doubt at the end of the fault phase:
/// waiting for others after their own failure, not blocked (see the module docs). Empty
/// before the fault phase ends.
pub fn waiting_after_recovery(h: &History) -> Vec<Waiting> {
    let Some(end) = h.fault_phase_end() else { return Vec::new() };
    (end.blocked.iter().filter(|b| b.after_recovery))
        .map(|b| {
            let waiting_on = waits_on(&end.waiting_on, b.node);
            let detail = format!(
                "{} recovered in doubt on {} since {}, waiting on {}",
                b.node,
                b.txn,
                b.since,
                describe(&waiting_on)
            );
            Waiting { node: b.node, txn: b.txn, since: b.since, waiting_on, detail }
        })
        .collect()
}

/// What blocked `node` waits on: every down node (any of them may hold the decision) and
/// the cut links it sends or receives on — not every cut link in the cluster, which says
/// nothing about this node's wait.
fn waits_on(all: &WaitingOn, node: NodeId) -> WaitingOn {
    let cut_links =
        all.cut_links.iter().copied().filter(|&(a, b)| a == node || b == node).collect();
    WaitingOn { down: all.down.clone(), cut_links }
}

fn describe(w: &WaitingOn) -> String {
    let mut parts = Vec::new();
    if !w.down.is_empty() {
        parts.push(format!("down {}", crate::atomicity::list(&w.down)));
    }
    if !w.cut_links.is_empty() {
        let links: Vec<String> = w.cut_links.iter().map(|(a, b)| format!("{a}->{b}")).collect();
        parts.push(format!("cut links {}", links.join(" ")));
    }
    if parts.is_empty() {
        "no failure in force (the protocol did not terminate)".into()
    } else {
        parts.join("; ")
    }
}

/// AC5: after the liveness phase, every participant that voted yes has decided.
pub fn termination(h: &History) -> Verdict {
    if !h.liveness_phase() {
        return Verdict::NotApplicable { reason: "no liveness phase ran".into() };
    }
    let mut out = Vec::new();
    for (txn, f) in h.txns() {
        let mut undecided: Vec<NodeId> = f
            .participants()
            .chain(f.durable_yes())
            .filter(|&p| f.voted_yes(p) && f.decided_at(p).is_none())
            .collect();
        // A node that reported a decision but is in doubt again after recovery counts too.
        undecided.extend(h.in_doubt_on(txn));
        undecided.sort_unstable();
        undecided.dedup();
        if !undecided.is_empty() {
            out.push(Violation {
                property: Property::Termination,
                txn: Some(txn),
                nodes: undecided.clone(),
                detail: format!(
                    "{txn}: {} still undecided after the liveness phase (at {})",
                    crate::atomicity::list(&undecided),
                    h.now()
                ),
                since: None,
                waiting_on: Some(h.waiting_on()),
                decisions: Vec::new(),
            });
        }
    }
    Verdict::from_violations(out)
}

/// When blocking was judged: the end of the fault phase (None: it has not ended).
pub fn judged_at(h: &History) -> Option<Time> {
    h.fault_phase_end().map(|e| e.time)
}
