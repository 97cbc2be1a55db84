//! 2PC in Gray & Lamport's shape, measured: its cost-table rows equal the paper's 3N − 1 / 4
//! and 3N − 3 / 3 with N + 1 forced writes, and the paper's text example holds beside Paxos
//! Commit.

use experiments::gray_lamport::{CostRow, PROTOCOLS, REPLICATED, measure, table};

fn row(protocol: &str, n: u32, f: u32, colocated: bool) -> CostRow {
    measure(protocol, n, f, colocated).unwrap()
}

#[test]
fn every_two_pc_row_equals_the_paper() {
    let rows: Vec<CostRow> = table().unwrap().into_iter().filter(|r| r.protocol == "2pc").collect();
    assert_eq!(rows.len(), 2 * 3 * 8, "N = 1..=8, F = 0..=2, co-located or not");
    for r in &rows {
        let ctx = format!("{r:?}");
        let n = u64::from(r.rms);
        let (messages, delays) = if r.colocated { (3 * n - 3, 3) } else { (3 * n - 1, 4) };
        assert_eq!(r.expected_messages, Some(messages), "{ctx}");
        assert_eq!(r.messages, messages, "{ctx}: messages counted from the trace");
        assert!(r.messages_formula_applies, "{ctx}");
        assert_eq!((r.expected_disk_writes, r.disk_writes), (Some(n + 1), n + 1), "{ctx}");
        // Off the critical path: each RM's decision record.
        assert_eq!(r.disk_writes_total, 2 * n + 1, "{ctx}");
        assert_eq!(r.expected_delays, Some(delays), "{ctx}");
        if r.rms >= 2 {
            assert!(r.delays_formula_applies, "{ctx}");
            assert_eq!(r.message_delays, delays, "{ctx}");
        } else {
            // One RM: no Prepare round, Prepared then Commit (both local when co-located).
            assert!(!r.delays_formula_applies, "{ctx}");
            assert_eq!(r.message_delays, if r.colocated { 0 } else { 2 }, "{ctx}");
        }
    }
}

#[test]
fn every_co_located_row_of_every_protocol_matches_where_the_formula_applies() {
    let rows = table().unwrap();
    assert_eq!(rows.len(), (PROTOCOLS.len() + REPLICATED.len()) * 2 * 3 * 8);
    let mut checked = 0;
    // The paper's protocols (2PC over consensus has no formula: replicated_2pc_costs.rs).
    let paper = rows.iter().filter(|r| PROTOCOLS.contains(&r.protocol.as_str()));
    for r in paper.filter(|r| r.colocated) {
        let ctx = format!("{r:?}");
        assert_eq!(Some(r.disk_writes), r.expected_disk_writes, "{ctx}");
        if r.messages_formula_applies {
            assert_eq!(Some(r.messages), r.expected_messages, "{ctx}");
            checked += 1;
        }
        if r.delays_formula_applies {
            assert_eq!(Some(r.message_delays), r.expected_delays, "{ctx}");
        }
    }
    // 2PC: 24 rows; Paxos Commit and Faster: N ≥ F + 1, 8 + 7 + 6 each.
    assert_eq!(checked, 24 + 2 * 21);
}

#[test]
fn the_papers_example_five_rms_one_fault_co_located() {
    let two_pc = row("2pc", 5, 1, true);
    let pc = row("paxos-commit", 5, 1, true);
    let faster = row("faster-paxos-commit", 5, 1, true);
    assert_eq!((two_pc.messages, pc.messages, faster.messages), (12, 17, 20));
    assert_eq!((two_pc.message_delays, pc.message_delays, faster.message_delays), (3, 4, 3));
    assert_eq!((two_pc.disk_writes, pc.disk_writes, faster.disk_writes), (6, 7, 7));
}

#[test]
fn with_f_zero_co_located_paxos_commit_sends_what_2pc_sends() {
    for n in 1..=8u32 {
        let (pc, two_pc) = (row("paxos-commit", n, 0, true), row("2pc", n, 0, true));
        assert_eq!(pc.messages, two_pc.messages, "N = {n}");
        assert_eq!(pc.disk_writes, two_pc.disk_writes, "N = {n}: N + 1 writes");
    }
}
