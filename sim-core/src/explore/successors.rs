//! The branches out of one state, in one fixed order.
//!
//! The order is part of the result: BFS and DFS visit successors in it, and a
//! counterexample is stored as the index of each step among its state's successors (8 bytes
//! a state instead of the step itself) and rebuilt by enumerating them again. So the order
//! depends only on the world: the events [`World::enabled`] lists (in its order), each with
//! every combination of its choices (option 0 first; the options of a later choice vary
//! fastest) and, within the crash budget, every crash point of its handler; then the fault
//! events: crash each up node, recover each down node, drop, then duplicate, each message,
//! then every split of the cluster in two (by the bit mask of the nodes apart from node 0,
//! ascending), then heal.

use serde::{Deserialize, Serialize};

use crate::event::{Event, Steering, StepError};
use crate::fault::Action;
use crate::id::NodeId;
use crate::process::{Process, Protocol};
use crate::world::World;

use super::{Rules, Timers};

/// Faults spent along a path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Used {
    pub(crate) crashes: u32,
    pub(crate) recoveries: u32,
    pub(crate) drops: u32,
    pub(crate) duplicates: u32,
    pub(crate) partitions: u32,
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

/// A successor: the step, the world it reached and the budget spent to reach it.
pub(crate) struct Succ<P: Protocol, N> {
    pub(crate) step: Step<P::Timer>,
    pub(crate) world: World<P, N>,
    pub(crate) used: Used,
}

/// What expanding one state found besides its successors.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Expansion {
    /// Some step left too many messages in flight: that branch was cut.
    pub(crate) over_capacity: bool,
}

/// Appends every successor of `world` (with `used` spent of the budget) to `out`.
pub(crate) fn expand<P, N>(
    world: &World<P, N>,
    used: Used,
    rules: &Rules,
    out: &mut Vec<Succ<P, N>>,
) -> Expansion
where
    P: Protocol,
    N: Process<P> + Clone,
{
    let budget = &rules.budget;
    let mut events = Vec::new();
    world.enabled(&mut events);
    if rules.timers == Timers::Quiescent && !world.in_flight().is_empty() {
        events.retain(|e| !matches!(e, Event::Timer { .. }));
    }
    let mut x = Expansion::default();
    let can_crash = used.crashes < budget.crashes;
    for event in events {
        // Every combination of the step's choices, depth first over a forced prefix.
        let mut pending: Vec<Vec<usize>> = vec![Vec::new()];
        while let Some(forced) = pending.pop() {
            let mut next = world.clone();
            let outcome =
                match next.apply(&event, Steering { choices: &forced, ..Default::default() }) {
                    Ok(o) => o,
                    Err(StepError::OverCapacity { .. }) => {
                        x.over_capacity = true;
                        continue;
                    }
                    Err(_) => continue,
                };
            let taken: Vec<usize> = outcome.choices.iter().map(|c| c.taken).collect();
            // Alternatives past the forced prefix, pushed so that lower options pop first.
            let mut alternatives = Vec::new();
            for (i, c) in outcome.choices.iter().enumerate().skip(forced.len()) {
                for alt in 1..c.options {
                    let mut v = taken[..i].to_vec();
                    v.push(alt);
                    alternatives.push(v);
                }
            }
            pending.extend(alternatives.into_iter().rev());
            // The crash points' successors come after the whole step's, but are built first
            // so that the step can take `taken` without a copy.
            let mut cuts = Vec::new();
            if can_crash && outcome.handler.is_some() {
                for k in 0..outcome.effects {
                    let mut cut = world.clone();
                    let steering = Steering { choices: &taken, crash_after_effects: Some(k) };
                    if cut.apply(&event, steering).is_err() {
                        continue;
                    }
                    let step = Step {
                        event: event.clone(),
                        choices: taken.clone(),
                        crash_after_effects: Some(k),
                    };
                    let used = Used { crashes: used.crashes + 1, ..used };
                    cuts.push(Succ { step, world: cut, used });
                }
            }
            let step = Step { event: event.clone(), choices: taken, crash_after_effects: None };
            out.push(Succ { step, world: next, used });
            out.extend(cuts);
        }
    }
    let mut fault = |event: Event<P::Timer>, used: Used, out: &mut Vec<Succ<P, N>>| {
        let mut next = world.clone();
        match next.apply(&event, Steering::default()) {
            Ok(_) => {
                let step = Step { event, choices: Vec::new(), crash_after_effects: None };
                out.push(Succ { step, world: next, used });
            }
            Err(StepError::OverCapacity { .. }) => x.over_capacity = true,
            Err(_) => {}
        }
    };
    let nodes = world.node_count();
    if can_crash {
        for node in (0..nodes).map(NodeId).filter(|&n| world.is_up(n)) {
            fault(Event::Crash { node }, Used { crashes: used.crashes + 1, ..used }, out);
        }
    }
    if used.recoveries < budget.recoveries {
        for node in (0..nodes).map(NodeId).filter(|&n| !world.is_up(n)) {
            if !world.pending_recoveries().contains(&node) {
                let spent = Used { recoveries: used.recoveries + 1, ..used };
                fault(Event::Recover { node }, spent, out);
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
            fault(Event::Drop { id }, Used { drops: used.drops + 1, ..used }, out);
        }
    }
    if used.duplicates < budget.duplicates {
        for id in ids() {
            let spent = Used { duplicates: used.duplicates + 1, ..used };
            fault(Event::Duplicate { id }, spent, out);
        }
    }
    if used.partitions < budget.partitions {
        for action in splits(nodes) {
            let spent = Used { partitions: used.partitions + 1, ..used };
            fault(Event::Act { action }, spent, out);
        }
    }
    if !world.topology().is_whole() {
        fault(Event::Act { action: Action::Heal }, used, out);
    }
    x
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
