//! # experiments: the `commitlab` CLI
//!
//! Experiments only compose: they build simulations from `protocols`, judge them with
//! `checkers`, and write what they measured (stdout lines, CSV, plots).

pub mod bench;
pub mod check;
pub mod cli;
pub mod error;
pub mod output;
pub mod replay;
pub mod report;
pub mod search;
