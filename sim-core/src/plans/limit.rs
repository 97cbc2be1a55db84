//! A bound on how many distinct nodes of a set a plan crashes ("at most F acceptors"). It
//! drops the crashes past the bound instead of rejecting the plan: a map, not a filter, so
//! every draw still yields a plan and shrinking never stalls on rejections.
//!
//! A space may hold several limits ("at most one member of each replicated group"): each is
//! independent, and a plan respects them all ([`CrashLimit::apply_all`]). Each only drops
//! crashes, so applying one never breaks another already applied.

use serde::{Deserialize, Serialize};

use crate::fault::{Action, Fault};
use crate::id::NodeId;

/// At most `max` distinct nodes of `nodes` crash in one plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashLimit {
    pub nodes: Vec<NodeId>,
    pub max: usize,
}

impl CrashLimit {
    /// Drops every crash of a limited node past the first `max` such nodes (in plan order);
    /// every other fault stays.
    pub fn apply(&self, faults: Vec<Fault>) -> Vec<Fault> {
        let mut crashed: Vec<NodeId> = Vec::new();
        faults
            .into_iter()
            .filter(|f| match f.action {
                Action::Crash { node, .. } if self.nodes.contains(&node) => {
                    if crashed.contains(&node) {
                        true
                    } else if crashed.len() < self.max {
                        crashed.push(node);
                        true
                    } else {
                        false
                    }
                }
                _ => true,
            })
            .collect()
    }

    /// Applies every limit of `limits`, in order: the plan respects each one.
    pub fn apply_all(limits: &[CrashLimit], faults: Vec<Fault>) -> Vec<Fault> {
        limits.iter().fold(faults, |faults, limit| limit.apply(faults))
    }
}
