//! A protocol family's own configuration section: declared keys ([`SettingSpec`]), the values a
//! scenario gives them (`[family]` in a scenario file, `--set KEY=VALUE` on the command line),
//! and their validation, so that a family's knobs (Paxos Commit's `f`) are data, not fields
//! of the shared scenario.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ScenarioError;
use crate::suggest::unknown_name;

/// A key of a family's configuration section (`[family]` in a scenario file, `--set KEY=VALUE`
/// on the command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingSpec {
    pub key: &'static str,
    pub kind: SettingKind,
    pub help: &'static str,
}

impl SettingSpec {
    /// A switch: off unless the scenario turns it on (every family's switches are off by
    /// default, so the plain protocol is what runs unless asked otherwise).
    pub const fn flag(key: &'static str, help: &'static str) -> SettingSpec {
        SettingSpec { key, kind: SettingKind::Bool { default: false }, help }
    }

    /// An integer within `range`, `default` when absent.
    pub const fn int(
        key: &'static str,
        range: std::ops::RangeInclusive<i64>,
        default: i64,
        help: &'static str,
    ) -> SettingSpec {
        let (min, max) = (*range.start(), *range.end());
        assert!(min <= default && default <= max, "a setting's default is within its range");
        SettingSpec { key, kind: SettingKind::Int { min, max, default }, help }
    }
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
