//! Text renderings of fault plans and verdicts for people.

use std::io::Write;

use sim_core::{Action, Fault, NodeId, Trigger};

use crate::error::Result;
use crate::search::Counterexample;

/// One line per fault: "on n0's 1st all-votes-in: crash n0 (no recovery)".
pub fn describe_fault(f: &Fault) -> String {
    describe_fault_with(f, &|n| n.to_string())
}

/// [`describe_fault`] with nodes named by `name` (e.g. their role labels: `coord`, `p1`).
pub fn describe_fault_with(f: &Fault, name: &dyn Fn(NodeId) -> String) -> String {
    let when = match &f.trigger {
        Trigger::Time { at_us } => format!("at {at_us}us"),
        Trigger::Mark { node, mark, nth } => {
            format!("at {}'s {} {mark}", name(*node), ordinal(*nth as u64))
        }
        Trigger::Sends { node, count } => {
            format!("after {}'s {} send", name(*node), ordinal(*count))
        }
        Trigger::AnyMark { mark, nth, after_us: 0 } => {
            format!("at the cluster's {} {mark}", ordinal(*nth as u64))
        }
        Trigger::AnyMark { mark, nth, after_us } => {
            format!("{after_us}us after the cluster's {} {mark}", ordinal(*nth as u64))
        }
    };
    let what = match &f.action {
        Action::Crash { node, recover_after_us: None } => {
            format!("crash {} (no recovery)", name(*node))
        }
        Action::Crash { node, recover_after_us: Some(d) } => {
            format!("crash {}, recover {d}us later", name(*node))
        }
        Action::Recover { node } => format!("recover {}", name(*node)),
        Action::Partition { groups } => {
            let sides: Vec<String> = groups.iter().map(|g| nodes(g, name)).collect();
            format!("partition {} | everyone else", sides.join(" | "))
        }
        Action::CutOneWay { from, to } => format!("cut {} -> {}", name(*from), name(*to)),
        Action::CutLink { a, b } => format!("cut {} <-> {}", name(*a), name(*b)),
        Action::HealLink { a, b } => format!("heal {} <-> {}", name(*a), name(*b)),
        Action::Heal => "heal the network".into(),
        Action::CrashMarked { recover_after_us: None } => {
            "crash the node that emitted it (no recovery)".into()
        }
        Action::CrashMarked { recover_after_us: Some(d) } => {
            format!("crash the node that emitted it, recover {d}us later")
        }
        Action::IsolateMarked { with } => {
            format!("cut the node that emitted it, with {}, off from the rest", nodes(with, name))
        }
        other => format!("{other:?}"),
    };
    format!("{when}: {what}")
}

fn nodes(g: &[NodeId], name: &dyn Fn(NodeId) -> String) -> String {
    let v: Vec<String> = g.iter().map(|&n| name(n)).collect();
    format!("{{{}}}", v.join(","))
}

fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

pub fn print_counterexample(c: &Counterexample, out: &mut dyn Write) -> Result<()> {
    let s = &c.scenario;
    writeln!(out, "minimal fault plan ({} fault(s)), run seed {}:", s.plan.faults.len(), s.seed)?;
    for (i, f) in s.plan.faults.iter().enumerate() {
        writeln!(out, "  {}. {}", i + 1, describe_fault(f))?;
    }
    if !s.votes.per_node.is_empty() {
        let no: Vec<String> = s.votes.per_node.iter().map(|(n, _)| n.to_string()).collect();
        writeln!(out, "  votes: {} votes no", no.join(", "))?;
    }
    if let (true, Some(reason)) = (c.violations.is_empty(), &c.inconclusive) {
        writeln!(out, "verdict: {} inconclusive on this run: {reason} (cut short)", c.property)?;
    } else if c.violations.is_empty() {
        writeln!(out, "verdict: {} holds on this run", c.property)?;
    } else {
        writeln!(out, "verdict: {} VIOLATED", c.property)?;
        for v in &c.violations {
            writeln!(out, "  - [{}] {}", v.property.name(), v.detail)?;
        }
    }
    writeln!(out, "trace_hash={}", c.trace_hash)?;
    Ok(())
}
