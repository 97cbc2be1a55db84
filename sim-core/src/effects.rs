//! Applying one event to the world: run the handler of the node it concerns, then apply the
//! handler's effects in order, one at a time.
//!
//! This is the machinery every scheduler shares. Fault triggers are checked as effects are
//! applied, so a fault can land between any two effects of one handler ("the coordinator
//! persisted COMMIT, sent it to one participant, and crashed"). Whatever an effect hands to
//! the future (a message, a timer, a delayed recovery) goes to the scheduler through the
//! [`Schedule`] seam; the runner passes itself, an explorer the world's in-flight set. The
//! code is generic over the scheduler, so the runner's hot path is monomorphised.
//!
//! An explorer can also crash the node of a step's first handler after its k-th effect
//! ([`Steering::crash_after_effects`](crate::Steering)): the first k effects are applied,
//! the node (with co-location, its host) crashes, and the trace's `crash` event counts the
//! effects cut, exactly as when a plan's trigger crashes it there.

use crate::fault::Action;
use crate::id::NodeId;
use crate::network::Fate;
use crate::process::{Boot, Context, Effect, Process, Protocol};
use crate::schedule::{Envelope, Plain, Sched, Schedule};
use crate::time::Duration;
use crate::trace::{DropReason, TraceKind};
use crate::world::{Triggers, World};

impl<P: Protocol, N: Process<P>> World<P, N> {
    // ----- events a timed scheduler applies -------------------------------------------------

    /// Delivers `env` now: dropped if its (network) link is cut or its receiver is down,
    /// otherwise handled by the receiver. A timed scheduler calls this when the message is
    /// due; an explorer applies [`Event::Deliver`](crate::Event::Deliver).
    pub fn deliver(&mut self, env: Envelope<P>, sched: &mut impl Schedule<P>) {
        if self.is_local(env.from, env.to) {
            self.deliver_local(env, &mut Plain(sched))
        } else {
            self.deliver_network(env, &mut Plain(sched))
        }
    }

    /// Fires `timer` of `node` if it is still armed with `token` (a re-armed, cancelled or
    /// crash-cleared timer leaves a stale entry in a timed scheduler: it is skipped). Returns
    /// whether it fired.
    pub fn fire_timer(
        &mut self,
        node: NodeId,
        timer: P::Timer,
        token: u64,
        sched: &mut impl Schedule<P>,
    ) -> bool {
        self.fire_timer_in(node, timer, token, &mut Plain(sched))
    }

    /// Fires fault `index` of the plan, unless it fired already or faults are disarmed.
    pub fn fire_fault(&mut self, index: u32, sched: &mut impl Schedule<P>) {
        self.fire_fault_in(index, &mut Plain(sched))
    }

    /// Recovers `id`, and with co-location every process on its host (no effect on a
    /// process that is up).
    pub fn recover(&mut self, id: NodeId, sched: &mut impl Schedule<P>) {
        self.recover_in(id, &mut Plain(sched))
    }

    /// Ends the fault phase: every down node recovers, the network heals and becomes
    /// reliable (no loss, no duplicates, configured latencies), clock drift stops, and no
    /// further fault fires.
    pub fn begin_liveness_phase(&mut self, sched: &mut impl Schedule<P>) {
        self.begin_liveness_in(&mut Plain(sched))
    }

    // ----- the same, for any scheduler the crate drives -----------------------------------

    pub(crate) fn begin_liveness_in(&mut self, sched: &mut impl Sched<P>) {
        if self.in_liveness {
            return;
        }
        self.in_liveness = true;
        self.triggers.armed = false;
        self.trace.record(self.now, NodeId(0), TraceKind::LivenessPhase);
        std::sync::Arc::make_mut(&mut self.topology).heal();
        std::sync::Arc::make_mut(&mut self.links)
            .make_reliable(|f, t, c| sched.link_changed(f, t, c));
        for i in 0..self.nodes {
            self.slots[i as usize].drift_ppm = 0;
            self.recover_in(NodeId(i), sched);
        }
    }

    /// A network message is due: dropped if its link is cut (a partition drops what is in
    /// flight, not only what is sent while it holds) or its receiver is down.
    #[inline]
    pub(crate) fn deliver_network(&mut self, env: Envelope<P>, sched: &mut impl Sched<P>) {
        let Envelope { from, to, id, .. } = env;
        if !self.topology.link_up(from, to) {
            self.stats.dropped_cut += 1;
            let reason = DropReason::Cut;
            self.trace.record(self.now, to, TraceKind::Drop { from, to, id, reason });
            return;
        }
        self.handle_message(env, false, sched)
    }

    /// A message between two processes of one host: no network, so no cut applies.
    pub(crate) fn deliver_local(&mut self, env: Envelope<P>, sched: &mut impl Sched<P>) {
        self.handle_message(env, true, sched)
    }

    #[inline(always)]
    fn handle_message(&mut self, env: Envelope<P>, local: bool, sched: &mut impl Sched<P>) {
        let Envelope { from, to, id, msg } = env;
        let now = self.now;
        let slot = &mut self.slots[to.index()];
        let Some(node) = slot.node.as_mut() else {
            self.stats.dropped_receiver_down += 1;
            let reason = DropReason::ReceiverDown;
            self.trace.record(now, to, TraceKind::Drop { from, to, id, reason });
            return;
        };
        if local {
            self.stats.local_delivered += 1;
        } else {
            self.stats.delivered += 1;
        }
        self.trace.deliver(now, to, from, id);
        let forcing = sched.steer().map(|s| &mut s.forcing);
        let mut ctx = Context::new(to, now, self.nodes, &mut slot.rng, &mut self.effects, forcing);
        node.on_message(&mut ctx, from, msg);
        self.apply_effects(to, sched);
    }

    pub(crate) fn fire_timer_in(
        &mut self,
        node_id: NodeId,
        timer: P::Timer,
        token: u64,
        sched: &mut impl Sched<P>,
    ) -> bool {
        let now = self.now;
        let slot = &mut self.slots[node_id.index()];
        if slot.timers.get(&timer) != Some(token) {
            return false;
        }
        slot.timers.remove(&timer);
        let node = slot.node.as_mut().expect("a node with armed timers is up");
        self.stats.timers_fired += 1;
        self.trace.record(now, node_id, TraceKind::TimerFire { timer: timer.clone() });
        let forcing = sched.steer().map(|s| &mut s.forcing);
        let mut ctx =
            Context::new(node_id, now, self.nodes, &mut slot.rng, &mut self.effects, forcing);
        node.on_timer(&mut ctx, timer);
        self.apply_effects(node_id, sched);
        true
    }

    pub(crate) fn fire_fault_in(&mut self, index: u32, sched: &mut impl Sched<P>) {
        let i = index as usize;
        if !self.triggers.armed || self.triggers.fired[i] {
            return;
        }
        let action = &self.plan.faults[i].action;
        let action = match self.triggers.marked[i] {
            Some(marked) => action.resolve(marked),
            // A marked action waits for its trigger (an explorer may not fire it sooner).
            None if action.is_marked() => return,
            None => action.clone(),
        };
        self.triggers.fired[i] = true;
        self.triggers.fired_at[i] = Some(self.now);
        self.act(index, action, sched);
    }

    pub(crate) fn recover_in(&mut self, id: NodeId, sched: &mut impl Sched<P>) {
        if self.colocated {
            for other in self.host_mates(id) {
                self.recover_process(other, sched);
            }
        } else {
            self.recover_process(id, sched);
        }
    }

    // ----- handlers and their effects -------------------------------------------------------

    pub(crate) fn boot(&mut self, id: NodeId, recovered: bool, sched: &mut impl Sched<P>) {
        let slot = &mut self.slots[id.index()];
        debug_assert!(slot.node.is_none());
        let boot =
            if recovered { Boot::Recovered { disk: slot.disk.records() } } else { Boot::Fresh };
        let mut node = (self.factory)(id, boot);
        slot.down_since = None;
        let kind = if recovered { TraceKind::Recover } else { TraceKind::Start };
        self.trace.record(self.now, id, kind);
        let forcing = sched.steer().map(|s| &mut s.forcing);
        let mut ctx =
            Context::new(id, self.now, self.nodes, &mut slot.rng, &mut self.effects, forcing);
        node.on_start(&mut ctx);
        slot.node = Some(node);
        self.apply_effects(id, sched);
    }

    /// Applies the effects the handler of `id` pushed, in order, stopping at once if a
    /// fault triggered along the way crashed `id` (or an explorer crashes it here).
    ///
    /// The buffer is read in place, front to back, each effect moved out once, and keeps its
    /// capacity: no copy, no second buffer, no drain. (Reversing it and popping, as before,
    /// rewrote every effect just after the handler had pushed it and read it straight back
    /// with loads of other widths, which the CPU cannot forward from the pending stores;
    /// `Vec::drain` cost 25 more instructions per event on W1.) Sound because no handler
    /// runs while effects are applied: a recovery is scheduled, never nested, and a crash
    /// runs no handler, so nothing pushes to the buffer meanwhile.
    #[inline]
    fn apply_effects(&mut self, id: NodeId, sched: &mut impl Sched<P>) {
        let total = self.effects.len();
        let crash_at = match sched.steer() {
            None => None,
            Some(steer) => steer.enter_handler(id, total as u32),
        };
        // SAFETY: the buffer's length is zero from here on, so nothing else sees or drops
        // the effects in `0..total`; each is moved out exactly once (`ptr::read` at `k`,
        // then `k` moves past it) or, if the handler's node crashed first, dropped in place
        // below. Nothing pushes to the buffer until this returns (see above), so it is
        // neither reallocated nor written, and `base` stays valid. A panic in between leaks
        // the effects not yet read, which is safe.
        unsafe { self.effects.set_len(0) };
        let base = self.effects.as_mut_ptr();
        let mut k = 0;
        while k < total {
            // The effects after this one.
            let remaining = (total - k - 1) as u32;
            if self.slots[id.index()].node.is_none() {
                // Crashed by a trigger on an earlier effect: the rest is cut.
                break;
            }
            if crash_at == Some(k as u32) {
                self.applying = Some((id, remaining + 1));
                self.crash(id);
                break;
            }
            self.applying = Some((id, remaining));
            // SAFETY: `k < total`, and the effect at `k` has not been moved out (see above).
            let effect = unsafe { std::ptr::read(base.add(k)) };
            k += 1;
            self.apply_effect(id, effect, sched);
        }
        // SAFETY: the effects in `k..total` were never moved out (see above).
        unsafe {
            std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(base.add(k), total - k))
        };
        debug_assert!(self.effects.is_empty(), "no handler runs while effects are applied");
        if crash_at == Some(total as u32) && self.slots[id.index()].node.is_some() {
            self.applying = Some((id, 0));
            self.crash(id);
        }
        self.applying = None;
    }

    #[inline]
    fn apply_effect(&mut self, id: NodeId, effect: Effect<P>, sched: &mut impl Sched<P>) {
        let now = self.now;
        match effect {
            Effect::Send { to, msg } => {
                let Some(receiver) = self.slots.get_mut(to.index()) else {
                    panic!("{id} sent to unknown node {to}: a protocol bug");
                };
                receiver.sends_to += 1;
                self.send(id, to, msg, sched);
                let slot = &mut self.slots[id.index()];
                slot.sends += 1;
                if !self.triggers.sends[id.index()].is_empty() {
                    let sends = slot.sends;
                    self.fire_matching(sched, id, |t, k| {
                        let (count, index) = *t.sends[id.index()].get(k)?;
                        Some((count == sends).then_some(index))
                    });
                }
            }
            Effect::SetTimer { after, timer } => {
                let token = self.timer_token();
                let slot = &mut self.slots[id.index()];
                let at = now + after.drifted(slot.drift_ppm);
                slot.timers.insert(timer.clone(), token);
                self.trace.record(now, id, TraceKind::TimerSet { timer: timer.clone(), at });
                sched.timer(at, id, timer, token);
            }
            Effect::CancelTimer { timer } => {
                if self.slots[id.index()].timers.remove(&timer).is_some() {
                    self.trace.record(now, id, TraceKind::TimerCancel { timer });
                }
            }
            Effect::Persist { record } => {
                self.stats.disk_writes += 1;
                self.trace.record(now, id, TraceKind::Persist { record: record.clone() });
                self.slots[id.index()].disk.append(record);
            }
            Effect::Observe { obs } => {
                self.trace.record(now, id, TraceKind::Observe { obs });
            }
            Effect::Mark { name } => {
                self.trace.record(now, id, TraceKind::Mark { name: name.into() });
                if !self.triggers.mark[id.index()].is_empty() {
                    let slot = &mut self.slots[id.index()];
                    let count = match slot.marks.iter_mut().find(|(m, _)| *m == name) {
                        Some((_, c)) => {
                            *c += 1;
                            *c
                        }
                        None => {
                            slot.marks.push((name, 1));
                            1
                        }
                    };
                    self.fire_matching(sched, id, |t, k| {
                        let (mark, nth, index) = t.mark[id.index()].get(k)?;
                        Some((mark == name && *nth == count).then_some(*index))
                    });
                }
                if !self.triggers.any_mark.is_empty() {
                    self.count_any_mark(id, name, sched);
                }
            }
        }
    }

    /// A token unique to one arming of one timer.
    fn timer_token(&mut self) -> u64 {
        self.next_timer_token += 1;
        self.next_timer_token
    }

    /// Fires, in plan order, the faults whose trigger matches. `at(triggers, k)` looks at the
    /// k-th trigger of the list being checked: `None` past its end, `Some(Some(fault))` when it
    /// matches. Indexing (rather than collecting the matches) keeps this allocation-free; the
    /// lists never change while a fault fires.
    /// `by` is the node whose effect is being applied: the matched faults' marked node.
    fn fire_matching(
        &mut self,
        sched: &mut impl Sched<P>,
        by: NodeId,
        at: impl Fn(&Triggers, usize) -> Option<Option<u32>>,
    ) {
        let mut k = 0;
        while self.triggers.armed {
            match at(&self.triggers, k) {
                None => return,
                Some(Some(index)) => {
                    self.triggers.marked[index as usize].get_or_insert(by);
                    self.fire_fault_in(index, sched)
                }
                Some(None) => {}
            }
            k += 1;
        }
    }

    /// Counts `name`, just emitted by `by`, cluster-wide (if an `any_mark` trigger watches
    /// it) and fires or schedules the faults waiting for this count.
    #[cold]
    fn count_any_mark(&mut self, by: NodeId, name: &'static str, sched: &mut impl Sched<P>) {
        if !self.triggers.any_mark.iter().any(|(mark, ..)| mark == name) {
            return;
        }
        let counts = &mut self.triggers.any_counts;
        let count = match counts.iter_mut().find(|(m, _)| *m == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                counts.push((name, 1));
                1
            }
        };
        let mut k = 0;
        while self.triggers.armed {
            let Some((mark, nth, after_us, index)) = self.triggers.any_mark.get(k) else { return };
            let (after_us, index) = (*after_us, *index);
            if mark == name && *nth == count {
                self.triggers.marked[index as usize].get_or_insert(by);
                if after_us == 0 {
                    self.fire_fault_in(index, sched);
                } else {
                    sched.fault(self.now + Duration::from_us(after_us), index);
                }
            }
            k += 1;
        }
    }

    #[inline]
    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg, sched: &mut impl Sched<P>) {
        if self.is_local(from, to) {
            return self.send_local(from, to, msg, sched);
        }
        let now = self.now;
        self.next_msg_id += 1;
        let id = self.next_msg_id;
        self.stats.sent += 1;
        self.trace.send(now, from, to, id, &msg);
        if !self.topology.link_up(from, to) {
            self.stats.dropped_cut += 1;
            let reason = DropReason::Cut;
            self.trace.record(now, from, TraceKind::Drop { from, to, id, reason });
            return;
        }
        match sched.fate(now, from, to, id) {
            Fate::Lost => {
                self.stats.dropped_loss += 1;
                let reason = DropReason::Loss;
                self.trace.record(now, from, TraceKind::Drop { from, to, id, reason });
            }
            Fate::Arrives { at, duplicate_at } => {
                if let Some(dup_at) = duplicate_at {
                    self.stats.duplicated += 1;
                    self.trace.record(now, from, TraceKind::Duplicate { to, id, at: dup_at });
                    sched.hold(dup_at, Envelope { from, to, id, msg: msg.clone() });
                }
                sched.hold(at, Envelope { from, to, id, msg });
            }
        }
    }

    /// A send between processes of one host: delivered at the same virtual time, after
    /// everything already due then; no network draw, no cut.
    #[cold]
    fn send_local(&mut self, from: NodeId, to: NodeId, msg: P::Msg, sched: &mut impl Sched<P>) {
        let now = self.now;
        self.next_msg_id += 1;
        let id = self.next_msg_id;
        self.stats.local_messages += 1;
        self.trace.send(now, from, to, id, &msg);
        sched.hold_local(now, Envelope { from, to, id, msg });
    }

    // ----- faults ------------------------------------------------------------------------------

    /// Applies one fault action, recorded in the trace as fault `index` of the plan (or
    /// [`DIRECT_FAULT`](crate::DIRECT_FAULT) when an explorer applies it directly).
    pub(crate) fn act(&mut self, index: u32, action: Action, sched: &mut impl Sched<P>) {
        self.stats.faults_fired += 1;
        let at_node = match &action {
            Action::Crash { node, .. }
            | Action::Recover { node }
            | Action::ClockDrift { node, .. } => *node,
            Action::CutOneWay { from, .. } => *from,
            _ => NodeId(0),
        };
        self.trace.record(
            self.now,
            at_node,
            TraceKind::Fault { index, action: Box::new(action.clone()) },
        );
        match action {
            Action::Crash { node, recover_after_us } => {
                self.crash(node);
                if let Some(d) = recover_after_us {
                    sched.recover(self.now + Duration::from_us(d), node);
                }
            }
            // Recovery runs a handler; schedule it rather than nest it inside another's effects.
            Action::Recover { node } => sched.recover(self.now, node),
            Action::Partition { groups } => {
                std::sync::Arc::make_mut(&mut self.topology).partition(&groups)
            }
            Action::CutOneWay { from, to } => {
                std::sync::Arc::make_mut(&mut self.topology).cut_one_way(from, to)
            }
            Action::CutLink { a, b } => std::sync::Arc::make_mut(&mut self.topology).cut_link(a, b),
            Action::HealLink { a, b } => {
                std::sync::Arc::make_mut(&mut self.topology).heal_link(a, b)
            }
            Action::Heal => std::sync::Arc::make_mut(&mut self.topology).heal(),
            Action::SetDrop { links, prob } => std::sync::Arc::make_mut(&mut self.links).update(
                links,
                |c| c.drop_prob = prob.0,
                |f, t, c| sched.link_changed(f, t, c),
            ),
            Action::SetDuplicate { links, prob } => std::sync::Arc::make_mut(&mut self.links)
                .update(links, |c| c.dup_prob = prob.0, |f, t, c| sched.link_changed(f, t, c)),
            Action::SetLatency { links, latency } => std::sync::Arc::make_mut(&mut self.links)
                .update(links, |c| c.latency = latency, |f, t, c| sched.link_changed(f, t, c)),
            Action::ClockDrift { node, ppm } => self.slots[node.index()].drift_ppm = ppm,
            Action::CrashMarked { .. } | Action::IsolateMarked { .. } => {
                unreachable!("a marked action is resolved before it is applied")
            }
        }
    }

    /// Crashes `id`, and with co-location every process on its host.
    pub(crate) fn crash(&mut self, id: NodeId) {
        if self.colocated {
            for other in self.host_mates(id) {
                self.crash_process(other);
            }
        } else {
            self.crash_process(id);
        }
    }

    fn crash_process(&mut self, id: NodeId) {
        let slot = &mut self.slots[id.index()];
        if slot.node.is_none() {
            return;
        }
        slot.node = None;
        slot.timers.clear();
        slot.down_since = Some(self.now);
        self.stats.crashes += 1;
        let cut = match self.applying {
            Some((node, remaining)) if node == id => remaining,
            _ => 0,
        };
        self.trace.record(self.now, id, TraceKind::Crash { cut });
    }

    fn recover_process(&mut self, id: NodeId, sched: &mut impl Sched<P>) {
        if self.slots[id.index()].node.is_some() {
            return;
        }
        self.stats.recoveries += 1;
        self.boot(id, true, sched);
    }
}
