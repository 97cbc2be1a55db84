//! Nodes as sans-IO state machines.
//!
//! A node never performs I/O, never reads a clock other than [`Context::now`] and never
//! draws randomness other than from [`Context::rng`]. Its handlers push *effects* into the
//! context; the engine applies them afterwards, strictly in order, one at a time. Because
//! effects are applied one by one, a fault can cut a handler between two of them: "the
//! coordinator persisted COMMIT, sent it to one participant, and crashed" is expressible.

use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::id::NodeId;
use crate::rng::SimRng;
use crate::time::{Duration, Time};

/// What every value that crosses the engine must be: cloneable (duplicates, trace), comparable
/// and `Hash` (for maps and sets of them; the trace hash does not use `Hash`), and serialisable
/// (JSON Lines export and read-back, and the trace hash, which digests the serde form so that
/// enum variants count by name, not position: see [`crate::hash::stable_digest`]).
pub trait Payload:
    Clone + Debug + PartialEq + Hash + Serialize + DeserializeOwned + Send + 'static
{
}
impl<T: Clone + Debug + PartialEq + Hash + Serialize + DeserializeOwned + Send + 'static> Payload
    for T
{
}

/// The vocabulary a cluster speaks: its messages, timers, disk records and observations.
/// A zero-sized marker type implements this (deriving the listed traits is enough); node
/// types implement [`Process`] for it.
pub trait Protocol: Clone + Debug + PartialEq + Hash + Send + 'static {
    type Msg: Payload;
    /// Timers are named by value; setting a timer that is already armed re-arms it.
    type Timer: Payload + Ord;
    /// What a node writes to its durable disk.
    type Record: Payload;
    /// Facts a node reports for checkers (decided, voted, ...). The engine only records them.
    type Obs: Payload;
}

/// A node's handlers. Dyn-compatible, so a cluster of different roles can be
/// `Box<dyn Process<P>>`; a single enum type avoids the indirection where speed matters.
pub trait Process<P: Protocol> {
    /// Called once when the node boots: at the start of the run, and again after each
    /// recovery (on the new instance the factory built from the disk).
    fn on_start(&mut self, ctx: &mut Context<'_, P>);
    fn on_message(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: P::Msg);
    fn on_timer(&mut self, ctx: &mut Context<'_, P>, timer: P::Timer);
}

impl<P: Protocol, N: Process<P> + ?Sized> Process<P> for Box<N> {
    fn on_start(&mut self, ctx: &mut Context<'_, P>) {
        (**self).on_start(ctx)
    }
    fn on_message(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: P::Msg) {
        (**self).on_message(ctx, from, msg)
    }
    fn on_timer(&mut self, ctx: &mut Context<'_, P>, timer: P::Timer) {
        (**self).on_timer(ctx, timer)
    }
}

/// Why a node is being constructed. After a crash the engine never "un-crashes" the old
/// instance: the protocol's factory rebuilds the node from what its disk holds.
#[derive(Debug)]
pub enum Boot<'a, R> {
    Fresh,
    Recovered { disk: &'a [R] },
}

impl<R> Boot<'_, R> {
    /// The disk records to rebuild from; empty for a fresh boot.
    pub fn disk(&self) -> &[R] {
        match self {
            Boot::Fresh => &[],
            Boot::Recovered { disk } => disk,
        }
    }
    pub fn is_recovery(&self) -> bool {
        matches!(self, Boot::Recovered { .. })
    }
}

/// One thing a handler asked for. Applied in order after the handler returns.
#[derive(Clone, Debug)]
pub enum Effect<P: Protocol> {
    Send { to: NodeId, msg: P::Msg },
    SetTimer { after: Duration, timer: P::Timer },
    CancelTimer { timer: P::Timer },
    Persist { record: P::Record },
    Observe { obs: P::Obs },
    Mark { name: &'static str },
}

/// What a handler sees of the world: who it is, the virtual time, its own RNG stream,
/// and a buffer for its effects.
pub struct Context<'a, P: Protocol> {
    id: NodeId,
    now: Time,
    nodes: u32,
    rng: &'a mut SimRng,
    effects: &'a mut Vec<Effect<P>>,
}

impl<'a, P: Protocol> Context<'a, P> {
    pub(crate) fn new(
        id: NodeId,
        now: Time,
        nodes: u32,
        rng: &'a mut SimRng,
        effects: &'a mut Vec<Effect<P>>,
    ) -> Self {
        debug_assert!(effects.is_empty(), "effects of an earlier handler were not applied");
        Context { id, now, nodes, rng, effects }
    }

    /// A context outside any simulation, for unit-testing a node's handlers directly: the
    /// test inspects `effects` afterwards.
    pub fn detached(
        id: NodeId,
        now: Time,
        nodes: u32,
        rng: &'a mut SimRng,
        effects: &'a mut Vec<Effect<P>>,
    ) -> Self {
        Context { id, now, nodes, rng, effects }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }
    pub fn now(&self) -> Time {
        self.now
    }
    /// Size of the cluster (node ids are `0..nodes`).
    pub fn nodes(&self) -> u32 {
        self.nodes
    }
    /// This node's private random stream.
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.effects.push(Effect::Send { to, msg });
    }
    /// Sends `msg` to each of `to`, in order: one effect per destination, so a crash can
    /// land between any two of them.
    pub fn broadcast(&mut self, to: impl IntoIterator<Item = NodeId>, msg: P::Msg) {
        for t in to {
            self.effects.push(Effect::Send { to: t, msg: msg.clone() });
        }
    }
    /// Arms `timer` to fire `after` from now (scaled by this node's clock drift, if any).
    /// Re-arming a timer that is already armed replaces it.
    pub fn set_timer(&mut self, after: Duration, timer: P::Timer) {
        self.effects.push(Effect::SetTimer { after, timer });
    }
    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.effects.push(Effect::CancelTimer { timer });
    }
    /// Appends a record to this node's durable disk (a forced write: it survives crashes
    /// once applied; if the node crashes before this effect is applied, it is lost).
    pub fn persist(&mut self, record: P::Record) {
        self.effects.push(Effect::Persist { record });
    }
    /// Reports a protocol fact for the checkers.
    pub fn observe(&mut self, obs: P::Obs) {
        self.effects.push(Effect::Observe { obs });
    }
    /// Names a protocol point; fault plans can trigger on the n-th time a node emits it.
    pub fn mark(&mut self, name: &'static str) {
        self.effects.push(Effect::Mark { name });
    }
}
