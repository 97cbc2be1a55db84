//! Mermaid `sequenceDiagram` of a trace: one arrow per delivered message (drawn when it
//! arrives), a cross-ended arrow per lost one, notes for crashes, recoveries, faults and
//! observations. Meant for short runs: a minimal counterexample fits on a screen. A message
//! or timeout that repeats (a blocked node's retries) is drawn once, as
//! `p1->>coord: DECISION-REQUEST t1 ×12, every 30 ms`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{NodeNames, Sends, clip, describe_action};
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

/// One diagram line before repeats are collapsed: `key` is set for lines that may repeat
/// (deliveries, losses, timeouts) and names what repeats, without the time.
struct Line {
    key: Option<String>,
    text: String,
    t: u64,
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
    let mut lines: Vec<Line> = Vec::new();
    let mut tail = None;
    for ev in events {
        let at = names(ev.node);
        let t = ev.time.as_us();
        let repeatable = |key: String| Some(Line { text: key.clone(), key: Some(key), t });
        let once = |text: String| Some(Line { key: None, text, t });
        let line = match &ev.kind {
            TraceKind::Deliver { from, id } => sends.get(*id).and_then(|(_, s)| {
                let TraceKind::Send { msg, .. } = &s.kind else { unreachable!() };
                repeatable(format!(
                    "{}->>{at}: {}",
                    names(*from),
                    esc(&clip(P::label_msg(msg), 60))
                ))
            }),
            TraceKind::Drop { from, to, id, reason } => sends.get(*id).and_then(|(_, s)| {
                let TraceKind::Send { msg, .. } = &s.kind else { unreachable!() };
                let why = match reason {
                    DropReason::Cut => "cut",
                    DropReason::Loss => "lost",
                    DropReason::ReceiverDown => "receiver down",
                };
                let label = esc(&clip(P::label_msg(msg), 50));
                repeatable(format!("{}-x{}: {label} ({why})", names(*from), names(*to)))
            }),
            TraceKind::Crash { cut } => once(if *cut > 0 {
                format!("Note over {at}: CRASH @{t}us ({cut} effects cut)")
            } else {
                format!("Note over {at}: CRASH @{t}us")
            }),
            TraceKind::Recover => once(format!("Note over {at}: recovered from disk @{t}us")),
            TraceKind::Fault { action, .. } => once(format!(
                "Note over {}: fault @{t}us: {}",
                span(nodes, names),
                esc(&clip(describe_action(action, names), 80))
            )),
            TraceKind::LivenessPhase if opts.stop_at_liveness => {
                tail = Some(format!(
                    "Note over {}: liveness phase @{t}us: all recovered, network healed (not shown)",
                    span(nodes, names)
                ));
                break;
            }
            TraceKind::LivenessPhase => once(format!(
                "Note over {}: liveness phase: all recovered, network healed @{t}us",
                span(nodes, names)
            )),
            TraceKind::Observe { obs } if opts.observations => {
                once(format!("Note over {at}: {}", esc(&clip(P::label_obs(obs), 70))))
            }
            TraceKind::Mark { name } if opts.marks => once(format!("Note over {at}: mark {name}")),
            TraceKind::TimerFire { timer } if opts.timers => repeatable(format!(
                "Note over {at}: timeout {}",
                esc(&clip(P::label_timer(timer), 40))
            )),
            _ => None,
        };
        lines.extend(line);
    }

    // A line that repeats (a retry loop while a node is blocked) is drawn once, where it
    // first happens, as "×N, every X ms"; faults, crashes, recoveries and observations (the
    // decisions, the wait) are always drawn.
    let mut repeats: BTreeMap<&str, (usize, u64, u64)> = BTreeMap::new();
    for l in &lines {
        if let Some(k) = &l.key {
            let e = repeats.entry(k).or_insert((0, l.t, l.t));
            e.0 += 1;
            e.2 = l.t;
        }
    }
    let mut drawn = 0usize;
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        let text = match &l.key {
            None => l.text.clone(),
            Some(k) if !seen.insert(k) => continue,
            Some(k) => match repeats[k.as_str()] {
                (n, first, last) if n >= 3 => {
                    let every = (last - first) as f64 / (n - 1) as f64 / 1000.0;
                    format!("{} ×{n}, every {every:.0} ms from @{first}us", l.text)
                }
                (2, first, last) => format!("{} ×2, @{first}us and @{last}us", l.text),
                _ => format!("{} @{}us", l.text, l.t),
            },
        };
        if drawn >= opts.max_lines {
            let left = lines[i..]
                .iter()
                .filter(|l| l.key.as_deref().is_none_or(|k| !seen.contains(k)))
                .count();
            let _ = writeln!(
                out,
                "    Note over {}: … {left} more lines not shown",
                names(crate::NodeId(0))
            );
            tail = None;
            break;
        }
        let _ = writeln!(out, "    {text}");
        drawn += 1;
    }
    if let Some(t) = tail {
        let _ = writeln!(out, "    {t}");
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
