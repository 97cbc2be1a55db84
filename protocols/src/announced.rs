//! What a 2PC or 3PC coordinator does once it has decided: announce the outcome until every
//! participant told of it acknowledges, then log the end, forget, and tell the client; and
//! keep the outcome of every ended transaction for late questions.
//!
//! Both coordinators log the same records ([`CommitRecord`]) and follow the same rules from
//! the decision on (BHG §7): a decision on disk without an end record is announced again
//! after a crash; the announcement is re-sent with backoff to whoever has not acknowledged;
//! the end record is forced before the client hears. Written once so the two cannot drift
//! apart; each coordinator keeps only its undecided phases.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Context, NodeId};

use crate::backoff::Backoff;
use crate::client::ClientWire;
use crate::commit_record::CommitRecord;
use crate::txn::{Observation, Outcome, TxnId};

/// A commit protocol whose coordinator announces outcomes this way: its decision message and
/// its re-send timer.
pub trait Announce: ClientWire<Record = CommitRecord> {
    fn decision(txn: TxnId, outcome: Outcome) -> Self::Msg;
    fn resend(txn: TxnId) -> Self::Timer;
}

/// `impl Announce` for a protocol whose decision message is `Decision { txn, outcome }` and
/// whose re-send timer is `Resend(txn)`: `announce_wire!(TwoPc, Msg, Timer);`, written by
/// [`commit_node!`](crate::commit_node)'s `record: announced`.
#[macro_export]
macro_rules! announce_wire {
    ($proto:ty, $msg:ident, $timer:ident) => {
        impl $crate::announced::Announce for $proto {
            fn decision(txn: $crate::txn::TxnId, outcome: $crate::txn::Outcome) -> $msg {
                $msg::Decision { txn, outcome }
            }
            fn resend(txn: $crate::txn::TxnId) -> $timer {
                $timer::Resend(txn)
            }
        }
    };
}

/// A decided transaction whose announcement is not acknowledged by everyone yet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Acking {
    outcome: Outcome,
    /// Told of the outcome, not yet acknowledged.
    awaiting: BTreeSet<NodeId>,
    /// Re-sends so far (the backoff's attempt number).
    attempts: u32,
}

/// A coordinator's decided transactions: those still announced, and those ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Announced {
    acking: BTreeMap<TxnId, Acking>,
    /// Outcomes of ended (and presumed) transactions, for late questions.
    finished: BTreeMap<TxnId, Outcome>,
}

impl Announced {
    /// Rebuilt from a coordinator's disk: a decision without an end record is announced
    /// again to every participant when `acknowledged` (otherwise nobody acknowledges, and it
    /// is simply known); an end record means finished.
    pub fn recover(disk: &[CommitRecord], acknowledged: bool) -> Announced {
        let mut a = Announced::default();
        for r in disk {
            match r {
                CommitRecord::Decision { txn, outcome, .. } if !acknowledged => {
                    a.finished.insert(*txn, *outcome);
                }
                CommitRecord::Decision { txn, outcome, participants } => {
                    let awaiting = participants.iter().copied().collect();
                    a.acking.insert(*txn, Acking { outcome: *outcome, awaiting, attempts: 0 });
                }
                CommitRecord::End { txn, outcome } => {
                    a.acking.remove(txn);
                    a.finished.insert(*txn, *outcome);
                }
                CommitRecord::Prepared { .. } => unreachable!("a coordinator never prepares"),
            }
        }
        a
    }

    /// After a recovery: every decision still unacknowledged is reported and announced again.
    pub fn announce_recovered<P: Announce>(&self, ctx: &mut Context<'_, P>, resend: Backoff) {
        for (&txn, a) in &self.acking {
            ctx.observe(Observation::Decided { txn, outcome: a.outcome });
            ctx.broadcast(a.awaiting.iter().copied(), P::decision(txn, a.outcome));
            arm(ctx, txn, resend, 0);
        }
    }

    /// The outcome of `txn`, if decided (announced or ended).
    pub fn outcome(&self, txn: TxnId) -> Option<Outcome> {
        self.acking.get(&txn).map(|a| a.outcome).or_else(|| self.finished.get(&txn).copied())
    }

    /// The outcome of `txn` if it is still being announced.
    pub fn announcing(&self, txn: TxnId) -> Option<Outcome> {
        self.acking.get(&txn).map(|a| a.outcome)
    }

    /// The outcome of `txn` if it ended (or was presumed).
    pub fn ended(&self, txn: TxnId) -> Option<Outcome> {
        self.finished.get(&txn).copied()
    }

    /// `txn` was decided and announced to `told`: wait for their acks (re-sending with
    /// `resend`), or end at once if nobody is to acknowledge.
    pub fn await_acks<P: Announce>(
        &mut self,
        ctx: &mut Context<'_, P>,
        txn: TxnId,
        outcome: Outcome,
        told: Vec<NodeId>,
        (resend, client): (Backoff, NodeId),
    ) {
        let awaiting: BTreeSet<NodeId> = told.into_iter().collect();
        let done = awaiting.is_empty();
        let previous = self.acking.insert(txn, Acking { outcome, awaiting, attempts: 0 });
        assert!(previous.is_none(), "{txn} decided twice");
        if done {
            self.end(ctx, txn, client);
        } else {
            arm(ctx, txn, resend, 0);
        }
    }

    /// A yes voter heard of after the decision was announced: it is told, and its ack awaited.
    pub fn await_late_voter(&mut self, txn: TxnId, voter: NodeId) {
        let a = self.acking.get_mut(&txn).expect("a transaction being announced");
        a.awaiting.insert(voter);
    }

    /// `from` acknowledged the outcome of `txn`; the last ack ends it.
    pub fn on_ack<P: Announce>(
        &mut self,
        ctx: &mut Context<'_, P>,
        from: NodeId,
        txn: TxnId,
        client: NodeId,
    ) {
        let Some(a) = self.acking.get_mut(&txn) else {
            return; // a duplicate ack, after the end
        };
        a.awaiting.remove(&from);
        if a.awaiting.is_empty() {
            self.end(ctx, txn, client);
        }
    }

    /// The acks of `txn` are late: announce again to whoever has not acknowledged.
    pub fn on_resend<P: Announce>(
        &mut self,
        ctx: &mut Context<'_, P>,
        txn: TxnId,
        resend: Backoff,
    ) {
        let Some(a) = self.acking.get_mut(&txn) else { return };
        a.attempts += 1;
        ctx.broadcast(a.awaiting.iter().copied(), P::decision(txn, a.outcome));
        arm(ctx, txn, resend, a.attempts);
    }

    /// `txn` ended with `outcome` without an end record (nothing to acknowledge, or
    /// presumed): only remembered, for late questions.
    pub fn finish(&mut self, txn: TxnId, outcome: Outcome) {
        self.finished.insert(txn, outcome);
    }

    /// Everyone acknowledged: log the end, forget, tell the client.
    fn end<P: Announce>(&mut self, ctx: &mut Context<'_, P>, txn: TxnId, client: NodeId) {
        let a = self.acking.remove(&txn).expect("ending a transaction being announced");
        ctx.cancel_timer(P::resend(txn));
        ctx.persist(CommitRecord::End { txn, outcome: a.outcome });
        self.finished.insert(txn, a.outcome);
        crate::decision::reply_to_client(ctx, client, txn, a.outcome);
    }
}

fn arm<P: Announce>(ctx: &mut Context<'_, P>, txn: TxnId, resend: Backoff, attempt: u32) {
    if let Some(after) = resend.delay(attempt) {
        ctx.set_timer(after, P::resend(txn));
    }
}

// Symmetry reduction (`explore --symmetry`): who is still to acknowledge.
sim_core::rename_struct!(Acking { outcome, awaiting, attempts });
sim_core::rename_struct!(Announced { acking, finished });
