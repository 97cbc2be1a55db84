//! Nodes as sans-IO state machines.
//!
//! A node never performs I/O, never reads a clock other than [`Context::now`] and never
//! draws randomness other than from [`Context::rng`]. Its handlers push *effects* into the
//! context; the engine applies them afterwards, strictly in order, one at a time. Because
//! effects are applied one by one, a fault can cut a handler between two of them: "the
//! coordinator persisted COMMIT, sent it to one participant, and crashed" is expressible.
//!
//! A nondeterministic decision (a vote, a workload draw) is best taken through
//! [`Context::choose`]: the time-ordered runner draws it from the node's stream, and an
//! explorer branches on every option.

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

    /// How diagrams label a message, in protocol words (`VOTE t1 yes`). Default: the
    /// message's serde form, [`crate::label::short_label`].
    fn label_msg(msg: &Self::Msg) -> String {
        crate::label::short_label(msg)
    }
    /// How diagrams label a timer (default: [`crate::label::short_label`]).
    fn label_timer(timer: &Self::Timer) -> String {
        crate::label::short_label(timer)
    }
    /// How diagrams label a disk record (default: [`crate::label::short_label`]).
    fn label_record(record: &Self::Record) -> String {
        crate::label::short_label(record)
    }
    /// How diagrams label an observation (default: [`crate::label::short_label`]).
    fn label_obs(obs: &Self::Obs) -> String {
        crate::label::short_label(obs)
    }
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

/// One nondeterministic decision a handler took through [`Context::choose`]: at `node`,
/// the choice named `label` had `options` options and took option `taken`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Choice {
    pub node: NodeId,
    pub label: &'static str,
    pub options: usize,
    pub taken: usize,
}

/// How an explorer answers the `choose` calls of one step: the i-th call (over every
/// handler the step runs, in order) takes `forced[i]`, or option 0 past the end of
/// `forced`; every call is logged in `made`, so the explorer learns how many options there
/// were and can branch over the others.
#[derive(Clone, Debug, Default)]
pub(crate) struct Forcing {
    pub(crate) forced: Vec<usize>,
    pub(crate) made: Vec<Choice>,
}

impl Forcing {
    fn next(&mut self, node: NodeId, label: &'static str, options: usize) -> usize {
        let taken = self.forced.get(self.made.len()).copied().unwrap_or(0);
        assert!(
            taken < options,
            "{node}: forced option {taken} of choice {label:?}, which has {options} options"
        );
        self.made.push(Choice { node, label, options, taken });
        taken
    }
}

/// What a handler sees of the world: who it is, the virtual time, its own RNG stream,
/// and a buffer for its effects.
pub struct Context<'a, P: Protocol> {
    id: NodeId,
    now: Time,
    nodes: u32,
    rng: &'a mut SimRng,
    effects: &'a mut Vec<Effect<P>>,
    /// `None`: choices are drawn from `rng` (the runner). `Some`: an explorer forces them.
    forcing: Option<&'a mut Forcing>,
}

impl<'a, P: Protocol> Context<'a, P> {
    pub(crate) fn new(
        id: NodeId,
        now: Time,
        nodes: u32,
        rng: &'a mut SimRng,
        effects: &'a mut Vec<Effect<P>>,
        forcing: Option<&'a mut Forcing>,
    ) -> Self {
        debug_assert!(effects.is_empty(), "effects of an earlier handler were not applied");
        Context { id, now, nodes, rng, effects, forcing }
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
        Context { id, now, nodes, rng, effects, forcing: None }
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
    /// This node's private random stream. A draw from it is invisible to an explorer (which
    /// does not fingerprint RNG positions): a decision that should be explored belongs in
    /// [`choose`](Self::choose).
    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    /// Takes one nondeterministic decision, named `label`, among `options`: a choice point.
    ///
    /// Under the time-ordered runner, `draw` picks the index from this node's own stream
    /// (exactly the draw a handler would make itself, so switching `options[policy.draw(
    /// ctx.rng())]` to `ctx.choose("vote", &options, |r| policy.draw(r))` keeps every run
    /// identical). Under an explorer, `draw` is not called: the explorer forces the index and
    /// learns how many options there were, so it can branch over all of them (see
    /// [`Steering`](crate::Steering)). A choice is not a trace event (trace hashes stay as
    /// they were); an explorer reads it from the step's [`Outcome`](crate::Outcome).
    ///
    /// Panics (a protocol bug) if `options` is empty or `draw` returns an index out of range.
    pub fn choose<T: Clone>(
        &mut self,
        label: &'static str,
        options: &[T],
        draw: impl FnOnce(&mut SimRng) -> usize,
    ) -> T {
        options[self.choose_index(label, options.len(), draw)].clone()
    }

    /// [`choose`](Self::choose) among `n` options named by their index, for choices too
    /// many to list (which transaction a workload draws): returns an index in `0..n`.
    pub fn choose_index(
        &mut self,
        label: &'static str,
        n: usize,
        draw: impl FnOnce(&mut SimRng) -> usize,
    ) -> usize {
        assert!(n > 0, "{}: choice {label:?} has no options: a protocol bug", self.id);
        let i = match self.forcing.as_deref_mut() {
            None => draw(self.rng),
            Some(f) => f.next(self.id, label, n),
        };
        assert!(i < n, "{}: choice {label:?} drew option {i} of {n}: a protocol bug", self.id);
        i
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
