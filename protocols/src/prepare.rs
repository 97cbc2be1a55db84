//! A coordinator's first phase, the same in every commit family that has one (2PC's
//! Prepare, 3PC's and quorum commit's CanCommit, Paxos Commit's and replicated 2PC's
//! Prepare): each participant is asked to prepare its own writes, told who else takes part
//! (for termination), and the coordinator marks the crash point after the last request.
//!
//! Written once so that "which writes go to whom" and where the crash point sits cannot
//! drift apart between the families.

use serde::{Deserialize, Serialize};
use sim_core::{Context, NodeId, Protocol};

use crate::txn::{Txn, TxnId, Write};

/// The request itself, one message type for every family (each wraps it in its own
/// message: 2PC's and Paxos Commit's `Prepare`, 3PC's and quorum commit's `CanCommit`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prepare {
    pub txn: TxnId,
    /// Everyone who takes part (for termination).
    pub participants: Vec<NodeId>,
    /// The writes at the participant asked.
    pub writes: Vec<Write>,
}

impl Prepare {
    /// The request to prepare `txn` at participant `p`: what an initiating RM, which starts
    /// the commit itself, votes on.
    pub fn at(txn: &Txn, p: NodeId) -> Prepare {
        Prepare { txn: txn.id, participants: txn.participants(), writes: txn.writes_at(p) }
    }
}

/// Sends each of `participants` but `skip` (an initiating RM that prepared already) its
/// request to prepare `txn`, in order: `request(p, its request)` says to whom and in which
/// message; then marks `sent`.
pub fn send_prepares<P: Protocol>(
    ctx: &mut Context<'_, P>,
    txn: &Txn,
    (participants, skip): (&[NodeId], Option<NodeId>),
    sent: &'static str,
    request: impl Fn(NodeId, Prepare) -> (NodeId, P::Msg),
) {
    for &p in participants.iter().filter(|&&p| Some(p) != skip) {
        let prepare =
            Prepare { txn: txn.id, participants: participants.to_vec(), writes: txn.writes_at(p) };
        let (to, msg) = request(p, prepare);
        ctx.send(to, msg);
    }
    ctx.mark(sent);
}

// Symmetry reduction (`explore --symmetry`): as the message variant it replaced.
sim_core::rename_struct!(Prepare { txn, participants: sorted, writes: sorted });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::stable_hash_of;
    use sim_core::hash::stable_hash;

    /// A family's message enum as it was before [`Prepare`]: the request's fields inline.
    #[derive(Hash, Serialize)]
    #[serde(tag = "msg", rename_all = "snake_case")]
    enum Inline {
        Ack { txn: TxnId },
        CanCommit { txn: TxnId, participants: Vec<NodeId>, writes: Vec<Write> },
    }

    /// The same enum wrapping the shared request.
    #[derive(Hash, Serialize)]
    #[serde(tag = "msg", rename_all = "snake_case")]
    enum Wrapped {
        Ack { txn: TxnId },
        CanCommit(Prepare),
    }

    /// Wrapping the request changed no trace hash, no explored state's fingerprint and no
    /// trace written out: all three see the fields, as before.
    #[test]
    fn a_wrapped_request_hashes_and_prints_as_its_fields_inline() {
        let (txn, participants) = (TxnId(3), vec![NodeId(1), NodeId(2)]);
        let writes = vec![Write { node: NodeId(1), key: 4, delta: -5 }];
        let inline =
            Inline::CanCommit { txn, participants: participants.clone(), writes: writes.clone() };
        let wrapped = Wrapped::CanCommit(Prepare { txn, participants, writes });
        assert_eq!(stable_hash(&wrapped), stable_hash(&inline));
        assert_eq!(stable_hash_of(&wrapped), stable_hash_of(&inline));
        assert_eq!(
            serde_json::to_string(&wrapped).expect("serialisable"),
            serde_json::to_string(&inline).expect("serialisable")
        );
        let ack = Wrapped::Ack { txn };
        assert_eq!(stable_hash(&ack), stable_hash(&Inline::Ack { txn }));
        assert_ne!(stable_hash(&wrapped), stable_hash(&ack));
    }
}
