//! A finished run's history read from its report ([`History::from_report`]: reading the
//! report ahead, keeping prepared deltas only where a total is conserved, sagas' facts in
//! side tables) judges exactly as the same facts pushed one at a time into an empty history,
//! which keeps everything. Runs long enough that the read-ahead reaches past what is read,
//! with and without the bank workload, with a crash, and a saga run.

use checkers::{BankTotals, History, Property, Verdicts, check, check_history};
use protocols::workload::Workload;
use protocols::{Happened, Outcome, RunReport, Scenario};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

fn pushed_one_at_a_time(r: &RunReport) -> History {
    let mut h = History::new();
    for f in r.facts() {
        h.push(&f.to_fact());
    }
    h
}

fn both_ways(s: &Scenario) -> (Verdicts, Verdicts) {
    judged_both_ways(s, &protocols::run(s).unwrap().report)
}

fn judged_both_ways(s: &Scenario, r: &RunReport) -> (Verdicts, Verdicts) {
    let n = r.observations.len();
    assert!(n > 1000, "past every read-ahead distance: {n} observations");
    let pushed = check_history(&pushed_one_at_a_time(r), BankTotals::of(r), &s.plan);
    (check(r, &s.plan), pushed)
}

/// A participant crashes at its 3rd prepare and recovers: in-doubt spans, locks and a
/// failure among many transactions.
fn with_crash(mut s: Scenario) -> Scenario {
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 3 },
        Action::Crash { node: NodeId(0), recover_after_us: Some(500_000) },
    );
    s
}

#[test]
fn spread_and_bank_runs_judge_alike_read_from_the_report_or_pushed() {
    for workload in [Workload::default(), Workload::bank()] {
        for s in [Scenario::new("2pc", 4, 200, 3), with_crash(Scenario::new("2pc", 4, 200, 3))] {
            let s = Scenario { workload, ..s };
            let (read, pushed) = both_ways(&s);
            assert_eq!(read, pushed, "{workload:?}, {} faults", s.plan.faults.len());
        }
    }
}

/// Conservation reads prepared deltas only for transactions it cannot judge: a participant
/// whose disk lost a commit leaves its transaction unjudged, and the money the others
/// applied is counted from their deltas (the disks still hold it: the doctored facts say
/// otherwise, so conservation reports money created or destroyed).
#[test]
fn a_bank_run_with_a_lost_decision_judges_alike_read_from_the_report_or_pushed() {
    let s = Scenario {
        workload: Workload::bank(),
        liveness_bound_us: None,
        ..Scenario::new("2pc", 4, 200, 3)
    };
    let mut r = protocols::run(&s).unwrap().report;
    let lost = r.events.iter().position(|e| {
        matches!(e.fact.what, Happened::Logged { outcome: Outcome::Commit, .. })
            && e.fact.node != NodeId(0)
    });
    r.events.remove(lost.expect("a participant logged a commit"));
    let (read, pushed) = judged_both_ways(&s, &r);
    assert!(read.get(Property::Conservation).is_violated(), "the lost commit is seen");
    assert_eq!(read, pushed);
}

#[test]
fn a_saga_run_judges_alike_read_from_the_report_or_pushed() {
    let mut s = Scenario::new("saga-orchestration", 3, 200, 1);
    s.workload = Workload::bank();
    let (read, pushed) = both_ways(&s);
    assert_eq!(read, pushed);
}

#[test]
fn a_broken_variant_is_still_caught_read_from_the_report() {
    let mut s = Scenario::new("broken-2pc-unilateral-abort", 3, 200, 6);
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "decision-logged".into(), nth: 5 },
        Action::Crash { node: NodeId(0), recover_after_us: Some(2_000_000) },
    );
    let (read, pushed) = both_ways(&s);
    assert!(read.violated().count() > 0, "the broken variant is found");
    assert_eq!(read, pushed);
}
