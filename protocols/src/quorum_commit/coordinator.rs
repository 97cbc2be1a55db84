//! The first coordinator of a quorum-commit transaction (node 0).
//!
//! States per transaction: *waiting* for votes, *pre-committing* (PreCommit sent at
//! [`Ballot::INITIAL`], waiting for a commit quorum of acks), and *inquiring*: it lost track
//! of the transaction (a crash, or acks short of a commit quorum before its round timed out)
//! and may decide nothing by itself any more, since elected coordinators may have decided
//! meanwhile; it asks the participants until one that knows answers, then tells the client.
//! Aborting on a missing vote is safe only before any PreCommit left: nobody can be
//! pre-committed then, so no quorum can ever commit.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Boot, Duration, NodeId};

use super::{Ballot, Ctx, Msg, QuorumConfig, Record, Timer};
use crate::active::ThreePhase as Phase;
use crate::active::{Tally, tally};
use crate::client::ClientMsg;
use crate::commit_record::CommitRecord;
use crate::decision::send_marked;
use crate::prepare::send_prepares;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, Txn, TxnId, Vote};

crate::crash_points! {
    /// The first coordinator's crash points (normal path, in protocol order).
    pub enum Point {
        CanCommitSent, AllVotesIn, PrecommitSentToFirst, PrecommitSentToAll, CommitQuorumIn,
        DecisionLogged, DecisionSentToFirst, DecisionSentToAll
    }
}

type Active = crate::active::Active<Phase>;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Coordinator {
    config: Shared<QuorumConfig>,
    active: BTreeMap<TxnId, Active>,
    finished: BTreeMap<TxnId, Outcome>,
    recovered: bool,
}

impl Coordinator {
    pub fn new(config: &Shared<QuorumConfig>, boot: Boot<'_, Record>) -> Coordinator {
        let mut finished = BTreeMap::new();
        for r in boot.disk() {
            match r {
                Record::Commit(CommitRecord::Decision { txn, outcome, .. }) => {
                    finished.entry(*txn).or_insert(*outcome);
                }
                other => unreachable!("the coordinator never logs {other:?}"),
            }
        }
        Coordinator {
            config: config.clone(),
            active: BTreeMap::new(),
            finished,
            recovered: boot.is_recovery(),
        }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        for (&txn, &outcome) in &self.finished {
            ctx.observe(Observation::Decided { txn, outcome });
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, attempt }) => self.on_request(ctx, txn, attempt),
            Msg::Vote { txn, vote } => self.on_vote(ctx, from, txn, vote),
            Msg::PreAck { txn, ballot } if ballot == Ballot::INITIAL => {
                self.on_precommit_ack(ctx, from, txn)
            }
            Msg::Decision { txn, outcome } => self.learn(ctx, txn, outcome),
            // Acks of elected coordinators' attempts, and elections: not this node's business
            // (it carries no weight and leads no election).
            Msg::PreAck { .. }
            | Msg::StateReq { .. }
            | Msg::StateReport { .. }
            | Msg::Nack { .. }
            | Msg::DecisionRequest { .. } => {}
            other => unreachable!("the quorum coordinator got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Round(txn) => match self.active.get(&txn).map(|a| &a.phase) {
                Some(Phase::Waiting { .. }) => self.decide(ctx, txn, Outcome::Abort),
                // Short of a commit quorum: elections among the participants will end it.
                Some(Phase::PreCommitting { .. }) => self.inquire(ctx, txn, 0),
                _ => {}
            },
            Timer::Inquire(txn) => {
                if let Some(Phase::Inquiring { attempts }) = self.active.get(&txn).map(|a| &a.phase)
                {
                    let next = attempts + 1;
                    self.inquire(ctx, txn, next);
                }
            }
            other => unreachable!("the quorum coordinator got timer {other:?}"),
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx, txn: Txn, attempt: u32) {
        let id = txn.id;
        if let Some(&outcome) = self.finished.get(&id) {
            return self.reply(ctx, id, outcome);
        }
        if self.active.contains_key(&id) {
            return;
        }
        let participants = txn.participants();
        assert!(!participants.is_empty(), "{id} touches no participant");
        if self.recovered && attempt > 0 {
            // Perhaps started before the crash: never restart it (a vote timeout would abort
            // what an elected coordinator may have committed); ask instead.
            self.active
                .insert(id, Active { participants, phase: Phase::Inquiring { attempts: 0 } });
            return self.inquire(ctx, id, 0);
        }
        let sent = Point::CanCommitSent.name();
        send_prepares(ctx, &txn, (&participants, None), sent, |p, prepare| {
            (p, Msg::CanCommit(prepare))
        });
        let phase = Phase::Waiting { yes: BTreeSet::new() };
        self.active.insert(id, Active { participants, phase });
        self.round_timer(ctx, id);
    }

    fn on_vote(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, vote: Vote) {
        let Some(a) = self.active.get_mut(&txn) else { return };
        let Phase::Waiting { yes } = &mut a.phase else { return };
        match tally(ctx, (yes, &a.participants), (from, vote), Point::AllVotesIn.name()) {
            Tally::Abort => return self.decide(ctx, txn, Outcome::Abort),
            Tally::AllYes => {}
            Tally::Waiting => return,
        }
        let to = a.participants.clone();
        a.phase = Phase::PreCommitting { acked: BTreeSet::new() };
        let sent = (Point::PrecommitSentToFirst.name(), Point::PrecommitSentToAll.name());
        send_marked(ctx, &to, Msg::PreCommit { txn, ballot: Ballot::INITIAL }, sent);
        self.round_timer(ctx, txn);
    }

    fn on_precommit_ack(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        let Some(a) = self.active.get_mut(&txn) else { return };
        let Phase::PreCommitting { acked } = &mut a.phase else { return };
        acked.insert(from);
        if self.config.quorums.weight(acked.iter().copied()) >= self.config.quorums.commit {
            ctx.mark(Point::CommitQuorumIn.name());
            self.decide(ctx, txn, Outcome::Commit);
        }
    }

    /// Forces the decision, sends it to every participant, tells the client.
    fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let a = self.active.remove(&txn).expect("deciding an active transaction");
        ctx.cancel_timer(Timer::Round(txn));
        let participants = a.participants;
        let decision = CommitRecord::Decision { txn, outcome, participants: participants.clone() };
        ctx.persist(decision.into());
        ctx.observe(Observation::Decided { txn, outcome });
        ctx.mark(Point::DecisionLogged.name());
        let sent = (Point::DecisionSentToFirst.name(), Point::DecisionSentToAll.name());
        send_marked(ctx, &participants, Msg::Decision { txn, outcome }, sent);
        self.finish(ctx, txn, outcome);
    }

    /// Someone who knows told the outcome: adopt it (forced) and tell the client.
    fn learn(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        if self.finished.contains_key(&txn) {
            return;
        }
        let participants = self.active.remove(&txn).map(|a| a.participants).unwrap_or_default();
        ctx.cancel_timer(Timer::Round(txn));
        ctx.cancel_timer(Timer::Inquire(txn));
        ctx.persist(CommitRecord::Decision { txn, outcome, participants }.into());
        ctx.observe(Observation::Decided { txn, outcome });
        self.finish(ctx, txn, outcome);
    }

    fn finish(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        self.finished.insert(txn, outcome);
        crate::decision::reply_to_client(ctx, self.config.layout.client(), txn, outcome);
    }

    fn reply(&self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        crate::decision::reply_to_client(ctx, self.config.layout.client(), txn, outcome);
    }

    fn inquire(&mut self, ctx: &mut Ctx, txn: TxnId, attempts: u32) {
        let a = self.active.get_mut(&txn).expect("inquiring on an active transaction");
        a.phase = Phase::Inquiring { attempts };
        ctx.broadcast(a.participants.clone(), Msg::DecisionRequest { txn });
        if let Some(after) = self.config.timing.inquiry.delay(attempts) {
            ctx.set_timer(after, Timer::Inquire(txn));
        }
    }

    fn round_timer(&self, ctx: &mut Ctx, txn: TxnId) {
        ctx.set_timer(Duration::from_us(self.config.timing.round_timeout_us), Timer::Round(txn));
    }
}
