//! `commitlab sweep consensus-failover`: crash a replicated log's leader at each of its
//! marks, with several election-timeout ranges, and measure what clients see: how long
//! until a new leader, how long no operation completes, how many acknowledged commands the
//! log lost (must be 0), and messages per committed command.
//!
//! "The leader" and "its marks" are read off the run itself, not assumed: a fault-free run
//! with the same seed (the simulator is deterministic, so a faulty run is that run until
//! its fault fires) names the first leader and the marks it emits once elected; the faulty
//! run crashes that node right after its emission of the mark nearest after half of the
//! client's operations returned (its only one for `became-leader`). Every correct consensus
//! protocol of the catalog is swept, so a new family joins by registering.

use std::collections::BTreeMap;
use std::io::Write;

use protocols::family::SettingValue;
use protocols::scenario::Fact;
use protocols::{Observation, RunReport, Scenario};
use serde::Serialize;
use sim_core::{Action, FaultPlan, NodeId, TraceLevel, Trigger};

use super::Options;
use super::failover_plot::Point;
use crate::error::Result;
use crate::exit::Exit;
use crate::metrics::mean;

pub const DEFAULT_SEEDS: u64 = 10;
/// Election timeout ranges, in latency bounds `d` (`election_min_d`, `election_max_d`).
pub const RANGES_D: [(i64, i64); 3] = [(5, 10), (10, 20), (20, 40)];
const REPLICAS: u32 = 5;
const COMMANDS: u64 = 30;

/// A fault-free run of `protocol` with election timeouts `range` (in d).
pub fn scenario(protocol: &str, range: (i64, i64), seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, REPLICAS, COMMANDS, seed);
    s.fault_horizon_us = 5_000_000;
    s.liveness_bound_us = Some(3_000_000);
    s.family.insert("election_min_d".into(), SettingValue::Int(range.0));
    s.family.insert("election_max_d".into(), SettingValue::Int(range.1));
    s
}

/// Where to crash the leader: right after `node` emits its `nth` `mark`.
#[derive(Clone, Debug, PartialEq)]
struct CrashPoint {
    node: NodeId,
    mark: &'static str,
    nth: u32,
}

/// The first leader of the fault-free run of `s` and, per mark it emits once elected, the
/// emission nearest after half of the operations returned (else its last one).
fn crash_points(s: &Scenario, marks: &[&'static str]) -> Result<Vec<CrashPoint>> {
    let mut s = s.clone();
    s.trace = TraceLevel::Full;
    let outcome = protocols::run(&s)?;
    let report = &outcome.report;
    let Some((elected_us, leader)) = report.observations.iter().find_map(|o| match o.obs {
        Observation::LeaderElected { .. } => Some((o.time.as_us(), o.node)),
        _ => None,
    }) else {
        return Ok(Vec::new());
    };
    let returns = returns_us(report);
    let half_us = returns.get(returns.len() / 2).copied().unwrap_or(elected_us);
    // Per mark: the leader's emissions once elected, as (nth, time).
    let mut emitted: BTreeMap<&str, Vec<(u32, u64)>> = BTreeMap::new();
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for f in outcome.facts() {
        let Fact::Mark(name) = &f.what else { continue };
        let Some(&mark) = marks.iter().find(|m| *m == name) else { continue };
        if f.node != leader {
            continue;
        }
        let nth = counts.entry(mark).or_insert(0);
        *nth += 1;
        if f.time.as_us() >= elected_us {
            emitted.entry(mark).or_default().push((*nth, f.time.as_us()));
        }
    }
    Ok(marks
        .iter()
        .filter_map(|&mark| {
            let e = emitted.get(mark)?;
            let (nth, _) = e.iter().find(|&&(_, t)| t > half_us).or(e.last())?;
            Some(CrashPoint { node: leader, mark, nth: *nth })
        })
        .collect())
}

fn returns_us(report: &RunReport) -> Vec<u64> {
    report
        .observations
        .iter()
        .filter(|o| matches!(o.obs, Observation::OpReturned { .. }))
        .map(|o| o.time.as_us())
        .collect()
}

/// Acknowledged commands missing from the final log: every operation that returned must
/// have been applied at some index.
pub fn lost_commands(report: &RunReport) -> u64 {
    let applied: std::collections::BTreeSet<u64> = report
        .observations
        .iter()
        .filter_map(|o| match o.obs {
            Observation::EntryApplied { op, .. } => Some(op),
            _ => None,
        })
        .collect();
    report
        .observations
        .iter()
        .filter(|o| matches!(o.obs, Observation::OpReturned { op, .. } if !applied.contains(&op)))
        .count() as u64
}

/// What one faulty run measured.
#[derive(Clone, Debug)]
struct Failover {
    new_leader_us: Option<u64>,
    unavailable_us: u64,
    lost: u64,
    messages_per_command: f64,
    inconclusive: bool,
}

fn failover(s: &Scenario, at: &CrashPoint) -> Result<Failover> {
    let mut s = s.clone();
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: at.node, mark: at.mark.into(), nth: at.nth },
        Action::Crash { node: at.node, recover_after_us: None },
    );
    s.trace = TraceLevel::Full; // the sends' times: messages up to the last reply
    let outcome = protocols::run(&s)?;
    let report = &outcome.report;
    let verdicts = checkers::check(report, &s.plan);
    let crash_us = report.faults_fired_at_us[0]
        .ok_or_else(|| format!("{} seed {}: the leader's crash never fired", s.protocol, s.seed))?;
    let new_leader_us = report.observations.iter().find_map(|o| match o.obs {
        Observation::LeaderElected { .. } if o.time.as_us() > crash_us => {
            Some(o.time.as_us() - crash_us)
        }
        _ => None,
    });
    let returns = returns_us(report);
    let first_invoked = report.observations.first().map_or(0, |o| o.time.as_us());
    let before = returns.iter().rev().find(|&&t| t <= crash_us).copied().unwrap_or(first_invoked);
    let after = returns.iter().find(|&&t| t > crash_us).copied().unwrap_or(before);
    let committed: std::collections::BTreeSet<u64> = report
        .observations
        .iter()
        .filter_map(|o| match o.obs {
            Observation::EntryApplied { op, .. } if op > 0 => Some(op),
            _ => None,
        })
        .collect();
    let last_reply_us = returns.last().copied().unwrap_or(0);
    let replica = |n: NodeId| n.0 < s.participants;
    let messages = outcome
        .facts()
        .iter()
        .filter(|f| f.time.as_us() <= last_reply_us)
        .filter(|f| matches!(f.what, Fact::Send { to, .. } if replica(f.node) && replica(to)))
        .count();
    Ok(Failover {
        new_leader_us,
        unavailable_us: after - before,
        lost: lost_commands(report),
        messages_per_command: messages as f64 / committed.len().max(1) as f64,
        inconclusive: verdicts.inconclusive.is_some(),
    })
}

/// One row: a protocol, an election-timeout range, the leader's mark it crashed at.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub protocol: String,
    pub election_timeout_d: String,
    pub election_min_ms: u64,
    pub election_max_ms: u64,
    pub mark: String,
    pub runs: u64,
    pub inconclusive_runs: u64,
    /// Runs in which no new leader was elected before the run ended.
    pub no_new_leader_runs: u64,
    pub mean_new_leader_ms: String,
    pub max_new_leader_ms: String,
    /// Last reply before the crash to the first one after it.
    pub mean_unavailable_ms: String,
    pub max_unavailable_ms: String,
    /// Acknowledged commands missing from the final log: 0, or the sweep fails.
    pub lost_commands: u64,
    /// Replica-to-replica messages up to the last reply, per committed command (elections
    /// and heartbeats included).
    pub messages_per_command: String,
}

pub fn measure(opts: &Options) -> Result<Vec<Row>> {
    let seeds = opts.seed_list();
    let mut pre = Vec::new();
    for p in protocols::catalog::correct_consensus_protocols() {
        for range in RANGES_D {
            pre.extend(seeds.iter().map(|&seed| (p, range, seed)));
        }
    }
    let marks_of = |p: &str| protocols::catalog::lookup(p).map(|s| s.all_marks("replica"));
    let points =
        crate::parallel::run_all("failover: leaders", &pre, opts.threads, |&(p, r, s)| {
            crash_points(&scenario(p, r, s), &marks_of(p)?)
        })?;
    let jobs: Vec<(usize, CrashPoint)> = points
        .iter()
        .enumerate()
        .flat_map(|(i, ps)| ps.iter().map(move |c| (i, c.clone())))
        .collect();
    let runs = crate::parallel::run_all("failover: crashes", &jobs, opts.threads, |(i, at)| {
        let (p, r, s) = pre[*i];
        failover(&scenario(p, r, s), at)
    })?;
    let mut rows = Vec::new();
    for p in protocols::catalog::correct_consensus_protocols() {
        let d_us = protocols::timing::Timing::for_network(&scenario(p, RANGES_D[0], 1).network)
            .latency_bound_us;
        for range in RANGES_D {
            for mark in marks_of(p)? {
                let ms: Vec<&Failover> = jobs
                    .iter()
                    .zip(&runs)
                    .filter(|((i, at), _)| pre[*i].0 == p && pre[*i].1 == range && at.mark == mark)
                    .map(|(_, f)| f)
                    .collect();
                if !ms.is_empty() {
                    rows.push(row(p, range, d_us, mark, &ms));
                }
            }
        }
    }
    Ok(rows)
}

fn row(protocol: &str, range: (i64, i64), d_us: u64, mark: &str, ms: &[&Failover]) -> Row {
    let leaders: Vec<u64> = ms.iter().filter_map(|m| m.new_leader_us).collect();
    let gaps: Vec<u64> = ms.iter().map(|m| m.unavailable_us).collect();
    let ms_text = |us: f64| format!("{:.1}", us / 1000.0);
    let max = |xs: &[u64]| xs.iter().copied().max().map_or("-".into(), |x| ms_text(x as f64));
    Row {
        protocol: protocol.to_string(),
        election_timeout_d: format!("{}-{}", range.0, range.1),
        election_min_ms: range.0 as u64 * d_us / 1000,
        election_max_ms: range.1 as u64 * d_us / 1000,
        mark: mark.to_string(),
        runs: ms.len() as u64,
        inconclusive_runs: ms.iter().filter(|m| m.inconclusive).count() as u64,
        no_new_leader_runs: (ms.len() - leaders.len()) as u64,
        mean_new_leader_ms: if leaders.is_empty() { "-".into() } else { ms_text(mean(&leaders)) },
        max_new_leader_ms: max(&leaders),
        mean_unavailable_ms: ms_text(mean(&gaps)),
        max_unavailable_ms: max(&gaps),
        lost_commands: ms.iter().map(|m| m.lost).sum(),
        messages_per_command: format!(
            "{:.2}",
            ms.iter().map(|m| m.messages_per_command).sum::<f64>() / ms.len() as f64
        ),
    }
}

pub fn run(opts: &Options, out: &mut impl Write) -> Result<Exit> {
    let rows = measure(opts)?;
    let csv = opts.out.join("consensus-failover.csv");
    let svg = opts.out.join("consensus-failover.svg");
    let points: Vec<Point<'_>> = rows
        .iter()
        .map(|r| Point {
            series: format!("{} @ {}", r.protocol, r.mark),
            election_min_ms: r.election_min_ms,
            mean_unavailable_ms: &r.mean_unavailable_ms,
        })
        .collect();
    let plot = super::failover_plot::unavailability(&points)?;
    crate::csv_out::write_rows(&csv, &rows)?;
    crate::output::write_atomically(&svg, "the SVG plot", |w| w.write_all(plot.as_bytes()))?;
    writeln!(
        out,
        "sweep consensus-failover: {REPLICAS} replicas, {COMMANDS} commands, the leader crashed \
         at its marks; wrote {} and {}",
        csv.display(),
        svg.display()
    )?;
    writeln!(
        out,
        "| protocol | election timeout | mark | runs | new leader ms (max) | unavailable ms (max) | lost | msgs/command |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for r in &rows {
        writeln!(
            out,
            "| {} | {}-{} ms | {} | {} | {} ({}) | {} ({}) | {} | {} |",
            r.protocol,
            r.election_min_ms,
            r.election_max_ms,
            r.mark,
            r.runs,
            r.mean_new_leader_ms,
            r.max_new_leader_ms,
            r.mean_unavailable_ms,
            r.max_unavailable_ms,
            r.lost_commands,
            r.messages_per_command
        )?;
    }
    let lost: u64 = rows.iter().map(|r| r.lost_commands).sum();
    if lost > 0 {
        writeln!(out, "FAILED: {lost} acknowledged command(s) missing from the final log")?;
        return Ok(Exit::PropertyFailed);
    }
    Ok(Exit::Success)
}
