//! Sagas (Garcia-Molina & Salem): semantic atomicity, and the isolation anomaly it allows.
//!
//! A saga gives up atomic commitment on purpose — each step Ti is a local commit, nobody
//! votes, nobody waits in doubt — so AC3, AC4 and durability (which speak of votes and of
//! every participant holding the decision) say nothing about it. What a saga promises
//! instead, per saga, judged from the services' and the orchestrator's observations:
//!
//! - no step and no compensation is applied twice;
//! - steps run in order (Ti only after T(i-1)), none after compensation began, and none
//!   after its own compensation (nor a compensation without its step before it);
//! - compensations run in reverse order (Cj only once every later step done is undone);
//! - a saga that ended is in one of the two forms, T1..Tn (completed) or T1..Tj, Cj..C1
//!   with j < n (compensated), matching the outcome it reported, and the client was told
//!   that outcome (commit for completed, abort for compensated);
//! - after the liveness phase every saga has ended — judged as termination (AC5,
//!   [`saga_termination`]), as for a commit protocol, so exit codes and columns read the
//!   same for both: a saga that never ended is not an atomicity violation.
//!
//! [`anomaly`] is a metric, not a verdict: how long the bank total was off while sagas were
//! between their debit and their credit or compensation, and how many concurrent reads of the
//! total (the saga scenario's auditor, `protocols::saga::audit`) saw it off. The window says
//! the money was missing; the reads say whether anybody was fooled by it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::Time;

use protocols::{Observation, Outcome, RunReport, SagaOutcome, TxnId};

use crate::BankTotals;
use crate::history::History;
pub use crate::saga_facts::SagaFacts;
use crate::saga_facts::sequence;
use crate::verdict::{Property, Verdict, Violation};

/// On a saga run, the verdict of a commit-protocol property that reads differently there:
/// AC3, AC4 and durability do not apply, conservation waits for sagas to end rather than
/// for decisions on every participant's disk, and termination (AC5) asks that every saga
/// ended. `None`: judge `p` as for any protocol.
pub fn for_sagas(h: &History, bank: Option<BankTotals>, p: Property) -> Option<Verdict> {
    if !h.is_saga_run() {
        return None;
    }
    match p {
        Property::CommitNeedsAllYes | Property::CommitWithoutFailures | Property::Durability => {
            Some(Verdict::NotApplicable {
                reason: "a saga has no votes and commits step by step: see saga-atomicity".into(),
            })
        }
        Property::Conservation => Some(conservation(h, bank)),
        Property::Termination => Some(saga_termination(h)),
        _ => None,
    }
}

/// Bank workload: once every saga has ended, the services' balances (rebuilt from their
/// disks) add up to the initial total — every transfer either ran whole or was undone.
fn conservation(h: &History, bank: Option<BankTotals>) -> Verdict {
    let Some(bank) = bank else {
        return Verdict::NotApplicable {
            reason: "only the bank workload conserves a total".into(),
        };
    };
    if sagas(h).any(|(_, f, _)| f.ended.is_empty()) {
        return Verdict::NotApplicable {
            reason: "some saga is still running at the end (see saga-atomicity)".into(),
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
                "the bank total is {} at the end, {} at the start, every saga ended",
                bank.at_end, bank.initial
            ),
            since: None,
            waiting_on: None,
            decisions: Vec::new(),
        }],
    }
}

/// The sagas of a history, in id order, each with what the client learned: every submitted
/// transaction, and every one a saga fact names.
fn sagas(h: &History) -> impl Iterator<Item = (TxnId, &SagaFacts, Option<Outcome>)> {
    static NONE: SagaFacts = SagaFacts {
        named: false,
        steps: None,
        applied: Vec::new(),
        compensated: Vec::new(),
        ended: Vec::new(),
    };
    h.all_txns().filter_map(|(t, f)| {
        let learned = f.client_learned();
        let saga = f.saga();
        // Submitted, or named by a saga fact (a refusal alone names it only if the client
        // learned of it too).
        let judged = f.submitted() || saga.is_some_and(|s| s.named || learned.is_some());
        judged.then(|| (t, saga.unwrap_or(&NONE), learned))
    })
}

/// Saga atomicity: every rule of the module docs, per saga.
pub fn saga_atomicity(h: &History) -> Verdict {
    if !h.is_saga_run() {
        return Verdict::NotApplicable { reason: "no saga ran".into() };
    }
    let mut out = Vec::new();
    for (txn, f, learned) in sagas(h) {
        let mut why: Vec<String> = Vec::new();
        for (list, kind) in [(&f.applied, 'T'), (&f.compensated, 'C')] {
            for s in SagaFacts::distinct(list) {
                let times = list.iter().filter(|a| a.step == s).count();
                if times > 1 {
                    why.push(format!("{kind}{s} applied {times} times"));
                }
            }
        }
        let first_compensation = f.compensated.iter().map(|c| c.at).min();
        for a in &f.applied {
            if a.step > 1 && SagaFacts::first(&f.applied, a.step - 1).is_none_or(|p| p > a.at) {
                why.push(format!("T{} applied before T{}", a.step, a.step - 1));
            }
            if let Some(c) = SagaFacts::first(&f.compensated, a.step).filter(|&c| c < a.at) {
                why.push(format!("T{} applied after its compensation (trace #{c})", a.step));
            } else if first_compensation.is_some_and(|c| c < a.at) {
                why.push(format!("T{} applied after compensation began", a.step));
            }
        }
        for c in &f.compensated {
            if SagaFacts::first(&f.applied, c.step).is_none_or(|t| t > c.at) {
                why.push(format!("C{} applied without T{} before it", c.step, c.step));
            }
            for later in SagaFacts::distinct(&f.applied).into_iter().filter(|&s| s > c.step) {
                if SagaFacts::first(&f.compensated, later).is_none_or(|l| l > c.at) {
                    why.push(format!("C{} applied before C{later} (not in reverse order)", c.step));
                }
            }
        }
        let mut outcomes: Vec<SagaOutcome> = f.ended.iter().map(|e| e.0).collect();
        outcomes.dedup();
        if outcomes.len() > 1 {
            why.push("ended both completed and compensated".into());
        }
        // A saga that never ended is termination's question, not atomicity's
        // (saga_termination): only an end is judged here.
        if let Some(&(outcome, _)) = f.ended.first() {
            why.extend(f.form_error(outcome));
            if let Some(told) = learned.filter(|&o| o != outcome.outcome()) {
                why.push(format!("ended {outcome}, but the client was told {told}"));
            }
        }
        if !why.is_empty() {
            why.dedup();
            out.push(Violation {
                property: Property::SagaAtomicity,
                txn: Some(txn),
                nodes: f.nodes(),
                detail: format!("saga {txn}: {}", why.join("; ")),
                since: None,
                waiting_on: None,
                decisions: f.ended.iter().map(|&(o, n)| (n, o.outcome())).collect(),
            });
        }
    }
    Verdict::from_violations(out)
}

/// A saga's AC5: after the liveness phase every saga has ended. A saga that never ended
/// (its orchestrator or its client gave up, or never began it) is a termination failure, as
/// an undecided commit participant is — not a loss of atomicity: what it applied so far is
/// judged by [`saga_atomicity`], and the money it leaves missing by conservation.
pub fn saga_termination(h: &History) -> Verdict {
    if !h.liveness_phase() {
        return Verdict::NotApplicable { reason: "no liveness phase ran".into() };
    }
    let out = sagas(h)
        .filter(|(_, f, _)| f.ended.is_empty())
        .map(|(txn, f, _)| {
            let done = SagaFacts::distinct(&f.applied);
            let undone = SagaFacts::distinct(&f.compensated);
            Violation {
                property: Property::Termination,
                txn: Some(txn),
                nodes: f.nodes(),
                detail: format!(
                    "saga {txn}: never ended, even after the liveness phase ({})",
                    sequence(&done, &undone)
                ),
                since: None,
                waiting_on: Some(h.waiting_on()),
                decisions: Vec::new(),
            }
        })
        .collect();
    Verdict::from_violations(out)
}

/// The isolation anomaly a saga allows, measured on a run (a metric, not a verdict).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnomalyWindow {
    /// Total time the sum of every service's balances differed from the initial total
    /// because some saga was between steps (in the bank, money missing: a transfer debits
    /// first). Open intervals are closed at the end of the run.
    pub unbalanced_us: u64,
    /// The largest amount off the total at any instant.
    pub max_off: i64,
    /// Sum over sagas of the time each one's own effects did not net to zero.
    pub saga_exposure_us: u64,
    /// Sagas whose effects were ever off balance.
    pub sagas_exposed: u32,
    /// Concurrent reads of the bank total: the audit rounds the saga scenario's reader
    /// completed ([`Observation::AuditRead`]; none outside saga runs on the bank workload).
    pub reads: u32,
    /// Reads that saw the anomaly: their total differs from the initial total.
    pub reads_off: u32,
}

/// Measures the anomaly window from the services' step and compensation observations, and
/// counts the concurrent reads of the total that saw it (the auditor's reads).
pub fn anomaly(report: &RunReport) -> AnomalyWindow {
    let end = report.end.time;
    let mut w = AnomalyWindow::default();
    let mut total: i64 = 0;
    let mut off_since: Option<Time> = None;
    // Per saga: its net effect and since when it has been off (if it is).
    let mut per: BTreeMap<TxnId, (i64, Option<Time>)> = BTreeMap::new();
    let mut exposed: Vec<TxnId> = Vec::new();
    for o in &report.observations {
        let (txn, delta) = match o.obs {
            Observation::StepApplied { txn, delta, .. }
            | Observation::CompensationApplied { txn, delta, .. } => (txn, delta),
            Observation::AuditRead { total: read } => {
                w.reads += 1;
                w.reads_off += u32::from(read != report.initial_total);
                continue;
            }
            _ => continue,
        };
        total += delta;
        w.max_off = w.max_off.max(total.abs());
        match (total != 0, off_since) {
            (true, None) => off_since = Some(o.time),
            (false, Some(since)) => {
                w.unbalanced_us += o.time.since(since).as_us();
                off_since = None;
            }
            _ => {}
        }
        let (net, since) = per.entry(txn).or_insert((0, None));
        *net += delta;
        match (*net != 0, *since) {
            (true, None) => {
                *since = Some(o.time);
                if !exposed.contains(&txn) {
                    exposed.push(txn);
                }
            }
            (false, Some(s)) => {
                w.saga_exposure_us += o.time.since(s).as_us();
                *since = None;
            }
            _ => {}
        }
    }
    w.sagas_exposed = exposed.len() as u32;
    w.unbalanced_us += off_since.map_or(0, |s| end.since(s).as_us());
    w.saga_exposure_us +=
        per.values().filter_map(|p| p.1).map(|s| end.since(s).as_us()).sum::<u64>();
    w
}
