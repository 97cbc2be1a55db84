//! The disk records of the coordinator/participant commit protocols (2PC, 3PC, and the
//! quorum families' participants and first coordinator).
//!
//! All log the same facts — a participant's yes vote forced with its writes, the decision,
//! the coordinator's end — and recover from them the same way, so they share one record type
//! (and one [`crate::durable::TxnRecord`] reading) rather than copies that could drift apart.
//! A family that logs more (quorum commit's elections) holds these in a variant of its own
//! record type ([`CommitRecords`]).

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::durable::TxnRecord;
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

impl CommitRecord {
    /// The participants a prepared record names.
    pub fn prepared_participants(&self) -> Option<&[NodeId]> {
        match self {
            CommitRecord::Prepared { participants, .. } => Some(participants),
            _ => None,
        }
    }
}

/// A family's disk record that logs the shared commit records: [`CommitRecord`] itself, or
/// a record type that holds them beside records of its own.
pub trait CommitRecords: TxnRecord + From<CommitRecord> {
    /// This record as a shared commit record, if it is one.
    fn commit_record(&self) -> Option<&CommitRecord>;
}

impl CommitRecords for CommitRecord {
    fn commit_record(&self) -> Option<&CommitRecord> {
        Some(self)
    }
}

// Symmetry reduction (`explore --symmetry`): records list the participants.
sim_core::rename_enum!(CommitRecord {
    Prepared { txn, participants: sorted, writes: sorted },
    Decision { txn, outcome, participants: sorted },
    End { txn, outcome },
});
