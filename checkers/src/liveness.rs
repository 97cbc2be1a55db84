//! Termination (AC5) and blocking: the two liveness questions.
//!
//! - **Blocked** is judged at the end of the fault phase (the scenario's horizon, which the
//!   caller sets past every timeout and retry after the last fault): an operational
//!   participant that voted yes and is still undecided is blocked. The verdict names it, the
//!   transaction, since when it has been uncertain, and the failures still in force (down
//!   nodes, cut links) — why it cannot decide.
//! - **AC5** is judged after the liveness phase (everything recovered and healed for a
//!   bound): any participant that voted yes and has still not decided violates termination.

use protocols::Snapshot;
use sim_core::{NodeId, Time};

use crate::history::History;
use crate::verdict::{Property, Verdict, Violation, WaitingOn};

fn waiting_on(s: &Snapshot) -> WaitingOn {
    WaitingOn {
        down: s
            .up
            .iter()
            .enumerate()
            .filter(|(_, up)| !**up)
            .map(|(i, _)| NodeId(i as u32))
            .collect(),
        cut_links: s.cut_links.clone(),
    }
}

/// Operational participants still in doubt at the end of the fault phase.
pub fn non_blocking(h: &History<'_>) -> Verdict {
    let snap = &h.report.fault_phase;
    let mut out = Vec::new();
    for (i, doubts) in snap.in_doubt.iter().enumerate() {
        let node = NodeId(i as u32);
        if !snap.up.get(i).copied().unwrap_or(false) {
            continue; // a down node is not blocked, it is down
        }
        for &txn in doubts {
            let since = h
                .facts(txn)
                .and_then(|f| f.uncertain.iter().filter(|u| u.0 == node).map(|u| u.1).max());
            let wait = waiting_on(snap);
            let why = describe(&wait);
            out.push(Violation {
                property: Property::NonBlocking,
                txn: Some(txn),
                nodes: vec![node],
                detail: format!(
                    "{node} is blocked on {txn} since {}, waiting on {why}",
                    since.map(|t| t.to_string()).unwrap_or_else(|| "an unreported time".into())
                ),
                since,
                waiting_on: Some(wait),
                decisions: Vec::new(),
            });
        }
    }
    Verdict::from_violations(out)
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
pub fn termination(h: &History<'_>) -> Verdict {
    if !h.report.liveness_phase {
        return Verdict::NotApplicable { reason: "no liveness phase ran".into() };
    }
    let end = &h.report.end;
    let mut out = Vec::new();
    for (txn, f) in h.txns() {
        let mut undecided: Vec<NodeId> = f
            .participants
            .iter()
            .chain(f.durable_yes.iter())
            .copied()
            .filter(|&p| f.voted_yes(p) && f.decided_at(p).is_none())
            .collect();
        // A node that reported a decision but is in doubt again after recovery counts too.
        for (i, doubts) in end.in_doubt.iter().enumerate() {
            if doubts.contains(&txn) {
                undecided.push(NodeId(i as u32));
            }
        }
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
                    end.time
                ),
                since: None,
                waiting_on: Some(waiting_on(end)),
                decisions: Vec::new(),
            });
        }
    }
    Verdict::from_violations(out)
}

/// Start of the fault phase's end, for readers of a verdict.
pub fn judged_at(h: &History<'_>) -> Time {
    h.report.fault_phase.time
}
