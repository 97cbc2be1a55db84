//! 2PC blocks when the coordinator dies after every vote is in; the blocked verdict names
//! the coordinator as what the participants wait on. Recovery unblocks.

use checkers::{Property, Verdict, check};
use protocols::workload::Workload;
use protocols::{Scenario, TxnId};
use sim_core::{Action, FaultPlan, NodeId, Time, Trigger};

fn crash_at_all_votes_in(recover_after_us: Option<u64>) -> Scenario {
    let mut s = Scenario::new("2pc", 3, 1, 11);
    s.workload = Workload::bank();
    s.plan = FaultPlan::none().with(
        Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
        Action::Crash { node: NodeId(0), recover_after_us },
    );
    s
}

#[test]
fn coordinator_crash_after_all_votes_blocks_every_participant_on_the_coordinator() {
    let mut s = crash_at_all_votes_in(None);
    s.liveness_bound_us = None;
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    let blocked = v.get(Property::NonBlocking).violations();
    let nodes: Vec<NodeId> = blocked.iter().flat_map(|b| b.nodes.clone()).collect();
    let bank_participants: Vec<NodeId> = r
        .observations
        .iter()
        .find_map(|o| match &o.obs {
            protocols::Observation::Submitted { participants, .. } => Some(participants.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(nodes, bank_participants, "every participant of the transfer is blocked");
    for b in blocked {
        assert_eq!(b.txn, Some(TxnId(1)));
        let w = b.waiting_on.as_ref().unwrap();
        assert_eq!(w.down, vec![NodeId(0)], "waits on the coordinator");
        assert!(w.cut_links.is_empty());
        let since = b.since.expect("uncertain since its yes vote");
        assert!(since > Time::ZERO && since < r.fault_phase.time);
        assert!(b.detail.contains("waiting on down n0"), "{}", b.detail);
    }
    // Blocking is not an atomicity violation.
    for p in [Property::Agreement, Property::Irreversibility, Property::CommitNeedsAllYes] {
        assert_eq!(v.get(p), &Verdict::Holds, "{p:?}");
    }
    assert!(matches!(v.get(Property::Termination), Verdict::NotApplicable { .. }));
}

#[test]
fn the_same_crash_recovered_50_ms_later_does_not_block_and_terminates() {
    let s = crash_at_all_votes_in(Some(50_000));
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    assert_eq!(v.get(Property::NonBlocking), &Verdict::Holds);
    assert_eq!(v.get(Property::Termination), &Verdict::Holds);
    assert_eq!(v.get(Property::Conservation), &Verdict::Holds);
    assert_eq!(v.violated().count(), 0);
}

#[test]
fn without_a_recovery_the_liveness_phase_recovers_it_and_ac5_holds() {
    // The fault phase ends blocked; the liveness phase recovers the coordinator.
    let s = crash_at_all_votes_in(None);
    let r = protocols::run(&s).unwrap().report;
    let v = check(&r, &s.plan);
    assert!(v.get(Property::NonBlocking).is_violated());
    assert_eq!(v.get(Property::Termination), &Verdict::Holds);
    let exposure = checkers::exposure(&r);
    // Blocked participants were uncertain for the whole fault phase (10 s).
    assert!(exposure.iter().any(|e| e.uncertain_us_max > 9_000_000), "{exposure:?}");
}

/// A blocked node's verdict names only what it waits on: the down nodes and the cut links it
/// sends or receives on, not every cut link in the cluster.
#[test]
fn a_blocked_node_names_only_its_own_cut_links() {
    // 2PC, 3 participants: the coordinator crashes right after sending PREPARE, and p1 and p2
    // are cut from each other (a link p3 never uses).
    let mut s = Scenario::new("2pc", 3, 1, 3);
    let coord = NodeId(0);
    s.plan = FaultPlan::none()
        .with(
            Trigger::Mark { node: coord, mark: "prepare-sent".into(), nth: 1 },
            Action::Crash { node: coord, recover_after_us: None },
        )
        .with(Trigger::Time { at_us: 1 }, Action::CutLink { a: NodeId(1), b: NodeId(2) });
    s.liveness_bound_us = None;
    let report = protocols::run(&s).unwrap().report;
    let verdicts = checkers::check(&report, &s.plan);
    let blocked = verdicts.get(checkers::Property::NonBlocking).violations().to_vec();
    assert_eq!(blocked.len(), 3, "every participant is blocked: {blocked:?}");
    for v in &blocked {
        let node = v.nodes[0];
        let w = v.waiting_on.as_ref().unwrap();
        assert_eq!(w.down, [coord], "{v:?}");
        assert!(w.cut_links.iter().all(|&(a, b)| a == node || b == node), "{v:?}");
        if node == NodeId(3) {
            assert!(w.cut_links.is_empty(), "p3 uses neither direction of p1-p2: {v:?}");
            assert_eq!(v.detail.matches("cut").count(), 0, "{}", v.detail);
        } else {
            assert_eq!(w.cut_links.len(), 2, "both directions of its own cut link: {v:?}");
        }
    }
}
