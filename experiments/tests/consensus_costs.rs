//! Steady-state messages, forced writes and delays per committed command of every correct
//! replicated log, measured against its formula as README states it (see
//! `experiments::sweep::steady_state`). A consensus family without a formula fails here:
//! state one in `steady_state::formula` and README.

use experiments::sweep::steady_state;

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

/// The textbook counts alone (Raft 2(N−1), Multi-Paxos 3(N−1)) are below what these
/// implementations send: the re-sends are real and the measurement sees them.
#[test]
fn the_textbook_count_without_re_sends_is_too_low() {
    for (p, base) in [("raft", 2.0), ("multi-paxos", 3.0)] {
        let m = steady_state::measure(p, 5, 1).unwrap();
        assert!(m.messages_per_command > base * 4.0 + 4.0 * m.tolerance, "{p}: {m:?}");
    }
}
