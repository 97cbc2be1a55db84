//! Steady-state messages, forced writes and delays per committed command of every correct
//! replicated log, measured against its formula as README states it (see
//! `experiments::sweep::steady_state`). A consensus family without a formula fails here:
//! state one in `steady_state::formula` and README.

use experiments::sweep::steady_state;
use protocols::multi_paxos::{self, MultiPaxos};
use protocols::raft::{self, Raft};
use sim_core::Protocol;
use sim_core::trace::{TraceKind, read_jsonl};

#[test]
fn steady_state_costs_match_each_protocols_formula() {
    for p in protocols::catalog::correct_consensus_protocols() {
        let f = steady_state::formula(p)
            .unwrap_or_else(|| panic!("{p}: no steady-state formula (steady_state::formula)"));
        for (n, seed) in [(3, 1), (3, 2), (5, 1), (5, 3), (7, 1)] {
            let m = steady_state::measure(p, n, seed).unwrap();
            let what = format!("{p} N={n} seed {seed}: {m:?}");
            assert!(m.all_returned && m.commands + 1 == steady_state::COMMANDS, "{what}");
            let expect = (f.messages)(f64::from(n));
            assert!(
                (m.messages_per_command - expect).abs() <= m.tolerance + 1e-9,
                "{what}: formula {expect:.2} ({})",
                f.text
            );
            assert_eq!(m.disk_writes_per_command, (f.disk_writes)(f64::from(n)), "{what}");
            assert_eq!(m.idle_disk_writes, 0, "{what}: nothing is forced idle");
            assert!((m.delays - f.delays).abs() < 1e-9, "{what}");
        }
    }
}

/// The messages replica to replica of the steady-state run of `protocol` on `n` replicas
/// once the first command returned (the election is over; each later command's life lies
/// inside), by kind (`kind` names it, `None`: not counted).
fn sends<P: Protocol>(protocol: &str, n: u32, kind: fn(&P::Msg) -> Option<usize>) -> [u64; 4]
where
    P::Obs: Into<protocols::Observation>,
{
    let out = protocols::run(&steady_state::scenario(protocol, n, 1)).unwrap();
    let mut buf = Vec::new();
    out.write_trace_jsonl(&mut buf).unwrap();
    let (mut counts, mut steady) = ([0; 4], false);
    for e in read_jsonl::<P>(&buf[..]).unwrap() {
        match e.kind {
            TraceKind::Observe { obs } => {
                steady |= matches!(obs.into(), protocols::Observation::OpReturned { .. })
            }
            TraceKind::Send { msg, .. } if steady => {
                if let Some(k) = kind(&msg) {
                    counts[k] += 1;
                }
            }
            _ => {}
        }
    }
    counts
}

/// Raft, counted by kind on the trace: every command goes to each follower in exactly one
/// AppendEntries, and no AppendEntries is rejected — the leader never re-sends in a
/// fault-free run. (Before `nextIndex` advanced as entries were sent, a heartbeat's reply
/// arriving while an entry was out sent that entry again.)
#[test]
fn raft_sends_each_entry_once_to_each_follower() {
    for n in [3, 5, 7] {
        let [appends, heartbeats, replies, rejected] = sends::<Raft>("raft", n, |m| match m {
            raft::Msg::AppendEntries { entries, .. } if entries.len() == 1 => Some(0),
            raft::Msg::AppendEntries { entries, .. } => entries.is_empty().then_some(1),
            raft::Msg::AppendReply { ok: true, .. } => Some(2),
            raft::Msg::AppendReply { ok: false, .. } => Some(3),
            _ => None,
        });
        let n1 = u64::from(n) - 1;
        let commands = steady_state::COMMANDS - 1;
        assert_eq!(appends, n1 * commands, "N={n}: one AppendEntries per command per follower");
        assert_eq!(rejected, 0, "N={n}");
        // Each AppendEntries answered once, but for a heartbeat round straddling each end.
        assert!(replies.abs_diff(appends + heartbeats) <= n1, "N={n}: {replies} replies");
    }
}

/// Multi-Paxos, counted by kind on the trace: one Accept, one acknowledgement and one Chosen
/// per command per other replica, 3(N−1), and no other message. (Before re-sends waited a
/// whole heartbeat period, a heartbeat firing while a proposal waited for its
/// acknowledgements sent its Accept again.)
#[test]
fn multi_paxos_sends_each_accept_once_to_each_acceptor() {
    for n in [3, 5, 7] {
        let counts = sends::<MultiPaxos>("multi-paxos", n, |m| match m {
            multi_paxos::Msg::Accept { .. } => Some(0),
            multi_paxos::Msg::AcceptedAck { .. } => Some(1),
            multi_paxos::Msg::Chosen { .. } => Some(2),
            multi_paxos::Msg::Heartbeat { .. } | multi_paxos::Msg::Kv(_) => None,
            _ => Some(3),
        });
        let n1 = u64::from(n) - 1;
        let c = steady_state::COMMANDS - 1;
        assert_eq!(counts, [n1 * c, n1 * c, n1 * c, 0], "N={n}: Accept, Accepted, Chosen, other");
    }
}
