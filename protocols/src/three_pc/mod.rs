//! Three-phase commit (Skeen 1981; Bernstein, Hadzilacos & Goodman ch. 7).
//!
//! Normal case, N participants: CanCommit → vote, PreCommit → ack, DoCommit → ack: exactly
//! 6N coordinator–participant messages. Forced writes as in 2PC: each participant's prepared
//! record (before its yes vote) and decision record, the coordinator's decision and its end
//! record: 2N + 2.
//!
//! The extra round buys non-blocking under crash failures with bounded message delays: no
//! operational participant can be uncertain while another has committed, so when the
//! coordinator is suspected the operational participants elect a backup (lowest live id)
//! that collects their states and decides by BHG's rules (see [`participant`]'s termination
//! code). Timeouts come from the network's latency bound ([`crate::timing`]); with unbounded
//! delays or partitions a timeout is not a crash and 3PC may lose atomicity, a finding for
//! the studies rather than something this module hides.
//!
//! Recovered nodes, the coordinator included, never decide alone nor take part in a
//! termination round: they ask until someone who knows answers. After a total failure
//! nobody who knows is left; then, once a recovered participant hears that every other
//! process recovered too and none decided, the termination rule decides over everyone's
//! state ([`recovery`]).
//!
//! Whoever a participant learns the outcome from (the coordinator, a backup, a peer, or the
//! recovery rule), it acks the coordinator, so a coordinator cut off from it can still end
//! the transaction and answer the client.

mod coordinator;
mod participant;
mod recovery;
mod termination;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::client::{ClientConfig, ClientMsg, ClientTimer};
use crate::family::{CostFormula, Family, RoleSpec, VariantSpec};
use crate::prepare::Prepare;
use crate::roles::{commit_role_specs, commit_roles};
use crate::scenario::{Scenario, ScenarioError};
use crate::timing::Timing;
use crate::txn::{Layout, Outcome, TxnId, Vote};
use crate::workload::VotePolicy;

pub use coordinator::Coordinator;
pub use participant::Participant;

/// Textbook mistakes, for the checkers to catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Broken3pc {
    /// The termination protocol commits when every operational participant is uncertain.
    AllUncertainCommit,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreePcConfig {
    pub layout: Layout,
    pub broken: Option<Broken3pc>,
    pub timing: Timing,
    pub votes: VotePolicy,
    pub client: ClientConfig,
}

crate::commit_config!(ThreePcConfig);

/// The 3PC vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct ThreePc;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, ThreePc>;

/// A participant's state as reported to a backup coordinator (BHG's q, w, p, c, a).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermState {
    Aborted,
    Uncertain,
    Committable,
    Committed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    CanCommit(Prepare),
    Vote {
        txn: TxnId,
        vote: Vote,
    },
    /// From the coordinator or a backup.
    PreCommit {
        txn: TxnId,
    },
    PreCommitAck {
        txn: TxnId,
    },
    /// DoCommit (outcome commit) or Abort; from the coordinator, a backup, or a peer that
    /// answers a question.
    Decision {
        txn: TxnId,
        outcome: Outcome,
    },
    Ack {
        txn: TxnId,
    },
    /// A participant that suspects the coordinator asks the lowest participant it does not
    /// suspect to act as backup; `suspected` are the nodes it found dead.
    Elect {
        txn: TxnId,
        suspected: Vec<NodeId>,
    },
    /// A backup asks for a participant's state.
    StateReq {
        txn: TxnId,
    },
    StateReport {
        txn: TxnId,
        state: TermState,
    },
    /// A recovered node asks what was decided.
    DecisionRequest {
        txn: TxnId,
    },
    /// The answer of a process that recovered and has not decided: its durable state, for
    /// the total-failure rule ([`recovery`]).
    RecoveredState {
        txn: TxnId,
        state: TermState,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Client(ClientTimer),
    /// Coordinator: votes (or PreCommit acks) are late.
    Round(TxnId),
    /// Coordinator: decision acks are late; re-send.
    Resend(TxnId),
    /// Participant: the coordinator is silent.
    Coordinator(TxnId),
    /// Participant following a backup: the backup is silent.
    Backup(TxnId),
    /// Backup: state reports (or PreCommit acks) are late.
    Collect(TxnId),
    /// Recovered node: ask again.
    Inquire(TxnId),
}

crate::commit_node! {
    /// One node of a 3PC cluster.
    pub enum Node {
        protocol: ThreePc, config: ThreePcConfig, msg: Msg, timer: Timer, record: announced,
        Coordinator(Coordinator),
        Participant(Participant),
    }
}

impl crate::three_phase::ThreePhase for ThreePc {
    fn vote(txn: TxnId, vote: Vote) -> Msg {
        Msg::Vote { txn, vote }
    }
}

/// The three-phase commit family.
pub const FAMILY: Family = Family {
    name: "three-phase commit",
    variants: || VARIANTS.iter().map(|(spec, _)| *spec).collect(),
    roles: ROLES,
    settings: &[],
    properties: crate::family::COMMIT_PROPERTIES,
    layout: |s| commit_roles(&Layout::new(s.participants), ROLES, ""),
    run: |variant, scenario| {
        crate::commit_config::run::<ThreePc>(&FAMILY, config, variant, scenario)
    },
    explore: Some(|r, c| crate::commit_config::explore::<ThreePc>(&FAMILY, config, r, c)),
};

const VARIANTS: &[(VariantSpec, Option<Broken3pc>)] = &[
    (
        VariantSpec {
            name: "3pc",
            correct: true,
            summary: "three-phase commit with the BHG termination protocol (non-blocking under crashes)",
            cost: Some(CostFormula {
                messages: |n| 6 * n,
                delays: 8,
                disk_writes: |n| 2 * n + 2,
                text: "6N msgs, 8 delays, 2N+2 writes",
            }),
            crash_points: &[],
        },
        None,
    ),
    (
        VariantSpec::new(
            "broken-3pc-all-uncertain-commit",
            false,
            "BROKEN: the 3PC termination protocol commits when all are uncertain",
        ),
        Some(Broken3pc::AllUncertainCommit),
    ),
];

const ROLES: &[RoleSpec] = &commit_role_specs(
    (coordinator::Point::NAMES, &[]),
    (participant::Point::NAMES, termination::BackupPoint::NAMES),
);

/// The configuration `variant` runs `scenario` with (`run` and `explore` share it).
fn config(variant: &str, scenario: &Scenario) -> Result<ThreePcConfig, ScenarioError> {
    let (_, broken) = VARIANTS.iter().find(|(s, _)| s.name == variant).expect("a 3PC variant");
    let timing = Timing::for_network(&scenario.network);
    Ok(ThreePcConfig {
        layout: Layout::new(scenario.participants),
        broken: *broken,
        timing,
        votes: scenario.votes.clone(),
        client: scenario.client_config(&timing),
    })
}
