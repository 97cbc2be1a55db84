//! Two-phase commit (Gray; Bernstein, Hadzilacos & Goodman ch. 7; Mohan et al. for the
//! presumed-abort variant), with the logging, retries and termination a production
//! implementation needs.
//!
//! Normal case, N participants: PREPARE → vote → decision → ACK, exactly 4N messages between
//! coordinator and participants. Forced writes: each participant's prepared record (before
//! its yes vote) and decision record (before its ack), the coordinator's decision (before
//! sending it) and its end record (after the last ack): 2N + 2.
//!
//! 2PC blocks: a participant that voted yes may not decide alone. When the coordinator is
//! silent it asks again, and with cooperative termination also asks the other participants,
//! who answer what they know; if all are uncertain it waits for the coordinator's recovery.
//!
//! Variants are configuration ([`TwoPcConfig`]), including the deliberately broken ones.
//!
//! With the family setting `execution_phase` the coordinator first enlists every participant
//! ([`Msg::Work`], answered by [`Msg::WorkDone`]) and prepares only then: a participant that
//! has work for a transaction but was not asked to vote may abort it unilaterally, and does
//! so after [`crate::timing::Timing::pre_vote_timeout_us`] (the coordinator may have vanished
//! before PREPARE), forcing the abort so that a late PREPARE is answered no. A participant
//! that voted yes never takes this timeout. Normal case: 6N messages instead of 4N.
//!
//! [`Shape::GrayLamport`] is the message flow Gray & Lamport cost in *Consensus on
//! Transaction Commit* (§3, Table 1), so that the testbed can put 2PC beside Paxos Commit on
//! equal terms: the client hands the transaction to its *initiating RM* (its lowest
//! participant), which prepares and sends its Prepared message ([`Msg::InitiatorPrepared`],
//! carrying the transaction) to the TM; the TM sends Prepare to the other N − 1 RMs, they
//! answer Prepared, and the TM forces its decision and sends it to all N. No acks: 3N − 1
//! messages, 4 message delays (3N − 3 and 3 with the TM on the initiating RM's host), and
//! N + 1 forced writes on the critical path (N prepared records, the TM's decision; the RMs'
//! decision records come after the outcome is fixed). Without acks the TM never learns that
//! every RM knows, so it keeps every outcome to answer the RMs' inquiries, and it forces an
//! abort record before answering "abort" for a transaction it never heard of (a late
//! Prepared from the initiating RM must then find it aborted, even across a TM crash).
//! Termination is the classic shape's: inquiries to the TM, and to the peers when cooperative.

mod coordinator;
mod explore;
mod participant;

use serde::{Deserialize, Serialize};

use crate::client::{ClientConfig, ClientMsg, ClientTimer};
use crate::prepare::Prepare;
use crate::timing::Timing;
use crate::txn::{Layout, Outcome, Txn, TxnId, Vote};
use crate::workload::VotePolicy;

pub use coordinator::Coordinator;
pub use participant::Participant;

/// The 2PC participant's crash points (a family reusing the participant declares them).
pub const PARTICIPANT_POINTS: &[&str] = participant::Point::NAMES;

use crate::family::{CostFormula, Family, RoleSpec, SettingSpec, SettingsView, VariantSpec};
use crate::roles::{commit_role_specs, commit_roles};
use crate::scenario::{Scenario, ScenarioError};

/// What the coordinator presumes about a transaction it has no record of.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presumption {
    /// Every decision is forced and acknowledged.
    #[default]
    Nothing,
    /// Aborts are neither logged nor acknowledged; the coordinator forgets aborted
    /// transactions at once and answers "abort" for anything it does not know.
    Abort,
}

/// Textbook mistakes, for the checkers to catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Broken2pc {
    /// A participant that voted yes aborts on its own when the coordinator is silent.
    UnilateralAbort,
    /// The coordinator sends its decision before logging it, so a crash in between loses it.
    UnloggedDecision,
}

/// The message flow (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// The client asks the coordinator, which sends Prepare to every participant; decisions
    /// are acknowledged as the presumption says.
    #[default]
    Classic,
    /// Gray & Lamport's: the initiating RM prepares first and tells the TM; no acks.
    GrayLamport,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoPcConfig {
    pub layout: Layout,
    pub presumption: Presumption,
    /// Uncertain participants also ask each other, not only the coordinator.
    pub cooperative_termination: bool,
    pub broken: Option<Broken2pc>,
    #[serde(default)]
    pub shape: Shape,
    /// Classic shape only: an execution phase before PREPARE ([`Msg::Work`]); participants
    /// enlisted in a transaction abort it unilaterally if PREPARE is late.
    #[serde(default)]
    pub execution_phase: bool,
    pub timing: Timing,
    pub votes: VotePolicy,
    pub client: ClientConfig,
}

crate::commit_config!(TwoPcConfig);

impl TwoPcConfig {
    /// Whether decisions on `outcome` are forced to disk (the coordinator's before it sends
    /// it, a participant's when it learns it).
    pub(crate) fn logged(&self, outcome: Outcome) -> bool {
        outcome == Outcome::Commit || self.presumption == Presumption::Nothing
    }

    /// Whether participants acknowledge `outcome` and the coordinator waits for the acks.
    pub(crate) fn acknowledged(&self, outcome: Outcome) -> bool {
        self.logged(outcome) && self.shape == Shape::Classic
    }
}

/// The 2PC vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct TwoPc;

/// The engine's context as this family's handlers see it.
pub type Ctx<'a> = sim_core::Context<'a, TwoPc>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    /// Execution phase (setting `execution_phase`): the transaction's work begins at this
    /// participant (XA's start), which from now on waits for PREPARE, for
    /// [`crate::timing::Timing::pre_vote_timeout_us`] at most.
    Work {
        txn: TxnId,
    },
    /// The participant is enlisted (its work is done); the coordinator prepares once every
    /// participant said so.
    WorkDone {
        txn: TxnId,
    },
    /// Phase 1: the participant's writes, and who else takes part (for termination).
    Prepare(Prepare),
    Vote {
        txn: TxnId,
        vote: Vote,
    },
    /// Phase 2, from the coordinator; also a participant's answer to a termination query.
    Decision {
        txn: TxnId,
        outcome: Outcome,
    },
    Ack {
        txn: TxnId,
    },
    /// An uncertain (or recovering) participant asks what was decided.
    DecisionRequest {
        txn: TxnId,
    },
    // Trace hashes name variants by their serde name, not their position: a new variant may
    // go anywhere without changing the hashes tests/regressions pins; renaming one changes them.
    /// Gray & Lamport's shape: the initiating RM prepared and tells the TM, handing it the
    /// transaction so the TM can send the other RMs their Prepare.
    InitiatorPrepared {
        txn: Txn,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    Client(ClientTimer),
    /// Coordinator: votes are late; abort.
    Votes(TxnId),
    /// Coordinator: acks are late; re-send the decision.
    Resend(TxnId),
    /// Participant: the decision is late; ask (again).
    Inquire(TxnId),
    /// Participant enlisted but not asked to vote: PREPARE is late; abort unilaterally.
    PreVote(TxnId),
}

crate::commit_node! {
    /// One node of a 2PC cluster.
    pub enum Node {
        protocol: TwoPc, config: TwoPcConfig, msg: Msg, timer: Timer, record: announced,
        Coordinator(Coordinator),
        Participant(Participant),
    }
}

struct Variant {
    spec: VariantSpec,
    presumption: Presumption,
    cooperative: bool,
    broken: Option<Broken2pc>,
}

/// 4N messages, 6 delays, 2N + 2 forced writes (see the module docs).
const CLASSIC_COST: CostFormula = CostFormula {
    messages: |n| 4 * n,
    delays: 6,
    disk_writes: |n| 2 * n + 2,
    text: "4N msgs, 6 delays, 2N+2 writes",
};

const fn variant(
    name: &'static str,
    summary: &'static str,
    presumption: Presumption,
    cooperative: bool,
    broken: Option<Broken2pc>,
) -> Variant {
    let cost = if broken.is_none() { Some(CLASSIC_COST) } else { None };
    let spec = VariantSpec { cost, ..VariantSpec::new(name, broken.is_none(), summary) };
    Variant { spec, presumption, cooperative, broken }
}

const VARIANTS: &[Variant] = &[
    variant(
        "2pc",
        "two-phase commit, presumed nothing, cooperative termination",
        Presumption::Nothing,
        true,
        None,
    ),
    variant(
        "2pc-presumed-abort",
        "two-phase commit, presumed abort (no acks, no forced records on abort)",
        Presumption::Abort,
        true,
        None,
    ),
    variant(
        "2pc-no-cooperative-termination",
        "two-phase commit; uncertain participants ask only the coordinator",
        Presumption::Nothing,
        false,
        None,
    ),
    variant(
        "broken-2pc-unilateral-abort",
        "BROKEN: an uncertain participant aborts on timeout",
        Presumption::Nothing,
        true,
        Some(Broken2pc::UnilateralAbort),
    ),
    variant(
        "broken-2pc-unlogged-decision",
        "BROKEN: the coordinator sends its decision before logging it",
        Presumption::Nothing,
        true,
        Some(Broken2pc::UnloggedDecision),
    ),
];

const ROLES: &[RoleSpec] =
    &commit_role_specs((coordinator::Point::NAMES, &[]), (participant::Point::NAMES, &[]));

const SETTINGS: &[SettingSpec] = &[
    SettingSpec::flag(
        "colocated",
        "the coordinator shares participant 1's host (Gray & Lamport's co-located case)",
    ),
    SettingSpec::flag(
        "execution_phase",
        "participants are enlisted (WORK) before PREPARE and abort alone if PREPARE is late",
    ),
    SettingSpec::flag(
        "gray_lamport_shape",
        "Gray & Lamport's message flow: the initiating RM prepares first, no acks",
    ),
];

/// The two-phase commit family: its variants, roles, settings and claimed costs.
pub const FAMILY: Family = Family {
    name: "two-phase commit",
    variants: || VARIANTS.iter().map(|v| v.spec).collect(),
    roles: ROLES,
    settings: SETTINGS,
    properties: crate::family::COMMIT_PROPERTIES,
    layout: |s| commit_roles(&layout_of(s), ROLES, ""),
    run: |variant, scenario| crate::commit_config::run::<TwoPc>(&FAMILY, config, variant, scenario),
    explore: Some(explore::explore),
};

fn layout_of(scenario: &Scenario) -> Layout {
    let colocated = SettingsView::new(SETTINGS, &scenario.family).flag("colocated");
    Layout { participants: scenario.participants, extra: 0, colocated }
}

/// The configuration `variant` runs `scenario` with (`run` and `explore` share it).
fn config(variant: &str, scenario: &Scenario) -> Result<TwoPcConfig, ScenarioError> {
    let v = VARIANTS.iter().find(|v| v.spec.name == variant).expect("a 2PC variant");
    let settings = SettingsView::new(SETTINGS, &scenario.family);
    let timing = Timing::for_network(&scenario.network);
    let mut client = scenario.client_config(&timing);
    if settings.flag("execution_phase") && settings.flag("gray_lamport_shape") {
        return Err(ScenarioError::Invalid {
            field: "family.execution_phase".into(),
            reason: "the execution phase is in the classic message flow only, not with \
                     gray_lamport_shape = true"
                .into(),
        });
    }
    let shape = if settings.flag("gray_lamport_shape") {
        client.entry = crate::client::Entry::FirstParticipant;
        Shape::GrayLamport
    } else {
        Shape::Classic
    };
    Ok(TwoPcConfig {
        layout: layout_of(scenario),
        presumption: v.presumption,
        cooperative_termination: v.cooperative,
        broken: v.broken,
        shape,
        execution_phase: settings.flag("execution_phase"),
        timing,
        votes: scenario.votes.clone(),
        client,
    })
}

// Symmetry reduction (`explore --symmetry`, see `crate::explore::symmetric`).
sim_core::rename_enum!(Msg {
    Client(m),
    Work { txn },
    WorkDone { txn },
    Prepare(p),
    Vote { txn, vote },
    Decision { txn, outcome },
    Ack { txn },
    DecisionRequest { txn },
    InitiatorPrepared { txn },
});
sim_core::rename_enum!(Timer { Client(t), Votes(txn), Resend(txn), Inquire(txn), PreVote(txn) });
sim_core::rename_enum!(Node { Coordinator(c), Participant(p), Client(c) });
