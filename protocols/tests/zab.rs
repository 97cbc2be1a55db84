//! ZAB's message cost in steady state, counted on the trace of a fault-free run: each
//! committed command costs one PROPOSAL to each of the N−1 followers, one ACK from each and
//! one COMMIT to each, 3(N−1) messages (the paper's explicit COMMIT; Raft's commit index
//! rides on the next AppendEntries instead).

use protocols::Scenario;
use protocols::zab::{Msg, Zab};
use sim_core::TraceLevel;
use sim_core::trace::{TraceKind, read_jsonl};

/// Per message kind, how many the run sent: (PROPOSAL, ACK, COMMIT, everything else
/// between replicas).
fn sends(replicas: u32, ops: u64, seed: u64) -> (u64, u64, u64, u64) {
    let mut s = Scenario::new("zab", replicas, ops, seed);
    s.max_in_flight = 1;
    s.trace = TraceLevel::Full;
    let out = protocols::run(&s).unwrap();
    let returned = out
        .report
        .observations
        .iter()
        .filter(|o| matches!(o.obs, protocols::Observation::OpReturned { .. }));
    assert_eq!(returned.count() as u64, ops, "every command committed and answered");
    let mut buf = Vec::new();
    out.write_trace_jsonl(&mut buf).unwrap();
    let mut counts = (0, 0, 0, 0);
    for e in read_jsonl::<Zab>(&buf[..]).unwrap() {
        let TraceKind::Send { msg, .. } = e.kind else { continue };
        match msg {
            Msg::Proposal { .. } => counts.0 += 1,
            Msg::Ack { .. } => counts.1 += 1,
            Msg::Commit { .. } => counts.2 += 1,
            Msg::Kv(_) => {}
            _ => counts.3 += 1,
        }
    }
    counts
}

#[test]
fn steady_state_costs_3_n_minus_1_messages_per_committed_command() {
    for (replicas, seed) in [(3, 1), (3, 2), (5, 1), (7, 1)] {
        let ops = 20;
        let (proposals, acks, commits, _) = sends(replicas, ops, seed);
        let n1 = u64::from(replicas) - 1;
        assert_eq!((proposals, acks, commits), (n1 * ops, n1 * ops, n1 * ops), "N={replicas}");
        assert_eq!((proposals + acks + commits) / ops, 3 * n1, "N={replicas}");
    }
}
