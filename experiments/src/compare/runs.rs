//! The runs behind every cell of `commitlab compare`, built from the study's and the sweeps'
//! own scenarios (so a cell means what the same column means there) and run together on one
//! thread pool.
//!
//! Per correct protocol, five groups of runs:
//! - **cost**: the scaling sweep's fault-free scenario at N = 3 (constant one-way delay d):
//!   messages, critical-path delays and forced writes per transaction;
//! - **normal**: the coordinator-failure study's scenario with no fault: decision latency
//!   and what concurrent readers see (a saga scenario's auditor);
//! - **crash**: the study's cells with recovery "never", one per coordinator crash point;
//! - **partition**: the partition sweep's scenarios, one group per fault mix;
//! - **total failure**: at each coordinator crash point, every node but the client crashes
//!   at once and all recover after [`TOTAL_FAILURE_RECOVERY_MS`].
//!
//! A job is a pure function of its scenario and results come back in job order, so every
//! number is the same on any thread count.

use protocols::{ProtocolSpec, Scenario};
use sim_core::{Action, Trigger};

use crate::error::Result;
use crate::metrics::RunMetrics;
use crate::study::coordinator_failure::{self as study, Cell};
use crate::sweep::{partition, scaling};

/// Participants of every run (the study's and the partition sweep's default).
pub const PARTICIPANTS: u32 = 3;
/// How long every node stays down in the total-failure runs.
pub const TOTAL_FAILURE_RECOVERY_MS: u64 = 100;
/// The crash point name of the fault-free groups' rows.
pub const NO_FAULT: &str = "none";

/// The seeds of a comparison.
#[derive(Clone, Copy, Debug)]
pub struct Seeds {
    pub first: u64,
    pub count: u64,
}

impl Seeds {
    pub fn list(self) -> impl Iterator<Item = u64> {
        (0..self.count).map(move |i| self.first.wrapping_add(i))
    }

    /// The cost runs are fault-free with constant delays: the scaling sweep's few seeds do.
    pub fn cost(self) -> Seeds {
        Seeds { first: self.first, count: self.count.min(scaling::DEFAULT_SEEDS) }
    }

    fn study_options(self) -> study::Options {
        study::Options {
            seeds: self.count,
            first_seed: self.first,
            participants: PARTICIPANTS,
            ..study::Options::default()
        }
    }
}

/// Every measurement of one protocol, as the study's and sweeps' own rows.
#[derive(Clone, Debug)]
pub struct Measured {
    pub spec: &'static ProtocolSpec,
    pub cost: scaling::Row,
    /// Fault-free runs of the study's scenario (crash point [`NO_FAULT`]).
    pub normal: study::Row,
    /// One row per coordinator crash point, recovery never.
    pub crash: Vec<study::Row>,
    /// One row per fault mix of the partition sweep.
    pub partition: Vec<partition::Row>,
    /// One row per coordinator crash point: everyone crashes there, all recover.
    pub total_failure: Vec<study::Row>,
}

/// The study's scenario with no fault (no coordinator needed, unlike its crash cells).
pub fn normal_scenario(protocol: &'static str, seeds: Seeds, seed: u64) -> Scenario {
    study::fault_free_scenario(protocol, &seeds.study_options(), seed)
}

/// The study's crash of the coordinator at `crash_point`, extended to every node but the
/// client: the same trigger crashes them all at once, and all recover after
/// [`TOTAL_FAILURE_RECOVERY_MS`].
pub fn total_failure_scenario(
    protocol: &'static str,
    crash_point: &'static str,
    seeds: Seeds,
    seed: u64,
) -> Scenario {
    let cell = Cell { protocol, crash_point, recovery_ms: Some(TOTAL_FAILURE_RECOVERY_MS) };
    let mut s = study::scenario(&cell, &seeds.study_options(), seed);
    let roles = protocols::catalog::roles(&s).expect("the study's scenarios are valid");
    let Some((trigger, Action::Crash { node: coordinator, recover_after_us })) =
        s.plan.faults.first().map(|f| (f.trigger.clone(), f.action.clone()))
    else {
        unreachable!("the study's plan is one crash of the coordinator")
    };
    for n in 0..roles.nodes() {
        let node = sim_core::NodeId(n);
        if node != coordinator && !roles.is(node, "client") {
            s.plan = s.plan.with(trigger.clone(), Action::Crash { node, recover_after_us });
        }
    }
    debug_assert!(matches!(trigger, Trigger::Mark { .. }), "crashed on the coordinator's mark");
    s
}

/// One group of runs: which measurement, and its scenarios.
enum Group {
    Cost,
    Normal,
    Crash(&'static str),
    Partition(&'static str),
    TotalFailure(&'static str),
}

/// Runs every group of every correct protocol; one [`Measured`] per protocol, catalog order.
pub fn measure(seeds: Seeds, threads: usize) -> Result<Vec<Measured>> {
    if seeds.count == 0 {
        return Err("--seeds 0: need at least one seed".into());
    }
    let specs: Vec<&'static ProtocolSpec> =
        protocols::catalog().iter().filter(|s| s.correct && s.decides_transactions()).collect();
    // (protocol index, group, jobs) in a fixed order.
    let mut groups: Vec<(usize, Group, usize)> = Vec::new();
    let mut jobs: Vec<Scenario> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let p = spec.name;
        let mut add = |g: Group, scenarios: Vec<Scenario>| {
            groups.push((i, g, scenarios.len()));
            jobs.extend(scenarios);
        };
        add(
            Group::Cost,
            seeds.cost().list().map(|s| scaling::scenario(p, PARTICIPANTS, s)).collect(),
        );
        add(Group::Normal, seeds.list().map(|s| normal_scenario(p, seeds, s)).collect());
        for &mark in spec.coordinator_marks() {
            let cell = Cell { protocol: p, crash_point: mark, recovery_ms: None };
            let opts = seeds.study_options();
            add(
                Group::Crash(mark),
                seeds.list().map(|s| study::scenario(&cell, &opts, s)).collect(),
            );
        }
        for &(mix, classes) in partition::MIXES {
            add(
                Group::Partition(mix),
                seeds.list().map(|s| partition::scenario(p, classes, s)).collect(),
            );
        }
        for &mark in spec.coordinator_marks() {
            add(
                Group::TotalFailure(mark),
                seeds.list().map(|s| total_failure_scenario(p, mark, seeds, s)).collect(),
            );
        }
    }
    for s in &jobs {
        s.validate().map_err(|e| format!("compare: {e}"))?;
    }
    let results = crate::parallel::run_all("compare", &jobs, threads, |s| {
        let report = protocols::run(s)?.report;
        let verdicts = checkers::check(&report, &s.plan);
        Ok(RunMetrics::of(&report, &verdicts, u64::MAX))
    })?;

    let mut rest: &[RunMetrics] = &results;
    let mut parts: Vec<Parts> = specs.iter().map(|_| Parts::default()).collect();
    for (i, group, len) in groups {
        let (runs, tail) = rest.split_at(len);
        rest = tail;
        let p = specs[i].name;
        let cell = |crash_point, recovery_ms| Cell { protocol: p, crash_point, recovery_ms };
        let part = &mut parts[i];
        match group {
            Group::Cost => part.cost = Some(scaling::row(p, PARTICIPANTS, runs)),
            Group::Normal => {
                part.normal = Some(study::row(&cell(NO_FAULT, None), PARTICIPANTS, runs))
            }
            Group::Crash(mark) => {
                part.crash.push(study::row(&cell(mark, None), PARTICIPANTS, runs))
            }
            Group::Partition(mix) => part.partition.push(partition::row(p, mix, runs)),
            Group::TotalFailure(mark) => part.total_failure.push(study::row(
                &cell(mark, Some(TOTAL_FAILURE_RECOVERY_MS)),
                PARTICIPANTS,
                runs,
            )),
        }
    }
    Ok(specs
        .iter()
        .zip(parts)
        .map(|(&spec, part)| Measured {
            spec,
            cost: part.cost.expect("every protocol has a cost group"),
            normal: part.normal.expect("every protocol has a normal group"),
            crash: part.crash,
            partition: part.partition,
            total_failure: part.total_failure,
        })
        .collect())
}

/// A protocol's rows while they are being collected.
#[derive(Default)]
struct Parts {
    cost: Option<scaling::Row>,
    normal: Option<study::Row>,
    crash: Vec<study::Row>,
    partition: Vec<partition::Row>,
    total_failure: Vec<study::Row>,
}
