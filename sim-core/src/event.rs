//! Steps without time: the events an explorer (or a replay of an explored path) applies to
//! a [`World`] one at a time.
//!
//! Time is abstracted away: every in-flight message is deliverable next and every armed
//! timer may fire next, which over-approximates every latency (DESIGN, "Exploration
//! semantics"). [`World::enabled`] lists what the *protocol* (and faults that already
//! happened) enabled; fault events — crash a node, drop or duplicate a message, an
//! [`Action`], fire fault `i` of the plan — are the scheduler's to offer within its budget.
//! [`World::apply`] applies one event; a [`Steering`] forces the handler's choices and can
//! crash its node after its k-th effect.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::error::SimError;
use crate::fault::{Action, Fault, FaultPlan, Trigger};
use crate::id::NodeId;
use crate::process::{Choice, Forcing, Process, Protocol};
use crate::schedule::Steer;
use crate::schedule::Steered;
use crate::trace::{DropReason, TraceKind};
use crate::world::{IN_FLIGHT_BOUND, World};

/// The plan index recorded in the trace for a fault an explorer applied directly
/// ([`Event::Act`]) rather than from the plan.
pub const DIRECT_FAULT: u32 = u32::MAX;

/// One step of a world, named so that it can be listed, applied, stored and replayed.
/// `T` is the protocol's timer type.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event<T> {
    /// Deliver the in-flight message with this id (dropped if its link is cut or its
    /// receiver is down, as in a timed run).
    Deliver { id: u64 },
    /// Fire `timer`, armed at `node`.
    Timer { node: NodeId, timer: T },
    /// Recover `node` (and with co-location its host): a pending recovery, or a down node.
    Recover { node: NodeId },
    /// Fire fault `index` of the plan (whatever its trigger), if it has not fired.
    Fault { index: u32 },
    /// Fault: crash `node` (and with co-location its host), which is up.
    Crash { node: NodeId },
    /// Fault: the network loses the in-flight message with this id.
    Drop { id: u64 },
    /// Fault: the network delivers the in-flight message with this id twice.
    Duplicate { id: u64 },
    /// Fault: apply `action` now (partition, heal, crash, ...), traced as
    /// [`DIRECT_FAULT`].
    Act { action: Action },
    /// End the fault phase: every down node recovers, the network heals and becomes
    /// reliable, and no further fault is enabled (as the runner's liveness phase).
    LivenessPhase,
}

/// How an explorer steers one step. The default steers nothing: every choice takes option 0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Steering<'a> {
    /// The i-th [`choose`](crate::Context::choose) call of the step (over every handler it
    /// runs, in order) takes option `choices[i]`; calls past the end take option 0.
    pub choices: &'a [usize],
    /// Crash the node of the step's first handler after `k` of that handler's effects have
    /// been applied (`0`: before any; at least the handler's effect count: after all). The
    /// rest are cut, as when a plan's trigger crashes it there. No effect on a step that
    /// runs no handler.
    pub crash_after_effects: Option<u32>,
}

/// What an explorer learns from one step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The node whose handler the step ran first (none for a fault that runs no handler).
    pub handler: Option<NodeId>,
    /// How many effects that handler pushed (before any cut): the crash points are
    /// `0..=effects`.
    pub effects: u32,
    /// Every choice the step took, in order, with how many options each had.
    pub choices: Vec<Choice>,
}

/// Why a step was not applied cleanly.
#[derive(Clone, Debug, Error, PartialEq)]
pub enum StepError {
    /// The event is not enabled in this world; the world is unchanged.
    #[error("the event is not enabled in this world")]
    NotEnabled,
    /// The action of an [`Event::Act`] is invalid for this cluster; the world is unchanged.
    #[error(transparent)]
    Invalid(SimError),
    /// The step was applied but left more than [`IN_FLIGHT_BOUND`] messages in flight: the
    /// state is past the bound, so whatever is found from it is inconclusive.
    #[error("{in_flight} messages in flight exceed the bound of {IN_FLIGHT_BOUND}")]
    OverCapacity { in_flight: usize },
}

impl<P: Protocol, N: Process<P>> World<P, N> {
    /// Appends to `out` the events the protocol enabled, in a deterministic order: one
    /// delivery per in-flight message id (in send order), one firing per armed timer (by node,
    /// then timer order), one recovery per node with a recovery pending. Fault events are
    /// not listed: the scheduler offers them within its budget.
    pub fn enabled(&self, out: &mut Vec<Event<P::Timer>>) {
        let messages = &self.in_flight.messages;
        for (i, e) in messages.iter().enumerate() {
            // A duplicate shares its original's id: delivering either is the same step.
            if !messages[..i].iter().any(|o| o.id == e.id) {
                out.push(Event::Deliver { id: e.id });
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            for timer in slot.timers.keys() {
                out.push(Event::Timer { node: NodeId(i as u32), timer: timer.clone() });
            }
        }
        let recoveries = &self.in_flight.recoveries;
        for (i, &node) in recoveries.iter().enumerate() {
            if !recoveries[..i].contains(&node) {
                out.push(Event::Recover { node });
            }
        }
    }

    /// Applies one event with no time: the messages the step sends, and the recoveries it
    /// schedules, stay in the world until an event takes them. A handler's effects are
    /// applied in order, exactly as under the time-ordered runner; `steering` forces its
    /// choices and may crash its node between two effects.
    pub fn apply(
        &mut self,
        event: &Event<P::Timer>,
        steering: Steering<'_>,
    ) -> Result<Outcome, StepError> {
        self.check_enabled(event)?;
        let forcing = Forcing { forced: steering.choices.to_vec(), made: Vec::new() };
        let mut steer = Steer { forcing, crash_after: steering.crash_after_effects, first: None };
        let mut in_flight = std::mem::take(&mut self.in_flight);
        self.stats.events += 1;
        self.apply_enabled(event, &mut Steered { in_flight: &mut in_flight, steer: &mut steer });
        self.in_flight = in_flight;
        let in_flight = self.in_flight.messages.len();
        if in_flight > IN_FLIGHT_BOUND {
            return Err(StepError::OverCapacity { in_flight });
        }
        let (handler, effects) = match steer.first {
            Some((node, effects)) => (Some(node), effects),
            None => (None, 0),
        };
        Ok(Outcome { handler, effects, choices: steer.forcing.made })
    }

    /// Whether `event` can be applied, without changing anything.
    fn check_enabled(&self, event: &Event<P::Timer>) -> Result<(), StepError> {
        let node_ok = |n: NodeId| n.0 < self.nodes;
        let message = |id: u64| self.in_flight.messages.iter().find(|e| e.id == id);
        let armed = self.triggers.armed;
        let ok = match event {
            Event::Deliver { id } => message(*id).is_some(),
            Event::Timer { node, timer } => {
                node_ok(*node) && self.slots[node.index()].timers.contains_key(timer)
            }
            Event::Recover { node } => {
                node_ok(*node) && (self.in_flight.recoveries.contains(node) || !self.is_up(*node))
            }
            Event::Fault { index } => {
                let i = *index as usize;
                // A marked action acts on whoever fires its trigger: not before it matched.
                armed
                    && self.triggers.fired.get(i).is_some_and(|f| !f)
                    && (self.triggers.marked[i].is_some()
                        || !self.plan.faults[i].action.is_marked())
            }
            Event::Crash { node } => armed && node_ok(*node) && self.is_up(*node),
            // Loss and duplication are network faults: a local message has no network.
            Event::Drop { id } | Event::Duplicate { id } => {
                armed && message(*id).is_some_and(|e| !self.is_local(e.from, e.to))
            }
            Event::Act { action } => {
                let trigger = Trigger::Time { at_us: 0 };
                let plan = FaultPlan::new(vec![Fault { trigger, action: action.clone() }]);
                plan.validate(self.nodes).map_err(StepError::Invalid)?;
                armed
            }
            Event::LivenessPhase => !self.in_liveness,
        };
        if ok { Ok(()) } else { Err(StepError::NotEnabled) }
    }

    /// Applies an event [`check_enabled`](Self::check_enabled) accepted.
    fn apply_enabled(&mut self, event: &Event<P::Timer>, sched: &mut Steered<'_, P>) {
        let now = self.now;
        match event {
            Event::Deliver { id } => {
                let env = sched.in_flight.take(*id).expect("checked");
                if self.is_local(env.from, env.to) {
                    self.deliver_local(env, sched);
                } else {
                    self.deliver_network(env, sched);
                }
            }
            Event::Timer { node, timer } => {
                let token = self.slots[node.index()].timers.get(timer).expect("checked");
                self.fire_timer_in(*node, timer.clone(), token, sched);
            }
            Event::Recover { node } => {
                let recoveries = &mut sched.in_flight.recoveries;
                if let Some(i) = recoveries.iter().position(|n| n == node) {
                    recoveries.remove(i);
                }
                self.recover_in(*node, sched);
            }
            Event::Fault { index } => self.fire_fault_in(*index, sched),
            Event::Crash { node } => self.crash(*node),
            Event::Drop { id } => {
                let env = sched.in_flight.take(*id).expect("checked");
                let (from, to, id) = (env.from, env.to, env.id);
                self.stats.dropped_loss += 1;
                let reason = DropReason::Loss;
                self.trace.record(now, from, TraceKind::Drop { from, to, id, reason });
            }
            Event::Duplicate { id } => {
                let messages = &mut sched.in_flight.messages;
                let env = messages.iter().find(|e| e.id == *id).expect("checked");
                let env = env.clone();
                self.stats.duplicated += 1;
                let (to, id) = (env.to, env.id);
                self.trace.record(now, env.from, TraceKind::Duplicate { to, id, at: now });
                messages.push(env);
            }
            Event::Act { action } => self.act(DIRECT_FAULT, action.clone(), sched),
            Event::LivenessPhase => self.begin_liveness_in(sched),
        }
    }
}
