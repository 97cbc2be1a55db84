//! Running one scenario with a node's panic caught: a protocol's own assertion failing is a
//! finding (`no-panic`, with its message), never a crash of the tool. The search, the
//! replay of a counterexample and `commitlab run` all run through here, quietly: the panic
//! prints nothing of its own on any thread (`sim_core::quiet_panic`).

use checkers::Violation;
use protocols::catalog::ProtocolSpec;
use protocols::{RunOutcome, Scenario};

use crate::error::Result;

/// Runs `scenario`; a panic inside a node (a protocol's own assertion) comes back as a
/// `no-panic` violation naming the message, never as a crash of the tool.
pub fn run_catching(
    spec: &ProtocolSpec,
    scenario: &Scenario,
) -> Result<std::result::Result<RunOutcome, Violation>> {
    match sim_core::quiet_panic::catching(|| spec.run(scenario)) {
        Ok(outcome) => Ok(Ok(outcome?)),
        Err(message) => Ok(Err(Violation {
            property: checkers::Property::NoPanic,
            txn: None,
            nodes: Vec::new(),
            detail: format!("a node panicked: {message}"),
            since: None,
            waiting_on: None,
            decisions: Vec::new(),
        })),
    }
}
