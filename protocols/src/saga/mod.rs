//! Sagas (Garcia-Molina & Salem, 1987): a long-lived transaction split into local
//! transactions T1..Tn, each committed at once by the service that owns its data, each with a
//! compensation Ci that semantically undoes it. A saga never blocks (nobody waits in doubt:
//! every step is a local commit) and never locks across services; what it gives up is
//! isolation. Between T1 (the debit of a transfer) and T2 (its credit) or C1 (the debit
//! undone) the money is simply missing from the bank total, and anyone reading the total
//! sees it. The guarantee left is *semantic* atomicity: each saga ends as T1..Tn or as
//! T1..Tj, Cj..C1.
//!
//! A saga here is a client transaction: step Ti is its i-th write, sent to the service (a
//! participant node) that owns the account, and Ci is the opposite write. The bank
//! workload's transfers are two-step sagas (debit, then credit); a service refuses a step
//! (a business failure) on an overdraft or with the probability the scenario's vote policy
//! gives it (a refused step is a saga's "no vote"). Compensations are never refused.
//!
//! This module holds what both styles share: the services' ledger with its durable
//! deduplication ([`Ledger`]), which is what makes retried and duplicated requests harmless,
//! and the jittered backoff of every retry loop. [`orchestration`] is the orchestrated style,
//! [`choreography`] the choreographed one (services reacting to events through a broker).
//! [`audit`] is the reader both styles carry on the bank workload: periodic reads of the
//! total, to count how many of them the missing money fools.

pub mod audit;
pub mod choreography;
pub mod explore;
pub mod orchestration;
pub mod wiring;

use std::collections::{BTreeMap, BTreeSet};

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::{Duration, SimRng};

use crate::backoff::Backoff;
use crate::family::{Family, VariantSpec};
use crate::roles::{Roles, commit_roles};
use crate::scenario::{RunOutcome, Scenario, ScenarioError, run_with};
use crate::txn::{Key, Layout, Txn, TxnId, Write};
use wiring::SagaStyle;

/// A service's answer to a step request, kept under the step's idempotency key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    Done,
    /// A business failure: nothing was applied, and the saga must compensate.
    Refused,
}

/// What a service forces to disk before it answers: the idempotency key `(txn, step)` with
/// what it did under that key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LedgerRecord {
    StepApplied {
        txn: TxnId,
        step: u32,
        write: Write,
    },
    StepRefused {
        txn: TxnId,
        step: u32,
    },
    /// `write` is the step's write that was undone; `None` if the compensation came before
    /// the step (nothing to undo), which then refuses the step should it arrive later.
    Compensated {
        txn: TxnId,
        step: u32,
        write: Option<Write>,
    },
}

crate::crash_points! {
    /// A saga service's crash points, the same in both styles: each names what the
    /// service's ledger just did (a step applied or refused, a compensation applied).
    pub enum ServicePoint {
        StepApplied, StepRefused, CompensationApplied
    }
}

/// A service's balances and the idempotency keys it has answered, rebuilt from its disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ledger {
    values: BTreeMap<Key, i64>,
    allow_negative: bool,
    steps: BTreeMap<(TxnId, u32), (StepResult, Option<Write>)>,
    compensated: BTreeSet<(TxnId, u32)>,
}

impl Ledger {
    pub fn new(initial: BTreeMap<Key, i64>, allow_negative: bool) -> Ledger {
        Ledger {
            values: initial,
            allow_negative,
            steps: BTreeMap::new(),
            compensated: BTreeSet::new(),
        }
    }

    /// Rebuilds a ledger from a service's records, in disk order.
    pub fn replay<'a>(
        initial: BTreeMap<Key, i64>,
        allow_negative: bool,
        records: impl IntoIterator<Item = &'a LedgerRecord>,
    ) -> Ledger {
        let mut l = Ledger::new(initial, allow_negative);
        for r in records {
            l.apply(r);
        }
        l
    }

    /// Applies one record (the record is on disk, or is about to be forced).
    pub fn apply(&mut self, r: &LedgerRecord) {
        match *r {
            LedgerRecord::StepApplied { txn, step, write } => {
                *self.values.entry(write.key).or_insert(0) += write.delta;
                self.steps.insert((txn, step), (StepResult::Done, Some(write)));
            }
            LedgerRecord::StepRefused { txn, step } => {
                self.steps.insert((txn, step), (StepResult::Refused, None));
            }
            LedgerRecord::Compensated { txn, step, write } => {
                if let Some(w) = write {
                    *self.values.entry(w.key).or_insert(0) -= w.delta;
                }
                self.compensated.insert((txn, step));
            }
        }
    }

    /// The answer already given under this key, if any. A step whose compensation came
    /// first is refused: it must never run after its compensation.
    pub fn result(&self, txn: TxnId, step: u32) -> Option<StepResult> {
        match self.steps.get(&(txn, step)) {
            Some((r, _)) => Some(*r),
            None if self.compensated.contains(&(txn, step)) => Some(StepResult::Refused),
            None => None,
        }
    }

    /// The write step `step` applied here, if it ran.
    pub fn applied_write(&self, txn: TxnId, step: u32) -> Option<Write> {
        self.steps.get(&(txn, step)).and_then(|s| s.1)
    }

    pub fn is_compensated(&self, txn: TxnId, step: u32) -> bool {
        self.compensated.contains(&(txn, step))
    }

    /// Whether `w` keeps the balance non-negative (always, where negatives are allowed).
    pub fn can_apply(&self, w: &Write) -> bool {
        self.allow_negative || self.value(w.key) + w.delta >= 0
    }

    pub fn value(&self, key: Key) -> i64 {
        self.values.get(&key).copied().unwrap_or(0)
    }

    pub fn values(&self) -> &BTreeMap<Key, i64> {
        &self.values
    }

    /// The sum of the balances applied so far: what a service answers an audit.
    pub fn total(&self) -> i64 {
        self.values.values().sum()
    }
}

/// Step `step` (from 1) of saga `txn`: its `step`-th write.
pub fn step_write(txn: &Txn, step: u32) -> Write {
    txn.writes[step as usize - 1]
}

/// The number of steps of `txn` as a saga.
pub fn steps(txn: &Txn) -> u32 {
    txn.writes.len() as u32
}

/// The delay before retry `attempt`: the backoff's exponential delay (capped), with "equal
/// jitter" drawn from the node's stream — half the delay fixed, half uniform — so retries of
/// many sagas after one outage spread out instead of arriving together. `None` once the
/// budget of attempts is spent.
pub fn jittered(backoff: &Backoff, attempt: u32, rng: &mut SimRng) -> Option<Duration> {
    let d = backoff.delay(attempt)?.as_us();
    let half = d / 2;
    Some(Duration::from_us(half + rng.random_range(0..=d - half)))
}

/// The family of saga style `S`: sagas have no settings of their own, are judged on the saga
/// properties and are explored by [`crate::saga::explore`].
pub const fn family<S: SagaStyle>() -> Family
where
    S::Record: crate::durable::TxnRecord,
{
    Family {
        name: S::NAME,
        variants: variants::<S>,
        roles: S::ROLES,
        settings: &[],
        properties: crate::family::SAGA_PROPERTIES,
        layout: layout::<S>,
        run: run::<S>,
        explore: Some(crate::saga::explore::explore::<S>),
    }
}

fn variants<S: SagaStyle>() -> Vec<VariantSpec>
where
    S::Record: crate::durable::TxnRecord,
{
    S::VARIANTS.iter().map(|(spec, _)| *spec).collect()
}

fn layout<S: SagaStyle>(scenario: &Scenario) -> Roles
where
    S::Record: crate::durable::TxnRecord,
{
    commit_roles(&Layout::new(scenario.participants), S::ROLES, "")
}

/// Runs `scenario` as the saga `variant` of style `S`.
fn run<S: SagaStyle>(variant: &str, scenario: &Scenario) -> Result<RunOutcome, ScenarioError>
where
    S::Record: crate::durable::TxnRecord,
{
    let config = wiring::config::<S>(variant, scenario);
    run_with::<S>(scenario, layout::<S>(scenario), config.timing, config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::NodeId;
    use sim_core::rng::{StreamDomain, stream};

    #[test]
    fn ledger_answers_each_key_once_and_refuses_a_step_after_its_compensation() {
        let w = Write { node: NodeId(1), key: 0, delta: -30 };
        let mut l = Ledger::new(BTreeMap::from([(0, 50)]), false);
        assert_eq!(l.result(TxnId(1), 1), None);
        l.apply(&LedgerRecord::StepApplied { txn: TxnId(1), step: 1, write: w });
        assert_eq!(l.result(TxnId(1), 1), Some(StepResult::Done));
        assert_eq!(l.value(0), 20);
        assert!(!l.can_apply(&w), "a second debit would overdraw");
        l.apply(&LedgerRecord::Compensated { txn: TxnId(1), step: 1, write: Some(w) });
        assert_eq!(l.value(0), 50);
        assert!(l.is_compensated(TxnId(1), 1));
        // Compensation before the step: nothing undone, the late step is refused.
        l.apply(&LedgerRecord::Compensated { txn: TxnId(2), step: 1, write: None });
        assert_eq!(l.result(TxnId(2), 1), Some(StepResult::Refused));
        assert_eq!(l.value(0), 50);
    }

    #[test]
    fn jitter_stays_within_half_to_full_delay_and_stops_with_the_budget() {
        let b = Backoff { initial_us: 100, max_us: 400, max_attempts: 4 };
        let mut rng = stream(3, StreamDomain::User, 0, 0);
        for attempt in 0..4 {
            let full = b.delay(attempt).unwrap().as_us();
            for _ in 0..50 {
                let d = jittered(&b, attempt, &mut rng).unwrap().as_us();
                assert!((full / 2..=full).contains(&d), "{d} outside [{}, {full}]", full / 2);
            }
        }
        assert_eq!(jittered(&b, 4, &mut rng), None);
    }
}
