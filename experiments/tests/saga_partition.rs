//! In the partition sweep a saga that never ended (its client or orchestrator crashed and
//! it was never finished, even after the liveness phase) is a termination failure, as an
//! undecided commit participant is: counted in `termination_failures`, never in
//! `atomicity_violations`, and not an exit-1 finding of `run`.

use experiments::metrics::RunMetrics;
use experiments::sweep::partition::{DEFAULT_SEEDS, MIXES, scenario};

#[test]
fn a_saga_that_never_ended_is_a_termination_failure_not_an_atomicity_violation() {
    let (_, classes) = MIXES.iter().find(|(name, _)| *name == "partition+crash").unwrap();
    let mut never_ended = 0;
    for protocol in ["saga-orchestration", "saga-choreography"] {
        for seed in 1..=DEFAULT_SEEDS {
            let s = scenario(protocol, classes, seed);
            let report = protocols::run(&s).unwrap().report;
            let verdicts = checkers::check(&report, &s.plan);
            let m = RunMetrics::of(&report, &verdicts, u64::MAX);
            assert!(!m.atomicity_violated, "{protocol} seed {seed}: {:?}", verdicts.verdicts);
            let details: Vec<&str> = (verdicts.get(checkers::Property::Termination).violations())
                .iter()
                .map(|v| v.detail.as_str())
                .collect();
            if m.termination_failed {
                assert!(details.iter().all(|d| d.contains("never ended")), "{details:?}");
                never_ended += 1;
            }
        }
    }
    assert!(never_ended > 0, "the sweep's seeds include sagas that never ended");
}
