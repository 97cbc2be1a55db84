//! Multi-Paxos (Lamport, *Paxos Made Simple*, 2001, §3; van Renesse & Altinbuken, *Paxos Made
//! Moderately Complex*, 2015): a replicated log of key-value operations, as a protocol family.
//!
//! Replicas are nodes `0..N` (`--participants N`), the key-value client is node `N`. Every
//! replica is proposer, acceptor and learner. What is implemented: ballots `(round, node)`,
//! ordered by round with the node id breaking ties, so no two proposers share one; a replica
//! that hears no leader for a randomized timeout (drawn from its own stream) runs phase 1
//! once for every slot from its first unchosen one; each promise (phase 1b) reports every
//! value its acceptor accepted from that slot on; the new leader re-proposes, per slot, the
//! value reported with the highest ballot, fills the gaps with no-ops, then serves clients
//! (followers redirect, as in Raft) with one phase 2 per slot. Acceptor state (the promised
//! ballot, the accepted values) is forced to disk before the acceptor answers; chosen values
//! are forced too, so a recovered replica rebuilds its state machine from its own disk. The
//! leader tells the others each chosen value; a follower that missed some asks the leader
//! (its heartbeat carries how far the leader applied). The leader answers a client after
//! applying its operation; the state machine applies each operation id once. Lost phase 2
//! messages are re-sent on the leader's heartbeat, but only for proposals left unanswered
//! for a whole heartbeat period (between one and two periods: the leader's re-send timeout),
//! so a fault-free command costs the textbook 3(N−1) messages — Accept, its acknowledgement
//! and Chosen (the learn message, *Paxos Made Moderately Complex*'s decision) per other
//! replica.
//!
//! A value carries the ballot of the leader that first proposed it (an [`Entry`]'s `term`),
//! and re-proposals keep it: so a slot's chosen value is one `(term, op)` however many
//! ballots carried it, which is what `EntryApplied` reports (`index`: the slot).
//! `LeaderElected` reports a ballot as its number `round * N + node`.
//!
//! Not implemented: membership changes, log truncation, leases, batching several slots in one
//! phase 2 message.
//!
//! Bounds: a catch-up answer carries at most [`MultiPaxosConfig::batch_max`] values, and a
//! heartbeat re-sends at most that many unanswered proposals; the log grows by one slot per
//! operation plus the gaps a new leader fills; the client's retries are capped by its backoff.
//!
//! Broken variant (for the checkers to catch): `broken-multipaxos-ignores-accepted` — a new
//! leader proposes its own no-op in every slot its phase 1b reported, discarding the values
//! reported there, so a value already chosen is overwritten by another.

mod replica;

use serde::{Deserialize, Serialize};

pub use crate::consensus::Entry;
use crate::consensus::Requests;
use crate::consensus::client::KvMsg;

pub use replica::Replica;

/// The Multi-Paxos vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct MultiPaxos;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, MultiPaxos>;

/// A ballot: higher rounds win, the node id breaks ties. `Ballot::ZERO` is below every real
/// ballot (rounds start at 1).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    pub round: u64,
    pub node: u32,
}

impl Ballot {
    pub const ZERO: Ballot = Ballot { round: 0, node: 0 };

    /// The ballot as one number, ordered as ballots are: what observations call a term.
    pub fn number(self, replicas: u32) -> u64 {
        self.round * u64::from(replicas) + u64::from(self.node)
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "b{}.{}", self.round, self.node)
    }
}

/// One accepted value, as a promise reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Accepted {
    pub slot: u64,
    pub ballot: Ballot,
    pub entry: Entry,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Kv(KvMsg),
    /// Phase 1a: promise `ballot`, and report what you accepted from slot `from` on.
    Prepare {
        ballot: Ballot,
        from: u64,
    },
    /// Phase 1b.
    Promise {
        ballot: Ballot,
        accepted: Vec<Accepted>,
    },
    /// Phase 2a for one slot.
    Accept {
        ballot: Ballot,
        slot: u64,
        entry: Entry,
    },
    /// Phase 2b.
    AcceptedAck {
        ballot: Ballot,
        slot: u64,
    },
    /// The receiver promised a higher ballot than the sender's: `promised`.
    Nack {
        promised: Ballot,
    },
    /// Values chosen at these slots.
    Chosen {
        values: Vec<(u64, Entry)>,
    },
    /// The leader of `ballot` is alive and applied every slot through `applied`.
    Heartbeat {
        ballot: Ballot,
        applied: u64,
    },
    /// A follower missed chosen values: send those from slot `from` on.
    Learn {
        from: u64,
    },
}

/// What a replica forces to its disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The acceptor promised `ballot`.
    Promised { ballot: Ballot },
    /// The acceptor accepted `entry` at `slot` in `ballot`.
    Accepted { slot: u64, ballot: Ballot, entry: Entry },
    /// The learner learned that `entry` was chosen at `slot`.
    Chosen { slot: u64, entry: Entry },
}

impl Msg {
    /// How diagrams label the message.
    pub fn label(&self) -> String {
        match self {
            Msg::Kv(m) => m.label(),
            Msg::Prepare { ballot, from } => format!("PREPARE {ballot} from {from}"),
            Msg::Promise { ballot, accepted } => format!("PROMISE {ballot} x{}", accepted.len()),
            Msg::Accept { ballot, slot, .. } => format!("ACCEPT {ballot} s{slot}"),
            Msg::AcceptedAck { ballot, slot } => format!("ACCEPTED {ballot} s{slot}"),
            Msg::Nack { promised } => format!("NACK {promised}"),
            Msg::Chosen { values } => format!("CHOSEN x{}", values.len()),
            Msg::Heartbeat { ballot, applied } => format!("HEARTBEAT {ballot} a{applied}"),
            Msg::Learn { from } => format!("LEARN from {from}"),
        }
    }
}

/// The acceptor refuses what a proposer sends the acceptors (phase 1a, phase 2a, its
/// heartbeat) in a ballot lower than one it promised, with a `Nack`.
impl Requests for Msg {
    type Term = Ballot;

    fn request_term(&self) -> Option<Ballot> {
        match *self {
            Msg::Prepare { ballot, .. }
            | Msg::Accept { ballot, .. }
            | Msg::Heartbeat { ballot, .. } => Some(ballot),
            _ => None,
        }
    }

    fn refusal(&self, promised: Ballot) -> Msg {
        Msg::Nack { promised }
    }
}

crate::replicated_log! {
    family: "multi-paxos",
    protocol: MultiPaxos,
    config: MultiPaxosConfig,
    properties: crate::consensus::CONSENSUS_PROPERTIES,
    explored: crate::consensus::explore::SLOT_EXPLORED,
    correct: "Multi-Paxos: stable leader, phase 1 once for all open slots, KV client",
    /// Textbook mistakes, for the checkers to catch.
    broken: BrokenMultiPaxos {
        /// A new leader proposes its own no-op where phase 1b reported accepted values.
        IgnoresAccepted: "broken-multipaxos-ignores-accepted" =>
            "BROKEN: a new leader proposes its own value despite phase 1b reports",
    },
}
