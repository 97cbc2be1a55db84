//! A small space-time diagram for a terminal: one vertical lane per node, one line per
//! message (an arrow from the sender's lane to the receiver's, `x` where it was lost) or per
//! noted event (`*` on the node's lane), simulated time down the left.
//!
//! It is drawn from the Mermaid `sequenceDiagram` the engine already renders
//! (`sim_core::export::mermaid`), so it shows exactly the events that exporter shows —
//! repeated retries collapsed into one line — without a second trace walker. Lanes take the
//! names the caller gives (DB-1 instead of p1).

use std::fmt::Write;

/// Width of one lane, in characters.
const LANE: usize = 10;

/// One diagram line, parsed from Mermaid.
enum Line {
    Arrow { from: usize, to: usize, lost: bool, label: String },
    Note { at: usize, text: String },
}

/// The simulated time a Mermaid line names (`@1234us`), in microseconds.
fn time_us(text: &str) -> Option<u64> {
    let at = text.find('@')?;
    let digits: String = text[at + 1..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Whether `token` is a Mermaid time, `@1234us` (with trailing punctuation).
fn is_time(token: &str) -> bool {
    token
        .strip_prefix('@')
        .and_then(|t| t.trim_end_matches([':', ',']).strip_suffix("us"))
        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
}

/// The label without its times (the time column shows them): `@1234us` goes, with the
/// `from` / `and` that introduces it; a colon after it stays.
fn without_time(text: &str) -> String {
    let mut kept: Vec<String> = Vec::new();
    for token in text.split(' ') {
        if is_time(token) {
            if kept.last().is_some_and(|w| w == "from" || w == "and") {
                kept.pop();
            }
            if token.ends_with(':')
                && let Some(w) = kept.last_mut()
            {
                w.push(':');
            }
        } else {
            kept.push(token.to_string());
        }
    }
    kept.join(" ").trim_end_matches(',').to_string()
}

/// `names(label)` renames a Mermaid participant; `keep(text)` filters notes.
pub fn render(
    mermaid: &str,
    names: &dyn Fn(&str) -> String,
    keep_note: &dyn Fn(&str) -> bool,
) -> String {
    let mut lanes: Vec<String> = Vec::new();
    let mut rows: Vec<(Option<u64>, Line)> = Vec::new();
    let lane_of = |lanes: &[String], name: &str| lanes.iter().position(|l| l == name);
    for raw in mermaid.lines().map(str::trim) {
        if let Some(p) = raw.strip_prefix("participant ") {
            lanes.push(p.to_string());
        } else if let Some(rest) = raw.strip_prefix("Note over ") {
            let Some((who, text)) = rest.split_once(": ") else { continue };
            let first = who.split(',').next().unwrap_or(who);
            if let Some(at) = lane_of(&lanes, first).filter(|_| keep_note(text)) {
                rows.push((time_us(text), Line::Note { at, text: without_time(text) }));
            }
        } else if let Some((ends, label)) = raw.split_once(": ") {
            let (lost, pair) = match ends.split_once("-x") {
                Some(p) => (true, p),
                None => (false, ends.split_once("->>").unwrap_or((ends, ""))),
            };
            if let (Some(from), Some(to)) = (lane_of(&lanes, pair.0), lane_of(&lanes, pair.1)) {
                let label = without_time(label);
                rows.push((time_us(raw), Line::Arrow { from, to, lost, label }));
            }
        }
    }
    let mut out = String::new();
    let _ = write!(out, "{:>10}  ", "");
    for l in &lanes {
        let _ = write!(out, "{:<LANE$}", names(l));
    }
    let mut out = out.trim_end().to_string();
    out.push('\n');
    let mut last_us = 0;
    for (t, line) in rows {
        // A note without a time happened where the line before it did.
        let t_us = t.unwrap_or(last_us);
        last_us = t_us;
        let mut cells: Vec<char> = vec![' '; lanes.len() * LANE];
        for i in 0..lanes.len() {
            cells[i * LANE] = '|';
        }
        let text = match line {
            Line::Arrow { from, to, lost, label } => {
                let (a, b) = (from.min(to) * LANE, from.max(to) * LANE);
                for c in &mut cells[a..=b] {
                    *c = '-';
                }
                cells[from * LANE] = 'o';
                cells[to * LANE] = if lost {
                    'x'
                } else if to > from {
                    '>'
                } else {
                    '<'
                };
                label
            }
            Line::Note { at, text } => {
                cells[at * LANE] = '*';
                format!("{}: {text}", names(&lanes[at]))
            }
        };
        let cells: String = cells.into_iter().collect();
        let _ = writeln!(out, "{:>7.1} ms  {}  {text}", t_us as f64 / 1000.0, cells.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_point_from_sender_to_receiver_and_lost_ones_end_in_x() {
        let m = "sequenceDiagram\n    participant coord\n    participant p1\n    \
                 coord->>p1: PREPARE t1 @5000us\n    Note over p1: VOTED t1 yes\n    \
                 p1-xcoord: VOTE t1 yes (receiver down) ×2, @10000us and @20000us\n";
        let d = render(m, &|n| n.replace('p', "DB-"), &|_| true);
        let lines: Vec<&str> = d.lines().collect();
        assert_eq!(lines[0].trim(), "coord     DB-1");
        assert!(lines[1].starts_with("    5.0 ms  o---------> "), "{}", lines[1]);
        assert!(lines[1].ends_with("PREPARE t1"), "{}", lines[1]);
        assert!(lines[2].contains("*  DB-1: VOTED t1 yes"), "{}", lines[2]);
        assert!(lines[2].starts_with("    5.0 ms"), "a note takes the time before it");
        assert!(lines[3].starts_with("   10.0 ms  x---------o"), "{}", lines[3]);
        assert!(lines[3].ends_with("VOTE t1 yes (receiver down) ×2"), "{}", lines[3]);
        assert_eq!(without_time("fault @5000us: crash coord"), "fault: crash coord");
        assert_eq!(
            without_time("INQUIRE ×8, every 135 ms from @45000us"),
            "INQUIRE ×8, every 135 ms"
        );
        assert_eq!(without_time("CRASH @15000us (6 effects cut)"), "CRASH (6 effects cut)");
    }
}
