//! The space of fault plans: which nodes and marks faults may hit, when, how many, of which
//! classes, and the range of every parameter. Both samplers read their bounds from here.

use std::ops::{Range, RangeInclusive};

use serde::{Deserialize, Serialize};

use super::class::{FaultClass, FaultKind};
use super::limit::CrashLimit;
use crate::error::{SimError, check_node};
use crate::id::NodeId;

/// What a plan may contain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultSpace {
    /// Faults hit nodes `0..nodes` (and `extra_nodes`).
    pub nodes: u32,
    /// Nodes outside `0..nodes` that faults may also hit (after those, in shrink order),
    /// e.g. Paxos Commit's acceptors, laid out after the client.
    pub extra_nodes: Vec<NodeId>,
    /// Time triggers are drawn in `[0, horizon_us)`.
    pub horizon_us: u64,
    pub classes: Vec<FaultClass>,
    /// At most this many draws per plan (at least 1); a draw may add a heal after its cut.
    pub max_faults: usize,
    /// Protocol points `(node, mark)` a fault may be triggered on; empty = time triggers only.
    pub marks: Vec<(NodeId, String)>,
    /// Effect-level crash points: `(node, sends)` lets a fault fire right after `node`'s
    /// k-th send, for k in `1..=sends` (at most [`FaultSpace::MAX_SENDS`]). A crash there cuts
    /// the rest of that handler, so a bug between two effects with no mark between them (a
    /// send before a persist) is reachable. Empty: no send triggers (the seeded sampler never
    /// draws them, so recorded sweeps keep their plans).
    #[serde(default)]
    pub send_points: Vec<(NodeId, u64)>,
    /// Each limit: at most this many distinct nodes of its set crash in one plan. Independent
    /// of each other; a plan respects every one (empty: no limit).
    #[serde(default)]
    pub crash_limits: Vec<CrashLimit>,
}

impl FaultSpace {
    /// A mark trigger fires on the first or second emission of its mark.
    pub const MARK_NTH: RangeInclusive<u32> = 1..=2;
    /// Loss and duplication probabilities, in thousandths: three decimals read well.
    pub const PERMILLE: RangeInclusive<u32> = 0..=500;
    /// A delay fault's uniform latency starts in this range...
    pub const LATENCY_MIN_US: RangeInclusive<u64> = 1_000..=20_000;
    /// ...and spans this much more.
    pub const LATENCY_EXTRA_US: RangeInclusive<u64> = 0..=100_000;
    /// Timers run up to 20% slow or fast.
    pub const DRIFT_PPM: RangeInclusive<i64> = -200_000..=200_000;
    /// The shortest delay before a crashed node recovers by itself.
    pub const MIN_RECOVERY_US: u64 = 1_000;
    /// Send triggers count at most this many sends of one node: the sends of a transaction
    /// and its first retries, not an endless resend loop of a blocked run.
    pub const MAX_SENDS: u64 = 32;

    pub fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::NoNodes);
        }
        if self.classes.is_empty() {
            return Err(SimError::invalid("classes", "no fault class enabled"));
        }
        if self.max_faults == 0 {
            return Err(SimError::invalid("max_faults", "must be at least 1"));
        }
        if self.horizon_us == 0 {
            return Err(SimError::invalid("horizon_us", "must be positive"));
        }
        for (i, (n, _)) in self.marks.iter().enumerate() {
            if !self.extra_nodes.contains(n) {
                check_node(|| format!("marks[{i}].node"), n.0, self.nodes)?;
            }
        }
        for (i, (n, sends)) in self.send_points.iter().enumerate() {
            if !self.extra_nodes.contains(n) {
                check_node(|| format!("send_points[{i}].node"), n.0, self.nodes)?;
            }
            if !(1..=Self::MAX_SENDS).contains(sends) {
                let why = format!("{sends} is outside 1..={}", Self::MAX_SENDS);
                return Err(SimError::invalid(format!("send_points[{i}].sends"), why));
            }
        }
        Ok(())
    }

    pub fn allows(&self, class: FaultClass) -> bool {
        self.classes.contains(&class)
    }

    /// Every node a fault may hit, in shrink order: a node draw `d` names `targets[d % len]`.
    pub fn targets(&self) -> Vec<NodeId> {
        (0..self.nodes).map(NodeId).chain(self.extra_nodes.iter().copied()).collect()
    }

    /// How many targets there are.
    pub fn target_count(&self) -> usize {
        self.nodes as usize + self.extra_nodes.len()
    }

    /// The kinds of action the enabled classes allow, in [`FaultClass::ALL`] order.
    pub fn kinds(&self) -> Vec<FaultKind> {
        FaultClass::ALL
            .iter()
            .filter(|c| self.allows(**c))
            .flat_map(|c| c.kinds())
            .copied()
            .collect()
    }

    /// When a time-triggered fault may fire.
    pub fn times(&self) -> Range<u64> {
        0..self.horizon_us
    }

    /// When the heal that follows a cut at `at_us` may fire: up to the horizon itself.
    pub fn heal_times(&self, at_us: u64) -> RangeInclusive<u64> {
        at_us..=self.horizon_us
    }

    /// How long after a crash the node may recover by itself (only with [`FaultClass::Recover`]).
    pub fn recovery_delays(&self) -> RangeInclusive<u64> {
        Self::MIN_RECOVERY_US..=self.horizon_us.max(Self::MIN_RECOVERY_US)
    }
}
