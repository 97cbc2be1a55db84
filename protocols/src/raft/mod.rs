//! Raft (Ongaro & Ousterhout, *In Search of an Understandable Consensus Algorithm*, 2014):
//! a replicated log of key-value operations, as a protocol family.
//!
//! Replicas are nodes `0..N` (`--participants N`), the key-value client is node `N`. What is
//! implemented, following the paper's Figure 2: randomized election timeouts drawn from each
//! replica's own stream; RequestVote with the up-to-date-log rule; AppendEntries with the
//! consistency check and conflict truncation (a follower answers a failed check with a hint,
//! its log length, so the leader backs up fast); commitment only by counting replicas of an
//! entry of the leader's current term (§5.4.2, Figure 8), with a no-op entry appended at the
//! start of each term so earlier entries commit promptly; `currentTerm`, `votedFor` and the
//! log persisted (forced) before the replica answers anything that depends on them; leader
//! redirects for clients; heartbeats. Reads go through the log, so every answer is
//! linearizable; each operation carries an id and the state machine applies it once.
//!
//! Not implemented: membership changes, log compaction and snapshots, read leases, pre-vote.
//!
//! Bounds: an AppendEntries carries at most [`RaftConfig::batch_max`] entries; the log grows
//! by one entry per operation plus one no-op per term won; the client's retries are capped by
//! its backoff.
//!
//! Broken variant (for the checkers to catch): `broken-raft-volatile-vote` does not persist
//! `votedFor`, so a replica that crashes and recovers may vote twice in one term, and two
//! leaders are elected in it.

mod replica;

use serde::{Deserialize, Serialize};
use sim_core::{Duration, NodeId, Protocol};

use crate::consensus::client::{KvClientConfig, KvMsg, KvTimer};
use crate::consensus::wiring::{
    ConsensusNode, Timeouts, client_config, replica_layout, replica_roles,
};
use crate::consensus::{CONSENSUS_PROPERTIES, Op};
use crate::durable::TxnRecord;
use crate::family::{Family, RoleSpec, VariantSpec};
use crate::scenario::{CommitProtocol, RunOutcome, Scenario, ScenarioError};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::txn::{Observation, Outcome, TxnId, Write};

pub use replica::Replica;

/// The Raft vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct Raft;

/// One log entry: the term it was written in and the client operation (`None`: a new
/// leader's no-op).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    pub op: Option<Op>,
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Kv(KvTimer),
    /// Follower or candidate: no word from a leader; stand for election.
    Election,
    /// Leader: time to replicate (or just assert leadership).
    Heartbeat,
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

impl Protocol for Raft {
    type Msg = Msg;
    type Timer = Timer;
    type Record = Record;
    type Obs = Observation;

    fn label_msg(msg: &Msg) -> String {
        match msg {
            Msg::Kv(KvMsg::Request { op }) => format!("REQ {}", op.id),
            Msg::Kv(KvMsg::Reply { op, .. }) => format!("REPLY {op}"),
            Msg::Kv(KvMsg::Redirect { op, .. }) => format!("REDIRECT {op}"),
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

crate::kv_wire!(Raft, Msg, Timer);

/// Raft's records hold no transaction: the commit vocabulary reads nothing from them.
impl TxnRecord for Record {
    fn prepared(&self) -> Option<(TxnId, &[Write])> {
        None
    }
    fn decision(&self) -> Option<(TxnId, Outcome)> {
        None
    }
}

/// Textbook mistakes, for the checkers to catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokenRaft {
    /// `votedFor` is not persisted: a recovered replica may vote twice in a term.
    VolatileVote,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RaftConfig {
    pub replicas: u32,
    /// Election timeouts are drawn uniformly from `[election_min_us, election_max_us]`.
    pub election_min_us: u64,
    pub election_max_us: u64,
    pub heartbeat_us: u64,
    /// Entries per AppendEntries, at most.
    pub batch_max: u64,
    pub broken: Option<BrokenRaft>,
    pub client: KvClientConfig,
}

impl RaftConfig {
    fn majority(&self) -> usize {
        self.replicas as usize / 2 + 1
    }
    fn election_timeout(&self, rng: &mut sim_core::SimRng) -> Duration {
        let us = sim_core::rng::uniform_u64(rng, self.election_min_us, self.election_max_us);
        Duration::from_us(us)
    }
}

/// One node of a Raft cluster: a replica or the key-value client.
pub type Node = ConsensusNode<Replica>;

impl CommitProtocol for Raft {
    type Node = Node;
    type Config = RaftConfig;
    fn build(config: &Shared<RaftConfig>, id: NodeId, boot: sim_core::Boot<'_, Record>) -> Node {
        let recovered = boot.is_recovery();
        Node::build(id, config.replicas, &config.client, recovered, || {
            Replica::new(config, id, boot.disk())
        })
    }
}

const VARIANTS: &[(VariantSpec, Option<BrokenRaft>)] = &[
    (VariantSpec::new("raft", true, "Raft: leader election, log replication, KV client"), None),
    (
        VariantSpec::new(
            "broken-raft-volatile-vote",
            false,
            "BROKEN: votedFor is not persisted, so a recovered replica may vote twice in a term",
        ),
        Some(BrokenRaft::VolatileVote),
    ),
];

/// A replica's crash points (a family hosting the replica declares them).
pub const REPLICA_POINTS: &[&str] = replica::Point::NAMES;

const ROLES: &[RoleSpec] = &replica_roles(replica::Point::NAMES);

/// The Raft family.
pub const FAMILY: Family = Family {
    name: "raft",
    variants: || VARIANTS.iter().map(|v| v.0).collect(),
    roles: ROLES,
    settings: &[],
    properties: CONSENSUS_PROPERTIES,
    layout: |s| replica_layout(ROLES, s),
    run,
    explore: None,
};

fn run(variant: &str, scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    let broken = VARIANTS.iter().find(|v| v.0.name == variant).expect("a Raft variant").1;
    let timing = Timing::for_network(&scenario.network);
    let t = Timeouts::of(&timing);
    let config = RaftConfig {
        replicas: scenario.participants,
        election_min_us: t.election_min_us,
        election_max_us: t.election_max_us,
        heartbeat_us: t.heartbeat_us,
        batch_max: 64,
        broken,
        client: client_config(scenario, &timing),
    };
    let roles = (FAMILY.layout)(scenario);
    crate::scenario::run_with::<Raft>(scenario, roles, timing, config)
}
