//! Checkers: pure functions from a finished run's history to verdicts with witnesses.
