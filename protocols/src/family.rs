//! Protocol families as data.
//!
//! A *family* is one protocol module (two-phase commit, Paxos Commit, a saga style, ...) that
//! describes itself once: its variants (correct and deliberately broken), its roles (which
//! node ids play which role, by name), the crash points each role emits (declared beside the
//! code that emits them), its own configuration section, the properties that apply to it and
//! the cost formulas it claims. Everything outside the module — the catalog, the scenario
//! runner, the checkers' applicability, the CLI, studies and sweeps — reads this description
//! and never names the protocol. A new protocol is one module plus one line in
//! [`crate::catalog::FAMILIES`] (see docs/adding-a-protocol.md).

use sim_core::explore::{ExploreConfig, ExploreReport};

use crate::scenario::{RunOutcome, Scenario, ScenarioError};

pub use crate::roles::{RoleSpec, Roles};
pub use crate::settings::{
    SettingKind, SettingSpec, SettingValue, Settings, SettingsView, parse_setting,
};
pub use crate::suggest::{closest, unknown_name};

/// One runnable variant of a family: a name a user types, and whether it is correct.
/// Variants are equal when their names are (names are unique across the catalog).
#[derive(Clone, Copy, Debug)]
pub struct VariantSpec {
    pub name: &'static str,
    /// False for the deliberately broken ("textbook mistake") variants checkers must catch.
    pub correct: bool,
    pub summary: &'static str,
    /// The normal-case cost the variant claims, per committed transaction of N participants
    /// (checked against measurements by the scaling sweep and the tests).
    pub cost: Option<CostFormula>,
    /// Where this variant's normal path differs from its family's: `(role, crash points)`
    /// replacing that role's [`RoleSpec::crash_points`] (Faster Paxos Commit's TM only
    /// sends Prepare).
    pub crash_points: &'static [(&'static str, &'static [&'static str])],
}

impl PartialEq for VariantSpec {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl VariantSpec {
    /// A variant with no claimed cost and its family's crash points.
    pub const fn new(name: &'static str, correct: bool, summary: &'static str) -> VariantSpec {
        VariantSpec { name, correct, summary, cost: None, crash_points: &[] }
    }
}

/// A claimed normal-case cost: fault-free commit, N participants, constant delays.
#[derive(Clone, Copy, Debug)]
pub struct CostFormula {
    /// Protocol messages (the client's request and reply excluded).
    pub messages: fn(u64) -> u64,
    /// Message delays from the client's request to the client's reply.
    pub delays: u64,
    /// Forced (stable-storage) writes.
    pub disk_writes: fn(u64) -> u64,
    /// The same, in words for tables.
    pub text: &'static str,
}

/// One protocol family, as data: a `pub const FAMILY: Family` in the family's module, listed
/// in [`crate::catalog::FAMILIES`].
#[derive(Clone, Copy)]
pub struct Family {
    /// The family's subject, e.g. "two-phase commit".
    pub name: &'static str,
    /// Its variants, correct first, in the order the catalog lists them.
    pub variants: fn() -> Vec<VariantSpec>,
    pub roles: &'static [RoleSpec],
    /// Its configuration section's keys.
    pub settings: &'static [SettingSpec],
    /// Names of the checker properties that apply (`atomicity`, `non-blocking`, ...), the
    /// family's main safety property first: what its broken variants are searched against.
    pub properties: &'static [&'static str],
    /// Which node plays which role in a scenario (whose family section is valid).
    pub layout: fn(&Scenario) -> Roles,
    /// Runs a scenario as the named variant (one of `variants`).
    pub run: fn(&str, &Scenario) -> Result<RunOutcome, ScenarioError>,
    /// Explores the named variant exhaustively (`commitlab explore`): the family builds its
    /// own model (initial world, properties) and calls [`sim_core::explore::explore`].
    /// `None` for families not explorable yet.
    pub explore: Option<ExploreFn>,
}

/// What `commitlab explore` asks a family to explore.
#[derive(Clone, Debug)]
pub struct ExploreRequest<'a> {
    /// One of the family's variants.
    pub variant: &'a str,
    /// Participants, transactions, seed (the rest as `run` takes it).
    pub scenario: &'a Scenario,
    /// The properties to check (empty: every property the family's explorer checks).
    pub properties: &'a [String],
    /// Replay these steps (a counterexample's) instead of searching: the report's verdict is
    /// the replayed path's, its counterexample the steps up to the first violation.
    pub replay: Option<&'a [String]>,
    /// Reduce by symmetry over interchangeable participants (families that support it).
    pub symmetry: bool,
    /// Replicated logs: the round bound (`None`: the family's `Round::MAX_ROUND`) and the
    /// client's retries of an operation (`None`: `CLIENT_RETRIES`), see
    /// `protocols::consensus::explore`.
    pub log_bounds: LogBounds,
}

/// What a replicated log's explorer may be told to bound otherwise than by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogBounds {
    /// Elections (terms, ballot rounds, epochs) a replica may start.
    pub max_round: Option<u64>,
    /// Retries of each client operation on its timer.
    pub client_retries: Option<u32>,
}

impl<'a> ExploreRequest<'a> {
    /// A search (no replay, no symmetry) of `variant` on `scenario`, checking `properties`.
    pub fn new(variant: &'a str, scenario: &'a Scenario, properties: &'a [String]) -> Self {
        ExploreRequest {
            variant,
            scenario,
            properties,
            replay: None,
            symmetry: false,
            log_bounds: LogBounds::default(),
        }
    }
}

/// A family's type-erased entry into the explorer: what to explore (variant, scenario,
/// properties) and how.
pub type ExploreFn =
    fn(&ExploreRequest<'_>, &ExploreConfig) -> Result<ExploreReport, ScenarioError>;

impl std::fmt::Debug for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family").field("name", &self.name).finish_non_exhaustive()
    }
}

impl PartialEq for Family {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// What atomic commit protocols are judged on (Bernstein, Hadzilacos & Goodman ch. 7, plus
/// the end-to-end oracles).
pub const COMMIT_PROPERTIES: &[&str] =
    &["atomicity", "non-blocking", "termination", "durability", "conservation"];

/// What quorum-based commit protocols are judged on: the commit properties, and that a
/// connected quorum never blocks (Keidar & Dolev).
pub const QUORUM_COMMIT_PROPERTIES: &[&str] = &[
    "atomicity",
    "non-blocking",
    "quorum-non-blocking",
    "termination",
    "durability",
    "conservation",
];

/// What sagas are judged on (Garcia-Molina & Salem; a saga has no votes and no blocking).
pub const SAGA_PROPERTIES: &[&str] = &["saga-atomicity", "termination", "conservation"];
