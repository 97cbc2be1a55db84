//! The participant's side of three-phase commit's normal path, as every 3PC family has it:
//! 3PC itself ([`crate::three_pc`]) and the quorum families ([`crate::quorum_commit`]:
//! Skeen's quorum-based 3PC and E3PC), which are 3PC with another termination protocol.
//!
//! What their participants do the same way is written here once, on the shared participant
//! ([`Voter`]): vote on CanCommit (and vote the same again when asked twice), force a
//! decision and settle it, abort alone a transaction never voted on, report what is in doubt
//! after a crash, and rebuild the transactions from the disk. They log the shared commit
//! records ([`CommitRecord`]) for all of it. Each family keeps its own per-transaction
//! state ([`ThreePhaseEntry`]), its messages, its timers and its termination protocol.

use sim_core::{Context, NodeId, Protocol};

use crate::commit_config::CommitConfig;
use crate::commit_record::{CommitRecord, CommitRecords};
use crate::prepare::Prepare;
use crate::shared::Shared;
use crate::txn::{Observation, Outcome, TxnId, Vote};
use crate::voter::Voter;

crate::crash_points! {
    /// A 3PC participant's crash points (normal path), the same in every 3PC family.
    pub enum Point {
        PreparedLogged, VotedYes, Precommitted, Decided
    }
}

/// A 3PC family's vocabulary, as the shared participant handlers speak it.
pub trait ThreePhase: Protocol<Obs = Observation, Record: CommitRecords> {
    /// A participant's vote on `txn`.
    fn vote(txn: TxnId, vote: Vote) -> Self::Msg;
}

/// What a 3PC family's participant keeps per transaction, as the shared handlers read it.
pub trait ThreePhaseEntry {
    /// A transaction among `participants`: decided (`Some(outcome)`) or uncertain (it voted
    /// yes); `recovered` when rebuilt from the disk after a crash rather than voted on now.
    fn new(participants: Vec<NodeId>, outcome: Option<Outcome>, recovered: bool) -> Self;
    /// Who takes part (empty for a transaction it decided without voting yes).
    fn participants(&self) -> &[NodeId];
    /// Its outcome, once decided.
    fn outcome(&self) -> Option<Outcome>;
    /// Decides `outcome`: any termination round it was in is over.
    fn decide(&mut self, outcome: Outcome);
    /// The coordinator asks for its vote again (a duplicated or restarted CanCommit).
    fn asked_again(&mut self, _coordinator: NodeId) {}
}

impl<C: CommitConfig, S: ThreePhaseEntry> Voter<C, S> {
    /// Participant `id` booted from `disk`: each transaction it decided, and each it is in
    /// doubt about (uncertain, among the participants its prepared record names).
    pub fn recover_three_phase<R: CommitRecords>(
        config: &Shared<C>,
        id: NodeId,
        disk: &[R],
    ) -> Self {
        let decided = |outcome| S::new(vec![], Some(outcome), true);
        let in_doubt = |r: &R| {
            let prepared = r.commit_record().and_then(CommitRecord::prepared_participants);
            S::new(prepared.expect("in doubt on a prepared record").to_vec(), None, true)
        };
        Voter::recover(config, id, disk, decided, in_doubt)
    }
}

impl<C, S: ThreePhaseEntry> Voter<C, S> {
    /// At start: reports each transaction it is in doubt about (it holds its locks again),
    /// then does what its family does about it (`follow_up`: ask, or wait for an election).
    pub fn start_in_doubt<P: Protocol<Obs = Observation>>(
        &mut self,
        ctx: &mut Context<'_, P>,
        mut follow_up: impl FnMut(&mut Self, &mut Context<'_, P>, TxnId),
    ) {
        for txn in self.in_doubt() {
            self.report_recovered_doubt(ctx, txn);
            follow_up(self, ctx, txn);
        }
    }

    /// CanCommit from `coordinator`: it votes (a yes forces its prepared record first) and,
    /// uncertain after a yes, arms `wait` (after this many µs, this timer) for the outcome.
    /// Asked again, it answers the same vote again: no unless it aborted.
    pub fn on_can_commit<P: ThreePhase>(
        &mut self,
        ctx: &mut Context<'_, P>,
        coordinator: NodeId,
        prepare: Prepare,
        (timeout_us, timer): (u64, impl FnOnce(TxnId) -> P::Timer),
    ) {
        let Prepare { txn, participants, writes } = prepare;
        if let Some(e) = self.txns.get_mut(&txn) {
            e.asked_again(coordinator);
            let vote = if e.outcome() == Some(Outcome::Abort) { Vote::No } else { Vote::Yes };
            return ctx.send(coordinator, P::vote(txn, vote));
        }
        let prepared = CommitRecord::Prepared { txn, participants: participants.clone(), writes };
        let marks = (Point::PreparedLogged.name(), Point::Decided.name());
        let vote = self.vote(ctx, prepared.into(), None, marks);
        let outcome = (vote == Vote::No).then_some(Outcome::Abort);
        self.txns.insert(txn, S::new(participants, outcome, false));
        ctx.send(coordinator, P::vote(txn, vote));
        if vote == Vote::Yes {
            let wait = (timeout_us, timer(txn));
            crate::vote::await_outcome(ctx, txn, Point::VotedYes.name(), wait);
        }
    }

    /// Forces the decision on `txn`, applies or drops its writes, releases its locks (its
    /// family then stops its own timers on it).
    pub fn force_decision<P: ThreePhase>(
        &mut self,
        ctx: &mut Context<'_, P>,
        txn: TxnId,
        outcome: Outcome,
    ) {
        let e = self.txns.get_mut(&txn).expect("deciding a known transaction");
        assert!(e.outcome().is_none(), "{txn} decided twice at {}", self.id);
        e.decide(outcome);
        let participants = e.participants().to_vec();
        ctx.persist(CommitRecord::Decision { txn, outcome, participants }.into());
        self.settle(ctx, txn, outcome, Point::Decided.name());
    }

    /// A transaction it never voted on: it aborts alone (BHG: a process that has not voted
    /// may; nobody can have pre-committed without its vote), durably, since a late CanCommit
    /// must be answered no.
    pub fn abort_unknown<P: ThreePhase>(&mut self, ctx: &mut Context<'_, P>, txn: TxnId) {
        self.txns.insert(txn, S::new(vec![], Some(Outcome::Abort), false));
        let abort = CommitRecord::Decision { txn, outcome: Outcome::Abort, participants: vec![] };
        crate::vote::abort_alone(ctx, abort.into(), Point::Decided.name());
    }

    /// The transactions it is in doubt about.
    pub fn in_doubt(&self) -> Vec<TxnId> {
        let open = |(t, e): (&TxnId, &S)| e.outcome().is_none().then_some(*t);
        self.txns.iter().filter_map(open).collect()
    }
}
