//! Fault plans drawn at random: one description of the space, one builder, two samplers.
//!
//! - [`FaultSpace`] says what a plan may contain: the nodes and marks faults may hit, the
//!   time window, the enabled [`FaultClass`]es (each bringing one or two [`FaultKind`]s),
//!   how many faults, any number of [`CrashLimit`]s, and the range of every parameter.
//! - The builder ([`FaultSpace::trigger`], [`FaultSpace::action`]) is the one place a fault
//!   of each kind is made, from plain integer draws ([`TriggerDraw`], [`ActionDraw`]). It
//!   accepts any integers: node draws are reduced modulo the targets, so draw 0 is node 0
//!   (the coordinator in every commit layout); the rest are clamped into their ranges.
//!   Nothing is ever rejected: a fault that cannot apply (recovering an up node, healing a
//!   whole network) is a no-op in the engine, so every draw is a runnable plan.
//! - The seeded sampler ([`FaultSpace::generate`], in `seeded.rs`) feeds the builder from a
//!   PCG stream, swarm style; the sweeps use it.
//! - The proptest sampler (`experiments::search::plan_strategy`; this crate does not depend
//!   on proptest) feeds it from strategies that shrink toward 0, so a counterexample shrinks
//!   to fewer, simpler faults; the property search (`commitlab check`) uses it.
//!
//! The samplers differ in how they draw: the seeded one keeps its historical draw order (so
//! no recorded sweep changes), ties a crash on a mark to the node emitting it, may heal a
//! cut later ([`FaultSpace::heal_times`]) and never draws send triggers; the proptest one
//! picks a swarm of kinds and nodes per case, draws mark and send triggers
//! ([`FaultSpace::send_points`]) of the nodes that are on, crashes the emitting node three
//! times in four, and stops one short of the upper bound of the latency and recovery
//! ranges. [`FaultSpace::admits`] checks that a fault lies in the space, whichever sampler
//! drew it.

mod admit;
mod build;
mod class;
mod limit;
mod seeded;
mod space;

pub use build::{ActionDraw, TriggerDraw};
pub use class::{FaultClass, FaultKind};
pub use limit::CrashLimit;
pub use space::FaultSpace;

#[cfg(test)]
mod tests;
