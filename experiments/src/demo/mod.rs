//! `commitlab demo`: a guided first run for someone new to commit protocols. For every
//! correct protocol of the catalog, one transaction over three named services — DB-1, DB-2,
//! DB-3 for the commit protocols, an order saga (create order, reserve stock, charge
//! customer) for the sagas — first with no failure, then with the coordinator crashed at
//! the worst moment. Each run is shown as a small space-time diagram ([`lanes`]) and told in
//! plain words: who waits, for whom, and how it ends.
//!
//! Everything said is read from the runs (observations and checker verdicts), never
//! written per protocol, so the demo stays true as protocols change. The worst moment is
//! measured too: the coordinator crash point that leaves the most participants blocked,
//! then the longest doubt, then the latest answer to the client.

pub mod lanes;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use checkers::Property;
use clap::Args;
use protocols::{Observation, ProtocolSpec, Rendering, RunReport, Scenario};
use sim_core::{Action, FaultPlan, Latency, NodeId, TraceLevel, Trigger};

use crate::error::Result;
use crate::exit::Exit;
use crate::metrics::RunMetrics;

#[derive(Args, Debug, Clone, PartialEq)]
pub struct DemoArgs {
    /// Show one protocol only (default: every correct protocol).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Also write each run's SVG space-time diagram into DIR
    /// (demo-PROTOCOL-no-failure.svg, demo-PROTOCOL-coordinator-crash.svg).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// SVG diagrams to write once every run succeeded: (file name, SVG).
type Svgs = Vec<(String, String)>;

/// One-way delay of every message: round numbers in the diagrams.
const DELAY_US: u64 = 5_000;
/// The coordinator stays down this long; then the liveness phase repairs everything.
const DOWN_US: u64 = 1_000_000;
/// Diagram lines at most (a note says how many events were left out).
const MAX_LINES: usize = 40;
/// The order saga's steps, one per service, in step order.
const SAGA_STEPS: [(&str, &str); 3] =
    [("Orders", "create order"), ("Stock", "reserve stock"), ("Payments", "charge customer")];

/// How the demo names a protocol's participants.
fn is_saga(spec: &ProtocolSpec) -> bool {
    spec.has_property("saga-atomicity")
}

fn participant_name(spec: &ProtocolSpec, k: usize) -> String {
    if is_saga(spec) {
        SAGA_STEPS.get(k - 1).map_or(format!("Service-{k}"), |(s, _)| s.to_string())
    } else {
        format!("DB-{k}")
    }
}

/// The demo's scenario: one transaction at every participant, constant delays.
fn scenario(spec: &ProtocolSpec, plan: FaultPlan, trace: TraceLevel) -> Scenario {
    let mut s = Scenario::new(spec.name, SAGA_STEPS.len() as u32, 1, 1);
    s.workload = protocols::workload::Workload::Spread { keys_per_participant: 8 };
    s.network.default.latency = Latency::Constant { us: DELAY_US };
    s.fault_horizon_us = DOWN_US;
    s.liveness_bound_us = Some(DOWN_US);
    s.plan = plan;
    s.trace = trace;
    s
}

fn crash_plan(s: &Scenario, mark: &str) -> Result<FaultPlan> {
    let coordinator = protocols::catalog::roles(s)?
        .first("coordinator")
        .ok_or("demo: the protocol has no coordinator")?;
    Ok(FaultPlan::none().with(
        Trigger::Mark { node: coordinator, mark: mark.to_string(), nth: 1 },
        Action::Crash { node: coordinator, recover_after_us: None },
    ))
}

/// The coordinator crash point that hurts most, measured: (mark, blocked nodes).
fn worst_moment(spec: &ProtocolSpec) -> Result<Option<&'static str>> {
    let mut best: Option<((usize, u64, u64), &'static str)> = None;
    for &mark in spec.coordinator_marks() {
        let base = scenario(spec, FaultPlan::none(), TraceLevel::Off);
        let s = scenario(spec, crash_plan(&base, mark)?, TraceLevel::Off);
        let report = protocols::run(&s)?.report;
        let verdicts = checkers::check(&report, &s.plan);
        let m = RunMetrics::of(&report, &verdicts, u64::MAX);
        let blocked = verdicts.get(Property::NonBlocking).violations().len();
        let score = (blocked, m.worst_in_doubt_us(), m.last_learned_us.unwrap_or(u64::MAX));
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, mark));
        }
    }
    Ok(best.map(|(_, mark)| mark))
}

/// Names every node of a run: DB-k or the saga's services for participants, else the
/// role's own label (coord, client, acceptors).
fn namer(spec: &ProtocolSpec, report: &RunReport) -> impl Fn(NodeId) -> String + use<> {
    let roles = report.roles.clone();
    let spec = *spec;
    move |id| {
        if roles.is(id, "participant") {
            let k = roles.ids("participant").position(|p| p == id).unwrap_or(0) + 1;
            participant_name(&spec, k)
        } else {
            roles.label(id)
        }
    }
}

fn ms(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

fn list(names: &[String]) -> String {
    match names {
        [] => "nobody".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Draws the run's diagram with the demo's names (bookkeeping notes left out); with `svgs`,
/// also its SVG space-time diagram, as `demo-PROTOCOL-WHICH.svg`.
fn diagram(
    spec: &ProtocolSpec,
    s: &Scenario,
    which: &str,
    svgs: Option<&mut Svgs>,
) -> Result<(RunReport, String)> {
    let outcome = protocols::run(s)?;
    let name = namer(spec, &outcome.report);
    let by_label: BTreeMap<String, String> = (0..outcome.report.roles.nodes())
        .map(|n| (outcome.report.roles.label(NodeId(n)), name(NodeId(n))))
        .collect();
    if let Some(svgs) = svgs {
        // The engine's SVG names lanes by role label: rename them as the text does.
        let mut svg = outcome.render(Rendering::Svg { height_px: 900 });
        for (label, name) in by_label.iter().filter(|(l, n)| l != n) {
            svg = svg.replace(&format!(">{label}<"), &format!(">{name}<"));
        }
        svgs.push((format!("demo-{}-{which}.svg", spec.name), svg));
    }
    let mermaid =
        outcome.render(Rendering::Mermaid { max_lines: MAX_LINES, stop_at_liveness: false });
    let rename = |l: &str| by_label.get(l).cloned().unwrap_or_else(|| l.to_string());
    // Bookkeeping a newcomer does not need: the arrows and the decisions tell the story.
    const LEFT_OUT: [&str; 5] =
        ["LOCKS-", "SUBMITTED", "APPLIED", "REPORTED-TO-CLIENT", "CLIENT-LEARNED"];
    let keep = |t: &str| !LEFT_OUT.iter().any(|p| t.starts_with(p));
    Ok((outcome.report, lanes::render(&mermaid, &rename, &keep)))
}

/// How the run ended, in words: each participant's decision (or saga step) and the client's.
fn ending(spec: &ProtocolSpec, report: &RunReport) -> String {
    let name = namer(spec, report);
    let mut decided: BTreeMap<NodeId, (u64, String)> = BTreeMap::new();
    // Only the ending that waited for the repair: everything at or after it.
    let mut learned = None;
    for o in &report.observations {
        let t = o.time.as_us();
        match &o.obs {
            Observation::Decided { outcome, .. } if report.roles.is(o.node, "participant") => {
                decided.insert(o.node, (t, format!("{outcome:?}").to_lowercase()));
            }
            Observation::StepApplied { step, .. } => {
                decided.insert(o.node, (t, format!("step T{step} applied")));
            }
            Observation::CompensationApplied { step, .. } => {
                decided.insert(o.node, (t, format!("step T{step} compensated")));
            }
            Observation::ClientLearned { outcome, .. } if learned.is_none() => {
                learned = Some((t, format!("{outcome:?}").to_lowercase()));
            }
            _ => {}
        }
    }
    let each: Vec<String> =
        decided.iter().map(|(n, (t, what))| format!("{} {what} at {}", name(*n), ms(*t))).collect();
    let mut late: Vec<String> =
        decided.iter().filter(|(_, (t, _))| *t >= DOWN_US).map(|(n, _)| name(*n)).collect();
    if learned.as_ref().is_some_and(|(t, _)| *t >= DOWN_US) {
        late.push("the client's answer".into());
    }
    let client = learned.map_or("the client never learned an outcome".to_string(), |(t, o)| {
        format!("the client learned \"{o}\" at {}", ms(t))
    });
    let each = if each.is_empty() { "no participant decided".into() } else { each.join(", ") };
    if late.is_empty() {
        format!("{each}; {client}.")
    } else {
        format!("{each}; {client}. Waited for the coordinator to come back: {}.", list(&late))
    }
}

/// Who waited, for whom, and for how long, in words.
fn waiting(spec: &ProtocolSpec, s: &Scenario, report: &RunReport) -> String {
    let name = namer(spec, report);
    let verdicts = checkers::check(report, &s.plan);
    let blocked = verdicts.get(Property::NonBlocking).violations();
    if !blocked.is_empty() {
        let who: Vec<String> =
            blocked.iter().flat_map(|v| v.nodes.iter().map(|n| name(*n))).collect();
        let on: Vec<String> = blocked
            .iter()
            .flat_map(|v| v.waiting_on.iter().flat_map(|w| w.down.iter().map(|n| name(*n))))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let since = blocked.iter().filter_map(|v| v.since).map(|t| t.as_us()).min().unwrap_or(0);
        return format!(
            "{} voted yes and then could not decide without {} (down): BLOCKED from {} until the \
             failure was repaired, holding their locks.",
            list(&who),
            list(&on),
            ms(since)
        );
    }
    let m = RunMetrics::of(report, &verdicts, u64::MAX);
    if m.in_doubt_us.is_empty() {
        if is_saga(spec) {
            return "Nobody holds a lock or waits in doubt: each step committed on its own.".into();
        }
        return "Nobody was left in doubt.".into();
    }
    format!(
        "Participants were in doubt for up to {}, then decided without the coordinator: not blocked.",
        ms(m.worst_in_doubt_us())
    )
}

fn intro(spec: &ProtocolSpec) -> String {
    if is_saga(spec) {
        let steps: Vec<String> = SAGA_STEPS
            .iter()
            .enumerate()
            .map(|(i, (svc, what))| format!("T{} {what} at {svc}", i + 1))
            .collect();
        format!(
            "An order saga: {}. Each step commits locally at once; if one fails, the steps \
             before it are undone by compensations, in reverse.",
            steps.join(", ")
        )
    } else {
        "One transaction writes to DB-1, DB-2 and DB-3: all of them commit, or none.".into()
    }
}

/// Tells one protocol's story.
fn tell(spec: &ProtocolSpec, out: &mut impl Write, mut svgs: Option<&mut Svgs>) -> Result<()> {
    writeln!(out, "=== {} — {}", spec.name, spec.summary)?;
    writeln!(out, "{} Every message takes {}.", intro(spec), ms(DELAY_US))?;
    writeln!(out)?;
    let calm = scenario(spec, FaultPlan::none(), TraceLevel::Full);
    let (report, picture) = diagram(spec, &calm, "no-failure", svgs.as_deref_mut())?;
    writeln!(out, "1. No failure:")?;
    write!(out, "{picture}")?;
    writeln!(out, "   How it ends: {}", ending(spec, &report))?;
    writeln!(
        out,
        "   Cost: {} protocol messages, {} forced disk writes.",
        report.messages.protocol, report.stats.disk_writes
    )?;
    writeln!(out)?;
    let Some(mark) = worst_moment(spec)? else {
        writeln!(out, "(no coordinator crash point to show)")?;
        return Ok(());
    };
    let crash = scenario(spec, crash_plan(&calm, mark)?, TraceLevel::Full);
    let (report, picture) = diagram(spec, &crash, "coordinator-crash", svgs)?;
    writeln!(
        out,
        "2. The coordinator crashes at the worst moment, right after `{mark}`, and stays down \
         until {} (then everything is repaired):",
        ms(DOWN_US)
    )?;
    write!(out, "{picture}")?;
    writeln!(out, "   Who waits, for whom: {}", waiting(spec, &crash, &report))?;
    writeln!(out, "   How it ends: {}", ending(spec, &report))?;
    writeln!(out)?;
    Ok(())
}

/// `commitlab demo`.
pub fn main(args: &DemoArgs, out: &mut impl Write) -> Result<Exit> {
    let specs: Vec<&ProtocolSpec> = match &args.protocol {
        Some(name) => {
            let spec = protocols::catalog::lookup(name)?;
            if !spec.decides_transactions() {
                return Err(format!(
                    "--protocol {name}: the demo tells transactions of commit protocols and \
                     sagas; {name} replicates a log (try `commitlab run --protocol {name}`)"
                )
                .into());
            }
            vec![spec]
        }
        None => {
            protocols::catalog().iter().filter(|s| s.correct && s.decides_transactions()).collect()
        }
    };
    writeln!(
        out,
        "commitlab demo: one transaction per protocol, first with no failure, then with its \
         coordinator crashed. Diagrams: time runs down; o--> is a message from o to >, x a \
         message lost, * something a node did or noticed.\n"
    )?;
    let mut svgs: Svgs = Vec::new();
    for spec in specs {
        tell(spec, out, args.out.as_ref().map(|_| &mut svgs))?;
    }
    if let Some(dir) = &args.out {
        for (name, svg) in &svgs {
            let path = dir.join(name);
            crate::output::write_atomically(&path, "the demo's diagram", |w| {
                w.write_all(svg.as_bytes())
            })?;
            writeln!(out, "wrote {}", path.display())?;
        }
    }
    writeln!(
        out,
        "Next: `commitlab compare` measures all of this over many runs, beside the textbook's claims."
    )?;
    Ok(Exit::Success)
}
