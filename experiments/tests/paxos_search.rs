//! Paxos Commit through the search (`commitlab check`): it does not block with the leader
//! crashed at any of its marks and up to F acceptors crash-stopped, it stays atomic under
//! every fault class, and with F + 1 acceptors down the search finds blocking and shrinks it
//! to exactly those F + 1 crashes.

use experiments::search::counterexample::replay;
use experiments::search::runner::CrashLimit;
use experiments::search::{Outcome, SearchConfig, Target, search};
use sim_core::{Action, Fault, FaultClass, NodeId, Trigger};

mod common;
use common::{crash_stopped, holds};

#[test]
fn the_search_reaches_the_acceptors_and_passes_f_through() {
    let mut cfg = SearchConfig::new("paxos-commit", Target::NonBlocking, vec![FaultClass::Crash]);
    // 3 RMs (nodes 1..=3), the client (4), 2F + 1 = 3 acceptors after it.
    assert_eq!(cfg.acceptors(), [NodeId(5), NodeId(6), NodeId(7)]);
    cfg.family.insert("f".into(), 2.into());
    assert_eq!(cfg.scenario(1, None, Default::default()).family["f"], 2.into());
    assert_eq!(cfg.setting("f").unwrap(), 2);
    assert_eq!(cfg.acceptors().len(), 5);
    // Protocols without acceptors: nothing beyond the coordinator and the participants.
    assert!(SearchConfig::new("2pc", Target::NonBlocking, vec![]).acceptors().is_empty());
}

#[test]
fn paxos_commit_does_not_block_with_the_leader_crashed_at_any_mark_and_f_acceptors_down() {
    // 4 leader marks × 5,000 generated plans = 20,000 plans. Each plan starts with the TM
    // (the ballot-0 leader, node 0) crash-stopped at one of its marks; the generated faults
    // are crash-stops of any node but the client, at most F = 1 of them acceptors.
    let leader_marks = protocols::catalog::lookup("paxos-commit").unwrap().coordinator_marks();
    assert_eq!(leader_marks.len(), 4);
    for (i, &mark) in leader_marks.iter().enumerate() {
        let mut cfg =
            SearchConfig::new("paxos-commit", Target::NonBlocking, vec![FaultClass::Crash]);
        cfg.cases = 5_000;
        cfg.seed = 100 + i as u64;
        cfg.crash_limits =
            vec![CrashLimit { nodes: cfg.acceptors(), max: cfg.setting("f").unwrap() as usize }];
        cfg.fixed_faults = vec![Fault {
            trigger: Trigger::Mark { node: NodeId(0), mark: mark.into(), nth: 1 },
            action: Action::Crash { node: NodeId(0), recover_after_us: None },
        }];
        holds(&cfg, &format!("non-blocking, leader crashed at {mark}"));
        // Not vacuous: the leader does reach `mark` (a fault-free run emits it), and the same
        // space with one more acceptor crash allowed finds blocking.
        let marks = experiments::search::runner::discover_marks(&cfg).unwrap();
        assert!(marks.contains(&(NodeId(0), mark.to_string())), "{mark}: {marks:?}");
        cfg.crash_limits = vec![CrashLimit {
            nodes: cfg.acceptors(),
            max: cfg.setting("f").unwrap() as usize + 1,
        }];
        cfg.cases = 10_000;
        let Outcome::Found(found) = search(&cfg, &|_| {}).unwrap() else {
            panic!("{mark}: F + 1 acceptor crashes allowed, yet no blocking found")
        };
        let r = replay(&found.scenario, Target::NonBlocking).unwrap();
        assert!(!r.violations.is_empty(), "{mark}: the minimal case still blocks");
    }
}

#[test]
fn paxos_commit_keeps_atomicity_under_every_fault_class() {
    let mut cfg = SearchConfig::new("paxos-commit", Target::Atomicity, FaultClass::ALL.to_vec());
    cfg.cases = 20_000;
    holds(&cfg, "atomicity, every fault class");
}

#[test]
fn with_f_plus_one_acceptors_down_the_search_finds_blocking_and_shrinks_to_those_crashes() {
    for f in [1u32, 2] {
        let mut cfg =
            SearchConfig::new("paxos-commit", Target::NonBlocking, vec![FaultClass::Crash]);
        cfg.family.insert("f".into(), f.into());
        cfg.cases = 10_000;
        let acceptors = cfg.acceptors();
        let Outcome::Found(found) = search(&cfg, &|_| {}).unwrap() else {
            panic!("F = {f}: no blocking found")
        };
        let plan = &found.scenario.plan;
        let ctx = serde_json::to_string_pretty(&found.scenario).unwrap();
        assert_eq!(found.scenario.family["f"], f.into(), "{ctx}");
        assert_eq!(plan.faults.len(), f as usize + 1, "F + 1 faults: {ctx}");
        let mut crashed = crash_stopped(plan, &ctx);
        crashed.sort_unstable();
        crashed.dedup();
        assert_eq!(crashed.len(), f as usize + 1, "F + 1 distinct nodes: {ctx}");
        assert!(crashed.iter().all(|n| acceptors.contains(n)), "all acceptors: {ctx}");
        // The minimal case still blocks: operational RMs wait on the crashed acceptors.
        let r = replay(&found.scenario, Target::NonBlocking).unwrap();
        assert!(!r.violations.is_empty(), "{ctx}");
        for v in &r.violations {
            let down = &v.waiting_on.as_ref().expect("what it waits on").down;
            assert!(crashed.iter().all(|a| down.contains(a)), "{v:?}");
            assert!(v.nodes.iter().all(|n| (1..=cfg.participants).contains(&n.0)), "{v:?}");
        }
    }
}
