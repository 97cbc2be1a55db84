//! A quorum-commit participant: the normal path (vote, move to a pre-state, decide) and what
//! it keeps per transaction — its state (w, pc, pa, c, a), E3PC's `last_elected` and
//! `last_attempt` — rebuilt from its disk after a crash. Elections live in
//! [`super::election`]; what every 3PC family's participant does the same way, in
//! [`crate::three_phase`].

use sim_core::{Boot, Duration, NodeId};

use super::lead::{ElectionPoint, Lead};
use super::{Ballot, Ctx, Msg, PreState, QuorumConfig, Record, Report, State, Timer};
use crate::shared::Shared;
use crate::three_phase::ThreePhaseEntry;
use crate::txn::{Observation, Outcome, TxnId};

pub use crate::three_phase::Point;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub(super) participants: Vec<NodeId>,
    pub(super) state: State,
    /// The latest election this process joined (forced before it reported).
    pub(super) last_elected: Ballot,
    /// The attempt that moved it to its pre-state (forced before it acked).
    pub(super) last_attempt: Ballot,
    /// The highest round heard of (from a Nack): the next election this process leads
    /// outranks it.
    pub(super) round_seen: u32,
    /// The election this process leads, if any.
    pub(super) lead: Option<Lead>,
}

/// A recovered entry is like any other: every state change was forced before it was told,
/// so a recovered process takes part in elections again at once.
impl ThreePhaseEntry for Entry {
    fn new(participants: Vec<NodeId>, outcome: Option<Outcome>, _recovered: bool) -> Entry {
        Entry {
            participants,
            state: outcome.map_or(State::W, State::decided),
            last_elected: Ballot::INITIAL,
            last_attempt: Ballot::NONE,
            round_seen: 0,
            lead: None,
        }
    }

    fn participants(&self) -> &[NodeId] {
        &self.participants
    }

    fn outcome(&self) -> Option<Outcome> {
        self.state.outcome()
    }

    fn decide(&mut self, outcome: Outcome) {
        self.state = State::decided(outcome);
        self.lead = None;
    }
}

impl Entry {
    pub(super) fn report(&self) -> Report {
        Report { state: self.state, last_attempt: self.last_attempt }
    }

    pub(super) fn in_doubt(&self) -> bool {
        self.state.outcome().is_none()
    }
}

/// A quorum-commit participant: a voter whose transactions are [`Entry`]s.
pub type Participant = crate::voter::Voter<QuorumConfig, Entry>;

impl Participant {
    pub fn new(config: &Shared<QuorumConfig>, id: NodeId, boot: Boot<'_, Record>) -> Participant {
        let disk = boot.disk();
        let mut participant = Participant::recover_three_phase(config, id, disk);
        let txns = &mut participant.txns;
        for record in disk {
            match record {
                Record::Elected { txn, ballot } => {
                    let e = txns.get_mut(txn).expect("elected on a prepared transaction");
                    e.last_elected = e.last_elected.max(*ballot);
                }
                Record::Attempt { txn, ballot, state } => {
                    let e = txns.get_mut(txn).expect("an attempt on a prepared transaction");
                    e.last_elected = e.last_elected.max(*ballot);
                    e.last_attempt = *ballot;
                    if e.in_doubt() {
                        e.state = State::pre(*state);
                    }
                }
                Record::Commit(_) => {}
            }
        }
        participant
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        let bound_us = self.config.quorum_bound_us();
        ctx.observe(self.config.quorums.observed(bound_us));
        self.start_in_doubt(ctx, |p, ctx, txn| p.wait(ctx, txn));
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::CanCommit(prepare) => {
                let wait = (self.config.election_timeout_us(self.id), Timer::Election);
                self.on_can_commit(ctx, from, prepare, wait)
            }
            Msg::PreCommit { txn, ballot } => self.on_attempt(ctx, from, txn, ballot, PreState::Pc),
            Msg::PreAbort { txn, ballot } => self.on_attempt(ctx, from, txn, ballot, PreState::Pa),
            Msg::Decision { txn, outcome } => self.on_decision(ctx, txn, outcome),
            Msg::DecisionRequest { txn } => self.on_decision_request(ctx, from, txn),
            Msg::StateReq { txn, ballot } => self.on_state_req(ctx, from, txn, ballot),
            Msg::StateReport { txn, ballot, report } => {
                self.on_state_report(ctx, from, txn, ballot, report)
            }
            Msg::PreAck { txn, ballot } => self.on_pre_ack(ctx, from, txn, ballot),
            Msg::Nack { txn, ballot, joined } => self.on_nack(ctx, txn, ballot, joined),
            other => unreachable!("a quorum-commit participant got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Election(txn) => self.start_election(ctx, txn),
            Timer::Collect(txn) => self.on_collect_timeout(ctx, txn),
            other => unreachable!("a quorum-commit participant got timer {other:?}"),
        }
    }

    /// (Re)arms this process's election timer on `txn`: it starts an election unless
    /// someone moves the transaction on first.
    pub(super) fn wait(&self, ctx: &mut Ctx, txn: TxnId) {
        let after = Duration::from_us(self.config.election_timeout_us(self.id));
        ctx.set_timer(after, Timer::Election(txn));
    }

    /// PreCommit or PreAbort of attempt `ballot`, from the first coordinator or an elected
    /// one: taken unless this process joined a later election, or (Skeen) holds the other
    /// pre-state; forced before the ack.
    fn on_attempt(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        ballot: Ballot,
        to: PreState,
    ) {
        let Some(e) = self.txns.get(&txn) else { return };
        if let Some(outcome) = e.state.outcome() {
            return ctx.send(from, Msg::Decision { txn, outcome });
        }
        if ballot < e.last_elected {
            let joined = e.last_elected;
            return ctx.send(from, Msg::Nack { txn, ballot, joined });
        }
        if self.take_attempt(ctx, txn, ballot, to) {
            ctx.send(from, Msg::PreAck { txn, ballot });
            self.wait(ctx, txn);
        }
    }

    /// Moves to `to` in attempt `ballot` if the rule allows (forced, reported); whether it did.
    pub(super) fn take_attempt(
        &mut self,
        ctx: &mut Ctx,
        txn: TxnId,
        ballot: Ballot,
        to: PreState,
    ) -> bool {
        let rule = self.config.rule;
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        assert!(e.in_doubt() && ballot >= e.last_elected, "{txn}: attempt {ballot} out of turn");
        if let Some(now) = e.state.pre_state()
            && !rule.may_move(now, to)
        {
            return false;
        }
        let changed = e.state != State::pre(to) || e.last_attempt != ballot;
        e.state = State::pre(to);
        e.last_elected = ballot;
        e.last_attempt = ballot;
        if changed {
            ctx.persist(Record::Attempt { txn, ballot, state: to });
            match to {
                PreState::Pc => {
                    ctx.observe(Observation::PreCommitted { txn });
                    ctx.mark(Point::Precommitted.name());
                }
                PreState::Pa => ctx.mark(ElectionPoint::Preaborted.name()),
            }
        }
        true
    }

    fn on_decision(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        if self.txns.get(&txn).is_some_and(Entry::in_doubt) {
            self.decide(ctx, txn, outcome);
        }
    }

    /// Forces the decision, applies or drops the writes, releases the locks.
    pub(super) fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        self.force_decision(ctx, txn, outcome);
        ctx.cancel_timer(Timer::Election(txn));
        ctx.cancel_timer(Timer::Collect(txn));
    }

    fn on_decision_request(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        if !self.txns.contains_key(&txn) {
            self.abort_unknown(ctx, txn);
        }
        // In doubt: stay silent; the elections decide, and their decision reaches the asker.
        if let Some(outcome) = self.txns[&txn].state.outcome() {
            ctx.send(from, Msg::Decision { txn, outcome });
        }
    }
}
