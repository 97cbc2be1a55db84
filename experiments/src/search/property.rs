//! The properties a search can target, by their command-line names, and how each is judged
//! on one run.

use checkers::{Property, Verdicts, Violation};
use protocols::RunReport;
use sim_core::FaultPlan;

use crate::error::Result;

/// What `commitlab check --property` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// AC1-AC4.
    Atomicity,
    NonBlocking,
    /// Quorum commit: a participant connected to a quorum of up processes decides.
    QuorumNonBlocking,
    /// AC5.
    Termination,
    Durability,
    Conservation,
    /// A saga's semantic atomicity (Garcia-Molina & Salem).
    SagaAtomicity,
    /// Replicated logs: at most one leader per term.
    ElectionSafety,
    /// Replicated logs: one entry per index on every replica, applied in order.
    StateMachineSafety,
    /// Replicated logs: the client's operations are linearizable.
    Linearizability,
    /// Replicated logs: leaders' logs that share an entry agree before it.
    LogMatching,
    /// Replicated logs: every committed entry is in every later leader's log.
    LeaderCompleteness,
    /// ZAB: primaries' broadcasts delivered in their order (local and global).
    PrimaryOrder,
    /// ZAB: every delivered transaction was broadcast.
    Integrity,
    /// ZAB: one delivery order for every process.
    TotalOrder,
}

impl Target {
    pub const ALL: [Target; 15] = [
        Target::Atomicity,
        Target::NonBlocking,
        Target::QuorumNonBlocking,
        Target::Termination,
        Target::Durability,
        Target::Conservation,
        Target::SagaAtomicity,
        Target::ElectionSafety,
        Target::StateMachineSafety,
        Target::Linearizability,
        Target::LogMatching,
        Target::LeaderCompleteness,
        Target::PrimaryOrder,
        Target::Integrity,
        Target::TotalOrder,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::Atomicity => "atomicity",
            Target::NonBlocking => "non-blocking",
            Target::QuorumNonBlocking => "quorum-non-blocking",
            Target::Termination => "termination",
            Target::Durability => "durability",
            Target::Conservation => "conservation",
            Target::SagaAtomicity => "saga-atomicity",
            Target::ElectionSafety => "election-safety",
            Target::StateMachineSafety => "state-machine-safety",
            Target::Linearizability => "linearizability",
            Target::LogMatching => "log-matching",
            Target::LeaderCompleteness => "leader-completeness",
            Target::PrimaryOrder => "primary-order",
            Target::Integrity => "integrity",
            Target::TotalOrder => "total-order",
        }
    }

    pub fn parse(s: &str) -> Result<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s).ok_or_else(|| {
            let known = Target::ALL.iter().map(|t| t.name());
            format!("--property: {}", protocols::family::unknown_name("property", s, known)).into()
        })
    }

    /// The checker properties this target stands for.
    pub fn properties(self) -> &'static [Property] {
        match self {
            Target::Atomicity => &[
                Property::Agreement,
                Property::Irreversibility,
                Property::CommitNeedsAllYes,
                Property::CommitWithoutFailures,
            ],
            Target::NonBlocking => &[Property::NonBlocking],
            Target::QuorumNonBlocking => &[Property::QuorumNonBlocking],
            Target::Termination => &[Property::Termination],
            Target::Durability => &[Property::Durability],
            Target::Conservation => &[Property::Conservation],
            Target::SagaAtomicity => &[Property::SagaAtomicity],
            Target::ElectionSafety => &[Property::ElectionSafety],
            Target::StateMachineSafety => &[Property::StateMachineSafety],
            Target::Linearizability => &[Property::Linearizability],
            Target::LogMatching => &[Property::LogMatching],
            Target::LeaderCompleteness => &[Property::LeaderCompleteness],
            Target::PrimaryOrder => &[Property::PrimaryOrder],
            Target::Integrity => &[Property::Integrity],
            Target::TotalOrder => &[Property::TotalOrder],
        }
    }

    /// The violations of this target in a checked run, as the checkers judge them: the
    /// one definition of every property (blocking included: a recovered node waiting for
    /// others is listed apart by the checkers, not filtered here), so `check`, `replay` and
    /// `run` agree. `report` and `plan` are what the run was judged on.
    pub fn violations(
        self,
        verdicts: &Verdicts,
        _report: &RunReport,
        _plan: &FaultPlan,
    ) -> Vec<Violation> {
        self.properties().iter().flat_map(|p| verdicts.get(*p).violations().to_vec()).collect()
    }
}
