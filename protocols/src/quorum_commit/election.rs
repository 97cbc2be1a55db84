//! Elections among connected processes, and what the elected coordinator does (Skeen's
//! recovery protocol; E3PC's Figure 4).
//!
//! 1. A participant in doubt that hears nothing for its election timeout (staggered by rank,
//!    so the lowest reachable one usually goes first) starts election `(r, self)`, `r` above
//!    every round it has seen, and asks every other participant to join (`StateReq`). It
//!    joins its own election (forced `Elected`).
//! 2. A process joins an election only if it outranks every election it joined
//!    (`last_elected`): it forces `Elected` and reports its state and `last_attempt`; it
//!    answers an older one with the election it joined (`Nack`), and a decided process
//!    answers with its decision. The processes that answer are those connected to the
//!    elected one: there is no membership service, only who replies within a round.
//! 3. Once every participant answered, or the round timed out, the elected coordinator
//!    applies its family's rule ([`super::Rule::step`]) to the reports: decide, attempt a
//!    pre-state (PreCommit or PreAbort to the reporters, then itself), or wait.
//! 4. An attempt decides once a commit quorum acked pre-commit or an abort quorum acked
//!    pre-abort; the decision is forced and sent to every participant and the first
//!    coordinator. A process refuses an attempt older than the election it joined.
//!
//! An election that is outranked (a Nack), short of acks, or blocked by the rule ends; its
//! leader waits one election timeout and tries again, so that processes that reconnect in the
//! meantime are counted (E3PC: a new election whenever the connected set changes).
//!
//! The paper's election is two exchanges (learn the highest `last_elected`, announce one
//! above it); here a leader numbers its election above what it has seen and a process that
//! joined a later one says so, as in Paxos: the same promise ("no attempt of an older
//! election is taken once a newer one is joined") in one exchange.

use std::collections::BTreeMap;

use sim_core::{Duration, NodeId};

use super::lead::{ElectionPoint, Lead, Phase};
use super::participant::Participant;
use super::{Ballot, Ctx, Msg, PreState, Record, Report, Step, Timer};
use crate::decision::send_marked;
use crate::txn::{Outcome, TxnId};

impl Participant {
    /// Step 1: the election timer fired on `txn`.
    pub(super) fn start_election(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let id = self.id;
        let Some(e) = self.txns.get_mut(&txn).filter(|e| e.in_doubt()) else { return };
        let round = e.last_elected.round.max(e.round_seen) + 1;
        if self.config.max_round.is_some_and(|max| round > max) {
            return; // the explorer's bound: no more elections (the timer is not re-armed)
        }
        let ballot = Ballot { round, node: id };
        e.last_elected = ballot;
        let own = e.report();
        let others: Vec<NodeId> = e.participants.iter().copied().filter(|&p| p != id).collect();
        e.lead = Some(Lead {
            ballot,
            phase: Phase::Collecting { reports: BTreeMap::from([(id, own)]) },
        });
        ctx.persist(Record::Elected { txn, ballot });
        ctx.mark(ElectionPoint::ElectionStarted.name());
        ctx.broadcast(others, Msg::StateReq { txn, ballot });
        let after = Duration::from_us(self.config.timing.round_timeout_us);
        ctx.set_timer(after, Timer::Collect(txn));
        self.resolve_if_all_in(ctx, txn);
    }

    /// Step 2: join `ballot` if it outranks every election joined so far.
    pub(super) fn on_state_req(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, ballot: Ballot) {
        if !self.txns.contains_key(&txn) {
            self.abort_unknown(ctx, txn);
        }
        let e = self.txns.get_mut(&txn).expect("known now");
        if let Some(outcome) = e.state.outcome() {
            return ctx.send(from, Msg::Decision { txn, outcome });
        }
        if ballot <= e.last_elected {
            let joined = e.last_elected;
            return ctx.send(from, Msg::Nack { txn, ballot, joined });
        }
        e.last_elected = ballot;
        e.lead = None;
        let report = e.report();
        ctx.cancel_timer(Timer::Collect(txn));
        ctx.persist(Record::Elected { txn, ballot });
        ctx.mark(ElectionPoint::ElectionJoined.name());
        ctx.send(from, Msg::StateReport { txn, ballot, report });
        self.wait(ctx, txn);
    }

    pub(super) fn on_state_report(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        ballot: Ballot,
        report: Report,
    ) {
        let Some(Lead { ballot: b, phase: Phase::Collecting { reports } }) =
            self.txns.get_mut(&txn).and_then(|e| e.lead.as_mut())
        else {
            return;
        };
        if *b == ballot {
            reports.insert(from, report);
            self.resolve_if_all_in(ctx, txn);
        }
    }

    fn resolve_if_all_in(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let e = &self.txns[&txn];
        if let Some(Lead { phase: Phase::Collecting { reports }, .. }) = &e.lead
            && reports.len() == e.participants.len()
        {
            self.resolve(ctx, txn);
        }
    }

    pub(super) fn on_collect_timeout(&mut self, ctx: &mut Ctx, txn: TxnId) {
        match self.txns.get(&txn).and_then(|e| e.lead.as_ref()).map(|l| &l.phase) {
            Some(Phase::Collecting { .. }) => self.resolve(ctx, txn),
            // Short of a quorum of acks: try again later.
            Some(Phase::Attempting { .. }) => self.step_down(ctx, txn),
            None => {}
        }
    }

    /// A process joined a later election than ours: ours is over.
    pub(super) fn on_nack(&mut self, ctx: &mut Ctx, txn: TxnId, ballot: Ballot, joined: Ballot) {
        let Some(e) = self.txns.get_mut(&txn) else { return };
        e.round_seen = e.round_seen.max(joined.round);
        if e.lead.as_ref().is_some_and(|l| l.ballot == ballot) {
            self.step_down(ctx, txn);
        }
    }

    fn step_down(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        e.lead = None;
        ctx.cancel_timer(Timer::Collect(txn));
        self.wait(ctx, txn);
    }

    /// Step 3: the family's rule over the reports.
    fn resolve(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let id = self.id;
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        let Some(Lead { ballot, phase: Phase::Collecting { reports } }) = &e.lead else { return };
        let ballot = *ballot;
        let reports: Vec<(NodeId, Report)> = reports.iter().map(|(n, r)| (*n, *r)).collect();
        match self.config.rule.step(&reports, &self.config.quorums) {
            Step::Decide(outcome) => self.decide_elected(ctx, txn, outcome),
            Step::Block => self.step_down(ctx, txn),
            Step::Attempt(pre) => {
                let e = self.txns.get_mut(&txn).expect("a known transaction");
                e.lead = Some(Lead { ballot, phase: Phase::Attempting { pre, acked: Vec::new() } });
                let others: Vec<NodeId> =
                    reports.iter().map(|(n, _)| *n).filter(|&n| n != id).collect();
                let (msg, sent) = match pre {
                    PreState::Pc => (
                        Msg::PreCommit { txn, ballot },
                        (
                            ElectionPoint::RecoveryPrecommitSentToFirst.name(),
                            ElectionPoint::RecoveryPrecommitSentToAll.name(),
                        ),
                    ),
                    PreState::Pa => (
                        Msg::PreAbort { txn, ballot },
                        (
                            ElectionPoint::RecoveryPreabortSentToFirst.name(),
                            ElectionPoint::RecoveryPreabortSentToAll.name(),
                        ),
                    ),
                };
                if !others.is_empty() {
                    send_marked(ctx, &others, msg, sent);
                }
                let after = Duration::from_us(self.config.timing.round_timeout_us);
                ctx.set_timer(after, Timer::Collect(txn));
                // The elected coordinator takes the attempt last: a crash between the sends
                // and its own step leaves the others moved and itself not.
                if self.take_attempt(ctx, txn, ballot, pre) {
                    self.on_pre_ack(ctx, id, txn, ballot);
                }
            }
        }
    }

    /// Step 4: an ack of our attempt.
    pub(super) fn on_pre_ack(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, ballot: Ballot) {
        let Some(Lead { ballot: b, phase: Phase::Attempting { pre, acked } }) =
            self.txns.get_mut(&txn).and_then(|e| e.lead.as_mut())
        else {
            return;
        };
        if *b != ballot || acked.contains(&from) {
            return;
        }
        acked.push(from);
        let pre = *pre;
        let quorums = &self.config.quorums;
        if quorums.weight(acked.iter().copied()) >= quorums.needed(pre) {
            let outcome = match pre {
                PreState::Pc => Outcome::Commit,
                PreState::Pa => Outcome::Abort,
            };
            self.decide_elected(ctx, txn, outcome);
        }
    }

    /// An elected coordinator's decision: forced, then sent to everyone else.
    fn decide_elected(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let id = self.id;
        let coordinator = self.config.layout.coordinator();
        let others: Vec<NodeId> = (self.txns[&txn].participants.iter().copied())
            .filter(|&p| p != id)
            .chain([coordinator])
            .collect();
        self.decide(ctx, txn, outcome);
        ctx.mark(ElectionPoint::RecoveryDecisionLogged.name());
        let sent = (
            ElectionPoint::RecoveryDecisionSentToFirst.name(),
            ElectionPoint::RecoveryDecisionSentToAll.name(),
        );
        send_marked(ctx, &others, Msg::Decision { txn, outcome }, sent);
    }
}
