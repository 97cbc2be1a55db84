//! ShiViz log (https://bestchai.bitbucket.io/shiviz/): every event of every node with its
//! vector clock, so the visualiser can draw happens-before. The first line is the parser
//! regex ShiViz asks for; paste the whole file into ShiViz's input box.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{NodeNames, clip, describe_action};
use crate::process::Protocol;
use crate::trace::{TraceEvent, TraceKind};

/// The regular expression to give ShiViz for this log's lines.
pub const REGEX: &str = r"(?<host>\S*) (?<clock>{.*}) (?<event>.*)";

pub fn render<P: Protocol>(events: &[TraceEvent<P>], nodes: u32, names: NodeNames<'_>) -> String {
    let n = nodes as usize;
    let mut clocks = vec![vec![0u64; n]; n];
    // The sender's clock travels with each message id (duplicates reuse it).
    let mut in_flight: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut out = String::new();
    let _ = writeln!(out, "{REGEX}");
    let _ = writeln!(out);
    for ev in events {
        let me = ev.node.index();
        let text = match &ev.kind {
            TraceKind::Send { to, id, msg } => {
                clocks[me][me] += 1;
                in_flight.insert(*id, clocks[me].clone());
                format!("send {} to {}", clip(P::label_msg(msg), 80), names(*to))
            }
            TraceKind::Deliver { from, id } => {
                if let Some(vc) = in_flight.get(id) {
                    for (mine, theirs) in clocks[me].iter_mut().zip(vc) {
                        *mine = (*mine).max(*theirs);
                    }
                }
                clocks[me][me] += 1;
                format!("receive message {id} from {}", names(*from))
            }
            TraceKind::Drop { .. } | TraceKind::Duplicate { .. } | TraceKind::TimerSet { .. } => {
                continue; // network bookkeeping, not a process event
            }
            other => {
                clocks[me][me] += 1;
                describe(other, names)
            }
        };
        let vc: Vec<String> = clocks[me]
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| format!("\"{}\":{c}", names(crate::NodeId(i as u32))))
            .collect();
        let _ = writeln!(
            out,
            "{} {{{}}} @{}us {}",
            names(ev.node),
            vc.join(","),
            ev.time.as_us(),
            text
        );
    }
    out
}

fn describe<P: Protocol>(kind: &TraceKind<P>, names: NodeNames<'_>) -> String {
    match kind {
        TraceKind::Start => "start".into(),
        TraceKind::TimerCancel { timer } => {
            format!("cancel timer {}", clip(P::label_timer(timer), 60))
        }
        TraceKind::TimerFire { timer } => format!("timeout {}", clip(P::label_timer(timer), 60)),
        TraceKind::Persist { record } => format!("persist {}", clip(P::label_record(record), 80)),
        TraceKind::Mark { name } => format!("mark {name}"),
        TraceKind::Observe { obs } => format!("observe {}", clip(P::label_obs(obs), 80)),
        TraceKind::Crash { cut } => format!("CRASH ({cut} effects cut)"),
        TraceKind::Recover => "recovered from disk".into(),
        TraceKind::Fault { action, .. } => {
            format!("fault {}", clip(describe_action(action, names), 80))
        }
        TraceKind::LivenessPhase => "liveness phase".into(),
        TraceKind::Send { .. }
        | TraceKind::Deliver { .. }
        | TraceKind::Drop { .. }
        | TraceKind::Duplicate { .. }
        | TraceKind::TimerSet { .. } => unreachable!("handled by the caller"),
    }
}
