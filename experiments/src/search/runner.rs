//! The search: proptest's `TestRunner`, driven programmatically, over (seed, votes, plan)
//! cases for one protocol and one property. The same function serves `commitlab check` and
//! the test suite, so there is one search and one shrinker.
//!
//! A case is a scenario: the protocol with N participants and K transactions, a run seed
//! (never shrunk: shrinking it would change every draw of the run at once), optionally one
//! participant that votes no (shrinks to "everyone votes yes"), and a fault plan from
//! [`plan_strategy`](super::plan_strategy) (shrinks to fewer, simpler faults).
//!
//! Faults hit the coordinator, the participants and, for protocols with acceptors (Paxos
//! Commit), the acceptors; never the client. A statement like "with up to F acceptors
//! crashed, nobody blocks" is searched with a [`CrashLimit`] on the acceptors, and "with the
//! leader crashed at its mark M" with that crash as a fixed fault every case starts with.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use sim_core::{Fault, FaultClass, FaultPlan, FaultSpace, NodeId, TraceLevel};

use protocols::catalog::ProtocolSpec;
use protocols::family::Settings;
use protocols::workload::{VotePolicy, Workload};
use protocols::{Fact, Roles, Scenario};

use super::plan_strategy::plans;
use super::property::Target;
use crate::error::Result;
pub use sim_core::CrashLimit;

/// What to search.
#[derive(Clone, Debug)]
pub struct SearchConfig {
    pub protocol: String,
    pub target: Target,
    pub classes: Vec<FaultClass>,
    pub participants: u32,
    pub txns: u64,
    pub cases: u32,
    /// Seeds the search itself (which cases are drawn), not the runs.
    pub seed: u64,
    pub max_faults: usize,
    /// Whether a case may make one participant vote no.
    pub vary_votes: bool,
    /// The protocol family's settings for every case (e.g. Paxos Commit's `f`).
    pub family: Settings,
    /// At most this many distinct nodes of a set crash in a generated plan.
    pub crash_limit: Option<CrashLimit>,
    /// Faults every case starts with, before the generated ones; never shrunk away.
    pub fixed_faults: Vec<Fault>,
    /// A protocol from outside the catalog (see [`SearchConfig::for_spec`]); `None`: the
    /// catalog's protocol named `protocol`.
    pub external: Option<ProtocolSpec>,
}

impl SearchConfig {
    pub fn new(protocol: &str, target: Target, classes: Vec<FaultClass>) -> SearchConfig {
        SearchConfig {
            protocol: protocol.to_string(),
            target,
            classes,
            participants: 3,
            txns: 1,
            cases: 10_000,
            seed: 1,
            max_faults: 4,
            vary_votes: true,
            family: Settings::new(),
            crash_limit: None,
            fixed_faults: Vec::new(),
            external: None,
        }
    }

    /// A search over a protocol defined outside the catalog (e.g. by a user's own crate):
    /// the same cases, runner, checkers and shrinking as for the built-in ones.
    pub fn for_spec(spec: ProtocolSpec, target: Target, classes: Vec<FaultClass>) -> SearchConfig {
        SearchConfig { external: Some(spec), ..SearchConfig::new(spec.name, target, classes) }
    }

    /// The protocol searched.
    pub fn spec(&self) -> Result<ProtocolSpec> {
        match self.external {
            Some(spec) => Ok(spec),
            None => Ok(*protocols::catalog::lookup(&self.protocol)?),
        }
    }

    /// Time triggers fall while the transactions run (about 50 ms each at most).
    pub fn horizon_us(&self) -> u64 {
        50_000 * self.txns.max(1) + 50_000
    }

    /// The scenario of one case.
    pub fn scenario(&self, seed: u64, no_voter: Option<u32>, plan: FaultPlan) -> Scenario {
        let mut s = Scenario::new(&self.protocol, self.participants, self.txns, seed);
        if self.target == Target::Conservation {
            s.workload = Workload::bank();
        }
        if let Some(p) = no_voter {
            s.votes = VotePolicy::always_no(NodeId(1 + p % self.participants));
        }
        s.family = self.family.clone();
        let mut faults = self.fixed_faults.clone();
        faults.extend(plan.faults);
        s.plan = FaultPlan::new(faults);
        // The fault phase ends well after the last fault and every timeout and retry it
        // causes (the settle bound); the liveness phase then repairs everything.
        s.fault_horizon_us = self.horizon_us() + 5_000_000;
        s.liveness_bound_us = Some(10_000_000);
        s.trace = TraceLevel::Observations;
        s
    }

    /// Which node plays which role in this search's cases.
    pub fn roles(&self) -> Result<Roles> {
        Ok(self.spec()?.roles(&self.scenario(0, None, FaultPlan::none()))?)
    }

    /// The nodes playing `role`, ascending (none if the protocol has no such role).
    pub fn nodes_of(&self, role: &str) -> Vec<NodeId> {
        self.roles().map(|r| r.ids(role).collect()).unwrap_or_default()
    }

    /// The acceptors (none unless the protocol has them).
    pub fn acceptors(&self) -> Vec<NodeId> {
        self.nodes_of("acceptor")
    }

    /// An integer setting of the protocol's family (its default when not set).
    pub fn setting(&self, key: &str) -> Result<i64> {
        let spec = self.spec()?;
        Ok(protocols::family::SettingsView::new(spec.family.settings, &self.family).int(key))
    }

    /// Faults hit every node but the client(s), whatever roles the protocol has: the
    /// leading run of ids in `nodes`, the rest (in id order) as extra targets.
    fn space(&self, marks: Vec<(NodeId, String)>) -> Result<FaultSpace> {
        let roles = self.roles()?;
        let targets: Vec<NodeId> =
            (0..roles.nodes()).map(NodeId).filter(|&n| !roles.is(n, "client")).collect();
        let leading = targets.iter().enumerate().take_while(|(i, n)| n.index() == *i).count();
        let space = FaultSpace {
            nodes: leading as u32,
            extra_nodes: targets[leading..].to_vec(),
            horizon_us: self.horizon_us(),
            classes: self.classes.clone(),
            max_faults: self.max_faults,
            marks,
            crash_limit: self.crash_limit.clone(),
        };
        space.validate()?;
        Ok(space)
    }
}

/// How the search went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchStats {
    /// Cases run before the first failing one (that one included).
    pub cases_to_find: u64,
    /// Runs spent shrinking.
    pub shrink_runs: u64,
    /// Cases run in all.
    pub cases_run: u64,
}

/// A minimal failing case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub scenario: Scenario,
    pub stats: SearchStats,
}

pub enum Outcome {
    Found(Box<Found>),
    NotFound { stats: SearchStats },
}

/// The protocol's marks at its coordinator and participants, in the order a fault-free run
/// first emits them: discovered, not listed by hand, so every protocol is searchable. Other
/// roles (Paxos Commit's acceptors) are crashed by time triggers only, as before roles were
/// data: widening the pool changes every search's draws and recorded minimal plans, so it is
/// left to the change that reshapes the plan distribution.
pub fn discover_marks(cfg: &SearchConfig) -> Result<Vec<(NodeId, String)>> {
    let mut s = cfg.scenario(cfg.seed, None, FaultPlan::none());
    s.trace = TraceLevel::Full;
    let mut marks: Vec<(NodeId, String)> = Vec::new();
    let outcome = cfg.spec()?.run(&s)?;
    let roles = &outcome.report.roles;
    for fact in outcome.facts() {
        let (node, Fact::Mark(name)) = (fact.node, fact.what) else { continue };
        let target = roles.is(node, "coordinator") || roles.is(node, "participant");
        if target && !marks.iter().any(|m| m.0 == node && m.1 == name) {
            marks.push((node, name));
        }
    }
    Ok(marks)
}

/// Whether the case violates the target. A node that panics violates `no-panic`, whatever
/// the target: a protocol's own assertion firing is a finding.
pub fn judge(cfg: &SearchConfig, scenario: &Scenario) -> Result<bool> {
    let Ok(outcome) = super::counterexample::run_catching(&cfg.spec()?, scenario)? else {
        return Ok(true);
    };
    let report = outcome.report;
    let verdicts = checkers::check(&report, &scenario.plan);
    Ok(!cfg.target.violations(&verdicts, &report, &scenario.plan).is_empty())
}

/// Runs up to `cfg.cases` cases; on the first failure, shrinks it to a minimal one.
/// `tick` is called after every run (for a progress bar).
pub fn search(cfg: &SearchConfig, tick: &dyn Fn(u64)) -> Result<Outcome> {
    let marks = discover_marks(cfg)?;
    let no_voter: BoxedStrategy<Option<u32>> = if cfg.vary_votes {
        proptest::option::of(any::<u32>()).boxed()
    } else {
        Just(None).boxed()
    };
    let strategy = (any::<u64>().no_shrink(), no_voter, plans(&cfg.space(marks)?));
    let config = Config {
        cases: cfg.cases,
        failure_persistence: None,
        max_shrink_iters: 4_096,
        max_global_rejects: 0,
        ..Config::default()
    };
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&cfg.seed.to_le_bytes());
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let runs = Cell::new(0u64);
    let first_failure = Cell::new(0u64);
    let error = std::cell::RefCell::new(None);
    let result = runner.run(&strategy, |(seed, no_voter, plan)| {
        runs.set(runs.get() + 1);
        tick(runs.get());
        let scenario = cfg.scenario(seed, no_voter, plan);
        match judge(cfg, &scenario) {
            Ok(false) => Ok(()),
            Ok(true) => {
                if first_failure.get() == 0 {
                    first_failure.set(runs.get());
                }
                Err(TestCaseError::fail("violated"))
            }
            Err(e) => {
                error.borrow_mut().get_or_insert(e.to_string());
                Err(TestCaseError::fail("error"))
            }
        }
    });
    if let Some(e) = error.into_inner() {
        return Err(e.into());
    }
    let stats = |found: bool| SearchStats {
        cases_to_find: if found { first_failure.get() } else { 0 },
        shrink_runs: if found { runs.get() - first_failure.get() } else { 0 },
        cases_run: runs.get(),
    };
    match result {
        Ok(()) => Ok(Outcome::NotFound { stats: stats(false) }),
        Err(TestError::Fail(_, (seed, no_voter, plan))) => {
            let scenario = cfg.scenario(seed, no_voter, plan);
            Ok(Outcome::Found(Box::new(Found { scenario, stats: stats(true) })))
        }
        Err(TestError::Abort(why)) => Err(format!("the search was aborted: {why}").into()),
    }
}
