//! Exploring a commit family over its real nodes: the model every commit family's
//! `explore.rs` builds, from the same [`Scenario`] and the same node types as `run`.
//!
//! # What the explorer bounds that a run does not
//!
//! Time is abstracted (any armed timer may fire next), so a retry loop could fire again and
//! again before anything it sent arrives, and every round would be a new state. The model
//! caps every retry loop (decision re-sends, termination inquiries, client retries) at
//! [`RETRIES`] rounds, and gives each participant one key (the workload's key draw would
//! otherwise multiply the states by the keys per participant without changing what the
//! protocol does). Both are part of the state space explored; the README says so.
//!
//! # Judging safety on every state without the path in the key
//!
//! The checkers judge a history of facts; the explorer has one state at a time. A state's
//! node states and disks do not say everything a safety property needs: a node that decided
//! and crashed before logging its decision has forgotten it, yet a later opposite decision
//! elsewhere is an atomicity violation. So each world keeps its observations (trace level
//! `observations`: the facts the nodes report, which the checkers read too), and the
//! properties are judged from them. The state's key is the world's fingerprint plus only
//! what a property can still read from that history: per node and transaction, the
//! decisions it ever reported and the votes it ever cast (the model's [`Memory`]). Two paths
//! that reach the same world with the same memory have the same futures *and* the same verdicts, so
//! deduplicating them is sound; anything more of the path (the order of facts, how often)
//! would only multiply states. The memory is finite (two outcomes and two votes per node and
//! transaction), so the state space stays finite.
//!
//! # Blocking on terminal states
//!
//! A terminal state is one where nothing but a fault is enabled: no message in flight, no
//! timer armed. An up participant still in doubt there can do nothing until a failure is
//! repaired (every retry it had has run, nothing will reach it): it is blocked
//! (`non-blocking` violated). Read from the live node ([`NodeView::in_doubt`]).

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use sim_core::explore::{
    Counterexample, Drawing, ExploreConfig, ExploreReport, Model, Predicate, Verdict,
    explore as search,
};
use sim_core::hash::StableHasher;
use sim_core::{FaultPlan, NodeId, SimConfig, TraceLevel, World};

use crate::client::ClientConfig;
use crate::durable::TxnRecord;
pub use crate::family::{ExploreRequest, LogBounds};
use crate::family::{Family, unknown_name};
use crate::roles::Roles;
use crate::scenario::{CommitProtocol, NodeView, Scenario, ScenarioError};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::txn::{Observation, Outcome, TxnId, Vote};
use crate::workload::Workload;

pub mod symmetry;

/// Rounds every retry loop gets under exploration (see the module docs).
pub const RETRIES: u32 = 1;

/// Searches `model` as `config` says, or replays `request`'s steps through it.
pub fn search_or_replay<P, N>(
    model: &Model<P, N>,
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError>
where
    P: sim_core::Protocol,
    P::Timer: serde::de::DeserializeOwned,
    N: sim_core::Process<P> + Clone + Hash + Send,
{
    let invalid = |reason| ScenarioError::Invalid { field: "counterexample".into(), reason };
    let mut report = match request.replay {
        None => search(model, config),
        Some(steps) => replayed(model, steps).map_err(invalid)?,
    };
    if let (Some(c), Some(drawing)) = (&mut report.counterexample, &model.drawing) {
        c.diagrams = Some(sim_core::explore::draw(drawing, &c.steps).map_err(invalid)?);
    }
    Ok(report)
}

/// The report of replaying `steps` through `model`: the verdict of that one path.
fn replayed<P, N>(model: &Model<P, N>, steps: &[String]) -> Result<ExploreReport, String>
where
    P: sim_core::Protocol,
    P::Timer: serde::de::DeserializeOwned,
    N: sim_core::Process<P> + Clone,
{
    let started = std::time::Instant::now(); // reporting only
    let r = sim_core::explore::replay(model, steps)?;
    let counterexample = r.property.map(|p| Counterexample {
        property: p.to_string(),
        steps: steps[..r.steps].to_vec(),
        trace_hash: r.trace_hash,
        panic: r.panic,
        diagrams: None,
    });
    Ok(ExploreReport {
        unique_states: r.steps as u64 + 1,
        states: r.steps as u64 + 1,
        max_depth: r.steps as u32,
        verdict: if counterexample.is_some() { Verdict::Violated } else { Verdict::Holds },
        counterexample,
        wall: started.elapsed(),
        bytes_per_state: 0,
        threads_used: 1,
    })
}

/// The properties a commit family's explorer checks: safety on every state, blocking on
/// terminal ones.
pub const COMMIT_EXPLORED: &[&str] = &["atomicity", "non-blocking"];

/// The scenario a commit family's explorer builds its nodes from: `request`'s, with one key
/// per participant (see the module docs).
pub fn scenario(request: &ExploreRequest<'_>) -> Scenario {
    let mut s = request.scenario.clone();
    s.workload = Workload::Spread { keys_per_participant: 1 };
    s.trace = TraceLevel::Observations;
    s
}

/// `timing` and `client` with every retry loop capped at [`RETRIES`] rounds.
pub fn bounded(timing: &mut Timing, client: &mut ClientConfig) {
    timing.resend.max_attempts = RETRIES;
    timing.inquiry.max_attempts = RETRIES;
    client.retry.max_attempts = RETRIES;
}

/// The properties to check: `asked`, each one the family declares and the explorer checks,
/// or all of `explored` when none is asked. An unknown name (or one the explorer does not
/// check) is bad input.
pub fn properties(
    asked: &[String],
    declared: &[&'static str],
    explored: &[&'static str],
) -> Result<Vec<&'static str>, ScenarioError> {
    if asked.is_empty() {
        return Ok(explored.to_vec());
    }
    let bad = |reason: String| ScenarioError::Invalid { field: "property".into(), reason };
    let mut out = Vec::new();
    for name in asked {
        let Some(&p) = declared.iter().find(|p| **p == name.as_str()) else {
            return Err(bad(unknown_name("property", name, declared.iter().copied())));
        };
        if !explored.contains(&p) {
            return Err(bad(format!(
                "{p} is not checked by explore for this protocol (explore checks: {})",
                explored.join(", ")
            )));
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Explores `request` as family `family` (protocol `P`), whose nodes `configure` builds a
/// configuration for from the explored scenario (the one `run` would use, with its retry
/// loops [`bounded`]).
pub fn explore<P>(
    family: &Family,
    request: &ExploreRequest<'_>,
    explore: &ExploreConfig,
    configure: impl FnOnce(&Scenario) -> Result<P::Config, ScenarioError>,
) -> Result<ExploreReport, ScenarioError>
where
    P: CommitProtocol,
    P::Record: TxnRecord,
    P::Node: Clone + Hash + Send,
    P::Config: Send + Sync,
{
    explore_with::<P>(family, request, explore, configure, COMMIT_EXPLORED, |_, _| {})
}

/// A commit protocol whose worlds the explorer can search (on several threads).
pub trait Explorable:
    CommitProtocol<Record: TxnRecord, Node: Clone + Hash + Send, Config: Send + Sync>
{
}

impl<P> Explorable for P where
    P: CommitProtocol<Record: TxnRecord, Node: Clone + Hash + Send, Config: Send + Sync>
{
}

/// [`explore`], checking the properties in `explored` (a family's own beside the commit
/// ones), which `extend` adds to the model it is given with the properties chosen.
pub fn explore_with<P: Explorable>(
    family: &Family,
    request: &ExploreRequest<'_>,
    explore: &ExploreConfig,
    configure: impl FnOnce(&Scenario) -> Result<P::Config, ScenarioError>,
    explored: &[&'static str],
    extend: impl FnOnce(&mut Model<P, P::Node>, &[&'static str]),
) -> Result<ExploreReport, ScenarioError> {
    let checked = properties(request.properties, family.properties, explored)?;
    if request.symmetry {
        // Node ids live inside the commit protocols' states (participant lists, senders):
        // a family supports it once its types can be renamed ([`symmetry`]).
        return Err(ScenarioError::Invalid {
            field: "symmetry".into(),
            reason: format!(
                "{}: symmetry reduction is not supported for this family (supported: {})",
                request.variant,
                symmetry::SUPPORTED
            ),
        });
    }
    let scenario = scenario(request);
    scenario.validate()?;
    let roles = (family.layout)(&scenario);
    let mut model = model::<P>(&scenario, &roles, configure(&scenario)?, &checked);
    extend(&mut model, &checked);
    search_or_replay(&model, request, explore)
}

/// The model: the initial world `run` would start from (trace at `observations`), keyed by
/// fingerprint and memory, with the chosen properties.
pub fn model<P>(
    scenario: &Scenario,
    roles: &Roles,
    config: P::Config,
    properties: &[&'static str],
) -> Model<P, P::Node>
where
    P: CommitProtocol,
    P::Record: TxnRecord,
    P::Node: Clone + Hash,
    P::Config: Send + Sync,
{
    let sim_config = sim_config(scenario, roles);
    let config = Shared::new(config);
    let world = move |trace: TraceLevel| {
        let (config, sim_config) = (config.clone(), SimConfig { trace, ..sim_config.clone() });
        move || {
            let config = config.clone();
            let factory =
                move |id: NodeId, boot: sim_core::Boot<'_, P::Record>| P::build(&config, id, boot);
            World::new(sim_config.clone(), FaultPlan::new(Vec::new()), factory)
                .expect("a scenario the runner accepts")
        }
    };
    let roles = roles.clone();
    let drawing = Drawing {
        init: Box::new(world(TraceLevel::Full)),
        names: Box::new(move |id| roles.label(id)),
    };
    let mut invariants = Vec::new();
    let mut terminal = Vec::new();
    if properties.contains(&"atomicity") {
        invariants.push(Predicate { name: "atomicity", holds: atomic::<P> });
    }
    if properties.contains(&"non-blocking") {
        terminal.push(Predicate { name: "non-blocking", holds: unblocked::<P> });
    }
    Model {
        init: Box::new(world(TraceLevel::Observations)),
        view: Some(memory_key::<CommitMemory, P, P::Node>),
        potential: None,
        invariants,
        terminal,
        drawing: Some(drawing),
    }
}

/// The engine's configuration for an explored world of `scenario` laid out as `roles` (trace
/// at `observations`, no event budget to speak of: the explorer bounds the search).
pub fn sim_config(scenario: &Scenario, roles: &Roles) -> SimConfig {
    SimConfig {
        nodes: roles.nodes(),
        seed: scenario.seed,
        network: scenario.network.clone(),
        trace: TraceLevel::Observations,
        max_events: 1 << 40,
        hosts: roles.hosts.clone(),
    }
}

/// What a model keeps of a world's history beside the world: the part of its observations a
/// property can still read that no node holds (see the module docs), folded one observation
/// at a time. Finite, and part of the state's key ([`memory_key`]).
pub(crate) trait Memory: Default + Hash {
    /// Takes in one observation, reported by `node`.
    fn note(&mut self, node: NodeId, obs: &Observation);
}

/// The memory `M` of `world`'s history: every observation so far, noted in order.
pub(crate) fn remember<M: Memory, P: sim_core::Protocol<Obs = Observation>, N>(
    world: &World<P, N>,
) -> M {
    let mut m = M::default();
    for o in world.trace().observations() {
        m.note(o.node, &o.obs);
    }
    m
}

/// The state's key of a model whose memory is `M`: the world's fingerprint and its memory.
pub(crate) fn memory_key<M: Memory, P: sim_core::Protocol<Obs = Observation>, N: Hash>(
    world: &World<P, N>,
) -> u64 {
    state_key(world, remember::<M, P, N>(world))
}

/// What a commit safety property can still read from a world's history: per node and
/// transaction, every decision reported and every vote cast (see the module docs).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
struct CommitMemory {
    decided: BTreeSet<(NodeId, TxnId, Outcome)>,
    voted: BTreeSet<(NodeId, TxnId, Vote)>,
    /// Each submitted transaction's participants, kept sorted (the order of submissions is
    /// not part of the state).
    submitted: Vec<(TxnId, Vec<NodeId>)>,
}

impl Memory for CommitMemory {
    fn note(&mut self, node: NodeId, obs: &Observation) {
        match obs {
            Observation::Decided { txn, outcome } => {
                self.decided.insert((node, *txn, *outcome));
            }
            Observation::Voted { txn, vote } => {
                self.voted.insert((node, *txn, *vote));
            }
            Observation::Submitted { txn, participants } => {
                let s = (*txn, participants.clone());
                let at = self.submitted.partition_point(|t| *t <= s);
                self.submitted.insert(at, s);
            }
            _ => {}
        }
    }
}

/// The stable hash of `t` alone, as a state's key hashes it (for tests that compare a
/// wrapper in a node's state with what it wraps).
#[cfg(test)]
pub(crate) fn stable_hash_of(t: &impl Hash) -> u64 {
    let mut h = StableHasher::default();
    t.hash(&mut h);
    h.finish()
}

/// A state's key for a model that keeps a finite `memory` of the history beside the world
/// (what a property still reads that no node holds): the world's fingerprint, then `memory`.
/// Equal keys are one state to the explorer.
pub(crate) fn state_key<P: sim_core::Protocol, N: Hash>(
    world: &World<P, N>,
    memory: impl Hash,
) -> u64 {
    let mut h = StableHasher::default();
    h.write_u64(world.fingerprint());
    memory.hash(&mut h);
    h.finish()
}

/// AC1–AC3 from the facts reported so far: no transaction is decided both ways (by two
/// nodes, or by one node across a crash), and none is committed unless every participant
/// voted yes (and none voted no).
fn atomic<P: CommitProtocol>(world: &World<P, P::Node>) -> bool
where
    P::Record: TxnRecord,
{
    let m: CommitMemory = remember(world);
    let both = m.decided.iter().any(|&(_, txn, o)| {
        o == Outcome::Commit && m.decided.iter().any(|d| d.1 == txn && d.2 == Outcome::Abort)
    });
    if both {
        return false;
    }
    m.submitted.iter().all(|(txn, participants)| {
        let committed = m.decided.iter().any(|d| d.1 == *txn && d.2 == Outcome::Commit);
        !committed
            || participants.iter().all(|&p| {
                m.voted.contains(&(p, *txn, Vote::Yes)) && !m.voted.contains(&(p, *txn, Vote::No))
            })
    })
}

/// On a terminal state: no up node is in doubt.
fn unblocked<P: CommitProtocol>(world: &World<P, P::Node>) -> bool
where
    P::Record: TxnRecord,
{
    (0..world.node_count()).all(|i| world.node(NodeId(i)).is_none_or(|n| n.in_doubt().is_empty()))
}
