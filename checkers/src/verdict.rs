//! Verdicts and their witnesses.

use serde::{Deserialize, Serialize};
use sim_core::{FaultPlan, NodeId, Time};

use protocols::{Outcome, TxnId, TxnObserved};

/// A property a checker decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    /// AC1: all processes that decide reach the same decision.
    Agreement,
    /// AC2: a process never reverses its decision (across crash and recovery too).
    Irreversibility,
    /// AC3: commit is decided only if all processes voted yes.
    CommitNeedsAllYes,
    /// AC4: with no failures and all votes yes, the decision is commit.
    CommitWithoutFailures,
    /// AC5: once failures are repaired long enough, all processes decide.
    Termination,
    /// No operational participant that voted yes is left undecided by a failure.
    NonBlocking,
    /// Quorum commit (Keidar & Dolev): a participant connected to a quorum of up processes
    /// for longer than the protocol's timeout bound has decided (see `checkers::quorum`).
    QuorumNonBlocking,
    /// What the client was told is what every participant ends with.
    Durability,
    /// The bank total is unchanged once every transaction is decided and applied.
    Conservation,
    /// Every saga ends as T1..Tn or T1..Tj, Cj..C1, each step and compensation applied
    /// once, in order (Garcia-Molina & Salem; see `checkers::saga`).
    SagaAtomicity,
    /// At most one leader per term (ballot, epoch) of a replicated log.
    ElectionSafety,
    /// No two replicas apply different entries at one log index; each applies in index
    /// order, each entry once per life.
    StateMachineSafety,
    /// The key-value client's operations have a linearization (Herlihy & Wing).
    Linearizability,
    /// Two leaders' logs that share an entry (index and term) agree on all before it.
    LogMatching,
    /// Every entry committed before a leader's election is in its log.
    LeaderCompleteness,
    /// ZAB: a primary's broadcasts are delivered in its order (local), and an earlier
    /// primary's before a later one's (global).
    PrimaryOrder,
    /// ZAB: every delivered transaction was broadcast by a primary.
    Integrity,
    /// ZAB: every process delivers in one order: what one delivers before a transaction,
    /// any other delivers before it too.
    TotalOrder,
    /// No node's handler panicked: a protocol's own assertion firing is a finding, reported
    /// like any violation (a finished run holds it; a run that panicked has no history).
    NoPanic,
}

impl Property {
    pub const ALL: [Property; 19] = [
        Property::Agreement,
        Property::Irreversibility,
        Property::CommitNeedsAllYes,
        Property::CommitWithoutFailures,
        Property::Termination,
        Property::NonBlocking,
        Property::QuorumNonBlocking,
        Property::Durability,
        Property::Conservation,
        Property::SagaAtomicity,
        Property::ElectionSafety,
        Property::StateMachineSafety,
        Property::Linearizability,
        Property::LogMatching,
        Property::LeaderCompleteness,
        Property::PrimaryOrder,
        Property::Integrity,
        Property::TotalOrder,
        Property::NoPanic,
    ];

    /// The short name used on the command line and in CSV.
    pub fn name(self) -> &'static str {
        match self {
            Property::Agreement => "ac1-agreement",
            Property::Irreversibility => "ac2-irreversibility",
            Property::CommitNeedsAllYes => "ac3-commit-needs-all-yes",
            Property::CommitWithoutFailures => "ac4-commit-without-failures",
            Property::Termination => "ac5-termination",
            Property::NonBlocking => "non-blocking",
            Property::QuorumNonBlocking => "quorum-non-blocking",
            Property::Durability => "durability",
            Property::Conservation => "conservation",
            Property::SagaAtomicity => "saga-atomicity",
            Property::ElectionSafety => "election-safety",
            Property::StateMachineSafety => "state-machine-safety",
            Property::Linearizability => "linearizability",
            Property::LogMatching => "log-matching",
            Property::LeaderCompleteness => "leader-completeness",
            Property::PrimaryOrder => "primary-order",
            Property::Integrity => "integrity",
            Property::TotalOrder => "total-order",
            Property::NoPanic => "no-panic",
        }
    }

    /// A safety property: one that a run violates at a point in time, never by waiting —
    /// atomicity, durability, conservation and the consensus safety properties.
    pub fn is_safety(self) -> bool {
        self.is_atomicity()
            || matches!(
                self,
                Property::Durability
                    | Property::Conservation
                    | Property::ElectionSafety
                    | Property::StateMachineSafety
                    | Property::Linearizability
                    | Property::LogMatching
                    | Property::LeaderCompleteness
                    | Property::PrimaryOrder
                    | Property::Integrity
                    | Property::TotalOrder
            )
    }

    /// AC1–AC4, the safety half of atomic commitment, and a saga's semantic atomicity.
    pub fn is_atomicity(self) -> bool {
        matches!(
            self,
            Property::Agreement
                | Property::Irreversibility
                | Property::CommitNeedsAllYes
                | Property::CommitWithoutFailures
                | Property::SagaAtomicity
        )
    }
}

/// Why a node is blocked: the failures still in force when the fault phase ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingOn {
    pub down: Vec<NodeId>,
    /// Directed links that were cut.
    pub cut_links: Vec<(NodeId, NodeId)>,
}

/// A participant that crashed, recovered and waits in doubt for others at the end of the
/// fault phase: reported beside the non-blocking verdict, not as a violation of it (see
/// `checkers::liveness`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub node: NodeId,
    pub txn: TxnId,
    /// Since when it has been uncertain (after its recovery).
    pub since: Time,
    pub waiting_on: WaitingOn,
    /// One line a person can read.
    pub detail: String,
}

/// One violation of one property.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub property: Property,
    pub txn: Option<TxnId>,
    /// The nodes the violation is about (e.g. one that committed and one that aborted).
    pub nodes: Vec<NodeId>,
    /// One line a person can read.
    pub detail: String,
    /// For blocking: since when the node has been uncertain, and what it waits on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<WaitingOn>,
    /// The decisions involved, per node, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<(NodeId, Outcome)>,
}

/// Whether a property was checked on a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    Violated {
        violations: Vec<Violation>,
    },
    /// The property says nothing about this run (e.g. AC4 when failures happened).
    NotApplicable {
        reason: String,
    },
    /// A bound cut the run short before the point this property is judged at (the end of
    /// the fault phase, the end of the run): the run cannot say (see `checkers::inconclusive`).
    Inconclusive {
        reason: String,
    },
}

impl Verdict {
    pub fn from_violations(violations: Vec<Violation>) -> Verdict {
        if violations.is_empty() { Verdict::Holds } else { Verdict::Violated { violations } }
    }
    pub fn is_violated(&self) -> bool {
        matches!(self, Verdict::Violated { .. })
    }
    pub fn is_inconclusive(&self) -> bool {
        matches!(self, Verdict::Inconclusive { .. })
    }
    /// The status word of `run`'s summary and the README: `holds`, `violated`,
    /// `not-applicable` or `inconclusive`.
    pub fn status(&self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated { .. } => "violated",
            Verdict::NotApplicable { .. } => "not-applicable",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }
    pub fn violations(&self) -> &[Violation] {
        match self {
            Verdict::Violated { violations } => violations,
            _ => &[],
        }
    }
}

/// Every property's verdict on one run, with the evidence a reader needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdicts {
    pub verdicts: Vec<(Property, Verdict)>,
    /// Why a bound cut the run short (None: it ran its course); the properties that need a
    /// finished run are then `Inconclusive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<String>,
    /// Bank workload: the transactions conservation could not judge (outcome unknown, or
    /// held back by a failure still in force); the verdict covers every other one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conservation_not_judged: Vec<TxnId>,
    /// Recovered participants in doubt at the end of the fault phase: not blocked, listed.
    #[serde(default)]
    pub waiting_after_recovery: Vec<Waiting>,
    /// The fault plan of the run: with the seed, enough to replay it.
    pub plan: FaultPlan,
}

impl Verdicts {
    pub fn get(&self, p: Property) -> &Verdict {
        &self.verdicts.iter().find(|(q, _)| *q == p).expect("every property is checked").1
    }
    pub fn violated(&self) -> impl Iterator<Item = &Violation> {
        self.verdicts.iter().flat_map(|(_, v)| v.violations())
    }
    /// Observations of the transactions a violation concerns: the trace slice to read.
    pub fn witness<'a>(
        &self,
        v: &Violation,
        observations: &'a [TxnObserved],
    ) -> Vec<&'a TxnObserved> {
        observations.iter().filter(|o| Some(o.obs.txn()) == v.txn).collect()
    }
}
