//! A quorum-commit participant: the normal path (vote, move to a pre-state, decide) and what
//! it keeps per transaction — its state (w, pc, pa, c, a), E3PC's `last_elected` and
//! `last_attempt` — rebuilt from its disk after a crash. Elections live in
//! [`super::election`].

use sim_core::{Boot, Duration, NodeId};

use super::lead::{ElectionPoint, Lead};
use super::{Ballot, Ctx, Msg, PreState, QuorumConfig, Record, Report, State, Timer};
use crate::prepare::Prepare;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, TxnId, Vote};

crate::crash_points! {
    /// A participant's crash points (normal path).
    pub enum Point {
        PreparedLogged, VotedYes, Precommitted, Decided
    }
}

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

impl Entry {
    fn new(participants: Vec<NodeId>, state: State) -> Entry {
        Entry {
            participants,
            state,
            last_elected: Ballot::INITIAL,
            last_attempt: Ballot::NONE,
            round_seen: 0,
            lead: None,
        }
    }

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
        let decided = |o| Entry::new(vec![], State::decided(o));
        let uncertain = |r: &Record| {
            let Record::Prepared { participants, .. } = r else { unreachable!("in doubt") };
            Entry::new(participants.clone(), State::W)
        };
        let mut participant = Participant::recover(config, id, disk, decided, uncertain);
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
                Record::Prepared { .. } | Record::Decision { .. } => {}
            }
        }
        participant
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        let bound_us = self.config.quorum_bound_us();
        ctx.observe(self.config.quorums.observed(bound_us));
        for txn in self.in_doubt() {
            self.report_recovered_doubt(ctx, txn);
            self.wait(ctx, txn);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::CanCommit(prepare) => self.on_can_commit(ctx, from, prepare),
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

    fn on_can_commit(&mut self, ctx: &mut Ctx, coordinator: NodeId, prepare: Prepare) {
        let Prepare { txn, participants, writes } = prepare;
        if let Some(e) = self.txns.get(&txn) {
            let vote = if e.state == State::A { Vote::No } else { Vote::Yes };
            return ctx.send(coordinator, Msg::Vote { txn, vote });
        }
        let prepared = Record::Prepared { txn, participants: participants.clone(), writes };
        let marks = (Point::PreparedLogged.name(), Point::Decided.name());
        let vote = self.vote(ctx, prepared, None, marks);
        let state = if vote == Vote::Yes { State::W } else { State::A };
        self.txns.insert(txn, Entry::new(participants, state));
        ctx.send(coordinator, Msg::Vote { txn, vote });
        if vote == Vote::No {
            return;
        }
        let wait = (self.config.election_timeout_us(self.id), Timer::Election(txn));
        crate::vote::await_outcome(ctx, txn, Point::VotedYes.name(), wait);
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
        let e = self.txns.get_mut(&txn).expect("deciding a known transaction");
        assert!(e.in_doubt(), "{txn} decided twice at {}", self.id);
        e.state = State::decided(outcome);
        e.lead = None;
        ctx.persist(Record::Decision { txn, outcome, participants: e.participants.clone() });
        self.settle(ctx, txn, outcome, Point::Decided.name());
        ctx.cancel_timer(Timer::Election(txn));
        ctx.cancel_timer(Timer::Collect(txn));
    }

    /// A transaction this process never voted on (q): it aborts alone, durably (nobody can
    /// have pre-committed: the first coordinator had no vote from it).
    pub(super) fn abort_unknown(&mut self, ctx: &mut Ctx, txn: TxnId) {
        self.txns.insert(txn, Entry::new(vec![], State::A));
        let abort = Record::Decision { txn, outcome: Outcome::Abort, participants: vec![] };
        crate::vote::abort_alone(ctx, abort, Point::Decided.name());
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

    // ----- inspection -----------------------------------------------------------------------

    pub fn in_doubt(&self) -> Vec<TxnId> {
        self.txns.iter().filter(|(_, e)| e.in_doubt()).map(|(t, _)| *t).collect()
    }
}
