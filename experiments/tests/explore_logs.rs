//! The explorer over the replicated logs (the replicas and client `run` drives, bounded as
//! `protocols::consensus::explore` says): the broken variants it reaches within two faults
//! found with a shortest counterexample that `commitlab replay` reproduces, and the correct
//! protocols explored exhaustively to the same depth under the same bounds and budget with no
//! violation, with the same counts on one and two threads.
//!
//! Counts depend on the protocols' behaviour and the explorer's bounds: when a change
//! legitimately moves one, re-pin it in [`pinned`] (and say why in the commit).

use experiments::exit::Exit;
use experiments::explore::{ExploreArgs, LinksArg, StrategyArg, TimersArg};
use experiments::replay::ReplayArgs;
use protocols::Scenario;
use protocols::catalog::explorable;
use protocols::explore::ExploreRequest;
use sim_core::explore::{Budget, ExploreConfig, ExploreReport, Verdict};

/// Every pinned count of this file, in one place.
mod pinned {
    /// Raft's volatile vote, 3 replicas, one crash and one recovery: BFS's shortest path to
    /// two leaders in one term.
    pub const VOLATILE_VOTE_STEPS: usize = 7;
    /// Raft, 3 replicas, one crash and one recovery, every state within that many steps.
    pub const RAFT_UNIQUE: u64 = 53_531;
    /// Multi-Paxos ignoring phase 1b reports, 3 replicas, no fault: BFS's shortest path to
    /// two values chosen in one slot.
    pub const IGNORES_ACCEPTED_STEPS: usize = 11;
    /// Multi-Paxos, 3 replicas, no fault, every state within that many steps.
    pub const MULTI_PAXOS_UNIQUE: u64 = 139_049;
    /// ZAB, 3 replicas, no fault, every state within [`ZAB_DEPTH`] steps (the client retries
    /// twice under exploration: `Round::CLIENT_RETRIES`).
    pub const ZAB_DEPTH: u32 = 9;
    pub const ZAB_UNIQUE: u64 = 134_550;
    /// Raft under FIFO links (`--links fifo`), one crash and one recovery, every state within
    /// [`VOLATILE_VOTE_STEPS`] steps: fewer than [`RAFT_UNIQUE`] (a link's later messages
    /// wait for its earlier ones).
    pub const RAFT_FIFO_UNIQUE: u64 = 40_434;
    /// Raft's volatile vote under FIFO links: BFS's shortest path to two leaders in one term.
    pub const VOLATILE_VOTE_FIFO_STEPS: usize = 7;
    /// ZAB's skipped synchronization, 3 replicas, FIFO links, quiescent timers, one drop:
    /// BFS's shortest path to two transactions delivered at one index.
    pub const SKIP_SYNC_STEPS: usize = 38;
    /// ZAB under the same bounds and budget, explored to completion.
    pub const ZAB_QUIESCENT_UNIQUE: u64 = 221_711;
    /// ZAB, FIFO links, quiescent timers, one crash (also between two effects of a handler)
    /// and one recovery: the depth at which `integrity` failed while a leader reported its
    /// proposal after forcing it, and every state within it.
    pub const ZAB_CRASH_DEPTH: u32 = 28;
    pub const ZAB_CRASH_UNIQUE: u64 = 440_611;
}

fn explore(name: &str, budget: Budget, max_depth: Option<u32>, threads: usize) -> ExploreReport {
    let scenario = Scenario::new(name, 3, 1, 1);
    let request = ExploreRequest::new(name, &scenario, &[]);
    let config = ExploreConfig { budget, max_depth, threads, ..Default::default() };
    let spec = explorable().iter().find(|s| s.name == name).expect("an explorable protocol");
    (spec.family.explore.expect("explorable"))(&request, &config).expect("a valid request")
}

fn crash_and_recovery() -> Budget {
    Budget { crashes: 1, recoveries: 1, ..Default::default() }
}

/// `commitlab explore` flags for `protocol` on 3 replicas, with `budget`.
fn args(protocol: &str, property: &str, budget: Budget, out: &std::path::Path) -> ExploreArgs {
    ExploreArgs {
        protocol: protocol.into(),
        participants: 3,
        txns: 1,
        properties: vec![property.into()],
        crashes: budget.crashes,
        recoveries: budget.recoveries,
        drops: budget.drops,
        duplicates: budget.duplicates,
        partitions: budget.partitions,
        strategy: StrategyArg::Bfs,
        timers: TimersArg::Any,
        links: LinksArg::Reorder,
        delays: None,
        max_round: None,
        client_retries: None,
        max_states: None,
        max_depth: None,
        threads: 1,
        symmetry: false,
        json: true,
        out: Some(out.to_path_buf()),
    }
}

/// `commitlab replay FILE` on a counterexample `explore --json` reported as `v`: the property
/// violated again, with the same trace hash. Its output.
fn replays_to_the_same_violation(file: String, v: &serde_json::Value) -> String {
    let mut out = Vec::new();
    let replay = ReplayArgs { file: file.into(), diagram: None };
    let exit = experiments::replay::main(&replay, &mut out).expect("reproduced");
    let out = String::from_utf8(out).unwrap();
    assert_eq!(exit, Exit::PropertyFailed, "{out}");
    assert!(out.contains(&format!("trace_hash={}", v["trace_hash"])), "{out}");
    assert!(out.contains("same trace hash as recorded"), "{out}");
    out
}

/// Explores as `args` say through the CLI's entry point: its JSON report.
fn explore_cli(args: &ExploreArgs) -> (Exit, serde_json::Value) {
    let mut out = Vec::new();
    let exit = experiments::explore::main(args, &mut out).expect("a valid request");
    (exit, serde_json::from_slice(&out).expect("one JSON object"))
}

/// A vote forgotten across a crash: the recovered replica votes again in the same term and
/// two leaders are elected in it. Found with one crash and one recovery, by a shortest path,
/// which `commitlab replay` re-runs to the same violation and trace hash.
#[test]
fn volatile_vote_elects_two_leaders_in_one_term_within_a_crash_and_a_recovery() {
    let dir = std::env::temp_dir().join(format!("explore-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = "broken-raft-volatile-vote";
    let (exit, v) = explore_cli(&args(name, "election-safety", crash_and_recovery(), &dir));
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    assert_eq!(
        (v["verdict"].as_str(), v["property"].as_str()),
        (Some("violated"), Some("election-safety"))
    );
    let file = v["counterexample"].as_str().expect("the file's path").to_string();
    let text = std::fs::read_to_string(&file).unwrap();
    let steps: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steps = steps["steps"].as_array().unwrap();
    assert_eq!(steps.len(), pinned::VOLATILE_VOTE_STEPS, "{steps:?}");
    let events: Vec<&str> = steps.iter().filter_map(|s| s["event"].as_str()).collect();
    assert!(events.contains(&"recover"), "the vote is forgotten across a recovery: {events:?}");
    // Shortest: no violation one step earlier.
    let shallower =
        explore(name, crash_and_recovery(), Some(pinned::VOLATILE_VOTE_STEPS as u32 - 1), 1);
    assert_eq!(shallower.verdict, Verdict::Incomplete);
    replays_to_the_same_violation(file, &v);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Raft with its vote persisted, under the same bounds and budget, to the depth at which the
/// volatile vote fails: no violation, the same count on one and two threads.
#[test]
fn raft_holds_to_the_same_depth_with_one_crash_and_one_recovery() {
    let depth = Some(pinned::VOLATILE_VOTE_STEPS as u32);
    let one = explore("raft", crash_and_recovery(), depth, 1);
    assert_eq!(one.verdict, Verdict::Incomplete, "{:?}", one.counterexample);
    assert_eq!(one.unique_states, pinned::RAFT_UNIQUE);
    let two = explore("raft", crash_and_recovery(), depth, 2);
    assert_eq!((two.unique_states, two.states), (one.unique_states, one.states));
}

/// A new leader that proposes its own no-op where phase 1b reported an accepted value
/// overwrites a value already chosen (and applied): two entries at one slot. No fault is
/// needed: time is abstracted, so a second proposer stands while the first leads.
#[test]
fn multipaxos_ignoring_phase_1b_reports_chooses_two_values_in_one_slot_without_faults() {
    let r = explore("broken-multipaxos-ignores-accepted", Budget::default(), None, 1);
    assert_eq!(r.verdict, Verdict::Violated);
    let c = r.counterexample.expect("a counterexample");
    assert_eq!(c.property, "state-machine-safety");
    assert_eq!(c.steps.len(), pinned::IGNORES_ACCEPTED_STEPS, "{:?}", c.steps);
}

/// Multi-Paxos re-proposing what phase 1b reported, to the depth at which the broken variant
/// fails: no violation, the same count on one and two threads.
#[test]
fn multi_paxos_holds_to_the_same_depth() {
    let depth = Some(pinned::IGNORES_ACCEPTED_STEPS as u32);
    let one = explore("multi-paxos", Budget::default(), depth, 1);
    assert_eq!(one.verdict, Verdict::Incomplete, "{:?}", one.counterexample);
    assert_eq!(one.unique_states, pinned::MULTI_PAXOS_UNIQUE);
    let two = explore("multi-paxos", Budget::default(), depth, 2);
    assert_eq!((two.unique_states, two.states), (one.unique_states, one.states));
}

/// ZAB on every property explore checks for it (the consensus ones and the paper's primary
/// order, integrity and total order), every state within the depth.
#[test]
fn zab_holds_every_property_it_is_explored_on() {
    let depth = Some(pinned::ZAB_DEPTH);
    let one = explore("zab", Budget::default(), depth, 1);
    assert_eq!(one.verdict, Verdict::Incomplete, "{:?}", one.counterexample);
    assert_eq!(one.unique_states, pinned::ZAB_UNIQUE);
    let two = explore("zab", Budget::default(), depth, 2);
    assert_eq!((two.unique_states, two.states), (one.unique_states, one.states));
}

/// What explore cannot judge for a replicated log is bad input, named.
#[test]
fn properties_explore_does_not_check_are_refused() {
    let ask = |name: &str, property: &str| {
        let scenario = Scenario::new(name, 3, 1, 1);
        let props = vec![property.to_string()];
        let request = ExploreRequest::new(name, &scenario, &props);
        let spec = explorable().iter().find(|s| s.name == name).unwrap();
        (spec.family.explore.unwrap())(&request, &ExploreConfig::default())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let e = ask("raft", "linearizability");
    assert!(e.contains("not checked by explore"), "{e}");
    // Multi-Paxos reports no leader logs: log matching is not judged for it.
    let e = ask("multi-paxos", "log-matching");
    assert!(e.contains("not checked by explore"), "{e}");
    let e = ask("zab", "total-ordr");
    assert!(e.contains("did you mean \"total-order\""), "{e}");
}

/// `commitlab explore` flags for `protocol` on 3 replicas with `budget` and `links`, every
/// property, to `max_depth`, on `threads` threads.
fn links_args(
    protocol: &str,
    budget: Budget,
    links: LinksArg,
    max_depth: Option<u32>,
    threads: u64,
) -> ExploreArgs {
    let out = std::path::Path::new(".");
    let a = args(protocol, "election-safety", budget, out);
    ExploreArgs { properties: Vec::new(), links, max_depth, threads, json: false, out: None, ..a }
}

/// A FIFO link (`--links fifo`, as over TCP) delivers in send order: only the oldest message
/// in flight on a link may arrive next, so Raft explores fewer states within the same depth,
/// still without a violation, the same on one and two threads.
#[test]
fn fifo_links_hold_a_message_behind_earlier_ones_on_its_link() {
    let depth = Some(pinned::VOLATILE_VOTE_STEPS as u32);
    let fifo = |threads| {
        let a = links_args("raft", crash_and_recovery(), LinksArg::Fifo, depth, threads);
        experiments::explore::run(&a, None).expect("a valid request")
    };
    let one = fifo(1);
    assert_eq!(one.verdict, Verdict::Incomplete, "{:?}", one.counterexample);
    assert_eq!(one.unique_states, pinned::RAFT_FIFO_UNIQUE);
    assert!(one.unique_states < pinned::RAFT_UNIQUE);
    let two = fifo(2);
    assert_eq!((two.unique_states, two.states), (one.unique_states, one.states));
}

/// FIFO links explore a subset of the reordering network's paths: what they find is found
/// with reordering links too, by a path no longer (BFS is shortest there over more paths).
/// Checked on 2PC's unilateral abort (3 participants, one crash) and on the replicated logs'
/// broken variants that explore finds.
#[test]
fn what_fifo_links_find_is_found_with_reordering_links_too() {
    let crash = Budget { crashes: 1, ..Default::default() };
    let cases: &[(&str, u32, Budget)] = &[
        ("broken-2pc-unilateral-abort", 3, crash),
        ("broken-raft-volatile-vote", 3, crash_and_recovery()),
        ("broken-multipaxos-ignores-accepted", 3, Budget::default()),
    ];
    let mut found = 0;
    for &(name, participants, budget) in cases {
        let run = |links| {
            let a = ExploreArgs { participants, ..links_args(name, budget, links, None, 1) };
            experiments::explore::run(&a, None).expect("a valid request")
        };
        let (fifo, reorder) = (run(LinksArg::Fifo), run(LinksArg::Reorder));
        assert!(fifo.unique_states <= reorder.unique_states, "{name}: FIFO explores a subset");
        let Some(f) = &fifo.counterexample else { continue };
        found += 1;
        let r = reorder.counterexample.as_ref().expect("found with reordering links too");
        assert!(r.steps.len() <= f.steps.len(), "{name}: {} > {}", r.steps.len(), f.steps.len());
    }
    assert_eq!(found, cases.len(), "every case is found under FIFO links");
}

/// A counterexample found under FIFO links is stored with `--links fifo` and replays through
/// `commitlab replay` to the same verdict and trace hash.
#[test]
fn a_fifo_counterexample_replays_to_the_same_violation() {
    let dir = std::env::temp_dir().join(format!("explore-logs-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = "broken-raft-volatile-vote";
    let a = ExploreArgs {
        links: LinksArg::Fifo,
        ..args(name, "election-safety", crash_and_recovery(), &dir)
    };
    let (exit, v) = explore_cli(&a);
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    assert_eq!(v["links"].as_str(), Some("fifo"));
    let file = v["counterexample"].as_str().expect("the file's path").to_string();
    let text = std::fs::read_to_string(&file).unwrap();
    let stored: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(stored["steps"].as_array().unwrap().len(), pinned::VOLATILE_VOTE_FIFO_STEPS);
    replays_to_the_same_violation(file, &v);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The bounds under which ZAB's skipped synchronization is found: FIFO links (ZAB assumes
/// TCP), timers that fire only when nothing is in flight (`--timers quiescent`: every timeout
/// outlasts every message, so elections do not overlap), one drop.
fn skip_sync_args(protocol: &str, out: &std::path::Path, threads: u64) -> ExploreArgs {
    let budget = Budget { drops: 1, ..Default::default() };
    let a = args(protocol, "state-machine-safety", budget, out);
    ExploreArgs { links: LinksArg::Fifo, timers: TimersArg::Quiescent, threads, ..a }
}

/// A new leader that broadcasts without synchronizing its followers: the leader of epoch 1
/// forces the client's retry at index 1 and no follower takes it (one's `ACK-E` is lost, the
/// other stands in a new election); the leader of epoch 2 proposes the client's next retry
/// at index 1 of its own empty history, the old leader joins epoch 2 on its heartbeat keeping
/// its history, and delivers its own transaction at index 1 when it learns the commit point.
/// Found by a shortest path that `commitlab replay` re-runs to the same violation and trace
/// hash.
#[test]
fn skipped_synchronization_delivers_two_transactions_at_one_index_within_one_drop() {
    let dir = std::env::temp_dir().join(format!("explore-logs-zab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (exit, v) = explore_cli(&skip_sync_args("broken-zab-skip-sync", &dir, 1));
    assert_eq!(exit, Exit::PropertyFailed, "{v}");
    assert_eq!(
        (v["verdict"].as_str(), v["property"].as_str()),
        (Some("violated"), Some("state-machine-safety"))
    );
    let file = v["counterexample"].as_str().expect("the file's path").to_string();
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let steps = stored["steps"].as_array().unwrap();
    assert_eq!(steps.len(), pinned::SKIP_SYNC_STEPS, "{steps:?}");
    let events: Vec<&str> = steps.iter().filter_map(|s| s["event"].as_str()).collect();
    assert_eq!(events.iter().filter(|&&e| e == "drop").count(), 1, "{events:?}");
    // Shortest: nothing violated one step earlier.
    let shallower = ExploreArgs {
        max_depth: Some(pinned::SKIP_SYNC_STEPS as u32 - 1),
        json: false,
        out: None,
        ..skip_sync_args("broken-zab-skip-sync", &dir, 1)
    };
    let shallower = experiments::explore::run(&shallower, None).expect("a valid request");
    assert_eq!(shallower.verdict, Verdict::Incomplete, "{:?}", shallower.counterexample);
    let out = replays_to_the_same_violation(file, &v);
    assert!(out.contains("state-machine-safety"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// ZAB, which synchronizes every follower before broadcasting, under the same bounds and
/// budget, explored to completion on every property explore checks for it: no violation,
/// the same counts on one and two threads.
#[test]
fn zab_holds_to_completion_under_the_bounds_that_find_skipped_synchronization() {
    let run = |threads| {
        let a = skip_sync_args("zab", std::path::Path::new("."), threads);
        let a = ExploreArgs { properties: Vec::new(), json: false, out: None, ..a };
        experiments::explore::run(&a, None).expect("a valid request")
    };
    let one = run(1);
    assert_eq!(one.verdict, Verdict::Holds, "{:?}", one.counterexample);
    assert_eq!(one.unique_states, pinned::ZAB_QUIESCENT_UNIQUE);
    let two = run(2);
    assert_eq!((two.unique_states, two.states), (one.unique_states, one.states));
}

/// A leader that crashes after forcing a proposal keeps it, and may deliver it once it leads
/// again: the proposal counts as broadcast from the moment it is forced. ZAB reported the
/// broadcast after forcing it, so a crash between the two made a later delivery break
/// `integrity` (found here at depth 28); it reports it first now, and `integrity` holds on
/// every state within that depth.
#[test]
fn a_proposal_forced_just_before_a_crash_counts_as_broadcast() {
    let budget = Budget { crashes: 1, recoveries: 1, ..Default::default() };
    let a = ExploreArgs {
        max_depth: Some(pinned::ZAB_CRASH_DEPTH),
        properties: vec!["integrity".into()],
        json: false,
        out: None,
        ..skip_sync_args("zab", std::path::Path::new("."), 1)
    };
    let a = ExploreArgs { crashes: budget.crashes, recoveries: budget.recoveries, drops: 0, ..a };
    let r = experiments::explore::run(&a, None).expect("a valid request");
    assert_eq!(r.verdict, Verdict::Incomplete, "{:?}", r.counterexample);
    assert_eq!(r.unique_states, pinned::ZAB_CRASH_UNIQUE);
}
