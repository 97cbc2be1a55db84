//! End-to-end oracles: what the client was told must be what the participants hold
//! (durability), and in the bank workload no money is created or destroyed (conservation).

use protocols::Outcome;
use sim_core::NodeId;

use crate::BankTotals;
use crate::history::{History, TxnFacts};
use crate::verdict::{Property, Verdict, Violation};

/// An outcome reported to the client is what every participant ends with (durably), and a
/// committed transaction's writes are on every participant's disk.
pub fn durability(h: &History) -> Verdict {
    // Participants may legitimately learn the outcome after the client does (the decision
    // is already durable elsewhere, e.g. at the acceptors): judge only once failures were
    // repaired and the run settled.
    if !h.liveness_phase() {
        return Verdict::NotApplicable { reason: "no liveness phase ran".into() };
    }
    let mut out = Vec::new();
    for (txn, f) in h.txns() {
        let told = || f.client_learned().into_iter().chain(f.reported_to_client().iter());
        let Some(outcome) = told().next() else { continue };
        if told().any(|o| o != outcome) {
            out.push(violation(
                txn,
                vec![],
                format!("{txn}: the client was told both commit and abort"),
            ));
            continue;
        }
        let mut wrong = Vec::new();
        for p in f.participants() {
            // The index holds the disks as they are at the end of the history.
            let disk = f.first_on_disk(p);
            let ok = match outcome {
                Outcome::Commit => disk == Some(Outcome::Commit) && f.durable_yes().any(|n| n == p),
                Outcome::Abort => disk != Some(Outcome::Commit),
            };
            if !ok {
                wrong.push((p, disk));
            }
        }
        if !wrong.is_empty() {
            let nodes: Vec<NodeId> = wrong.iter().map(|w| w.0).collect();
            let detail = format!(
                "{txn}: the client was told {outcome}, but at the end {}",
                wrong
                    .iter()
                    .map(|(n, d)| match d {
                        Some(d) => format!("{n} holds {d}"),
                        None => format!("{n} holds no decision"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            out.push(violation(txn, nodes, detail));
        }
    }
    Verdict::from_violations(out)
}

fn violation(txn: protocols::TxnId, nodes: Vec<NodeId>, detail: String) -> Violation {
    Violation {
        property: Property::Durability,
        txn: Some(txn),
        nodes,
        detail,
        since: None,
        waiting_on: None,
        decisions: Vec::new(),
    }
}

/// Bank workload: no money is created or destroyed by the transactions whose outcome is
/// known. Each transaction is judged by what its participants' disks applied: a transaction
/// is *judged* when every participant that prepared it holds a decision on disk, or when its
/// outcome is known (some node decided, or the client was told) and the liveness phase ran
/// (every failure was repaired, so a participant still without the decision is a failure, not
/// a decision on its way). The total at the end must then be the initial total plus what the
/// transactions *not judged* applied so far (money legitimately in flight); anything else
/// was created or destroyed. Only a transaction whose outcome is unknown, or known while a
/// failure may still hold the decision back, is not judged ([`conservation_not_judged`]).
pub fn conservation(h: &History, bank: Option<BankTotals>) -> Verdict {
    let Some(bank) = bank else {
        return Verdict::NotApplicable {
            reason: "only the bank workload conserves a total".into(),
        };
    };
    let mut judged = 0usize;
    let mut in_flight: i64 = 0;
    let mut not_judged = Vec::new();
    for (txn, f) in h.txns() {
        if is_judged(h, &f) {
            judged += 1;
        } else {
            in_flight += applied(h, &f);
            not_judged.push(txn);
        }
    }
    if judged == 0 {
        return Verdict::NotApplicable {
            reason: "no transaction's outcome is known at every participant (see termination)"
                .into(),
        };
    }
    let expected = bank.initial + in_flight;
    if bank.at_end == expected {
        return Verdict::Holds;
    }
    let beside = if not_judged.is_empty() {
        String::new()
    } else {
        format!(" ({in_flight} applied by {} not judged)", txn_list(&not_judged))
    };
    Verdict::Violated {
        violations: vec![Violation {
            property: Property::Conservation,
            txn: None,
            nodes: Vec::new(),
            detail: format!(
                "the bank total is {} at the end, {} at the start{beside}: {} {} by the {judged} transactions judged",
                bank.at_end,
                bank.initial,
                (bank.at_end - expected).abs(),
                if bank.at_end > expected { "created" } else { "destroyed" },
            ),
            since: None,
            waiting_on: None,
            decisions: Vec::new(),
        }],
    }
}

/// The transactions conservation could not judge (bank workload; empty otherwise): their
/// outcome is unknown, or known while a failure may still hold it back from a participant.
pub fn conservation_not_judged(h: &History, bank: Option<BankTotals>) -> Vec<protocols::TxnId> {
    if bank.is_none() || h.is_saga_run() {
        return Vec::new();
    }
    h.txns().filter(|(_, f)| !is_judged(h, f)).map(|(t, _)| t).collect()
}

/// Whether conservation judges a transaction (see [`conservation`]).
fn is_judged(h: &History, f: &TxnFacts) -> bool {
    let settled = f.durable_yes().all(|n| f.first_on_disk(n).is_some());
    let known = f.all_decisions().next().is_some() || f.client_learned().is_some();
    settled || (known && h.liveness_phase())
}

/// What a transaction's participants' disks applied: the writes of those whose first
/// durable decision is commit (a decision recovery honours, as the disks' replay does).
fn applied(h: &History, f: &TxnFacts) -> i64 {
    h.prepared_deltas(f)
        .filter(|(n, _)| f.first_on_disk(*n) == Some(Outcome::Commit))
        .map(|(_, delta)| delta)
        .sum()
}

fn txn_list(txns: &[protocols::TxnId]) -> String {
    txns.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
}
