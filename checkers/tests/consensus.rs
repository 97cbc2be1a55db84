//! Raft judged by the consensus checkers: fault-free and under leader crashes it keeps every
//! property; the volatile-vote variant elects two leaders in one term, and election safety
//! says so.

mod replicated_log;

use checkers::{Property, Verdict, check};
use protocols::{Observation, Scenario};
use replicated_log::{assert_all_hold, count, crash_the_leader, run};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

const CONSENSUS: [Property; 6] = [
    Property::ElectionSafety,
    Property::StateMachineSafety,
    Property::Linearizability,
    Property::LogMatching,
    Property::LeaderCompleteness,
    Property::Termination,
];

#[test]
fn fault_free_raft_answers_every_operation_linearizably() {
    for seed in 1..=5 {
        let mut s = Scenario::new("raft", 3, 20, seed);
        s.max_in_flight = 4;
        let (r, v) = run(&s);
        assert_all_hold(&v, &CONSENSUS, &format!("seed {seed}"));
        let invoked = count(&r, |o| matches!(o, Observation::OpInvoked { .. }));
        let returned = count(&r, |o| matches!(o, Observation::OpReturned { .. }));
        assert_eq!((invoked, returned), (20, 20), "seed {seed}");
        assert_eq!(count(&r, |o| matches!(o, Observation::LeaderElected { .. })), 1);
        // Every replica applied every entry: 20 operations and the leader's no-op, 3 times.
        assert_eq!(count(&r, |o| matches!(o, Observation::EntryApplied { .. })), 3 * 21);
        // The commit properties say nothing about a replicated log.
        assert!(matches!(v.get(Property::Agreement), Verdict::NotApplicable { .. }));
    }
}

#[test]
fn raft_survives_leader_crashes_and_elects_a_new_leader() {
    for seed in 1..=5 {
        let mut s = Scenario::new("raft", 5, 30, seed);
        s.max_in_flight = 3;
        crash_the_leader(&mut s, "committed", 4, 300);
        let (r, v) = run(&s);
        assert_all_hold(&v, &CONSENSUS, &format!("seed {seed}"));
        assert!(r.stats.crashes >= 1, "seed {seed}: a leader crashed");
        let terms = count(&r, |o| matches!(o, Observation::LeaderElected { .. }));
        assert!(terms >= 2, "seed {seed}: a new leader took over ({terms} elections)");
        assert_eq!(count(&r, |o| matches!(o, Observation::OpReturned { .. })), 30, "seed {seed}");
    }
}

#[test]
fn a_replica_that_forgets_its_vote_elects_two_leaders_in_one_term() {
    // Found by running `r2@vote-granted+2` over seeds: r2 votes for one candidate, crashes
    // right after its vote went out, comes back 2 ms later with no memory of it, and votes
    // for the other candidate of the same term.
    let mut broken = Scenario::new("broken-raft-volatile-vote", 3, 2, 11);
    let node = NodeId(2);
    broken.plan = FaultPlan::none().with(
        Trigger::Mark { node, mark: "vote-granted".into(), nth: 1 },
        Action::Crash { node, recover_after_us: Some(2_000) },
    );
    let (_, v) = run(&broken);
    let Verdict::Violated { violations } = v.get(Property::ElectionSafety) else {
        panic!("two leaders in a term must be caught: {:?}", v.get(Property::ElectionSafety))
    };
    assert_eq!(violations[0].nodes.len(), 2, "{violations:?}");
    // Raft itself, under the very same plan, persists the vote and keeps one leader per term.
    let mut correct = broken.clone();
    correct.protocol = "raft".into();
    let (_, v) = run(&correct);
    assert_all_hold(&v, &CONSENSUS, "raft under the same plan");
}

#[test]
fn consensus_facts_are_judged_as_they_grow() {
    // The history judges the same whether fed at once or one fact at a time.
    let mut s = Scenario::new("raft", 3, 10, 3);
    crash_the_leader(&mut s, "committed", 2, 100);
    let r = protocols::run(&s).unwrap().report;
    let mut h = checkers::History::new();
    for f in r.facts() {
        h.push_ref(f);
    }
    let all = checkers::check_history(&h, None, &s.plan);
    assert_eq!(all.verdicts, check(&r, &s.plan).verdicts);
}

fn observed(us: u64, node: u32, obs: Observation) -> protocols::RunFact {
    protocols::RunFact {
        time: sim_core::Time::from_us(us),
        node: NodeId(node),
        what: protocols::Happened::Observed { obs },
    }
}

fn judge(facts: &[protocols::RunFact], p: Property) -> Verdict {
    let mut h = checkers::History::new();
    for f in facts {
        h.push(f);
    }
    checkers::check_one(&h, None, p)
}

#[test]
fn a_leader_elected_without_a_committed_entry_breaks_leader_completeness() {
    let log = |us, node, term, terms: &[u64]| {
        observed(us, node, Observation::LeaderLog { term, terms: terms.to_vec() })
    };
    let elected = |us, node, term| observed(us, node, Observation::LeaderElected { term });
    let applied = |us, node, index, term| {
        observed(us, node, Observation::EntryApplied { index, term, op: 0 })
    };
    // r2 led term 1 with an empty log, index 1 of term 1 was applied at 10 us: r0 led term 2
    // holding it, but r1 won term 3 without it.
    let facts = [
        elected(1, 2, 1),
        log(1, 2, 1, &[]),
        applied(10, 2, 1, 1),
        elected(20, 0, 2),
        log(20, 0, 2, &[1]),
        elected(30, 1, 3),
        log(30, 1, 3, &[]),
    ];
    let Verdict::Violated { violations } = judge(&facts, Property::LeaderCompleteness) else {
        panic!("r1 lacks a committed entry")
    };
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].nodes[0], NodeId(1));
    // Without r1's election, every leader holds what was committed before it.
    assert_eq!(judge(&facts[..5], Property::LeaderCompleteness), Verdict::Holds);
}

/// Raft's leader completeness binds leaders of higher terms only. A candidate whose votes
/// were delayed may win a lower term after a higher term committed an entry (the search
/// found it with `raft`: r2 won term 2 just after r0's term-3 no-op was applied); that
/// leader owes nothing to the later term, and a leader of a higher term still does.
#[test]
fn a_late_leader_of_a_lower_term_need_not_hold_a_later_terms_entry() {
    let log = |us, node, term, terms: &[u64]| {
        observed(us, node, Observation::LeaderLog { term, terms: terms.to_vec() })
    };
    let applied = |us, node, index, term| {
        observed(us, node, Observation::EntryApplied { index, term, op: 0 })
    };
    let facts = [
        log(1, 0, 1, &[]),
        applied(10, 0, 1, 1),
        log(20, 0, 3, &[1]),
        applied(30, 0, 2, 3),
        log(40, 2, 2, &[1]),
        log(50, 1, 4, &[1]),
    ];
    assert_eq!(judge(&facts[..5], Property::LeaderCompleteness), Verdict::Holds);
    let Verdict::Violated { violations } = judge(&facts, Property::LeaderCompleteness) else {
        panic!("r1 leads term 4 without index 2 of term 3")
    };
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].nodes[0], NodeId(1));
}

#[test]
fn two_logs_sharing_an_entry_but_not_its_prefix_break_log_matching() {
    let log = |us, node, term, terms: &[u64]| {
        observed(us, node, Observation::LeaderLog { term, terms: terms.to_vec() })
    };
    let elected = |us, node, term| observed(us, node, Observation::LeaderElected { term });
    let facts = [
        elected(1, 0, 3),
        log(1, 0, 3, &[1, 1, 2]),
        elected(2, 1, 4),
        log(2, 1, 4, &[1, 1]),
        elected(3, 2, 5),
        log(3, 2, 5, &[1, 3, 2]),
    ];
    // r0 and r2 both hold index 3 of term 2 but differ at index 2; r1 agrees with r0.
    let Verdict::Violated { violations } = judge(&facts, Property::LogMatching) else {
        panic!("index 3 of term 2 with different prefixes")
    };
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].nodes, [NodeId(0), NodeId(2)]);
    assert_eq!(judge(&facts[..4], Property::LogMatching), Verdict::Holds);
}
