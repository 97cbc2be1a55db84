//! The corpus of the feedback-guided search: fault plans whose runs reached coverage no
//! earlier run had, each with the protocol points its run passed *after its last fault* —
//! the points where one more fault starts a cascade (AFL's queue, over fault plans).
//!
//! Coverage is generic (no protocol is named): which `(node, mark)` a run emitted and how
//! often (1st, 2nd, 3rd or later), and at which cascade depth (how many of the plan's faults
//! had fired when it was emitted). A run that shows a mark only after two faults, say an
//! election after a crash and a split, is new even if the mark was seen after one fault.
//!
//! Everything here is a pure function of the runs fed to it, in the order they are fed:
//! the search feeds them in case order, so the corpus is the same on every machine.

use std::collections::{BTreeMap, BTreeSet};

use protocols::{Fact, RunOutcome, TraceFact};
use sim_core::{Action, Fault, FaultKind, NodeId, Trigger};

/// Cascade depths beyond this count as this one.
const MAX_DEPTH: u32 = 4;
/// Emission counts beyond this count as this one.
const MAX_NTH_BUCKET: u32 = 3;
/// Points kept per corpus entry: the first ones after its last fault.
pub const MAX_POINTS: usize = 48;
/// A point's emission count (its mark trigger's `nth`) is at most this.
pub const MAX_POINT_NTH: u32 = 16;
/// Corpus entries kept at most; later runs with new coverage still add their coverage.
pub const MAX_ENTRIES: usize = 16_384;

/// A point a fault can be triggered on: right after `node`'s `nth` emission of `mark`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub node: NodeId,
    pub mark: String,
    pub nth: u32,
}

/// A plan whose run reached new coverage.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The run seed and the participant voting no: a child keeps them, so its run is the
    /// same as this one's up to the fault it adds.
    pub seed: u64,
    pub no_voter: Option<u32>,
    /// The plan's faults that fired, in plan order (those that did not fire changed nothing).
    pub faults: Vec<Fault>,
    /// When the last of them fired (0 with none).
    pub last_us: u64,
    /// The marks emitted from then on, the first of each `(node, mark)` first.
    pub points: Vec<Point>,
    /// The nodes the plan crashes (a recovery's targets).
    pub crashed: Vec<NodeId>,
    /// Children derived so far.
    pub children: u32,
}

/// Coverage seen so far, and the entries that brought it.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    seen: BTreeSet<Feature>,
    pub entries: Vec<Entry>,
}

/// One unit of coverage: `(node, mark, emission count)`, `(depth, node, mark)`, or the
/// mark and the last fault that fired before it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Feature {
    Count { node: NodeId, mark: String, nth: u32 },
    Depth { depth: u32, node: NodeId, mark: String },
    After { fault: Summary, node: NodeId, mark: String },
}

/// A fault as coverage reads it: its kind, the nodes it acts on and the point it fires at
/// (none for a time trigger); not its times, delays or probabilities.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Summary {
    kind: Option<FaultKind>,
    nodes: Vec<NodeId>,
    at: Option<(NodeId, String)>,
}

impl Summary {
    fn of(fault: &Fault) -> Summary {
        let nodes = match &fault.action {
            Action::Crash { node, .. } | Action::Recover { node } => vec![*node],
            Action::Partition { groups } => groups.first().cloned().unwrap_or_default(),
            Action::CutOneWay { from: a, to: b }
            | Action::CutLink { a, b }
            | Action::HealLink { a, b } => vec![*a, *b],
            _ => vec![],
        };
        let at = match &fault.trigger {
            Trigger::Mark { node, mark, .. } => Some((*node, mark.clone())),
            Trigger::Sends { node, .. } => Some((*node, "send".to_string())),
            Trigger::Time { .. } | Trigger::AnyMark { .. } => None,
        };
        Summary { kind: FaultKind::of(&fault.action), nodes, at }
    }
}

/// A run, as the corpus reads it: the case that made it and its facts.
pub struct Run<'a> {
    pub seed: u64,
    pub no_voter: Option<u32>,
    /// The case's own faults (after the search's fixed ones), in plan order.
    pub faults: &'a [Fault],
    /// The fixed faults the run's plan starts with.
    pub fixed_faults: &'a [Fault],
    pub outcome: &'a RunOutcome,
    /// The run's full trace in the shared vocabulary.
    pub facts: &'a [TraceFact],
    /// Whether a node may be a fault's target (every node but the clients).
    pub is_target: &'a dyn Fn(NodeId) -> bool,
}

impl Corpus {
    /// Adds `run` as an entry if it reached coverage no earlier run had; returns whether it did.
    pub fn learn(&mut self, run: &Run) -> bool {
        let report = &run.outcome.report;
        let fixed = run.fixed_faults.len();
        let fired_at = |i: usize| report.faults_fired_at_us.get(fixed + i).copied().flatten();
        let faults: Vec<(Fault, u64)> = (run.faults.iter().enumerate())
            .filter_map(|(i, f)| Some((f.clone(), fired_at(i)?)))
            .collect();
        // Every fault that fired, the fixed ones too (they are part of every cascade), in
        // the order they fired.
        let plan = run.fixed_faults.iter().chain(run.faults);
        let mut fired: Vec<(u64, usize, Summary)> = (plan.enumerate())
            .filter_map(|(i, f)| {
                Some((report.faults_fired_at_us.get(i).copied()??, i, Summary::of(f)))
            })
            .collect();
        fired.sort();
        let last_us = faults.iter().map(|f| f.1).max().unwrap_or(0);

        let mut new = false;
        let mut counts: BTreeMap<(NodeId, &str), u32> = BTreeMap::new();
        let mut points: Vec<Point> = Vec::new();
        for fact in run.facts {
            let Fact::Mark(mark) = &fact.what else { continue };
            if !(run.is_target)(fact.node) {
                continue;
            }
            let nth = counts.entry((fact.node, mark.as_str())).or_default();
            *nth += 1;
            let t = fact.time.as_us();
            let depth = fired.partition_point(|f| f.0 <= t);
            let node = fact.node;
            let mut features = vec![
                Feature::Count { node, mark: mark.clone(), nth: (*nth).min(MAX_NTH_BUCKET) },
                Feature::Depth { depth: (depth as u32).min(MAX_DEPTH), node, mark: mark.clone() },
            ];
            if let Some(last) = depth.checked_sub(1) {
                let fault = fired[last].2.clone();
                features.push(Feature::After { fault, node, mark: mark.clone() });
            }
            for feature in features {
                if !self.seen.contains(&feature) {
                    self.seen.insert(feature);
                    new = true;
                }
            }
            let seen_point = |p: &Point| p.node == node && p.mark == *mark;
            if t >= last_us
                && *nth <= MAX_POINT_NTH
                && points.len() < MAX_POINTS
                && points.iter().filter(|p| seen_point(p)).count() < 2
            {
                points.push(Point { node, mark: mark.clone(), nth: *nth });
            }
        }
        if !new || self.entries.len() >= MAX_ENTRIES {
            return new;
        }
        // The first emission of each (node, mark) after the last fault comes first.
        let (mut firsts, seconds): (Vec<Point>, Vec<Point>) = {
            let mut firsts = Vec::new();
            let mut seconds = Vec::new();
            for p in points {
                if firsts.iter().any(|f: &Point| f.node == p.node && f.mark == p.mark) {
                    seconds.push(p);
                } else {
                    firsts.push(p);
                }
            }
            (firsts, seconds)
        };
        firsts.extend(seconds);
        let mut crashed: Vec<NodeId> = (faults.iter())
            .filter_map(|f| match f.0.action {
                Action::Crash { node, .. } => Some(node),
                _ => None,
            })
            .collect();
        crashed.sort_unstable();
        crashed.dedup();
        self.entries.push(Entry {
            seed: run.seed,
            no_voter: run.no_voter,
            faults: faults.into_iter().map(|f| f.0).collect(),
            last_us,
            points: firsts,
            crashed,
            children: 0,
        });
        true
    }

    /// How many units of coverage have been seen.
    pub fn coverage(&self) -> usize {
        self.seen.len()
    }
}
