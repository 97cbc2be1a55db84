//! Counterexample files: everything needed to replay a failing run exactly (the whole
//! scenario, fault plan and seed included), what it violated, and the trace hash a replay
//! must reproduce. `commitlab check` writes them, `commitlab replay` reads them, and the
//! test suite replays the ones kept under `tests/regressions/`.

use std::path::Path;

use checkers::Violation;
use protocols::catalog::ProtocolSpec;
use protocols::{RunOutcome, Scenario};
use serde::{Deserialize, Serialize};
use sim_core::TraceLevel;

use super::catching::run_catching;
use super::property::Target;
use super::runner::SearchStats;
use crate::error::Result;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counterexample {
    /// The property violated (a `commitlab check --property` name).
    pub property: String,
    pub scenario: Scenario,
    /// The run's trace hash, 16 hex digits: a replay must print the same.
    pub trace_hash: String,
    pub violations: Vec<Violation>,
    /// Why the run could not be judged on the property, when a bound cut it short and no
    /// violation was seen before the cut (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive: Option<String>,
    /// How the search that found it went (absent in hand-written files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchStats>,
}

/// A re-run of a scenario, judged on one property.
pub struct Replayed {
    /// `None` when a node panicked (the finding is then the one `no-panic` violation).
    pub outcome: Option<RunOutcome>,
    pub trace_hash: String,
    pub violations: Vec<Violation>,
    /// Some target property is inconclusive on this run (a bound cut it short): why.
    pub inconclusive: Option<String>,
}

/// Runs `scenario` with a full trace (for diagrams) and judges `target`.
pub fn replay(scenario: &Scenario, target: Target) -> Result<Replayed> {
    replay_spec(protocols::catalog::lookup(&scenario.protocol)?, scenario, target)
}

/// [`replay`] for a protocol given by its spec (one from outside the catalog, too).
pub fn replay_spec(spec: &ProtocolSpec, scenario: &Scenario, target: Target) -> Result<Replayed> {
    let mut s = scenario.clone();
    s.trace = TraceLevel::Full;
    let outcome = match run_catching(spec, &s)? {
        Ok(outcome) => outcome,
        Err(panic) => {
            let violations = vec![panic];
            let trace_hash = PANICKED.into();
            return Ok(Replayed { outcome: None, trace_hash, violations, inconclusive: None });
        }
    };
    let verdicts = checkers::check(&outcome.report, &s.plan);
    let violations = target.violations(&verdicts, &outcome.report, &s.plan);
    let trace_hash = format!("{:016x}", outcome.report.trace_hash);
    let inconclusive = target.properties().iter().find_map(|&p| match verdicts.get(p) {
        checkers::Verdict::Inconclusive { reason } => Some(reason.clone()),
        _ => None,
    });
    Ok(Replayed { outcome: Some(outcome), trace_hash, violations, inconclusive })
}

/// The trace hash recorded for a run a panic cut short (its trace died with it).
pub const PANICKED: &str = "panicked";

impl Counterexample {
    pub fn new(
        target: Target,
        scenario: Scenario,
        replayed: &Replayed,
        search: Option<SearchStats>,
    ) -> Self {
        Counterexample {
            property: target.name().to_string(),
            scenario,
            trace_hash: replayed.trace_hash.clone(),
            violations: replayed.violations.clone(),
            inconclusive: replayed.inconclusive.clone(),
            search,
        }
    }

    pub fn target(&self) -> Result<Target> {
        Target::parse(&self.property)
    }

    pub fn load(path: &Path) -> Result<Counterexample> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let c: Counterexample = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a counterexample file: {e}", path.display()))?;
        c.target()?;
        c.scenario.validate().map_err(|e| format!("{}: scenario: {e}", path.display()))?;
        let roles = protocols::catalog::roles(&c.scenario)
            .map_err(|e| format!("{}: scenario: {e}", path.display()))?;
        c.scenario
            .plan
            .validate(roles.nodes())
            .map_err(|e| format!("{}: scenario.plan: {e}", path.display()))?;
        Ok(c)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a counterexample always serialises") + "\n"
    }
}
