//! The seam between the world and a scheduler: where time and the network's fate live.
//!
//! The [`World`](crate::World) applies a handler's effects in order, but it does not decide
//! *when* anything happens next. Whenever an effect hands something to the future — a
//! message onto the network, a timer, a delayed recovery — the world tells the scheduler it
//! was given, through [`Schedule`]:
//!
//! - the time-ordered runner ([`Simulation`](crate::Simulation)) draws the message's loss,
//!   latency and duplication from the link's own PCG stream and queues the delivery, exactly
//!   as the engine always has (same streams, same draws, same order, so the same traces);
//!   it keeps its own copy of each link's configuration next to the link's stream (one
//!   lookup per send), which the world keeps current through
//!   [`Schedule::link_changed`];
//! - an explorer has no time: the message stays in the world's in-flight set
//!   ([`World::in_flight`](crate::World::in_flight)), where every message is deliverable next
//!   and loss and duplication are explicit fault events
//!   ([`Event::Drop`](crate::Event::Drop), [`Event::Duplicate`](crate::Event::Duplicate)).
//!
//! The world is generic over the scheduler (`&mut impl Schedule<P>`), so the runner's hot
//! path is monomorphised with no dynamic dispatch and no allocation per event: the runner
//! keeps the payload inline in its queue entry, as before the split.

use serde::{Deserialize, Serialize};

use crate::id::NodeId;
use crate::network::{Fate, LinkConfig};
use crate::process::{Forcing, Protocol};
use crate::time::Time;

/// One message in flight: who sent it to whom, its id (unique per send; a network duplicate
/// shares its original's id), and the payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Envelope<P: Protocol> {
    pub from: NodeId,
    pub to: NodeId,
    pub id: u64,
    pub msg: P::Msg,
}

/// A scheduler as the world sees it while applying effects. Every method is told about one
/// thing handed to the future, or asked one question about it; none may call back into the
/// world. A network send is two calls: [`fate`](Self::fate) (lost, or when it arrives, and
/// whether a duplicate does) and, unless lost, [`hold`](Self::hold) for each copy, the
/// duplicate first.
pub trait Schedule<P: Protocol> {
    /// The network's fate for message `id`, sent at `now` on `from -> to`, a link that is up.
    fn fate(&mut self, now: Time, from: NodeId, to: NodeId, id: u64) -> Fate;
    /// Keep network message `env` until it is due at `at` (as [`fate`](Self::fate) said).
    fn hold(&mut self, at: Time, env: Envelope<P>);
    /// Keep `env`, a message between two processes of one host: no network, no draw; it is
    /// due at `now`, after everything already due then.
    fn hold_local(&mut self, now: Time, env: Envelope<P>);
    /// `node` armed `timer` to fire at `at` (drift applied). `token` names this arming: the
    /// world fires the timer only if it is still armed with the same token.
    fn timer(&mut self, at: Time, node: NodeId, timer: P::Timer, token: u64);
    /// `node` (and, with co-location, its host) is to recover at `at`.
    fn recover(&mut self, at: Time, node: NodeId);
    /// Fault `index` of the plan, whose trigger matched, is due at `at` (a delayed
    /// [`Trigger::AnyMark`](crate::Trigger::AnyMark)).
    fn fault(&mut self, at: Time, index: u32);
    /// A fault (or the liveness phase) changed the configuration of link `from -> to`. A
    /// scheduler that draws fates from the configurations keeps its copy current from these
    /// (the initial ones are [`World::link_config`](crate::World::link_config)).
    fn link_changed(&mut self, from: NodeId, to: NodeId, config: &LinkConfig);
}

/// The schedule without time: messages stay in flight until some event delivers, drops or
/// duplicates them; scheduled recoveries stay pending until an event recovers the node. It
/// is part of the world (see [`World::apply`](crate::World::apply)); timers need nothing
/// here, the world's armed timers are the whole truth.
#[derive(Debug)]
pub(crate) struct InFlight<P: Protocol> {
    pub(crate) messages: Vec<Envelope<P>>,
    pub(crate) recoveries: Vec<NodeId>,
}

/// Field by field, so that [`clone_from`](Clone::clone_from) reuses the buffers (an explorer
/// copies worlds into recycled ones).
impl<P: Protocol> Clone for InFlight<P> {
    fn clone(&self) -> Self {
        InFlight { messages: self.messages.clone(), recoveries: self.recoveries.clone() }
    }
    fn clone_from(&mut self, source: &Self) {
        self.messages.clone_from(&source.messages);
        self.recoveries.clone_from(&source.recoveries);
    }
}

impl<P: Protocol> Default for InFlight<P> {
    fn default() -> Self {
        InFlight { messages: Vec::new(), recoveries: Vec::new() }
    }
}

impl<P: Protocol> InFlight<P> {
    /// Removes and returns the first message with this id.
    pub(crate) fn take(&mut self, id: u64) -> Option<Envelope<P>> {
        let i = self.messages.iter().position(|e| e.id == id)?;
        Some(self.messages.remove(i))
    }
}

impl<P: Protocol> Schedule<P> for InFlight<P> {
    /// Every message arrives, at no particular time.
    fn fate(&mut self, now: Time, _from: NodeId, _to: NodeId, _id: u64) -> Fate {
        Fate::Arrives { at: now, duplicate_at: None }
    }
    fn hold(&mut self, _at: Time, env: Envelope<P>) {
        self.messages.push(env);
    }
    fn hold_local(&mut self, _now: Time, env: Envelope<P>) {
        self.messages.push(env);
    }
    fn timer(&mut self, _at: Time, _node: NodeId, _timer: P::Timer, _token: u64) {}
    fn recover(&mut self, _at: Time, node: NodeId) {
        self.recoveries.push(node);
    }
    /// Without time the fault is simply enabled: an explorer fires it with
    /// [`Event::Fault`](crate::Event::Fault).
    fn fault(&mut self, _at: Time, _index: u32) {}
    fn link_changed(&mut self, _from: NodeId, _to: NodeId, _config: &LinkConfig) {}
}

/// The world's view of a scheduler: a [`Schedule`], plus the explorer's steering of the step
/// in progress. Crate-private so that steering stays an implementation detail; the runner's
/// `steer` is a constant `None`, so its hot path compiles to no steering checks at all.
pub(crate) trait Sched<P: Protocol>: Schedule<P> {
    fn steer(&mut self) -> Option<&mut Steer>;
}

/// Any public scheduler, unsteered.
pub(crate) struct Plain<'a, S>(pub(crate) &'a mut S);

impl<P: Protocol, S: Schedule<P>> Schedule<P> for Plain<'_, S> {
    #[inline(always)]
    fn fate(&mut self, now: Time, from: NodeId, to: NodeId, id: u64) -> Fate {
        self.0.fate(now, from, to, id)
    }
    #[inline(always)]
    fn hold(&mut self, at: Time, env: Envelope<P>) {
        self.0.hold(at, env)
    }
    #[inline(always)]
    fn hold_local(&mut self, now: Time, env: Envelope<P>) {
        self.0.hold_local(now, env)
    }
    #[inline(always)]
    fn timer(&mut self, at: Time, node: NodeId, timer: P::Timer, token: u64) {
        self.0.timer(at, node, timer, token)
    }
    #[inline(always)]
    fn recover(&mut self, at: Time, node: NodeId) {
        self.0.recover(at, node)
    }
    #[inline(always)]
    fn fault(&mut self, at: Time, index: u32) {
        self.0.fault(at, index)
    }
    #[inline(always)]
    fn link_changed(&mut self, from: NodeId, to: NodeId, config: &LinkConfig) {
        self.0.link_changed(from, to, config)
    }
}

impl<P: Protocol, S: Schedule<P>> Sched<P> for Plain<'_, S> {
    #[inline(always)]
    fn steer(&mut self) -> Option<&mut Steer> {
        None
    }
}

/// An explorer's step: no time (the world's in-flight set), steered.
pub(crate) struct Steered<'a, P: Protocol> {
    pub(crate) in_flight: &'a mut InFlight<P>,
    pub(crate) steer: &'a mut Steer,
}

impl<P: Protocol> Schedule<P> for Steered<'_, P> {
    #[inline(always)]
    fn fate(&mut self, now: Time, from: NodeId, to: NodeId, id: u64) -> Fate {
        self.in_flight.fate(now, from, to, id)
    }
    #[inline(always)]
    fn hold(&mut self, at: Time, env: Envelope<P>) {
        self.in_flight.hold(at, env)
    }
    #[inline(always)]
    fn hold_local(&mut self, now: Time, env: Envelope<P>) {
        self.in_flight.hold_local(now, env)
    }
    #[inline(always)]
    fn timer(&mut self, at: Time, node: NodeId, timer: P::Timer, token: u64) {
        self.in_flight.timer(at, node, timer, token)
    }
    #[inline(always)]
    fn recover(&mut self, at: Time, node: NodeId) {
        self.in_flight.recover(at, node)
    }
    #[inline(always)]
    fn fault(&mut self, at: Time, index: u32) {
        Schedule::<P>::fault(self.in_flight, at, index)
    }
    #[inline(always)]
    fn link_changed(&mut self, from: NodeId, to: NodeId, config: &LinkConfig) {
        self.in_flight.link_changed(from, to, config)
    }
}

impl<P: Protocol> Sched<P> for Steered<'_, P> {
    fn steer(&mut self) -> Option<&mut Steer> {
        Some(self.steer)
    }
}

/// What an explorer asked of the step being applied, and what it learnt.
#[derive(Default)]
pub(crate) struct Steer {
    pub(crate) forcing: Forcing,
    /// Crash the node of the step's first handler after this many of its effects.
    pub(crate) crash_after: Option<u32>,
    /// The step's first handler: its node and how many effects it pushed.
    pub(crate) first: Option<(NodeId, u32)>,
}

impl Steer {
    /// A handler of `id` pushed `total` effects: where to crash it, if anywhere.
    pub(crate) fn enter_handler(&mut self, id: NodeId, total: u32) -> Option<u32> {
        if self.first.is_some() {
            return None;
        }
        self.first = Some((id, total));
        self.crash_after
    }
}
