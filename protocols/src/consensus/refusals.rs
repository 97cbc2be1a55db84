//! The rule every replica of a replicated log applies before its protocol's own
//! ([`LogReplica::on_log_message`](super::replica::LogReplica::on_log_message)): a request of
//! a term older than the one the replica promised is refused, not acted on. Exercised here
//! for each family with its first leader cut off and let back once a new one leads, so that
//! the deposed leader sends requests of its old term. The trace hashes were pinned when each
//! family still wrote the rule itself: the rule written once refuses what they refused.

use sim_core::FaultPlan;
use sim_core::trace::{TraceKind, read_jsonl};

use crate::Scenario;
use crate::multi_paxos::{self, MultiPaxos};
use crate::raft::{self, Raft};
use crate::zab::{self, Zab};

/// The first leader is cut off 100 ms into its term; the cluster heals 200 ms after the next
/// leader is elected, and the deposed leader, still sending as leader, is back.
const DEPOSE: &str = r#"{"faults": [
  {"trigger": {"on": "any_mark", "mark": "became-leader", "nth": 1, "after_us": 100000},
   "action": {"do": "isolate_marked", "with": []}},
  {"trigger": {"on": "any_mark", "mark": "became-leader", "nth": 2, "after_us": 200000},
   "action": {"do": "heal"}}
]}"#;

/// Seeds whose runs refuse in every family (in Multi-Paxos not every seed's does: in some
/// the new leader's messages reach the deposed one before its next heartbeat, and it steps
/// down with nothing sent to refuse).
const SEEDS: [u64; 3] = [1, 6, 7];

/// Runs `protocol` (5 replicas, 30 operations, 4 in flight) under [`DEPOSE`] with each of
/// [`SEEDS`]: every run sends messages `refused` counts, and each run's trace hash and count
/// are as `pinned`.
fn refuses<P: sim_core::Protocol>(
    protocol: &str,
    refused: impl Fn(&P::Msg) -> bool,
    pinned: [(u64, usize); 3],
) {
    let runs: Vec<(u64, usize)> =
        SEEDS.iter().map(|&seed| deposed::<P>(protocol, seed, &refused)).collect();
    assert!(runs.iter().all(|&(_, count)| count > 0), "{protocol}: every run refuses: {runs:?}");
    assert_eq!(runs, pinned, "{protocol}: (trace hash, refusals) per seed");
}

/// One run: its trace hash and how many sent messages `refused` counts.
fn deposed<P: sim_core::Protocol>(
    protocol: &str,
    seed: u64,
    refused: impl Fn(&P::Msg) -> bool,
) -> (u64, usize) {
    let mut s = Scenario::new(protocol, 5, 30, seed);
    s.max_in_flight = 4;
    s.plan = FaultPlan::from_json(DEPOSE).unwrap();
    s.trace = sim_core::TraceLevel::Full;
    let out = crate::run(&s).unwrap();
    assert!(out.report.faults_fired.iter().all(|&f| f), "{protocol}: every fault fired");
    let mut buf = Vec::new();
    out.write_trace_jsonl(&mut buf).unwrap();
    let sent = read_jsonl::<P>(&buf[..]).unwrap().into_iter().filter_map(|e| match e.kind {
        TraceKind::Send { msg, .. } => Some(msg),
        _ => None,
    });
    (out.report.trace_hash, sent.filter(|m| refused(m)).count())
}

#[test]
fn multi_paxos_acceptors_nack_the_ballots_of_deposed_leaders() {
    let nack = |m: &multi_paxos::Msg| matches!(m, multi_paxos::Msg::Nack { .. });
    let pinned = [(2294081319442214679, 3), (10379929137579481265, 8), (3350160044261010985, 4)];
    refuses::<MultiPaxos>("multi-paxos", nack, pinned);
}

#[test]
fn zab_replicas_tell_deposed_leaders_of_the_newer_epoch() {
    let newer = |m: &zab::Msg| matches!(m, zab::Msg::NewerEpoch { .. });
    let pinned = [(13859266798903284267, 4), (7785906271739332713, 8), (10198409340038973759, 4)];
    refuses::<Zab>("zab", newer, pinned);
}

#[test]
fn raft_replicas_reject_the_requests_of_older_terms() {
    // Raft refuses with its ordinary negative answers, a denied vote and a failed
    // AppendEntries, which also answer requests of the receiver's own term: both are counted.
    let rejected = |m: &raft::Msg| {
        matches!(
            m,
            raft::Msg::Vote { granted: false, .. } | raft::Msg::AppendReply { ok: false, .. }
        )
    };
    let pinned = [(15775916010904826639, 42), (9840547093449269231, 33), (3570277410612850781, 30)];
    refuses::<Raft>("raft", rejected, pinned);
}
