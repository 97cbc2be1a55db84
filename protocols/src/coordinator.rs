//! A commit coordinator that logs its decisions and announces them until acknowledged: what
//! the 2PC and 3PC coordinators keep, and do, the same way.
//!
//! Both keep their undecided transactions ([`Active`], each in its protocol's phases), their
//! decided ones ([`Announced`]) and whether they recovered from a crash; both rebuild the
//! decided ones from their disk and announce them again at start, count acks, and answer the
//! client the same way. Each protocol adds its own phases and handlers (an `impl` on its
//! instance of [`Coordinator`]): written once here so the two cannot drift apart.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use sim_core::{Boot, Context, NodeId};

use crate::active::Active;
use crate::announced::{Announce, Announced};
use crate::client::ClientWire;
use crate::commit_config::CommitConfig;
use crate::commit_record::CommitRecord;
use crate::shared::Shared;
use crate::txn::{Outcome, TxnId};

/// A coordinator with configuration `C` whose undecided transactions go through `Phase`.
/// Equal and hashed by its state, field by field as a struct of its own would be: the
/// configuration takes no part ([`Shared`]), whatever `C` is.
#[derive(Clone, Debug, PartialEq)]
pub struct Coordinator<C, Phase> {
    pub config: Shared<C>,
    /// Undecided transactions.
    pub active: BTreeMap<TxnId, Active<Phase>>,
    /// Decided ones: announced until acknowledged, then kept for late questions.
    pub announced: Announced,
    /// A recovered coordinator cannot tell a lost request from one it started before its
    /// crash: what it does with a retried request it has no record of is its protocol's.
    pub recovered: bool,
}

impl<C: PartialEq, Phase: Eq> Eq for Coordinator<C, Phase> {}

impl<C, Phase: Hash> Hash for Coordinator<C, Phase> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let Coordinator { config, active, announced, recovered } = self;
        (config, active, announced, recovered).hash(h);
    }
}

impl<C: CommitConfig, Phase> Coordinator<C, Phase> {
    /// Booted from `boot`'s disk: decisions logged and not ended are announced again at
    /// start when `acknowledged` (see [`Announced::recover`]); nothing is undecided.
    pub fn recover(config: &Shared<C>, boot: Boot<'_, CommitRecord>, acknowledged: bool) -> Self {
        Coordinator {
            config: config.clone(),
            active: BTreeMap::new(),
            announced: Announced::recover(boot.disk(), acknowledged),
            recovered: boot.is_recovery(),
        }
    }

    /// After a recovery: every decision still unacknowledged is announced again.
    pub fn on_start<P: Announce>(&mut self, ctx: &mut Context<'_, P>) {
        self.announced.announce_recovered(ctx, self.config.timing().resend);
    }

    /// `from` acknowledged the outcome of `txn`; the last ack ends it.
    pub fn on_ack<P: Announce>(&mut self, ctx: &mut Context<'_, P>, from: NodeId, txn: TxnId) {
        self.announced.on_ack(ctx, from, txn, self.config.layout().client());
    }

    /// Undecided, or decided and still announced: a request for it is answered at its end.
    pub fn is_known(&self, txn: TxnId) -> bool {
        self.active.contains_key(&txn) || self.announced.announcing(txn).is_some()
    }

    /// Tells the client how `txn` ended.
    pub fn reply<P: ClientWire>(&self, ctx: &mut Context<'_, P>, txn: TxnId, outcome: Outcome) {
        crate::decision::reply_to_client(ctx, self.config.layout().client(), txn, outcome);
    }
}
