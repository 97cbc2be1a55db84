//! `commitlab run`: one scenario, from flags or a TOML file, checked by every checker and
//! summarised (text or one JSON object), with optional trace exports and diagrams.
//!
//! Exit code: 0 when atomicity held, 1 when a safety property failed (AC1–AC4, durability,
//! conservation, saga atomicity) or a node panicked. Blocking and termination failures are
//! reported but are not exit 1: they are the expected behaviour of a blocking protocol, not
//! a bug in it. A run a bound cut short is reported `inconclusive` (with the reason) and
//! its exit code follows the same rule: a safety violation seen before the cut is real
//! (exit 1); otherwise exit 0, with the properties that needed a finished run said to be
//! inconclusive rather than holding.

mod consensus;
pub mod flags;

use std::io::Write;
use std::path::Path;

use protocols::{Rendering, Scenario};
use serde::Serialize;

pub use flags::RunArgs;

use crate::error::Result;
use crate::exit::Exit;
use crate::metrics::{RunMetrics, mean, percentile};
use crate::output::write_atomically;
use consensus::ConsensusSummary;

/// The summary of one run: what `--json` prints.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub protocol: String,
    pub seed: u64,
    pub participants: u32,
    pub txns: u64,
    /// The run's trace hash, 16 hex digits: same scenario, same hash.
    pub trace_hash: String,
    /// Every send, client traffic included.
    pub messages: u64,
    /// Coordinator–participant and participant–participant messages only.
    pub protocol_messages: u64,
    pub disk_writes: u64,
    pub crashes: u64,
    pub committed: u64,
    pub aborted: u64,
    /// Submitted but never reported to the client.
    pub undecided: u64,
    /// Some up participant was still in doubt at the end of the fault phase.
    pub blocked: bool,
    /// One line per blocked participant: who, on what, since when, waiting on what.
    pub blocked_participants: Vec<String>,
    /// One line per participant that crashed, recovered and was in doubt at the end of the
    /// fault phase: waiting for others after its own failure, not blocked (README,
    /// "Verdicts").
    pub waiting_after_recovery: Vec<String>,
    /// Submitted to ClientLearned, per transaction.
    pub decision_mean_ms: f64,
    pub decision_median_ms: f64,
    pub decision_p99_ms: f64,
    /// Longest and summed in-doubt intervals of the participants.
    pub in_doubt_max_ms: f64,
    pub in_doubt_total_ms: f64,
    pub lock_held_max_ms: f64,
    pub lock_held_mean_ms: f64,
    /// Why a bound cut the run short (`event budget of N events exhausted in the fault
    /// phase`); absent when the run ran its course. The properties that needed a finished
    /// run are then `inconclusive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<String>,
    /// Bank workload: transactions conservation could not judge (outcome unknown, or held
    /// back by a failure still in force); its verdict covers the others.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conservation_not_judged: Vec<String>,
    /// Property name to `holds`, `violated`, `not-applicable` or `inconclusive`.
    pub verdicts: std::collections::BTreeMap<String, String>,
    /// One line per violation.
    pub violations: Vec<String>,
    /// Per fault of the plan, in plan order: whether it fired and when.
    pub faults: Vec<FaultFired>,
    /// A replicated log's operations and leaders (absent for commit protocols and sagas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusSummary>,
}

/// What became of one fault of the plan.
#[derive(Debug, Serialize)]
pub struct FaultFired {
    /// The fault in words (`at coord's 1st all-votes-in: crash coord (no recovery)`).
    pub fault: String,
    pub fired: bool,
    /// Simulated time it fired at, in µs; `null` when it never fired.
    pub at_us: Option<u64>,
}

fn to_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Summary {
    fn new(s: &Scenario, report: &protocols::RunReport, verdicts: &checkers::Verdicts) -> Self {
        let m = RunMetrics::of(report, verdicts, u64::MAX);
        Summary {
            protocol: s.protocol.clone(),
            seed: s.seed,
            participants: s.participants,
            txns: s.txns,
            trace_hash: format!("{:016x}", report.trace_hash),
            messages: report.messages.total,
            protocol_messages: report.messages.protocol,
            disk_writes: m.disk_writes,
            crashes: m.crashes,
            committed: m.committed,
            aborted: m.aborted,
            undecided: m.txns_submitted.saturating_sub(m.committed + m.aborted)
                + s.txns.saturating_sub(m.txns_submitted),
            blocked: m.blocked,
            blocked_participants: verdicts
                .get(checkers::Property::NonBlocking)
                .violations()
                .iter()
                .map(|v| v.detail.clone())
                .collect(),
            waiting_after_recovery: verdicts
                .waiting_after_recovery
                .iter()
                .map(|w| w.detail.clone())
                .collect(),
            decision_mean_ms: mean(&m.decision_latencies_us) / 1000.0,
            decision_median_ms: to_ms(percentile(&m.decision_latencies_us, 50.0)),
            decision_p99_ms: to_ms(percentile(&m.decision_latencies_us, 99.0)),
            in_doubt_max_ms: to_ms(m.worst_in_doubt_us()),
            in_doubt_total_ms: to_ms(m.in_doubt_us.iter().sum()),
            lock_held_max_ms: to_ms(m.worst_lock_held_us()),
            lock_held_mean_ms: mean(&m.lock_held_us) / 1000.0,
            inconclusive: verdicts.inconclusive.clone(),
            conservation_not_judged: (verdicts.conservation_not_judged.iter())
                .map(|t| t.to_string())
                .collect(),
            verdicts: verdicts
                .verdicts
                .iter()
                .map(|(p, v)| (p.name().to_string(), v.status().to_string()))
                .collect(),
            violations: verdicts
                .violated()
                .map(|v| format!("{}: {}", v.property.name(), v.detail))
                .collect(),
            faults: s
                .plan
                .faults
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let at_us = report.faults_fired_at_us.get(i).copied().flatten();
                    FaultFired {
                        fault: crate::report::describe_fault_with(f, &|n| report.roles.label(n)),
                        fired: report.faults_fired.get(i).copied().unwrap_or(false),
                        at_us,
                    }
                })
                .collect(),
            consensus: ConsensusSummary::of(report),
        }
    }

    /// The commit outcomes, cost, latency and doubt lines.
    fn write_commit_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "outcomes: committed={} aborted={} undecided={} blocked={}",
            self.committed, self.aborted, self.undecided, self.blocked
        )?;
        writeln!(
            out,
            "cost: messages={} (protocol {}) disk_writes={} crashes={}",
            self.messages, self.protocol_messages, self.disk_writes, self.crashes
        )?;
        writeln!(
            out,
            "decision latency (submitted -> client learned): mean={:.3}ms median={:.3}ms p99={:.3}ms",
            self.decision_mean_ms, self.decision_median_ms, self.decision_p99_ms
        )?;
        writeln!(
            out,
            "in doubt: longest={:.3}ms total={:.3}ms; locks held: longest={:.3}ms mean={:.3}ms",
            self.in_doubt_max_ms,
            self.in_doubt_total_ms,
            self.lock_held_max_ms,
            self.lock_held_mean_ms
        )?;
        Ok(())
    }

    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        write_heading(
            out,
            &self.protocol,
            self.seed,
            self.participants,
            self.txns,
            &self.trace_hash,
        )?;
        if let Some(c) = &self.consensus {
            writeln!(
                out,
                "cost: messages={} (protocol {}) disk_writes={} crashes={}",
                self.messages, self.protocol_messages, self.disk_writes, self.crashes
            )?;
            c.write_text(out)?;
        } else {
            self.write_commit_text(out)?;
        }
        if let Some(reason) = &self.inconclusive {
            writeln!(out, "inconclusive: {reason} (the run was cut short)")?;
        }
        write_verdicts(out, &self.verdicts, &self.violations)?;
        if !self.conservation_not_judged.is_empty() {
            let txns = self.conservation_not_judged.join(", ");
            writeln!(out, "  conservation did not judge {txns}: outcome unknown or held back")?;
        }
        for w in &self.waiting_after_recovery {
            writeln!(out, "  waiting after recovery (not blocked): {w}")?;
        }
        for (i, f) in self.faults.iter().enumerate().filter(|(_, f)| !f.fired) {
            writeln!(out, "warning: fault {} never fired: {}", i + 1, f.fault)?;
        }
        Ok(())
    }
}

/// What `--diagram PATH` draws, from its extension (`run` and `replay`).
pub(crate) fn diagram_kind(path: &Path) -> Result<Rendering> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => Ok(Rendering::Svg { height_px: 1200 }),
        Some("mmd") => Ok(Rendering::Mermaid { max_lines: 400, stop_at_liveness: false }),
        _ => Err(format!("--diagram {}: expected a .svg or .mmd file", path.display()).into()),
    }
}

/// What `run` prints when a node panicked: the run has no report, only the finding.
#[derive(Debug, Serialize)]
struct PanicSummary<'a> {
    protocol: &'a str,
    seed: u64,
    participants: u32,
    txns: u64,
    /// `panicked`: the trace died with the run.
    trace_hash: &'a str,
    verdicts: std::collections::BTreeMap<&'a str, &'a str>,
    violations: Vec<String>,
}

impl PanicSummary<'_> {
    fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        write_heading(
            out,
            self.protocol,
            self.seed,
            self.participants,
            self.txns,
            self.trace_hash,
        )?;
        write_verdicts(out, &self.verdicts, &self.violations)
    }
}

/// The first line of `run`'s text summary: what ran.
fn write_heading(
    out: &mut impl Write,
    protocol: &str,
    seed: u64,
    participants: u32,
    txns: u64,
    trace_hash: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{protocol} seed={seed} participants={participants} txns={txns} trace_hash={trace_hash}"
    )
}

/// The verdict table and one line per violation.
fn write_verdicts<K: std::fmt::Display, V: std::fmt::Display>(
    out: &mut impl Write,
    verdicts: &std::collections::BTreeMap<K, V>,
    violations: &[String],
) -> std::io::Result<()> {
    writeln!(out, "verdicts:")?;
    for (p, v) in verdicts {
        writeln!(out, "  {p:<28} {v}")?;
    }
    for v in violations {
        writeln!(out, "  ! {v}")?;
    }
    Ok(())
}

/// Runs `commitlab run`.
pub fn run(args: &RunArgs, out: &mut impl Write) -> Result<Exit> {
    // Every input is checked before anything runs or is written.
    let scenario = flags::resolve(args)?;
    run_resolved(protocols::catalog::lookup(&scenario.protocol)?, &scenario, args, out)
}

/// [`run`] of an already resolved `scenario` with protocol `spec` (one from outside the
/// catalog, too). A panic inside a node is a `no-panic` violation (exit 1) reported with its
/// message, and no output file is written: there is no finished run to write.
pub fn run_resolved(
    spec: &protocols::catalog::ProtocolSpec,
    scenario: &Scenario,
    args: &RunArgs,
    out: &mut impl Write,
) -> Result<Exit> {
    let diagram = args.diagram.as_deref().map(|p| diagram_kind(p).map(|k| (p, k))).transpose()?;
    let caught = crate::search::catching::run_catching(spec, scenario)?;
    let outcome = match caught {
        Ok(outcome) => outcome,
        Err(panic) => {
            let summary = PanicSummary {
                protocol: &scenario.protocol,
                seed: scenario.seed,
                participants: scenario.participants,
                txns: scenario.txns,
                trace_hash: crate::search::counterexample::PANICKED,
                verdicts: [(checkers::Property::NoPanic.name(), "violated")].into(),
                violations: vec![format!("{}: {}", panic.property.name(), panic.detail)],
            };
            if args.json {
                serde_json::to_writer(&mut *out, &summary)?;
                writeln!(out)?;
            } else {
                summary.write_text(out)?;
            }
            return Ok(Exit::PropertyFailed);
        }
    };
    let verdicts = checkers::check(&outcome.report, &scenario.plan);
    let summary = Summary::new(scenario, &outcome.report, &verdicts);
    if let Some(path) = &args.save_scenario {
        let text = flags::scenario_to_toml(scenario)?;
        write_atomically(path, "the scenario (--save-scenario)", |w| w.write_all(text.as_bytes()))?;
    }
    if let Some(path) = &args.trace {
        write_atomically(path, "the trace (--trace)", |w| outcome.write_trace_jsonl(w))?;
    }
    if let Some((path, kind)) = diagram {
        let text = outcome.render(kind);
        write_atomically(path, "the diagram (--diagram)", |w| w.write_all(text.as_bytes()))?;
    }
    if let Some(path) = &args.shiviz {
        let text = outcome.render(Rendering::ShiViz);
        write_atomically(path, "the ShiViz log (--shiviz)", |w| w.write_all(text.as_bytes()))?;
    }
    if args.json {
        serde_json::to_writer(&mut *out, &summary)?;
        writeln!(out)?;
    } else {
        summary.write_text(out)?;
    }
    let safety_failed = RunMetrics::of(&outcome.report, &verdicts, 0).atomicity_violated;
    Ok(if safety_failed { Exit::PropertyFailed } else { Exit::Success })
}
