//! Raft (Ongaro & Ousterhout, *In Search of an Understandable Consensus Algorithm*, 2014):
//! a replicated log of key-value operations, as a protocol family.
//!
//! Replicas are nodes `0..N` (`--participants N`), the key-value client is node `N`. What is
//! implemented, following the paper's Figure 2: randomized election timeouts drawn from each
//! replica's own stream; RequestVote with the up-to-date-log rule; AppendEntries with the
//! consistency check and conflict truncation (a follower answers a failed check with a hint,
//! its log length, so the leader backs up fast), pipelined: the leader's `nextIndex` for a
//! follower advances as entries are sent (the pipelining of Ongaro's thesis, ch. 10; raft-rs's
//! `Progress` in its replicate state), so each entry goes out once and again only after the
//! follower rejects an AppendEntries — a heartbeat carries the consistency check at
//! `nextIndex − 1`, so a lost entry or reply is found within a heartbeat period — and the
//! commit index rides on the next AppendEntries: 2(N−1) messages per command; commitment
//! only by counting replicas of an entry of the leader's current term (§5.4.2, Figure 8),
//! with a no-op entry appended at the start of each term so earlier entries commit promptly;
//! `currentTerm`, `votedFor` and the log persisted (forced) before the replica answers
//! anything that depends on them; leader redirects for clients; heartbeats. Reads go through
//! the log, so every answer is linearizable; each operation carries an id and the state
//! machine applies it once.
//!
//! Not implemented: membership changes, log compaction and snapshots, read leases, pre-vote.
//!
//! Bounds: an AppendEntries carries at most [`RaftConfig::batch_max`] entries; the log grows
//! by one entry per operation plus one no-op per term won; the client's retries are capped by
//! its backoff.
//!
//! Broken variants (for the checkers to catch): `broken-raft-volatile-vote` does not persist
//! `votedFor`, so a replica that crashes and recovers may vote twice in one term, and two
//! leaders are elected in it. `broken-raft-commit-old-term` is Figure 8's bug: a leader
//! commits an entry of an earlier term once a majority holds it, and a later leader whose
//! log lacks it (elected by replicas that never held it) overwrites it. It also appends no
//! no-op when it takes office, as the leaders of Figure 8 do not: with the no-op, every
//! AppendEntries that carries the old entry carries the new term's no-op too, and the old
//! entry would commit correctly with it.

mod replica;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

pub use crate::consensus::Entry;
use crate::consensus::Requests;
use crate::consensus::client::KvMsg;

pub use replica::Replica;

/// The Raft vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Raft;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, Raft>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Kv(KvMsg),
    RequestVote {
        term: u64,
        last_index: u64,
        last_term: u64,
    },
    Vote {
        term: u64,
        granted: bool,
    },
    /// Entries after `prev_index` (empty: a heartbeat), and the leader's commit index.
    AppendEntries {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        commit: u64,
    },
    /// `ok`: the follower's log matches the leader's through `index`. Not `ok`: the check
    /// failed; `index` is where the leader should try next (the follower's hint).
    AppendReply {
        term: u64,
        ok: bool,
        index: u64,
    },
}

/// What a replica forces to its disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// `currentTerm` and `votedFor`.
    HardState { term: u64, voted_for: Option<NodeId> },
    /// The log's entry `index` (from 1).
    Append { index: u64, entry: Entry },
    /// The log keeps only the entries before `from` (a conflict was found at `from`).
    Truncate { from: u64 },
}

impl Msg {
    /// The sender's term (`None`: the client's messages).
    pub fn term(&self) -> Option<u64> {
        match self {
            Msg::Kv(_) => None,
            Msg::RequestVote { term, .. }
            | Msg::Vote { term, .. }
            | Msg::AppendEntries { term, .. }
            | Msg::AppendReply { term, .. } => Some(*term),
        }
    }

    /// How diagrams label the message.
    pub fn label(&self) -> String {
        match self {
            Msg::Kv(m) => m.label(),
            Msg::RequestVote { term, .. } => format!("REQUEST-VOTE t{term}"),
            Msg::Vote { term, granted } => {
                format!("VOTE t{term} {}", if *granted { "yes" } else { "no" })
            }
            Msg::AppendEntries { term, entries, .. } if entries.is_empty() => {
                format!("HEARTBEAT t{term}")
            }
            Msg::AppendEntries { term, entries, .. } => {
                format!("APPEND t{term} x{}", entries.len())
            }
            Msg::AppendReply { ok, index, .. } => {
                format!("APPEND-{} {index}", if *ok { "OK" } else { "NO" })
            }
        }
    }
}

/// A request for votes or entries of an older term is refused (§5.1): the vote denied, the
/// entries rejected, in the receiver's term.
impl Requests for Msg {
    type Term = u64;

    fn request_term(&self) -> Option<u64> {
        match *self {
            Msg::RequestVote { term, .. } | Msg::AppendEntries { term, .. } => Some(term),
            _ => None,
        }
    }

    fn refusal(&self, term: u64) -> Msg {
        match self {
            Msg::RequestVote { .. } => Msg::Vote { term, granted: false },
            Msg::AppendEntries { .. } => Msg::AppendReply { term, ok: false, index: 0 },
            other => unreachable!("{other:?} is no request: nothing refuses it"),
        }
    }
}

crate::replicated_log! {
    family: "raft",
    protocol: Raft,
    config: RaftConfig,
    properties: crate::consensus::CONSENSUS_PROPERTIES,
    explored: crate::consensus::explore::LOG_EXPLORED,
    correct: "Raft: leader election, log replication, KV client",
    /// Textbook mistakes, for the checkers to catch.
    broken: BrokenRaft {
        /// `votedFor` is not persisted: a recovered replica may vote twice in a term.
        VolatileVote: "broken-raft-volatile-vote" =>
            "BROKEN: votedFor is not persisted, so a recovered replica may vote twice in a term",
        /// A leader commits an entry of an earlier term by counting its replicas (Figure 8),
        /// and appends no no-op when it takes office (which would mask the bug, see the
        /// variant).
        CommitOldTerm: "broken-raft-commit-old-term" =>
            "BROKEN: commits an older term's entry by counting its replicas (Figure 8); \
             no no-op at a term's start, which would mask it",
    },
}
