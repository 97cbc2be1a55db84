//! Commit protocols as sans-IO state machines over `sim-core`, with the shared transaction
//! vocabulary ([`txn`]), the workloads ([`workload`], [`client`], [`store`]) and the seam
//! checkers read through ([`durable`], [`facts`]).

pub mod active;
pub mod announced;
pub mod backoff;
pub mod catalog;
pub mod client;
pub mod commit_config;
pub mod commit_record;
pub mod consensus;
pub mod coordinator;
pub mod crash_point;
pub mod decision;
pub mod durable;
pub mod e3pc;
pub mod error;
pub mod explore;
pub mod facts;
pub mod family;
pub mod initiated;
pub mod multi_paxos;
pub mod paxos_commit;
pub mod prepare;
pub mod quorum_3pc;
pub mod quorum_commit;
pub mod raft;
pub mod replicated_2pc;
pub mod roles;
pub mod saga;
pub mod scenario;
pub mod settings;
pub mod shared;
pub mod store;
pub mod suggest;
pub mod three_pc;
pub mod three_phase;
pub mod timing;
pub mod tla_two_phase;
pub mod two_pc;
pub mod txn;
pub mod vote;
pub mod voter;
pub mod wiring;
pub mod workload;
pub mod zab;

pub use catalog::{ProtocolSpec, broken_protocols, catalog, correct_protocols, run};
pub use facts::{FactRef, Happened, PlacedFact, RunFact};
pub use family::{Family, Roles};
pub use scenario::{
    Fact, MessageCounts, Rendering, RunOutcome, RunReport, Scenario, ScenarioError, Snapshot,
    TraceFact, TxnObserved,
};
pub use txn::{Layout, Observation, Outcome, SagaOutcome, Txn, TxnId, Vote, Write};
