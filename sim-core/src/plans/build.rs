//! The one mapping from draws (plain integers) to faults. Both samplers end here: the seeded
//! one feeds integers from a PCG stream, the proptest one integers from strategies that
//! shrink toward 0. Every input builds a fault inside the space — node draws are reduced
//! modulo the targets, the rest clamped into their ranges — so no sampler ever rejects one.

use std::ops::RangeInclusive;

use super::limit::CrashLimit;
use super::space::FaultSpace;
use crate::fault::{Action, Fault, FaultPlan, HashableF64, Trigger};
use crate::id::NodeId;
use crate::network::{Latency, LinkSet};

/// The draws of a trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerDraw {
    Time {
        at_us: u64,
    },
    /// The `index`-th of the space's marks (modulo their number; needs at least one).
    Mark {
        index: usize,
        nth: u32,
    },
    /// Right after the `count`-th send (1-based, modulo its bound) of the `index`-th of the
    /// space's send points (modulo their number; needs at least one).
    Sends {
        index: usize,
        count: u64,
    },
}

/// The draws of one action, by kind. A node is a node draw (see [`FaultSpace::targets`]);
/// `links: None` is every link, `Some(node)` the links touching that node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionDraw {
    Crash {
        node: u64,
        recover_after_us: Option<u64>,
    },
    Recover {
        node: u64,
    },
    /// Target `i` is on the named side if bit `i % 64` of word `i / 64` is set (the words
    /// repeat when there are fewer); an empty side becomes node 0 alone.
    Partition {
        side: Vec<u64>,
    },
    Heal,
    CutOneWay {
        from: u64,
        to: u64,
    },
    HealLink {
        a: u64,
        b: u64,
    },
    Drop {
        links: Option<u64>,
        permille: u32,
    },
    Duplicate {
        links: Option<u64>,
        permille: u32,
    },
    Delay {
        links: Option<u64>,
        min_us: u64,
        extra_us: u64,
    },
    ClockDrift {
        node: u64,
        ppm: i64,
    },
}

impl FaultSpace {
    /// The node a node draw names.
    pub fn node(&self, draw: u64) -> NodeId {
        let i = (draw % self.target_count() as u64) as usize;
        match i.checked_sub(self.nodes as usize) {
            None => NodeId(i as u32),
            Some(extra) => self.extra_nodes[extra],
        }
    }

    /// The node draw that names `node`, a target of this space.
    pub fn draw_of(&self, node: NodeId) -> u64 {
        self.targets().iter().position(|&t| t == node).expect("a target of the space") as u64
    }

    pub fn trigger(&self, draw: TriggerDraw) -> Trigger {
        match draw {
            TriggerDraw::Time { at_us } => Trigger::Time { at_us: at_us.min(self.horizon_us) },
            TriggerDraw::Mark { index, nth } => {
                let (node, mark) = self.marks[index % self.marks.len()].clone();
                Trigger::Mark { node, mark, nth: clamp(nth, &Self::MARK_NTH) }
            }
            TriggerDraw::Sends { index, count } => {
                let (node, sends) = self.send_points[index % self.send_points.len()];
                Trigger::Sends { node, count: 1 + count % sends.max(1) }
            }
        }
    }

    /// The node a trigger draw waits on (none for a time trigger): a crash drawn "at its
    /// own trigger" crashes this node.
    pub fn trigger_node(&self, draw: TriggerDraw) -> Option<NodeId> {
        match draw {
            TriggerDraw::Time { .. } => None,
            TriggerDraw::Mark { index, .. } => Some(self.marks[index % self.marks.len()].0),
            TriggerDraw::Sends { index, .. } => {
                Some(self.send_points[index % self.send_points.len()].0)
            }
        }
    }

    pub fn action(&self, draw: ActionDraw) -> Action {
        let links = |d: Option<u64>| match d {
            None => LinkSet::All,
            Some(n) => LinkSet::Touching { node: self.node(n) },
        };
        let prob = |p: u32| HashableF64(clamp(p, &Self::PERMILLE) as f64 / 1000.0);
        match draw {
            ActionDraw::Crash { node, recover_after_us } => Action::Crash {
                node: self.node(node),
                recover_after_us: recover_after_us.map(|d| clamp(d, &self.recovery_delays())),
            },
            ActionDraw::Recover { node } => Action::Recover { node: self.node(node) },
            ActionDraw::Partition { side } => {
                let targets = self.targets();
                let on = |i: usize| {
                    side.get((i / 64) % side.len().max(1)).is_some_and(|w| w >> (i % 64) & 1 == 1)
                };
                let side: Vec<NodeId> =
                    (0..targets.len()).filter(|&i| on(i)).map(|i| targets[i]).collect();
                Action::Partition {
                    groups: vec![if side.is_empty() { vec![NodeId(0)] } else { side }],
                }
            }
            ActionDraw::Heal => Action::Heal,
            ActionDraw::CutOneWay { from, to } => {
                Action::CutOneWay { from: self.node(from), to: self.node(to) }
            }
            ActionDraw::HealLink { a, b } => Action::HealLink { a: self.node(a), b: self.node(b) },
            ActionDraw::Drop { links: l, permille } => {
                Action::SetDrop { links: links(l), prob: prob(permille) }
            }
            ActionDraw::Duplicate { links: l, permille } => {
                Action::SetDuplicate { links: links(l), prob: prob(permille) }
            }
            ActionDraw::Delay { links: l, min_us, extra_us } => {
                let min_us = clamp(min_us, &Self::LATENCY_MIN_US);
                let max_us = min_us + clamp(extra_us, &Self::LATENCY_EXTRA_US);
                Action::SetLatency { links: links(l), latency: Latency::Uniform { min_us, max_us } }
            }
            ActionDraw::ClockDrift { node, ppm } => {
                Action::ClockDrift { node: self.node(node), ppm: clamp(ppm, &Self::DRIFT_PPM) }
            }
        }
    }

    pub fn fault(&self, trigger: TriggerDraw, action: ActionDraw) -> Fault {
        Fault { trigger: self.trigger(trigger), action: self.action(action) }
    }

    /// The plan of these faults, with every crash limit of the space applied.
    pub fn plan(&self, faults: Vec<Fault>) -> FaultPlan {
        FaultPlan::new(CrashLimit::apply_all(&self.crash_limits, faults))
    }
}

fn clamp<T: Ord + Copy>(x: T, range: &RangeInclusive<T>) -> T {
    x.clamp(*range.start(), *range.end())
}
