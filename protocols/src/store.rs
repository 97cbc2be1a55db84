//! A participant's data: keyed values with exclusive locks, no-wait.
//!
//! Locks are taken at prepare and held until the outcome is known. A participant in doubt
//! therefore keeps its keys locked, and any transaction that wants them votes no: that lost
//! availability is the real price of a blocking commit protocol, and it is why the store
//! exposes its lock table.

use std::collections::BTreeMap;

use sim_core::rng::Chance;

use crate::txn::{Key, Observation, Outcome, TxnId, Vote, Write};

/// Why a participant voted no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoReason {
    /// A key is locked by another transaction (no-wait locking).
    LockConflict,
    /// The configured no-vote probability struck.
    Chance,
    /// The write would make a balance negative and the store forbids that.
    Overdraft,
}

/// Values, locks and the writes of prepared transactions at one participant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Store {
    values: BTreeMap<Key, i64>,
    locks: BTreeMap<Key, TxnId>,
    prepared: BTreeMap<TxnId, Vec<Write>>,
    allow_negative: bool,
}

impl Store {
    pub fn new(initial: BTreeMap<Key, i64>, allow_negative: bool) -> Store {
        Store { values: initial, locks: BTreeMap::new(), prepared: BTreeMap::new(), allow_negative }
    }

    /// Decides this participant's vote on `writes`. A yes vote locks every key written; a no
    /// vote leaves nothing behind. `votes_no` is asked only when the vote would otherwise be
    /// yes: it is the participant's own choice (see [`choose_vote`]).
    pub fn prepare(
        &mut self,
        txn: TxnId,
        writes: &[Write],
        votes_no: impl FnOnce() -> bool,
    ) -> Result<(), NoReason> {
        assert!(!self.prepared.contains_key(&txn), "{txn} prepared twice");
        if writes.iter().any(|w| self.locks.get(&w.key).is_some_and(|&t| t != txn)) {
            return Err(NoReason::LockConflict);
        }
        if !self.allow_negative {
            let mut after = BTreeMap::new();
            for w in writes {
                let v = after.entry(w.key).or_insert_with(|| self.value(w.key));
                *v += w.delta;
            }
            if after.values().any(|&v| v < 0) {
                return Err(NoReason::Overdraft);
            }
        }
        if votes_no() {
            return Err(NoReason::Chance);
        }
        self.lock(txn, writes);
        Ok(())
    }

    /// Re-takes the locks of a transaction found prepared on disk at recovery: an in-doubt
    /// participant keeps its locks across a crash.
    pub fn lock(&mut self, txn: TxnId, writes: &[Write]) {
        for w in writes {
            let previous = self.locks.insert(w.key, txn);
            assert!(previous.is_none_or(|t| t == txn), "key {} locked twice", w.key);
        }
        self.prepared.insert(txn, writes.to_vec());
    }

    /// Applies a prepared transaction's writes and releases its locks. Returns false if the
    /// transaction was not prepared here (nothing to apply).
    pub fn commit(&mut self, txn: TxnId) -> bool {
        let Some(writes) = self.release(txn) else { return false };
        for w in writes {
            *self.values.entry(w.key).or_insert(0) += w.delta;
        }
        true
    }

    /// Drops a prepared transaction's writes and releases its locks. Returns false if it
    /// held none.
    pub fn abort(&mut self, txn: TxnId) -> bool {
        self.release(txn).is_some()
    }

    fn release(&mut self, txn: TxnId) -> Option<Vec<Write>> {
        let writes = self.prepared.remove(&txn)?;
        for w in &writes {
            let holder = self.locks.remove(&w.key);
            debug_assert!(holder.is_none_or(|t| t == txn));
        }
        Some(writes)
    }

    /// Applies writes directly (replaying a committed transaction from disk).
    pub fn apply(&mut self, writes: &[Write]) {
        for w in writes {
            *self.values.entry(w.key).or_insert(0) += w.delta;
        }
    }

    pub fn value(&self, key: Key) -> i64 {
        self.values.get(&key).copied().unwrap_or(0)
    }
    pub fn values(&self) -> &BTreeMap<Key, i64> {
        &self.values
    }
    /// Which transaction holds each locked key.
    pub fn locks(&self) -> &BTreeMap<Key, TxnId> {
        &self.locks
    }
    pub fn is_prepared(&self, txn: TxnId) -> bool {
        self.prepared.contains_key(&txn)
    }
}

/// Reports what a participant recovered in doubt about `txn` holds again: its locks
/// (re-taken from the prepared record) and its uncertainty, in that order.
pub fn report_recovered_doubt<P: sim_core::Protocol<Obs = Observation>>(
    ctx: &mut sim_core::Context<'_, P>,
    store: &Store,
    txn: TxnId,
) {
    let keys = store.locks().values().filter(|&&t| t == txn).count() as u32;
    ctx.observe(Observation::LocksAcquired { txn, keys });
    ctx.observe(Observation::Uncertain { txn });
}

/// What a participant does once it knows `outcome` of a transaction it prepared, the same in
/// every commit protocol: install (commit) or drop (abort) the writes, release the locks, and
/// report it in that order (`Applied` on commit, `LocksReleased`, `Decided`), then mark
/// `decided` (the role's crash point after the outcome took effect). The caller has forced
/// the decision to disk already, where its protocol logs it.
pub fn settle<P: sim_core::Protocol<Obs = Observation>>(
    ctx: &mut sim_core::Context<'_, P>,
    store: &mut Store,
    txn: TxnId,
    outcome: Outcome,
    decided: &'static str,
) {
    match outcome {
        Outcome::Commit => {
            assert!(store.commit(txn), "{txn} committed without its writes");
            ctx.observe(Observation::Applied { txn });
        }
        Outcome::Abort => assert!(store.abort(txn), "{txn} held no locks"),
    }
    ctx.observe(Observation::LocksReleased { txn });
    ctx.observe(Observation::Decided { txn, outcome });
    ctx.mark(decided);
}

/// A participant's unprompted vote, as an explicit choice (label `vote`): the runner draws it
/// from the node's own stream with the no-vote chance, an explorer tries both. Returns true
/// for a no vote.
pub fn choose_vote<P: sim_core::Protocol>(
    ctx: &mut sim_core::Context<'_, P>,
    no_vote: Chance,
) -> bool {
    ctx.choose("vote", &[Vote::Yes, Vote::No], |rng| usize::from(no_vote.sample(rng))) == Vote::No
}

// Symmetry reduction (`explore --symmetry`): keys are a participant's own (not renamed);
// the prepared writes name their participant.
sim_core::rename_struct!(Store { values, locks, prepared, allow_negative });

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::NodeId;

    fn w(key: Key, delta: i64) -> Write {
        Write { node: NodeId(1), key, delta }
    }

    #[test]
    fn no_wait_locking_and_overdraft() {
        let mut s = Store::new(BTreeMap::from([(0, 10), (1, 10)]), false);
        assert_eq!(s.prepare(TxnId(1), &[w(0, -5)], || false), Ok(()));
        let conflict = s.prepare(TxnId(2), &[w(0, 1)], || unreachable!("conflicts vote no first"));
        assert_eq!(conflict, Err(NoReason::LockConflict));
        let overdraft = s.prepare(TxnId(3), &[w(1, -11)], || unreachable!("overdrafts too"));
        assert_eq!(overdraft, Err(NoReason::Overdraft));
        assert_eq!(s.prepare(TxnId(4), &[w(1, 1)], || true), Err(NoReason::Chance));
        assert_eq!(s.locks().len(), 1);
        assert!(s.commit(TxnId(1)));
        assert_eq!(s.value(0), 5);
        assert!(s.locks().is_empty());
        assert!(!s.abort(TxnId(2)), "a no-voter holds nothing");
    }
}
