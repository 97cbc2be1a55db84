//! The disk records of the coordinator/participant commit protocols (2PC and 3PC).
//!
//! Both log exactly the same facts — a participant's yes vote forced with its writes, the
//! decision, the coordinator's end — and recover from them the same way, so they share one
//! record type (and one [`crate::durable::TxnRecord`] reading) rather than two copies that
//! could drift apart.

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::txn::{Outcome, TxnId, Write};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CommitRecord {
    /// Participant, forced before voting yes.
    Prepared { txn: TxnId, participants: Vec<NodeId>, writes: Vec<Write> },
    /// The decision as this node knows it: forced by a coordinator before it sends it, by a
    /// participant before it acknowledges it or aborts alone.
    Decision { txn: TxnId, outcome: Outcome, participants: Vec<NodeId> },
    /// Coordinator: every participant acknowledged; the transaction may be forgotten.
    End { txn: TxnId, outcome: Outcome },
}

crate::txn_record!(CommitRecord);

// Symmetry reduction (`explore --symmetry`): records list the participants.
sim_core::rename_enum!(CommitRecord {
    Prepared { txn, participants: sorted, writes: sorted },
    Decision { txn, outcome, participants: sorted },
    End { txn, outcome },
});
