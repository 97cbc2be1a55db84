//! # sim-core: commitlab's deterministic discrete-event engine
//!
//! A virtual clock delivers messages between simulated nodes; crashes, delays, drops,
//! duplicates and partitions are injected on purpose. Nodes are sans-IO state machines
//! ([`Process`]) that push [`Effect`]s into a [`Context`]; the engine applies the effects in
//! order, so a fault can cut a handler between two of them. Every run is a pure function of
//! its [`SimConfig`] (seed included) and [`FaultPlan`]: same inputs, same [`Trace`] hash.
//!
//! This crate knows nothing of commit protocols; it is the layer they all stand on.

pub mod disk;
pub mod error;
pub mod export;
pub mod fault;
pub mod hash;
pub mod id;
pub mod network;
pub mod process;
mod queue;
pub mod rng;
pub mod sim;
pub mod swarm;
pub mod time;
pub mod topology;
pub mod trace;

pub use disk::Disk;
pub use error::SimError;
pub use fault::{Action, Fault, FaultPlan, HashableF64, Trigger};
pub use id::NodeId;
pub use network::{Latency, LinkConfig, LinkOverride, LinkSet, NetworkConfig, Ordering};
pub use process::{Boot, Context, Effect, Payload, Process, Protocol};
pub use rng::{SimRng, StreamDomain};
pub use sim::{Factory, RunStats, SimConfig, Simulation, Stop};
pub use swarm::{FaultClass, SwarmConfig};
pub use time::{Duration, Time};
pub use topology::Topology;
pub use trace::{DropReason, Observed, Tap, Trace, TraceEvent, TraceKind, TraceLevel};
