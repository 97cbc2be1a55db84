//! The resource manager: a participant, the proposer of its own instance in ballot 0, the
//! initiator of the transactions the client hands it, and a backup leader.
//!
//! Gray & Lamport's RM states per transaction: *working* (unknown here), *prepared* (proposed
//! `Prepared`: may not decide alone), *committed* / *aborted*. The prepared record (with the
//! writes, under lock) is forced before the phase 2a `Prepared`; a no vote forces an abort
//! decision before the phase 2a `Aborted`, so the RM can never propose two values in ballot 0.
//!
//! A prepared RM that hears nothing asks the leaders in takeover order, one more per retry
//! (bounded backoff): the TM first, then the transaction's RMs by id. When its own turn
//! comes it runs the ballot itself.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Boot, NodeId};

use super::leader::{Ballots, Led};
use super::{Ballot, Ctx, Msg, PaxosCommitConfig, Phase2a, Phase2b, Record, Timer, Value};
use crate::client::ClientMsg;
use crate::initiated::Initiated;
use crate::prepare::Prepare;
use crate::shared::Shared;
use crate::txn::{Key, Observation, Outcome, Txn, TxnId, Vote};
use crate::voter::Voter;

crate::crash_points! {
    /// An RM's crash points.
    pub enum Point {
        PreparedLogged, VotedYes, Decided
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Proposed `Prepared`; `asked` counts help requests; `chosen_by` the acceptors whose
    /// ballot-0 phase 2b arrived (Faster).
    Prepared {
        participants: Vec<NodeId>,
        asked: u32,
        chosen_by: BTreeSet<NodeId>,
    },
    Decided(Outcome),
}

impl State {
    fn outcome(&self) -> Option<Outcome> {
        match self {
            State::Decided(o) => Some(*o),
            State::Prepared { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourceManager {
    voter: Voter<PaxosCommitConfig, State>,
    /// Transactions this RM initiated for the client (it replies when it learns).
    initiated: Initiated,
    incarnation: u32,
    ballots: Ballots,
}

impl ResourceManager {
    pub fn new(config: &Shared<PaxosCommitConfig>, id: NodeId, boot: Boot<'_, Record>) -> Self {
        let prepared = |r: &Record| {
            let Record::Prepared { participants, .. } = r else { unreachable!("in doubt") };
            let participants = participants.clone();
            State::Prepared { participants, asked: 0, chosen_by: BTreeSet::new() }
        };
        let disk = boot.disk();
        let incarnation = super::next_incarnation(disk);
        ResourceManager {
            voter: Voter::recover(config, id, disk, State::Decided, prepared),
            initiated: Initiated::default(),
            incarnation,
            ballots: Ballots::new(config, id, incarnation),
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        if self.incarnation > 0 {
            ctx.persist(Record::Incarnation { incarnation: self.incarnation });
        }
        // After a recovery: still in doubt, locks re-taken; ask at once.
        for txn in self.in_doubt() {
            self.voter.report_recovered_doubt(ctx, txn);
            self.ask(ctx, txn);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, .. }) => self.on_request(ctx, txn),
            Msg::Prepare(prepare) => self.on_prepare(ctx, from, prepare),
            Msg::Outcome { txn, outcome } => self.learn(ctx, txn, outcome),
            Msg::Phase2b(p2b) if p2b.ballot == Ballot::ZERO => {
                self.on_ballot0_phase2b(ctx, from, p2b)
            }
            // As a backup leader: help, or a ballot it leads.
            leader => {
                let decided = |txn| self.voter.txns.get(&txn).and_then(State::outcome);
                if let Led::Chosen(txn, outcome, participants) =
                    self.ballots.lead(ctx, from, leader, decided)
                {
                    self.lead_to_outcome(ctx, txn, outcome, participants);
                }
            }
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Outcome(txn) => self.ask(ctx, txn),
            Timer::Ballot(txn) => self.ballots.on_timer(ctx, txn),
            other => unreachable!("an RM got timer {other:?}"),
        }
    }

    // ----- ballot 0: voting ------------------------------------------------------------------

    /// The client hands this RM a transaction it takes part in: start the commit.
    fn on_request(&mut self, ctx: &mut Ctx, txn: Txn) {
        let id = txn.id;
        let known = self.voter.txns.contains_key(&id).then(|| self.decided(id));
        let ends = (self.voter.id, self.voter.config.layout.client());
        if !self.initiated.request(ctx, ends, &txn, known) {
            return;
        }
        // A no vote ends it here: no other RM has heard of the transaction.
        let prepare = Prepare::at(&txn, self.voter.id);
        let participants = prepare.participants.clone();
        if self.vote(ctx, prepare) == Vote::Yes {
            ctx.send(self.voter.config.layout.coordinator(), Msg::BeginCommit { txn });
            self.propose(ctx, id, participants, Value::Prepared);
        }
    }

    fn on_prepare(&mut self, ctx: &mut Ctx, _tm: NodeId, prepare: Prepare) {
        let (txn, participants) = (prepare.txn, prepare.participants.clone());
        if self.voter.txns.contains_key(&txn) {
            return; // voted already (a duplicate, or a TM that recovered)
        }
        let vote = self.vote(ctx, prepare);
        let value = if vote == Vote::Yes { Value::Prepared } else { Value::Aborted };
        self.propose(ctx, txn, participants, value);
    }

    /// Decides this RM's vote and makes it durable: a yes vote forces the prepared record,
    /// a no vote forces an abort decision.
    fn vote(&mut self, ctx: &mut Ctx, prepare: Prepare) -> Vote {
        let Prepare { txn, participants, writes } = prepare;
        assert!(writes.iter().all(|w| w.node == self.voter.id), "{txn}: writes for another node");
        let prepared = Record::Prepared { txn, participants: participants.clone(), writes };
        let abort = Some(Record::Decision { txn, outcome: Outcome::Abort });
        let marks = (Point::PreparedLogged.name(), Point::Decided.name());
        let vote = self.voter.vote(ctx, prepared, abort, marks);
        if vote == Vote::No {
            self.voter.txns.insert(txn, State::Decided(Outcome::Abort));
            self.initiated.settled(ctx, self.voter.config.layout.client(), txn, Outcome::Abort);
            return Vote::No;
        }
        let state = State::Prepared { participants, asked: 0, chosen_by: BTreeSet::new() };
        self.voter.txns.insert(txn, state);
        Vote::Yes
    }

    /// Phase 2a in ballot 0: this RM proposes its own instance's value to F + 1 acceptors.
    /// After `Prepared` it is uncertain until it learns the outcome; `Aborted` (a no vote)
    /// is already its decision and only speeds up everyone else's.
    fn propose(&mut self, ctx: &mut Ctx, txn: TxnId, participants: Vec<NodeId>, value: Value) {
        let values = vec![(self.voter.id, value)];
        let msg = Msg::Phase2a(Phase2a { txn, ballot: Ballot::ZERO, participants, values });
        ctx.broadcast(self.voter.config.ballot0_acceptors(), msg);
        if value == Value::Prepared {
            let wait = (self.voter.config.timing.participant_timeout_us, Timer::Outcome(txn));
            crate::vote::await_outcome(ctx, txn, Point::VotedYes.name(), wait);
        }
    }

    // ----- learning the outcome ------------------------------------------------------------

    /// Faster Paxos Commit: an acceptor accepted every instance in ballot 0.
    fn on_ballot0_phase2b(&mut self, ctx: &mut Ctx, from: NodeId, p2b: Phase2b) {
        let quorum = self.voter.config.quorum();
        let Some(State::Prepared { chosen_by, .. }) = self.voter.txns.get_mut(&p2b.txn) else {
            return;
        };
        chosen_by.insert(from);
        if chosen_by.len() >= quorum {
            self.learn(ctx, p2b.txn, super::outcome_of(&p2b.values));
        }
    }

    /// The outcome is known: force it, apply or drop the writes, release the locks.
    fn learn(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        match self.voter.txns.get(&txn) {
            Some(State::Decided(d)) => {
                assert_eq!(
                    *d, outcome,
                    "{txn}: {} learnt {outcome} after deciding {d}",
                    self.voter.id
                );
                return;
            }
            Some(State::Prepared { .. }) => {}
            None => {
                // Never voted (the Prepare is late or lost): only an abort can come of it.
                // Force it, so a late Prepare is answered no.
                assert_eq!(
                    outcome,
                    Outcome::Abort,
                    "{txn} committed without {}'s vote",
                    self.voter.id
                );
                ctx.persist(Record::Decision { txn, outcome });
                self.voter.txns.insert(txn, State::Decided(outcome));
                ctx.observe(Observation::Decided { txn, outcome });
                return;
            }
        }
        ctx.persist(Record::Decision { txn, outcome });
        self.voter.txns.insert(txn, State::Decided(outcome));
        self.voter.settle(ctx, txn, outcome, Point::Decided.name());
        ctx.cancel_timer(Timer::Outcome(txn));
        self.initiated.settled(ctx, self.voter.config.layout.client(), txn, outcome);
    }

    // ----- failures: asking leaders, and leading ---------------------------------------------

    /// The outcome is late: ask the next leader in takeover order (or lead, on our turn).
    fn ask(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let Some(State::Prepared { participants, asked, .. }) = self.voter.txns.get_mut(&txn)
        else {
            return;
        };
        let leaders = self.voter.config.leaders(participants);
        let leader = leaders[*asked as usize % leaders.len()];
        let participants = participants.clone();
        let attempt = *asked;
        *asked += 1;
        if let Some(after) = self.voter.config.timing.inquiry.delay(attempt) {
            ctx.set_timer(after, Timer::Outcome(txn));
        }
        if leader == self.voter.id {
            if !self.ballots.running(txn) {
                self.ballots.start(ctx, txn, participants);
            }
        } else {
            ctx.send(leader, Msg::Help { txn, participants });
        }
    }

    /// A ballot this RM led chose every instance: learn, and tell the other RMs.
    fn lead_to_outcome(
        &mut self,
        ctx: &mut Ctx,
        txn: TxnId,
        outcome: Outcome,
        participants: Vec<NodeId>,
    ) {
        let others: Vec<NodeId> =
            participants.into_iter().filter(|&p| p != self.voter.id).collect();
        ctx.broadcast(others, Msg::Outcome { txn, outcome });
        self.learn(ctx, txn, outcome);
    }

    // ----- inspection ----------------------------------------------------------------------

    /// Transactions this RM proposed `Prepared` for and has not decided.
    pub fn in_doubt(&self) -> Vec<TxnId> {
        let prepared = |(t, s): (&TxnId, &State)| matches!(s, State::Prepared { .. }).then_some(*t);
        self.voter.txns.iter().filter_map(prepared).collect()
    }
    pub fn locks(&self) -> &BTreeMap<Key, TxnId> {
        self.voter.locks()
    }
    pub fn decided(&self, txn: TxnId) -> Option<Outcome> {
        self.voter.txns.get(&txn).and_then(State::outcome)
    }
}
