//! Renderings of a full trace for people: a Mermaid sequence diagram (short
//! counterexamples in a README or an issue), a ShiViz log (vector clocks, for the ShiViz
//! visualiser) and an SVG space-time diagram (simulated time downwards, drops as crosses,
//! crashed and partitioned intervals shaded). JSON Lines, for machines, is on `Trace`.
//!
//! All three read only `TraceEvent`s, so they work for any protocol. Messages, timers,
//! records and observations are labelled by [`Protocol::label_msg`] and its siblings, whose
//! default is [`short_label`]: the value's serde form as protocol words (`VOTE t1 yes`,
//! `DECISION t1 commit`), never a `Debug` dump cut mid-value.

pub use crate::label::short_label;

mod labels;
pub mod mermaid;
pub mod shiviz;
pub mod svg;

use std::collections::BTreeMap;

use crate::fault::Action;
use crate::id::NodeId;
use crate::process::Protocol;
use crate::trace::{TraceEvent, TraceKind};

/// How nodes are called in a rendering (`n0`, or role names a protocol supplies).
pub type NodeNames<'a> = &'a dyn Fn(NodeId) -> String;

pub fn default_name(id: NodeId) -> String {
    id.to_string()
}

/// Sends indexed by message id, so a delivery or drop can be drawn with its message.
pub(crate) struct Sends<'a, P: Protocol> {
    by_id: BTreeMap<u64, (usize, &'a TraceEvent<P>)>,
}

impl<'a, P: Protocol> Sends<'a, P> {
    pub fn index(events: &'a [TraceEvent<P>]) -> Self {
        let by_id = events
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match &e.kind {
                TraceKind::Send { id, .. } => Some((*id, (i, e))),
                _ => None,
            })
            .collect();
        Sends { by_id }
    }

    /// The send event of message `id` and its position in the trace.
    pub fn get(&self, id: u64) -> Option<(usize, &'a TraceEvent<P>)> {
        self.by_id.get(&id).copied()
    }
}

/// A fault's action with nodes by name: `crash coord (recovers after 100 ms)`, `cut p1 -> coord`.
pub fn describe_action(action: &Action, names: NodeNames<'_>) -> String {
    let ms = |us: u64| {
        if us.is_multiple_of(1000) { format!("{} ms", us / 1000) } else { format!("{us} us") }
    };
    match action {
        Action::Crash { node, recover_after_us: None } => format!("crash {}", names(*node)),
        Action::Crash { node, recover_after_us: Some(d) } => {
            format!("crash {} (recovers after {})", names(*node), ms(*d))
        }
        Action::Recover { node } => format!("recover {}", names(*node)),
        Action::Partition { groups } => {
            let sides: Vec<String> = groups
                .iter()
                .map(|g| g.iter().map(|&n| names(n)).collect::<Vec<_>>().join(","))
                .collect();
            format!("partition {} | the rest", sides.join(" | "))
        }
        Action::CutOneWay { from, to } => format!("cut {} -> {}", names(*from), names(*to)),
        Action::CutLink { a, b } => format!("cut {} <-> {}", names(*a), names(*b)),
        Action::HealLink { a, b } => format!("heal {} <-> {}", names(*a), names(*b)),
        Action::Heal => "heal every link".into(),
        Action::ClockDrift { node, ppm } => format!("clock drift {} {ppm} ppm", names(*node)),
        Action::CrashMarked { recover_after_us: None } => "crash the marked node".into(),
        Action::CrashMarked { recover_after_us: Some(d) } => {
            format!("crash the marked node (recovers after {})", ms(*d))
        }
        Action::IsolateMarked { with } => {
            let with: Vec<String> = with.iter().map(|&n| names(n)).collect();
            format!("isolate the marked node with {{{}}}", with.join(","))
        }
        other => short_label(other).to_lowercase(),
    }
}

/// `s`, cut to `max_chars` with an ellipsis (labels are short already; this is a guard).
pub(crate) fn clip(s: String, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s
    } else {
        let cut: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
