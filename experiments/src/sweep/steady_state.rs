//! Steady-state cost of a replicated log: messages, forced writes and message delays per
//! committed command, fault-free, one command at a time, constant one-way delay `d`.
//!
//! A replicated log never stops talking: its leader sends heartbeats on a timer whether or
//! not commands arrive. So the cost of a command is measured as a difference, the same way
//! for every consensus family: replica-to-replica messages sent while commands flow (from
//! the first command's reply to the last one's), minus what the same cluster sends idle
//! (after the last reply, to the end of the run) over as long a time. What is left is what
//! the commands cost. Heartbeat rounds straddling a window's ends make the difference exact
//! only to within two heartbeat rounds over the whole window: [`SteadyState::tolerance`].

use protocols::scenario::Fact;
use protocols::{Observation, Scenario};
use sim_core::{Latency, NodeId, TraceLevel};

use crate::error::Result;

/// One-way latency of every link (as in the scaling sweep).
pub const DELAY_US: u64 = 5_000;
/// Commands per run, one at a time.
pub const COMMANDS: u64 = 60;
/// Quiet time measured after the last command (long enough for many heartbeat rounds).
const IDLE_US: u64 = 1_500_000;

/// A fault-free run of `COMMANDS` commands on `n` replicas, long enough to end idle.
pub fn scenario(protocol: &str, n: u32, seed: u64) -> Scenario {
    let mut s = Scenario::new(protocol, n, COMMANDS, seed);
    s.network.default.latency = Latency::Constant { us: DELAY_US };
    // An election (at most 20d), then 4 to 5 delays per command, then the idle stretch.
    s.fault_horizon_us = 40 * DELAY_US + COMMANDS * 8 * DELAY_US + IDLE_US;
    s.liveness_bound_us = None;
    s.trace = TraceLevel::Full;
    s
}

/// What one run measured, per command committed while commands flowed.
#[derive(Clone, Debug, PartialEq)]
pub struct SteadyState {
    pub replicas: u32,
    /// Commands whose whole life lies in the busy window (all but the first).
    pub commands: u64,
    /// Replica-to-replica messages per command, idle traffic subtracted.
    pub messages_per_command: f64,
    /// Replica-to-replica messages per second when idle (heartbeats and their answers).
    pub idle_messages_per_s: f64,
    /// Heartbeat rounds' messages in the busy window that the subtraction may miscount.
    pub tolerance: f64,
    /// Forced writes per command (nothing is forced idle).
    pub disk_writes_per_command: f64,
    pub idle_disk_writes: u64,
    /// Client request to reply, in message delays `d`.
    pub delays: f64,
    /// Every command was acknowledged.
    pub all_returned: bool,
}

/// Runs [`scenario`] and measures it.
pub fn measure(protocol: &str, n: u32, seed: u64) -> Result<SteadyState> {
    let s = scenario(protocol, n, seed);
    let outcome = protocols::run(&s)?;
    let (report, facts) = (&outcome.report, outcome.facts());
    let mut invoked = std::collections::BTreeMap::new();
    let mut returns = Vec::new();
    let mut latencies = Vec::new();
    for o in &report.observations {
        match o.obs {
            Observation::OpInvoked { op, .. } => {
                invoked.insert(op, o.time.as_us());
            }
            Observation::OpReturned { op, .. } => {
                returns.push(o.time.as_us());
                latencies.push(o.time.as_us() - invoked[&op]);
            }
            _ => {}
        }
    }
    let all_returned = returns.len() as u64 == COMMANDS;
    let (first, last) = (returns[0], *returns.last().expect("a command returned"));
    let (idle_from, idle_to) = (last + 10 * DELAY_US, s.fault_horizon_us);
    assert!(idle_to > idle_from, "the run ends with an idle stretch");
    let replica = |n: NodeId| n.0 < s.participants;
    let (mut busy, mut idle, mut busy_writes, mut idle_writes) = (0u64, 0u64, 0u64, 0u64);
    for f in &facts {
        let t = f.time.as_us();
        let busy_window = t > first && t <= last;
        let idle_window = t > idle_from && t <= idle_to;
        match f.what {
            Fact::Send { to, .. } if replica(f.node) && replica(to) => {
                busy += u64::from(busy_window);
                idle += u64::from(idle_window);
            }
            Fact::Persist { .. } => {
                busy_writes += u64::from(busy_window);
                idle_writes += u64::from(idle_window);
            }
            _ => {}
        }
    }
    let commands = returns.len() as u64 - 1;
    let idle_per_us = idle as f64 / (idle_to - idle_from) as f64;
    let busy_us = (last - first) as f64;
    // Heartbeat traffic of one round (the idle rate over one heartbeat period, 3d).
    let round = idle_per_us * 3.0 * DELAY_US as f64;
    let per = |x: f64| x / commands as f64;
    Ok(SteadyState {
        replicas: n,
        commands,
        messages_per_command: per(busy as f64 - idle_per_us * busy_us),
        idle_messages_per_s: idle_per_us * 1e6,
        tolerance: per(2.0 * round),
        disk_writes_per_command: per(busy_writes as f64),
        idle_disk_writes: idle_writes,
        delays: crate::metrics::mean(&latencies[1..]) / DELAY_US as f64,
        all_returned,
    })
}

/// A replicated log's claimed steady-state cost per command, at constant delay `d`, as
/// README states it: messages as a function of N, forced writes, delays client to client.
#[derive(Clone, Copy, Debug)]
pub struct SteadyFormula {
    pub messages: fn(f64) -> f64,
    pub disk_writes: fn(f64) -> f64,
    pub delays: f64,
    pub text: &'static str,
}

/// The formula of `protocol`, as its implementation and README state it: the textbook
/// counts. Neither leader re-sends in a fault-free steady state: Raft's `nextIndex` advances
/// as entries are sent, Multi-Paxos re-sends an Accept only after a whole heartbeat period
/// unanswered (a command takes 4d, the period is 3d).
pub fn formula(protocol: &str) -> Option<SteadyFormula> {
    Some(match protocol {
        "raft" => SteadyFormula {
            // AppendEntries + reply per follower; the commit index rides on the next one.
            messages: |n| 2.0 * (n - 1.0),
            disk_writes: |n| n,
            delays: 4.0,
            text: "2(N-1) AppendEntries+replies (commit index on the next AppendEntries); N forced appends",
        },
        "multi-paxos" => SteadyFormula {
            // Accept, AcceptedAck and Chosen per other replica.
            messages: |n| 3.0 * (n - 1.0),
            disk_writes: |n| 2.0 * n,
            delays: 4.0,
            text: "3(N-1) Accept+Accepted+Chosen; N accepted + N chosen writes",
        },
        "zab" => SteadyFormula {
            // PROPOSAL, ACK and an explicit COMMIT per follower.
            messages: |n| 3.0 * (n - 1.0),
            disk_writes: |n| n,
            delays: 4.0,
            text: "3(N-1) PROPOSAL+ACK+COMMIT; N forced appends",
        },
        _ => return None,
    })
}

/// One row of the scaling sweep's replicated-log table: a protocol at N replicas, its
/// seeds' mean next to its formula.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub protocol: String,
    pub replicas: u32,
    pub runs: u64,
    pub commands: u64,
    pub messages_per_command: String,
    pub formula_messages_per_command: Option<String>,
    /// How far the subtraction of idle traffic may be off (two heartbeat rounds).
    pub tolerance: String,
    pub disk_writes_per_command: String,
    pub formula_disk_writes_per_command: Option<String>,
    pub delays: String,
    pub formula: String,
}

/// Replica counts of the scaling sweep's replicated-log rows.
pub const REPLICAS: [u32; 4] = [3, 5, 7, 9];

/// The scaling sweep's replicated-log rows: every correct consensus protocol at
/// [`REPLICAS`], `seeds` runs each (rows in a fixed order, each from its own seeds).
pub fn rows(seeds: &[u64], threads: usize) -> Result<Vec<Row>> {
    let mut jobs = Vec::new();
    for p in protocols::catalog::correct_consensus_protocols() {
        for n in REPLICAS {
            jobs.extend(seeds.iter().map(|&s| (p, n, s)));
        }
    }
    let all = crate::parallel::run_all("sweep scaling (logs)", &jobs, threads, |&(p, n, s)| {
        measure(p, n, s)
    })?;
    Ok(all
        .chunks(seeds.len())
        .zip(jobs.chunks(seeds.len()))
        .map(|(ms, j)| row(j[0].0, ms))
        .collect())
}

fn row(protocol: &str, ms: &[SteadyState]) -> Row {
    let n = ms[0].replicas;
    let avg = |f: fn(&SteadyState) -> f64| ms.iter().map(f).sum::<f64>() / ms.len() as f64;
    let f = formula(protocol);
    let two = |x: f64| format!("{x:.2}");
    Row {
        protocol: protocol.to_string(),
        replicas: n,
        runs: ms.len() as u64,
        commands: ms.iter().map(|m| m.commands).sum(),
        messages_per_command: two(avg(|m| m.messages_per_command)),
        formula_messages_per_command: f.map(|f| two((f.messages)(f64::from(n)))),
        tolerance: two(avg(|m| m.tolerance)),
        disk_writes_per_command: two(avg(|m| m.disk_writes_per_command)),
        formula_disk_writes_per_command: f.map(|f| two((f.disk_writes)(f64::from(n)))),
        delays: two(avg(|m| m.delays)),
        formula: f.map(|f| f.text.to_string()).unwrap_or_default(),
    }
}
