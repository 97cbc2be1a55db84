//! Two-phase commit over consensus (`2pc-raft`, `2pc-multipaxos`) through the search
//! (`commitlab check`): with F = 1 it does not block with the leader crashed at any of its
//! marks and at most F coordinator members crashed in all; with F + 1 members down the
//! search finds blocking and shrinks it to exactly those F + 1 crashes; it stays atomic under
//! every fault class. The 20,000-plan figures of the README are the release CLI's; the suite
//! runs fewer cases, as `paxos_search.rs` does.

use experiments::search::counterexample::replay;
use experiments::search::runner::CrashLimit;
use experiments::search::{Outcome, SearchConfig, Target, search};
use sim_core::{Action, Fault, FaultClass, NodeId, Trigger};

const VARIANTS: [&str; 2] = ["2pc-raft", "2pc-multipaxos"];

/// The coordinator group: node 0 and the 2F coordinator replicas.
fn members(cfg: &SearchConfig) -> Vec<NodeId> {
    let mut m = cfg.nodes_of("coordinator");
    m.extend(cfg.nodes_of("coordinator-replica"));
    m
}

mod common;
use common::{crash_stopped, holds};

#[test]
fn the_group_is_node_0_and_2f_replicas() {
    let cfg = SearchConfig::new("2pc-raft", Target::NonBlocking, vec![FaultClass::Crash]);
    // 3 participants (1..=3), the client (4), then the 2F = 2 other members.
    assert_eq!(members(&cfg), [NodeId(0), NodeId(5), NodeId(6)]);
    let mut cfg2 = cfg.clone();
    cfg2.family.insert("f".into(), 2.into());
    assert_eq!(members(&cfg2).len(), 5);
}

#[test]
fn with_f_members_down_and_the_leader_crashed_at_any_mark_nobody_blocks() {
    for (v, protocol) in VARIANTS.into_iter().enumerate() {
        let marks = protocols::catalog::lookup(protocol).unwrap().coordinator_marks();
        assert_eq!(marks.len(), 6, "{protocol}: {marks:?}");
        for (i, &mark) in marks.iter().enumerate() {
            let mut cfg = SearchConfig::new(protocol, Target::NonBlocking, vec![FaultClass::Crash]);
            cfg.cases = 300;
            cfg.seed = 100 + (10 * v + i) as u64;
            let group = members(&cfg);
            let f = cfg.setting("f").unwrap() as usize;
            assert_eq!(f, 1);
            // The leader's crash is one of the F: the generated plans crash no other member.
            cfg.crash_limits = vec![CrashLimit { nodes: group[1..].to_vec(), max: f - 1 }];
            cfg.fixed_faults = vec![Fault {
                trigger: Trigger::Mark { node: NodeId(0), mark: mark.into(), nth: 1 },
                action: Action::Crash { node: NodeId(0), recover_after_us: None },
            }];
            holds(&cfg, &format!("{protocol}: non-blocking, leader crashed at {mark}"));
            // Not vacuous: the leader reaches `mark` fault-free.
            let reached = experiments::search::runner::discover_marks(&cfg).unwrap();
            assert!(reached.contains(&(NodeId(0), mark.to_string())), "{mark}: {reached:?}");
        }
        // Any F members (the leader among them or not), crashed anywhere.
        let mut cfg = SearchConfig::new(protocol, Target::NonBlocking, vec![FaultClass::Crash]);
        cfg.cases = 2_000;
        cfg.seed = 7 + v as u64;
        let f = cfg.setting("f").unwrap() as usize;
        cfg.crash_limits = vec![CrashLimit { nodes: members(&cfg), max: f }];
        holds(&cfg, &format!("{protocol}: non-blocking, at most F members crashed"));
    }
}

#[test]
fn with_f_plus_one_members_down_the_search_finds_blocking_and_shrinks_to_those_crashes() {
    for protocol in VARIANTS {
        let mut cfg = SearchConfig::new(protocol, Target::NonBlocking, vec![FaultClass::Crash]);
        cfg.cases = 10_000;
        let group = members(&cfg);
        let f = cfg.setting("f").unwrap() as usize;
        let Outcome::Found(found) = search(&cfg, &|_| {}).unwrap() else {
            panic!("{protocol}: no blocking found")
        };
        let plan = &found.scenario.plan;
        let ctx = serde_json::to_string_pretty(&found.scenario).unwrap();
        assert_eq!(plan.faults.len(), f + 1, "F + 1 faults: {ctx}");
        let mut crashed = crash_stopped(plan, &ctx);
        crashed.sort_unstable();
        crashed.dedup();
        assert_eq!(crashed.len(), f + 1, "F + 1 distinct nodes: {ctx}");
        assert!(crashed.iter().all(|n| group.contains(n)), "all coordinator members: {ctx}");
        let r = replay(&found.scenario, Target::NonBlocking).unwrap();
        assert!(!r.violations.is_empty(), "{ctx}");
        for v in &r.violations {
            assert!(v.nodes.iter().all(|n| (1..=cfg.participants).contains(&n.0)), "{v:?}");
        }
    }
}

#[test]
fn atomicity_holds_under_every_fault_class() {
    for (v, protocol) in VARIANTS.into_iter().enumerate() {
        let mut cfg = SearchConfig::new(protocol, Target::Atomicity, FaultClass::ALL.to_vec());
        cfg.cases = 2_000;
        cfg.seed = 1 + v as u64;
        holds(&cfg, &format!("{protocol}: atomicity, every fault class"));
    }
}
