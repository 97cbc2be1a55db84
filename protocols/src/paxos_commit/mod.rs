//! Paxos Commit and Faster Paxos Commit (Gray & Lamport, *Consensus on Transaction Commit*).
//!
//! Two-phase commit blocks because one process, the transaction manager, holds the decision.
//! Paxos Commit replaces that single point of failure with consensus: each resource manager
//! (RM, a participant) has its own Paxos instance that chooses `Prepared` or `Aborted`, and
//! the transaction commits iff every instance chooses `Prepared`. The instances share
//! 2F + 1 acceptors, so the outcome survives any F acceptor failures and any number of leader
//! failures: whoever leads next reads it back from a majority.
//!
//! Roles (files): [`rm`] the resource managers, [`acceptor`] the acceptors, [`tm`] the
//! transaction manager (the leader of ballot 0's instances), [`leader`] the ballot machinery
//! (phases 1a/1b/2a/2b of higher ballots) the TM and the backup leaders share.
//!
//! Normal case (Gray & Lamport's message flow, N RMs):
//! 1. The client hands the transaction to its *initiating RM* (its lowest participant). That
//!    RM prepares (forces its prepared record), sends `BeginCommit` to the TM and, as the
//!    owner of its instance, proposes `Prepared` directly in ballot 0 (phase 2a, no phase 1).
//! 2. The TM sends `Prepare` to the other N − 1 RMs; each prepares and sends its own ballot-0
//!    phase 2a. In the normal case only F + 1 acceptors are addressed (the other F stand by).
//! 3. Each acceptor waits for all N instances' ballot-0 phase 2a, forces them in one write,
//!    and sends one phase 2b message covering every instance: to the TM (Paxos Commit), or
//!    straight to every RM (Faster Paxos Commit, one message delay less).
//! 4. Paxos Commit: the TM, with F + 1 phase 2b messages, knows every instance's choice and
//!    sends `Commit`/`Abort` (an [`Msg::Outcome`]) to the RMs. Faster: each RM learns on its
//!    own from F + 1 phase 2b messages. The TM writes nothing: the acceptors hold the outcome.
//!
//! Failures: an RM that does not learn the outcome asks a leader (`Help`); leaders are tried
//! in a fixed order — the TM, then the transaction's RMs by id — one more per retry
//! (bounded backoff), so backups take over deterministically. A leader starts a ballot higher
//! than any it saw: phase 1a to all 2F + 1 acceptors; with F + 1 phase 1b replies it proposes,
//! per instance, the value accepted in the highest ballot reported, or `Aborted` if none was
//! (the RM may never have voted); phase 2b from F + 1 acceptors decides. The TM starts such a
//! ballot itself when ballot 0 stalls. Ballots are `(round, incarnation, leader)`: the
//! incarnation (persisted on recovery) keeps a recovered leader from reusing a ballot.
//!
//! Safety holds under any asynchrony; progress needs F + 1 acceptors and one leader up. With
//! F + 1 acceptors down no ballot completes and the RMs stay uncertain: that is blocking, and
//! the tests show it.

mod acceptor;
mod leader;
mod rm;
mod tm;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::client::{ClientConfig, ClientMsg, ClientTimer};
use crate::family::{Family, RoleSpec, SettingSpec, SettingsView, VariantSpec};
use crate::prepare::Prepare;
use crate::roles::commit_roles;
use crate::scenario::{Scenario, ScenarioError};
use crate::timing::Timing;
use crate::txn::{Layout, Outcome, Txn, TxnId, Write};
use crate::workload::VotePolicy;

pub use acceptor::Acceptor;
pub use rm::ResourceManager;
pub use tm::TransactionManager;

/// The value one RM's Paxos instance chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Prepared,
    Aborted,
}

/// A ballot number. Ballot 0 ([`Ballot::ZERO`]) belongs to each instance's own RM; leaders use
/// rounds from 1. Ordered lexicographically, unique per (leader, incarnation, round).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Ballot {
    pub round: u32,
    pub incarnation: u32,
    pub leader: u32,
}

impl Ballot {
    pub const ZERO: Ballot = Ballot { round: 0, incarnation: 0, leader: 0 };
}

/// What an acceptor accepted for one instance: the ballot and the value.
pub type Accepted = Option<(Ballot, Value)>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaxosCommitConfig {
    pub layout: Layout,
    /// Faults tolerated: 2F + 1 acceptors.
    pub f: u32,
    /// Faster Paxos Commit: acceptors send ballot-0 phase 2b straight to the RMs.
    pub faster: bool,
    pub timing: Timing,
    pub votes: VotePolicy,
    pub client: ClientConfig,
}

crate::commit_config!(PaxosCommitConfig);

impl PaxosCommitConfig {
    pub fn acceptors(&self) -> Vec<NodeId> {
        self.layout.extra_ids().collect()
    }
    /// The F + 1 acceptors the normal case uses (ballot 0).
    pub fn ballot0_acceptors(&self) -> Vec<NodeId> {
        self.layout.extra_ids().take(self.quorum()).collect()
    }
    /// A majority of the 2F + 1 acceptors.
    pub fn quorum(&self) -> usize {
        self.f as usize + 1
    }
    /// Leaders in takeover order for a transaction: the TM, then its RMs by id.
    pub fn leaders(&self, participants: &[NodeId]) -> Vec<NodeId> {
        std::iter::once(self.layout.coordinator()).chain(participants.iter().copied()).collect()
    }
}

/// The Paxos Commit vocabulary (both variants).
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct PaxosCommit;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, PaxosCommit>;

/// Phase 2a: from an RM in ballot 0 (its own instance only), from a leader in a higher ballot
/// (every instance).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phase2a {
    pub txn: TxnId,
    pub ballot: Ballot,
    pub participants: Vec<NodeId>,
    pub values: Vec<(NodeId, Value)>,
}

/// Phase 2b: an acceptor accepted `values` (every instance) in `ballot`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phase2b {
    pub txn: TxnId,
    pub ballot: Ballot,
    pub values: Vec<(NodeId, Value)>,
}

/// Phase 1a: a leader asks for promises not to accept below `ballot`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phase1a {
    pub txn: TxnId,
    pub ballot: Ballot,
    pub participants: Vec<NodeId>,
}

/// Phase 1b: the promise, with what the acceptor accepted per instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Phase1b {
    pub txn: TxnId,
    pub ballot: Ballot,
    pub accepted: Vec<(NodeId, Accepted)>,
}

/// The messages of both variants. Paxos's four phases carry their payload structs (above), so
/// each handler takes its message whole; they serialise and hash as the fields inline did.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    /// Initiating RM → TM: start the commit (the whole transaction, so the TM can hand each
    /// RM its writes).
    BeginCommit {
        txn: Txn,
    },
    /// TM → RM: prepare your part.
    Prepare(Prepare),
    Phase2a(Phase2a),
    Phase2b(Phase2b),
    Phase1a(Phase1a),
    Phase1b(Phase1b),
    /// An acceptor refuses `ballot`: it promised `promised`.
    Nack {
        txn: TxnId,
        ballot: Ballot,
        promised: Ballot,
    },
    /// The outcome (Gray & Lamport's Commit / Abort messages), from a leader.
    Outcome {
        txn: TxnId,
        outcome: Outcome,
    },
    /// An RM that has not learnt the outcome asks a leader to find it.
    Help {
        txn: TxnId,
        participants: Vec<NodeId>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Client(ClientTimer),
    /// TM (Paxos Commit): ballot 0 has not chosen every instance in time.
    Ballot0(TxnId),
    /// Leader: the current ballot is late; start a higher one.
    Ballot(TxnId),
    /// RM: the outcome is late; ask the next leader.
    Outcome(TxnId),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// RM, forced before its ballot-0 phase 2a `Prepared`.
    Prepared { txn: TxnId, participants: Vec<NodeId>, writes: Vec<Write> },
    /// RM: the outcome it learnt (or its unilateral abort, forced before its phase 2a
    /// `Aborted`, so it can never propose two values in ballot 0).
    Decision { txn: TxnId, outcome: Outcome },
    /// Acceptor, forced before any phase 1b or 2b: its whole state for one transaction
    /// (the last such record wins at recovery).
    Acceptor { txn: TxnId, participants: Vec<NodeId>, promised: Ballot, accepted: Vec<Accepted> },
    /// TM or RM, at each recovery: its ballots from now on carry this incarnation.
    Incarnation { incarnation: u32 },
}

crate::commit_node! {
    /// One node of a Paxos Commit cluster.
    pub enum Node {
        protocol: PaxosCommit, config: PaxosCommitConfig, msg: Msg, timer: Timer, record: Record,
        Tm(TransactionManager),
        Rm(ResourceManager),
        Acceptor(Acceptor),
    }
}

/// The incarnation a node boots with: one more than the last it persisted, 0 when fresh.
fn next_incarnation(disk: &[Record]) -> u32 {
    let last = disk.iter().rev().find_map(|r| match r {
        Record::Incarnation { incarnation } => Some(*incarnation),
        _ => None,
    });
    match (last, disk.is_empty()) {
        (Some(i), _) => i + 1,
        (None, true) => 0,
        (None, false) => 1,
    }
}

/// The outcome the chosen values imply.
pub fn outcome_of(values: &[(NodeId, Value)]) -> Outcome {
    if values.iter().all(|(_, v)| *v == Value::Prepared) { Outcome::Commit } else { Outcome::Abort }
}

/// The Paxos Commit family (Gray & Lamport), both variants.
pub const FAMILY: Family = Family {
    name: "Paxos Commit",
    variants: || VARIANTS.iter().map(|(spec, _)| *spec).collect(),
    roles: ROLES,
    settings: SETTINGS,
    properties: crate::family::COMMIT_PROPERTIES,
    layout: |s| commit_roles(&layout_of(s), ROLES, "acceptor"),
    run: |variant, scenario| {
        crate::commit_config::run::<PaxosCommit>(&FAMILY, config, variant, scenario)
    },
    explore: Some(|r, c| crate::commit_config::explore::<PaxosCommit>(&FAMILY, config, r, c)),
};

const VARIANTS: &[(VariantSpec, bool)] = &[
    (
        VariantSpec::new(
            "paxos-commit",
            true,
            "Paxos Commit (Gray & Lamport): one Paxos instance per RM, 2F+1 acceptors (setting f)",
        ),
        false,
    ),
    (
        VariantSpec {
            // Faster Paxos Commit's TM only sends Prepare: the acceptors answer the RMs.
            crash_points: &[("coordinator", tm::Point::NAMES.split_at(1).0)],
            ..VariantSpec::new(
                "faster-paxos-commit",
                true,
                "Faster Paxos Commit: acceptors send phase 2b straight to the RMs",
            )
        },
        true,
    ),
];

const ROLES: &[RoleSpec] = &[
    RoleSpec {
        name: "coordinator",
        label: "coord",
        crash_points: tm::Point::NAMES,
        failure_points: leader::LeaderPoint::NAMES,
    },
    RoleSpec {
        name: "participant",
        label: "p",
        crash_points: rm::Point::NAMES,
        failure_points: leader::LeaderPoint::NAMES,
    },
    RoleSpec { name: "client", label: "client", crash_points: &[], failure_points: &[] },
    RoleSpec {
        name: "acceptor",
        label: "a",
        crash_points: acceptor::Point::NAMES,
        failure_points: &[],
    },
];

const SETTINGS: &[SettingSpec] = &[
    SettingSpec::int("f", 0..=16, 1, "faults tolerated: 2F+1 acceptors"),
    SettingSpec::flag(
        "colocated",
        "TM, RMs and acceptors share hosts as in Gray & Lamport's co-located case",
    ),
];

fn layout_of(scenario: &Scenario) -> Layout {
    let settings = SettingsView::new(SETTINGS, &scenario.family);
    let acceptors = 2 * settings.int("f") as u32 + 1;
    Layout {
        participants: scenario.participants,
        extra: acceptors,
        colocated: settings.flag("colocated"),
    }
}

/// The configuration `variant` runs `scenario` with (`run` and `explore` share it).
fn config(variant: &str, scenario: &Scenario) -> Result<PaxosCommitConfig, ScenarioError> {
    let (_, faster) = VARIANTS.iter().find(|(s, _)| s.name == variant).expect("a variant");
    let timing = Timing::for_network(&scenario.network);
    let client = ClientConfig {
        entry: crate::client::Entry::FirstParticipant,
        ..scenario.client_config(&timing)
    };
    let f = SettingsView::new(SETTINGS, &scenario.family).int("f") as u32;
    Ok(PaxosCommitConfig {
        layout: layout_of(scenario),
        f,
        faster: *faster,
        timing,
        votes: scenario.votes.clone(),
        client,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::stable_hash_of;
    use sim_core::hash::stable_hash;

    /// [`Msg`] as it was before its phases had payload structs: their fields inline. The
    /// variants before them stand in their places (a derived hash counts positions).
    #[derive(Hash, Serialize)]
    #[serde(tag = "msg", rename_all = "snake_case")]
    #[allow(dead_code)] // the stand-ins are never built
    enum Inline {
        Client,
        BeginCommit,
        Prepare,
        Phase2a {
            txn: TxnId,
            ballot: Ballot,
            participants: Vec<NodeId>,
            values: Vec<(NodeId, Value)>,
        },
        Phase2b {
            txn: TxnId,
            ballot: Ballot,
            values: Vec<(NodeId, Value)>,
        },
        Phase1a {
            txn: TxnId,
            ballot: Ballot,
            participants: Vec<NodeId>,
        },
        Phase1b {
            txn: TxnId,
            ballot: Ballot,
            accepted: Vec<(NodeId, Accepted)>,
        },
    }

    /// The payload structs changed no trace hash, no explored state's fingerprint and no
    /// trace written out: all three see the fields, as before; and a trace written before
    /// reads back as the same message.
    #[test]
    fn phases_hash_and_print_as_their_fields_inline() {
        let (txn, ballot) = (TxnId(3), Ballot { round: 2, incarnation: 1, leader: 4 });
        let participants = vec![NodeId(1), NodeId(2)];
        let values = vec![(NodeId(1), Value::Prepared), (NodeId(2), Value::Aborted)];
        let accepted = vec![(NodeId(1), Some((Ballot::ZERO, Value::Prepared))), (NodeId(2), None)];
        let pairs = [
            (
                Msg::Phase2a(Phase2a {
                    txn,
                    ballot,
                    participants: participants.clone(),
                    values: values.clone(),
                }),
                Inline::Phase2a {
                    txn,
                    ballot,
                    participants: participants.clone(),
                    values: values.clone(),
                },
            ),
            (
                Msg::Phase2b(Phase2b { txn, ballot, values: values.clone() }),
                Inline::Phase2b { txn, ballot, values },
            ),
            (
                Msg::Phase1a(Phase1a { txn, ballot, participants: participants.clone() }),
                Inline::Phase1a { txn, ballot, participants },
            ),
            (
                Msg::Phase1b(Phase1b { txn, ballot, accepted: accepted.clone() }),
                Inline::Phase1b { txn, ballot, accepted },
            ),
        ];
        for (wrapped, inline) in &pairs {
            assert_eq!(stable_hash(wrapped), stable_hash(inline), "{wrapped:?}");
            assert_eq!(stable_hash_of(wrapped), stable_hash_of(inline), "{wrapped:?}");
            let json = serde_json::to_string(inline).expect("serialisable");
            assert_eq!(serde_json::to_string(wrapped).expect("serialisable"), json);
            let read: Msg = serde_json::from_str(&json).expect("a trace written before reads");
            assert_eq!(&read, wrapped);
        }
        let hashes: std::collections::BTreeSet<u64> =
            pairs.iter().map(|(w, _)| stable_hash(w)).collect();
        assert_eq!(hashes.len(), pairs.len(), "the four phases hash apart");
    }
}
