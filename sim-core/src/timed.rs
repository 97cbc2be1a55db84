//! The time-ordered runner's side of the seam: its `(time, seq)` queue and the per-link
//! random draws that decide each message's loss, latency and duplication.
//!
//! Kept apart from the world because both are scheduling decisions: an explorer has no
//! clock and draws nothing. The payload of a message rides inline in its queue entry (a
//! side table of payloads was measured slower), so applying a send costs one heap push.

use crate::id::NodeId;
use crate::network::{Fate, LinkConfig, LinkDraws, Links};
use crate::process::Protocol;
use crate::queue::{EventQueue, Pending};
use crate::schedule::Steer;
use crate::schedule::{Envelope, Sched, Schedule};
use crate::time::Time;

/// The runner's schedule: what is due when, and the links' draws.
pub(crate) struct Timed<P: Protocol> {
    pub(crate) queue: EventQueue<P>,
    draws: LinkDraws,
}

impl<P: Protocol> Timed<P> {
    /// The runner's schedule for `world`'s links, drawing from streams derived from `seed`.
    pub(crate) fn new(seed: u64, links: &Links) -> Self {
        Timed { queue: EventQueue::new(), draws: LinkDraws::new(seed, links) }
    }
}

impl<P: Protocol> Schedule<P> for Timed<P> {
    #[inline(always)]
    fn fate(&mut self, now: Time, from: NodeId, to: NodeId, _id: u64) -> Fate {
        self.draws.fate(now, from, to)
    }

    #[inline(always)]
    fn hold(&mut self, at: Time, env: Envelope<P>) {
        self.queue.push(at, Pending::Deliver(env));
    }

    #[inline]
    fn hold_local(&mut self, now: Time, env: Envelope<P>) {
        self.queue.push(now, Pending::Deliver(env));
    }

    #[inline]
    fn timer(&mut self, at: Time, node: NodeId, timer: P::Timer, token: u64) {
        self.queue.push(at, Pending::Timer { node, timer, token });
    }

    fn recover(&mut self, at: Time, node: NodeId) {
        self.queue.push(at, Pending::Recover { node });
    }

    fn fault(&mut self, at: Time, index: u32) {
        self.queue.push(at, Pending::Fault { index });
    }

    fn link_changed(&mut self, from: NodeId, to: NodeId, config: &LinkConfig) {
        self.draws.set_config(from, to, config);
    }
}

/// The runner is never steered: every steering check compiles away.
impl<P: Protocol> Sched<P> for Timed<P> {
    #[inline(always)]
    fn steer(&mut self) -> Option<&mut Steer> {
        None
    }
}
