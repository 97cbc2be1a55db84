//! Two-phase commit over consensus with replicated participants (`participant_replicas` = 3,
//! F = 1): every party a group of three. With at most one member of each group crashed
//! (the coordinator group and each participant group: one crash limit per group) nobody
//! blocks, including with a participant's leader crashed at each of its 2PC marks; with two
//! members of one participant group crashed, the search finds blocking and shrinks it to
//! exactly those two crashes; atomicity holds under every fault class; R = 1 is the family
//! as it was. The 20,000-plan figures of the README are the release CLI's; the suite runs
//! fewer cases, as `replicated_2pc_search.rs` does.

use experiments::search::counterexample::replay;
use experiments::search::runner::{CrashLimit, discover_marks};
use experiments::search::{Outcome, SearchConfig, Target, search};
use protocols::{Observation, Outcome as TxnOutcome, Scenario};
use sim_core::{Action, Fault, FaultClass, NodeId, Trigger};

mod common;
use common::{crash_stopped, holds};

const VARIANTS: [&str; 2] = ["2pc-raft", "2pc-multipaxos"];

/// A search of `protocol` with participant groups of three.
fn replicated(protocol: &str, target: Target, classes: Vec<FaultClass>) -> SearchConfig {
    let mut cfg = SearchConfig::new(protocol, target, classes);
    cfg.family.insert("participant_replicas".into(), 3.into());
    cfg
}

/// Every replicated group of the search's cluster, coordinator group first.
fn groups(cfg: &SearchConfig) -> Vec<Vec<NodeId>> {
    cfg.roles().unwrap().groups
}

/// One crash limit per group: at most `max` of its members crashed.
fn per_group(cfg: &SearchConfig, max: usize) -> Vec<CrashLimit> {
    groups(cfg).into_iter().map(|nodes| CrashLimit { nodes, max }).collect()
}

#[test]
fn each_participant_is_a_group_of_three_after_the_coordinator_group() {
    let cfg = replicated("2pc-raft", Target::NonBlocking, vec![FaultClass::Crash]);
    // 3 participants (1..=3), the client (4), the 2F = 2 other coordinator members (5, 6),
    // then two replicas per participant.
    let g: Vec<Vec<u32>> = groups(&cfg).iter().map(|g| g.iter().map(|n| n.0).collect()).collect();
    assert_eq!(g, [vec![0, 5, 6], vec![1, 7, 8], vec![2, 9, 10], vec![3, 11, 12]]);
    assert_eq!(cfg.nodes_of("participant-replica").len(), 6);
    assert_eq!(cfg.nodes_of("participant"), [NodeId(1), NodeId(2), NodeId(3)]);
}

#[test]
fn a_fault_free_transaction_commits_at_every_member_of_every_group() {
    for protocol in VARIANTS {
        let s = Scenario::new(protocol, 3, 2, 1).with("participant_replicas", 3);
        let out = protocols::run(&s).unwrap();
        let r = &out.report;
        let learned: Vec<TxnOutcome> = r
            .observations
            .iter()
            .filter_map(|o| match o.obs {
                Observation::ClientLearned { outcome, .. } => Some(outcome),
                _ => None,
            })
            .collect();
        assert_eq!(learned, [TxnOutcome::Commit, TxnOutcome::Commit], "{protocol}");
        // Every member of every participant group applied both decisions to its disk.
        for g in &groups(&replicated(protocol, Target::NonBlocking, vec![]))[1..] {
            for n in g {
                let disk = &r.end.disks[n.index()];
                assert_eq!(disk.decisions.len(), 2, "{protocol}: {n}: {disk:?}");
                assert!(disk.decisions.iter().all(|d| d.1 == TxnOutcome::Commit), "{disk:?}");
            }
        }
    }
}

#[test]
fn with_one_member_of_each_group_down_and_a_participant_leader_crashed_at_any_mark_nobody_blocks() {
    for (v, protocol) in VARIANTS.into_iter().enumerate() {
        let cfg = replicated(protocol, Target::NonBlocking, vec![FaultClass::Crash]);
        let marks = protocols::catalog::lookup(protocol).unwrap().crash_points("participant");
        assert_eq!(marks, ["prepared-logged", "voted-yes", "decided"], "{protocol}");
        let reached = discover_marks(&cfg).unwrap();
        for (i, &mark) in marks.iter().enumerate() {
            // Not vacuous: participant 1's leader (its own node) reaches `mark` fault-free.
            assert!(reached.contains(&(NodeId(1), mark.to_string())), "{mark}: {reached:?}");
            let mut cfg = cfg.clone();
            cfg.cases = 150;
            cfg.seed = 200 + (10 * v + i) as u64;
            // The leader's crash is its group's one: the generated plans crash no other member
            // of it, and at most one of every other group.
            cfg.crash_limits = per_group(&cfg, 1);
            cfg.crash_limits[1].max = 0;
            cfg.crash_limits[1].nodes.retain(|&n| n != NodeId(1));
            cfg.fixed_faults = vec![Fault {
                trigger: Trigger::Mark { node: NodeId(1), mark: mark.into(), nth: 1 },
                action: Action::Crash { node: NodeId(1), recover_after_us: None },
            }];
            holds(
                &cfg,
                &format!("{protocol}: non-blocking, participant 1's leader crashed at {mark}"),
            );
        }
        // Any member of each group, crashed anywhere.
        let mut cfg = cfg.clone();
        cfg.cases = 1_000;
        cfg.seed = 17 + v as u64;
        cfg.crash_limits = per_group(&cfg, 1);
        holds(&cfg, &format!("{protocol}: non-blocking, at most one member of each group crashed"));
    }
}

#[test]
fn with_two_members_of_one_participant_group_down_the_search_finds_blocking_and_shrinks_to_them() {
    for protocol in VARIANTS {
        let mut cfg = replicated(protocol, Target::NonBlocking, vec![FaultClass::Crash]);
        cfg.cases = 10_000;
        // Only participant 1's group loses members (up to two of its three): every other
        // group is whole.
        cfg.crash_limits = per_group(&cfg, 0);
        cfg.crash_limits[1].max = 2;
        let Outcome::Found(found) = search(&cfg, &|_| {}).unwrap() else {
            panic!("{protocol}: no blocking found")
        };
        let plan = &found.scenario.plan;
        let ctx = serde_json::to_string_pretty(&found.scenario).unwrap();
        let crashed = crash_stopped(plan, &ctx);
        assert_eq!(crashed.len(), 2, "exactly two crashes: {ctx}");
        let group = groups(&cfg).into_iter().find(|g| g.contains(&crashed[0])).unwrap();
        assert!(group[0].0 >= 1 && crashed.iter().all(|n| group.contains(n)), "{ctx}");
        assert_ne!(crashed[0], crashed[1], "two members: {ctx}");
        // The one member left up is the blocked one: in doubt, its group without a majority.
        let r = replay(&found.scenario, Target::NonBlocking).unwrap();
        assert!(!r.violations.is_empty(), "{ctx}");
        for v in &r.violations {
            assert!(v.nodes.iter().all(|n| group.contains(n) && !crashed.contains(n)), "{v:?}");
        }
    }
}

#[test]
fn atomicity_holds_under_every_fault_class() {
    for (v, protocol) in VARIANTS.into_iter().enumerate() {
        let mut cfg = replicated(protocol, Target::Atomicity, FaultClass::ALL.to_vec());
        cfg.cases = 1_000;
        cfg.seed = 31 + v as u64;
        holds(&cfg, &format!("{protocol}: atomicity, every fault class"));
    }
}

#[test]
fn one_replica_per_participant_is_the_family_as_it_was() {
    // Trace hashes of the family measured before participant groups existed (commit
    // f960445): fault-free, the leader crashed after the votes, Gray & Lamport's shape
    // co-located; 3 transactions each.
    let cases: [(&str, &str, u64); 6] = [
        ("2pc-raft", "", 12836435672720821762),
        ("2pc-raft", "coord@all-votes-in", 4392545587471798358),
        ("2pc-raft", "gl", 8699683044558102926),
        ("2pc-multipaxos", "", 2305182887109919564),
        ("2pc-multipaxos", "coord@all-votes-in", 6012255475242534195),
        ("2pc-multipaxos", "gl", 4274572542693971520),
    ];
    for (protocol, what, hash) in cases {
        let mut s = Scenario::new(protocol, 3, 3, 5);
        match what {
            "gl" => s = s.with("gray_lamport_shape", true).with("colocated", true),
            "" => {}
            _ => {
                s.plan = sim_core::FaultPlan::new(vec![Fault {
                    trigger: Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
                    action: Action::Crash { node: NodeId(0), recover_after_us: None },
                }])
            }
        }
        let plain = protocols::run(&s).unwrap();
        let one = protocols::run(&s.clone().with("participant_replicas", 1)).unwrap();
        assert_eq!(plain.report.trace_hash, hash, "{protocol} {what}");
        assert_eq!(one.report.trace_hash, hash, "{protocol} {what}: participant_replicas = 1");
        assert_eq!(plain.report.roles.nodes(), 7, "{protocol}: no participant replicas");
    }
}

#[test]
fn a_bad_group_size_is_refused_with_what_is_wrong() {
    let error = |s: Scenario| match protocols::run(&s) {
        Ok(_) => panic!("{s:?} ran"),
        Err(e) => e.to_string(),
    };
    let group = |r: i64| Scenario::new("2pc-raft", 3, 1, 1).with("participant_replicas", r);
    let e = error(group(2));
    assert!(e.contains("participant_replicas") && e.contains("1 or 3"), "{e}");
    let e = error(group(9));
    assert!(e.contains("participant_replicas") && e.contains("1..=7"), "{e}");
    let e = error(Scenario::new("2pc-raft", 17, 1, 1).with("participant_replicas", 3));
    assert!(e.contains("at most 16"), "{e}");
}
