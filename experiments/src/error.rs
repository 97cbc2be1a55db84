//! CLI plumbing errors: anything a command can fail with, printed as one line (exit 2).
//! A boxed error is enough here: every source (clap, serde, SimError, ScenarioError, I/O)
//! already renders a message that names what is wrong.

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T> = std::result::Result<T, Error>;
