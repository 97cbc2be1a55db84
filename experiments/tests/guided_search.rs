//! The feedback-guided search (issue 16, and the search side of issue 15): cascades of
//! faults, each aimed at a point only the faults before it reach, are found with the
//! default budget and shrunk to a short plan of protocol points.
//!
//! Before the guided half, `check --protocol quorum-3pc --property quorum-non-blocking`
//! found Skeen's blocking for none of search seeds 1 to 9 in 10,000 cases (seed 10 after
//! 5,540); README has the table over seeds 1 to 13.

use checkers::Property;
use experiments::search::{Found, Outcome, SearchConfig, Target, search};
use sim_core::{FaultClass, Trigger};

/// `check`'s default fault classes for quorum-non-blocking.
fn cascades() -> Vec<FaultClass> {
    vec![FaultClass::Partition, FaultClass::Crash, FaultClass::Recover]
}

/// Skeen's blocking searched with search seed `seed` and `check`'s default budget.
fn skeen(seed: u64) -> Option<Found> {
    let mut cfg = SearchConfig::new("quorum-3pc", Target::QuorumNonBlocking, cascades());
    cfg.seed = seed;
    assert_eq!(cfg.cases, 10_000, "check's default budget");
    match search(&cfg, &|_| {}).unwrap() {
        Outcome::Found(f) => Some(*f),
        Outcome::NotFound { .. } => None,
    }
}

#[test]
fn the_default_search_finds_skeen_blocking_and_shrinks_it_to_a_short_cascade() {
    let found = skeen(1).expect("the default seed finds Skeen's blocking");
    assert_eq!(found.stats.cases_to_find, 6_546, "pinned: the search is deterministic");
    let s = &found.scenario;
    let ctx = serde_json::to_string_pretty(s).unwrap();
    // A cascade: more than one fault, each on a protocol point, at most --max-faults.
    assert!((2..=4).contains(&s.plan.faults.len()), "{ctx}");
    assert!(s.plan.faults.iter().all(|f| matches!(f.trigger, Trigger::Mark { .. })), "{ctx}");
    let r = protocols::catalog::run(s).unwrap().report;
    let v = checkers::check(&r, &s.plan);
    assert!(v.get(Property::QuorumNonBlocking).is_violated(), "the shrunk plan fails: {ctx}");
    // Every fault is needed: without any one of them the quorum does not stay blocked.
    for i in 0..s.plan.faults.len() {
        let mut fewer = s.clone();
        fewer.plan.faults.remove(i);
        let r = protocols::catalog::run(&fewer).unwrap().report;
        let v = checkers::check(&r, &fewer.plan);
        assert!(!v.get(Property::QuorumNonBlocking).is_violated(), "fault {i} is needed: {ctx}");
    }
    // E3PC does not block under the same plan.
    let mut e3pc = s.clone();
    e3pc.protocol = "e3pc".into();
    let r = protocols::catalog::run(&e3pc).unwrap().report;
    let v = checkers::check(&r, &e3pc.plan);
    assert_eq!(*v.get(Property::QuorumNonBlocking), checkers::Verdict::Holds, "{ctx}");
    // Same search, same result.
    assert_eq!(skeen(1).unwrap(), found);
}

#[test]
fn search_seeds_2_4_5_and_6_find_it_too_within_the_default_budget() {
    // Pinned honestly: seed 3 does not find it in 10,000 cases (README's table).
    let found: Vec<(u64, u64)> = [2, 4, 5, 6]
        .into_iter()
        .map(|seed| (seed, skeen(seed).map_or(0, |f| f.stats.cases_to_find)))
        .collect();
    assert_eq!(found, [(2, 2_736), (4, 6_602), (5, 6_342), (6, 3_523)]);
}
