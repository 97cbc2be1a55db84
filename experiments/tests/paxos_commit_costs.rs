//! Gray & Lamport's cost table, measured from runs (see `protocols::gray_lamport`): every
//! measurement equals the paper's formula wherever the formula applies, and the documented
//! convention where it does not.

use experiments::gray_lamport::{CostRow, measure, table};

fn row(protocol: &str, n: u32, f: u32, colocated: bool) -> CostRow {
    measure(protocol, n, f, colocated).unwrap()
}

#[test]
fn every_row_matches_the_paper_where_the_formula_applies() {
    let rows = table().unwrap();
    assert_eq!(rows.len(), (3 + 2) * 2 * 3 * 8);
    // 2PC's rows are asserted in gray_lamport_2pc.rs, 2PC over consensus's in
    // replicated_2pc_costs.rs.
    let paxos = ["paxos-commit", "faster-paxos-commit"];
    for r in rows.iter().filter(|r| paxos.contains(&r.protocol.as_str())) {
        let ctx = format!("{r:?}");
        let (n, f) = (u64::from(r.rms), u64::from(r.f));
        assert_eq!(Some(r.disk_writes), r.expected_disk_writes, "{ctx}: N + F + 1 writes");
        if r.messages_formula_applies {
            assert_eq!(Some(r.messages), r.expected_messages, "{ctx}");
        } else if r.colocated {
            // Not enough RM hosts: F + 1 − N normal-case acceptors on hosts of their own cost
            // one message each over the formula (Faster: two).
            let extra = f + 1 - n;
            let per_extra = if r.protocol == "faster-paxos-commit" { 2 } else { 1 };
            assert_eq!(r.messages, r.expected_messages.unwrap() + per_extra * extra, "{ctx}");
        } else {
            // Faster, not co-located: the paper gives no count; ours is N(2F + 3).
            assert_eq!(r.messages, n * (2 * f + 3), "{ctx}");
        }
        if r.delays_formula_applies {
            assert_eq!(Some(r.message_delays), r.expected_delays, "{ctx}");
        } else if r.rms == 1 {
            // No Prepare round: 2a, 2b, outcome (Faster: 2a, 2b); co-located, all local.
            let alone = if r.protocol == "faster-paxos-commit" { 2 } else { 3 };
            let expect = if r.colocated && r.f == 0 {
                0
            } else if r.colocated {
                2
            } else {
                alone
            };
            assert_eq!(r.message_delays, expect, "{ctx}");
        } else {
            // Co-located Paxos Commit, F = 0 (it is 2PC) or N = 2, F = 1.
            assert_eq!(r.message_delays, 3, "{ctx}");
        }
    }
}

#[test]
fn the_papers_example_five_rms_one_fault_co_located() {
    assert_eq!(row("paxos-commit", 5, 1, true).messages, 17);
    assert_eq!(row("faster-paxos-commit", 5, 1, true).messages, 20);
    let pc = row("paxos-commit", 5, 1, true);
    assert_eq!((pc.message_delays, pc.disk_writes), (4, 7));
    let faster = row("faster-paxos-commit", 5, 1, true);
    assert_eq!((faster.message_delays, faster.disk_writes), (3, 7));
}

#[test]
fn with_f_zero_co_located_paxos_commit_costs_what_2pc_does() {
    for n in 2..=8u32 {
        let r = row("paxos-commit", n, 0, true);
        let n = u64::from(n);
        assert_eq!(r.messages, 3 * n - 3, "2PC co-located: 3N − 3");
        assert_eq!(r.message_delays, 3, "2PC co-located: 3 delays");
        assert_eq!(r.disk_writes, n + 1, "2PC: N + 1 writes");
    }
}
