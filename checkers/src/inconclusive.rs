//! Runs cut short: a run a bound stopped (its event budget, the event queue's bound) is
//! inconclusive, never judged as if it had finished.
//!
//! Why a verdict survives the cut or not follows from where each property is judged:
//!
//! - **Safety** (AC1–AC4, saga atomicity, no-panic) speaks of what happened: a violation seen
//!   before the cut is real, and "holds" means it held over everything that ran. These keep
//!   their verdicts.
//! - **What needs a finished run** — termination (after the liveness phase), durability and
//!   conservation (at the end) — is inconclusive: an undecided participant or a total that
//!   is off may only be waiting for events the run never processed.
//! - **Non-blocking** is judged at the end of the fault phase: inconclusive when the fault
//!   phase was cut, kept when only the liveness phase was.
//!
//! A property that does not apply to the run whatever its length stays not-applicable
//! (durability on a saga run, conservation without the bank workload); termination and
//! durability, which a cut fault phase leaves without their liveness phase, are inconclusive
//! whenever the run was cut.

use crate::BankTotals;
use crate::history::History;
use crate::verdict::{Property, Verdict};

/// `verdict`, `p`'s judgement of `h` (`bank`: the bank workload's totals, if it ran), as it
/// stands once the cut (if any) is accounted for.
pub fn unless_cut_short(
    h: &History,
    bank: Option<BankTotals>,
    p: Property,
    verdict: Verdict,
) -> Verdict {
    let Some(cut) = h.cut_short() else { return verdict };
    let needs_the_end = match p {
        Property::Termination => true,
        Property::Durability => !h.is_saga_run(),
        Property::Conservation => bank.is_some(),
        Property::NonBlocking | Property::QuorumNonBlocking => {
            cut.in_fault_phase && !is_not_applicable(&verdict)
        }
        Property::Agreement
        | Property::Irreversibility
        | Property::CommitNeedsAllYes
        | Property::CommitWithoutFailures
        | Property::SagaAtomicity
        | Property::ElectionSafety
        | Property::StateMachineSafety
        | Property::LogMatching
        | Property::LeaderCompleteness
        | Property::PrimaryOrder
        | Property::Integrity
        | Property::TotalOrder
        // Operations a cut left pending may or may not have taken effect: still judged.
        | Property::Linearizability
        | Property::NoPanic => false,
    };
    if needs_the_end { Verdict::Inconclusive { reason: cut.reason.clone() } } else { verdict }
}

fn is_not_applicable(v: &Verdict) -> bool {
    matches!(v, Verdict::NotApplicable { .. })
}
