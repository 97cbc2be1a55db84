//! The trace: what happened in a run, in order, with virtual times.
//!
//! Every engine event (send, delivery, drop, duplicate, timer, crash, recovery, persist,
//! mark, observation, fault) becomes one [`TraceEvent`]. Each is folded into a stable hash
//! at *every* level, so the hash is the run's fingerprint whatever is kept; the level only
//! decides what is kept in memory: nothing, the observations, or all.
//!
//! A [`Tap`] sees every event but sends and deliveries as it is recorded, at every level: a
//! caller that needs its own digest of a run (the commit scenario runner collects the facts
//! its checkers read) gets it without keeping the trace, so a run yields the same digest
//! whatever the level.

use std::any::Any;
use std::hash::Hasher;
use std::io::{BufRead, Write};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::hash::{StableHasher, digest2, stable_digest};
use crate::id::NodeId;
use crate::process::Protocol;
use crate::time::Time;
pub use crate::trace_event::{DropReason, TraceEvent, TraceKind};
use crate::trace_log::FullLog;

/// How much of a run is kept in memory.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TraceLevel {
    /// Only the hash and counters: for large sweeps.
    Off,
    /// Observations (what checkers need), not the message-level trace.
    #[default]
    Observations,
    /// Every event: for exports, diagrams and witnesses.
    Full,
}

impl FromStr for TraceLevel {
    type Err = SimError;
    fn from_str(s: &str) -> Result<Self, SimError> {
        match s {
            "off" => Ok(TraceLevel::Off),
            "observations" | "obs" => Ok(TraceLevel::Observations),
            "full" => Ok(TraceLevel::Full),
            other => Err(SimError::invalid(
                "trace",
                format!("unknown trace level {other:?} (expected off, observations or full)"),
            )),
        }
    }
}

// ----- the stable hash of an event --------------------------------------------------------
//
// Each event is reduced to a 64-bit digest from its parts (independent multiplies, so they
// overlap in the CPU), and the trace hash chains only the digests. Written out by hand
// rather than derived, because the hot path (send, deliver) digests borrowed fields without
// building a `TraceEvent`; both paths call the same helpers, so a recorded event and its
// fast-path twin always hash alike.
//
// The event kinds are the explicit tags written in `digest_event`, never a derived position.
// Payloads (messages, timers, records, observations, fault actions) are digested through
// serde (`stable_digest`), which names enum variants by their serde name: a protocol may
// add a variant anywhere in its enums without changing any recorded trace hash.

/// Kind tag and node in one word (node ids are 32-bit), mixed with the time.
#[inline(always)]
fn head(tag: u8, time: Time, node: NodeId) -> u64 {
    digest2(((tag as u64) << 56) ^ node.0 as u64, time.as_us())
}

/// The digest of a value through its serde form, variants by name.
#[inline(always)]
fn digest_of<T: Serialize + ?Sized>(v: &T) -> u64 {
    stable_digest(v)
}

#[inline(always)]
fn digest_send<M: Serialize>(time: Time, node: NodeId, to: NodeId, id: u64, msg: &M) -> u64 {
    head(1, time, node) ^ digest2(to.0 as u64, id).rotate_left(21) ^ digest_of(msg).rotate_left(42)
}

#[inline(always)]
fn digest_deliver(time: Time, node: NodeId, from: NodeId, id: u64) -> u64 {
    head(2, time, node) ^ digest2(from.0 as u64, id).rotate_left(21)
}

#[inline(always)]
fn digest_with<T: Serialize + ?Sized>(tag: u8, time: Time, node: NodeId, fields: &T) -> u64 {
    head(tag, time, node) ^ digest_of(fields).rotate_left(42)
}

/// One event's digest. The hot path computes the same digests from borrowed fields.
fn digest_event<P: Protocol>(ev: &TraceEvent<P>) -> u64 {
    let (t, n) = (ev.time, ev.node);
    match &ev.kind {
        TraceKind::Send { to, id, msg } => digest_send(t, n, *to, *id, msg),
        TraceKind::Deliver { from, id } => digest_deliver(t, n, *from, *id),
        TraceKind::Start => head(0, t, n),
        TraceKind::Drop { from, to, id, reason } => digest_with(3, t, n, &(from, to, id, reason)),
        TraceKind::Duplicate { to, id, at } => digest_with(4, t, n, &(to, id, at)),
        TraceKind::TimerSet { timer, at } => digest_with(5, t, n, &(timer, at)),
        TraceKind::TimerCancel { timer } => digest_with(6, t, n, timer),
        TraceKind::TimerFire { timer } => digest_with(7, t, n, timer),
        TraceKind::Persist { record } => digest_with(8, t, n, record),
        TraceKind::Mark { name } => digest_with(9, t, n, name),
        TraceKind::Observe { obs } => digest_with(10, t, n, obs),
        TraceKind::Crash { cut } => digest_with(11, t, n, cut),
        TraceKind::Recover => head(12, t, n),
        TraceKind::Fault { index, action } => digest_with(13, t, n, &(index, action)),
        TraceKind::LivenessPhase => head(14, t, n),
    }
}

/// A protocol fact with when and where it was reported.
#[derive(Clone, Debug, PartialEq, Hash, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Observed<P: Protocol> {
    pub time: Time,
    pub node: NodeId,
    pub obs: P::Obs,
}

/// Sees the events of a run as they are recorded, whatever the trace level: every event but
/// sends and deliveries (the hot path, which a tap never needs to slow down). A tap only
/// watches; it cannot change the run (the trace hash is the same with or without one).
///
/// Any `'static` type can be a tap's state; the caller that installed it takes it back by
/// type ([`crate::Simulation::tap_mut`]).
pub trait Tap<P: Protocol>: AsAny + Send {
    fn event(&mut self, ev: &TraceEvent<P>);
}

/// Lets a boxed [`Tap`] be taken back as its concrete type (implemented for every `'static`
/// type).
pub trait AsAny: Any {
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Records a run at the configured level and keeps its hash.
pub struct Trace<P: Protocol> {
    level: TraceLevel,
    hasher: StableHasher,
    len: u64,
    /// Every event, compact; empty unless the level is `Full`.
    full: FullLog<P>,
    observations: Vec<Observed<P>>,
    tap: Option<Box<dyn Tap<P>>>,
}

/// A copy of the trace (an explorer clones worlds at every branch) carries no tap: a tap
/// watches one run, installed by whoever started it.
impl<P: Protocol> Clone for Trace<P> {
    fn clone(&self) -> Self {
        Trace {
            level: self.level,
            hasher: self.hasher.clone(),
            len: self.len,
            full: self.full.clone(),
            observations: self.observations.clone(),
            tap: None,
        }
    }
    /// Reuses the observations' buffer (an explorer copies worlds into recycled ones).
    fn clone_from(&mut self, source: &Self) {
        self.level = source.level;
        self.hasher.clone_from(&source.hasher);
        self.len = source.len;
        self.full.clone_from(&source.full);
        self.observations.clone_from(&source.observations);
        self.tap = None;
    }
}

impl<P: Protocol> Trace<P> {
    pub fn new(level: TraceLevel) -> Self {
        Trace {
            level,
            hasher: StableHasher::default(),
            len: 0,
            full: FullLog::default(),
            observations: Vec::new(),
            tap: None,
        }
    }

    /// Installs `tap`: from now on it sees every recorded event but sends and deliveries.
    pub fn set_tap(&mut self, tap: Box<dyn Tap<P>>) {
        self.tap = Some(tap);
    }

    /// The installed tap, if it is a `T`.
    pub fn tap_mut<T: Tap<P>>(&mut self) -> Option<&mut T> {
        self.tap.as_deref_mut()?.as_any_mut().downcast_mut::<T>()
    }

    /// Hot path: a send, hashed from borrowed fields; the message is cloned only when kept.
    /// Inlined into the effects loop (a call per event was measured); keeping the event is
    /// out of line, so the inlined part is the hash alone.
    #[inline(always)]
    pub(crate) fn send(&mut self, time: Time, node: NodeId, to: NodeId, id: u64, msg: &P::Msg) {
        self.hasher.absorb(digest_send(time, node, to, id, msg));
        self.len += 1;
        if self.level == TraceLevel::Full {
            self.keep_send(time, node, to, id, msg);
        }
    }

    #[inline(never)]
    fn keep_send(&mut self, time: Time, node: NodeId, to: NodeId, id: u64, msg: &P::Msg) {
        self.full.send(time, node, to, id, msg);
    }

    /// Hot path: a delivery (inlined into the runner's loop, as a send is).
    #[inline(always)]
    pub(crate) fn deliver(&mut self, time: Time, node: NodeId, from: NodeId, id: u64) {
        self.hasher.absorb(digest_deliver(time, node, from, id));
        self.len += 1;
        if self.level == TraceLevel::Full {
            self.keep_deliver(time, node, from, id);
        }
    }

    #[inline(never)]
    fn keep_deliver(&mut self, time: Time, node: NodeId, from: NodeId, id: u64) {
        self.full.deliver(time, node, from, id);
    }

    pub(crate) fn record(&mut self, time: Time, node: NodeId, kind: TraceKind<P>) {
        let ev = TraceEvent { time, node, kind };
        self.hasher.absorb(digest_event(&ev));
        self.len += 1;
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.event(&ev);
        }
        if self.level >= TraceLevel::Observations
            && let TraceKind::Observe { obs } = &ev.kind
        {
            self.observations.push(Observed { time, node, obs: obs.clone() });
        }
        if self.level == TraceLevel::Full {
            self.full.other(ev);
        }
    }

    /// Whether recording `kind` would be kept; lets callers skip building costly payloads.
    pub fn level(&self) -> TraceLevel {
        self.level
    }

    /// The stable hash of every event so far, whatever the level.
    pub fn hash(&self) -> u64 {
        self.hasher.finish() ^ self.len
    }

    /// Number of events so far, whatever the level.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// All events, in order (none unless the level is `Full`), each rebuilt from the
    /// compact log it is kept in as it is read.
    pub fn events(&self) -> impl ExactSizeIterator<Item = TraceEvent<P>> + Clone + '_ {
        self.full.iter()
    }

    /// All events as one vector, e.g. to hand to [`hash_events`] or a checker.
    pub fn events_vec(&self) -> Vec<TraceEvent<P>> {
        self.full.iter().collect()
    }

    /// All observations (empty at level `Off`).
    pub fn observations(&self) -> &[Observed<P>] {
        &self.observations
    }

    /// Writes the kept events as JSON Lines, one event per line.
    pub fn write_jsonl(&self, mut w: impl Write) -> std::io::Result<()> {
        for ev in self.full.iter() {
            serde_json::to_writer(&mut w, &ev)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// The hash a run with these events has: equal to [`Trace::hash`] of the run that produced a
/// full trace, so an exported trace can be checked against the run it came from.
pub fn hash_events<'a, P: Protocol>(events: impl IntoIterator<Item = &'a TraceEvent<P>>) -> u64 {
    let mut h = StableHasher::default();
    let mut n = 0u64;
    for ev in events {
        h.absorb(digest_event(ev));
        n += 1;
    }
    h.finish() ^ n
}

/// Reads a JSON Lines trace written by [`Trace::write_jsonl`]; blank lines are skipped.
pub fn read_jsonl<P: Protocol>(r: impl BufRead) -> Result<Vec<TraceEvent<P>>, SimError> {
    let mut out = Vec::new();
    for (i, line) in r.lines().enumerate() {
        let line =
            line.map_err(|e| SimError::MalformedTrace { line: i + 1, message: e.to_string() })?;
        if line.trim().is_empty() {
            continue;
        }
        let ev = serde_json::from_str(&line)
            .map_err(|e| SimError::MalformedTrace { line: i + 1, message: e.to_string() })?;
        out.push(ev);
    }
    Ok(out)
}
