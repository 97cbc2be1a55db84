//! Mermaid `sequenceDiagram` of a trace: one arrow per delivered message (drawn when it
//! arrives), a cross-ended arrow per lost one, notes for crashes, recoveries, faults and
//! observations. Meant for short runs: a minimal counterexample fits on a screen.

use std::fmt::Write;

use super::{NodeNames, Sends, label};
use crate::process::Protocol;
use crate::trace::{DropReason, TraceEvent, TraceKind};

/// What to include besides messages, crashes, recoveries and faults.
#[derive(Clone, Copy, Debug)]
pub struct MermaidOptions {
    pub observations: bool,
    pub marks: bool,
    pub timers: bool,
    /// Stop after this many diagram lines (a note says how many events were left out).
    pub max_lines: usize,
    /// Stop at the liveness phase: for a counterexample, the fault phase is the story.
    pub stop_at_liveness: bool,
}

impl Default for MermaidOptions {
    fn default() -> Self {
        MermaidOptions {
            observations: true,
            marks: false,
            timers: true,
            max_lines: 400,
            stop_at_liveness: false,
        }
    }
}

pub fn render<P: Protocol>(
    events: &[TraceEvent<P>],
    nodes: u32,
    names: NodeNames<'_>,
    opts: MermaidOptions,
) -> String {
    let sends = Sends::index(events);
    let mut out = String::from("sequenceDiagram\n");
    for n in 0..nodes {
        let _ = writeln!(out, "    participant {}", names(crate::NodeId(n)));
    }
    let mut lines = 0usize;
    for (i, ev) in events.iter().enumerate() {
        if lines >= opts.max_lines {
            let left = events.len() - i;
            let _ = writeln!(
                out,
                "    Note over {}: … {left} more events not shown",
                names(crate::NodeId(0))
            );
            break;
        }
        let at = names(ev.node);
        let t = ev.time.as_us();
        let line = match &ev.kind {
            TraceKind::Deliver { from, id } => sends.get(*id).map(|(_, s)| {
                let TraceKind::Send { msg, .. } = &s.kind else { unreachable!() };
                format!("{}->>{at}: {} @{t}us", names(*from), esc(&label(msg, 60)))
            }),
            TraceKind::Drop { from, to, id, reason } => sends.get(*id).map(|(_, s)| {
                let TraceKind::Send { msg, .. } = &s.kind else { unreachable!() };
                let why = match reason {
                    DropReason::Cut => "cut",
                    DropReason::Loss => "lost",
                    DropReason::ReceiverDown => "receiver down",
                };
                format!("{}-x{}: {} ({why}) @{t}us", names(*from), names(*to), esc(&label(msg, 50)))
            }),
            TraceKind::Crash { cut } => Some(if *cut > 0 {
                format!("Note over {at}: CRASH @{t}us ({cut} effects cut)")
            } else {
                format!("Note over {at}: CRASH @{t}us")
            }),
            TraceKind::Recover => Some(format!("Note over {at}: recovered from disk @{t}us")),
            TraceKind::Fault { action, .. } => Some(format!(
                "Note over {}: fault @{t}us: {}",
                span(nodes, names),
                esc(&label(action, 80))
            )),
            TraceKind::LivenessPhase if opts.stop_at_liveness => {
                let _ = writeln!(
                    out,
                    "    Note over {}: liveness phase @{t}us: all recovered, network healed (not shown)",
                    span(nodes, names)
                );
                break;
            }
            TraceKind::LivenessPhase => Some(format!(
                "Note over {}: liveness phase: all recovered, network healed @{t}us",
                span(nodes, names)
            )),
            TraceKind::Observe { obs } if opts.observations => {
                Some(format!("Note over {at}: {}", esc(&label(obs, 70))))
            }
            TraceKind::Mark { name } if opts.marks => Some(format!("Note over {at}: mark {name}")),
            TraceKind::TimerFire { timer } if opts.timers => {
                Some(format!("Note over {at}: timeout {} @{t}us", esc(&label(timer, 40))))
            }
            _ => None,
        };
        if let Some(l) = line {
            let _ = writeln!(out, "    {l}");
            lines += 1;
        }
    }
    out
}

/// "Note over a,b" spans from the first to the last participant.
fn span(nodes: u32, names: NodeNames<'_>) -> String {
    let first = names(crate::NodeId(0));
    if nodes <= 1 { first } else { format!("{first},{}", names(crate::NodeId(nodes - 1))) }
}

/// Mermaid treats `;` and `#` specially in message text.
fn esc(s: &str) -> String {
    s.replace(';', ",").replace('#', "no.")
}
