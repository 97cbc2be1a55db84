//! Renderings of a full trace for people: a Mermaid sequence diagram (short
//! counterexamples in a README or an issue), a ShiViz log (vector clocks, for the ShiViz
//! visualiser) and an SVG space-time diagram (simulated time downwards, drops as crosses,
//! crashed and partitioned intervals shaded). JSON Lines, for machines, is on `Trace`.
//!
//! All three read only `TraceEvent`s, so they work for any protocol; message labels are
//! the messages' `Debug` form.

pub mod mermaid;
pub mod shiviz;
pub mod svg;

use std::collections::BTreeMap;

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

/// A short label for a message or observation, for diagrams.
pub(crate) fn label<T: std::fmt::Debug>(v: &T, max_chars: usize) -> String {
    let s = format!("{v:?}");
    if s.chars().count() <= max_chars {
        s
    } else {
        let cut: String = s.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
