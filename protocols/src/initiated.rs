//! Gray & Lamport's initiating RM, the same in 2PC (in their message flow) and in Paxos
//! Commit: the client hands a transaction to its lowest participant, which starts the commit
//! and answers the client once it learns the outcome, whichever way it learns it (its own no
//! vote, the TM's decision, a ballot it led).

use std::collections::BTreeSet;

use sim_core::{Context, NodeId};

use crate::client::ClientWire;
use crate::decision::reply_to_client;
use crate::txn::{Outcome, Txn, TxnId};

/// The transactions an RM initiated for the client: it answers their outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Initiated(BTreeSet<TxnId>);

impl Initiated {
    /// The client (at `client`) handed RM `me` the transaction `txn`, of which `me` knows
    /// `known`: nothing (`None`), that it is in progress (`Some(None)`: the answer comes with
    /// the outcome), or its outcome (answered at once). Whether the commit starts here, that
    /// is whether `txn` was unknown.
    pub fn request<P: ClientWire>(
        &mut self,
        ctx: &mut Context<'_, P>,
        (me, client): (NodeId, NodeId),
        txn: &Txn,
        known: Option<Option<Outcome>>,
    ) -> bool {
        let id = txn.id;
        assert_eq!(txn.participants()[0], me, "{id} sent to a non-initiating RM");
        self.0.insert(id);
        match known {
            Some(Some(outcome)) => reply_to_client(ctx, client, id, outcome),
            Some(None) => {} // in progress: the reply comes with it
            None => return true,
        }
        false
    }

    /// `txn` ended with `outcome` at this RM: the client (at `client`) is told if it handed
    /// `txn` here.
    pub fn settled<P: ClientWire>(
        &self,
        ctx: &mut Context<'_, P>,
        client: NodeId,
        txn: TxnId,
        outcome: Outcome,
    ) {
        if self.0.contains(&txn) {
            reply_to_client(ctx, client, txn, outcome);
        }
    }
}

// Symmetry reduction (`explore --symmetry`): transaction ids name no node.
sim_core::rename_nothing!(Initiated);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::stable_hash_of as hash;

    /// A state's fingerprint hashes the set as it is: wrapping it changed no explored state.
    #[test]
    fn it_hashes_as_the_set_it_wraps() {
        let set: BTreeSet<TxnId> = [TxnId(1), TxnId(3)].into_iter().collect();
        assert_eq!(hash(&Initiated(set.clone())), hash(&set));
        assert_ne!(hash(&Initiated(set)), hash(&Initiated::default()));
    }
}
