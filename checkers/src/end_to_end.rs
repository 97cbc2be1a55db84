//! End-to-end oracles: what the client was told must be what the participants hold
//! (durability), and in the bank workload no money is created or destroyed (conservation).

use protocols::Outcome;
use sim_core::NodeId;

use crate::BankTotals;
use crate::history::History;
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
        let told: Vec<Outcome> = f
            .client_learned
            .iter()
            .map(|c| c.0)
            .chain(f.reported_to_client.iter().map(|r| r.0))
            .collect();
        let Some(&outcome) = told.first() else { continue };
        if told.iter().any(|o| *o != outcome) {
            out.push(violation(
                txn,
                vec![],
                format!("{txn}: the client was told both commit and abort"),
            ));
            continue;
        }
        let mut wrong = Vec::new();
        for &p in &f.participants {
            // The index holds the disks as they are at the end of the history.
            let disk = f.durable_decisions.iter().find(|d| d.0 == p).map(|d| d.1);
            let ok = match outcome {
                Outcome::Commit => disk == Some(Outcome::Commit) && f.durable_yes.contains(&p),
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

/// Bank workload: the total of every participant's applied balances (rebuilt from disk) is
/// the initial total, once no transaction is left in doubt.
pub fn conservation(h: &History, bank: Option<BankTotals>) -> Verdict {
    let Some(bank) = bank else {
        return Verdict::NotApplicable {
            reason: "only the bank workload conserves a total".into(),
        };
    };
    let in_doubt = h.anyone_in_doubt();
    let undecided_on_disk = h
        .txns()
        .any(|(_, f)| f.durable_yes.iter().any(|n| !f.durable_decisions.iter().any(|d| d.0 == *n)));
    // A committed transaction some participant has not applied yet (its decision is still on
    // the way) leaves the total legitimately short: wait for everyone to decide.
    let unapplied_commit = h.txns().any(|(_, f)| {
        f.all_decisions().any(|d| d.1 == protocols::Outcome::Commit)
            && f.participants.iter().any(|p| !f.durable_decisions.iter().any(|d| d.0 == *p))
    });
    if in_doubt || undecided_on_disk || unapplied_commit {
        return Verdict::NotApplicable {
            reason: "some transaction is still in doubt at the end (see termination)".into(),
        };
    }
    if bank.at_end == bank.initial {
        return Verdict::Holds;
    }
    Verdict::Violated {
        violations: vec![Violation {
            property: Property::Conservation,
            txn: None,
            nodes: Vec::new(),
            detail: format!(
                "the bank total is {} at the end, {} at the start",
                bank.at_end, bank.initial
            ),
            since: None,
            waiting_on: None,
            decisions: Vec::new(),
        }],
    }
}
