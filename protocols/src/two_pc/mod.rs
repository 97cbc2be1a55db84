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

mod coordinator;
mod participant;

use serde::{Deserialize, Serialize};
use sim_core::{Boot, Context, NodeId, Process, Protocol};

use crate::client::{Client, ClientConfig, ClientMsg, ClientTimer, ClientWire};
use crate::durable::TxnRecord;
use crate::timing::Timing;
use crate::txn::{Layout, Observation, Outcome, TxnId, Vote, Write};
use crate::workload::VotePolicy;

pub use coordinator::Coordinator;
pub use participant::Participant;

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwoPcConfig {
    pub layout: Layout,
    pub presumption: Presumption,
    /// Uncertain participants also ask each other, not only the coordinator.
    pub cooperative_termination: bool,
    pub broken: Option<Broken2pc>,
    pub timing: Timing,
    pub votes: VotePolicy,
    pub client: ClientConfig,
}

impl TwoPcConfig {
    /// Whether the coordinator logs and collects acks for `outcome`.
    pub(crate) fn acknowledged(&self, outcome: Outcome) -> bool {
        outcome == Outcome::Commit || self.presumption == Presumption::Nothing
    }
}

/// The 2PC vocabulary.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct TwoPc;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
pub enum Msg {
    Client(ClientMsg),
    /// Phase 1: the participant's writes, and who else takes part (for termination).
    Prepare {
        txn: TxnId,
        participants: Vec<NodeId>,
        writes: Vec<Write>,
    },
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
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// Participant, forced before voting yes.
    Prepared { txn: TxnId, participants: Vec<NodeId>, writes: Vec<Write> },
    /// Coordinator (forced before sending) and participant (forced before acking).
    Decision { txn: TxnId, outcome: Outcome, participants: Vec<NodeId> },
    /// Coordinator: every participant acknowledged; the transaction may be forgotten.
    End { txn: TxnId, outcome: Outcome },
}

impl Protocol for TwoPc {
    type Msg = Msg;
    type Timer = Timer;
    type Record = Record;
    type Obs = Observation;
}

impl ClientWire for TwoPc {
    fn wrap_msg(m: ClientMsg) -> Msg {
        Msg::Client(m)
    }
    fn wrap_timer(t: ClientTimer) -> Timer {
        Timer::Client(t)
    }
}

impl TxnRecord for Record {
    fn prepared(&self) -> Option<(TxnId, &[Write])> {
        match self {
            Record::Prepared { txn, writes, .. } => Some((*txn, writes)),
            _ => None,
        }
    }
    fn decision(&self) -> Option<(TxnId, Outcome)> {
        match self {
            Record::Decision { txn, outcome, .. } => Some((*txn, *outcome)),
            _ => None,
        }
    }
}

/// One node of a 2PC cluster; a single enum so the engine needs no dynamic dispatch.
pub enum Node {
    Coordinator(Coordinator),
    Participant(Participant),
    Client(Client),
}

impl Node {
    pub fn build(config: &TwoPcConfig, id: NodeId, boot: Boot<'_, Record>) -> Node {
        match config.layout.role(id) {
            crate::txn::Role::Coordinator => Node::Coordinator(Coordinator::new(config, boot)),
            crate::txn::Role::Participant => Node::Participant(Participant::new(config, id, boot)),
            crate::txn::Role::Client => {
                Node::Client(Client::new(config.layout, config.client.clone(), boot.is_recovery()))
            }
            crate::txn::Role::Acceptor => unreachable!("2PC has no acceptors"),
        }
    }

    pub fn participant(&self) -> Option<&Participant> {
        match self {
            Node::Participant(p) => Some(p),
            _ => None,
        }
    }
}

impl Process<TwoPc> for Node {
    fn on_start(&mut self, ctx: &mut Context<'_, TwoPc>) {
        match self {
            Node::Coordinator(c) => c.on_start(ctx),
            Node::Participant(p) => p.on_start(ctx),
            Node::Client(c) => c.on_start(ctx),
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, TwoPc>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (Node::Client(c), Msg::Client(m)) => c.on_message(ctx, m),
            (Node::Coordinator(c), msg) => c.on_message(ctx, from, msg),
            (Node::Participant(p), msg) => p.on_message(ctx, from, msg),
            (Node::Client(_), msg) => unreachable!("the client got {msg:?}"),
        }
    }

    fn on_timer(&mut self, ctx: &mut Context<'_, TwoPc>, timer: Timer) {
        match (self, timer) {
            (Node::Client(c), Timer::Client(t)) => c.on_timer(ctx, t),
            (Node::Coordinator(c), t) => c.on_timer(ctx, t),
            (Node::Participant(p), t) => p.on_timer(ctx, t),
            (Node::Client(_), t) => unreachable!("the client got timer {t:?}"),
        }
    }
}

impl crate::scenario::NodeView for Node {
    fn in_doubt(&self) -> Vec<TxnId> {
        self.participant().map(Participant::in_doubt).unwrap_or_default()
    }
    fn locks(&self) -> std::collections::BTreeMap<crate::txn::Key, TxnId> {
        self.participant().map(|p| p.locks().clone()).unwrap_or_default()
    }
}

impl crate::scenario::CommitProtocol for TwoPc {
    type Node = Node;
    type Config = TwoPcConfig;
    fn build(config: &TwoPcConfig, id: NodeId, boot: Boot<'_, Record>) -> Node {
        Node::build(config, id, boot)
    }
}
