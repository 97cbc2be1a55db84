//! # checkers: verdicts on a finished run
//!
//! Pure functions from a run's [`RunReport`] (its observations and the disks read back at the
//! end of the fault phase and at the end of the run) to verdicts, each violation with a
//! witness: the transaction and nodes involved, the decisions, and — through
//! [`Verdicts::witness`] and the run's trace — the slice of history that shows it, beside the
//! fault plan that produced it. Definitions follow Bernstein, Hadzilacos & Goodman ch. 7 (see
//! ../shared/DESIGN.md).
//!
//! Checkers never trust a protocol's own claims alone: agreement and irreversibility are
//! computed from every reported decision *and* every durable decision on every disk.
//!
//! Cost: building the per-transaction index is one pass over the observations and the disk
//! records (transaction ids are dense, so the index is a vector); each property then walks
//! each transaction's facts once. Checking is O(observations + disk records + nodes x
//! in-doubt transactions): linear in the history.

pub mod atomicity;
pub mod end_to_end;
pub mod exposure;
pub mod history;
pub mod liveness;
pub mod saga;
pub mod verdict;

use protocols::RunReport;
use sim_core::FaultPlan;

pub use exposure::{Exposure, exposure};
pub use history::History;
pub use saga::{AnomalyWindow, anomaly};
pub use verdict::{Property, Verdict, Verdicts, Violation, WaitingOn};

/// Every property's verdict on `report`, the run of `plan`.
pub fn check(report: &RunReport, plan: &FaultPlan) -> Verdicts {
    let h = History::build(report, &report.end);
    let verdicts = Property::ALL.iter().map(|&p| (p, check_one(&h, p))).collect();
    Verdicts { verdicts, plan: plan.clone() }
}

/// One property's verdict.
pub fn check_one(h: &History<'_>, p: Property) -> Verdict {
    if let Some(v) = saga::for_sagas(h, p) {
        return v;
    }
    match p {
        Property::Agreement => atomicity::agreement(h),
        Property::Irreversibility => atomicity::irreversibility(h),
        Property::CommitNeedsAllYes => atomicity::commit_needs_all_yes(h),
        Property::CommitWithoutFailures => atomicity::commit_without_failures(h),
        Property::Termination => liveness::termination(h),
        Property::NonBlocking => liveness::non_blocking(h),
        Property::Durability => end_to_end::durability(h),
        Property::Conservation => end_to_end::conservation(h),
        Property::SagaAtomicity => saga::saga_atomicity(h),
    }
}
