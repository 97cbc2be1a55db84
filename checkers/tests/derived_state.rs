//! Who is up, in doubt and holding locks at an instant, derived from the history's facts
//! alone, is what the live nodes themselves show (the report's snapshots, read through
//! `NodeView`) — at the end of the fault phase and at the end of the run, for every protocol
//! of the catalog (correct and broken, co-located where a family can be), under generated
//! plans of every fault class. Checkers read only the former; this is why they may.

use std::collections::BTreeMap;

use checkers::History;
use protocols::catalog::catalog;
use protocols::workload::Workload;
use protocols::{Happened, RunReport, Scenario, Snapshot, TxnId};
use sim_core::{FaultClass, FaultSpace, NodeId};

fn scenario(protocol: &str, seed: u64, colocated: bool) -> Scenario {
    let mut s = Scenario::new(protocol, 3, 3, seed);
    s.workload = Workload::bank();
    s.max_in_flight = 2;
    s.fault_horizon_us = 3_000_000;
    s.liveness_bound_us = Some(3_000_000);
    if colocated {
        s = s.with("colocated", true);
    }
    s
}

/// The history's view of every node against the snapshot's.
fn compare(h: &History, snap: &Snapshot, ctx: &str) {
    assert_eq!(h.waiting_on().cut_links, snap.cut_links, "{ctx}: cut links");
    for (i, up) in snap.up.iter().enumerate() {
        let node = NodeId(i as u32);
        assert_eq!(h.is_up(node), *up, "{ctx}: {node} up");
        assert_eq!(h.in_doubt(node), snap.in_doubt[i], "{ctx}: {node} in doubt");
        let mut held: BTreeMap<TxnId, u32> = BTreeMap::new();
        for t in snap.locks[i].values() {
            *held.entry(*t).or_default() += 1;
        }
        let derived: BTreeMap<TxnId, u32> = h.locks(node).iter().map(|l| (l.txn, l.keys)).collect();
        assert_eq!(derived, held, "{ctx}: {node} locks (transaction -> keys)");
    }
}

fn check_run(r: &RunReport, ctx: &str) -> bool {
    let mut h = History::new();
    let mut phase_end = false;
    for f in r.facts() {
        h.push_ref(f);
        if let protocols::FactRef::Other(fact) = f
            && fact.what == Happened::FaultPhaseEnded
        {
            compare(&h, &r.fault_phase, &format!("{ctx}, end of the fault phase"));
            let frozen = h.fault_phase_end().unwrap();
            let up_in_doubt: Vec<(NodeId, TxnId)> = (r.fault_phase.in_doubt.iter().enumerate())
                .filter(|(i, _)| r.fault_phase.up[*i])
                .flat_map(|(i, d)| d.iter().map(move |t| (NodeId(i as u32), *t)))
                .collect();
            let blocked: Vec<(NodeId, TxnId)> =
                frozen.blocked.iter().map(|b| (b.node, b.txn)).collect();
            assert_eq!(blocked, up_in_doubt, "{ctx}: blocked");
            assert_eq!(frozen.time, r.fault_phase.time, "{ctx}");
            phase_end = true;
        }
    }
    assert!(phase_end, "{ctx}: the fault phase's end is a fact");
    compare(&h, &r.end, &format!("{ctx}, end of the run"));
    assert_eq!(h.now(), r.end.time, "{ctx}");
    r.fault_phase.in_doubt.iter().any(|d| !d.is_empty())
}

#[test]
fn doubts_and_locks_from_facts_are_what_the_nodes_show() {
    let mut runs = 0;
    let mut with_doubt = 0;
    for spec in catalog() {
        let colocations: &[bool] = if spec.family.settings.iter().any(|s| s.key == "colocated") {
            &[false, true]
        } else {
            &[false]
        };
        for &colocated in colocations {
            let probe = scenario(spec.name, 0, colocated);
            let roles = spec.roles(&probe).unwrap();
            let mut marks = Vec::new();
            for (i, role) in roles.names.iter().enumerate() {
                for m in spec.all_marks(role) {
                    marks.push((NodeId(i as u32), m.to_string()));
                }
            }
            let swarm = FaultSpace {
                nodes: roles.nodes(),
                extra_nodes: vec![],
                horizon_us: 300_000,
                classes: FaultClass::ALL.to_vec(),
                max_faults: 5,
                marks,
                send_points: vec![],
                crash_limits: Vec::new(),
            };
            for seed in 0..150 {
                let mut s = scenario(spec.name, seed, colocated);
                s.plan = swarm.generate(seed);
                // Most fault phases end mid-protocol, some long after the last fault.
                s.fault_horizon_us =
                    [20_000, 45_000, 80_000, 150_000, 3_000_000][seed as usize % 5];
                let r = spec.run(&s).unwrap().report;
                let ctx = format!("{} (colocated {colocated}) seed {seed}", spec.name);
                with_doubt += usize::from(check_run(&r, &ctx));
                runs += 1;
            }
        }
    }
    assert!(with_doubt > runs / 5, "the plans leave nodes in doubt: {with_doubt} of {runs}");
}
