//! Paxos Commit under `commitlab explore`: the nodes `run` builds, from the configuration `run`
//! uses, with the retry loops bounded as the shared commit model says ([`crate::explore`]).

use sim_core::explore::{ExploreConfig, ExploreReport};

use super::{FAMILY, PaxosCommit};
use crate::explore::{ExploreRequest, bounded};
use crate::scenario::ScenarioError;

pub(super) fn explore(
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError> {
    crate::explore::explore::<PaxosCommit>(&FAMILY, request, config, |scenario| {
        let mut c = super::config(request.variant, scenario);
        bounded(&mut c.timing, &mut c.client);
        Ok(c)
    })
}
