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

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde::{Deserialize, Serialize};
use sim_core::{Fault, FaultClass, FaultPlan, FaultSpace, NodeId, TraceLevel};

use protocols::catalog::ProtocolSpec;
use protocols::family::Settings;
use protocols::workload::VotePolicy;
use protocols::{Fact, Roles, RunOutcome, Scenario, TraceFact};

use super::corpus::Run;
use super::guided::{Case, Guide, Mixed};
use super::plan_strategy::case_draws;
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
    /// Crash limits a generated plan respects, each independently (empty: none).
    pub crash_limits: Vec<CrashLimit>,
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
            crash_limits: Vec::new(),
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

    /// Time triggers fall while the transactions run (about 50 ms each at most) and, for
    /// quorum commit, while its elections run too (they start after the participants'
    /// timeouts), so that splits, heals, re-splits, crashes and recoveries cascade through
    /// them (Keidar & Dolev's cascading failures).
    pub fn horizon_us(&self) -> u64 {
        let run = 50_000 * self.txns.max(1) + 50_000;
        let elections = self.spec().is_ok_and(|s| s.has_property("quorum-non-blocking"));
        if elections { run + 500_000 } else { run }
    }

    /// The scenario of one case.
    pub fn scenario(&self, seed: u64, no_voter: Option<u32>, plan: FaultPlan) -> Scenario {
        let mut s = Scenario::new(&self.protocol, self.participants, self.txns, seed);
        // Sagas run orders of three steps or more (compensations of two steps in reverse
        // order); conservation needs the bank's money.
        let saga = self.participants >= 2
            && self.spec().is_ok_and(|spec| spec.has_property("saga-atomicity"));
        if let (true, Ok(spec)) = (saga || self.target == Target::Conservation, self.spec()) {
            s.workload = spec.bank_workload(self.participants);
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
    fn space(&self, points: &CrashPoints) -> Result<FaultSpace> {
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
            marks: points.marks.clone(),
            send_points: points.sends.clone(),
            crash_limits: self.crash_limits.clone(),
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

/// The crash points a search draws its mark and send triggers from, grown from every run
/// it makes: marks emitted only on failure paths (termination, recovery, compensation) and
/// the sends of retries show up in the runs that take those paths.
///
/// Determinism: the pool a case is mapped against is a function of the cases before it
/// only. The search runs its cases one after another (proptest's runner), learns from
/// each case's run once it is judged, in case order, and stops learning at the first
/// failing case, so shrinking maps every candidate against the very pool the failure was
/// found with. New points are appended, never inserted, so a draw's index keeps naming
/// the same point as the pool grows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CrashPoints {
    /// `(node, mark)`, in the order first seen.
    pub marks: Vec<(NodeId, String)>,
    /// `(node, sends)`: the most sends seen from `node` (capped), in the order first seen.
    pub sends: Vec<(NodeId, u64)>,
}

impl CrashPoints {
    /// The points of a fault-free run of `cfg`'s protocol (in emission order), then every
    /// mark the family declares for the role of each target (normal and failure paths).
    pub fn discover(cfg: &SearchConfig) -> Result<CrashPoints> {
        let mut points = CrashPoints::default();
        let mut s = cfg.scenario(cfg.seed, None, FaultPlan::none());
        s.trace = TraceLevel::Full;
        let spec = cfg.spec()?;
        let outcome = spec.run(&s)?;
        points.learn(&outcome);
        let roles = &outcome.report.roles;
        for node in (0..roles.nodes()).map(NodeId).filter(|&n| is_target(roles, n)) {
            for mark in spec.all_marks(roles.of(node)) {
                points.add_mark(node, mark);
            }
        }
        Ok(points)
    }

    /// Adds the marks and send counts of a run traced in full (nothing from other levels).
    pub fn learn(&mut self, outcome: &RunOutcome) {
        self.learn_facts(&outcome.report.roles, &outcome.facts());
    }

    /// [`CrashPoints::learn`] from the run's facts, already read.
    fn learn_facts(&mut self, roles: &Roles, facts: &[TraceFact]) {
        let mut sends: Vec<(NodeId, u64)> = Vec::new();
        for fact in facts {
            if !is_target(roles, fact.node) {
                continue;
            }
            match &fact.what {
                Fact::Mark(name) => self.add_mark(fact.node, name),
                Fact::Send { .. } => match sends.iter_mut().find(|s| s.0 == fact.node) {
                    Some(s) => s.1 += 1,
                    None => sends.push((fact.node, 1)),
                },
                _ => {}
            }
        }
        for (node, count) in sends {
            let count = count.min(FaultSpace::MAX_SENDS);
            match self.sends.iter_mut().find(|s| s.0 == node) {
                Some(s) => s.1 = s.1.max(count),
                None => self.sends.push((node, count)),
            }
        }
    }

    fn add_mark(&mut self, node: NodeId, mark: &str) {
        if !self.marks.iter().any(|m| m.0 == node && m.1 == mark) {
            self.marks.push((node, mark.to_string()));
        }
    }
}

/// Faults hit every node but the client(s).
fn is_target(roles: &Roles, node: NodeId) -> bool {
    node.0 < roles.nodes() && !roles.is(node, "client")
}

/// The marks [`CrashPoints::discover`] starts a search with.
pub fn discover_marks(cfg: &SearchConfig) -> Result<Vec<(NodeId, String)>> {
    Ok(CrashPoints::discover(cfg)?.marks)
}

/// Whether the case violates the target. A node that panics violates `no-panic`, whatever
/// the target: a protocol's own assertion firing is a finding.
pub fn judge(cfg: &SearchConfig, scenario: &Scenario) -> Result<bool> {
    Ok(judge_run(cfg, scenario)?.0)
}

/// [`judge`], and the run (none if a node panicked) for the search to learn from.
fn judge_run(cfg: &SearchConfig, scenario: &Scenario) -> Result<(bool, Option<RunOutcome>)> {
    let Ok(outcome) = super::catching::run_catching(&cfg.spec()?, scenario)? else {
        return Ok((true, None));
    };
    let report = &outcome.report;
    let verdicts = checkers::check(report, &scenario.plan);
    let violated = !cfg.target.violations(&verdicts, report, &scenario.plan).is_empty();
    Ok((violated, Some(outcome)))
}

/// Runs up to `cfg.cases` cases; on the first failure, shrinks it to a minimal one.
/// `tick` is called after every run (for a progress bar).
pub fn search(cfg: &SearchConfig, tick: &dyn Fn(u64)) -> Result<Outcome> {
    Ok(search_with_points(cfg, tick)?.0)
}

/// [`search`], and the crash points it had learned when it stopped (at the first failing
/// case, or after the last case).
pub fn search_with_points(
    cfg: &SearchConfig,
    tick: &dyn Fn(u64),
) -> Result<(Outcome, CrashPoints)> {
    let points = RefCell::new(CrashPoints::discover(cfg)?);
    let space = RefCell::new(cfg.space(&points.borrow())?);
    let no_voter: BoxedStrategy<Option<u32>> = if cfg.vary_votes {
        proptest::option::of(any::<u32>()).boxed()
    } else {
        Just(None).boxed()
    };
    let drawn = (any::<u64>().no_shrink(), no_voter, case_draws(&space.borrow())).boxed();
    let guide = Rc::new(RefCell::new(Guide::new(space.borrow().clone(), cfg.seed)));
    let strategy = Mixed { drawn, guide: guide.clone() };
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
    let error = RefCell::new(None);
    let result = runner.run(&strategy, |case: Case| {
        runs.set(runs.get() + 1);
        tick(runs.get());
        let (seed, no_voter, faults) = case.parts(&space.borrow());
        let mut scenario = cfg.scenario(seed, no_voter, FaultPlan::new(faults.clone()));
        let learning = first_failure.get() == 0;
        if learning {
            // The same run at any trace level (same hash); in full, it shows its points.
            scenario.trace = TraceLevel::Full;
        }
        let judged = judge_run(cfg, &scenario);
        // Only a passing case teaches: a failing one is shrunk against the pool it was
        // mapped with.
        if let (true, Ok((false, Some(outcome)))) = (learning, &judged) {
            let facts = outcome.facts();
            let roles = &outcome.report.roles;
            let is_target = |n: NodeId| is_target(roles, n);
            let fixed_faults = &cfg.fixed_faults;
            let run = Run {
                seed,
                no_voter,
                faults: &faults,
                fixed_faults,
                outcome,
                facts: &facts,
                is_target: &is_target,
            };
            guide.borrow_mut().learn(&run);
            let mut points = points.borrow_mut();
            let before = points.clone();
            points.learn_facts(roles, &facts);
            if *points != before {
                match cfg.space(&points) {
                    Ok(grown) => {
                        guide.borrow_mut().marks = Rc::new(grown.marks.clone());
                        *space.borrow_mut() = grown;
                    }
                    Err(e) => {
                        error.borrow_mut().get_or_insert(e.to_string());
                        return Err(TestCaseError::fail("error"));
                    }
                }
            }
        }
        match judged.map(|j| j.0) {
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
    let outcome = match result {
        Ok(()) => Outcome::NotFound { stats: stats(false) },
        Err(TestError::Fail(_, case)) => {
            let (seed, no_voter, faults) = case.parts(&space.borrow());
            let scenario = cfg.scenario(seed, no_voter, FaultPlan::new(faults));
            Outcome::Found(Box::new(Found { scenario, stats: stats(true) }))
        }
        Err(TestError::Abort(why)) => return Err(format!("the search was aborted: {why}").into()),
    };
    Ok((outcome, points.into_inner()))
}
