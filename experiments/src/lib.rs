//! # experiments: the `commitlab` CLI
//!
//! Experiments only compose: they build simulations from `protocols`, judge them with
//! `checkers`, and write what they measured (stdout lines, CSV, plots).

pub mod aggregate;
pub mod bench;
pub mod check;
pub mod cli;
pub mod compare;
pub mod csv_out;
pub mod demo;
pub mod error;
pub mod exit;
pub mod explore;
pub mod gray_lamport;
pub mod histogram;
pub mod list;
pub mod merge;
pub mod metrics;
pub mod output;
pub mod parallel;
mod plot;
pub mod replay;
pub mod report;
pub mod run;
pub mod search;
pub mod shard;
pub mod study;
pub mod sum;
pub mod sweep;

/// `--participants` takes `1..=MAX_PARTICIPANTS` in every command: the bound a scenario file
/// is held to ([`protocols::Scenario::MAX_PARTICIPANTS`]), in the type clap's ranges take.
pub(crate) const MAX_PARTICIPANTS: i64 = protocols::Scenario::MAX_PARTICIPANTS as i64;
