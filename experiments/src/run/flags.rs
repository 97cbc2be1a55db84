//! `commitlab run` flags and scenario files: turning what a person typed into a validated
//! [`Scenario`]. A scenario file is the base; every flag given on the command line overrides
//! its field. Every mistake is an error that names the flag or the file field.

use std::path::{Path, PathBuf};

use clap::Args;
use protocols::catalog::ProtocolSpec;
use protocols::family::{closest, parse_setting};
use protocols::workload::Workload;
use protocols::{Roles, Scenario};
use sim_core::{Action, Fault, FaultPlan, Latency, NodeId, Ordering, TraceLevel, Trigger};

use crate::error::Result;

/// Everything `commitlab run` accepts.
#[derive(Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// A TOML scenario file (format: README.md); flags below override its fields.
    #[arg(long, value_name = "FILE.toml")]
    pub scenario: Option<PathBuf>,
    /// Protocol name (`commitlab list`). Default: 2pc.
    #[arg(long)]
    pub protocol: Option<String>,
    /// Participants (resource managers). Default: 3.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=crate::MAX_PARTICIPANTS))]
    pub participants: Option<u32>,
    /// Transactions the client submits. Default: 10.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub txns: Option<u64>,
    /// Transactions the client keeps in flight at once. Default: 1.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub in_flight: Option<u32>,
    /// `bank` (transfers between two participants; conservation is checked), `order` (the
    /// bank's accounts, each transaction an order saga: create order, reserve stock, charge
    /// customer) or `spread` (every transaction writes at every participant). Default: bank.
    #[arg(long, value_name = "bank|order|spread")]
    pub workload: Option<String>,
    /// Steps (writes, each on its own participant) of every bank or order transaction,
    /// 1..=16 and at most --participants: 2 is a transfer, 3 the usual order saga.
    #[arg(long)]
    pub steps: Option<u32>,
    /// Root seed. Default: 1.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Length of the fault phase, in simulated ms (blocking is judged at its end). Default: 10000.
    #[arg(long)]
    pub horizon_ms: Option<u64>,
    /// Length of the liveness phase (all recovered and healed) in ms; 0: none. Default: 10000.
    #[arg(long)]
    pub liveness_ms: Option<u64>,
    /// One-way latency of every link, in ms: `5` (constant), `1-10` (uniform),
    /// `exp:MEAN` or `exp:MEAN+FLOOR` (exponential). Default: 1-10.
    #[arg(long, value_name = "SPEC")]
    pub latency_ms: Option<String>,
    /// Probability that a message is lost, on every link.
    #[arg(long)]
    pub drop: Option<f64>,
    /// Probability that a message is delivered twice, on every link.
    #[arg(long)]
    pub dup: Option<f64>,
    /// The event budget of each phase: a phase that processes this many events stops and
    /// the run is reported inconclusive. Default: 2^40 (no run of the testbed meets it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,
    /// Links keep messages in send order (default: they may reorder).
    #[arg(long)]
    pub fifo: bool,
    /// Crash a node right after its n-th emission of a mark, optionally recovering after a
    /// delay: `NODE@MARK[#NTH][+RECOVER_MS]`, NODE = `coord`, `pK` (participant K), `client`
    /// or a node number. Repeatable; appended to the plan.
    #[arg(long, value_name = "NODE@MARK[#NTH][+MS]")]
    pub crash: Vec<String>,
    /// A setting of the protocol family's own section, e.g. `--set f=2` for Paxos Commit
    /// (`commitlab list` shows each family's settings). Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// A JSON fault plan (format: README.md, "Fault plans"); replaces the scenario's plan.
    #[arg(long, value_name = "FILE.json")]
    pub plan: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Write the full trace as JSON Lines.
    #[arg(long, value_name = "FILE.jsonl")]
    pub trace: Option<PathBuf>,
    /// Draw the run: `.svg` space-time diagram or `.mmd` Mermaid sequence diagram.
    #[arg(long, value_name = "FILE.svg|FILE.mmd")]
    pub diagram: Option<PathBuf>,
    /// Write a ShiViz log (vector clocks) for https://bestchai.bitbucket.io/shiviz/.
    #[arg(long, value_name = "FILE.log")]
    pub shiviz: Option<PathBuf>,
    /// Write the resolved scenario (file and flags merged) as TOML.
    #[arg(long, value_name = "FILE.toml")]
    pub save_scenario: Option<PathBuf>,
}

impl RunArgs {
    /// Whether any output needs every event kept.
    pub fn needs_full_trace(&self) -> bool {
        self.trace.is_some() || self.diagram.is_some() || self.shiviz.is_some()
    }
}

/// The defaults of `commitlab run` without a scenario file.
pub fn default_scenario() -> Scenario {
    let mut s = Scenario::new("2pc", 3, 10, 1);
    s.workload = Workload::bank();
    s
}

/// Reads a TOML scenario file; errors name the file and the field.
pub fn load_scenario(path: &Path) -> Result<Scenario> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--scenario {}: cannot read: {e}", path.display()))?;
    toml::from_str::<Scenario>(&text)
        .map_err(|e| format!("--scenario {}: {}", path.display(), e.to_string().trim_end()).into())
}

/// A scenario as TOML text (what `--save-scenario` writes and `--scenario` reads back).
pub fn scenario_to_toml(s: &Scenario) -> Result<String> {
    toml::to_string(s).map_err(|e| format!("the scenario cannot be written as TOML: {e}").into())
}

/// The scenario the flags describe, validated (protocol, network, plan against the cluster).
pub fn resolve(args: &RunArgs) -> Result<Scenario> {
    let mut s = match &args.scenario {
        Some(path) => load_scenario(path)?,
        None => default_scenario(),
    };
    if let Some(p) = &args.protocol {
        s.protocol = p.clone();
    }
    if let Some(n) = args.participants {
        s.participants = n;
    }
    if let Some(t) = args.txns {
        s.txns = t;
    }
    if let Some(k) = args.in_flight {
        s.max_in_flight = k;
    }
    if let Some(w) = &args.workload {
        s.workload = match w.as_str() {
            "bank" => Workload::bank(),
            "order" => Workload::order(Workload::ORDER_STEPS),
            "spread" => Workload::default(),
            other => {
                return Err(format!("--workload {other:?}: expected bank, order or spread").into());
            }
        };
    }
    if let Some(n) = args.steps {
        match &mut s.workload {
            Workload::Bank { steps, .. } => *steps = n,
            Workload::Spread { .. } => {
                return Err("--steps: the spread workload writes at every participant; \
                            use --workload bank or order"
                    .into());
            }
        }
    }
    if let Some(seed) = args.seed {
        s.seed = seed;
    }
    if let Some(h) = args.horizon_ms {
        s.fault_horizon_us = ms_to_us("--horizon-ms", h)?;
    }
    if let Some(l) = args.liveness_ms {
        s.liveness_bound_us = if l == 0 { None } else { Some(ms_to_us("--liveness-ms", l)?) };
    }
    if let Some(spec) = &args.latency_ms {
        s.network.default.latency = parse_latency(spec)?;
    }
    if let Some(p) = args.drop {
        s.network.default.drop_prob = probability("--drop", p)?;
    }
    if let Some(p) = args.dup {
        s.network.default.dup_prob = probability("--dup", p)?;
    }
    if args.fifo {
        s.network.default.ordering = Ordering::Fifo;
    }
    if let Some(n) = args.max_events {
        s.max_events = Some(n);
    }
    for kv in &args.set {
        let (key, value) = parse_setting(kv).map_err(|e| format!("--set {e}"))?;
        s.family.insert(key, value);
    }
    let protocol = protocols::catalog::lookup(&s.protocol).map_err(|e| format!("protocol: {e}"))?;
    s.validate()?;
    let roles = protocol.roles(&s)?;
    if let Some(path) = &args.plan {
        s.plan = FaultPlan::load(path, roles.nodes()).map_err(|e| format!("--plan: {e}"))?;
        check_plan_marks(&s.plan, &roles, protocol)
            .map_err(|e| format!("--plan {}: {e}", path.display()))?;
    } else if let Some(path) = &args.scenario {
        check_plan_marks(&s.plan, &roles, protocol)
            .map_err(|e| format!("--scenario {}: {e}", path.display()))?;
    }
    for spec in &args.crash {
        s.plan.faults.push(parse_crash(spec, &roles, protocol)?);
    }
    if args.needs_full_trace() {
        s.trace = TraceLevel::Full;
    }
    s.network.validate(roles.nodes())?;
    s.plan.validate(roles.nodes()).map_err(|e| format!("fault plan: {e}"))?;
    Ok(s)
}

fn ms_to_us(flag: &str, ms: u64) -> Result<u64> {
    ms.checked_mul(1000)
        .filter(|&us| us <= i64::MAX as u64)
        .ok_or_else(|| format!("{flag} {ms}: too large").into())
}

fn probability(flag: &str, p: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{flag} {p}: not a probability (expected 0..=1)").into())
    }
}

/// A latency spec in milliseconds (fractions allowed): `5`, `1-10`, `exp:4`, `exp:4+1`.
pub fn parse_latency(spec: &str) -> Result<Latency> {
    let bad = || format!("--latency-ms {spec:?}: expected MS, MIN-MAX, exp:MEAN or exp:MEAN+FLOOR");
    let us = |x: &str| -> Result<u64> {
        let v: f64 = x.trim().parse().map_err(|_| bad())?;
        if !(0.0..=1e9).contains(&v) {
            return Err(bad().into());
        }
        Ok((v * 1000.0).round() as u64)
    };
    let latency = if let Some(rest) = spec.strip_prefix("exp:") {
        let (mean, floor) = rest.split_once('+').unwrap_or((rest, "0"));
        Latency::Exponential { mean_us: us(mean)?, floor_us: us(floor)? }
    } else if let Some((lo, hi)) = spec.split_once('-') {
        let (min_us, max_us) = (us(lo)?, us(hi)?);
        if min_us > max_us {
            return Err(format!("--latency-ms {spec:?}: minimum exceeds maximum").into());
        }
        Latency::Uniform { min_us, max_us }
    } else {
        Latency::Constant { us: us(spec)? }
    };
    Ok(latency)
}

/// `NODE@MARK[#NTH][+RECOVER_MS]` as a fault. The mark must be one that the node's role emits
/// in `protocol` (a mistyped mark would never fire: the user would believe they tested a crash).
pub fn parse_crash(spec: &str, roles: &Roles, protocol: &ProtocolSpec) -> Result<Fault> {
    let bad = |why: String| format!("--crash {spec:?}: {why}");
    let (node, rest) =
        spec.split_once('@').ok_or_else(|| bad("expected NODE@MARK[#NTH][+RECOVER_MS]".into()))?;
    let node = parse_node(node, roles).map_err(bad)?;
    let (rest, recover_after_us) = match rest.split_once('+') {
        Some((r, ms)) => {
            let ms: u64 =
                ms.parse().map_err(|_| bad(format!("recovery {ms:?} is not whole ms")))?;
            (r, Some(ms_to_us("--crash recovery", ms)?))
        }
        None => (rest, None),
    };
    let (mark, nth) = match rest.split_once('#') {
        Some((m, n)) => {
            let nth: u32 = n.parse().map_err(|_| bad(format!("#{n} is not a count")))?;
            if nth == 0 {
                return Err(bad("#NTH counts from 1".into()).into());
            }
            (m, nth)
        }
        None => (rest, 1),
    };
    if mark.is_empty() {
        return Err(bad("the mark is empty".into()).into());
    }
    check_mark(node, mark, roles, protocol).map_err(bad)?;
    Ok(Fault {
        trigger: Trigger::Mark { node, mark: mark.to_string(), nth },
        action: Action::Crash { node, recover_after_us },
    })
}

/// Whether `node`'s role in `protocol` ever emits `mark`; if not, why not, with the closest
/// mark suggested and every valid one listed (a crash on it would never happen).
pub fn check_mark(
    node: NodeId,
    mark: &str,
    roles: &Roles,
    protocol: &ProtocolSpec,
) -> std::result::Result<(), String> {
    let role = roles.of(node);
    let who = format!("{} (a {} {role})", roles.label(node), protocol.name);
    known_mark(mark, &protocol.all_marks(role), &who)
}

/// `Ok` if `mark` is one of `marks` (what `who` emits); otherwise why the fault would never
/// happen, with the closest mark and every valid one.
fn known_mark(mark: &str, marks: &[&str], who: &str) -> std::result::Result<(), String> {
    if marks.contains(&mark) {
        return Ok(());
    }
    let hint = closest(mark, marks.iter().copied())
        .map(|c| format!("did you mean {c:?}? "))
        .unwrap_or_default();
    Err(format!(
        "{who} never emits mark {mark:?}, so the fault would never happen ({hint}its marks: {})",
        marks.join(", ")
    ))
}

/// Every mark trigger of `plan` names a mark its node's role emits (see [`check_mark`]).
pub fn check_plan_marks(plan: &FaultPlan, roles: &Roles, protocol: &ProtocolSpec) -> Result<()> {
    for (i, f) in plan.faults.iter().enumerate() {
        match &f.trigger {
            Trigger::Mark { node, mark, .. } if node.0 < roles.nodes() => {
                check_mark(*node, mark, roles, protocol)
            }
            Trigger::AnyMark { mark, .. } => check_any_mark(mark, roles, protocol),
            _ => Ok(()),
        }
        .map_err(|e| format!("fault {} of the plan: {e}", i + 1))?;
    }
    Ok(())
}

/// Whether some node of `protocol` ever emits `mark` (an `any_mark` trigger's mark).
fn check_any_mark(
    mark: &str,
    roles: &Roles,
    protocol: &ProtocolSpec,
) -> std::result::Result<(), String> {
    let mut marks: Vec<&str> = Vec::new();
    for node in (0..roles.nodes()).map(NodeId) {
        for m in protocol.all_marks(roles.of(node)) {
            if !marks.contains(&m) {
                marks.push(m);
            }
        }
    }
    known_mark(mark, &marks, &format!("no node of {}", protocol.name))
}

/// A node by its label (`coord`, `client`, `pK`, `aK`, ...) or its number.
pub fn parse_node(s: &str, roles: &Roles) -> std::result::Result<NodeId, String> {
    if s == "coordinator"
        && let Some(c) = roles.first("coordinator")
    {
        return Ok(c);
    }
    if let Some(id) = roles.find(s) {
        return Ok(id);
    }
    let participants: Vec<NodeId> = roles.ids("participant").collect();
    if let (Some(k), Some(last)) = (s.strip_prefix('p'), participants.last())
        && k.parse::<u32>().is_ok()
    {
        return Err(format!("node {s:?}: participants are p1..p{}", last.0));
    }
    let labels: Vec<&str> = roles.labels.iter().map(String::as_str).collect();
    Err(format!(
        "node {s:?}: expected a node label ({}) or a node number 0..{}",
        labels.join(", "),
        roles.nodes() - 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_specs_parse_and_name_their_mistakes() {
        let s = Scenario::new("2pc", 3, 1, 1);
        let spec = protocols::catalog::lookup("2pc").unwrap();
        let l = &spec.roles(&s).unwrap();
        let f = parse_crash("coord@all-votes-in+100", l, spec).unwrap();
        assert_eq!(
            f.trigger,
            Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 }
        );
        assert_eq!(f.action, Action::Crash { node: NodeId(0), recover_after_us: Some(100_000) });
        let f = parse_crash("p2@voted-yes#3", l, spec).unwrap();
        assert_eq!(f.trigger, Trigger::Mark { node: NodeId(2), mark: "voted-yes".into(), nth: 3 });
        assert!(parse_crash("p9@x", l, spec).unwrap_err().to_string().contains("p1..p3"));
        assert!(parse_crash("coord", l, spec).unwrap_err().to_string().contains("NODE@MARK"));
        assert!(parse_crash("coord@x#0", l, spec).is_err());
        // A mark the role never emits is refused, with the closest one suggested.
        let err = parse_crash("coord@all-vote-in", l, spec).unwrap_err().to_string();
        assert!(err.contains("did you mean \"all-votes-in\""), "{err}");
        let three_pc = protocols::catalog::lookup("3pc").unwrap();
        assert!(parse_crash("coord@prepare-sent", l, three_pc).is_err());
        assert_eq!(parse_node("client", l), Ok(NodeId(4)));
        assert!(parse_node("7", l).is_err());
    }

    #[test]
    fn latency_specs_parse() {
        assert_eq!(parse_latency("5").unwrap(), Latency::Constant { us: 5000 });
        assert_eq!(
            parse_latency("1-10").unwrap(),
            Latency::Uniform { min_us: 1000, max_us: 10000 }
        );
        assert_eq!(
            parse_latency("exp:2.5+1").unwrap(),
            Latency::Exponential { mean_us: 2500, floor_us: 1000 }
        );
        assert!(parse_latency("10-1").is_err());
        assert!(parse_latency("fast").is_err());
    }
}
