//! The 3PC coordinator.
//!
//! States per transaction (BHG): *waiting* for votes, *pre-committing* (PreCommit sent,
//! waiting for acks), *decided* (waiting for decision acks); plus *inquiring*, the state of
//! a recovered coordinator asked about a transaction it has no record of: unlike 2PC it may
//! not presume abort, since a backup may have committed meanwhile, so it asks.
//!
//! A PreCommit ack that never comes means a crashed participant (delays are bounded): the
//! coordinator commits without it, and the participant learns the outcome when it recovers.

use std::collections::BTreeSet;

use sim_core::{Boot, Duration, NodeId};

use super::{Ctx, Msg, Record, TermState, ThreePcConfig, Timer};
use crate::active::ThreePhase as Phase;
use crate::active::{Tally, tally};
use crate::client::ClientMsg;
use crate::decision::send_marked;
use crate::prepare::send_prepares;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, Txn, TxnId, Vote};

crate::crash_points! {
    /// The 3PC coordinator's crash points (normal path, in protocol order).
    pub enum Point {
        CanCommitSent, AllVotesIn, PrecommitSentToFirst, PrecommitSentToAll, AllAcksIn,
        DecisionLogged, DecisionSentToFirst, DecisionSentToAll
    }
}

const PRECOMMIT_SENT: (&str, &str) =
    (Point::PrecommitSentToFirst.name(), Point::PrecommitSentToAll.name());
const DECISION_SENT: (&str, &str) =
    (Point::DecisionSentToFirst.name(), Point::DecisionSentToAll.name());

type Active = crate::active::Active<Phase>;

/// The 3PC coordinator: a logging, announcing coordinator in 3PC's phases. Asked about a
/// transaction it has no record of, a recovered one inquires: a backup may have decided it
/// meanwhile, so it may not presume.
pub type Coordinator = crate::coordinator::Coordinator<ThreePcConfig, Phase>;

impl Coordinator {
    pub fn new(config: &Shared<ThreePcConfig>, boot: Boot<'_, Record>) -> Coordinator {
        Coordinator::recover(config, boot, true)
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, attempt }) => self.on_request(ctx, txn, attempt),
            Msg::Vote { txn, vote } => self.on_vote(ctx, from, txn, vote),
            Msg::PreCommitAck { txn } => self.on_precommit_ack(ctx, from, txn),
            Msg::Ack { txn } => self.on_ack(ctx, from, txn),
            Msg::Decision { txn, outcome } => self.on_learned(ctx, txn, outcome),
            Msg::DecisionRequest { txn } => self.on_decision_request(ctx, from, txn),
            // Termination traffic among participants does not concern the coordinator, nor
            // recovered participants' states (it asks for decisions only).
            Msg::Elect { .. } | Msg::StateReq { .. } | Msg::RecoveredState { .. } => {}
            other => unreachable!("the 3PC coordinator got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Round(txn) => match self.active.get(&txn).map(|a| &a.phase) {
                Some(Phase::Waiting { .. }) => self.decide(ctx, txn, Outcome::Abort),
                // Missing acks are crashed participants: commit without them.
                Some(Phase::PreCommitting { .. }) => self.decide(ctx, txn, Outcome::Commit),
                _ => {}
            },
            Timer::Resend(txn) => self.announced.on_resend(ctx, txn, self.config.timing.resend),
            Timer::Inquire(txn) => {
                let Some(a) = self.active.get_mut(&txn) else { return };
                let Phase::Inquiring { attempts } = &mut a.phase else { return };
                *attempts += 1;
                let attempt = *attempts;
                let to = a.participants.clone();
                ctx.broadcast(to, Msg::DecisionRequest { txn });
                self.arm_inquiry(ctx, txn, attempt);
            }
            other => unreachable!("the 3PC coordinator got timer {other:?}"),
        }
    }

    fn arm_inquiry(&self, ctx: &mut Ctx, txn: TxnId, attempt: u32) {
        if let Some(after) = self.config.timing.inquiry.delay(attempt) {
            ctx.set_timer(after, Timer::Inquire(txn));
        }
    }

    fn round_timer(&self, ctx: &mut Ctx, txn: TxnId) {
        ctx.set_timer(Duration::from_us(self.config.timing.round_timeout_us), Timer::Round(txn));
    }

    fn on_request(&mut self, ctx: &mut Ctx, txn: Txn, attempt: u32) {
        let id = txn.id;
        if let Some(outcome) = self.announced.ended(id) {
            return self.reply(ctx, id, outcome);
        }
        if self.is_known(id) {
            return; // the reply comes at its end
        }
        let participants = txn.participants();
        assert!(!participants.is_empty(), "{id} touches no participant");
        if self.recovered && attempt > 0 {
            // Perhaps started before the crash: ask before deciding anything.
            ctx.broadcast(participants.iter().copied(), Msg::DecisionRequest { txn: id });
            self.arm_inquiry(ctx, id, 0);
            let phase = Phase::Inquiring { attempts: 0 };
            self.active.insert(id, Active { participants, phase });
            return;
        }
        let sent = Point::CanCommitSent.name();
        send_prepares(ctx, &txn, (&participants, None), sent, |p, prepare| {
            (p, Msg::CanCommit(prepare))
        });
        self.round_timer(ctx, id);
        let phase = Phase::Waiting { yes: BTreeSet::new() };
        self.active.insert(id, Active { participants, phase });
    }

    fn on_vote(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, vote: Vote) {
        if let Some(outcome) = self.announced.announcing(txn) {
            if vote == Vote::Yes && outcome == Outcome::Abort {
                self.announced.await_late_voter(txn, from);
                ctx.send(from, Msg::Decision { txn, outcome });
            }
            return;
        }
        let Some(a) = self.active.get_mut(&txn) else {
            if let (Vote::Yes, Some(outcome)) = (vote, self.announced.ended(txn)) {
                ctx.send(from, Msg::Decision { txn, outcome });
            }
            return;
        };
        let Phase::Waiting { yes } = &mut a.phase else { return }; // late, or a duplicate
        match tally(ctx, (yes, &a.participants), (from, vote), Point::AllVotesIn.name()) {
            Tally::Abort => self.decide(ctx, txn, Outcome::Abort),
            Tally::AllYes => {
                send_marked(ctx, &a.participants, Msg::PreCommit { txn }, PRECOMMIT_SENT);
                a.phase = Phase::PreCommitting { acked: BTreeSet::new() };
                self.round_timer(ctx, txn);
            }
            Tally::Waiting => {}
        }
    }

    fn on_precommit_ack(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        let Some(a) = self.active.get_mut(&txn) else { return };
        let Phase::PreCommitting { acked } = &mut a.phase else { return };
        acked.insert(from);
        if acked.len() == a.participants.len() {
            ctx.mark(Point::AllAcksIn.name());
            self.decide(ctx, txn, Outcome::Commit);
        }
    }

    fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let a = self.active.remove(&txn).expect("deciding an active transaction");
        let targets: Vec<NodeId> = match (&a.phase, outcome) {
            (Phase::Waiting { yes }, Outcome::Abort) => yes.iter().copied().collect(),
            (Phase::PreCommitting { .. }, Outcome::Commit) => a.participants.clone(),
            _ => unreachable!("{txn}: no {outcome} from this phase"),
        };
        ctx.cancel_timer(Timer::Round(txn));
        let participants = a.participants.clone();
        ctx.persist(Record::Decision { txn, outcome, participants });
        ctx.mark(Point::DecisionLogged.name());
        ctx.observe(Observation::Decided { txn, outcome });
        send_marked(ctx, &targets, Msg::Decision { txn, outcome }, DECISION_SENT);
        let announce = (self.config.timing.resend, self.config.layout.client());
        self.announced.await_acks(ctx, txn, outcome, targets, announce);
    }

    /// A participant asks what was decided: answer the outcome if there is one; a coordinator
    /// that lost the transaction in a crash (no record, or asking itself) says it recovered
    /// undecided, for the total-failure rule; one still running it stays silent.
    fn on_decision_request(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        if let Some(outcome) = self.announced.outcome(txn) {
            return ctx.send(from, Msg::Decision { txn, outcome });
        }
        match self.active.get(&txn).map(|a| &a.phase) {
            // With no record, a participant knows the transaction from our CanCommit, sent
            // before a crash: pre-commit is not logged, so our state is uncertain.
            None | Some(Phase::Inquiring { .. }) if self.recovered => {
                let state = TermState::Uncertain;
                ctx.send(from, Msg::RecoveredState { txn, state });
            }
            _ => {}
        }
    }

    /// A recovered coordinator hears the outcome it asked for.
    fn on_learned(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let Some(Active { phase: Phase::Inquiring { .. }, participants }) = self.active.get(&txn)
        else {
            return;
        };
        let participants = participants.clone();
        self.active.remove(&txn);
        ctx.cancel_timer(Timer::Inquire(txn));
        ctx.persist(Record::Decision { txn, outcome, participants });
        ctx.observe(Observation::Decided { txn, outcome });
        // Nobody to tell (the participants know it: one told us): end at once.
        let announce = (self.config.timing.resend, self.config.layout.client());
        self.announced.await_acks(ctx, txn, outcome, Vec::new(), announce);
    }
}
