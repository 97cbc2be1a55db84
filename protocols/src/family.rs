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

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::scenario::{RunOutcome, Scenario, ScenarioError};

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

/// A role some nodes of a family play.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleSpec {
    /// The role's name (`coordinator`, `participant`, `acceptor`, `replica`, `broker`, ...).
    pub name: &'static str,
    /// How diagrams and the CLI name its nodes: the label alone when one node plays the role
    /// (`coord`), the label and the node id otherwise (`p3`).
    pub label: &'static str,
    /// The marks a node of this role emits on every transaction, in protocol order: the
    /// crash points studies and searches use. Declared in the module that emits them.
    pub crash_points: &'static [&'static str],
    /// Marks emitted only on failure paths (termination, recovery, compensation): valid
    /// crash points, never reached by a fault-free run.
    pub failure_points: &'static [&'static str],
}

/// A key of a family's configuration section (`[family]` in a scenario file, `--set KEY=VALUE`
/// on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingSpec {
    pub key: &'static str,
    pub kind: SettingKind,
    pub help: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKind {
    /// An integer in `min..=max`, `default` when absent.
    Int {
        min: i64,
        max: i64,
        default: i64,
    },
    Bool {
        default: bool,
    },
}

/// A value in a family's configuration section.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SettingValue {
    Bool(bool),
    Int(i64),
}

impl std::fmt::Display for SettingValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingValue::Bool(b) => write!(f, "{b}"),
            SettingValue::Int(i) => write!(f, "{i}"),
        }
    }
}

/// A scenario's family section: key → value, validated against the family's [`SettingSpec`]s.
pub type Settings = BTreeMap<String, SettingValue>;

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
    /// Names of the checker properties that apply (`atomicity`, `non-blocking`, ...).
    pub properties: &'static [&'static str],
    /// Which node plays which role in a scenario (whose family section is valid).
    pub layout: fn(&Scenario) -> Roles,
    /// Runs a scenario as the named variant (one of `variants`).
    pub run: fn(&str, &Scenario) -> Result<RunOutcome, ScenarioError>,
}

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

/// What sagas are judged on (Garcia-Molina & Salem; a saga has no votes and no blocking).
pub const SAGA_PROPERTIES: &[&str] = &["saga-atomicity", "termination", "conservation"];

/// Which node plays which role: one role name per node, and the host of each node when
/// processes share hosts. Built by a family's [`Family::layout`]; read by everything that must
/// find "the participants" or "the coordinator" without knowing the protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// `names[i]`: the role of node `i`.
    pub names: Vec<String>,
    /// `labels[i]`: how node `i` is named in diagrams and on the command line.
    pub labels: Vec<String>,
    /// Co-location: `hosts[i]` is node `i`'s host; `None`, every node is its own host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<u32>>,
}

impl Roles {
    /// Lays out `groups` in order: each `(role, count)` takes the next `count` ids.
    pub fn from_groups(specs: &[RoleSpec], groups: &[(&str, u32)]) -> Roles {
        let mut r = Roles::default();
        for &(name, count) in groups {
            let spec = specs.iter().find(|s| s.name == name);
            let label = spec.map_or(name, |s| s.label);
            for _ in 0..count {
                let id = r.names.len();
                r.names.push(name.to_string());
                r.labels.push(if count == 1 { label.to_string() } else { format!("{label}{id}") });
            }
        }
        r
    }

    pub fn nodes(&self) -> u32 {
        self.names.len() as u32
    }
    /// The role of `id` (empty past the cluster).
    pub fn of(&self, id: NodeId) -> &str {
        self.names.get(id.index()).map_or("", String::as_str)
    }
    pub fn label(&self, id: NodeId) -> String {
        self.labels.get(id.index()).cloned().unwrap_or_else(|| id.to_string())
    }
    /// The nodes playing `role`, ascending.
    pub fn ids<'a>(&'a self, role: &'a str) -> impl Iterator<Item = NodeId> + Clone + 'a {
        self.names
            .iter()
            .enumerate()
            .filter(move |(_, n)| *n == role)
            .map(|(i, _)| NodeId(i as u32))
    }
    pub fn first(&self, role: &str) -> Option<NodeId> {
        self.ids(role).next()
    }
    pub fn is(&self, id: NodeId, role: &str) -> bool {
        self.of(id) == role
    }
    /// The node a user names by its label (`coord`, `p2`, `client`) or as `n<id>` / `<id>`.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        if let Some(i) = self.labels.iter().position(|l| l == name) {
            return Some(NodeId(i as u32));
        }
        let digits = name.strip_prefix('n').unwrap_or(name);
        digits.parse::<u32>().ok().filter(|&i| i < self.nodes()).map(NodeId)
    }
    /// Whether `a` and `b` run on the same host.
    pub fn same_host(&self, a: NodeId, b: NodeId) -> bool {
        self.hosts.as_ref().is_some_and(|h| h.get(a.index()) == h.get(b.index()))
    }
}

/// The closest of `known` to `input` (for "did you mean" in error messages), if any is close.
pub fn closest<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&lower, k), k))
        .filter(|(d, k)| *d <= (k.len().max(3) / 2) || k.starts_with(&lower) && lower.len() >= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// "unknown X "input" (did you mean "y"? known: a, b, c)".
pub fn unknown_name<'a>(
    what: &str,
    input: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    let hint = closest(input, known.iter().copied())
        .map(|c| format!("did you mean {c:?}? "))
        .unwrap_or_default();
    format!("unknown {what} {input:?} ({hint}known: {})", known.join(", "))
}

/// Reads a family's configuration section against its specs.
pub struct SettingsView<'a> {
    specs: &'a [SettingSpec],
    values: &'a Settings,
}

impl<'a> SettingsView<'a> {
    pub fn new(specs: &'a [SettingSpec], values: &'a Settings) -> Self {
        SettingsView { specs, values }
    }

    /// Every key known, every value of the right kind and in range.
    pub fn validate(&self, family: &str) -> Result<(), ScenarioError> {
        for (key, value) in self.values {
            let Some(spec) = self.specs.iter().find(|s| s.key == key) else {
                let known = self.specs.iter().map(|s| s.key);
                let reason = if self.specs.is_empty() {
                    format!("{family} has no settings (got {key:?})")
                } else {
                    unknown_name(&format!("{family} setting"), key, known)
                };
                return Err(ScenarioError::Invalid { field: "family".into(), reason });
            };
            let bad =
                |reason: String| ScenarioError::Invalid { field: format!("family.{key}"), reason };
            match (spec.kind, value) {
                (SettingKind::Int { min, max, .. }, SettingValue::Int(v)) => {
                    if *v < min || *v > max {
                        return Err(bad(format!("{v} is outside {min}..={max}")));
                    }
                }
                (SettingKind::Bool { .. }, SettingValue::Bool(_)) => {}
                (SettingKind::Int { .. }, v) => return Err(bad(format!("{v} is not an integer"))),
                (SettingKind::Bool { .. }, v) => return Err(bad(format!("{v} is not true/false"))),
            }
        }
        Ok(())
    }

    /// The integer `key`, or its default. Panics on a key the family did not declare: a bug
    /// in the family, not bad input (input is validated first).
    pub fn int(&self, key: &str) -> i64 {
        match (self.spec(key).kind, self.values.get(key)) {
            (_, Some(SettingValue::Int(v))) => *v,
            (SettingKind::Int { default, .. }, _) => default,
            (kind, _) => panic!("setting {key} is {kind:?}, not an integer"),
        }
    }

    pub fn flag(&self, key: &str) -> bool {
        match (self.spec(key).kind, self.values.get(key)) {
            (_, Some(SettingValue::Bool(v))) => *v,
            (SettingKind::Bool { default }, _) => default,
            (kind, _) => panic!("setting {key} is {kind:?}, not a flag"),
        }
    }

    fn spec(&self, key: &str) -> &SettingSpec {
        self.specs
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("the family reads setting {key:?} it never declared"))
    }
}

/// Parses `KEY=VALUE` (a `--set` flag) into a setting: `true`/`false` or an integer.
pub fn parse_setting(kv: &str) -> Result<(String, SettingValue), String> {
    let (k, v) = kv.split_once('=').ok_or_else(|| format!("{kv:?} is not KEY=VALUE"))?;
    let value = match v.trim() {
        "true" => SettingValue::Bool(true),
        "false" => SettingValue::Bool(false),
        n => SettingValue::Int(
            n.parse().map_err(|_| format!("{kv:?}: {n:?} is neither true/false nor an integer"))?,
        ),
    };
    Ok((k.trim().to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_suggests_near_names_only() {
        let known = ["2pc", "3pc", "paxos-commit", "faster-paxos-commit"];
        assert_eq!(closest("3PC", known), Some("3pc"));
        assert_eq!(closest("paxos", known), Some("paxos-commit"));
        assert_eq!(closest("raft-with-snapshots", known), None);
    }

    #[test]
    fn roles_from_groups_number_and_label_nodes() {
        const SPECS: &[RoleSpec] =
            &[RoleSpec { name: "participant", label: "p", crash_points: &[], failure_points: &[] }];
        let r = Roles::from_groups(SPECS, &[("coordinator", 1), ("participant", 2), ("client", 1)]);
        assert_eq!(r.labels, ["coordinator", "p1", "p2", "client"]);
        assert_eq!(r.ids("participant").collect::<Vec<_>>(), [NodeId(1), NodeId(2)]);
        assert_eq!(r.find("p2"), Some(NodeId(2)));
        assert_eq!(r.find("n3"), Some(NodeId(3)));
        assert_eq!(r.find("n4"), None);
    }
}
