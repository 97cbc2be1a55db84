//! Typed errors for bad input. Every message names the field at fault, so a user can fix a
//! plan or a config without reading the source. The engine never panics on user input.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum SimError {
    #[error("the cluster has zero nodes: `nodes` must be at least 1")]
    NoNodes,

    #[error("{field} = {node} names an unknown node (the cluster has {nodes} nodes: 0..{last})", last = nodes.saturating_sub(1))]
    UnknownNode { field: String, node: u32, nodes: u32 },

    #[error("{field} = {value} is not a probability (must be within [0, 1])")]
    Probability { field: String, value: f64 },

    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },

    #[error("malformed fault plan{}: {message}", path.as_ref().map(|p| format!(" {p}")).unwrap_or_default())]
    MalformedPlan { path: Option<String>, message: String },

    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },

    #[error("malformed trace line {line}: {message}")]
    MalformedTrace { line: usize, message: String },
}

impl SimError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> SimError {
        SimError::Invalid { field: field.into(), reason: reason.into() }
    }
}

/// Checks that `p` is a probability, naming `field` if not.
pub fn check_probability(field: impl FnOnce() -> String, p: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(SimError::Probability { field: field(), value: p })
    }
}

/// Checks that `node` exists in a cluster of `nodes`, naming `field` if not.
pub fn check_node(field: impl FnOnce() -> String, node: u32, nodes: u32) -> Result<(), SimError> {
    if node < nodes { Ok(()) } else { Err(SimError::UnknownNode { field: field(), node, nodes }) }
}
