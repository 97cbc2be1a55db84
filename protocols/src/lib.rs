//! Commit and consensus protocols as sans-IO state machines over `sim-core`.
