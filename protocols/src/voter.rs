//! A commit participant as every commit family has it (2PC's and 3PC's participants, quorum
//! commit's, Paxos Commit's resource managers): who it is, the run's configuration, its
//! chance of voting no, its data under lock, and its transactions, each in its protocol's
//! state; rebuilt from its disk the same way after a crash.
//!
//! Each protocol adds its states and handlers (an `impl` on its instance of [`Voter`], or a
//! struct holding one beside what only it keeps): written once so that what a participant
//! recovers, and how it votes and settles, cannot drift apart between the families.
//! What the 3PC families' participants further share (their normal path) is added in
//! [`crate::three_phase`].

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use sim_core::rng::Chance;
use sim_core::{Context, NodeId, Protocol, Rename, Renaming};

use crate::commit_config::CommitConfig;
use crate::durable::{TxnRecord, recover_participant};
use crate::shared::Shared;
use crate::store::Store;
use crate::txn::{Key, Observation, Outcome, TxnId, Vote};

/// A participant with configuration `C` whose transactions are in states `S`. Equal and
/// hashed by its state, field by field as a struct of its own would be: the configuration
/// takes no part ([`Shared`]), whatever `C` is.
#[derive(Clone, Debug, PartialEq)]
pub struct Voter<C, S> {
    pub id: NodeId,
    pub config: Shared<C>,
    pub no_vote: Chance,
    pub store: Store,
    pub txns: BTreeMap<TxnId, S>,
}

impl<C: PartialEq, S: Eq> Eq for Voter<C, S> {}

impl<C, S: Hash> Hash for Voter<C, S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let Voter { id, config, no_vote, store, txns } = self;
        (id, config, no_vote, store, txns).hash(h);
    }
}

impl<C: CommitConfig, S> Voter<C, S> {
    /// Participant `id` booted from `disk`: its data and locks replayed from the workload's
    /// initial values, each transaction it decided in `decided(outcome)`, each it is still in
    /// doubt about in `in_doubt(its prepared record)` (see [`recover_participant`]).
    pub fn recover<R: TxnRecord>(
        config: &Shared<C>,
        id: NodeId,
        disk: &[R],
        decided: impl Fn(Outcome) -> S,
        in_doubt: impl Fn(&R) -> S,
    ) -> Self {
        let workload = &config.client().workload;
        let (store, txns) = recover_participant(workload, id, disk, decided, in_doubt);
        Voter { id, config: config.clone(), no_vote: config.votes().chance(id), store, txns }
    }
}

impl<C, S> Voter<C, S> {
    /// Votes on the transaction of its `prepared` record (see [`crate::vote::vote`]): `abort`
    /// is forced on a no, if its protocol logs one; `marks` are its prepared-logged and
    /// decided crash points.
    pub fn vote<P: Protocol<Obs = Observation, Record: TxnRecord>>(
        &mut self,
        ctx: &mut Context<'_, P>,
        prepared: P::Record,
        abort: Option<P::Record>,
        marks: (&'static str, &'static str),
    ) -> Vote {
        crate::vote::vote(ctx, &mut self.store, self.no_vote, prepared, abort, marks)
    }

    /// Applies or drops the writes of `txn`, whose `outcome` is forced already, and marks
    /// `decided` (see [`crate::store::settle`]).
    pub fn settle<P: Protocol<Obs = Observation>>(
        &mut self,
        ctx: &mut Context<'_, P>,
        txn: TxnId,
        outcome: Outcome,
        decided: &'static str,
    ) {
        crate::store::settle(ctx, &mut self.store, txn, outcome, decided);
    }

    /// Reports that, recovered, it holds the locks of `txn` again and is in doubt about it.
    pub fn report_recovered_doubt<P: Protocol<Obs = Observation>>(
        &self,
        ctx: &mut Context<'_, P>,
        txn: TxnId,
    ) {
        crate::store::report_recovered_doubt(ctx, &self.store, txn);
    }

    /// The keys it holds locked, and by which transaction.
    pub fn locks(&self) -> &BTreeMap<Key, TxnId> {
        self.store.locks()
    }
}

/// Symmetry reduction (`explore --symmetry`, see `crate::explore::symmetric`): field by field,
/// as `sim_core::rename_struct!` would for a struct of its own.
impl<C, S: Rename> Rename for Voter<C, S> {
    fn rename(&mut self, r: &Renaming) {
        let Voter { id, config, no_vote, store, txns } = self;
        id.rename(r);
        config.rename(r);
        no_vote.rename(r);
        store.rename(r);
        txns.rename(r);
    }
}
