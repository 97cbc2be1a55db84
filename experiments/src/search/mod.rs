//! Searching fault plans for counterexamples, and shrinking them to minimal ones.

pub mod plan_strategy;
