//! Replicated logs: the vocabulary Raft (and, as they land, Multi-Paxos and ZAB) share.
//!
//! A consensus family replicates one small key-value state machine ([`kv`]) that a client
//! ([`client`]) reads and writes through whichever replica it believes leads. What the
//! checkers judge is reported in the shared [`Observation`](crate::Observation) vocabulary:
//! a replica became leader of a term, a replica applied log entry `index`, the client invoked
//! an operation and got its result. Nothing a checker reads is a replica's own state.
//!
//! Operations carry a client-chosen id ([`OpId`]) so that a retried request — the client
//! re-sends when a reply is late, possibly to another replica — takes effect once: the state
//! machine remembers each id's result and answers a repeat with it.

pub mod client;
pub mod explore;
pub mod kv;
pub mod replica;
pub mod wiring;

#[cfg(test)]
mod refusals;

use serde::{Deserialize, Serialize};

/// A client operation's id: 1, 2, ... in invocation order (0 names the leader's no-op entry).
pub type OpId = u64;

/// What a client asks of one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum KvCall {
    Put {
        value: i64,
    },
    Get,
    /// Compare-and-set: if the key holds `expect` (`None`: no value), set it to `new`.
    Cas {
        expect: Option<i64>,
        new: i64,
    },
}

/// What the state machine answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum KvResult {
    /// A put took effect.
    Written,
    /// A get read this value (`None`: the key holds nothing).
    Read { value: Option<i64> },
    /// A compare-and-set took effect (`true`) or found another value (`false`).
    Swapped { ok: bool },
}

/// One client operation: what a log entry carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub key: u32,
    pub call: KvCall,
}

/// One entry of a Raft log or value of a Multi-Paxos slot: the term it was written in (for
/// Multi-Paxos, the number of the ballot that first proposed it, which re-proposals keep)
/// and the client operation (`None`: a no-op a new leader writes, in Multi-Paxos to fill a
/// gap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    pub op: Option<Op>,
}

impl KvCall {
    /// Applies the call to a register holding `value`: the new value and the answer. The one
    /// definition of the register's semantics, shared by the replicas' state machine and the
    /// linearizability checker's model.
    pub fn apply(self, value: Option<i64>) -> (Option<i64>, KvResult) {
        match self {
            KvCall::Put { value: v } => (Some(v), KvResult::Written),
            KvCall::Get => (value, KvResult::Read { value }),
            KvCall::Cas { expect, new } if expect == value => {
                (Some(new), KvResult::Swapped { ok: true })
            }
            KvCall::Cas { .. } => (value, KvResult::Swapped { ok: false }),
        }
    }
}

/// A replicated log's messages as the rule every replica applies first reads them (see
/// [`LogReplica::on_log_message`](replica::LogReplica::on_log_message)): which are a
/// leader's or a candidate's requests, in which term, and what refuses one of an older term
/// than the receiver promised to follow.
pub trait Requests: Sized {
    /// What orders leaders, as the family's paper names it: Raft's term, a Multi-Paxos
    /// ballot, a ZAB epoch.
    type Term: Copy + Ord;
    /// The term in which this message asks its receiver to act (to vote, promise, accept or
    /// follow its sender), if it is such a request; `None`: a message the rule does not
    /// cover, which [`LogReplica::step`](replica::LogReplica::step) always takes.
    fn request_term(&self) -> Option<Self::Term>;
    /// The answer refusing this request, which tells its sender of the newer term
    /// `promised`.
    fn refusal(&self, promised: Self::Term) -> Self;
}

/// What every consensus family is judged on (see `checkers::consensus`).
pub const CONSENSUS_PROPERTIES: &[&str] = &[
    "election-safety",
    "state-machine-safety",
    "linearizability",
    "log-matching",
    "leader-completeness",
    "termination",
];
