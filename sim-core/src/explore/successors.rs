//! The branches out of one state, in one fixed order.
//!
//! The order is part of the result: BFS and DFS visit successors in it, and a
//! counterexample is stored as the index of each step among its state's successors (8 bytes
//! a state instead of the step itself) and rebuilt by enumerating them again. So the order
//! depends only on the world: the events [`World::enabled`] lists (in its order; on a FIFO
//! link only the oldest message in flight is deliverable, see [`behind_on_fifo_link`]), each with
//! every combination of its choices (option 0 first; the options of a later choice vary
//! fastest) and, within the crash budget, every crash point of its handler; then the fault
//! events: crash each up node, recover each down node, drop, then duplicate, each message,
//! then every split of the cluster in two (by the bit mask of the nodes apart from node 0,
//! ascending), then heal. Under a delay bound ([`super::delays`]) an event other than the
//! default one is a branch only while the path has a delay left, and spends it.
//!
//! A handler that panics is a finding, not a crash of the explorer: the step that panicked
//! is still a branch (numbered in the same order, so a path to it is rebuilt like any
//! other), handed over [`Branch::panicked`], and its half-applied world is never reused.
//! Its choices are the ones forced on it: the options of choices it made before panicking
//! are not known, so they are not enumerated (the panic is already a violation).

use serde::{Deserialize, Serialize};

use crate::event::{Event, Steering, StepError};
use crate::fault::Action;
use crate::id::NodeId;
use crate::network::Ordering;
use crate::process::{Process, Protocol};
use crate::world::World;

use super::{Rules, Timers, delays};

/// Faults spent along a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Used {
    pub(crate) crashes: u32,
    pub(crate) recoveries: u32,
    pub(crate) drops: u32,
    pub(crate) duplicates: u32,
    pub(crate) partitions: u32,
    /// Steps that deviated from the default order ([`super::delays`]).
    pub(crate) delays: u32,
}

/// One explored step: the event, the options its choices took, and where (if anywhere) its
/// handler's node crashed. Replaying the steps of a path from the initial world through
/// [`World::apply`] reaches the same states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step<T> {
    #[serde(flatten)]
    pub event: Event<T>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_after_effects: Option<u32>,
}

/// How a successor was reached, borrowed from the expansion: [`step`](Self::step) builds
/// the owned [`Step`] only for the one successor a counterexample needs.
pub(crate) struct Branch<'a, T> {
    pub(crate) event: &'a Event<T>,
    pub(crate) choices: &'a [usize],
    pub(crate) crash_after_effects: Option<u32>,
    /// A handler panicked while the step was applied: the world handed over with this
    /// branch is half-applied, a state that violates `no-panic` ([`NO_PANIC`]).
    pub(crate) panicked: bool,
}

/// The property a step violates when a handler panics in it.
pub const NO_PANIC: &str = "no-panic";

/// `world.apply(event, steering)`, a handler's panic caught: `Err(None)` if it panicked.
/// The world may be left half-applied then; the caller must not reuse it as a state.
pub(crate) fn apply_caught<P: Protocol, N: Process<P>>(
    world: &mut World<P, N>,
    event: &Event<P::Timer>,
    steering: Steering<'_>,
) -> Result<crate::event::Outcome, Option<StepError>> {
    apply_telling_panic(world, event, steering).map_err(|e| e.ok())
}

/// [`apply_caught`] with the panic's message: `Err(Err(message))` if a handler panicked.
/// Quiet on every thread ([`crate::quiet_panic`]): a search's workers print nothing of a
/// panic it reports as a finding.
pub(crate) fn apply_telling_panic<P: Protocol, N: Process<P>>(
    world: &mut World<P, N>,
    event: &Event<P::Timer>,
    steering: Steering<'_>,
) -> Result<crate::event::Outcome, Result<StepError, String>> {
    match crate::quiet_panic::catching(|| world.apply(event, steering)) {
        Ok(result) => result.map_err(Ok),
        Err(message) => Err(Err(message)),
    }
}

impl<T: Clone> Branch<'_, T> {
    pub(crate) fn step(&self) -> Step<T> {
        Step {
            event: self.event.clone(),
            choices: self.choices.to_vec(),
            crash_after_effects: self.crash_after_effects,
        }
    }
}

/// The most spare worlds a search keeps for reuse.
const SPARE_BOUND: usize = 64;

/// Worlds a search is done with, kept to be overwritten by the next successors
/// ([`Clone::clone_from`] reuses their buffers): most successors reach a state already
/// seen, and copying one into a spare world allocates nothing. Worlds are boxed while a
/// search moves them (spare, visited, stacked): a move is a pointer, not the whole world.
#[allow(clippy::vec_box)] // the boxes are handed out and back whole: a move is a pointer
pub(crate) struct Spare<P: Protocol, N>(Vec<Box<World<P, N>>>);

impl<P: Protocol, N> Default for Spare<P, N> {
    fn default() -> Self {
        Spare(Vec::new())
    }
}

impl<P: Protocol, N: Clone> Spare<P, N> {
    /// A copy of `world`, in a spare world if there is one.
    fn copy(&mut self, world: &World<P, N>) -> Box<World<P, N>> {
        match self.0.pop() {
            Some(mut spare) => {
                spare.as_mut().clone_from(world);
                spare
            }
            None => Box::new(world.clone()),
        }
    }

    /// Keeps `world` for reuse (whatever state it is in: it is overwritten whole), or drops
    /// it when enough are kept.
    pub(crate) fn put(&mut self, world: Box<World<P, N>>) {
        if self.0.len() < SPARE_BOUND {
            self.0.push(world);
        }
    }
}

/// What expanding one state found besides its successors.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Expansion {
    /// Some step left too many messages in flight: that branch was cut.
    pub(crate) over_capacity: bool,
}

/// Hands every successor of `world` (with `used` spent of the budget) to `visit`, in the
/// order of the module docs, with the budget spent to reach it. `visit` keeps the world
/// (`None`) or hands it back (`Some`) to be reused for the next successor.
pub(crate) fn expand<P, N, F>(
    world: &World<P, N>,
    used: Used,
    rules: &Rules,
    spare: &mut Spare<P, N>,
    mut visit: F,
) -> Expansion
where
    P: Protocol,
    N: Process<P> + Clone,
    F: FnMut(Branch<'_, P::Timer>, Box<World<P, N>>, Used) -> Option<Box<World<P, N>>>,
{
    let budget = &rules.budget;
    let mut events = Vec::new();
    world.enabled(&mut events);
    let behind = behind_on_fifo_link(world);
    if !behind.is_empty() {
        events.retain(|e| !matches!(e, Event::Deliver { id } if behind.contains(id)));
    }
    if rules.timers == Timers::Quiescent && !world.in_flight().is_empty() {
        events.retain(|e| !matches!(e, Event::Timer { .. }));
    }
    let mut x = Expansion::default();
    let can_crash = used.crashes < budget.crashes;
    let mut pending: Vec<Vec<usize>> = Vec::new();
    let default = rules.delays.and_then(|_| delays::default_event(world, &events));
    for (i, event) in events.iter().enumerate() {
        // Under a delay bound, every event but the default one costs a delay.
        let used = match rules.delays {
            Some(bound) if default != Some(i) => {
                if used.delays >= bound {
                    continue;
                }
                Used { delays: used.delays + 1, ..used }
            }
            _ => used,
        };
        // Every combination of the step's choices, depth first over a forced prefix.
        pending.push(Vec::new());
        while let Some(forced) = pending.pop() {
            let mut next = spare.copy(world);
            let steering = Steering { choices: &forced, ..Default::default() };
            let outcome = match apply_caught(&mut next, event, steering) {
                Ok(o) => o,
                Err(None) => {
                    let branch = Branch {
                        event,
                        choices: &forced,
                        crash_after_effects: None,
                        panicked: true,
                    };
                    drop(visit(branch, next, used)); // half-applied: never reused
                    continue;
                }
                Err(Some(e)) => {
                    x.over_capacity |= matches!(e, StepError::OverCapacity { .. });
                    spare.put(next);
                    continue;
                }
            };
            let taken: Vec<usize> = outcome.choices.iter().map(|c| c.taken).collect();
            // Alternatives past the forced prefix, pushed so that lower options pop first.
            let before = pending.len();
            for (i, c) in outcome.choices.iter().enumerate().skip(forced.len()) {
                for alt in 1..c.options {
                    let mut v = taken[..i].to_vec();
                    v.push(alt);
                    pending.push(v);
                }
            }
            pending[before..].reverse();
            let branch =
                Branch { event, choices: &taken, crash_after_effects: None, panicked: false };
            if let Some(w) = visit(branch, next, used) {
                spare.put(w);
            }
            // Then the same step with its node crashed after each of its effects.
            if can_crash && outcome.handler.is_some() {
                for k in 0..outcome.effects {
                    let mut cut = spare.copy(world);
                    let steering = Steering { choices: &taken, crash_after_effects: Some(k) };
                    let panicked = match apply_caught(&mut cut, event, steering) {
                        Ok(_) => false,
                        Err(None) => true,
                        Err(Some(_)) => {
                            spare.put(cut);
                            continue;
                        }
                    };
                    let used = Used { crashes: used.crashes + 1, ..used };
                    let crash_after_effects = Some(k);
                    let branch = Branch { event, choices: &taken, crash_after_effects, panicked };
                    match visit(branch, cut, used) {
                        Some(w) if !panicked => spare.put(w),
                        _ => {}
                    }
                }
            }
        }
    }
    let mut fault = |event: Event<P::Timer>, used: Used| {
        let mut next = spare.copy(world);
        // A recovering node's handler runs too: it may panic like any other.
        let panicked = match apply_caught(&mut next, &event, Steering::default()) {
            Ok(_) => false,
            Err(None) => true,
            Err(Some(e)) => {
                x.over_capacity |= matches!(e, StepError::OverCapacity { .. });
                spare.put(next);
                return;
            }
        };
        let branch = Branch { event: &event, choices: &[], crash_after_effects: None, panicked };
        match visit(branch, next, used) {
            Some(w) if !panicked => spare.put(w),
            _ => {}
        }
    };
    let nodes = world.node_count();
    if can_crash {
        for node in (0..nodes).map(NodeId).filter(|&n| world.is_up(n)) {
            fault(Event::Crash { node }, Used { crashes: used.crashes + 1, ..used });
        }
    }
    if used.recoveries < budget.recoveries {
        for node in (0..nodes).map(NodeId).filter(|&n| !world.is_up(n)) {
            if !world.pending_recoveries().contains(&node) {
                let spent = Used { recoveries: used.recoveries + 1, ..used };
                fault(Event::Recover { node }, spent);
            }
        }
    }
    let ids = || {
        // A duplicate shares its original's id: one branch per id.
        let mut ids: Vec<u64> = world.in_flight().iter().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    if used.drops < budget.drops {
        for id in ids() {
            fault(Event::Drop { id }, Used { drops: used.drops + 1, ..used });
        }
    }
    if used.duplicates < budget.duplicates {
        for id in ids() {
            let spent = Used { duplicates: used.duplicates + 1, ..used };
            fault(Event::Duplicate { id }, spent);
        }
    }
    if used.partitions < budget.partitions {
        for action in splits(nodes) {
            let spent = Used { partitions: used.partitions + 1, ..used };
            fault(Event::Act { action }, spent);
        }
    }
    if !world.topology().is_whole() {
        fault(Event::Act { action: Action::Heal }, used);
    }
    x
}

/// The ids of the messages in flight that a FIFO link ([`Ordering::Fifo`]) may not deliver
/// yet: those behind an earlier message on the same link. A FIFO link is a queue, so only
/// its head may arrive next (the runner keeps the same order by delivery times); a message
/// may still be lost or duplicated anywhere in it. Reordering links (the default) hold
/// nothing back. Messages are in flight in send order, a duplicate at its first copy's place.
fn behind_on_fifo_link<P: Protocol, N>(world: &World<P, N>) -> Vec<u64> {
    let messages = world.in_flight();
    let mut behind = Vec::new();
    for (i, e) in messages.iter().enumerate() {
        let first_copy = !messages[..i].iter().any(|o| o.id == e.id);
        if first_copy
            && world.link_config(e.from, e.to).ordering == Ordering::Fifo
            && messages[..i].iter().any(|o| (o.from, o.to) == (e.from, e.to))
        {
            behind.push(e.id);
        }
    }
    behind
}

/// Every split of nodes `0..nodes` into two non-empty groups, once each: the group without
/// node 0 is a non-empty bit mask over nodes `1..nodes`, ascending.
fn splits(nodes: u32) -> impl Iterator<Item = Action> {
    let masks = if nodes < 2 { 0 } else { 1u64 << (nodes - 1).min(20) };
    (1..masks).map(move |mask| {
        let (mut a, mut b) = (vec![NodeId(0)], Vec::new());
        for i in 1..nodes {
            if mask >> (i - 1) & 1 == 1 { b.push(NodeId(i)) } else { a.push(NodeId(i)) }
        }
        Action::Partition { groups: vec![a, b] }
    })
}
