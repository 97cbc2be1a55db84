//! What BFS and DFS share: checking a state, keying it, and rebuilding a path to it.

use std::hash::{Hash, Hasher};

use crate::hash::StableHasher;

use crate::process::{Process, Protocol};
use crate::world::World;

use super::delays;
use super::report::{Counterexample, ExploreReport, Verdict};
use super::successors::{NO_PANIC, Spare, Used, apply_telling_panic, expand};
use super::{Model, Rules};

/// A state's key before the budget is mixed in: the model's view, or the fingerprint, and
/// under a delay bound the order the default reads ([`delays::order_key`]).
pub(crate) fn world_key<P: Protocol, N: Hash>(
    model: &Model<P, N>,
    rules: &Rules,
    world: &World<P, N>,
) -> u64 {
    let k = match model.view {
        Some(view) => view(world),
        None => world.fingerprint(),
    };
    if rules.delays.is_none() {
        return k;
    }
    let mut h = StableHasher::default();
    h.write_u64(k);
    h.write_u64(delays::order_key(world));
    h.finish()
}

/// The first property `world` violates: an invariant, or (when nothing but faults is
/// enabled) a terminal predicate.
pub(crate) fn violated<P, N>(model: &Model<P, N>, world: &World<P, N>) -> Option<&'static str>
where
    P: Protocol,
    N: Process<P>,
{
    if let Some(p) = model.invariants.iter().find(|p| !(p.holds)(world)) {
        return Some(p.name);
    }
    if model.terminal.is_empty() {
        return None;
    }
    let mut events = Vec::new();
    world.enabled(&mut events);
    if !events.is_empty() {
        return None;
    }
    model.terminal.iter().find(|p| !(p.holds)(world)).map(|p| p.name)
}

/// Where each state was first reached from: `(parent, branch)` per state id (8 bytes a
/// state); the initial state has no parent.
#[derive(Default)]
pub(crate) struct Arena {
    links: Vec<(u32, u32)>,
}

const ROOT: u32 = u32::MAX;

impl Arena {
    pub(crate) fn root(&mut self) -> u32 {
        self.push(ROOT, 0)
    }
    pub(crate) fn push(&mut self, parent: u32, branch: u32) -> u32 {
        let id = u32::try_from(self.links.len()).expect("at most 2^32 states");
        self.links.push((parent, branch));
        id
    }

    /// The branches from the initial state to state `id`.
    pub(crate) fn branches(&self, id: u32) -> Vec<u32> {
        let mut branches = Vec::new();
        let mut at = id;
        while self.links[at as usize].0 != ROOT {
            branches.push(self.links[at as usize].1);
            at = self.links[at as usize].0;
        }
        branches.reverse();
        branches
    }
}

/// What a search ends with, whatever its strategy: the verdict, the path to the violating
/// state `found` (its branches from the initial state, and the property) if any, and the
/// counts. Wall time and memory are the caller's to add.
#[allow(clippy::too_many_arguments)]
pub(crate) fn report<P, N>(
    model: &Model<P, N>,
    rules: &Rules,
    found: Option<(Vec<u32>, &'static str)>,
    incomplete: bool,
    unique_states: u64,
    states: u64,
    max_depth: u32,
) -> ExploreReport
where
    P: Protocol,
    N: Process<P> + Clone,
{
    let verdict = match (&found, incomplete) {
        (Some(_), _) => Verdict::Violated,
        (None, true) => Verdict::Incomplete,
        (None, false) => Verdict::Holds,
    };
    let counterexample = found.map(|(branches, property)| {
        let (steps, trace_hash, panic) = path(model, rules, &branches);
        Counterexample { property: property.to_string(), steps, trace_hash, panic, diagrams: None }
    });
    ExploreReport {
        unique_states,
        states,
        max_depth,
        verdict,
        counterexample,
        wall: Default::default(),
        bytes_per_state: 0,
        threads_used: 1,
    }
}

/// The steps along `branches` from the initial state, each as one JSON object, found by
/// enumerating successors again, the trace hash of the world they reach, and the message of
/// the panic the last step ended in, if it did.
fn path<P, N>(
    model: &Model<P, N>,
    rules: &Rules,
    branches: &[u32],
) -> (Vec<String>, u64, Option<String>)
where
    P: Protocol,
    N: Process<P> + Clone,
{
    let mut world = (model.init)();
    let mut used = Used::default();
    let mut spare = Spare::default();
    let mut steps = Vec::with_capacity(branches.len());
    let mut panic = None;
    for &branch in branches {
        let (mut i, mut taken) = (0u32, None);
        expand(&world, used, rules, &mut spare, |b, w, u| {
            let this = i == branch;
            i += 1;
            if this {
                taken = Some((b.step(), b.panicked, w, u));
                None
            } else {
                Some(w)
            }
        });
        let (step, panicked, next, spent) = taken.expect("a recorded branch is enumerated again");
        if panicked {
            // The expansion keeps no message: the step again, on the world before it.
            panic = Some(panic_message(&world, &step));
        }
        steps.push(serde_json::to_string(&step).expect("a step serialises"));
        world = *next;
        used = spent;
    }
    (steps, world.trace_hash(), panic)
}

/// The message of the panic `step` ends in when applied to (a copy of) `world`. A handler
/// that does not panic again (one that is not a function of its state) is said so, not
/// trusted to: the tool reports it rather than crash on it.
fn panic_message<P, N>(world: &World<P, N>, step: &super::Step<P::Timer>) -> String
where
    P: Protocol,
    N: Process<P> + Clone,
{
    use crate::event::Steering;
    let mut world = world.clone();
    let steering =
        Steering { choices: &step.choices, crash_after_effects: step.crash_after_effects };
    match apply_telling_panic(&mut world, &step.event, steering) {
        Err(Err(message)) => message,
        _ => "a handler panicked in the search but not when its step was applied again (is it \
              deterministic?)"
            .to_string(),
    }
}

/// What replaying a path found: the first property violated (and after how many steps),
/// and the trace hash of the world reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replayed {
    pub property: Option<&'static str>,
    /// The message of the panic the path ended in (`property` is then [`NO_PANIC`]).
    pub panic: Option<String>,
    /// Steps applied (all of them, or up to the first violating state).
    pub steps: usize,
    pub trace_hash: u64,
}

/// Replays `steps` (as a [`Counterexample`] stores them) from `model`'s initial world, one
/// [`World::apply`] each, checking the model's properties on every state reached, as the
/// search did. An unparsable step, or one not enabled where it is applied, is an error
/// naming it.
pub fn replay<P, N>(model: &Model<P, N>, steps: &[String]) -> Result<Replayed, String>
where
    P: Protocol,
    N: Process<P> + Clone,
    P::Timer: serde::de::DeserializeOwned,
{
    let mut world = (model.init)();
    let mut property = violated(model, &world);
    let (mut applied, mut panic) = (0, None);
    for (i, text) in steps.iter().enumerate() {
        if property.is_some() {
            break;
        }
        panic = apply_step(&mut world, i, text)?;
        applied += 1;
        property = if panic.is_some() { Some(NO_PANIC) } else { violated(model, &world) };
    }
    Ok(Replayed { property, panic, steps: applied, trace_hash: world.trace_hash() })
}

/// Applies step number `i` (from 0), stored as `text`, to `world`, as the search took it:
/// the panic's message if a handler panicked in it (as the search caught it: `world` is left
/// half-applied, and a path ends there). An unparsable step, or one not enabled here, is an
/// error naming it.
pub(crate) fn apply_step<P, N>(
    world: &mut World<P, N>,
    i: usize,
    text: &str,
) -> Result<Option<String>, String>
where
    P: Protocol,
    N: Process<P> + Clone,
    P::Timer: serde::de::DeserializeOwned,
{
    use crate::event::Steering;
    let step: super::Step<P::Timer> =
        serde_json::from_str(text).map_err(|e| format!("step {}: {e}: {text}", i + 1))?;
    let steering =
        Steering { choices: &step.choices, crash_after_effects: step.crash_after_effects };
    match apply_telling_panic(world, &step.event, steering) {
        Ok(_) => Ok(None),
        Err(Err(message)) => Ok(Some(message)),
        Err(Ok(e)) => Err(format!("step {}: {e}: {text}", i + 1)),
    }
}
