//! What a search reports: counts, verdict, the counterexample, and its cost.

use std::time::Duration;

/// The outcome of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every reachable state (within the fault budget) was checked: nothing violated.
    Holds,
    /// A reached state violated a property.
    Violated,
    /// A bound (`max_states`, `max_depth`, the in-flight bound) cut the search before it
    /// finished, and nothing was found in what it did reach.
    Incomplete,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Violated => "violated",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// A path from the initial state to one that violates `property`.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    pub property: String,
    /// The steps, in order, each as one JSON object (`{"event":"timer",...,"choices":[1]}`):
    /// applying them to the initial world reaches the violating state.
    pub steps: Vec<String>,
    /// The trace hash of the world the steps reach: a replay through [`World::apply`]
    /// (`crate::explore::replay`) must reach the same.
    ///
    /// [`World::apply`]: crate::World::apply
    pub trace_hash: u64,
    /// The message of the panic the path ends in, when the property is `no-panic`.
    pub panic: Option<String>,
    /// The path drawn (when the model says how: [`Drawing`](super::Drawing)).
    pub diagrams: Option<super::Diagrams>,
}

/// What a search found and what it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct ExploreReport {
    /// Distinct states reached (the initial one included).
    pub unique_states: u64,
    /// States generated: the initial one plus one per transition taken (duplicates included).
    pub states: u64,
    /// The deepest level a state was reached at (steps from the initial state).
    pub max_depth: u32,
    pub verdict: Verdict,
    pub counterexample: Option<Counterexample>,
    /// Wall time (reporting only).
    pub wall: Duration,
    /// Peak resident memory of the process divided by `unique_states` (0 where unknown).
    pub bytes_per_state: u64,
    /// The threads of the search whose result this is: 1 when it ran (or, for DFS, was run
    /// again) on the calling thread alone (reporting only: the result is the same).
    pub threads_used: usize,
}

impl ExploreReport {
    /// Unique states per second of wall time.
    pub fn states_per_sec(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 { self.unique_states as f64 / secs } else { 0.0 }
    }
}

/// Peak resident memory per unique state, from `/proc/self/status` (0 where unknown).
pub(crate) fn bytes_per_state(unique: u64) -> u64 {
    let peak_kb = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    match peak_kb {
        Some(kb) if unique > 0 => kb * 1024 / unique,
        _ => 0,
    }
}
