//! SVG space-time diagram: one vertical lane per node, simulated time downwards. Delivered
//! messages are arrows from send to arrival; lost messages end in a red cross (at the
//! receiver for "receiver down", a short way along for cut or lost links); a node's crashed
//! interval is shaded grey on its lane; an impaired network (partition or cut) is a pale red
//! band across the diagram. Observations are dots with their label. Labels are drawn over
//! every line, on a white halo, and a message's label moves along its arrow to a free place
//! ([`Labels`]).
//!
//! The time axis is monotone but compressed: runs are mostly quiet (a blocked node retries
//! every few hundred milliseconds; the action takes a few milliseconds), so each step
//! between consecutive event times takes a height proportional to its length, clamped to
//! [`STEP_MIN_PX`, `STEP_MAX_PX`]; a clamped gap is labelled with the time it skips.
//!
//! Written as plain SVG text: the picture is lanes, lines and labels, not a chart, so a
//! plotting library would add weight without adding anything.

use std::fmt::Write;

use super::labels::Labels;
use super::{NodeNames, Sends, clip, describe_action};
use crate::fault::Action;
use crate::process::Protocol;
use crate::trace::{DropReason, TraceEvent, TraceKind};

const LANE_W: f64 = 170.0;
const LEFT: f64 = 110.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 40.0;
/// One millisecond of simulated time is this many pixels, between the clamps below.
const PX_PER_MS: f64 = 10.0;
/// A label line (9 px text and its halo) between two consecutive event times.
const STEP_MIN_PX: f64 = 12.0;
const STEP_MAX_PX: f64 = 36.0;

/// The compressed time axis: the y of every event time, and the gaps it shortened.
struct Axis {
    y_of: std::collections::BTreeMap<u64, f64>,
    breaks: Vec<(f64, u64)>,
}

impl Axis {
    fn new<P: Protocol>(events: &[TraceEvent<P>], height_px_max: f64) -> Axis {
        let mut y_of = std::collections::BTreeMap::new();
        let mut breaks = Vec::new();
        let (mut y, mut prev) = (TOP, None::<u64>);
        for t in events.iter().map(|e| e.time.as_us()) {
            if prev == Some(t) {
                continue;
            }
            if let Some(p) = prev {
                let natural = (t - p) as f64 / 1_000.0 * PX_PER_MS;
                let step = natural.clamp(STEP_MIN_PX, STEP_MAX_PX);
                if natural > STEP_MAX_PX {
                    breaks.push((y + step / 2.0, t - p));
                }
                y += step;
            }
            y_of.insert(t, y);
            prev = Some(t);
        }
        // Shrink uniformly if the drawing would exceed the height asked for.
        let span = y - TOP;
        if span > height_px_max {
            let k = height_px_max / span;
            for v in y_of.values_mut() {
                *v = TOP + (*v - TOP) * k;
            }
            for b in &mut breaks {
                b.0 = TOP + (b.0 - TOP) * k;
            }
        }
        Axis { y_of, breaks }
    }

    fn y(&self, t: u64) -> f64 {
        // Every time drawn is an event time; a time between events takes the next one's y.
        self.y_of
            .range(t..)
            .next()
            .or_else(|| self.y_of.iter().next_back())
            .map(|(_, y)| *y)
            .unwrap_or(TOP)
    }
}

/// Renders `events`; `height_px` bounds the height of the time axis.
pub fn render<P: Protocol>(
    events: &[TraceEvent<P>],
    nodes: u32,
    names: NodeNames<'_>,
    height_px: u32,
) -> String {
    let sends = Sends::index(events);
    let t_end = events.last().map(|e| e.time.as_us()).unwrap_or(0);
    let axis = Axis::new(events, height_px.max(100) as f64);
    let y = |t: u64| axis.y(t);
    let x = |n: crate::NodeId| LEFT + n.0 as f64 * LANE_W;
    let width = LEFT + nodes as f64 * LANE_W;
    let height = y(t_end) + BOTTOM;

    let mut bands = String::new();
    let mut body = String::new();
    // Labels are written last, over every line, each on a white halo, where `Labels` finds
    // room for them.
    let mut labels = Labels::default();
    let mut label_layer = String::new();
    let mut down_since: Vec<Option<u64>> = vec![None; nodes as usize];
    let mut label_y: Vec<f64> = vec![f64::MIN; nodes as usize];
    let mut impaired_since: Option<(u64, String)> = None;
    // The fault that opened a band is labelled where it happened (below); the band itself
    // names it only as a tooltip, so the two labels do not print over each other.
    let close_band = |bands: &mut String, from: u64, to: u64, what: &str| {
        let _ = writeln!(
            bands,
            r##"<rect x="0" y="{:.1}" width="{width:.1}" height="{:.1}" fill="#fbe3e3"><title>{}</title></rect>"##,
            y(from),
            (y(to) - y(from)).max(1.0),
            xml(what)
        );
    };
    // Several faults at one instant stack downwards instead of overprinting.
    let mut fault_label_y = f64::MIN;

    for ev in events {
        let t = ev.time.as_us();
        match &ev.kind {
            TraceKind::Deliver { from, id } => {
                if let Some((_, s)) = sends.get(*id) {
                    let TraceKind::Send { msg, .. } = &s.kind else { unreachable!() };
                    let (x1, y1, x2, y2) = (x(*from), y(s.time.as_us()), x(ev.node), y(t));
                    let _ = writeln!(
                        body,
                        r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" class="msg" marker-end="url(#arrow)"/>"#,
                    );
                    let text = clip(P::label_msg(msg), 28);
                    let (lx, ly) = labels.along((x1, y1), (x2, y2), &text);
                    let _ = writeln!(
                        label_layer,
                        r#"<text x="{lx:.1}" y="{ly:.1}" class="lbl">{}</text>"#,
                        xml(&text)
                    );
                }
            }
            TraceKind::Drop { from, to, id, reason } => {
                let sent_at = sends.get(*id).map(|(_, s)| s.time.as_us()).unwrap_or(t);
                let (x1, y1) = (x(*from), y(sent_at));
                let (x2, y2) = match reason {
                    DropReason::ReceiverDown | DropReason::Cut if t > sent_at => (x(*to), y(t)),
                    _ => (x1 + (x(*to) - x1) * 0.4, y1 + 14.0),
                };
                let _ = writeln!(
                    body,
                    r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" class="lost"/>{}"#,
                    cross(x2, y2)
                );
            }
            TraceKind::Crash { .. } => down_since[ev.node.index()] = Some(t),
            TraceKind::Recover => {
                if let Some(since) = down_since[ev.node.index()].take() {
                    body.push_str(&crashed(x(ev.node), y(since), y(t)));
                }
            }
            TraceKind::Fault { action, .. } => {
                match action.as_ref() {
                    Action::Partition { .. }
                    | Action::CutOneWay { .. }
                    | Action::CutLink { .. }
                        if impaired_since.is_none() =>
                    {
                        impaired_since = Some((t, clip(describe_action(action, names), 60)));
                    }
                    Action::Heal => {
                        if let Some((from, what)) = impaired_since.take() {
                            close_band(&mut bands, from, t, &what);
                        }
                    }
                    _ => {}
                }
                let text = format!("⚡ {}", clip(describe_action(action, names), 40));
                let ly = y(t).max(fault_label_y + STEP_MIN_PX);
                fault_label_y = ly;
                labels.fixed(4.0, ly, &text);
                let _ = writeln!(
                    label_layer,
                    r#"<text x="4" y="{ly:.1}" class="fault">{}</text>"#,
                    xml(&text)
                );
            }
            TraceKind::LivenessPhase => {
                if let Some((from, what)) = impaired_since.take() {
                    close_band(&mut bands, from, t, &what);
                }
                let _ = writeln!(
                    body,
                    r#"<line x1="0" y1="{0:.1}" x2="{width:.1}" y2="{0:.1}" class="phase"/><text x="4" y="{1:.1}" class="fault">liveness phase</text>"#,
                    y(t),
                    y(t) - 3.0
                );
            }
            TraceKind::Observe { obs } => {
                // Several facts at one instant stack downwards instead of overprinting.
                let (cx, mut cy) = (x(ev.node), y(t));
                let last = &mut label_y[ev.node.index()];
                if cy < *last + 10.0 {
                    cy = *last + 10.0;
                }
                *last = cy;
                let _ = writeln!(body, r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3" class="obs"/>"#);
                let text = clip(P::label_obs(obs), 30);
                labels.fixed(cx + 5.0, cy + 3.0, &text);
                let _ = writeln!(
                    label_layer,
                    r#"<text x="{:.1}" y="{:.1}" class="obs">{}</text>"#,
                    cx + 5.0,
                    cy + 3.0,
                    xml(&text)
                );
            }
            _ => {}
        }
    }
    for (i, since) in down_since.iter().enumerate() {
        if let Some(s) = since {
            body.push_str(&crashed(x(crate::NodeId(i as u32)), y(*s), y(t_end) + BOTTOM / 2.0));
        }
    }
    if let Some((from, what)) = impaired_since {
        close_band(&mut bands, from, t_end, &what);
    }

    for (by, skipped_us) in &axis.breaks {
        let _ = writeln!(
            body,
            r#"<text x="{:.1}" y="{:.1}" class="gap">≈ {:.1} ms</text>"#,
            width - 70.0,
            by + 3.0,
            *skipped_us as f64 / 1_000.0
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif">"#
    );
    out.push_str(concat!(
        r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#335"/></marker></defs>"##,
        "\n<style>.msg{stroke:#335;stroke-width:1} .lost{stroke:#c22;stroke-width:1;stroke-dasharray:4 2} ",
        ".x{stroke:#c22;stroke-width:2} .lane{stroke:#999;stroke-width:1} .lbl{font-size:9px;fill:#335} ",
        ".obs{font-size:9px;fill:#070} circle.obs{fill:#070} .fault{font-size:10px;fill:#a40} ",
        "text.lbl,text.obs,text.fault{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round} ",
        ".down{fill:#bbb;opacity:0.7} .phase{stroke:#a40;stroke-dasharray:6 3} .name{font-size:13px;font-weight:bold} .gap{font-size:9px;fill:#888}</style>\n",
    ));
    out.push_str(&bands);
    for n in 0..nodes {
        let id = crate::NodeId(n);
        let _ = writeln!(
            out,
            r#"<text x="{0:.1}" y="{1:.1}" text-anchor="middle" class="name">{2}</text><line x1="{0:.1}" y1="{3:.1}" x2="{0:.1}" y2="{4:.1}" class="lane"/>"#,
            x(id),
            TOP - 25.0,
            xml(&names(id)),
            TOP - 15.0,
            height - 10.0
        );
    }
    out.push_str(&body);
    out.push_str(&label_layer);
    let _ = writeln!(
        out,
        r#"<text x="4" y="{:.1}" class="fault">time flows down (quiet gaps shortened, marked ≈); 0 to {t_end} us</text></svg>"#,
        height - 4.0
    );
    out
}

fn cross(x: f64, y: f64) -> String {
    format!(
        r#"<path d="M {:.1} {:.1} L {:.1} {:.1} M {:.1} {:.1} L {:.1} {:.1}" class="x"/>"#,
        x - 4.0,
        y - 4.0,
        x + 4.0,
        y + 4.0,
        x - 4.0,
        y + 4.0,
        x + 4.0,
        y - 4.0
    )
}

fn crashed(x: f64, y1: f64, y2: f64) -> String {
    format!(
        "<rect x=\"{:.1}\" y=\"{y1:.1}\" width=\"14\" height=\"{:.1}\" class=\"down\"/>\n",
        x - 7.0,
        (y2 - y1).max(2.0)
    )
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
