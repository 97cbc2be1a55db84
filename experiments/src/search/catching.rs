//! Running one scenario with a node's panic caught: a protocol's own assertion failing is a
//! finding (`no-panic`, with its message), never a crash of the tool. The search, the
//! replay of a counterexample and `commitlab run` all run through here.

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
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| spec.run(scenario)));
    match run {
        Ok(outcome) => Ok(Ok(outcome?)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic with no message".into());
            Ok(Err(Violation {
                property: checkers::Property::NoPanic,
                txn: None,
                nodes: Vec::new(),
                detail: format!("a node panicked: {message}"),
                since: None,
                waiting_on: None,
                decisions: Vec::new(),
            }))
        }
    }
}
