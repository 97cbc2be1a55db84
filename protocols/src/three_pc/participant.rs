//! The 3PC participant: states *initial* (unknown here), *uncertain* (voted yes),
//! *committable* (pre-committed), *committed*, *aborted* (BHG's q, w, p, c, a).
//!
//! The normal-case handlers live here; what a participant does when the coordinator falls
//! silent (elect a backup, or be one) lives in [`super::termination`].

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Boot, Duration, NodeId};

use super::{Ctx, Msg, Record, TermState, ThreePcConfig, Timer};
use crate::prepare::Prepare;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, TxnId, Vote};

crate::crash_points! {
    /// A 3PC participant's crash points (normal path).
    pub enum Point {
        PreparedLogged, VotedYes, Precommitted, Decided
    }
}

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

/// The 3PC participant: a voter whose transactions are [`Entry`]s.
pub type Participant = crate::voter::Voter<ThreePcConfig, Entry>;

impl Participant {
    pub fn new(config: &Shared<ThreePcConfig>, id: NodeId, boot: Boot<'_, Record>) -> Participant {
        let entry = |participants: Vec<NodeId>, state| Entry {
            participants,
            state,
            recovered: true,
            asked: 0,
            term: None,
            recovered_reports: BTreeMap::new(),
        };
        let uncertain = |r: &Record| {
            let Record::Prepared { participants, .. } = r else { unreachable!("in doubt") };
            entry(participants.clone(), State::Uncertain)
        };
        let decided = |o| entry(vec![], State::Decided(o));
        Participant::recover(config, id, boot.disk(), decided, uncertain)
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        for txn in self.in_doubt() {
            self.report_recovered_doubt(ctx, txn);
            self.ask(ctx, txn);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::CanCommit(prepare) => self.on_can_commit(ctx, from, prepare),
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

    fn on_can_commit(&mut self, ctx: &mut Ctx, coordinator: NodeId, prepare: Prepare) {
        let Prepare { txn, participants, writes } = prepare;
        if let Some(e) = self.txns.get_mut(&txn) {
            // A coordinator that asks again (it lost the transaction in a crash and a
            // duplicated request restarted it) is running it now: a report it gave as a
            // recovered, undecided process no longer holds, and must not count towards the
            // total-failure rule ([`super::recovery`]) while this yes vote may let it commit.
            e.recovered_reports.remove(&coordinator);
            let vote = if e.state == State::Decided(Outcome::Abort) { Vote::No } else { Vote::Yes };
            return ctx.send(coordinator, Msg::Vote { txn, vote });
        }
        let entry = |state| Entry {
            participants: participants.clone(),
            state,
            recovered: false,
            asked: 0,
            term: None,
            recovered_reports: BTreeMap::new(),
        };
        let prepared = Record::Prepared { txn, participants: participants.clone(), writes };
        let marks = (Point::PreparedLogged.name(), Point::Decided.name());
        let vote = self.vote(ctx, prepared, None, marks);
        if vote == Vote::No {
            self.txns.insert(txn, entry(State::Decided(Outcome::Abort)));
            return ctx.send(coordinator, Msg::Vote { txn, vote: Vote::No });
        }
        self.txns.insert(txn, entry(State::Uncertain));
        ctx.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
        let wait = (self.config.timing.participant_timeout_us, Timer::Coordinator(txn));
        crate::vote::await_outcome(ctx, txn, Point::VotedYes.name(), wait);
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
        let e = self.txns.get_mut(&txn).expect("deciding a known transaction");
        assert!(!matches!(e.state, State::Decided(_)), "{txn} decided twice at {}", self.id);
        e.state = State::Decided(outcome);
        e.term = None;
        ctx.persist(Record::Decision { txn, outcome, participants: e.participants.clone() });
        self.settle(ctx, txn, outcome, Point::Decided.name());
        for t in
            [Timer::Coordinator(txn), Timer::Backup(txn), Timer::Collect(txn), Timer::Inquire(txn)]
        {
            ctx.cancel_timer(t);
        }
    }

    /// A transaction this participant never voted on: abort it unilaterally (BHG: a process
    /// that has not voted may), durably, since a late CanCommit must be answered no.
    pub(super) fn abort_unknown(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let e = Entry {
            participants: vec![],
            state: State::Decided(Outcome::Abort),
            recovered: false,
            asked: 0,
            term: None,
            recovered_reports: BTreeMap::new(),
        };
        self.txns.insert(txn, e);
        let abort = Record::Decision { txn, outcome: Outcome::Abort, participants: vec![] };
        crate::vote::abort_alone(ctx, abort, Point::Decided.name());
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

    // ----- inspection -----------------------------------------------------------------------

    pub fn in_doubt(&self) -> Vec<TxnId> {
        let open = |(t, e): (&TxnId, &Entry)| (!matches!(e.state, State::Decided(_))).then_some(*t);
        self.txns.iter().filter_map(open).collect()
    }
}
