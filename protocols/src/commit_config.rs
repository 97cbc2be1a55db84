//! What the runner, the explorer and the shared roles read from a commit family's
//! configuration: its timing (every timeout of a run) and its client's, whose retry loops
//! exploration bounds; who is where; how participants vote.
//!
//! A family that builds its configuration with one function, `config(variant, scenario)`, is
//! then run by [`run`] and explored by [`explore`]: the same code for 2PC, 3PC and Paxos
//! Commit, so that "explore builds the nodes `run` builds, only with bounded retries" holds
//! by construction rather than by three copies kept alike.

use sim_core::explore::{ExploreConfig, ExploreReport};

use crate::client::ClientConfig;
use crate::explore::{Explorable, ExploreRequest};
use crate::family::Family;
use crate::scenario::{CommitProtocol, RunOutcome, Scenario, ScenarioError};
use crate::timing::Timing;
use crate::txn::Layout;
use crate::workload::VotePolicy;

/// A commit family's configuration: its timing and its client's, its layout, its votes.
pub trait CommitConfig {
    fn timing(&self) -> Timing;
    fn layout(&self) -> Layout;
    /// The client's configuration (its workload also gives each participant its data).
    fn client(&self) -> &ClientConfig;
    fn votes(&self) -> &VotePolicy;
    /// The timing and the client's configuration, for [`crate::explore::bounded`].
    fn loops(&mut self) -> (&mut Timing, &mut ClientConfig);
}

/// `impl CommitConfig` for a configuration struct with fields `timing`, `layout`, `client` and
/// `votes`: `commit_config!(ThreePcConfig);`.
#[macro_export]
macro_rules! commit_config {
    ($config:ty) => {
        impl $crate::commit_config::CommitConfig for $config {
            fn timing(&self) -> $crate::timing::Timing {
                self.timing
            }
            fn layout(&self) -> $crate::txn::Layout {
                self.layout
            }
            fn client(&self) -> &$crate::client::ClientConfig {
                &self.client
            }
            fn votes(&self) -> &$crate::workload::VotePolicy {
                &self.votes
            }
            fn loops(
                &mut self,
            ) -> (&mut $crate::timing::Timing, &mut $crate::client::ClientConfig) {
                (&mut self.timing, &mut self.client)
            }
        }
    };
}

/// How a family builds the configuration `variant` runs `scenario` with.
pub type ConfigFn<C> = fn(&str, &Scenario) -> Result<C, ScenarioError>;

/// Runs `variant` of `family` on `scenario`, laid out as the family says, with the
/// configuration `config` builds.
pub fn run<P>(
    family: &Family,
    config: ConfigFn<P::Config>,
    variant: &str,
    scenario: &Scenario,
) -> Result<RunOutcome, ScenarioError>
where
    P: CommitProtocol<Config: CommitConfig>,
    P::Record: crate::durable::TxnRecord,
{
    let config = config(variant, scenario)?;
    let roles = (family.layout)(scenario);
    crate::scenario::run_with::<P>(scenario, roles, config.timing(), config)
}

/// The configuration `config` builds for `variant` on `scenario`, with its retry loops
/// bounded as the shared commit model says ([`crate::explore::bounded`]).
pub fn bounded<C: CommitConfig>(
    config: ConfigFn<C>,
    variant: &str,
    scenario: &Scenario,
) -> Result<C, ScenarioError> {
    let mut c = config(variant, scenario)?;
    let (timing, client) = c.loops();
    crate::explore::bounded(timing, client);
    Ok(c)
}

/// Explores `request` on `family`: the nodes [`run`] builds, from the configuration it
/// uses, [`bounded`].
pub fn explore<P: Explorable<Config: CommitConfig>>(
    family: &Family,
    config: ConfigFn<P::Config>,
    request: &ExploreRequest<'_>,
    explore: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError> {
    crate::explore::explore::<P>(family, request, explore, |s| bounded(config, request.variant, s))
}
