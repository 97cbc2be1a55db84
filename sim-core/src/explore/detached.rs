//! A world without its shared handles, so that it can cross threads.
//!
//! A [`World`] holds two `Rc`s (the node factory and the fault plan), shared by every clone:
//! it can never be sent to another thread, and no clone of it may be touched by two threads
//! at once. A [`Detached`] world is the same value with those two handles left out; it is
//! `Send` whenever the node type is. A worker thread re-attaches it to its *own* template
//! world (built by the model's `init` on that thread, so its `Rc`s are that thread's), steps
//! it, and detaches what it produced before handing it back. Each `Rc` is therefore only
//! ever counted by the thread that built it. The interchangeable nodes are the model's, fixed
//! like the plan: they come back from the template too.

use crate::process::Protocol;
use crate::world::World;

/// A [`World`] minus its factory and plan handles (see the module docs).
pub(crate) struct Detached<P: Protocol, N> {
    nodes: u32,
    now: crate::time::Time,
    slots: Vec<crate::world::Slot<P, N>>,
    links: std::sync::Arc<crate::network::Links>,
    topology: std::sync::Arc<crate::topology::Topology>,
    hosts: Vec<u32>,
    colocated: bool,
    triggers: crate::world::Triggers,
    trace: crate::trace::Trace<P>,
    stats: crate::sim::RunStats,
    next_msg_id: u64,
    next_timer_token: u64,
    in_liveness: bool,
    started: bool,
    in_flight: crate::schedule::InFlight<P>,
}

impl<P: Protocol, N> Detached<P, N> {
    /// Takes `world` apart, dropping its handles here (on the thread that counted them).
    pub(crate) fn from_world(world: World<P, N>) -> Self {
        debug_assert!(world.effects.is_empty() && world.applying.is_none(), "between steps");
        Detached {
            nodes: world.nodes,
            now: world.now,
            slots: world.slots,
            links: world.links,
            topology: world.topology,
            hosts: world.hosts,
            colocated: world.colocated,
            triggers: world.triggers,
            trace: world.trace,
            stats: world.stats,
            next_msg_id: world.next_msg_id,
            next_timer_token: world.next_timer_token,
            in_liveness: world.in_liveness,
            started: world.started,
            in_flight: world.in_flight,
        }
    }

    /// Puts the world back together with `template`'s handles (a world of the same model,
    /// built on the calling thread).
    pub(crate) fn attach(self, template: &World<P, N>) -> World<P, N> {
        World {
            nodes: self.nodes,
            now: self.now,
            slots: self.slots,
            factory: template.factory.clone(),
            links: self.links,
            topology: self.topology,
            hosts: self.hosts,
            colocated: self.colocated,
            plan: template.plan.clone(),
            triggers: self.triggers,
            trace: self.trace,
            effects: Vec::with_capacity(16),
            stats: self.stats,
            next_msg_id: self.next_msg_id,
            next_timer_token: self.next_timer_token,
            applying: None,
            in_liveness: self.in_liveness,
            started: self.started,
            in_flight: self.in_flight,
            interchangeable: template.interchangeable.clone(),
        }
    }
}
