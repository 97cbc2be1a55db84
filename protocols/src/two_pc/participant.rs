//! The 2PC participant (resource manager).
//!
//! States per transaction, as in BHG: *initial* (unknown here), *uncertain* (voted yes: may
//! not decide alone), *committed* / *aborted*. A yes vote is forced to disk (with the writes,
//! under lock) before it is sent; a decision is forced before it is acknowledged, so a
//! recovered participant is exactly as decided as it claimed to be.
//!
//! When the coordinator is silent after a yes vote, the participant asks it again, and with
//! cooperative termination asks the other participants too; a peer that has decided answers,
//! a peer that has not even voted aborts and answers abort, an uncertain peer stays silent.
//! Whoever it learns the outcome from, it acknowledges to the coordinator, which can then
//! end the transaction (an outcome learned from a peer is no reason to keep the coordinator
//! re-sending).
//!
//! In Gray & Lamport's shape the client hands the transaction to its initiating RM (its
//! lowest participant), which prepares first and sends its Prepared, with the transaction,
//! to the TM (a no vote ends the transaction there: nobody else has heard of it); that RM
//! answers the client when it learns the outcome. Decisions are still forced, but never
//! acknowledged; a no vote is forced too (an abort decision), because no coordinator holds
//! the initiating RM's unilateral abort, and a recovered RM must not vote again.

use std::collections::BTreeMap;

use sim_core::{Boot, Duration, NodeId};

use super::{Broken2pc, Ctx, Msg, Record, Shape, Timer, TwoPcConfig};
use crate::client::ClientMsg;
use crate::initiated::Initiated;
use crate::prepare::Prepare;
use crate::shared::Shared;
use crate::txn::{Key, Outcome, Txn, TxnId, Vote};
use crate::voter::Voter;

crate::crash_points! {
    /// A 2PC participant's crash points.
    pub enum Point {
        PreparedLogged, VotedYes, Decided
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Enlisted by the coordinator's WORK (execution phase), not yet asked to vote: may
    /// still abort alone.
    Working,
    /// Voted yes (or found prepared at recovery); `asked` counts termination rounds.
    Uncertain {
        participants: Vec<NodeId>,
        asked: u32,
    },
    Decided(Outcome),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Participant {
    voter: Voter<TwoPcConfig, State>,
    /// Transactions the client handed this RM (Gray & Lamport's shape): it replies.
    initiated: Initiated,
}

impl Participant {
    pub fn new(config: &Shared<TwoPcConfig>, id: NodeId, boot: Boot<'_, Record>) -> Participant {
        let uncertain = |r: &Record| {
            let Record::Prepared { participants, .. } = r else { unreachable!("in doubt") };
            State::Uncertain { participants: participants.clone(), asked: 0 }
        };
        let voter = Voter::recover(config, id, boot.disk(), State::Decided, uncertain);
        Participant { voter, initiated: Initiated::default() }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        // After a recovery: still in doubt, locks re-taken; ask at once.
        let in_doubt: Vec<TxnId> = self.in_doubt();
        for txn in in_doubt {
            self.voter.report_recovered_doubt(ctx, txn);
            self.inquire(ctx, txn);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, .. }) => self.on_request(ctx, txn),
            Msg::Work { txn } => self.on_work(ctx, from, txn),
            Msg::Prepare(prepare) => self.on_prepare(ctx, from, prepare),
            Msg::Decision { txn, outcome } => self.on_decision(ctx, from, txn, outcome),
            Msg::DecisionRequest { txn } => self.on_decision_request(ctx, from, txn),
            other => unreachable!("a 2PC participant got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        let txn = match timer {
            Timer::Inquire(txn) => txn,
            Timer::PreVote(txn) => return self.on_pre_vote_timeout(ctx, txn),
            other => unreachable!("a 2PC participant got {other:?}"),
        };
        if !matches!(self.voter.txns.get(&txn), Some(State::Uncertain { .. })) {
            return;
        }
        if self.voter.config.broken == Some(Broken2pc::UnilateralAbort) {
            // The textbook mistake: an uncertain participant may not abort on its own.
            return self.decide(ctx, txn, Outcome::Abort, false);
        }
        self.inquire(ctx, txn);
    }

    /// Execution phase: enlisted in `txn`; wait for PREPARE, but not forever.
    fn on_work(&mut self, ctx: &mut Ctx, coordinator: NodeId, txn: TxnId) {
        match self.voter.txns.get(&txn) {
            None => {
                self.voter.txns.insert(txn, State::Working);
                let timeout = Duration::from_us(self.voter.config.timing.pre_vote_timeout_us);
                ctx.set_timer(timeout, Timer::PreVote(txn));
                ctx.send(coordinator, Msg::WorkDone { txn });
            }
            Some(State::Working) => ctx.send(coordinator, Msg::WorkDone { txn }), // a duplicate
            // Aborted alone already (a late or duplicated WORK): say no at once.
            Some(State::Decided(Outcome::Abort)) => {
                ctx.send(coordinator, Msg::Vote { txn, vote: Vote::No });
            }
            Some(State::Uncertain { .. } | State::Decided(Outcome::Commit)) => {} // stale
        }
    }

    /// PREPARE did not come in time: the coordinator may be gone before phase 1. A
    /// participant that has not voted may abort alone (BHG §7.3); one that voted yes may not,
    /// and never gets here (its timer is cancelled when it votes).
    fn on_pre_vote_timeout(&mut self, ctx: &mut Ctx, txn: TxnId) {
        match self.voter.txns.get(&txn) {
            Some(State::Working) => self.abort_unilaterally(ctx, txn),
            Some(State::Uncertain { .. }) => {
                unreachable!("{txn}: pre-vote timeout at {} after a yes vote", self.voter.id)
            }
            Some(State::Decided(_)) | None => {}
        }
    }

    /// Aborts a transaction this participant has not voted on, durably whatever the
    /// presumption: a PREPARE may still come (late, or after a crash of ours) and must be
    /// answered no.
    fn abort_unilaterally(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let previous = self.voter.txns.insert(txn, State::Decided(Outcome::Abort));
        assert!(
            matches!(previous, None | Some(State::Working)),
            "{txn}: unilateral abort at {} after voting",
            self.voter.id
        );
        ctx.cancel_timer(Timer::PreVote(txn));
        let abort = Record::Decision { txn, outcome: Outcome::Abort, participants: vec![] };
        crate::vote::abort_alone(ctx, abort, Point::Decided.name());
    }

    /// Gray & Lamport's shape: the client hands this (initiating) RM a transaction.
    fn on_request(&mut self, ctx: &mut Ctx, txn: Txn) {
        let id = txn.id;
        let known = self.voter.txns.get(&id).map(|s| match s {
            State::Decided(outcome) => Some(*outcome),
            State::Uncertain { .. } => None,
            State::Working => unreachable!("no execution phase in Gray & Lamport's shape"),
        });
        let ends = (self.voter.id, self.voter.config.layout.client());
        if !self.initiated.request(ctx, ends, &txn, known) {
            return;
        }
        if self.vote(ctx, Prepare::at(&txn, self.voter.id), None) == Vote::Yes {
            ctx.send(self.voter.config.layout.coordinator(), Msg::InitiatorPrepared { txn });
            self.await_decision(ctx, id);
        }
    }

    fn on_prepare(&mut self, ctx: &mut Ctx, coordinator: NodeId, prepare: Prepare) {
        let txn = prepare.txn;
        let mine = prepare.writes.iter().all(|w| w.node == self.voter.id);
        assert!(mine, "{txn}: writes for another node");
        match self.voter.txns.get(&txn) {
            Some(State::Uncertain { .. }) => {
                return ctx.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
            }
            Some(State::Decided(Outcome::Abort)) => {
                return ctx.send(coordinator, Msg::Vote { txn, vote: Vote::No });
            }
            Some(State::Decided(Outcome::Commit)) => return, // a stale duplicate
            Some(State::Working) => ctx.cancel_timer(Timer::PreVote(txn)),
            None => {}
        }
        if self.vote(ctx, prepare, Some(coordinator)) == Vote::Yes {
            ctx.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
            self.await_decision(ctx, txn);
        }
    }

    /// Decides this participant's vote: a no vote aborts unilaterally and is sent to `tell`
    /// (if anyone is to be told) — nothing to log in the classic shape (no record means
    /// abort), forced in Gray & Lamport's; a yes vote forces the prepared record, the writes
    /// under lock. The caller sends the yes vote.
    fn vote(&mut self, ctx: &mut Ctx, prepare: Prepare, tell: Option<NodeId>) -> Vote {
        let Prepare { txn, participants, writes } = prepare;
        // A no vote is nothing to log in the classic shape (no record means abort); in Gray &
        // Lamport's no coordinator holds this abort for us (the initiating RM's no vote ends
        // the transaction here) and a Prepared may come again after a crash: force it.
        let abort = (self.voter.config.shape == Shape::GrayLamport).then(|| {
            let participants = participants.clone();
            Record::Decision { txn, outcome: Outcome::Abort, participants }
        });
        let prepared = Record::Prepared { txn, participants: participants.clone(), writes };
        let marks = (Point::PreparedLogged.name(), Point::Decided.name());
        let vote = self.voter.vote(ctx, prepared, abort, marks);
        if vote == Vote::No {
            self.voter.txns.insert(txn, State::Decided(Outcome::Abort));
            if let Some(to) = tell {
                ctx.send(to, Msg::Vote { txn, vote: Vote::No });
            }
            self.initiated.settled(ctx, self.voter.config.layout.client(), txn, Outcome::Abort);
            return Vote::No;
        }
        self.voter.txns.insert(txn, State::Uncertain { participants, asked: 0 });
        Vote::Yes
    }

    /// The yes vote is sent: uncertain from now on, until the decision (or an inquiry) comes.
    fn await_decision(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let wait = (self.voter.config.timing.participant_timeout_us, Timer::Inquire(txn));
        crate::vote::await_outcome(ctx, txn, Point::VotedYes.name(), wait);
    }

    fn on_decision(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, outcome: Outcome) {
        let from_coordinator = from == self.voter.config.layout.coordinator();
        match self.voter.txns.get(&txn) {
            // From the coordinator or from a peer (cooperative termination): either way the
            // coordinator is told, so that it can end the transaction instead of re-sending
            // it a decision (perhaps over a cut link) until it hears an ack.
            Some(State::Uncertain { .. }) => self.decide(ctx, txn, outcome, true),
            // Enlisted, not voted: only an abort can come (a recovered coordinator's).
            Some(State::Working) => {
                assert_eq!(
                    outcome,
                    Outcome::Abort,
                    "{txn} committed without {}'s vote",
                    self.voter.id
                );
                self.abort_unilaterally(ctx, txn);
                if from_coordinator && self.voter.config.acknowledged(outcome) {
                    ctx.send(from, Msg::Ack { txn });
                }
            }
            // Already decided (a re-send: our ack was lost), or never prepared (an abort
            // re-sent to every participant after a coordinator recovery): just acknowledge.
            Some(State::Decided(_)) | None => {
                if from_coordinator && self.voter.config.acknowledged(outcome) {
                    ctx.send(from, Msg::Ack { txn });
                }
            }
        }
    }

    /// Leaves the uncertain state: force the decision (unless presumed abort spares it),
    /// apply or drop the writes, release the locks, and with `ack` acknowledge to the
    /// coordinator (when the presumption acknowledges `outcome`), whoever told us.
    fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome, ack: bool) {
        let Some(State::Uncertain { participants, .. }) =
            self.voter.txns.insert(txn, State::Decided(outcome))
        else {
            unreachable!("{txn} decided twice at {}", self.voter.id)
        };
        let acknowledged = self.voter.config.acknowledged(outcome);
        if self.voter.config.logged(outcome) {
            ctx.persist(Record::Decision { txn, outcome, participants });
        }
        self.voter.settle(ctx, txn, outcome, Point::Decided.name());
        ctx.cancel_timer(Timer::Inquire(txn));
        if ack && acknowledged {
            ctx.send(self.voter.config.layout.coordinator(), Msg::Ack { txn });
        }
        self.initiated.settled(ctx, self.voter.config.layout.client(), txn, outcome);
    }

    /// One round of the termination protocol: ask the coordinator, and the other
    /// participants if cooperative; ask again later (bounded backoff).
    fn inquire(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let Some(State::Uncertain { participants, asked }) = self.voter.txns.get_mut(&txn) else {
            return;
        };
        ctx.send(self.voter.config.layout.coordinator(), Msg::DecisionRequest { txn });
        if self.voter.config.cooperative_termination {
            let peers = participants.iter().copied().filter(|&p| p != self.voter.id);
            ctx.broadcast(peers, Msg::DecisionRequest { txn });
        }
        if let Some(after) = self.voter.config.timing.inquiry.delay(*asked) {
            ctx.set_timer(after, Timer::Inquire(txn));
        }
        *asked += 1;
    }

    fn on_decision_request(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        match self.voter.txns.get(&txn) {
            Some(State::Decided(outcome)) => {
                ctx.send(from, Msg::Decision { txn, outcome: *outcome });
            }
            Some(State::Uncertain { .. }) => {} // knows no more than the asker
            None | Some(State::Working) => {
                // Not voted yet (the PREPARE is late or lost): abort unilaterally.
                self.abort_unilaterally(ctx, txn);
                ctx.send(from, Msg::Decision { txn, outcome: Outcome::Abort });
            }
        }
    }

    // ----- inspection (checkers, tests) -----------------------------------------------------

    /// Transactions this participant voted yes on and has not decided.
    pub fn in_doubt(&self) -> Vec<TxnId> {
        let uncertain =
            |(t, s): (&TxnId, &State)| matches!(s, State::Uncertain { .. }).then_some(*t);
        self.voter.txns.iter().filter_map(uncertain).collect()
    }
    pub fn locks(&self) -> &BTreeMap<Key, TxnId> {
        self.voter.locks()
    }
}

// Symmetry reduction (`explore --symmetry`, see `crate::explore::symmetric`).
sim_core::rename_enum!(State { Working, Uncertain { participants: sorted, asked }, Decided(outcome) });
sim_core::rename_struct!(Participant { voter, initiated });
