//! ZAB judged by the consensus checkers and by its own (primary order, integrity, total
//! order): fault-free and under leader crashes it keeps every property; handcrafted
//! histories violate each of ZAB's own properties; the variant whose new leader skips
//! synchronization delivers an old epoch's transaction where the others deliver the new
//! leader's, and state-machine safety says so.

mod replicated_log;

use checkers::{Property, Verdict};
use protocols::{Happened, Observation, RunFact, Scenario};
use replicated_log::{assert_all_hold, count, crash_the_leader, run};
use sim_core::{Action, FaultPlan, NodeId, Time, Trigger};

const ZAB: [Property; 9] = [
    Property::ElectionSafety,
    Property::StateMachineSafety,
    Property::Linearizability,
    Property::LogMatching,
    Property::LeaderCompleteness,
    Property::Termination,
    Property::PrimaryOrder,
    Property::Integrity,
    Property::TotalOrder,
];

#[test]
fn fault_free_zab_answers_every_operation_linearizably() {
    for seed in 1..=5 {
        let mut s = Scenario::new("zab", 3, 20, seed);
        s.max_in_flight = 4;
        let (r, v) = run(&s);
        assert_all_hold(&v, &ZAB, &format!("seed {seed}"));
        let returned = count(&r, |o| matches!(o, Observation::OpReturned { .. }));
        assert_eq!(returned, 20, "seed {seed}");
        assert_eq!(count(&r, |o| matches!(o, Observation::LeaderElected { .. })), 1);
        // Every replica delivered every operation, once: ZAB has no no-op entries.
        assert_eq!(count(&r, |o| matches!(o, Observation::Delivered { .. })), 3 * 20);
        assert_eq!(count(&r, |o| matches!(o, Observation::PrimaryBroadcast { .. })), 20);
    }
}

#[test]
fn zab_survives_leader_crashes_and_elects_a_new_leader() {
    for seed in 1..=5 {
        let mut s = Scenario::new("zab", 5, 30, seed);
        s.max_in_flight = 3;
        crash_the_leader(&mut s, "committed", 4, 300);
        let (r, v) = run(&s);
        assert_all_hold(&v, &ZAB, &format!("seed {seed}"));
        assert!(r.stats.crashes >= 1, "seed {seed}: a leader crashed");
        let epochs = count(&r, |o| matches!(o, Observation::LeaderElected { .. }));
        assert!(epochs >= 2, "seed {seed}: a new leader took over ({epochs} epochs)");
        assert_eq!(count(&r, |o| matches!(o, Observation::OpReturned { .. })), 30, "seed {seed}");
    }
}

/// The first leader (r2: equal histories, the highest id wins) crashes right after forcing
/// its first proposal, before sending it, and recovers `recover_ms` later, when r1 leads a
/// new epoch that committed the retried operation at the same position.
fn leader_crashes_after_proposing(protocol: &str, seed: u64, ops: u64) -> Scenario {
    let mut s = Scenario::new(protocol, 3, ops, seed);
    let node = NodeId(2);
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node, mark: "proposed".into(), nth: 1 },
        Action::Crash { node, recover_after_us: Some(1_000_000) },
    );
    s
}

#[test]
fn a_leader_that_skips_synchronization_lets_a_follower_deliver_an_old_epochs_transaction() {
    for seed in 1..=5 {
        let (_, v) = run(&leader_crashes_after_proposing("broken-zab-skip-sync", seed, 1));
        let Verdict::Violated { violations } = v.get(Property::StateMachineSafety) else {
            panic!("seed {seed}: r2 delivers its own <1,1> where the others deliver <2,1>")
        };
        assert!(violations[0].detail.starts_with("index 1:"), "{violations:?}");
        // ZAB itself synchronizes r2 with the new leader's history first: all hold.
        let (r, v) = run(&leader_crashes_after_proposing("zab", seed, 1));
        assert_all_hold(&v, &ZAB, &format!("zab, seed {seed}"));
        assert_eq!(r.stats.crashes, 1);
        assert!(count(&r, |o| matches!(o, Observation::LeaderElected { .. })) >= 2);
    }
}

#[test]
fn with_more_operations_the_skipped_synchronization_breaks_zabs_own_orders() {
    let (_, v) = run(&leader_crashes_after_proposing("broken-zab-skip-sync", 1, 4));
    for p in [Property::TotalOrder, Property::PrimaryOrder] {
        assert!(v.get(p).is_violated(), "{}: {:?}", p.name(), v.get(p));
    }
}

// --- Handcrafted histories ---------------------------------------------------------------

fn at(us: u64, node: u32, what: Happened) -> RunFact {
    RunFact { time: Time::from_us(us), node: NodeId(node), what }
}

fn broadcast(us: u64, node: u32, (epoch, counter): (u64, u64), op: u64) -> RunFact {
    at(us, node, Happened::Observed { obs: Observation::PrimaryBroadcast { epoch, counter, op } })
}

fn delivered(us: u64, node: u32, (epoch, counter): (u64, u64), op: u64) -> RunFact {
    at(us, node, Happened::Observed { obs: Observation::Delivered { epoch, counter, op } })
}

fn judge(facts: &[RunFact], p: Property) -> Verdict {
    let mut h = checkers::History::new();
    for f in facts {
        h.push(f);
    }
    checkers::check_one(&h, None, p)
}

fn violations(facts: &[RunFact], p: Property) -> Vec<checkers::Violation> {
    match judge(facts, p) {
        Verdict::Violated { violations } => violations,
        v => panic!("{} should be violated: {v:?}", p.name()),
    }
}

/// A correct history: r0 led epoch 1 (ops 1, 2), r1 epoch 2 (op 3); r2 crashed after
/// delivering op 1 and delivered everything again in its next life.
fn correct() -> Vec<RunFact> {
    vec![
        broadcast(1, 0, (1, 1), 1),
        broadcast(2, 0, (1, 2), 2),
        delivered(5, 0, (1, 1), 1),
        delivered(6, 2, (1, 1), 1),
        at(7, 2, Happened::Crashed),
        delivered(8, 0, (1, 2), 2),
        delivered(9, 1, (1, 1), 1),
        delivered(10, 1, (1, 2), 2),
        broadcast(20, 1, (2, 1), 3),
        delivered(25, 1, (2, 1), 3),
        at(30, 2, Happened::Recovered),
        delivered(31, 2, (1, 1), 1),
        delivered(32, 2, (1, 2), 2),
        delivered(33, 2, (2, 1), 3),
    ]
}

#[test]
fn a_correct_history_holds_every_zab_property() {
    for p in [Property::PrimaryOrder, Property::Integrity, Property::TotalOrder] {
        assert_eq!(judge(&correct(), p), Verdict::Holds, "{}", p.name());
    }
}

#[test]
fn a_transaction_nobody_broadcast_breaks_integrity() {
    let mut facts = correct();
    facts.push(delivered(40, 0, (2, 2), 4));
    let v = violations(&facts, Property::Integrity);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].detail.contains("no primary broadcast it"), "{v:?}");
    // Delivered with another operation than was broadcast under its zxid.
    let mut facts = correct();
    facts.push(delivered(40, 0, (2, 1), 9));
    let v = violations(&facts, Property::Integrity);
    assert!(v[0].detail.contains("broadcast with op 3"), "{v:?}");
}

#[test]
fn two_processes_delivering_in_different_orders_break_total_order() {
    // r0 delivered <1,1> then <2,1>; r1 delivers <2,1> without <1,1> before it.
    let facts = [
        broadcast(1, 0, (1, 1), 1),
        broadcast(2, 1, (2, 1), 2),
        delivered(3, 0, (1, 1), 1),
        delivered(4, 0, (2, 1), 2),
        delivered(5, 1, (2, 1), 2),
    ];
    let v = violations(&facts, Property::TotalOrder);
    assert_eq!(v[0].nodes, [NodeId(0), NodeId(1)], "{v:?}");
    // r1 delivering only <1,1> is a prefix: fine.
    let prefix = [facts[0].clone(), facts[1].clone(), facts[2].clone(), facts[3].clone()];
    assert_eq!(judge(&prefix, Property::TotalOrder), Verdict::Holds);
}

#[test]
fn a_primarys_later_broadcast_delivered_first_breaks_local_primary_order() {
    // r0 broadcast <1,1> then <1,2>; r1, alone, delivers <1,2> without <1,1>.
    let facts =
        [broadcast(1, 0, (1, 1), 1), broadcast(2, 0, (1, 2), 2), delivered(5, 1, (1, 2), 2)];
    let v = violations(&facts, Property::PrimaryOrder);
    assert!(v[0].detail.starts_with("local:"), "{v:?}");
    // Total order needs two processes to disagree: one process alone never breaks it.
    assert_eq!(judge(&facts, Property::TotalOrder), Verdict::Holds);
}

#[test]
fn an_older_primarys_broadcast_delivered_after_a_newer_ones_breaks_global_primary_order() {
    let facts = [
        broadcast(1, 0, (1, 1), 1),
        broadcast(2, 1, (2, 1), 2),
        delivered(5, 2, (2, 1), 2),
        delivered(6, 2, (1, 1), 1),
    ];
    let v = violations(&facts, Property::PrimaryOrder);
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].detail.starts_with("global:"), "{v:?}");
}

#[test]
fn zabs_own_properties_do_not_apply_to_raft() {
    let (_, v) = run(&Scenario::new("raft", 3, 5, 1));
    for p in [Property::PrimaryOrder, Property::Integrity, Property::TotalOrder] {
        assert!(matches!(v.get(p), Verdict::NotApplicable { .. }), "{}", p.name());
    }
}

/// The plans on which the search once found ZAB's termination failing, with their run seeds
/// (3 replicas, 3 operations): a follower that rejoined an established leader never got the
/// commit point (fixed: the leader counts its ACK-LD towards commitment), and one that had
/// accepted an epoch from a failed candidate was shut out of that epoch (fixed: it follows
/// the epoch's established leader).
#[test]
fn the_plans_that_once_stalled_zab_now_terminate() {
    let plans = [
        (
            2283825610167569128_u64,
            r#"{"faults":[{"trigger":{"on":"sends","node":0,"count":1},"action":{"do":"crash","node":0,"recover_after_us":null}},
                {"trigger":{"on":"mark","node":2,"mark":"proposed","nth":1},"action":{"do":"partition","groups":[[1]]}}]}"#,
            1,
        ),
        (
            1280920444326198012,
            r#"{"faults":[{"trigger":{"on":"time","at_us":0},"action":{"do":"set_drop","links":{"kind":"all"},"prob":0.259}}]}"#,
            3,
        ),
        (
            18298436953344193755,
            r#"{"faults":[{"trigger":{"on":"sends","node":0,"count":23},"action":{"do":"crash","node":0,"recover_after_us":25289}},
                {"trigger":{"on":"mark","node":0,"mark":"acked","nth":1},"action":{"do":"set_drop","links":{"kind":"all"},"prob":0.477}}]}"#,
            3,
        ),
    ];
    for (seed, plan, ops) in plans {
        let mut s = Scenario::new("zab", 3, ops, seed);
        s.plan = serde_json::from_str(plan).expect("a fault plan");
        let (r, v) = run(&s);
        assert_all_hold(&v, &ZAB, &format!("seed {seed}"));
        assert!(r.faults_fired.iter().all(|&f| f), "seed {seed}: every fault fired");
    }
}
