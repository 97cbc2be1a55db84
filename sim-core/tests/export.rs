//! Human renderings of a trace: Mermaid, ShiViz and SVG.

mod common;

use common::{Msg, Script, Step, lab};
use sim_core::export::{default_name, mermaid, shiviz, svg};
use sim_core::{
    Action, FaultPlan, Latency, LinkConfig, NodeId, SimConfig, Time, TraceLevel, Trigger,
};

/// n0 sends to n1 and n2 at 0 and 20 ms; n2 is down from 10 to 30 ms; 0 -> 1 is cut from
/// 15 ms until the heal at 40 ms.
fn small_run() -> sim_core::Simulation<common::Lab, common::LabNode> {
    let script = Script {
        on_start: vec![vec![
            Step::Send(1, Msg::Data(1)),
            Step::Send(2, Msg::Data(2)),
            Step::SetTimer(20_000, common::Timer::Tick(0)),
        ]],
        tick_period_us: 20_000,
        ticks: 2,
        ping_on_tick: vec![vec![1, 2]],
        ..Script::default()
    };
    let plan = FaultPlan::none()
        .with(
            Trigger::Time { at_us: 10_000 },
            Action::Crash { node: NodeId(2), recover_after_us: Some(20_000) },
        )
        .with(Trigger::Time { at_us: 15_000 }, Action::CutLink { a: NodeId(0), b: NodeId(1) })
        .with(Trigger::Time { at_us: 40_000 }, Action::Heal);
    let link = LinkConfig { latency: Latency::Constant { us: 2_000 }, ..LinkConfig::default() };
    let (mut sim, _) =
        lab(SimConfig::new(3, 1).with_link(link).with_trace(TraceLevel::Full), plan, script);
    sim.run_until(Time::from_ms(60));
    sim
}

#[test]
fn mermaid_shows_deliveries_drops_crashes_and_faults() {
    let sim = small_run();
    let events = sim.trace().events_vec();
    let text = mermaid::render(&events, 3, &default_name, mermaid::MermaidOptions::default());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..4],
        ["sequenceDiagram", "    participant n0", "    participant n1", "    participant n2"]
    );
    assert!(text.contains("    n0->>n1: DATA 1 @2000us"), "{text}");
    assert!(text.contains("    n0-xn1: PING 0 (cut) @20000us"), "{text}");
    assert!(text.contains("    n0-xn2: PING 0 (receiver down) @22000us"), "{text}");
    assert!(text.contains("    Note over n2: CRASH @10000us"), "{text}");
    assert!(text.contains("    Note over n2: recovered from disk @30000us"), "{text}");
    assert!(text.contains("fault @15000us: cut n0 <-> n1"), "{text}");
    assert!(text.contains("fault @10000us: crash n2 (recovers after 20 ms)"), "{text}");
    // Every delivered message is one arrow (none repeats here).
    assert_eq!(text.matches("->>").count() as u64, sim.stats().delivered);
}

#[test]
fn shiviz_log_carries_vector_clocks_across_messages() {
    let sim = small_run();
    let events = sim.trace().events_vec();
    let log = shiviz::render(&events, 3, &default_name);
    let mut lines = log.lines();
    assert_eq!(lines.next(), Some(shiviz::REGEX));
    assert_eq!(lines.next(), Some(""));
    let body: Vec<&str> = lines.collect();
    assert!(body.iter().all(|l| l.starts_with('n') && l.contains(" {")), "{log}");
    // n1 receives Data(1): its clock now includes n0's send (n0: start, observe, send = 3)
    // after its own start and observe (n1 = 2, +1 for the receive).
    let recv = body.iter().find(|l| l.starts_with("n1 ") && l.contains("receive")).unwrap();
    assert_eq!(*recv, "n1 {\"n0\":3,\"n1\":3} @2000us receive message 1 from n0");
}

#[test]
fn svg_space_time_diagram_draws_every_message_and_shades_failures() {
    let sim = small_run();
    let events = sim.trace().events_vec();
    let picture = svg::render(&events, 3, &default_name, 600);
    assert!(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(picture.trim_end().ends_with("</svg>"));
    assert_eq!(picture.matches("class=\"msg\"").count() as u64, sim.stats().delivered);
    let lost =
        sim.stats().dropped_cut + sim.stats().dropped_receiver_down + sim.stats().dropped_loss;
    assert_eq!(picture.matches("class=\"x\"").count() as u64, lost);
    assert_eq!(picture.matches("class=\"down\"").count(), 1, "n2's crashed interval");
    assert_eq!(picture.matches("fill=\"#fbe3e3\"").count(), 1, "the cut interval");
    // Balanced markup: every opened element is closed.
    assert_eq!(picture.matches("<text").count(), picture.matches("</text>").count());
}

#[test]
fn svg_labels_each_fault_once_over_the_lines_and_names_the_band_in_a_tooltip() {
    let sim = small_run();
    let events = sim.trace().events_vec();
    let picture = svg::render(&events, 3, &default_name, 600);
    // The crash, the cut and the heal: one label each, written where they happened.
    let faults: Vec<&str> = picture.lines().filter(|l| l.contains("class=\"fault\">⚡")).collect();
    assert_eq!(faults.len(), 3, "{faults:#?}");
    assert_eq!(picture.matches("cut n0 &lt;-&gt; n1").count(), 2, "the label and the tooltip");
    assert!(picture.contains("<title>cut n0 &lt;-&gt; n1</title></rect>"), "{picture}");
    // Labels are written after every line, so no arrow is drawn over them.
    let last_line = picture.rfind("<line").expect("arrows");
    let first_fault = picture.find("class=\"fault\">").expect("fault labels");
    assert!(first_fault > last_line, "a fault label is drawn under a later line");
}
