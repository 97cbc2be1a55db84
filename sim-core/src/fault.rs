//! Fault plans: faults as data. A plan is a list of `(trigger, action)` pairs; the engine
//! fires each fault at most once, at the exact event its trigger names. Plans are serde
//! (JSON), so a counterexample can be written, read back and replayed exactly.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{SimError, check_node, check_probability};
use crate::id::NodeId;
use crate::network::{Latency, LinkSet};

/// When a fault fires.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "on", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// At a virtual time, after every event scheduled earlier than or at the same time as
    /// the plan was loaded (ties break by insertion order; plan faults are queued first).
    Time { at_us: u64 },
    /// Right after `node` applies its `nth` (1-based) `mark` effect: the rest of that
    /// handler's effects are cut if the action crashes `node`.
    Mark { node: NodeId, mark: String, nth: u32 },
    /// Right after `node` applies its `count`-th send (1-based, counting every send effect,
    /// including ones the network then drops).
    Sends { node: NodeId, count: u64 },
    /// `after_us` after the `nth` (1-based) time any node emits `mark`, counted over the
    /// whole cluster: "the 3rd leader elected, 50 ms into its term", whoever it is. The node
    /// that emitted it is the fault's *marked* node, which [`Action::CrashMarked`] and
    /// [`Action::IsolateMarked`] act on. With `after_us` 0 it fires right after the mark,
    /// as [`Trigger::Mark`] does.
    AnyMark {
        mark: String,
        nth: u32,
        #[serde(default, skip_serializing_if = "is_zero")]
        after_us: u64,
    },
}

fn is_zero(us: &u64) -> bool {
    *us == 0
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Stops `node`: volatile state, armed timers and undelivered messages are lost; its
    /// disk survives. With `recover_after_us`, the node recovers that long afterwards.
    Crash {
        node: NodeId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recover_after_us: Option<u64>,
    },
    /// Rebuilds a crashed `node` from its disk (no effect on an up node).
    Recover { node: NodeId },
    /// Splits the cluster into groups; nodes in no group form one more group.
    Partition { groups: Vec<Vec<NodeId>> },
    /// Cuts `from -> to` only.
    CutOneWay { from: NodeId, to: NodeId },
    /// Cuts the link between `a` and `b`, both directions.
    CutLink { a: NodeId, b: NodeId },
    /// Restores the link between `a` and `b`, both directions.
    HealLink { a: NodeId, b: NodeId },
    /// Restores every link.
    Heal,
    /// Sets the loss probability on `links`.
    SetDrop { links: LinkSet, prob: HashableF64 },
    /// Sets the duplication probability on `links`.
    SetDuplicate { links: LinkSet, prob: HashableF64 },
    /// Sets the latency distribution on `links`.
    SetLatency { links: LinkSet, latency: Latency },
    /// From now on `node`'s timers run `ppm` parts per million slow (positive) or fast
    /// (negative): a timer set for `d` fires after `d * (1 + ppm/1e6)`.
    ClockDrift { node: NodeId, ppm: i64 },
    /// [`Action::Crash`] of the fault's marked node: the one whose mark or send fired the
    /// trigger (so "crash whoever became leader"). The trace records the resolved `Crash`.
    CrashMarked {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recover_after_us: Option<u64>,
    },
    /// Cuts the fault's marked node, together with `with`, off from every other node: a
    /// [`Action::Partition`] with one group, recorded resolved in the trace.
    IsolateMarked {
        #[serde(default)]
        with: Vec<NodeId>,
    },
}

impl Action {
    /// Whether the action acts on the node that fired its trigger (resolved by
    /// [`Action::resolve`] when it fires).
    pub fn is_marked(&self) -> bool {
        matches!(self, Action::CrashMarked { .. } | Action::IsolateMarked { .. })
    }

    /// The concrete action a marked action stands for once `marked` fired its trigger; any
    /// other action as it is.
    pub fn resolve(&self, marked: NodeId) -> Action {
        match self {
            Action::CrashMarked { recover_after_us } => {
                Action::Crash { node: marked, recover_after_us: *recover_after_us }
            }
            Action::IsolateMarked { with } => {
                let mut group = vec![marked];
                group.extend(with.iter().copied().filter(|&n| n != marked));
                Action::Partition { groups: vec![group] }
            }
            other => other.clone(),
        }
    }
}

/// An `f64` that hashes by its bits, so that actions and plans can derive `Hash`. (The trace
/// hash digests the serde form, where every `f64` counts by its bits.)
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HashableF64(pub f64);

impl std::hash::Hash for HashableF64 {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state)
    }
}

/// One `(trigger, action)` pair.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub trigger: Trigger,
    pub action: Action,
}

/// A list of faults, fired independently, each at most once.
#[derive(Clone, Debug, Default, PartialEq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl FaultPlan {
    pub fn none() -> FaultPlan {
        FaultPlan::default()
    }

    pub fn new(faults: Vec<Fault>) -> FaultPlan {
        FaultPlan { faults }
    }

    pub fn with(mut self, trigger: Trigger, action: Action) -> FaultPlan {
        self.faults.push(Fault { trigger, action });
        self
    }

    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    /// Checks every node id, probability and parameter against a cluster of `nodes`;
    /// the error names the offending field, e.g. `faults[2].node`.
    pub fn validate(&self, nodes: u32) -> Result<(), SimError> {
        for (i, f) in self.faults.iter().enumerate() {
            let trig = |s: &str| format!("faults[{i}].trigger.{s}");
            let field = |s: &str| format!("faults[{i}].action.{s}");
            match &f.trigger {
                Trigger::Time { .. } if f.action.is_marked() => {
                    return Err(SimError::invalid(
                        format!("faults[{i}].action"),
                        "acts on the node that fired the trigger, and a time trigger has none \
                         (use a mark, any_mark or sends trigger)",
                    ));
                }
                Trigger::Time { .. } => {}
                Trigger::AnyMark { mark, nth, .. } => {
                    if mark.is_empty() {
                        return Err(SimError::invalid(trig("mark"), "mark name is empty"));
                    }
                    if *nth == 0 {
                        return Err(SimError::invalid(trig("nth"), "nth counts from 1"));
                    }
                }
                Trigger::Mark { node, mark, nth } => {
                    check_node(|| trig("node"), node.0, nodes)?;
                    if mark.is_empty() {
                        return Err(SimError::invalid(trig("mark"), "mark name is empty"));
                    }
                    if *nth == 0 {
                        return Err(SimError::invalid(trig("nth"), "nth counts from 1"));
                    }
                }
                Trigger::Sends { node, count } => {
                    check_node(|| trig("node"), node.0, nodes)?;
                    if *count == 0 {
                        return Err(SimError::invalid(trig("count"), "count counts from 1"));
                    }
                }
            }
            match &f.action {
                Action::Crash { node, .. } | Action::Recover { node } => {
                    check_node(|| field("node"), node.0, nodes)?
                }
                Action::Partition { groups } => {
                    let mut seen = vec![false; nodes as usize];
                    for (g, members) in groups.iter().enumerate() {
                        if members.is_empty() {
                            return Err(SimError::invalid(
                                field(&format!("groups[{g}]")),
                                "empty group",
                            ));
                        }
                        for (j, m) in members.iter().enumerate() {
                            let fld = || field(&format!("groups[{g}][{j}]"));
                            check_node(fld, m.0, nodes)?;
                            if std::mem::replace(&mut seen[m.index()], true) {
                                return Err(SimError::invalid(
                                    fld(),
                                    format!("node {} appears in two groups", m.0),
                                ));
                            }
                        }
                    }
                }
                Action::CutOneWay { from, to } => {
                    check_node(|| field("from"), from.0, nodes)?;
                    check_node(|| field("to"), to.0, nodes)?;
                }
                Action::CutLink { a, b } | Action::HealLink { a, b } => {
                    check_node(|| field("a"), a.0, nodes)?;
                    check_node(|| field("b"), b.0, nodes)?;
                }
                Action::Heal | Action::CrashMarked { .. } => {}
                Action::IsolateMarked { with } => {
                    for (j, n) in with.iter().enumerate() {
                        check_node(|| field(&format!("with[{j}]")), n.0, nodes)?;
                    }
                }
                Action::SetDrop { links, prob } | Action::SetDuplicate { links, prob } => {
                    links.validate(&format!("faults[{i}].action.links"), nodes)?;
                    check_probability(|| field("prob"), prob.0)?;
                }
                Action::SetLatency { links, latency } => {
                    links.validate(&format!("faults[{i}].action.links"), nodes)?;
                    latency.validate(&field("latency"))?;
                }
                Action::ClockDrift { node, ppm } => {
                    check_node(|| field("node"), node.0, nodes)?;
                    if *ppm <= -1_000_000 {
                        return Err(SimError::invalid(
                            field("ppm"),
                            format!("{ppm} would stop or reverse the clock (must be > -1000000)"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Parses a plan from JSON text.
    pub fn from_json(text: &str) -> Result<FaultPlan, SimError> {
        serde_json::from_str(text)
            .map_err(|e| SimError::MalformedPlan { path: None, message: e.to_string() })
    }

    /// Reads and parses a plan file, then validates it against a cluster of `nodes`.
    pub fn load(path: &Path, nodes: u32) -> Result<FaultPlan, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let plan = FaultPlan::from_json(&text).map_err(|e| match e {
            SimError::MalformedPlan { message, .. } => {
                SimError::MalformedPlan { path: Some(path.display().to_string()), message }
            }
            other => other,
        })?;
        plan.validate(nodes)?;
        Ok(plan)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a fault plan always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_reads_like_prose() {
        let plan = FaultPlan::none()
            .with(
                Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
                Action::Crash { node: NodeId(0), recover_after_us: Some(50_000) },
            )
            .with(
                Trigger::Time { at_us: 10 },
                Action::SetDrop {
                    links: LinkSet::Touching { node: NodeId(2) },
                    prob: HashableF64(0.5),
                },
            );
        let text = serde_json::to_string(&plan).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"faults":[{"trigger":{"on":"mark","node":0,"mark":"all-votes-in","nth":1},"#,
                r#""action":{"do":"crash","node":0,"recover_after_us":50000}},"#,
                r#"{"trigger":{"on":"time","at_us":10},"#,
                r#""action":{"do":"set_drop","links":{"kind":"touching","node":2},"prob":0.5}}]}"#
            )
        );
        assert_eq!(FaultPlan::from_json(&text).unwrap(), plan);
    }
}
