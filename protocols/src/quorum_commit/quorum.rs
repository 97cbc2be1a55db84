//! Quorums: each participant's weight (its votes, Gifford style) and the two thresholds.
//!
//! Skeen's quorum-based commit assigns every process `v_i` votes, `V = Σ v_i`, a commit quorum
//! `Vc` and an abort quorum `Va` with `Vc + Va > V` (and each at most `V`, or nothing could
//! ever be decided): any set of processes holding `Vc` votes meets any set holding `Va`.
//! By default every participant has one vote and both quorums are majorities.
//!
//! Settings (`[family]` in a scenario file, `--set KEY=VALUE`): `weight-p1` .. `weight-p9`,
//! `commit-quorum`, `abort-quorum` (0: a majority of `V`). A weight for a participant the
//! scenario does not have, a total weight of 0, or quorums that need not intersect are
//! errors that name the setting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::family::{SettingKind, SettingSpec, Settings, SettingsView};
use crate::scenario::ScenarioError;

/// Participants with a weight setting of their own: `weight-p1` .. `weight-p9`.
pub const MAX_WEIGHTED: u32 = 9;

const WEIGHT: SettingKind = SettingKind::Int { min: 0, max: 100, default: 1 };
const QUORUM: SettingKind = SettingKind::Int { min: 0, max: 900, default: 0 };

macro_rules! weights {
    ($($key:literal),*) => {
        [$(SettingSpec { key: $key, kind: WEIGHT, help: "this participant's votes (default 1)" }),*]
    };
}

const WEIGHTS: [SettingSpec; MAX_WEIGHTED as usize] = weights!(
    "weight-p1",
    "weight-p2",
    "weight-p3",
    "weight-p4",
    "weight-p5",
    "weight-p6",
    "weight-p7",
    "weight-p8",
    "weight-p9"
);

/// The quorum families' settings: the weights, then the two quorums.
pub const SETTINGS: &[SettingSpec] = &{
    let mut all = [SettingSpec { key: "", kind: QUORUM, help: "" }; MAX_WEIGHTED as usize + 2];
    let mut i = 0;
    while i < WEIGHTS.len() {
        all[i] = WEIGHTS[i];
        i += 1;
    }
    all[i] = SettingSpec {
        key: "commit-quorum",
        kind: QUORUM,
        help: "votes a commit needs, Vc (0: a majority of the total weight)",
    };
    all[i + 1] = SettingSpec {
        key: "abort-quorum",
        kind: QUORUM,
        help: "votes an abort needs, Va (0: a majority; Vc + Va must exceed the total)",
    };
    all
};

/// Weights and thresholds, validated: `0 < Vc, Va <= V < Vc + Va`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quorums {
    /// Each participant's weight, by node id.
    pub weights: BTreeMap<NodeId, u32>,
    pub commit: u32,
    pub abort: u32,
}

impl Quorums {
    /// One vote each, majorities.
    pub fn majorities(participants: u32) -> Quorums {
        Quorums::from_settings(&Settings::new(), participants).expect("majorities are valid")
    }

    /// The quorums a scenario's family section sets for `participants` participants.
    pub fn from_settings(family: &Settings, participants: u32) -> Result<Quorums, ScenarioError> {
        let view = SettingsView::new(SETTINGS, family);
        view.validate("quorum commit")?;
        let bad = |field: &str, reason: String| ScenarioError::Invalid {
            field: format!("family.{field}"),
            reason,
        };
        for (i, spec) in WEIGHTS.iter().enumerate() {
            let p = i as u32 + 1;
            if p > participants && family.contains_key(spec.key) {
                let last = format!("weight-p{}", participants.min(MAX_WEIGHTED));
                return Err(bad(
                    spec.key,
                    format!(
                        "the scenario has {participants} participant(s), so there is no p{p} \
                         to weigh (the last is {last})"
                    ),
                ));
            }
        }
        if participants > MAX_WEIGHTED
            && let Some((k, _)) = family.iter().find(|(k, _)| k.starts_with("weight-"))
        {
            return Err(bad(
                k,
                format!("weights can be set for at most {MAX_WEIGHTED} participants"),
            ));
        }
        let weights: BTreeMap<NodeId, u32> = (1..=participants)
            .map(|p| {
                let w = if p <= MAX_WEIGHTED { view.int(WEIGHTS[p as usize - 1].key) } else { 1 };
                (NodeId(p), w as u32)
            })
            .collect();
        let total: u32 = weights.values().sum();
        if total == 0 {
            return Err(bad("weight-p1", "every participant weighs 0: no quorum exists".into()));
        }
        let majority = total / 2 + 1;
        let or_majority = |v: i64| if v == 0 { majority } else { v as u32 };
        let commit = or_majority(view.int("commit-quorum"));
        let abort = or_majority(view.int("abort-quorum"));
        for (key, q) in [("commit-quorum", commit), ("abort-quorum", abort)] {
            if q > total {
                return Err(bad(
                    key,
                    format!(
                        "{q} exceeds the total weight {total}: no set of participants holds it"
                    ),
                ));
            }
        }
        if commit + abort <= total {
            return Err(bad(
                "commit-quorum",
                format!(
                    "commit-quorum {commit} + abort-quorum {abort} must exceed the total weight \
                     {total}, or a commit quorum and an abort quorum could decide apart"
                ),
            ));
        }
        Ok(Quorums { weights, commit, abort })
    }

    /// The total weight of `nodes` (non-participants weigh nothing).
    pub fn weight(&self, nodes: impl IntoIterator<Item = NodeId>) -> u32 {
        nodes.into_iter().map(|n| self.weights.get(&n).copied().unwrap_or(0)).sum()
    }

    /// The quorum a pre-state's attempt needs acks from: `Vc` for pre-commit, `Va` for
    /// pre-abort.
    pub fn needed(&self, pre: super::PreState) -> u32 {
        match pre {
            super::PreState::Pc => self.commit,
            super::PreState::Pa => self.abort,
        }
    }

    /// The weights as the `QuorumSystem` observation states them.
    pub fn observed(&self, bound_us: u64) -> crate::txn::Observation {
        crate::txn::Observation::QuorumSystem {
            weights: self.weights.iter().map(|(n, w)| (*n, *w)).collect(),
            commit_quorum: self.commit,
            abort_quorum: self.abort,
            bound_us,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::SettingValue;

    fn with(pairs: &[(&str, i64)]) -> Settings {
        pairs.iter().map(|(k, v)| (k.to_string(), SettingValue::Int(*v))).collect()
    }

    #[test]
    fn majorities_by_default_and_weights_count() {
        let q = Quorums::majorities(3);
        assert_eq!((q.commit, q.abort), (2, 2));
        let q = Quorums::from_settings(&with(&[("weight-p1", 3)]), 3).unwrap();
        assert_eq!((q.weight([NodeId(1)]), q.commit, q.abort), (3, 3, 3));
    }

    #[test]
    fn bad_weights_are_errors_naming_the_setting() {
        let err = |s: &[(&str, i64)]| Quorums::from_settings(&with(s), 3).unwrap_err().to_string();
        assert!(
            err(&[("weight-p4", 1)]).contains("family.weight-p4"),
            "{}",
            err(&[("weight-p4", 1)])
        );
        assert!(err(&[("commit-quorum", 1), ("abort-quorum", 2)]).contains("must exceed"));
        assert!(err(&[("commit-quorum", 4)]).contains("exceeds the total weight 3"));
        let zero = [("weight-p1", 0), ("weight-p2", 0), ("weight-p3", 0)];
        assert!(err(&zero).contains("no quorum exists"));
        assert!(err(&[("weight-q1", 1)]).contains("weight-p1"), "closest name suggested");
    }
}
