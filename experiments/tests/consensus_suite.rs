//! The classic scenario suite (`scenarios/consensus/*.toml`, named after the Raft lab's
//! tests), run with every correct replicated-log protocol of the catalog: a new consensus
//! family is tested here by registering in the catalog.
//!
//! Each file is asserted from the run's facts (observations and the faults that fired),
//! never from pinned outcomes: every consensus property holds, every fault of the file
//! fired, every value the client saw acknowledged is in the final log on every replica, and
//! what the file is about (no leader without a quorum, no agreement with 3 of 5 down, a
//! stale leader catching up, ...) is read off the observations.

use std::path::Path;

use checkers::{Property, Verdict, Verdicts};
use experiments::run::flags::{check_plan_marks, load_scenario};
use experiments::sweep::consensus_failover::lost_commands;
use protocols::consensus::KvResult;
use protocols::{Observation, RunReport, Scenario, TxnObserved};
use sim_core::NodeId;

/// One file run with one protocol.
struct Run {
    protocol: &'static str,
    scenario: Scenario,
    report: RunReport,
    verdicts: Verdicts,
}

impl Run {
    fn what(&self) -> String {
        format!("{} with {}", self.scenario_name(), self.protocol)
    }
    fn scenario_name(&self) -> &str {
        &self.scenario.protocol
    }
    fn obs(&self) -> impl Iterator<Item = &TxnObserved> {
        self.report.observations.iter()
    }
    /// (time µs, node, term) of every election won, in time order.
    fn elections(&self) -> Vec<(u64, NodeId, u64)> {
        self.obs()
            .filter_map(|o| match o.obs {
                Observation::LeaderElected { term } => Some((o.time.as_us(), o.node, term)),
                _ => None,
            })
            .collect()
    }
    /// Times (µs) at which operations returned.
    fn returns_us(&self) -> Vec<u64> {
        self.obs()
            .filter(|o| matches!(o.obs, Observation::OpReturned { .. }))
            .map(|o| o.time.as_us())
            .collect()
    }
    fn fired_at_us(&self, fault: usize) -> u64 {
        self.report.faults_fired_at_us[fault].expect("the fault fired")
    }
    /// The last index `node` applied.
    fn last_applied(&self, node: NodeId) -> u64 {
        self.obs()
            .filter(|o| o.node == node)
            .filter_map(|o| match o.obs {
                Observation::EntryApplied { index, .. } => Some(index),
                _ => None,
            })
            .last()
            .unwrap_or(0)
    }
    /// Whether `node` applied some entry after `us`.
    fn applies_after(&self, node: NodeId, us: u64) -> bool {
        self.obs().any(|o| {
            o.node == node
                && o.time.as_us() > us
                && matches!(o.obs, Observation::EntryApplied { .. })
        })
    }
    fn replicas(&self) -> impl Iterator<Item = NodeId> + use<> {
        (0..self.scenario.participants).map(NodeId)
    }
}

/// `file` run with every correct consensus protocol, each checked by the assertions every
/// file shares.
fn suite(file: &str) -> Vec<Run> {
    runs(file).into_iter().inspect(shared_assertions).collect()
}

/// `file` run with every correct consensus protocol.
fn runs(file: &str) -> Vec<Run> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/consensus").join(file);
    let base = load_scenario(&path).expect("the scenario file parses");
    let protocols: Vec<&str> = protocols::catalog::correct_consensus_protocols().collect();
    assert!(protocols.len() >= 2, "raft and multi-paxos at least: {protocols:?}");
    protocols
        .into_iter()
        .map(|protocol| {
            let mut scenario = base.clone();
            scenario.protocol = protocol.to_string();
            let spec = protocols::catalog::lookup(protocol).unwrap();
            let roles = spec.roles(&scenario).unwrap();
            check_plan_marks(&scenario.plan, &roles, spec).expect("the file's marks exist");
            let report = spec.run(&scenario).expect("a valid scenario").report;
            let verdicts = checkers::check(&report, &scenario.plan);
            scenario.protocol = file.to_string(); // named after the file in messages
            Run { protocol, scenario, report, verdicts }
        })
        .collect()
}

/// What holds of every file with every protocol.
fn shared_assertions(run: &Run) {
    let what = run.what();
    for p in Property::ALL {
        let v = run.verdicts.get(p);
        assert!(
            matches!(v, Verdict::Holds | Verdict::NotApplicable { .. }),
            "{what}: {} is {v:?}",
            p.name()
        );
    }
    for p in [Property::ElectionSafety, Property::StateMachineSafety, Property::Linearizability] {
        assert_eq!(run.verdicts.get(p), &Verdict::Holds, "{what}: {}", p.name());
    }
    assert_eq!(run.verdicts.get(Property::Termination), &Verdict::Holds, "{what}: termination");
    for (i, fired) in run.report.faults_fired.iter().enumerate() {
        assert!(fired, "{what}: fault {} of the file never fired", i + 1);
    }
    acknowledged_values_are_in_the_final_log(run);
}

/// Every operation the client saw acknowledged is applied in the final log, and every
/// replica ends having applied that whole log.
fn acknowledged_values_are_in_the_final_log(run: &Run) {
    let what = run.what();
    let mut log: std::collections::BTreeMap<u64, u64> = std::collections::BTreeMap::new();
    for o in run.obs() {
        if let Observation::EntryApplied { index, op, .. } = o.obs {
            let first = *log.entry(index).or_insert(op);
            assert_eq!(first, op, "{what}: index {index} holds two operations");
        }
    }
    let last = log.keys().next_back().copied().unwrap_or(0);
    assert_eq!(log.len() as u64, last, "{what}: the final log has no gap");
    let mut acknowledged = 0;
    for o in run.obs() {
        if let Observation::OpReturned { result, .. } = o.obs
            && matches!(result, KvResult::Written | KvResult::Swapped { ok: true })
        {
            acknowledged += 1;
        }
    }
    assert!(acknowledged > 0, "{what}: some write was acknowledged");
    assert_eq!(
        lost_commands(&run.report),
        0,
        "{what}: an acknowledged operation is not in the log"
    );
    for r in run.replicas() {
        assert_eq!(run.last_applied(r), last, "{what}: {r} ends with the whole log");
    }
    assert_eq!(
        run.returns_us().len() as u64,
        run.scenario.txns,
        "{what}: every operation returned"
    );
}

#[test]
fn initial_election() {
    for run in suite("initial-election.toml") {
        let what = run.what();
        let elections = run.elections();
        assert_eq!(elections.len(), 1, "{what}: one election, kept while nothing fails");
        assert!(elections[0].0 < 1_000_000, "{what}: elected within 1 s: {elections:?}");
        let horizon = run.scenario.fault_horizon_us;
        assert!(run.returns_us().iter().all(|&t| t < horizon), "{what}: all served fault-free");
    }
}

#[test]
fn reelection_after_the_leader_is_cut_off() {
    for run in suite("reelection.toml") {
        let what = run.what();
        let elections = run.elections();
        let old = elections[0].1;
        let (cut, heal) = (run.fired_at_us(0), run.fired_at_us(1));
        assert!(
            elections.iter().any(|&(t, n, _)| t > cut && t < heal && n != old),
            "{what}: another replica was elected while {old} was cut off: {elections:?}"
        );
        assert!(
            run.returns_us().iter().any(|&t| t > cut && t < heal),
            "{what}: the new leader served the client while the old one was cut off"
        );
    }
}

#[test]
fn no_leader_without_a_quorum() {
    for run in suite("no-quorum.toml") {
        let what = run.what();
        let horizon = run.scenario.fault_horizon_us;
        let elections = run.elections();
        assert!(elections.iter().all(|&(t, ..)| t >= horizon), "{what}: {elections:?}");
        assert!(run.returns_us().iter().all(|&t| t >= horizon), "{what}: nothing returned");
        assert!(!elections.is_empty(), "{what}: elected once the network healed");
    }
}

#[test]
fn many_elections_with_seven_replicas() {
    for run in suite("many-elections.toml") {
        let what = run.what();
        let elections = run.elections();
        // Eight leaders cut off in turn (every fault fired): nine elections at least.
        assert!(elections.len() >= 9, "{what}: {elections:?}");
        let leaders: std::collections::BTreeSet<NodeId> = elections.iter().map(|e| e.1).collect();
        assert!(leaders.len() >= 3, "{what}: leadership moved around: {leaders:?}");
    }
}

#[test]
fn agreement_with_one_follower_down() {
    for run in suite("fail-agree.toml") {
        let what = run.what();
        let sim_core::Action::Crash { recover_after_us: Some(down_us), .. } =
            run.scenario.plan.faults[0].action
        else {
            panic!("the file crashes replica 2 and recovers it")
        };
        let recovered_us = run.fired_at_us(0) + down_us;
        let returned = run.returns_us();
        assert!(
            returned.iter().all(|&t| t < recovered_us),
            "{what}: two of three agreed on every operation while replica 2 was down"
        );
        assert!(run.elections().iter().all(|e| e.1 != NodeId(2)), "{what}: r2 never led");
    }
}

#[test]
fn no_agreement_with_three_of_five_down() {
    for run in suite("fail-no-agree.toml") {
        let what = run.what();
        let down_us = run.fired_at_us(0);
        let up_us = down_us + 2_000_000;
        // Replies already on their way when the majority crashed arrive within d = 10 ms.
        let quiet_from = down_us + 10_000;
        let returned = run.returns_us();
        let before = returned.iter().filter(|&&t| t < down_us).count();
        assert!(before > 0, "{what}: some agreement before the crash");
        assert!((before as u64) < run.scenario.txns, "{what}: operations left to agree on");
        assert!(
            returned.iter().all(|&t| t < quiet_from || t >= up_us),
            "{what}: an operation returned with 3 of 5 down: {returned:?}"
        );
    }
}

#[test]
fn a_stale_leader_rejoins() {
    for run in suite("rejoin.toml") {
        let what = run.what();
        let elections = run.elections();
        assert!(elections.len() >= 3, "{what}: a leader per cut-off: {elections:?}");
        let stale = elections[0].1;
        let heal = run.fired_at_us(3);
        assert!(
            run.applies_after(stale, heal),
            "{what}: the stale leader {stale} applies the new leaders' log once reconnected"
        );
    }
}

#[test]
fn backing_up_over_fifty_divergent_entries() {
    for run in suite("backup.toml") {
        let what = run.what();
        let elections = run.elections();
        let old = elections[0].1;
        let (cut, moved, heal) = (run.fired_at_us(0), run.fired_at_us(2), run.fired_at_us(3));
        // While the old leader held the client, nothing it appended could be committed.
        let returned = run.returns_us();
        assert!(
            returned.iter().all(|&t| t < cut + 10_000 || t > moved),
            "{what}: the cut-off leader committed nothing"
        );
        let pending_when_cut = run
            .obs()
            .filter(|o| matches!(o.obs, Observation::OpInvoked { .. }))
            .filter(|o| o.time.as_us() < cut)
            .count()
            - returned.iter().filter(|&&t| t < cut + 10_000).count();
        assert!(pending_when_cut >= 40, "{what}: {pending_when_cut} operations left uncommitted");
        assert!(
            elections.iter().any(|&(t, n, _)| t > cut && n != old),
            "{what}: the majority elected another leader"
        );
        assert!(run.applies_after(old, heal), "{what}: the old leader caught up once reconnected");
    }
}

#[test]
fn persistence_across_restarts_of_all_replicas() {
    for run in suite("persist-all.toml") {
        let what = run.what();
        // Every replica rebuilt its state machine from its disk after each restart.
        for r in run.replicas() {
            let from_one = run
                .obs()
                .filter(|o| {
                    o.node == r && matches!(o.obs, Observation::EntryApplied { index: 1, .. })
                })
                .count();
            assert!(from_one >= 2, "{what}: {r} re-applied its log from index 1 ({from_one})");
        }
    }
}

#[test]
fn persistence_across_restarts_of_the_leader() {
    for run in suite("persist-leader.toml") {
        let elections = run.elections();
        assert!(elections.len() >= 4, "{}: {elections:?}", run.what());
    }
}

#[test]
fn persistence_across_restarts_of_a_minority() {
    suite("persist-minority.toml");
}

#[test]
fn figure_8() {
    for run in suite("figure8.toml") {
        assert!(run.elections().len() >= 31, "{}: 30 leaders crashed", run.what());
    }
}

#[test]
fn figure_8_unreliable() {
    for run in suite("figure8-unreliable.toml") {
        assert!(run.elections().len() >= 31, "{}: 30 leaders crashed", run.what());
    }
}

#[test]
fn churn() {
    suite("churn.toml");
}

#[test]
fn churn_unreliable() {
    suite("churn-unreliable.toml");
}
