//! Ballots above 0: the leader's side of Paxos, run for every instance of a transaction at
//! once. The TM runs it when ballot 0 stalls; the backup leaders (the transaction's RMs) run
//! it when an RM asks them for help. A node runs at most one ballot per transaction at a time.
//!
//! Phase 1: send 1a to all 2F + 1 acceptors; with F + 1 promises, propose per instance the
//! value of the highest ballot any of them accepted, or `Aborted` where none did. Phase 2:
//! send 2a to all acceptors; F + 1 phase 2b replies choose the values. A refusal (`Nack`)
//! or a timeout restarts with a higher round, at most `Backoff::max_attempts` times.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::NodeId;

use super::{Accepted, Ballot, Ctx, Msg, PaxosCommitConfig, Phase1a, Phase1b, Phase2a, Phase2b};
use super::{Timer, Value};
use crate::backoff::Backoff;
use crate::shared::Shared;
use crate::txn::{Outcome, TxnId};

crate::crash_points! {
    /// Crash points of a leader running a higher ballot (failure paths only).
    pub enum LeaderPoint {
        Phase1aSent, Phase2aSent
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// Phase 1: promises received so far, with what each acceptor had accepted.
    Promising { promises: BTreeMap<NodeId, Vec<(NodeId, Accepted)>> },
    /// Phase 2: the proposed values and who accepted them.
    Accepting { values: Vec<(NodeId, Value)>, accepted: BTreeSet<NodeId> },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Run {
    participants: Vec<NodeId>,
    ballot: Ballot,
    phase: Phase,
    attempts: u32,
}

/// What a message to a leader came to ([`Ballots::lead`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Led {
    /// A ballot chose every instance of the transaction: its outcome and participants.
    Chosen(TxnId, Outcome, Vec<NodeId>),
    /// A `Help` started a ballot for the transaction.
    Started(TxnId),
    /// Nothing for the caller to do.
    Nothing,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ballots {
    me: NodeId,
    incarnation: u32,
    acceptors: Vec<NodeId>,
    quorum: usize,
    retry: Backoff,
    /// Highest round seen anywhere (own or refused), so the next ballot is above it.
    max_round: u32,
    runs: BTreeMap<TxnId, Run>,
}

impl Ballots {
    pub fn new(config: &Shared<PaxosCommitConfig>, me: NodeId, incarnation: u32) -> Ballots {
        // A ballot needs two round trips; wait for both plus slack before retrying.
        let d = config.timing.latency_bound_us;
        Ballots {
            me,
            incarnation,
            acceptors: config.acceptors(),
            quorum: config.quorum(),
            // As many ballots as the inquiry loop has rounds (the explorer bounds both).
            retry: Backoff {
                max_attempts: config.timing.inquiry.max_attempts,
                ..Backoff::new(5 * d, 40 * d)
            },
            max_round: 0,
            runs: BTreeMap::new(),
        }
    }

    pub fn running(&self, txn: TxnId) -> bool {
        self.runs.contains_key(&txn)
    }

    /// Starts a ballot for `txn` above every ballot this node has seen.
    pub fn start(&mut self, ctx: &mut Ctx, txn: TxnId, participants: Vec<NodeId>) {
        let attempts = self.runs.get(&txn).map_or(0, |r| r.attempts + 1);
        let Some(after) = self.retry.delay(attempts) else {
            self.runs.remove(&txn); // retry budget spent: give up (a later Help restarts)
            return;
        };
        self.max_round += 1;
        let ballot =
            Ballot { round: self.max_round, incarnation: self.incarnation, leader: self.me.0 };
        let msg = Msg::Phase1a(Phase1a { txn, ballot, participants: participants.clone() });
        ctx.broadcast(self.acceptors.clone(), msg);
        ctx.mark(LeaderPoint::Phase1aSent.name());
        ctx.set_timer(after, Timer::Ballot(txn));
        let phase = Phase::Promising { promises: BTreeMap::new() };
        self.runs.insert(txn, Run { participants, ballot, phase, attempts });
    }

    /// A message to this node as a leader, the same at the TM and at an RM: an RM's `Help`
    /// with `txn` (answered with the outcome when `decided` knows it, else a ballot is started
    /// unless one runs), or a phase 1b, phase 2b or nack of a ballot above 0 it leads. Ballot
    /// 0's phase 2b and everything else is the caller's.
    pub fn lead(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        msg: Msg,
        decided: impl FnOnce(TxnId) -> Option<Outcome>,
    ) -> Led {
        match msg {
            Msg::Help { txn, participants } => {
                if let Some(outcome) = decided(txn) {
                    ctx.send(from, Msg::Outcome { txn, outcome });
                    return Led::Nothing;
                }
                if self.running(txn) {
                    return Led::Nothing;
                }
                self.start(ctx, txn, participants);
                Led::Started(txn)
            }
            Msg::Phase2b(Phase2b { txn, ballot, .. }) => {
                match self.on_phase2b(ctx, from, txn, ballot) {
                    Some((outcome, participants)) => Led::Chosen(txn, outcome, participants),
                    None => Led::Nothing,
                }
            }
            Msg::Phase1b(p1b) => {
                self.on_phase1b(ctx, from, p1b);
                Led::Nothing
            }
            Msg::Nack { txn, ballot, promised } => {
                self.max_round = self.max_round.max(promised.round);
                if self.runs.get(&txn).is_some_and(|r| r.ballot == ballot) {
                    self.restart(ctx, txn);
                }
                Led::Nothing
            }
            other => unreachable!("{} (a ballot leader) got {other:?}", self.me),
        }
    }

    /// The ballot timer fired: retry higher if still running.
    pub fn on_timer(&mut self, ctx: &mut Ctx, txn: TxnId) {
        self.restart(ctx, txn);
    }

    /// Starts the run on `txn`, if any, again with a higher ballot (after a timeout, or an
    /// acceptor's promise of a higher ballot: retry above it).
    fn restart(&mut self, ctx: &mut Ctx, txn: TxnId) {
        if let Some(r) = self.runs.get(&txn) {
            let participants = r.participants.clone();
            self.start(ctx, txn, participants);
        }
    }

    fn on_phase1b(&mut self, ctx: &mut Ctx, from: NodeId, p1b: Phase1b) {
        let Phase1b { txn, ballot, accepted } = p1b;
        let Some(r) = self.runs.get_mut(&txn) else { return };
        let Phase::Promising { promises } = &mut r.phase else { return };
        if r.ballot != ballot {
            return; // a late answer to an earlier ballot
        }
        promises.insert(from, accepted);
        if promises.len() < self.quorum {
            return;
        }
        // Per instance: the value of the highest ballot reported, else Aborted.
        let values: Vec<(NodeId, Value)> = r
            .participants
            .iter()
            .map(|&rm| {
                let best = promises
                    .values()
                    .filter_map(|acc| acc.iter().find(|(i, _)| *i == rm).and_then(|(_, a)| *a))
                    .max_by_key(|(b, _)| *b);
                (rm, best.map_or(Value::Aborted, |(_, v)| v))
            })
            .collect();
        let participants = r.participants.clone();
        let msg = Msg::Phase2a(Phase2a { txn, ballot, participants, values: values.clone() });
        ctx.broadcast(self.acceptors.clone(), msg);
        ctx.mark(LeaderPoint::Phase2aSent.name());
        r.phase = Phase::Accepting { values, accepted: BTreeSet::new() };
    }

    /// A phase 2b for one of this node's ballots; returns the outcome once F + 1 acceptors
    /// accepted (the run is then over).
    fn on_phase2b(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        ballot: Ballot,
    ) -> Option<(Outcome, Vec<NodeId>)> {
        let r = self.runs.get_mut(&txn)?;
        let Phase::Accepting { values, accepted } = &mut r.phase else { return None };
        if r.ballot != ballot {
            return None;
        }
        accepted.insert(from);
        if accepted.len() < self.quorum {
            return None;
        }
        let outcome = super::outcome_of(values);
        let run = self.runs.remove(&txn).expect("the run just completed");
        ctx.cancel_timer(Timer::Ballot(txn));
        Some((outcome, run.participants))
    }
}
