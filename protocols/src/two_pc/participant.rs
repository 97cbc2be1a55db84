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

use std::collections::BTreeMap;

use sim_core::rng::Chance;
use sim_core::{Boot, Context, Duration, NodeId};

use super::{Broken2pc, Msg, Record, Timer, TwoPc, TwoPcConfig};
use crate::durable::replay;
use crate::store::Store;
use crate::txn::{Key, Layout, Observation, Outcome, TxnId, Vote, Write};

enum State {
    /// Voted yes (or found prepared at recovery); `asked` counts termination rounds.
    Uncertain {
        participants: Vec<NodeId>,
        asked: u32,
    },
    Decided(Outcome),
}

pub struct Participant {
    id: NodeId,
    config: TwoPcConfig,
    no_vote: Chance,
    store: Store,
    txns: BTreeMap<TxnId, State>,
}

impl Participant {
    pub fn new(config: &TwoPcConfig, id: NodeId, boot: Boot<'_, Record>) -> Participant {
        let workload = &config.client.workload;
        let disk = boot.disk();
        let r = replay(workload.initial_values(id), workload.allows_negative(), disk);
        let mut txns: BTreeMap<TxnId, State> =
            r.decided.into_iter().map(|(t, o)| (t, State::Decided(o))).collect();
        for (txn, index) in r.in_doubt {
            let Record::Prepared { participants, .. } = &disk[index] else { unreachable!() };
            txns.insert(txn, State::Uncertain { participants: participants.clone(), asked: 0 });
        }
        Participant {
            id,
            config: config.clone(),
            no_vote: config.votes.chance(id),
            store: r.store,
            txns,
        }
    }

    pub fn on_start(&mut self, ctx: &mut Context<'_, TwoPc>) {
        // After a recovery: still in doubt, locks re-taken; ask at once.
        let in_doubt: Vec<TxnId> = self.in_doubt();
        for txn in in_doubt {
            let keys = self.store.locks().values().filter(|&&t| t == txn).count() as u32;
            ctx.observe(Observation::LocksAcquired { txn, keys });
            ctx.observe(Observation::Uncertain { txn });
            self.inquire(ctx, txn);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Context<'_, TwoPc>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Prepare { txn, participants, writes } => {
                self.on_prepare(ctx, from, txn, participants, writes)
            }
            Msg::Decision { txn, outcome } => self.on_decision(ctx, from, txn, outcome),
            Msg::DecisionRequest { txn } => self.on_decision_request(ctx, from, txn),
            other => unreachable!("a 2PC participant got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Context<'_, TwoPc>, timer: Timer) {
        let Timer::Inquire(txn) = timer else { unreachable!("a 2PC participant got {timer:?}") };
        if !matches!(self.txns.get(&txn), Some(State::Uncertain { .. })) {
            return;
        }
        if self.config.broken == Some(Broken2pc::UnilateralAbort) {
            // The textbook mistake: an uncertain participant may not abort on its own.
            return self.decide(ctx, txn, Outcome::Abort, None);
        }
        self.inquire(ctx, txn);
    }

    fn on_prepare(
        &mut self,
        ctx: &mut Context<'_, TwoPc>,
        coordinator: NodeId,
        txn: TxnId,
        participants: Vec<NodeId>,
        writes: Vec<Write>,
    ) {
        assert!(writes.iter().all(|w| w.node == self.id), "{txn}: writes for another node");
        match self.txns.get(&txn) {
            Some(State::Uncertain { .. }) => {
                return ctx.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
            }
            Some(State::Decided(Outcome::Abort)) => {
                return ctx.send(coordinator, Msg::Vote { txn, vote: Vote::No });
            }
            Some(State::Decided(Outcome::Commit)) => return, // a stale duplicate
            None => {}
        }
        if self.store.prepare(txn, &writes, self.no_vote, ctx.rng()).is_err() {
            // No vote: abort unilaterally, nothing to log (no record means abort).
            self.txns.insert(txn, State::Decided(Outcome::Abort));
            ctx.observe(Observation::Voted { txn, vote: Vote::No });
            ctx.observe(Observation::Decided { txn, outcome: Outcome::Abort });
            ctx.mark("decided");
            return ctx.send(coordinator, Msg::Vote { txn, vote: Vote::No });
        }
        let keys = writes.len() as u32;
        ctx.persist(Record::Prepared { txn, participants: participants.clone(), writes });
        ctx.mark("prepared-logged");
        ctx.observe(Observation::LocksAcquired { txn, keys });
        ctx.observe(Observation::Voted { txn, vote: Vote::Yes });
        ctx.send(coordinator, Msg::Vote { txn, vote: Vote::Yes });
        ctx.mark("voted-yes");
        ctx.observe(Observation::Uncertain { txn });
        let timeout = Duration::from_us(self.config.timing.participant_timeout_us);
        ctx.set_timer(timeout, Timer::Inquire(txn));
        self.txns.insert(txn, State::Uncertain { participants, asked: 0 });
    }

    fn on_decision(
        &mut self,
        ctx: &mut Context<'_, TwoPc>,
        from: NodeId,
        txn: TxnId,
        outcome: Outcome,
    ) {
        let from_coordinator = from == Layout::COORDINATOR;
        match self.txns.get(&txn) {
            Some(State::Uncertain { .. }) => {
                let ack_to = from_coordinator.then_some(from);
                self.decide(ctx, txn, outcome, ack_to)
            }
            // Already decided (a re-send: our ack was lost), or never prepared (an abort
            // re-sent to every participant after a coordinator recovery): just acknowledge.
            Some(State::Decided(_)) | None => {
                if from_coordinator && self.config.acknowledged(outcome) {
                    ctx.send(from, Msg::Ack { txn });
                }
            }
        }
    }

    /// Leaves the uncertain state: force the decision (unless presumed abort spares it),
    /// apply or drop the writes, release the locks, acknowledge.
    fn decide(
        &mut self,
        ctx: &mut Context<'_, TwoPc>,
        txn: TxnId,
        outcome: Outcome,
        ack_to: Option<NodeId>,
    ) {
        let Some(State::Uncertain { participants, .. }) =
            self.txns.insert(txn, State::Decided(outcome))
        else {
            unreachable!("{txn} decided twice at {}", self.id)
        };
        let acknowledged = self.config.acknowledged(outcome);
        if acknowledged {
            ctx.persist(Record::Decision { txn, outcome, participants });
        }
        match outcome {
            Outcome::Commit => {
                assert!(self.store.commit(txn), "{txn} committed without its writes");
                ctx.observe(Observation::Applied { txn });
            }
            Outcome::Abort => assert!(self.store.abort(txn), "{txn} held no locks"),
        }
        ctx.observe(Observation::LocksReleased { txn });
        ctx.observe(Observation::Decided { txn, outcome });
        ctx.mark("decided");
        ctx.cancel_timer(Timer::Inquire(txn));
        if let Some(c) = ack_to
            && acknowledged
        {
            ctx.send(c, Msg::Ack { txn });
        }
    }

    /// One round of the termination protocol: ask the coordinator, and the other
    /// participants if cooperative; ask again later (bounded backoff).
    fn inquire(&mut self, ctx: &mut Context<'_, TwoPc>, txn: TxnId) {
        let Some(State::Uncertain { participants, asked }) = self.txns.get_mut(&txn) else {
            return;
        };
        ctx.send(Layout::COORDINATOR, Msg::DecisionRequest { txn });
        if self.config.cooperative_termination {
            let peers = participants.iter().copied().filter(|&p| p != self.id);
            ctx.broadcast(peers, Msg::DecisionRequest { txn });
        }
        if let Some(after) = self.config.timing.inquiry.delay(*asked) {
            ctx.set_timer(after, Timer::Inquire(txn));
        }
        *asked += 1;
    }

    fn on_decision_request(&mut self, ctx: &mut Context<'_, TwoPc>, from: NodeId, txn: TxnId) {
        match self.txns.get(&txn) {
            Some(State::Decided(outcome)) => {
                ctx.send(from, Msg::Decision { txn, outcome: *outcome });
            }
            Some(State::Uncertain { .. }) => {} // knows no more than the asker
            None => {
                // Not voted yet (the PREPARE is late or lost): abort unilaterally, durably,
                // since a later PREPARE must be answered no.
                self.txns.insert(txn, State::Decided(Outcome::Abort));
                ctx.persist(Record::Decision {
                    txn,
                    outcome: Outcome::Abort,
                    participants: vec![],
                });
                ctx.observe(Observation::Decided { txn, outcome: Outcome::Abort });
                ctx.mark("decided");
                ctx.send(from, Msg::Decision { txn, outcome: Outcome::Abort });
            }
        }
    }

    // ----- inspection (checkers, tests) -----------------------------------------------------

    /// Transactions this participant voted yes on and has not decided.
    pub fn in_doubt(&self) -> Vec<TxnId> {
        let uncertain =
            |(t, s): (&TxnId, &State)| matches!(s, State::Uncertain { .. }).then_some(*t);
        self.txns.iter().filter_map(uncertain).collect()
    }
    pub fn locks(&self) -> &BTreeMap<Key, TxnId> {
        self.store.locks()
    }
    pub fn values(&self) -> &BTreeMap<Key, i64> {
        self.store.values()
    }
    pub fn decided(&self, txn: TxnId) -> Option<Outcome> {
        match self.txns.get(&txn) {
            Some(State::Decided(o)) => Some(*o),
            _ => None,
        }
    }
}
