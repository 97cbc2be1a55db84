//! Searching fault plans for counterexamples, shrinking them to minimal ones, and the
//! counterexample files `commitlab replay` reads.

pub mod catching;
pub mod corpus;
pub mod counterexample;
pub mod guided;
pub mod plan_strategy;
pub mod property;
pub mod runner;

pub use counterexample::Counterexample;
pub use property::Target;
pub use runner::{
    CrashPoints, Found, Outcome, SearchConfig, SearchStats, search, search_with_points,
};
