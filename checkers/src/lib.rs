//! # checkers: verdicts on a history
//!
//! Pure functions from a run's history to verdicts, each violation with a witness: the
//! transaction and nodes involved, the decisions, and — through [`Verdicts::witness`] and the
//! run's trace — the slice of history that shows it, beside the fault plan that produced it.
//! Definitions follow Bernstein, Hadzilacos & Goodman ch. 7 (see ../shared/DESIGN.md).
//!
//! A [`History`] is fed one fact at a time ([`protocols::RunFact`]: observations, crashes
//! and recoveries, durable votes and decisions, failures, cut links, phase boundaries) and
//! indexed as it grows, so the same checkers judge a finished run ([`check`]), a run as it
//! grows, and one state of an exhaustive explorer's world. Every property reads only the
//! history, plus — for conservation alone — one value about the final world that no fact
//! carries ([`BankTotals`]: the money the participants' disks add up to). No checker reads a
//! live node: who is in doubt and who holds locks at an instant follow from the facts.
//!
//! Why a pure library: the dependency direction is `sim-core <- protocols <- checkers <-
//! experiments`. Checkers speak only the shared vocabulary of `protocols` (transactions,
//! votes, outcomes, observations, facts) and the engine's plain data (node ids, times, fault
//! plans), never a protocol's own types nor a running simulation; so any scheduler that can
//! say what happened — the time-ordered runner, an explorer, a replay — can be judged, and
//! a new protocol is judged the day it reports in the shared vocabulary.
//!
//! Checkers never trust a protocol's own claims alone: agreement and irreversibility are
//! computed from every reported decision *and* every durable decision on every disk.
//!
//! Cost: the history is indexed in amortised O(1) per fact (transaction ids are dense, so
//! the index is a flat vector); each property then walks each transaction's facts once.
//! Checking is O(facts + nodes): linear in the history.

pub mod atomicity;
pub mod consensus;
pub mod end_to_end;
pub mod exposure;
pub mod history;
pub mod inconclusive;
pub mod liveness;
pub mod packed;
mod prefetch;
pub mod quorum;
pub mod quorum_facts;
pub mod saga;
pub mod saga_facts;
pub mod verdict;

use protocols::RunReport;
use protocols::workload::Workload;
use sim_core::FaultPlan;

pub use exposure::{Exposure, exposure};
pub use history::History;
pub use saga::{AnomalyWindow, anomaly};
pub use verdict::{Property, Verdict, Verdicts, Violation, Waiting, WaitingOn};

/// The bank workload's money: the participants' initial total and what their disks add up
/// to at the end of the run (rebuilt from the disks as a recovering participant would). The
/// one thing conservation needs that no fact says; data about the final world, never a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BankTotals {
    pub initial: i64,
    pub at_end: i64,
}

impl BankTotals {
    /// The totals of `report`'s run, if it ran the bank workload (None: no total to keep).
    pub fn of(report: &RunReport) -> Option<BankTotals> {
        matches!(report.workload, Workload::Bank { .. }).then_some(BankTotals {
            initial: report.initial_total,
            at_end: report.end.applied_total,
        })
    }
}

/// Every property's verdict on `report`, the run of `plan`: its history
/// ([`History::from_report`]) judged by [`check_history`].
pub fn check(report: &RunReport, plan: &FaultPlan) -> Verdicts {
    check_history(&History::from_report(report), BankTotals::of(report), plan)
}

/// Every property's verdict on a history (`bank`: the bank workload's totals, if it ran).
pub fn check_history(h: &History, bank: Option<BankTotals>, plan: &FaultPlan) -> Verdicts {
    let verdicts = Property::ALL.iter().map(|&p| (p, check_one(h, bank, p))).collect();
    let waiting_after_recovery = liveness::waiting_after_recovery(h);
    let inconclusive = h.cut_short().map(|c| c.reason.clone());
    let conservation_not_judged = end_to_end::conservation_not_judged(h, bank);
    Verdicts {
        verdicts,
        inconclusive,
        conservation_not_judged,
        waiting_after_recovery,
        plan: plan.clone(),
    }
}

/// One property's verdict (inconclusive where a bound cut the run short before it could be
/// judged: [`inconclusive`]).
pub fn check_one(h: &History, bank: Option<BankTotals>, p: Property) -> Verdict {
    inconclusive::unless_cut_short(h, bank, p, judge(h, bank, p))
}

/// One property's verdict on the history as it stands.
fn judge(h: &History, bank: Option<BankTotals>, p: Property) -> Verdict {
    if let Some(v) = saga::for_sagas(h, bank, p) {
        return v;
    }
    if let Some(v) = consensus::for_consensus(h, p) {
        return v;
    }
    match p {
        Property::Agreement => atomicity::agreement(h),
        Property::Irreversibility => atomicity::irreversibility(h),
        Property::CommitNeedsAllYes => atomicity::commit_needs_all_yes(h),
        Property::CommitWithoutFailures => atomicity::commit_without_failures(h),
        Property::Termination => liveness::termination(h),
        Property::NonBlocking => liveness::non_blocking(h),
        Property::QuorumNonBlocking => quorum::quorum_non_blocking(h),
        Property::Durability => end_to_end::durability(h),
        Property::Conservation => end_to_end::conservation(h, bank),
        Property::SagaAtomicity => saga::saga_atomicity(h),
        Property::ElectionSafety
        | Property::StateMachineSafety
        | Property::Linearizability
        | Property::LogMatching
        | Property::LeaderCompleteness
        | Property::PrimaryOrder
        | Property::Integrity
        | Property::TotalOrder => Verdict::NotApplicable {
            reason: "only replicated logs elect leaders and apply logs".into(),
        },
        // The history exists, so the run finished: no handler panicked.
        Property::NoPanic => Verdict::Holds,
    }
}
