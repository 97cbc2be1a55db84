//! Delay-bounded exploration: every path that deviates from one default order at most D
//! times (Emmi, Qadeer & Rakamarić, "Delay-bounded scheduling", POPL 2011; Coyote's and
//! P#'s delay-bounding schedulers).
//!
//! A fault budget bounds what the network and the nodes may do wrong; it does not bound
//! the *order* of what they do right, and that order is what makes a state space grow about
//! threefold a step (every in-flight message and every armed timer may go next). Bugs that
//! need a deep path (Raft's Figure 8 needs four elections and two leaders' entries, some 25
//! steps) mostly run in the most natural order, deviating from it in a few places. So the
//! search fixes a default order over the enabled events, the one a network faster than
//! every timeout would take, and charges one *delay* for every step that takes any other:
//!
//! - the default is the oldest message in flight (send order); when none is in flight, the
//!   timer armed longest ago (its arming token: with equal timeouts, the one due first);
//!   then a pending recovery;
//! - any other enabled event costs one delay, whatever its place in the order (a
//!   *deviation* bound, the coarser variant: one unit per non-default step);
//! - faults (crash, recovery, drop, duplicate, partition, heal) are not delays: the fault
//!   budget bounds them; the options of a handler's choices are data, not order, and cost
//!   nothing either.
//!
//! With D delays the search is exhaustive over every path that takes at most D non-default
//! steps (and the fault budget): its paths number about (length choose D) times the
//! branching to the D-th power, polynomial in the length rather than exponential. D = 0
//! is the one default path with every fault placement; the unbounded search is every D.
//!
//! A state's key holds the delays spent (as it holds the faults spent) and the order the
//! default reads: the in-flight messages in send order and the armed timers by arming age.
//! The world's fingerprint forgets both (it hashes the multiset), and two worlds that differ
//! only there have different default futures: keyed apart, every path within the bound is
//! explored, not only those whose states were first reached in one order. (Measured on Raft's
//! Figure 8 within three delays: keyed by the fingerprint alone, 8x fewer states and the
//! violation is no longer found.)

use std::hash::{Hash, Hasher};

use crate::event::Event;
use crate::hash::StableHasher;
use crate::id::NodeId;
use crate::process::Protocol;
use crate::world::World;

/// The index in `events` (the events a state offers, in [`World::enabled`]'s order, as the
/// search filtered them) of the default event (module docs), if any is offered.
pub(crate) fn default_event<P: Protocol, N>(
    world: &World<P, N>,
    events: &[Event<P::Timer>],
) -> Option<usize> {
    // Deliveries come first in `enabled`, in send order: the first is the oldest.
    if let Some(i) = events.iter().position(|e| matches!(e, Event::Deliver { .. })) {
        return Some(i);
    }
    let token = |node: NodeId, timer: &P::Timer| world.slots[node.index()].timers.get(timer);
    let oldest_timer = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Event::Timer { node, timer } => Some((token(*node, timer), i)),
            _ => None,
        })
        .min();
    oldest_timer.map(|(_, i)| i).or(if events.is_empty() { None } else { Some(0) })
}

/// What the default order reads of `world` beyond its fingerprint: the in-flight messages
/// in send order, and the armed timers from the oldest arming to the newest.
pub(crate) fn order_key<P: Protocol, N>(world: &World<P, N>) -> u64 {
    let mut h = StableHasher::default();
    for e in world.in_flight() {
        (e.from, e.to, &e.msg).hash(&mut h);
    }
    let mut armed: Vec<(u64, NodeId, &P::Timer)> = Vec::new();
    for (i, slot) in world.slots.iter().enumerate() {
        for timer in slot.timers.keys() {
            let token = slot.timers.get(timer).expect("an armed timer has a token");
            armed.push((token, NodeId(i as u32), timer));
        }
    }
    armed.sort_unstable_by_key(|a| a.0);
    for (_, node, timer) in armed {
        (node, timer).hash(&mut h);
    }
    h.finish()
}
