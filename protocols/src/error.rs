//! What running a scenario can fail with: bad input, named by its field.

use sim_core::SimError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{message}")]
    UnknownProtocol { name: String, message: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    #[error(transparent)]
    Sim(#[from] SimError),
}
