//! The 3PC participant: states *initial* (unknown here), *uncertain* (voted yes),
//! *committable* (pre-committed), *committed*, *aborted* (BHG's q, w, p, c, a).
//!
//! The normal-case handlers live here, those every 3PC family shares in
//! [`crate::three_phase`]; what a participant does when the coordinator falls silent (elect a
//! backup, or be one) lives in [`super::termination`].

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Boot, Duration, NodeId};

use super::{Ctx, Msg, Record, TermState, ThreePcConfig, Timer};
use crate::shared::Shared;
use crate::three_phase::ThreePhaseEntry;
use crate::txn::{Observation, Outcome, TxnId};

pub use crate::three_phase::Point;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum State {
    Uncertain,
    Committable,
    Decided(Outcome),
}

/// Where a participant stands in a termination round.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum TermRole {
    /// Waiting for `backup` to decide.
    Follower { backup: NodeId },
    /// Backup: collecting the operational participants' states.
    Collecting { reports: BTreeMap<NodeId, TermState> },
    /// Backup: pre-committing the uncertain ones before committing.
    PreCommitting { awaiting: BTreeSet<NodeId> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Termination {
    /// Nodes found dead (crash faults and bounded delays: a timeout is a crash).
    pub(super) suspected: BTreeSet<NodeId>,
    pub(super) role: TermRole,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    pub(super) participants: Vec<NodeId>,
    pub(super) state: State,
    /// In doubt after a recovery: not operational for termination, asks instead.
    pub(super) recovered: bool,
    pub(super) asked: u32,
    pub(super) term: Option<Termination>,
    /// Recovered in doubt: the states other processes reported as recovered and undecided
    /// ([`super::recovery`]), latest per process.
    pub(super) recovered_reports: BTreeMap<NodeId, TermState>,
}

impl ThreePhaseEntry for Entry {
    fn new(participants: Vec<NodeId>, outcome: Option<Outcome>, recovered: bool) -> Entry {
        let state = outcome.map_or(State::Uncertain, State::Decided);
        let recovered_reports = BTreeMap::new();
        Entry { participants, state, recovered, asked: 0, term: None, recovered_reports }
    }

    fn participants(&self) -> &[NodeId] {
        &self.participants
    }

    fn outcome(&self) -> Option<Outcome> {
        match self.state {
            State::Decided(outcome) => Some(outcome),
            State::Uncertain | State::Committable => None,
        }
    }

    fn decide(&mut self, outcome: Outcome) {
        self.state = State::Decided(outcome);
        self.term = None;
    }

    /// A coordinator that asks again (it lost the transaction in a crash and a duplicated
    /// request restarted it) is running it now: a report it gave as a recovered, undecided
    /// process no longer holds, and must not count towards the total-failure rule
    /// ([`super::recovery`]) while this participant's yes vote may let it commit.
    fn asked_again(&mut self, coordinator: NodeId) {
        self.recovered_reports.remove(&coordinator);
    }
}

/// The 3PC participant: a voter whose transactions are [`Entry`]s.
pub type Participant = crate::voter::Voter<ThreePcConfig, Entry>;

impl Participant {
    pub fn new(config: &Shared<ThreePcConfig>, id: NodeId, boot: Boot<'_, Record>) -> Participant {
        Participant::recover_three_phase(config, id, boot.disk())
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        self.start_in_doubt(ctx, Participant::ask);
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::CanCommit(prepare) => {
                let wait = (self.config.timing.participant_timeout_us, Timer::Coordinator);
                self.on_can_commit(ctx, from, prepare, wait)
            }
            Msg::PreCommit { txn } => self.on_precommit(ctx, from, txn),
            Msg::Decision { txn, outcome } => self.on_decision(ctx, from, txn, outcome),
            Msg::DecisionRequest { txn } => self.on_decision_request(ctx, from, txn),
            Msg::Elect { txn, suspected } => self.on_elect(ctx, from, txn, suspected),
            Msg::StateReq { txn } => self.on_state_req(ctx, from, txn),
            Msg::StateReport { txn, state } => self.on_state_report(ctx, from, txn, state),
            Msg::PreCommitAck { txn } => self.on_backup_precommit_ack(ctx, from, txn),
            Msg::RecoveredState { txn, state } => self.on_recovered_state(ctx, from, txn, state),
            other => unreachable!("a 3PC participant got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Coordinator(txn) => self.on_coordinator_silent(ctx, txn),
            Timer::Backup(txn) => self.on_backup_silent(ctx, txn),
            Timer::Collect(txn) => self.on_collect_timeout(ctx, txn),
            Timer::Inquire(txn) => self.ask(ctx, txn),
            other => unreachable!("a 3PC participant got timer {other:?}"),
        }
    }

    pub(super) fn wait_for(&self, ctx: &mut Ctx, timer: Timer) {
        ctx.set_timer(Duration::from_us(self.config.timing.participant_timeout_us), timer);
    }

    fn on_precommit(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        let Some(e) = self.txns.get_mut(&txn) else { return };
        if e.recovered {
            return; // not operational: it asks instead
        }
        match e.state {
            State::Uncertain => {
                e.state = State::Committable;
                ctx.observe(Observation::PreCommitted { txn });
                ctx.mark(Point::Precommitted.name());
            }
            State::Committable => {}
            State::Decided(_) => return,
        }
        ctx.send(from, Msg::PreCommitAck { txn });
        let timer = if from == self.config.layout.coordinator() {
            Timer::Coordinator(txn)
        } else {
            Timer::Backup(txn)
        };
        self.wait_for(ctx, timer);
    }

    fn on_decision(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, outcome: Outcome) {
        let from_coordinator = from == self.config.layout.coordinator();
        let learned = matches!(
            self.txns.get(&txn).map(|e| e.state),
            Some(State::Uncertain | State::Committable)
        );
        if learned {
            self.decide(ctx, txn, outcome);
        }
        // The coordinator is acked when it is the sender, and also when the outcome came from
        // a peer or a backup: it may be alive behind a cut link, re-sending until acked.
        if from_coordinator || learned {
            self.ack_coordinator(ctx, txn);
        }
    }

    /// Tells the coordinator this participant knows the outcome of `txn`.
    pub(super) fn ack_coordinator(&self, ctx: &mut Ctx, txn: TxnId) {
        ctx.send(self.config.layout.coordinator(), Msg::Ack { txn });
    }

    /// Forces the decision, applies or drops the writes, releases the locks.
    pub(super) fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        self.force_decision(ctx, txn, outcome);
        for t in
            [Timer::Coordinator(txn), Timer::Backup(txn), Timer::Collect(txn), Timer::Inquire(txn)]
        {
            ctx.cancel_timer(t);
        }
    }

    /// A recovered participant in doubt asks everyone (coordinator and peers), with backoff.
    fn ask(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let Some(e) = self.txns.get_mut(&txn) else { return };
        if matches!(e.state, State::Decided(_)) {
            return;
        }
        let others = e.participants.iter().copied().filter(|&p| p != self.id);
        ctx.broadcast(
            std::iter::once(self.config.layout.coordinator()).chain(others),
            Msg::DecisionRequest { txn },
        );
        if let Some(after) = self.config.timing.inquiry.delay(e.asked) {
            ctx.set_timer(after, Timer::Inquire(txn));
        }
        e.asked += 1;
    }

    fn on_decision_request(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        match self.txns.get(&txn).map(|e| e.state) {
            Some(State::Decided(outcome)) => ctx.send(from, Msg::Decision { txn, outcome }),
            // Recovered and undecided: say so (total-failure recovery, [`super::recovery`]).
            // Operational: stay silent; this participant's termination round will decide.
            Some(_) if self.recovered_in_doubt(txn) => {
                let state = self.term_state(txn);
                ctx.send(from, Msg::RecoveredState { txn, state });
            }
            Some(_) => {}
            None => {
                self.abort_unknown(ctx, txn);
                ctx.send(from, Msg::Decision { txn, outcome: Outcome::Abort });
            }
        }
    }
}
