//! The shared transaction vocabulary: ids, votes, outcomes, writes, and the one observation
//! type every commit protocol reports.
//!
//! Checkers are written once against this module, never against a protocol's own messages:
//! a protocol is correct for the checkers exactly when its observations (and its disk, see
//! [`crate::durable`]) say so.

use std::fmt;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::consensus::{KvCall, KvResult};

/// A transaction, numbered by the client that submits it (from 1, in submission order).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TxnId(pub u64);

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

/// A participant's vote on a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    Yes,
    No,
}

/// The fate of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Commit,
    Abort,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Commit => "commit",
            Outcome::Abort => "abort",
        })
    }
}

/// A key of a participant's store (an account, in the bank workload).
pub type Key = u32;

/// One update a transaction makes: add `delta` to `key` at participant `node`.
/// Deltas commute, so the applied state is independent of commit order and the bank total
/// is a plain sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Write {
    pub node: NodeId,
    pub key: Key,
    pub delta: i64,
}

/// A transaction as the client submits it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Txn {
    pub id: TxnId,
    pub writes: Vec<Write>,
}

impl Txn {
    /// The participants the transaction touches, ascending and without repeats.
    pub fn participants(&self) -> Vec<NodeId> {
        let mut p: Vec<NodeId> = self.writes.iter().map(|w| w.node).collect();
        p.sort_unstable();
        p.dedup();
        p
    }

    /// The writes addressed to `node`.
    pub fn writes_at(&self, node: NodeId) -> Vec<Write> {
        self.writes.iter().copied().filter(|w| w.node == node).collect()
    }
}

/// Where the nodes of a commit scenario live: the coordinator is node 0, participants are
/// nodes `1..=n`, the client is node `n + 1`, and a family's own extra nodes (Paxos Commit's
/// acceptors; none for the others) follow the client: nodes `n + 2 ..= n + 1 + extra`.
/// Participant ids are the lowest after the coordinator's, so "lowest live id" elections
/// among participants are plain comparisons. Which *role* each node plays is the family's
/// to say ([`crate::family::Roles`]); this is only the numbering commit families share.
///
/// With `colocated`, processes share hosts as in Gray & Lamport's co-located case (see
/// [`Layout::hosts`]); otherwise every node is its own host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Layout {
    pub participants: u32,
    /// Nodes the family adds after the client (Paxos Commit: its 2F + 1 acceptors).
    #[serde(default)]
    pub extra: u32,
    #[serde(default)]
    pub colocated: bool,
}

impl Layout {
    /// `participants` participants, no extra nodes, one host per node.
    pub const fn new(participants: u32) -> Layout {
        Layout { participants, extra: 0, colocated: false }
    }

    pub fn nodes(&self) -> u32 {
        self.participants + 2 + self.extra
    }
    /// The node that coordinates (2PC/3PC coordinator, Paxos Commit TM, saga orchestrator
    /// or broker).
    pub const fn coordinator(&self) -> NodeId {
        NodeId(0)
    }
    pub fn client(&self) -> NodeId {
        NodeId(self.participants + 1)
    }
    pub fn is_participant(&self, id: NodeId) -> bool {
        (1..=self.participants).contains(&id.0)
    }
    pub fn participant_ids(&self) -> impl Iterator<Item = NodeId> + Clone {
        (1..=self.participants).map(NodeId)
    }
    /// The family's extra nodes (after the client).
    pub fn extra_ids(&self) -> impl Iterator<Item = NodeId> + Clone {
        let first = self.participants + 2;
        (first..first + self.extra).map(NodeId)
    }
    pub fn is_extra(&self, id: NodeId) -> bool {
        id.0 >= self.participants + 2 && id.0 < self.nodes()
    }

    /// The host of every node when `colocated` (`None` otherwise), for
    /// [`sim_core::SimConfig::hosts`]: participant `i` runs on host `i`; the coordinator
    /// shares participant 1's host (the initiating RM's, in Gray & Lamport's terms); extra
    /// node `j` (0-based; an acceptor) runs on participant `j + 1`'s host while there are
    /// participants left, and on a host of its own after that (two acceptors on one host
    /// would fail together, which F-tolerance forbids); the client has its own host.
    pub fn hosts(&self) -> Option<Vec<u32>> {
        if !self.colocated {
            return None;
        }
        let host = |id: NodeId| {
            if id == self.coordinator() {
                1
            } else if self.is_extra(id) {
                let j = id.0 - (self.participants + 2);
                if j < self.participants { j + 1 } else { id.0 }
            } else {
                id.0 // participants and the client
            }
        };
        Some((0..self.nodes()).map(|i| host(NodeId(i))).collect())
    }
}

/// A protocol fact, reported by the node it concerns (the engine adds time and node).
///
/// `Uncertain` carries its start implicitly: the observation's time is the "uncertain since"
/// of the node; it ends at the node's next `Decided` for the same transaction (or at a crash).
/// A node re-reports `Uncertain` after a recovery that finds it still in doubt, and may
/// re-report a `Decided` it read back from its disk (never a different outcome).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "obs", rename_all = "snake_case")]
pub enum Observation {
    /// The client handed a transaction to the coordinator (first attempt only).
    Submitted { txn: TxnId, participants: Vec<NodeId> },
    /// A participant voted; a yes vote is durable (forced) before it is reported.
    Voted { txn: TxnId, vote: Vote },
    /// A participant voted yes and cannot decide alone from now on.
    Uncertain { txn: TxnId },
    /// A 3PC participant entered the committable (pre-committed) state.
    PreCommitted { txn: TxnId },
    /// A node reached (or, after recovery, re-read) a decision.
    Decided { txn: TxnId, outcome: Outcome },
    /// A participant applied a committed transaction's writes to its store.
    Applied { txn: TxnId },
    /// A participant locked `keys` keys for the transaction (at prepare).
    LocksAcquired { txn: TxnId, keys: u32 },
    /// A participant released every lock the transaction held.
    LocksReleased { txn: TxnId },
    /// The coordinator told the client the outcome.
    ReportedToClient { txn: TxnId, outcome: Outcome },
    /// The client learnt the outcome (first reply only).
    ClientLearned { txn: TxnId, outcome: Outcome },
    /// A saga's orchestrator began it: local transactions T1..Tn, `steps` = n (sagas number
    /// their steps from 1, as Garcia-Molina & Salem do).
    SagaBegun { txn: TxnId, steps: u32 },
    /// A service applied step T`step` of the saga, changing its balances by `delta`.
    StepApplied { txn: TxnId, step: u32, delta: i64 },
    /// A service refused step T`step` (a business failure): nothing was applied.
    StepRefused { txn: TxnId, step: u32 },
    /// A service applied compensation C`step`, changing its balances by `delta`.
    CompensationApplied { txn: TxnId, step: u32, delta: i64 },
    /// The saga ended: every step ran, or the steps that ran were compensated.
    SagaEnded { txn: TxnId, outcome: SagaOutcome },
    /// A saga scenario's auditor (the client node, bank workload only) summed one round of
    /// the services' applied balances: a concurrent read of the bank total. It concerns no
    /// transaction.
    AuditRead { total: i64 },
    /// A consensus replica became leader of `term` (a term, ballot or epoch). It concerns no
    /// transaction, as the facts below.
    LeaderElected { term: u64 },
    /// The log a new consensus leader starts `term` with, as the term of each of its entries
    /// (entry `i + 1` was written in `terms[i]`): what log matching and leader completeness
    /// are judged on.
    LeaderLog { term: u64, terms: Vec<u64> },
    /// A consensus replica applied log entry `index` (written in `term`) to its state
    /// machine: client operation `op`, or 0 for a leader's no-op entry.
    EntryApplied { index: u64, term: u64, op: u64 },
    /// A ZAB primary (the leader of `epoch`) broadcast client operation `op` as the
    /// transaction with zxid `(epoch, counter)`: what ZAB's primary order and integrity read.
    PrimaryBroadcast { epoch: u64, counter: u64, op: u64 },
    /// A ZAB replica delivered the transaction with zxid `(epoch, counter)`, operation `op`
    /// (reported beside its `EntryApplied`).
    Delivered { epoch: u64, counter: u64, op: u64 },
    /// The key-value client invoked operation `op` on `key` (first attempt only).
    OpInvoked { op: u64, key: u32, call: KvCall },
    /// The key-value client got `op`'s answer (first reply only).
    OpReturned { op: u64, result: KvResult },
    /// A quorum-commit participant states its quorum system (on every start): each
    /// participant's weight, the commit and abort quorums, and the bound within which a
    /// participant in doubt that stays connected to a quorum of up processes decides
    /// (`quorum-non-blocking`). It concerns no transaction.
    QuorumSystem {
        weights: Vec<(NodeId, u32)>,
        commit_quorum: u32,
        abort_quorum: u32,
        bound_us: u64,
    },
}

/// How a saga ends (Garcia-Molina & Salem): T1..Tn, or T1..Tj, Cj..C1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SagaOutcome {
    Completed,
    Compensated,
}

impl SagaOutcome {
    /// The outcome a client is told: a completed saga committed, a compensated one aborted.
    pub fn outcome(self) -> Outcome {
        match self {
            SagaOutcome::Completed => Outcome::Commit,
            SagaOutcome::Compensated => Outcome::Abort,
        }
    }
}

impl fmt::Display for SagaOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SagaOutcome::Completed => "completed",
            SagaOutcome::Compensated => "compensated",
        })
    }
}

/// Which kind of protocol reports a fact, and the transaction it concerns: the one
/// classification [`Observation::txn`], [`Observation::is_saga`] and
/// [`Observation::is_consensus`] read, so a new fact is classified in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reporter {
    /// A commit protocol's fact about `txn` (sagas report some of these too).
    Commit(TxnId),
    /// A fact only sagas report, about saga `txn`.
    Saga(TxnId),
    /// A fact only replicated logs (and their key-value client) report.
    Consensus,
    /// A fact about no transaction that is neither a saga's nor a log's.
    Other,
}

impl Observation {
    fn reporter(&self) -> Reporter {
        match self {
            Observation::Submitted { txn, .. }
            | Observation::Voted { txn, .. }
            | Observation::Uncertain { txn }
            | Observation::PreCommitted { txn }
            | Observation::Decided { txn, .. }
            | Observation::Applied { txn }
            | Observation::LocksAcquired { txn, .. }
            | Observation::LocksReleased { txn }
            | Observation::ReportedToClient { txn, .. }
            | Observation::ClientLearned { txn, .. } => Reporter::Commit(*txn),
            Observation::SagaBegun { txn, .. }
            | Observation::StepApplied { txn, .. }
            | Observation::StepRefused { txn, .. }
            | Observation::CompensationApplied { txn, .. }
            | Observation::SagaEnded { txn, .. } => Reporter::Saga(*txn),
            Observation::LeaderElected { .. }
            | Observation::LeaderLog { .. }
            | Observation::EntryApplied { .. }
            | Observation::PrimaryBroadcast { .. }
            | Observation::Delivered { .. }
            | Observation::OpInvoked { .. }
            | Observation::OpReturned { .. } => Reporter::Consensus,
            Observation::AuditRead { .. } | Observation::QuorumSystem { .. } => Reporter::Other,
        }
    }

    /// The transaction the fact is about.
    pub fn txn(&self) -> TxnId {
        match self.reporter() {
            Reporter::Commit(txn) | Reporter::Saga(txn) => txn,
            // No transaction: ids count from 1, so 0 is nobody's.
            Reporter::Consensus | Reporter::Other => TxnId(0),
        }
    }

    /// Whether the fact is one only sagas report.
    pub fn is_saga(&self) -> bool {
        matches!(self.reporter(), Reporter::Saga(_))
    }

    /// Whether the fact is one only replicated logs (and their key-value client) report.
    pub fn is_consensus(&self) -> bool {
        self.reporter() == Reporter::Consensus
    }
}

// Symmetry reduction (`explore --symmetry`, see `sim_core::rename`): what holds a node id.
sim_core::rename_nothing!(TxnId, Vote, Outcome, Layout);
sim_core::rename_struct!(Write { node, key, delta });
sim_core::rename_struct!(Txn { id, writes: sorted });
