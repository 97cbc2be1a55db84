//! Renderings of a full trace for people: a Mermaid sequence diagram (short
//! counterexamples in a README or an issue), a ShiViz log (vector clocks, for the ShiViz
//! visualiser) and an SVG space-time diagram (simulated time downwards, drops as crosses,
//! crashed and partitioned intervals shaded). JSON Lines, for machines, is on `Trace`.
//!
//! All three read only `TraceEvent`s, so they work for any protocol. Messages, timers,
//! records and observations are labelled by [`Protocol::label_msg`] and its siblings, whose
//! default is [`short_label`]: the value's serde form as protocol words (`VOTE t1 yes`,
//! `DECISION t1 commit`), never a `Debug` dump cut mid-value.

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

/// Serde tag fields whose value names the variant (`#[serde(tag = "msg")]` and the like).
const TAG_KEYS: [&str; 8] = ["msg", "obs", "type", "kind", "tag", "do", "on", "record"];

/// A value's serde form as a few protocol words, for diagrams: the variant name in capitals
/// (`DECISION-REQUEST`), then its scalar fields in order, a `txn` field as `t1` (a transaction
/// struct by its `id`); lists are left out. `Vote { txn: TxnId(1), vote: Yes }` serialised as
/// `{"msg":"vote","txn":1,"vote":"yes"}` reads `VOTE t1 yes`.
pub fn short_label<T: serde::Serialize + ?Sized>(v: &T) -> String {
    let value = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    let mut words = Vec::new();
    match &value {
        // A unit variant.
        serde_json::Value::String(s) => words.push(variant_word(s)),
        v => push_words(v, &mut words),
    }
    words.join(" ")
}

fn variant_word(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 && !out.ends_with('-') {
            out.push('-');
        }
        out.push(if c == '_' { '-' } else { c.to_ascii_uppercase() });
    }
    out
}

fn push_words(v: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match v {
        Value::Null | Value::Array(_) => {}
        Value::Bool(b) => out.push(b.to_string()),
        Value::Number(n) => out.push(n.to_string()),
        Value::String(s) => out.push(s.clone()),
        // Externally tagged: {"Variant": fields}.
        Value::Object(m) if m.len() == 1 && !m.contains_key("txn") => {
            let (k, inner) = m.iter().next().expect("one entry");
            out.push(variant_word(k));
            push_words(inner, out);
        }
        Value::Object(m) => {
            for (k, v) in m {
                if let (true, Value::String(s)) = (TAG_KEYS.contains(&k.as_str()), v) {
                    out.push(variant_word(s));
                }
            }
            // The transaction first, then the other fields (in serde_json's key order).
            match m.get("txn") {
                Some(Value::Number(n)) => out.push(format!("t{n}")),
                Some(Value::Object(t)) if t.get("id").is_some_and(Value::is_number) => {
                    out.push(format!("t{}", t["id"]))
                }
                Some(other) => push_words(other, out),
                None => {}
            }
            for (k, v) in m {
                if k != "txn" && !(TAG_KEYS.contains(&k.as_str()) && v.is_string()) {
                    push_words(v, out);
                }
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    #[serde(tag = "msg", rename_all = "snake_case")]
    enum Msg {
        Vote { txn: u64, vote: &'static str },
        Request { attempt: u32, txn: u64 },
        DecisionRequest { txn: u64 },
        Prepare { txn: u64, writes: Vec<u32> },
    }

    #[derive(Serialize)]
    enum Timer {
        Retry(u64),
        Think,
    }

    #[test]
    fn short_labels_read_as_protocol_words() {
        assert_eq!(short_label(&Msg::Vote { txn: 1, vote: "yes" }), "VOTE t1 yes");
        assert_eq!(short_label(&Msg::DecisionRequest { txn: 3 }), "DECISION-REQUEST t3");
        assert_eq!(short_label(&Msg::Prepare { txn: 2, writes: vec![1, 2] }), "PREPARE t2");
        assert_eq!(short_label(&Msg::Request { attempt: 2, txn: 5 }), "REQUEST t5 2");
        assert_eq!(short_label(&Timer::Retry(4)), "RETRY 4");
        assert_eq!(short_label(&Timer::Think), "THINK");
    }
}
