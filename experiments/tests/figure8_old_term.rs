//! Figure 8 of the Raft paper, deterministic (`scenarios/consensus/figure8-old-term.toml`):
//! `broken-raft-commit-old-term`, which commits an older term's entry by counting its
//! replicas, applies two different entries at index 1; Raft as the paper states it holds
//! every property under the same file.

use std::path::Path;

use checkers::{Property, Verdict, Verdicts};
use experiments::run::flags::{check_plan_marks, load_scenario};
use protocols::RunReport;

fn run(protocol: &str) -> (RunReport, Verdicts) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/consensus/figure8-old-term.toml");
    let mut scenario = load_scenario(&path).expect("the scenario file parses");
    scenario.protocol = protocol.to_string();
    let spec = protocols::catalog::lookup(protocol).unwrap();
    check_plan_marks(&scenario.plan, &spec.roles(&scenario).unwrap(), spec).expect("marks exist");
    let report = spec.run(&scenario).expect("a valid scenario").report;
    let verdicts = checkers::check(&report, &scenario.plan);
    (report, verdicts)
}

#[test]
fn the_broken_leader_commits_an_old_term_entry_that_is_then_overwritten() {
    let (report, verdicts) = run("broken-raft-commit-old-term");
    assert!(report.faults_fired.iter().all(|f| *f), "every step of the file happened");
    let Verdict::Violated { violations } = verdicts.get(Property::StateMachineSafety) else {
        panic!("state-machine-safety: {:?}", verdicts.get(Property::StateMachineSafety))
    };
    assert!(violations.iter().any(|v| v.detail.starts_with("index 1:")), "{violations:?}");
    // The later leader was elected without the committed entry.
    assert!(matches!(verdicts.get(Property::LeaderCompleteness), Verdict::Violated { .. }));
    assert_eq!(verdicts.get(Property::ElectionSafety), &Verdict::Holds);
}

#[test]
fn raft_holds_every_property_under_the_same_file() {
    let (_, verdicts) = run("raft");
    for p in Property::ALL {
        let v = verdicts.get(p);
        assert!(matches!(v, Verdict::Holds | Verdict::NotApplicable { .. }), "{}: {v:?}", p.name());
    }
    assert_eq!(verdicts.get(Property::StateMachineSafety), &Verdict::Holds);
}

/// The guided search finds Figure 8 from random plans: three leader changes in one order,
/// each cut made right after a mark the previous cut provoked. It needs partitions and room
/// for four faults (`check --faults partition --max-faults 6`); the minimal plan is all
/// partitions, each at a mark.
#[test]
fn check_finds_the_old_term_commit_and_shrinks_it_to_a_cascade_of_partitions() {
    use experiments::search::{Outcome, SearchConfig, Target, search};
    use sim_core::{Action, FaultClass, Trigger};
    let target = Target::StateMachineSafety;
    let mut cfg =
        SearchConfig::new("broken-raft-commit-old-term", target, vec![FaultClass::Partition]);
    cfg.max_faults = 6;
    cfg.cases = 10_000;
    let Outcome::Found(f) = search(&cfg, &|_| {}).unwrap() else {
        panic!("no counterexample in 10,000 cases")
    };
    // The search is deterministic: pinned (seed 1).
    assert_eq!(f.stats.cases_to_find, 1615, "{:?}", f.stats);
    let faults = &f.scenario.plan.faults;
    assert!((3..=4).contains(&faults.len()), "a cascade of 3 or 4 cuts: {faults:?}");
    assert!(
        faults.iter().all(|x| matches!(x.action, Action::Partition { .. } | Action::Heal)),
        "{faults:?}"
    );
    assert!(faults.iter().any(|x| matches!(x.trigger, Trigger::Mark { .. })), "{faults:?}");
    let r = experiments::search::counterexample::replay(&f.scenario, target).unwrap();
    assert!(r.violations.iter().any(|v| v.property == Property::StateMachineSafety));
    // The correct protocol holds under the same plan.
    let mut fixed = f.scenario.clone();
    fixed.protocol = "raft".into();
    let r = experiments::search::counterexample::replay(&fixed, target).unwrap();
    assert!(r.violations.is_empty(), "raft holds under the same plan: {:?}", r.violations);
}
