//! What the replicated-log tests share: run and judge a scenario, count observations, and
//! crash whichever replica leads.

#![allow(dead_code)] // each test file uses its own share of these

use checkers::{Property, Verdict, Verdicts, check};
use protocols::{Observation, RunReport, Scenario};
use sim_core::{Action, NodeId, Trigger};

pub fn run(scenario: &Scenario) -> (RunReport, Verdicts) {
    let r = protocols::run(scenario).expect("a valid scenario").report;
    let v = check(&r, &scenario.plan);
    (r, v)
}

/// Every property in `properties` holds.
pub fn assert_all_hold(v: &Verdicts, properties: &[Property], what: &str) {
    for &p in properties {
        assert_eq!(v.get(p), &Verdict::Holds, "{what}: {}", p.name());
    }
}

pub fn count(r: &RunReport, f: impl Fn(&Observation) -> bool) -> usize {
    r.observations.iter().filter(|o| f(&o.obs)).count()
}

/// Crashes whichever replica leads, at its `nth` `mark` (one only a leader emits), recovering
/// it `recover_ms` later: one fault per replica, of which only the leaders' fire.
pub fn crash_the_leader(s: &mut Scenario, mark: &str, nth: u32, recover_ms: u64) {
    for r in 0..s.participants {
        let node = NodeId(r);
        s.plan = s.plan.clone().with(
            Trigger::Mark { node, mark: mark.into(), nth },
            Action::Crash { node, recover_after_us: Some(recover_ms * 1000) },
        );
    }
}
