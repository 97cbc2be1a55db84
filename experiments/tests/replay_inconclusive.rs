//! A replayed run that a bound cut short says so: the property is inconclusive on it, never
//! "holds" (a 2PC run cut after 50 events has decided nothing, so termination cannot be
//! judged).

use experiments::search::Counterexample;
use experiments::search::counterexample::replay;
use experiments::search::property::Target;
use protocols::Scenario;

#[test]
fn a_replay_cut_short_by_its_event_budget_is_inconclusive_not_holding() {
    let mut s = Scenario::new("2pc", 3, 5, 1);
    s.max_events = Some(50);
    let r = replay(&s, Target::Termination).unwrap();
    assert!(r.violations.is_empty(), "{:?}", r.violations);
    let reason = r.inconclusive.clone().expect("a cut run is inconclusive");
    assert!(reason.contains("50"), "{reason}");
    let c = Counterexample::new(Target::Termination, s, &r, None);
    let mut out = Vec::new();
    experiments::report::print_counterexample(&c, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("termination inconclusive on this run"), "{text}");
    assert!(!text.contains("holds"), "{text}");
    // A run with room to finish is judged as usual.
    let finished = replay(&Scenario::new("2pc", 3, 5, 1), Target::Termination).unwrap();
    assert_eq!(finished.inconclusive, None);
}
