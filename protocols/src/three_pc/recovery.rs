//! 3PC recovery after a total failure (Skeen 1981, 1983; BHG §7.4, "total failure").
//!
//! The termination protocol ([`super::termination`]) is run by *operational* participants;
//! a recovered process in doubt may not decide alone, since the operational ones may have
//! decided anything meanwhile. When every process failed, nobody is operational, and asking
//! alone would go on forever. The rule implemented here is BHG's first one: **once every
//! process, the coordinator and all participants, is known to be up after a recovery and
//! none has decided, the termination rule decides with everyone's state**. (Skeen's
//! equivalent rule, wait for the last process to fail, needs each process to know the order
//! of failures; knowing that all are back needs nothing but their answers.)
//!
//! A recovered participant in doubt asks every other process (its `DecisionRequest` loop).
//! A process that decided answers the outcome and the asker adopts it. A process that
//! recovered and has not decided answers [`Msg::RecoveredState`] with its durable state: a
//! participant reports uncertain (pre-commit is not logged, so it does not survive a crash),
//! the coordinator with no decision record reports uncertain too. A process still
//! operational on the transaction stays silent: its own termination round will decide and
//! it answers then. Once the asker holds a report from every other process it applies the
//! backup's rule (any aborted → abort; any committed or committable → commit; all uncertain
//! → abort), forces the decision, sends it to the other participants and acks the
//! coordinator.
//!
//! Why it is safe, under any number of further failures: every decision anyone makes is
//! forced before it is sent, so a process that decided says so in every later answer.
//! Operational processes never report, so the asker hears from everyone only once each of
//! them had crashed after the transaction began and came back undecided; a recovered
//! participant never becomes committable (it ignores PreCommit), so from then on nobody
//! decides but by this rule or by adopting a decision. All such reports say uncertain, so
//! every application of the rule gives abort, or adopts a decision reported as made. One
//! report can go stale: a recovered coordinator restarted by a duplicated client request
//! runs the transaction again and could commit it with every participant's yes; a
//! participant drops the coordinator's report when it gets its CanCommit, before voting,
//! so either it fired the rule first (and votes no) or it waits for the coordinator.

use sim_core::NodeId;

use super::participant::{Participant, State};
use super::{Ctx, Msg, TermState};
use crate::txn::{Outcome, TxnId};

impl Participant {
    /// Whether `txn` is in doubt here and this participant recovered since it voted.
    pub(super) fn recovered_in_doubt(&self, txn: TxnId) -> bool {
        self.txns.get(&txn).is_some_and(|e| e.recovered && !matches!(e.state, State::Decided(_)))
    }

    /// Another process recovered undecided on `txn` and says so, with its state.
    pub(super) fn on_recovered_state(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        state: TermState,
    ) {
        if !self.recovered_in_doubt(txn) {
            return; // operational (it terminates by its own round) or decided already
        }
        let coordinator = self.config.layout.coordinator();
        let id = self.id;
        let e = self.txns.get_mut(&txn).expect("in doubt");
        e.recovered_reports.insert(from, state);
        let everyone_else =
            std::iter::once(coordinator).chain(e.participants.iter().copied()).filter(|&p| p != id);
        if everyone_else.clone().all(|p| e.recovered_reports.contains_key(&p)) {
            let own = self.term_state(txn);
            let reports = &self.txns[&txn].recovered_reports;
            let outcome = total_failure_rule(reports.values().copied().chain([own]));
            let others: Vec<NodeId> =
                self.txns[&txn].participants.iter().copied().filter(|&p| p != id).collect();
            self.decide(ctx, txn, outcome);
            ctx.broadcast(others, Msg::Decision { txn, outcome });
            self.ack_coordinator(ctx, txn);
        }
    }
}

/// The backup's decision rule over every process's state (BHG §7.4), for the total-failure
/// case: no pre-commit round is needed, since nobody is operational to be left uncertain.
fn total_failure_rule(states: impl Iterator<Item = TermState> + Clone) -> Outcome {
    let any = |s: TermState| states.clone().any(|r| r == s);
    if any(TermState::Aborted) {
        Outcome::Abort
    } else if any(TermState::Committed) || any(TermState::Committable) {
        Outcome::Commit
    } else {
        Outcome::Abort
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TermState::*;

    #[test]
    fn the_rule_aborts_unless_someone_committed_or_could_have() {
        let rule = |s: &[TermState]| total_failure_rule(s.iter().copied());
        assert_eq!(rule(&[Uncertain, Uncertain, Uncertain]), Outcome::Abort);
        assert_eq!(rule(&[Uncertain, Committable]), Outcome::Commit);
        assert_eq!(rule(&[Uncertain, Committed]), Outcome::Commit);
        assert_eq!(rule(&[Committable, Aborted]), Outcome::Abort);
    }
}
