//! The protocols by name: what studies, property tests and the CLI select from.
//!
//! The catalog is a list of families ([`FAMILIES`]); a protocol name is one variant of one
//! family. Nothing here names a protocol's types: a new protocol is its module plus one line
//! in [`FAMILIES`]. Broken variants are listed after the correct ones, so that a study over
//! "the correct protocols" can never pick one up by accident.

use std::sync::OnceLock;

use crate::family::{Family, Roles, SettingsView, VariantSpec, unknown_name};
use crate::scenario::{RunOutcome, Scenario, ScenarioError};
use crate::workload::Workload;

/// Every protocol family, in the order studies and tables list them.
pub const FAMILIES: &[Family] = &[
    crate::two_pc::FAMILY,
    crate::three_pc::FAMILY,
    crate::quorum_3pc::FAMILY,
    crate::e3pc::FAMILY,
    crate::paxos_commit::FAMILY,
    crate::replicated_2pc::FAMILY,
    crate::saga::orchestration::FAMILY,
    crate::saga::choreography::FAMILY,
    crate::raft::FAMILY,
    crate::multi_paxos::FAMILY,
    crate::zab::FAMILY,
];

/// Families that are models for `commitlab explore` only (no client, workload or disk to
/// run, check or study): kept out of [`FAMILIES`], so that studies, sweeps and the
/// catalog's runnable protocols never pick them up. A new model is one module and one line.
pub const MODELS: &[Family] = &[crate::tla_two_phase::FAMILY];

/// One runnable protocol: a variant of a family.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProtocolSpec {
    pub name: &'static str,
    /// False for the deliberately broken variants.
    pub correct: bool,
    pub summary: &'static str,
    pub variant: VariantSpec,
    pub family: &'static Family,
}

impl ProtocolSpec {
    /// Variant `name` of `family`: how a protocol defined outside this crate (its own
    /// `Family`) is run, checked and searched like the catalog's.
    pub fn of(family: &'static Family, name: &str) -> Option<ProtocolSpec> {
        let variant = (family.variants)().into_iter().find(|v| v.name == name)?;
        Some(ProtocolSpec::new(family, variant))
    }

    fn new(family: &'static Family, variant: VariantSpec) -> ProtocolSpec {
        let (name, correct, summary) = (variant.name, variant.correct, variant.summary);
        ProtocolSpec { name, correct, summary, variant, family }
    }

    /// The marks nodes of `role` emit on every transaction of this variant, in protocol
    /// order: where studies crash them.
    pub fn crash_points(&self, role: &str) -> &'static [&'static str] {
        if let Some((_, points)) = self.variant.crash_points.iter().find(|(r, _)| *r == role) {
            return points;
        }
        self.family.roles.iter().find(|r| r.name == role).map_or(&[], |r| r.crash_points)
    }

    /// The coordinator's crash points (the role whose failure the studies explore).
    pub fn coordinator_marks(&self) -> &'static [&'static str] {
        self.crash_points("coordinator")
    }

    /// Every mark a node of `role` may emit: this variant's normal path, then the family's
    /// (a variant's narrower normal path still reaches the rest on failure paths), then the
    /// failure paths.
    pub fn all_marks(&self, role: &str) -> Vec<&'static str> {
        let spec = self.family.roles.iter().find(|r| r.name == role);
        let family = spec.map_or(&[][..], |r| r.crash_points);
        let failure = spec.map_or(&[][..], |r| r.failure_points);
        let mut all: Vec<&'static str> = self.crash_points(role).to_vec();
        for m in family.iter().chain(failure) {
            if !all.contains(m) {
                all.push(m);
            }
        }
        all
    }

    /// Which node plays which role in `scenario`, after checking the family section.
    pub fn roles(&self, scenario: &Scenario) -> Result<Roles, ScenarioError> {
        SettingsView::new(self.family.settings, &scenario.family).validate(self.name)?;
        Ok((self.family.layout)(scenario))
    }

    /// Whether `property` (a checker property's name) applies to this protocol.
    pub fn has_property(&self, property: &str) -> bool {
        self.family.properties.contains(&property)
    }

    /// The bank workload searches, studies and sweeps run this protocol on with
    /// `participants`: order sagas of [`Workload::ORDER_STEPS`] steps (fewer only if there are
    /// fewer participants) for a saga protocol, since a 2-step saga never compensates more
    /// than one step; transfers otherwise.
    pub fn bank_workload(&self, participants: u32) -> Workload {
        if self.has_property("saga-atomicity") {
            Workload::order(Workload::ORDER_STEPS.min(participants))
        } else {
            Workload::bank()
        }
    }

    /// Whether the protocol decides transactions (an atomic commit protocol or a saga), as
    /// opposed to replicating a log: what the commit studies and sweeps compare.
    pub fn decides_transactions(&self) -> bool {
        self.has_property("atomicity") || self.has_property("saga-atomicity")
    }

    /// Whether the protocol replicates a log (Raft, Multi-Paxos, ...): what the consensus
    /// scenario suite and the failover sweep run.
    pub fn replicates_log(&self) -> bool {
        self.has_property("state-machine-safety")
    }

    /// Validates `scenario` (its shared fields and its family section) and runs it.
    pub fn run(&self, scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
        scenario.validate()?;
        self.roles(scenario)?;
        (self.family.run)(self.name, scenario)
    }
}

/// Every protocol variant, correct ones first (in family order), then the broken ones.
pub fn catalog() -> &'static [ProtocolSpec] {
    static CATALOG: OnceLock<Vec<ProtocolSpec>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let all: Vec<ProtocolSpec> = FAMILIES
            .iter()
            .flat_map(|family| {
                (family.variants)().into_iter().map(|variant| ProtocolSpec::new(family, variant))
            })
            .collect();
        correct_first(all)
    })
}

/// The correct variants first, then the broken ones, each group in family order.
fn correct_first(all: Vec<ProtocolSpec>) -> Vec<ProtocolSpec> {
    let (mut correct, broken): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| s.correct);
    correct.extend(broken);
    correct
}

/// Names of the correct protocols (what studies sweep over).
pub fn correct_protocols() -> impl Iterator<Item = &'static str> {
    catalog().iter().filter(|s| s.correct).map(|s| s.name)
}

/// Names of the correct protocols that decide transactions (commit protocols and sagas): what
/// the commit studies and sweeps compare.
pub fn correct_commit_protocols() -> impl Iterator<Item = &'static str> {
    catalog().iter().filter(|s| s.correct && s.decides_transactions()).map(|s| s.name)
}

/// Names of the correct replicated-log protocols (what the consensus scenario suite and the
/// failover sweep run): a new consensus family joins by registering in [`FAMILIES`].
pub fn correct_consensus_protocols() -> impl Iterator<Item = &'static str> {
    catalog().iter().filter(|s| s.correct && s.replicates_log()).map(|s| s.name)
}

/// Names of the deliberately broken variants (what checker tests must catch).
pub fn broken_protocols() -> impl Iterator<Item = &'static str> {
    catalog().iter().filter(|s| !s.correct).map(|s| s.name)
}

/// The protocol named `name`; unknown names get the closest known one as a hint.
pub fn lookup(name: &str) -> Result<&'static ProtocolSpec, ScenarioError> {
    catalog().iter().find(|s| s.name == name).ok_or_else(|| ScenarioError::UnknownProtocol {
        name: name.to_string(),
        message: unknown_name("protocol", name, catalog().iter().map(|s| s.name)),
    })
}

/// Which node plays which role in `scenario` (its protocol looked up by name).
pub fn roles(scenario: &Scenario) -> Result<Roles, ScenarioError> {
    lookup(&scenario.protocol)?.roles(scenario)
}

/// Builds and runs `scenario` with the protocol it names.
pub fn run(scenario: &Scenario) -> Result<RunOutcome, ScenarioError> {
    lookup(&scenario.protocol)?.run(scenario)
}

/// Every variant `commitlab explore` accepts: those of the families (in [`FAMILIES`], then
/// [`MODELS`]) that fill [`Family::explore`], correct ones first.
pub fn explorable() -> &'static [ProtocolSpec] {
    static EXPLORABLE: OnceLock<Vec<ProtocolSpec>> = OnceLock::new();
    EXPLORABLE.get_or_init(|| {
        let all: Vec<ProtocolSpec> = FAMILIES
            .iter()
            .chain(MODELS)
            .filter(|f| f.explore.is_some())
            .flat_map(|family| {
                (family.variants)().into_iter().map(|variant| ProtocolSpec::new(family, variant))
            })
            .collect();
        correct_first(all)
    })
}
