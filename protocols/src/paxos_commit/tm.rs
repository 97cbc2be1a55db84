//! The transaction manager: the leader of the normal case.
//!
//! Gray & Lamport's TM states per transaction: *init* (sent Prepare, waiting for every
//! instance to be chosen), then *committed* / *aborted*. It writes nothing to disk (apart
//! from its incarnation at recovery): the acceptors hold the outcome, which any leader can
//! read back. In Faster Paxos Commit the acceptors answer the RMs directly, so the TM only
//! sends Prepare and steps in when an RM asks for help.

use std::collections::BTreeMap;

use sim_core::{Boot, Duration, NodeId};

use super::leader::{Ballots, Led};
use super::{Ballot, Ctx, Msg, PaxosCommitConfig, Phase2b, Record, Timer, Value};
use crate::prepare::send_prepares;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, Txn, TxnId};

crate::crash_points! {
    /// The TM's crash points on a commit, in protocol order.
    pub enum Point {
        PrepareSent, AllInstancesChosen, DecisionSentToFirst, DecisionSentToAll
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum State {
    /// Waiting for ballot 0 to choose every instance (Paxos Commit only).
    Init {
        participants: Vec<NodeId>,
        chosen_by: Vec<NodeId>,
        values: Vec<(NodeId, Value)>,
    },
    /// Prepare sent; the RMs learn on their own (Faster).
    Delegated,
    Decided(Outcome),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransactionManager {
    config: Shared<PaxosCommitConfig>,
    incarnation: u32,
    txns: BTreeMap<TxnId, State>,
    ballots: Ballots,
}

impl TransactionManager {
    pub fn new(config: &Shared<PaxosCommitConfig>, boot: Boot<'_, Record>) -> TransactionManager {
        let incarnation = super::next_incarnation(boot.disk());
        TransactionManager {
            config: config.clone(),
            incarnation,
            txns: BTreeMap::new(),
            ballots: Ballots::new(config, config.layout.coordinator(), incarnation),
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        if self.incarnation > 0 {
            ctx.persist(Record::Incarnation { incarnation: self.incarnation });
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::BeginCommit { txn } => self.on_begin_commit(ctx, from, txn),
            Msg::Phase2b(p2b) if p2b.ballot == Ballot::ZERO => {
                self.on_ballot0_phase2b(ctx, from, p2b)
            }
            // As a leader: an RM that has not learnt the outcome asks for help (it is told,
            // or a new ballot finds the outcome out), or a ballot it leads.
            leader => {
                let decided = |txn| match self.txns.get(&txn) {
                    Some(State::Decided(outcome)) => Some(*outcome),
                    _ => None,
                };
                match self.ballots.lead(ctx, from, leader, decided) {
                    Led::Chosen(txn, outcome, participants) => {
                        self.decide(ctx, txn, outcome, participants)
                    }
                    Led::Started(txn) => {
                        self.txns.entry(txn).or_insert(State::Delegated);
                    }
                    Led::Nothing => {}
                }
            }
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Ballot0(txn) => {
                if let Some(State::Init { participants, .. }) = self.txns.get(&txn) {
                    let participants = participants.clone();
                    self.ballots.start(ctx, txn, participants);
                }
            }
            Timer::Ballot(txn) => self.ballots.on_timer(ctx, txn),
            other => unreachable!("the TM got timer {other:?}"),
        }
    }

    /// The initiating RM asks to commit: send Prepare to the others.
    fn on_begin_commit(&mut self, ctx: &mut Ctx, from: NodeId, txn: Txn) {
        let id = txn.id;
        match self.txns.get(&id) {
            Some(State::Decided(outcome)) => {
                let outcome = *outcome;
                return ctx.send(from, Msg::Outcome { txn: id, outcome });
            }
            Some(_) => return, // a duplicate
            None => {}
        }
        let participants = txn.participants();
        let (to, sent) = ((&participants[..], Some(from)), Point::PrepareSent.name());
        send_prepares(ctx, &txn, to, sent, |p, prepare| (p, Msg::Prepare(prepare)));
        let state = if self.config.faster {
            State::Delegated
        } else {
            // Prepare (d), phase 2a (d), phase 2b (d), the acceptors' wait for the slowest
            // RM (d), plus d of slack.
            let timeout = Duration::from_us(5 * self.config.timing.latency_bound_us);
            ctx.set_timer(timeout, Timer::Ballot0(id));
            State::Init { participants, chosen_by: Vec::new(), values: Vec::new() }
        };
        self.txns.insert(id, state);
    }

    /// An acceptor accepted every instance in ballot 0 (Paxos Commit).
    fn on_ballot0_phase2b(&mut self, ctx: &mut Ctx, from: NodeId, p2b: Phase2b) {
        let Phase2b { txn, values, .. } = p2b;
        let Some(State::Init { chosen_by, values: known, participants }) = self.txns.get_mut(&txn)
        else {
            return; // decided already, or unknown after a crash (an RM will ask for help)
        };
        if !chosen_by.contains(&from) {
            chosen_by.push(from);
        }
        *known = values;
        if chosen_by.len() < self.config.quorum() {
            return;
        }
        ctx.mark(Point::AllInstancesChosen.name());
        let outcome = super::outcome_of(known);
        let participants = participants.clone();
        ctx.cancel_timer(Timer::Ballot0(txn));
        self.decide(ctx, txn, outcome, participants);
    }

    fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome, participants: Vec<NodeId>) {
        if matches!(self.txns.get(&txn), Some(State::Decided(_))) {
            return;
        }
        self.txns.insert(txn, State::Decided(outcome));
        ctx.observe(Observation::Decided { txn, outcome });
        let sent = (Point::DecisionSentToFirst.name(), Point::DecisionSentToAll.name());
        crate::decision::send_marked(ctx, &participants, Msg::Outcome { txn, outcome }, sent);
    }
}
