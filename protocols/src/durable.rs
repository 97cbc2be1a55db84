//! The type-erasure seam between protocols and checkers on the disk side.
//!
//! Observations say what a node *reported*; checkers must also see what it *made durable*,
//! because a reported decision that never reached the disk is lost at the next crash (and a
//! decision on disk that contradicts another node's is an atomicity violation even if no one
//! reported it). Every commit protocol's record type implements [`TxnRecord`]; from it the
//! scenario runner reads each node's durable votes and decisions, and rebuilds each
//! participant's applied state exactly as a recovering node would.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::store::Store;
use crate::txn::{Key, Outcome, TxnId, Write};

/// What a protocol's disk record means in the shared vocabulary.
pub trait TxnRecord {
    /// A durable yes vote (a prepared record) and the writes it holds under lock.
    fn prepared(&self) -> Option<(TxnId, &[Write])>;
    /// A durable decision.
    fn decision(&self) -> Option<(TxnId, Outcome)>;
}

/// One node's disk in the shared vocabulary, in disk order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskView {
    /// Transactions this node durably voted yes on.
    pub prepared: Vec<TxnId>,
    /// Every durable decision record, in write order (a transaction appearing twice with
    /// different outcomes is a reversal: AC2).
    pub decisions: Vec<(TxnId, Outcome)>,
    /// Number of records on the disk.
    pub records: usize,
}

impl DiskView {
    pub fn read<R: TxnRecord>(records: &[R]) -> DiskView {
        let mut v = DiskView { records: records.len(), ..DiskView::default() };
        for r in records {
            if let Some((t, _)) = r.prepared() {
                v.prepared.push(t);
            }
            if let Some(d) = r.decision() {
                v.decisions.push(d);
            }
        }
        v
    }

    /// The first durable decision on `txn`, if any.
    pub fn decision(&self, txn: TxnId) -> Option<Outcome> {
        self.decisions.iter().find(|(t, _)| *t == txn).map(|(_, o)| *o)
    }
}

/// What a participant's disk says after replay: its store (committed writes applied, writes
/// of in-doubt transactions locked again), each decided transaction's outcome, and the
/// transactions still in doubt with their prepared record's index.
///
/// Presumed abort writes no abort records, so a prepared record with no decision may be an
/// unlogged abort; when a later prepared record locks one of its keys, it certainly was
/// (commits are always logged), and replay counts it aborted.
pub struct Replay {
    pub store: Store,
    pub decided: BTreeMap<TxnId, Outcome>,
    pub in_doubt: BTreeMap<TxnId, usize>,
}

/// Rebuilds a participant from its disk, the one way recovery and the report both use.
pub fn replay<R: TxnRecord>(
    initial: BTreeMap<Key, i64>,
    allow_negative: bool,
    records: &[R],
) -> Replay {
    let mut store = Store::new(initial, allow_negative);
    let mut decided = BTreeMap::new();
    let mut in_doubt = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if let Some((t, writes)) = r.prepared()
            && !decided.contains_key(&t)
        {
            // A key prepared again while an earlier transaction held it: the earlier one
            // released it, and only an abort releases without a record (presumed abort).
            for w in writes {
                if let Some(&holder) = store.locks().get(&w.key)
                    && holder != t
                {
                    store.abort(holder);
                    in_doubt.remove(&holder);
                    decided.insert(holder, Outcome::Abort);
                }
            }
            store.lock(t, writes);
            in_doubt.insert(t, i);
        }
        if let Some((t, outcome)) = r.decision() {
            if decided.contains_key(&t) {
                continue; // the first durable decision is the one recovery honours
            }
            decided.insert(t, outcome);
            in_doubt.remove(&t);
            match outcome {
                Outcome::Commit => {
                    store.commit(t);
                }
                Outcome::Abort => {
                    store.abort(t);
                }
            }
        }
    }
    Replay { store, decided, in_doubt }
}

/// A participant `id` rebuilt from its `disk` (through [`replay`]): its store, and the
/// transactions it knows in its own state type `S` — `decided(outcome)` for each durable
/// outcome, `in_doubt(prepared record)` for each transaction prepared and still in doubt.
pub fn recover_participant<R: TxnRecord, S>(
    workload: &crate::workload::Workload,
    id: sim_core::NodeId,
    disk: &[R],
    decided: impl Fn(Outcome) -> S,
    in_doubt: impl Fn(&R) -> S,
) -> (Store, BTreeMap<TxnId, S>) {
    let r = replay(workload.initial_values(id), workload.allows_negative(), disk);
    let mut txns: BTreeMap<TxnId, S> =
        r.decided.into_iter().map(|(t, o)| (t, decided(o))).collect();
    for (txn, index) in r.in_doubt {
        txns.insert(txn, in_doubt(&disk[index]));
    }
    (r.store, txns)
}
