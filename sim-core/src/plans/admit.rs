//! Whether a fault belongs to a space: the membership test both samplers' output must pass
//! (tested for each), and a readable statement of what the builder can produce.

use std::ops::RangeInclusive;

use super::class::{FaultClass, FaultKind};
use super::space::FaultSpace;
use crate::error::SimError;
use crate::fault::{Action, Fault, Trigger};
use crate::id::NodeId;
use crate::network::{Latency, LinkSet};

impl FaultSpace {
    /// `Ok` if the builder can produce `fault` from this space; otherwise what lies outside.
    /// Time triggers may fall at the horizon itself (a heal that follows a late cut).
    pub fn admits(&self, fault: &Fault) -> Result<(), SimError> {
        let bad = |what: &str, why: String| Err(SimError::invalid(what, why));
        match &fault.trigger {
            Trigger::Time { at_us } if *at_us > self.horizon_us => {
                return bad("trigger.at_us", format!("{at_us} is past the horizon"));
            }
            Trigger::Time { .. } => {}
            Trigger::Mark { node, mark, nth } => {
                if !self.marks.iter().any(|(n, m)| n == node && m == mark) {
                    return bad("trigger.mark", format!("{mark} at n{} is not a mark", node.0));
                }
                within("trigger.nth", *nth, &Self::MARK_NTH)?;
            }
            Trigger::AnyMark { .. } => {
                return bad("trigger", "the fault space draws no any_mark trigger".into());
            }
            Trigger::Sends { node, count } => {
                let Some((_, sends)) = self.send_points.iter().find(|(n, _)| n == node) else {
                    return bad("trigger.node", format!("n{} is not a send point", node.0));
                };
                within("trigger.count", *count, &(1..=*sends))?;
            }
        }
        let Some(kind) = FaultKind::of(&fault.action).filter(|k| self.kinds().contains(k)) else {
            return bad("action", format!("{:?} is not an enabled kind", fault.action));
        };
        let nodes = match &fault.action {
            Action::Crash { node, recover_after_us: Some(d) } => {
                if !self.allows(FaultClass::Recover) {
                    return bad("action.recover_after_us", "the recover class is off".into());
                }
                within("action.recover_after_us", *d, &self.recovery_delays())?;
                vec![*node]
            }
            Action::Crash { node, .. } | Action::Recover { node } => vec![*node],
            Action::Partition { groups } => match &groups[..] {
                [side] if !side.is_empty() => side.clone(),
                _ => return bad("action.groups", "one non-empty side".into()),
            },
            Action::CutOneWay { from: a, to: b } | Action::HealLink { a, b } => vec![*a, *b],
            Action::SetDrop { links, prob } | Action::SetDuplicate { links, prob } => {
                let permille = (prob.0 * 1000.0).round();
                if permille / 1000.0 != prob.0 {
                    return bad("action.prob", format!("{} has more than 3 decimals", prob.0));
                }
                within("action.prob", permille as u32, &Self::PERMILLE)?;
                touched(links)?
            }
            Action::SetLatency { links, latency: Latency::Uniform { min_us, max_us } } => {
                within("action.latency.min_us", *min_us, &Self::LATENCY_MIN_US)?;
                within("action.latency", max_us.saturating_sub(*min_us), &Self::LATENCY_EXTRA_US)?;
                touched(links)?
            }
            Action::ClockDrift { node, ppm } => {
                within("action.ppm", *ppm, &Self::DRIFT_PPM)?;
                vec![*node]
            }
            Action::Heal => vec![],
            other => return bad("action", format!("{kind:?} is never built as {other:?}")),
        };
        let targets = self.targets();
        match nodes.iter().find(|n| !targets.contains(n)) {
            Some(n) => bad("action", format!("n{} is not a target", n.0)),
            None => Ok(()),
        }
    }
}

/// The node a generated link set names: none (every link) or the one its links touch.
fn touched(links: &LinkSet) -> Result<Vec<NodeId>, SimError> {
    match links {
        LinkSet::All => Ok(vec![]),
        LinkSet::Touching { node } => Ok(vec![*node]),
        other => Err(SimError::invalid("action.links", format!("{other:?} is never built"))),
    }
}

fn within<T: PartialOrd + std::fmt::Debug>(
    what: &str,
    x: T,
    range: &RangeInclusive<T>,
) -> Result<(), SimError> {
    if range.contains(&x) {
        Ok(())
    } else {
        Err(SimError::invalid(what, format!("{x:?} is outside {range:?}")))
    }
}
