//! # sim-core: commitlab's deterministic discrete-event engine
//!
//! A virtual clock delivers messages between simulated nodes; crashes, delays, drops,
//! duplicates and partitions are injected on purpose. Nodes are sans-IO state machines
//! ([`Process`]) that push [`Effect`]s into a [`Context`]; the engine applies the effects in
//! order, so a fault can cut a handler between two of them. Every run is a pure function of
//! its [`SimConfig`] (seed included) and [`FaultPlan`]: same inputs, same [`Trace`] hash.
//!
//! This crate knows nothing of commit protocols; it is the layer they all stand on.

mod armed;
pub mod config;
pub mod disk;
mod effects;
pub mod error;
pub mod event;
pub mod explore;
pub mod export;
pub mod fault;
pub mod hash;
pub mod id;
pub mod label;
pub mod network;
pub mod plans;
pub mod process;
pub mod queue;
pub mod quiet_panic;
pub mod rename;
pub mod rng;
pub mod schedule;
pub mod sim;
pub mod time;
mod timed;
pub mod topology;
pub mod trace;
mod trace_event;
mod trace_log;
pub mod world;

pub use config::DEFAULT_MAX_EVENTS;
pub use disk::Disk;
pub use error::SimError;
pub use event::{DIRECT_FAULT, Event, Outcome, Steering, StepError};
pub use fault::{Action, Fault, FaultPlan, HashableF64, Trigger};
pub use id::NodeId;
pub use network::{Fate, Latency, LinkConfig, LinkOverride, LinkSet, NetworkConfig, Ordering};
pub use plans::{ActionDraw, CrashLimit, FaultClass, FaultKind, FaultSpace, TriggerDraw};
pub use process::{Boot, Choice, Context, Effect, Payload, Process, Protocol};
pub use rename::{Rename, Renaming};
pub use rng::{SimRng, StreamDomain};
pub use schedule::{Envelope, Schedule};
pub use sim::{QUEUE_BOUND, RunStats, SimConfig, Simulation, Stop};
pub use time::{Duration, Time};
pub use topology::Topology;
pub use trace::{DropReason, Observed, Tap, Trace, TraceEvent, TraceKind, TraceLevel};
pub use world::{Factory, IN_FLIGHT_BOUND, World};
