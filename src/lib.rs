//! commitlab: a deterministic discrete-event testbed for distributed commit and consensus
//! protocols. This facade re-exports the workspace crates; see README.md.

pub use checkers;
pub use experiments;
pub use protocols;
pub use sim_core;
