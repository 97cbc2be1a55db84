//! 2PC over consensus beside Paxos Commit and 2PC in Gray & Lamport's cost table, measured:
//! Paxos Commit saves one message delay over 2PC with a replicated TM (the paper's §6
//! comparison), which pays two delays over plain 2PC for the decision's replication round.

use experiments::gray_lamport::{CostRow, REPLICATED, measure, measure_with_groups, table};

fn row(protocol: &str, n: u32, f: u32, colocated: bool) -> CostRow {
    measure(protocol, n, f, colocated).unwrap()
}

#[test]
fn paxos_commit_saves_one_message_delay_over_2pc_with_a_replicated_tm() {
    for protocol in REPLICATED {
        for colocated in [false, true] {
            for n in 3..=8 {
                for f in 1..=2 {
                    let r = row(protocol, n, f, colocated);
                    let pc = row("paxos-commit", n, f, colocated);
                    let two_pc = row("2pc", n, f, colocated);
                    let ctx = format!("{r:?}");
                    assert_eq!(r.message_delays, pc.message_delays + 1, "{ctx}");
                    assert_eq!(r.message_delays, two_pc.message_delays + 2, "{ctx}");
                    // 2PC's messages, and per logged entry (begun, decision) 2F appends and
                    // 2F acknowledgements; Multi-Paxos also tells the 2F others each chosen
                    // value.
                    let (n, f) = (u64::from(n), u64::from(f));
                    let per_entry = if protocol == "2pc-raft" { 4 * f } else { 6 * f };
                    assert_eq!(r.messages, two_pc.messages + 2 * per_entry, "{ctx}");
                    // 2PC's N prepared records, and 2F + 1 copies of each entry (the TM itself
                    // writes nothing else); Multi-Paxos also forces each chosen value, at the
                    // leader before it answers and at followers as they learn it.
                    let entries = n + 2 * (2 * f + 1);
                    if protocol == "2pc-raft" {
                        assert_eq!(r.disk_writes, entries, "{ctx}");
                    } else {
                        assert!(r.disk_writes > entries, "{ctx}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_replicated_row_has_the_delay_the_comparison_gives() {
    let rows: Vec<CostRow> = table()
        .unwrap()
        .into_iter()
        .filter(|r| REPLICATED.contains(&r.protocol.as_str()))
        .collect();
    assert_eq!(rows.len(), 2 * 2 * 3 * 8);
    for r in rows.iter().filter(|r| r.delays_formula_applies) {
        assert_eq!(Some(r.message_delays), r.expected_delays, "{r:?}");
    }
    // F = 0: a group of one commits alone, so it costs 2PC's delays.
    for r in rows.iter().filter(|r| r.f == 0 && r.rms >= 2) {
        let two_pc = row("2pc", r.rms, 0, r.colocated);
        assert_eq!(r.message_delays, two_pc.message_delays, "{r:?}");
    }
}

/// Gray & Lamport's "2PC with every party replicated", N = 3, F = 1, each RM a group of
/// three (`participant_replicas` = 3), measured: (messages, delays, forced writes before the
/// first RM learns the outcome, all forced writes of the chain).
#[test]
fn every_party_replicated_costs_what_was_measured() {
    for (protocol, pinned) in [("2pc-raft", (40, 12, 27, 30)), ("2pc-multipaxos", (56, 12, 49, 66))]
    {
        let tm_only = row(protocol, 3, 1, false);
        let all = measure_with_groups(protocol, 3, 1, false, 3).unwrap();
        let ctx = format!("{all:?}");
        let measured = (all.messages, all.message_delays, all.disk_writes, all.disk_writes_total);
        assert_eq!(measured, pinned, "{ctx}");
        // Each RM's two entries (prepared, decision) are replicated in its group: per entry 2
        // appends and 2 acknowledgements with Raft (Multi-Paxos also tells the two others the
        // chosen value): 3 RMs x 2 entries more than the replicated-TM row.
        let per_entry = if protocol == "2pc-raft" { 4 } else { 6 };
        assert_eq!(all.messages, tm_only.messages + 3 * 2 * per_entry, "{ctx}");
        // Three replication rounds more on the chain: the initiating RM's prepared entry, the
        // other RMs' (they prepare after it, in Gray & Lamport's flow), and the decision entry
        // of the RM that learns the outcome.
        assert_eq!(all.message_delays, tm_only.message_delays + 6, "{ctx}");
        assert_eq!(all.expected_delays, None, "the paper gives no formula: {ctx}");
    }
}
