//! 3PC's termination protocol (BHG §7.4): what operational participants do when the
//! coordinator falls silent.
//!
//! 1. Election: each suspects the nodes that timed out on it and asks the lowest participant
//!    it does not suspect to act as backup (`Elect`); a participant that finds itself lowest
//!    becomes the backup. A silent backup is suspected in turn and the next one is asked.
//! 2. The backup collects the states of the operational participants (`StateReq`) and
//!    decides: any aborted → abort; any committed → commit; all uncertain → abort;
//!    otherwise pre-commit the uncertain ones, then commit.
//! 3. It forces its decision and sends it to every other participant, and acks the
//!    coordinator (should it be alive behind a cut link, it can end the transaction).
//!
//! Recovered participants are not operational: they neither answer nor lead a round (after
//! a total failure, [`super::recovery`] decides instead).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::NodeId;

use crate::decision::send_marked;

const BACKUP_PRECOMMIT_SENT: (&str, &str) =
    (BackupPoint::BackupPrecommitSentToFirst.name(), BackupPoint::BackupPrecommitSentToAll.name());
const BACKUP_DECISION_SENT: (&str, &str) =
    (BackupPoint::BackupDecisionSentToFirst.name(), BackupPoint::BackupDecisionSentToAll.name());
use super::participant::{Participant, State, TermRole, Termination};
use super::{Broken3pc, Ctx, Msg, TermState, Timer};
use crate::txn::{Observation, Outcome, TxnId};

crate::crash_points! {
    /// Crash points of the termination protocol (failure paths only).
    pub enum BackupPoint {
        BackupElected, Precommitted, BackupDecisionLogged, BackupPrecommitSentToFirst,
        BackupPrecommitSentToAll, BackupDecisionSentToFirst, BackupDecisionSentToAll
    }
}

impl Participant {
    pub(super) fn term_state(&self, txn: TxnId) -> TermState {
        match self.txns[&txn].state {
            State::Uncertain => TermState::Uncertain,
            State::Committable => TermState::Committable,
            State::Decided(Outcome::Commit) => TermState::Committed,
            State::Decided(Outcome::Abort) => TermState::Aborted,
        }
    }

    /// Whether this participant may take part in a termination round on `txn`.
    fn operational_in_doubt(&self, txn: TxnId) -> bool {
        self.txns.get(&txn).is_some_and(|e| {
            !e.recovered && matches!(e.state, State::Uncertain | State::Committable)
        })
    }

    pub(super) fn on_coordinator_silent(&mut self, ctx: &mut Ctx, txn: TxnId) {
        if !self.operational_in_doubt(txn) || self.txns[&txn].term.is_some() {
            return;
        }
        let coordinator = self.config.layout.coordinator();
        self.join_termination(ctx, txn, [coordinator]);
    }

    /// Enters (or widens) the termination round on `txn` with more suspects, then elects.
    fn join_termination(
        &mut self,
        ctx: &mut Ctx,
        txn: TxnId,
        suspects: impl IntoIterator<Item = NodeId>,
    ) {
        let id = self.id;
        let coordinator = self.config.layout.coordinator();
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        let term = e.term.get_or_insert_with(|| Termination {
            suspected: BTreeSet::from([coordinator]),
            role: TermRole::Follower { backup: id },
        });
        term.suspected.extend(suspects.into_iter().filter(|&s| s != id));
        ctx.cancel_timer(Timer::Coordinator(txn));
        self.elect(ctx, txn);
    }

    /// Follows the lowest unsuspected participant, or becomes the backup if that is us.
    fn elect(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let id = self.id;
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        let term = e.term.as_mut().expect("in a termination round");
        let candidate = e
            .participants
            .iter()
            .copied()
            .find(|p| !term.suspected.contains(p))
            .expect("this participant never suspects itself");
        if candidate != id {
            term.role = TermRole::Follower { backup: candidate };
            let suspected = term.suspected.iter().copied().collect();
            ctx.send(candidate, Msg::Elect { txn, suspected });
            self.wait_for(ctx, Timer::Backup(txn));
            return;
        }
        if !matches!(term.role, TermRole::Follower { .. }) {
            return; // already leading this round
        }
        ctx.mark(BackupPoint::BackupElected.name());
        let others: Vec<NodeId> = e
            .participants
            .iter()
            .copied()
            .filter(|&p| p != id && !term.suspected.contains(&p))
            .collect();
        term.role = TermRole::Collecting { reports: BTreeMap::new() };
        let own = self.term_state(txn);
        self.record_report(txn, id, own);
        ctx.broadcast(others, Msg::StateReq { txn });
        self.collect_timer(ctx, txn);
        self.resolve_if_complete(ctx, txn);
    }

    fn collect_timer(&self, ctx: &mut Ctx, txn: TxnId) {
        let after = sim_core::Duration::from_us(self.config.timing.round_timeout_us);
        ctx.set_timer(after, Timer::Collect(txn));
    }

    fn record_report(&mut self, txn: TxnId, from: NodeId, state: TermState) {
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        if let Some(Termination { role: TermRole::Collecting { reports }, .. }) = &mut e.term {
            reports.insert(from, state);
        }
    }

    pub(super) fn on_elect(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        suspected: Vec<NodeId>,
    ) {
        match self.txns.get(&txn).map(|e| (e.state, e.recovered)) {
            None => {
                self.abort_unknown(ctx, txn);
                ctx.send(from, Msg::Decision { txn, outcome: Outcome::Abort });
            }
            Some((State::Decided(outcome), _)) => ctx.send(from, Msg::Decision { txn, outcome }),
            Some((_, true)) => {} // recovered: not operational
            Some(_) => self.join_termination(ctx, txn, suspected),
        }
    }

    pub(super) fn on_state_req(&mut self, ctx: &mut Ctx, backup: NodeId, txn: TxnId) {
        if !self.txns.contains_key(&txn) {
            self.abort_unknown(ctx, txn);
        }
        let e = &self.txns[&txn];
        if e.recovered && !matches!(e.state, State::Decided(_)) {
            return;
        }
        if let Some(Termination {
            role: TermRole::Collecting { .. } | TermRole::PreCommitting { .. },
            ..
        }) = &e.term
            && self.id < backup
        {
            return; // we lead, being lower; the other will find out
        }
        let state = self.term_state(txn);
        ctx.send(backup, Msg::StateReport { txn, state });
        if self.operational_in_doubt(txn) {
            // A backup leads only once every lower participant is suspected.
            let lower: Vec<NodeId> =
                self.txns[&txn].participants.iter().copied().filter(|&p| p < backup).collect();
            self.join_termination(ctx, txn, lower);
        }
    }

    pub(super) fn on_state_report(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        state: TermState,
    ) {
        if !self.txns.contains_key(&txn) {
            return;
        }
        self.record_report(txn, from, state);
        self.resolve_if_complete(ctx, txn);
    }

    fn resolve_if_complete(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let e = &self.txns[&txn];
        let Some(Termination { role: TermRole::Collecting { reports }, suspected }) = &e.term
        else {
            return;
        };
        let live = e.participants.iter().filter(|p| !suspected.contains(p)).count();
        if reports.len() == live {
            self.resolve(ctx, txn);
        }
    }

    pub(super) fn on_collect_timeout(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let Some(e) = self.txns.get_mut(&txn) else { return };
        let Some(term) = &mut e.term else { return };
        match &term.role {
            TermRole::Collecting { reports } => {
                let silent: Vec<NodeId> =
                    e.participants.iter().copied().filter(|p| !reports.contains_key(p)).collect();
                term.suspected.extend(silent);
                self.resolve(ctx, txn);
            }
            // Missing acks are crashed participants: commit without them.
            TermRole::PreCommitting { .. } => self.backup_decide(ctx, txn, Outcome::Commit),
            TermRole::Follower { .. } => {}
        }
    }

    /// BHG's decision rule for a backup coordinator.
    fn resolve(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let e = &self.txns[&txn];
        let Some(Termination { role: TermRole::Collecting { reports }, .. }) = &e.term else {
            return;
        };
        let any = |s: TermState| reports.values().any(|&r| r == s);
        let uncertain: Vec<NodeId> =
            reports.iter().filter(|(_, s)| **s == TermState::Uncertain).map(|(p, _)| *p).collect();
        if any(TermState::Aborted) {
            return self.backup_decide(ctx, txn, Outcome::Abort);
        }
        if any(TermState::Committed) {
            return self.backup_decide(ctx, txn, Outcome::Commit);
        }
        if uncertain.len() == reports.len() {
            let outcome = match self.config.broken {
                Some(Broken3pc::AllUncertainCommit) => Outcome::Commit,
                None => Outcome::Abort,
            };
            return self.backup_decide(ctx, txn, outcome);
        }
        // Some committable, none decided: pre-commit the uncertain ones, then commit.
        let id = self.id;
        let e = self.txns.get_mut(&txn).expect("a known transaction");
        if e.state == State::Uncertain {
            e.state = State::Committable;
            ctx.observe(Observation::PreCommitted { txn });
            ctx.mark(BackupPoint::Precommitted.name());
        }
        let others: Vec<NodeId> = uncertain.into_iter().filter(|&p| p != id).collect();
        let term = e.term.as_mut().expect("in a termination round");
        term.role = TermRole::PreCommitting { awaiting: others.iter().copied().collect() };
        if others.is_empty() {
            return self.backup_decide(ctx, txn, Outcome::Commit);
        }
        send_marked(ctx, &others, Msg::PreCommit { txn }, BACKUP_PRECOMMIT_SENT);
        self.collect_timer(ctx, txn);
    }

    pub(super) fn on_backup_precommit_ack(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId) {
        let Some(e) = self.txns.get_mut(&txn) else { return };
        let Some(Termination { role: TermRole::PreCommitting { awaiting }, .. }) = &mut e.term
        else {
            return;
        };
        awaiting.remove(&from);
        if awaiting.is_empty() {
            self.backup_decide(ctx, txn, Outcome::Commit);
        }
    }

    fn backup_decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let others: Vec<NodeId> =
            self.txns[&txn].participants.iter().copied().filter(|&p| p != self.id).collect();
        self.decide(ctx, txn, outcome);
        ctx.mark(BackupPoint::BackupDecisionLogged.name());
        send_marked(ctx, &others, Msg::Decision { txn, outcome }, BACKUP_DECISION_SENT);
        self.ack_coordinator(ctx, txn);
    }

    pub(super) fn on_backup_silent(&mut self, ctx: &mut Ctx, txn: TxnId) {
        if !self.operational_in_doubt(txn) {
            return;
        }
        let Some(Termination { role: TermRole::Follower { backup }, .. }) = self.txns[&txn].term
        else {
            return;
        };
        self.join_termination(ctx, txn, [backup]);
    }
}
