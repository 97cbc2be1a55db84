//! 2PC under `commitlab explore`: the nodes `run` builds, from the configuration `run`
//! uses, with the retry loops bounded as the shared commit model says ([`crate::explore`]);
//! `--symmetry` over its participants ([`crate::explore::symmetry`]).

use sim_core::explore::{ExploreConfig, ExploreReport};

use super::{FAMILY, TwoPc};
use crate::commit_config::bounded;
use crate::explore::ExploreRequest;
use crate::scenario::ScenarioError;

pub(super) fn explore(
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError> {
    crate::explore::symmetry::explore::<TwoPc>(&FAMILY, request, config, |scenario| {
        bounded(super::config, request.variant, scenario)
    })
}

#[cfg(test)]
mod tests {
    use sim_core::explore::{Budget, ExploreConfig, Timers, Verdict, explore};

    use super::super::{FAMILY, TwoPc, VARIANTS};
    use crate::Scenario;
    use crate::commit_config::bounded;
    use crate::explore::ExploreRequest;
    use crate::explore::symmetry::{orbits_reached, symmetric_model};

    /// The reduction loses no orbit: for every 2PC variant that holds (3 participants, one
    /// crash, a synchronous network), the full search reaches exactly as many orbits as the
    /// reduced search has unique states. This is what makes the reduction exact despite
    /// the handlers' id-ordered sends (see `crate::explore::symmetry`).
    #[test]
    fn the_reduced_search_reaches_every_orbit_of_the_full_one() {
        let mut compared = Vec::new();
        for variant in VARIANTS.iter().map(|v| v.spec.name) {
            let scenario = Scenario::new(variant, 3, 1, 1);
            let properties = vec!["atomicity".to_string()];
            let request = ExploreRequest {
                symmetry: true,
                ..ExploreRequest::new(variant, &scenario, &properties)
            };
            let config = ExploreConfig {
                budget: Budget { crashes: 1, ..Default::default() },
                timers: Timers::Quiescent,
                ..Default::default()
            };
            let configure = |s: &Scenario| bounded(super::super::config, variant, s);
            let model = symmetric_model::<TwoPc>(&FAMILY, &request, configure).expect("symmetric");
            let reduced = explore(&model, &config);
            let (orbits, full) = orbits_reached(model, &config);
            if full.verdict != Verdict::Holds {
                assert_eq!(reduced.verdict, full.verdict, "{variant}");
                continue;
            }
            assert_eq!(reduced.verdict, Verdict::Holds, "{variant}");
            assert_eq!(reduced.unique_states, orbits, "{variant}: orbits lost or split");
            assert!(reduced.unique_states < full.unique_states, "{variant}");
            compared.push((variant, full.unique_states, orbits));
        }
        eprintln!("(variant, unique states, orbits): {compared:?}");
        // Every correct variant holds here, so each was compared.
        assert!(compared.len() >= 3, "{compared:?}");
    }
}
