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
