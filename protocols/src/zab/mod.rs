//! ZAB (Junqueira, Reed & Serafini, *Zab: High-performance broadcast for primary-backup
//! systems*, DSN 2011): a replicated log of key-value operations, as a protocol family.
//!
//! Replicas are nodes `0..N` (`--participants N`), the key-value client is node `N`, wired as
//! Raft's and Multi-Paxos's ([`crate::consensus::wiring`]). A replica runs the paper's four
//! phases, named as there:
//!
//! - **Election** (phase 0). Simple, as the paper allows any election that picks a
//!   prospective leader: a replica that hears no leader for a randomized timeout (drawn from
//!   its own stream) stands and tells the others its last zxid; a replica that is itself
//!   looking or standing supports the best candidate it hears of — the highest
//!   `(currentEpoch, last zxid)`, the node id breaking ties — by sending it `CEPOCH`, and a
//!   looking replica that hears a worse one stands itself. Election decides nothing for
//!   safety: discovery does.
//! - **Discovery** (phase 1). The prospective leader, with a quorum of `CEPOCH(f.p)` (itself
//!   included), picks the new epoch `e' = max f.p + 1` and sends `NEWEPOCH(e')`; a follower
//!   accepts it only above its `acceptedEpoch` (so at most one leader gets a quorum for
//!   `e'`), forces it, and answers `ACK-E(f.a, h_f)` with its `currentEpoch` and history. With
//!   a quorum of those the leader takes the history with the highest
//!   `(currentEpoch, last zxid)` as its initial history `I_e'` (it holds every committed
//!   transaction).
//! - **Synchronization** (phase 2). `NEWLEADER(e', I_e')`: a follower that accepted `e'`
//!   sets `currentEpoch = e'`, replaces its history with `I_e'`, forces both and answers
//!   `ACK-LD`; with a quorum of those the leader commits `I_e'` (`COMMIT`) and only then
//!   broadcasts.
//! - **Broadcast** (phase 3). A client operation becomes a transaction with zxid
//!   `(e', counter)`; the leader forces it and sends `PROPOSAL`, each follower forces it and
//!   answers `ACK`, and once a quorum holds it the leader sends `COMMIT` and every replica
//!   delivers in zxid order. A replica that joins later (recovered, or cut off during
//!   discovery) hears the leader's heartbeat, sends `CEPOCH`, and is taken through
//!   `NEWEPOCH` and `NEWLEADER` with the leader's whole history before it gets proposals.
//!
//! The simulated network is not FIFO (the paper assumes TCP): a follower takes a proposal
//! only at the position right after its history, and the leader re-sends, on its heartbeat,
//! proposals a follower has not acknowledged for a whole heartbeat period; heartbeats carry
//! the commit point, so a lost `COMMIT` is learned late, not never. `acceptedEpoch` (with the
//! leader it was accepted from, so a repeated `NEWEPOCH` is answered again),
//! `currentEpoch` and the history are forced before the replica answers anything that
//! depends on them. Delivery state is volatile: a recovered replica delivers again from the
//! first transaction as it learns the commit point, as in Raft.
//!
//! What checkers read: `LeaderElected { term: e' }` and `LeaderLog` (the epochs of `I_e'`)
//! when discovery ends; `EntryApplied` (`index`: position in the history, `term`: the zxid's
//! epoch) and `Delivered` (the zxid) on every delivery; `PrimaryBroadcast` when the leader
//! proposes. So the consensus properties apply, and ZAB's own `primary-order`, `integrity`
//! and `total-order` (`checkers::consensus::zab`).
//!
//! Not implemented: ZooKeeper's fast leader election, DIFF/TRUNC/SNAP synchronization (the
//! paper's whole-history `NEWLEADER` is used), snapshots, membership changes, observers,
//! leader leases and sync reads.
//!
//! Bounds: a re-send carries at most [`ZabConfig::batch_max`] proposals per follower; a
//! history grows by one transaction per operation proposed (a retried operation already in
//! the uncommitted history is not proposed again); the client's retries are capped by its
//! backoff.
//!
//! Broken variant (for the checkers to catch): `broken-zab-skip-sync` — a new leader
//! broadcasts as soon as a quorum accepted its epoch, skipping synchronization: it keeps its
//! own history and its followers keep theirs, so a follower appends the new epoch's
//! proposals after an older epoch's transaction the leader never had, and delivers it where
//! the others deliver the leader's.

mod replica;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::consensus::client::KvMsg;
use crate::consensus::{CONSENSUS_PROPERTIES, Op, Requests};

pub use replica::Replica;

/// The ZAB vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Zab;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, Zab>;

/// A transaction id: the epoch of the leader that proposed it, and its counter there (from
/// 1). Ordered as the paper orders zxids: by epoch, then counter.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Zxid {
    pub epoch: u64,
    pub counter: u64,
}

impl std::fmt::Display for Zxid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{},{}>", self.epoch, self.counter)
    }
}

/// One transaction of a history: `<v, z>` in the paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Txn {
    pub zxid: Zxid,
    pub op: Op,
}

/// The paper's messages (the election's `Elect` and the liveness messages `Heartbeat` and
/// `NewerEpoch` are this implementation's). `index` is a position in the history (from 1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Kv(KvMsg),
    /// Phase 0: the sender stands, with this `(currentEpoch, last zxid)`.
    Elect {
        current_epoch: u64,
        last_zxid: Zxid,
    },
    /// Phase 1: `CEPOCH(f.p)`, a follower's `acceptedEpoch`.
    CEpoch {
        accepted_epoch: u64,
    },
    /// Phase 1: `NEWEPOCH(e')`; `established`: the sender already has its quorum for
    /// `e'` (a late follower joins it even if it accepted `e'` from a failed candidate, as
    /// ZooKeeper's followers do).
    NewEpoch {
        epoch: u64,
        established: bool,
    },
    /// Phase 1: `ACK-E(f.a, h_f)`.
    AckEpoch {
        epoch: u64,
        current_epoch: u64,
        history: Vec<Txn>,
    },
    /// Phase 2: `NEWLEADER(e', I_e')`.
    NewLeader {
        epoch: u64,
        history: Vec<Txn>,
    },
    /// Phase 2: `ACK-LD`; the follower's history now has `index` transactions.
    AckNewLeader {
        epoch: u64,
        index: u64,
    },
    /// Phase 3: `PROPOSE(e', <v, z>)` at position `index`.
    Proposal {
        epoch: u64,
        index: u64,
        txn: Txn,
    },
    /// Phase 3: `ACK`: the follower holds the leader's history through `index`.
    Ack {
        epoch: u64,
        index: u64,
    },
    /// Phase 3 (and the end of phase 2): `COMMIT` every transaction through `index`.
    Commit {
        epoch: u64,
        index: u64,
    },
    /// The leader of `epoch` is alive and committed through `commit`.
    Heartbeat {
        epoch: u64,
        commit: u64,
    },
    /// The receiver accepted a later epoch than the sender leads or stands for.
    NewerEpoch {
        accepted_epoch: u64,
    },
}

/// What a replica forces to its disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// `acceptedEpoch` (`f.p`), and the leader whose `NEWEPOCH` it accepted.
    AcceptedEpoch { epoch: u64, leader: NodeId },
    /// `currentEpoch` (`f.a`) and the whole history, set together at synchronization.
    NewLeader { epoch: u64, history: Vec<Txn> },
    /// A proposal appended to the history at position `index`.
    Append { index: u64, txn: Txn },
}

impl Msg {
    /// How diagrams label the message.
    pub fn label(&self) -> String {
        match self {
            Msg::Kv(m) => m.label(),
            Msg::Elect { last_zxid, .. } => format!("ELECT {last_zxid}"),
            Msg::CEpoch { accepted_epoch } => format!("CEPOCH {accepted_epoch}"),
            Msg::NewEpoch { epoch, .. } => format!("NEWEPOCH {epoch}"),
            Msg::AckEpoch { epoch, history, .. } => format!("ACK-E {epoch} x{}", history.len()),
            Msg::NewLeader { epoch, history } => format!("NEWLEADER {epoch} x{}", history.len()),
            Msg::AckNewLeader { epoch, .. } => format!("ACK-LD {epoch}"),
            Msg::Proposal { txn, .. } => format!("PROPOSAL {}", txn.zxid),
            Msg::Ack { epoch, index } => format!("ACK {epoch} i{index}"),
            Msg::Commit { epoch, index } => format!("COMMIT {epoch} i{index}"),
            Msg::Heartbeat { epoch, commit } => format!("HEARTBEAT {epoch} c{commit}"),
            Msg::NewerEpoch { accepted_epoch } => format!("NEWER-EPOCH {accepted_epoch}"),
        }
    }
}

/// A replica that accepted a later epoch refuses what a (prospective) leader of an older one
/// sends to be followed in it: `NEWEPOCH`, `NEWLEADER`, `PROPOSAL` and its heartbeat
/// (`COMMIT` is not answered: a follower acts on it only in the epoch it follows). The
/// refusal is `NewerEpoch`.
impl Requests for Msg {
    type Term = u64;

    fn request_term(&self) -> Option<u64> {
        match *self {
            Msg::NewEpoch { epoch, .. }
            | Msg::NewLeader { epoch, .. }
            | Msg::Proposal { epoch, .. }
            | Msg::Heartbeat { epoch, .. } => Some(epoch),
            _ => None,
        }
    }

    fn refusal(&self, accepted_epoch: u64) -> Msg {
        Msg::NewerEpoch { accepted_epoch }
    }
}

/// What ZAB is judged on: every consensus property, and the paper's own.
pub const ZAB_PROPERTIES: &[&str] = &{
    let mut all = [""; CONSENSUS_PROPERTIES.len() + 3];
    let mut i = 0;
    while i < CONSENSUS_PROPERTIES.len() {
        all[i] = CONSENSUS_PROPERTIES[i];
        i += 1;
    }
    all[i] = "primary-order";
    all[i + 1] = "integrity";
    all[i + 2] = "total-order";
    all
};

crate::replicated_log! {
    family: "zab",
    protocol: Zab,
    config: ZabConfig,
    properties: ZAB_PROPERTIES,
    explored: crate::consensus::explore::ZAB_EXPLORED,
    correct: "ZAB: epochs, discovery, synchronization, broadcast; KV client",
    /// Textbook mistakes, for the checkers to catch.
    broken: BrokenZab {
        /// A new leader broadcasts without synchronizing its followers first.
        SkipSync: "broken-zab-skip-sync" =>
            "BROKEN: a new leader broadcasts before synchronizing its followers",
    },
}
