//! How a command ended: the exit code a subcommand chose (bad input is an `Err`, exit 2).

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// A property was violated: a counterexample was found.
    PropertyFailed = 1,
}
