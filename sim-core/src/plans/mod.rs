//! Fault plans drawn at random: one description of the space, one builder, two samplers.
//!
//! - [`FaultSpace`] says what a plan may contain: the nodes and marks faults may hit, the
//!   time window, the enabled [`FaultClass`]es (each bringing one or two [`FaultKind`]s),
//!   how many faults, an optional [`CrashLimit`], and the range of every parameter.
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
//! The samplers differ only in how they draw, and keep their historical draw orders so no
//! recorded sweep, counterexample or trace hash changes: the seeded one ties a crash on a
//! mark to the node emitting it and may heal a cut later ([`FaultSpace::heal_times`]); the
//! proptest one draws trigger and action independently and stops one short of the upper
//! bound of the latency and recovery ranges. [`FaultSpace::admits`] checks that a fault
//! lies in the space, whichever sampler drew it.

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
