//! The 2PC coordinator (transaction manager).
//!
//! States per transaction, as in BHG: *collecting* votes, then *decided* (waiting for acks),
//! then ended (forgotten, its outcome kept only to answer late questions). A decision is
//! forced to disk before anyone hears of it (except in the broken unlogged variant), and
//! re-sent with backoff until every participant has acknowledged it.
//!
//! Recovery: decisions on disk without an end record are re-sent; a transaction with no
//! decision on disk is aborted (the coordinator never told anyone "commit", since commit is
//! logged first), which is what it answers when asked about it.
//!
//! In Gray & Lamport's shape ([`Shape::GrayLamport`]) the transaction arrives with the
//! initiating RM's Prepared, that RM counts as a yes vote, Prepare goes to the others only,
//! and nothing is acknowledged: a decided transaction is finished at once and its outcome
//! kept (from the disk, after a crash) for the RMs' inquiries. An inquiry about a transaction
//! it never heard of forces an abort record first, so a Prepared arriving later (or after a
//! crash) finds the transaction aborted instead of starting it.

use std::collections::BTreeSet;

use sim_core::{Boot, Duration, NodeId};

use super::{Broken2pc, Ctx, Msg, Record, Shape, Timer, TwoPcConfig};
use crate::active::{Tally, tally};
use crate::client::ClientMsg;
use crate::decision::send_marked;
use crate::prepare::send_prepares;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, Txn, TxnId, Vote};

crate::crash_points! {
    /// The 2PC coordinator's crash points (normal path, in protocol order).
    pub enum Point {
        PrepareSent, AllVotesIn, DecisionLogged, DecisionSentToFirst, DecisionSentToAll
    }
}

const DECISION_SENT: (&str, &str) =
    (Point::DecisionSentToFirst.name(), Point::DecisionSentToAll.name());

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Execution phase: enlisting the participants; `done` answered WORK-DONE so far.
    Executing { txn: Txn, done: BTreeSet<NodeId> },
    /// Waiting for votes; `yes` holds who voted yes so far.
    Collecting { yes: BTreeSet<NodeId> },
}

type Active = crate::active::Active<Phase>;

/// The 2PC coordinator: a logging, announcing coordinator in 2PC's phases. A recovered one
/// aborts a retried request it has no record of, never starts it.
pub type Coordinator = crate::coordinator::Coordinator<TwoPcConfig, Phase>;

impl Coordinator {
    pub fn new(config: &Shared<TwoPcConfig>, boot: Boot<'_, Record>) -> Coordinator {
        // In Gray & Lamport's shape nothing is acknowledged: a logged decision is only kept.
        Coordinator::recover(config, boot, config.shape != Shape::GrayLamport)
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, attempt }) => self.on_request(ctx, txn, attempt),
            Msg::WorkDone { txn } => self.on_work_done(ctx, from, txn),
            Msg::Vote { txn, vote } => self.on_vote(ctx, from, txn, vote),
            Msg::InitiatorPrepared { txn } => self.on_initiator_prepared(ctx, from, txn),
            Msg::Ack { txn } => self.on_ack(ctx, from, txn),
            Msg::DecisionRequest { txn } => self.on_decision_request(ctx, from, txn),
            other => unreachable!("the 2PC coordinator got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Votes(txn) => match self.active.get(&txn).map(|a| &a.phase) {
                Some(Phase::Collecting { .. }) => self.decide(ctx, txn, Outcome::Abort),
                Some(Phase::Executing { .. }) => self.abort_unprepared(ctx, txn),
                _ => {}
            },
            Timer::Resend(txn) => self.announced.on_resend(ctx, txn, self.config.timing.resend),
            other => unreachable!("the 2PC coordinator got timer {other:?}"),
        }
    }

    // ----- phase 1 -----------------------------------------------------------------------

    fn on_request(&mut self, ctx: &mut Ctx, txn: Txn, attempt: u32) {
        let id = txn.id;
        if let Some(outcome) = self.announced.ended(id) {
            return self.reply(ctx, id, outcome);
        }
        if self.is_known(id) {
            return; // in progress: the reply comes when it ends
        }
        let participants = txn.participants();
        if self.recovered && attempt > 0 {
            // Possibly started before the crash, with no decision logged: abort it, telling
            // every participant (any of them may be prepared).
            let yes = participants.iter().copied().collect();
            self.active.insert(id, Active { participants, phase: Phase::Collecting { yes } });
            return self.decide(ctx, id, Outcome::Abort);
        }
        assert!(!participants.is_empty(), "{id} touches no participant");
        if self.config.execution_phase {
            return self.execute(ctx, txn, participants);
        }
        self.prepare(ctx, &txn, participants, None);
    }

    /// Execution phase: enlist every participant (WORK), prepare once all answered; a
    /// participant not answering in a round timeout aborts the transaction.
    fn execute(&mut self, ctx: &mut Ctx, txn: Txn, participants: Vec<NodeId>) {
        let id = txn.id;
        ctx.broadcast(participants.iter().copied(), Msg::Work { txn: id });
        ctx.set_timer(Duration::from_us(self.config.timing.round_timeout_us), Timer::Votes(id));
        let phase = Phase::Executing { txn, done: BTreeSet::new() };
        self.active.insert(id, Active { participants, phase });
    }

    fn on_work_done(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        let Some(a) = self.active.get_mut(&txn) else { return };
        let Phase::Executing { txn: t, done } = &mut a.phase else { return }; // a duplicate
        done.insert(from);
        if done.len() == a.participants.len() {
            let (t, participants) = (t.clone(), a.participants.clone());
            ctx.cancel_timer(Timer::Votes(txn));
            self.prepare(ctx, &t, participants, None);
        }
    }

    /// Aborts a transaction in its execution phase: nobody voted, so nobody is told (each
    /// enlisted participant aborts alone when PREPARE does not come).
    fn abort_unprepared(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let a = self.active.get_mut(&txn).expect("an active transaction");
        a.phase = Phase::Collecting { yes: BTreeSet::new() };
        self.decide(ctx, txn, Outcome::Abort);
    }

    /// Phase 1: Prepare to every participant but `prepared` (the initiating RM, in Gray &
    /// Lamport's shape, which prepared already), then collect votes until the timeout.
    fn prepare(
        &mut self,
        ctx: &mut Ctx,
        txn: &Txn,
        participants: Vec<NodeId>,
        prepared: Option<NodeId>,
    ) {
        let id = txn.id;
        let (to, sent) = ((&participants[..], prepared), Point::PrepareSent.name());
        send_prepares(ctx, txn, to, sent, |p, prepare| (p, Msg::Prepare(prepare)));
        ctx.set_timer(Duration::from_us(self.config.timing.round_timeout_us), Timer::Votes(id));
        self.active
            .insert(id, Active { participants, phase: Phase::Collecting { yes: BTreeSet::new() } });
    }

    /// Gray & Lamport's shape: the initiating RM prepared; prepare the others.
    fn on_initiator_prepared(&mut self, ctx: &mut Ctx, from: NodeId, txn: Txn) {
        let id = txn.id;
        if let Some(outcome) = self.announced.ended(id) {
            // Decided already (aborted on an inquiry, or a duplicate): the initiator is
            // prepared and needs the outcome.
            return ctx.send(from, Msg::Decision { txn: id, outcome });
        }
        if self.is_known(id) {
            return; // a duplicate
        }
        let participants = txn.participants();
        assert_eq!(participants.first(), Some(&from), "{id}: Prepared from a non-initiating RM");
        self.prepare(ctx, &txn, participants, Some(from));
        self.on_vote(ctx, from, id, Vote::Yes);
    }

    fn on_vote(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, vote: Vote) {
        if let Some(outcome) = self.announced.announcing(txn) {
            // A vote after the decision (abort on an earlier no, or a duplicate).
            if vote == Vote::Yes {
                if self.config.acknowledged(outcome) {
                    self.announced.await_late_voter(txn, from);
                }
                ctx.send(from, Msg::Decision { txn, outcome });
            }
            return;
        }
        let Some(a) = self.active.get_mut(&txn) else {
            // Ended or unknown: a late yes voter still needs the outcome.
            if vote == Vote::Yes {
                let outcome = match self.announced.ended(txn) {
                    Some(o) => o,
                    None if self.config.shape == Shape::GrayLamport => self.presume_abort(ctx, txn),
                    None => Outcome::Abort,
                };
                ctx.send(from, Msg::Decision { txn, outcome });
            }
            return;
        };
        assert!(a.participants.contains(&from), "{from} voted on {txn} but takes no part");
        match &mut a.phase {
            // A participant that aborted alone answers a late WORK with no.
            Phase::Executing { .. } => {
                if vote == Vote::No {
                    self.abort_unprepared(ctx, txn);
                }
            }
            Phase::Collecting { yes } => {
                let votes = (yes, &a.participants[..]);
                match tally(ctx, votes, (from, vote), Point::AllVotesIn.name()) {
                    Tally::Abort => self.decide(ctx, txn, Outcome::Abort),
                    Tally::AllYes => {
                        ctx.cancel_timer(Timer::Votes(txn));
                        self.decide(ctx, txn, Outcome::Commit);
                    }
                    Tally::Waiting => {}
                }
            }
        }
    }

    // ----- phase 2 -----------------------------------------------------------------------

    fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let a = self.active.remove(&txn).expect("deciding an active transaction");
        let Phase::Collecting { yes } = &a.phase else { unreachable!("{txn} decided twice") };
        // Commit goes to everyone; abort only to those who may be prepared (the yes voters
        // so far; later yes voters get it as their vote arrives, no-voters aborted already).
        let targets: Vec<NodeId> = match outcome {
            Outcome::Commit => a.participants.clone(),
            Outcome::Abort => yes.iter().copied().collect(),
        };
        let logged = self.config.logged(outcome);
        let acknowledged = self.config.acknowledged(outcome);
        let record = Record::Decision { txn, outcome, participants: a.participants.clone() };
        let unlogged = self.config.broken == Some(Broken2pc::UnloggedDecision);
        if logged && !unlogged {
            ctx.persist(record.clone());
            ctx.mark(Point::DecisionLogged.name());
        }
        ctx.observe(Observation::Decided { txn, outcome });
        send_marked(ctx, &targets, Msg::Decision { txn, outcome }, DECISION_SENT);
        if logged && unlogged {
            ctx.persist(record);
            ctx.mark(Point::DecisionLogged.name());
        }
        if acknowledged {
            let announce = (self.config.timing.resend, self.config.layout.client());
            self.announced.await_acks(ctx, txn, outcome, targets, announce);
        } else {
            // Presumed abort, or no acks at all (Gray & Lamport's shape): nothing to wait
            // for; finish at once. In that shape the initiating RM tells the client.
            self.announced.finish(txn, outcome);
            if self.config.shape == Shape::Classic {
                self.reply(ctx, txn, outcome);
            }
        }
    }

    /// A participant asks what was decided (it is uncertain, or recovering).
    fn on_decision_request(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        if self.active.contains_key(&txn) {
            return; // deciding soon
        }
        // No record: never committed (commit is logged first). Say abort, and stick to it
        // should the client ask again.
        let outcome = match self.announced.outcome(txn) {
            Some(o) => o,
            None => self.presume_abort(ctx, txn),
        };
        ctx.send(from, Msg::Decision { txn, outcome });
    }

    /// A transaction with no record here never committed (commit is logged first): it is
    /// aborted, and stays so should anyone ask again. In Gray & Lamport's shape the abort is
    /// forced first: the initiating RM's Prepared may still arrive (or arrive after a crash
    /// of ours), and must find it.
    fn presume_abort(&mut self, ctx: &mut Ctx, txn: TxnId) -> Outcome {
        if self.config.shape == Shape::GrayLamport {
            let participants = vec![];
            ctx.persist(Record::Decision { txn, outcome: Outcome::Abort, participants });
        }
        self.announced.finish(txn, Outcome::Abort);
        Outcome::Abort
    }
}

// Symmetry reduction (`explore --symmetry`, see `crate::explore::symmetric`).
sim_core::rename_enum!(Phase { Executing { txn, done }, Collecting { yes } });
sim_core::rename_struct!(Active { participants: sorted, phase });
sim_core::rename_struct!(Coordinator { config, active, announced, recovered });
