//! Multi-Paxos judged by the consensus checkers: fault-free and under leader crashes it keeps
//! every property; the variant whose new leader ignores phase 1b reports overwrites a chosen
//! value, and state-machine safety says so.

mod replicated_log;

use checkers::{Property, Verdict};
use protocols::{Observation, Scenario};
use replicated_log::{assert_all_hold, count, crash_the_leader, run};
use sim_core::{Action, FaultPlan, NodeId, Trigger};

const CONSENSUS: [Property; 4] = [
    Property::ElectionSafety,
    Property::StateMachineSafety,
    Property::Linearizability,
    Property::Termination,
];

#[test]
fn fault_free_multi_paxos_answers_every_operation_linearizably() {
    for seed in 1..=5 {
        let mut s = Scenario::new("multi-paxos", 3, 20, seed);
        s.max_in_flight = 4;
        let (r, v) = run(&s);
        assert_all_hold(&v, &CONSENSUS, &format!("seed {seed}"));
        let invoked = count(&r, |o| matches!(o, Observation::OpInvoked { .. }));
        let returned = count(&r, |o| matches!(o, Observation::OpReturned { .. }));
        assert_eq!((invoked, returned), (20, 20), "seed {seed}");
        assert_eq!(count(&r, |o| matches!(o, Observation::LeaderElected { .. })), 1);
        // Every replica applied every slot: 20 operations (a first leader has no gap to fill).
        assert_eq!(count(&r, |o| matches!(o, Observation::EntryApplied { .. })), 3 * 20);
    }
}

#[test]
fn multi_paxos_survives_leader_crashes_and_elects_a_new_leader() {
    for seed in 1..=5 {
        let mut s = Scenario::new("multi-paxos", 5, 30, seed);
        s.max_in_flight = 3;
        crash_the_leader(&mut s, "chosen", 4, 300);
        let (r, v) = run(&s);
        assert_all_hold(&v, &CONSENSUS, &format!("seed {seed}"));
        assert!(r.stats.crashes >= 1, "seed {seed}: a leader crashed");
        let ballots = count(&r, |o| matches!(o, Observation::LeaderElected { .. }));
        assert!(ballots >= 2, "seed {seed}: a new leader took over ({ballots} elections)");
        assert_eq!(count(&r, |o| matches!(o, Observation::OpReturned { .. })), 30, "seed {seed}");
    }
}

/// r2 cut off from the start, alone climbing ballots, rejoining after `heal_ms`: its next
/// phase 1 outbids the leader that chose slot 1 meanwhile.
fn isolate_r2_then_heal(protocol: &str, seed: u64, heal_ms: u64) -> Scenario {
    let mut s = Scenario::new(protocol, 3, 1, seed);
    s.plan = FaultPlan::none()
        .with(Trigger::Time { at_us: 0 }, Action::Partition { groups: vec![vec![NodeId(2)]] })
        .with(Trigger::Time { at_us: heal_ms * 1000 }, Action::Heal);
    s
}

#[test]
fn a_leader_that_ignores_phase_1b_reports_overwrites_a_chosen_value() {
    let mut caught = 0;
    for seed in 1..=10 {
        let (_, v) = run(&isolate_r2_then_heal("broken-multipaxos-ignores-accepted", seed, 5000));
        if let Verdict::Violated { violations } = v.get(Property::StateMachineSafety) {
            // Slot 1 holds the client's operation at one replica, r2's no-op at another.
            assert!(violations[0].detail.starts_with("index 1:"), "{violations:?}");
            caught += 1;
        }
        // Multi-Paxos itself re-proposes the reported value: every property holds.
        let (r, v) = run(&isolate_r2_then_heal("multi-paxos", seed, 5000));
        assert_all_hold(&v, &CONSENSUS, &format!("multi-paxos, seed {seed}"));
        assert!(count(&r, |o| matches!(o, Observation::LeaderElected { .. })) >= 2);
    }
    assert!(caught > 0, "no seed let r2 overwrite slot 1");
    eprintln!("caught in {caught} of 10 seeds");
}
