//! Gray & Lamport's cost table (*Consensus on Transaction Commit*, Table 1), measured.
//!
//! [`measure`] runs one fault-free commit of N resource managers with the protocol named and
//! COUNTS, from the run's full trace (never from a formula):
//! - `messages`: network messages among the TM, the RMs and the acceptors. The client's
//!   request and reply are not counted (in the paper the initiating RM is the application),
//!   nor are local messages between co-located processes.
//! - `message_delays`: the longest causal chain of network messages ending where an RM learns
//!   the outcome. Each message's depth is its sender's depth (the depth of the message whose
//!   handler sent it, 0 for the client's request) plus one if it crossed the network, plus
//!   zero if it was local.
//! - `disk_writes`: forced writes before the first RM learns the outcome — the writes a
//!   commit waits for. The RMs' own decision records come after the outcome is fixed, off the
//!   critical path, and Gray & Lamport's N + 1 and N + F + 1 leave them out too;
//!   `disk_writes_total` keeps them.
//!
//! Beside each measurement stand the paper's formulas. Where a formula does not apply the row
//! says so (`messages_formula_applies` / `delays_formula_applies`), with the reason below.
//!
//! Counting conventions, and where the measurements leave the formulas:
//! - Paxos Commit's normal case addresses only F + 1 of the 2F + 1 acceptors (ballot 0), and
//!   each acceptor batches its phase 2b for all N instances into one message and one write,
//!   as the paper assumes; with those conventions the non-co-located count is exactly
//!   (N + 1)(F + 3) − 2. (Sending phase 2a to all 2F + 1 acceptors would add N·F messages.)
//! - Co-location puts the TM on the initiating RM's host and acceptor j on RM j + 1's host.
//!   When N < F + 1 there are not enough RM hosts: the remaining F + 1 − N normal-case
//!   acceptors need hosts of their own (two acceptors on one host would fail together). The
//!   formula silently assumes N ≥ F + 1; measured, Paxos Commit then costs N·F + 2N + F − 2
//!   messages (F + 1 − N over the formula) and Faster 2N·F + N − 1 (2(F + 1 − N) over). Those
//!   rows are marked as outside the formula.
//! - Delays: with N = 1 there is no Prepare round (the initiating RM is the only RM), so the
//!   chain is shorter than the paper's; with F = 0, co-located Paxos Commit's single acceptor
//!   shares the TM's host, phase 2b is local and the commit takes 2PC's 3 delays, not 4 (the
//!   paper's "F = 0 is 2PC" made literal); likewise with N = 2, F = 1, where the only remote
//!   acceptor sits on the only prepared RM's host. Messages and disk writes match there.
//! - 2PC is measured in Gray & Lamport's shape ([`crate::two_pc::Shape::GrayLamport`]: the
//!   initiating RM prepares first and sends Prepared to the TM, no acks), the shape their
//!   3N − 1 / 4 and 3N − 3 / 3 count; it runs as a configuration of the `2pc` module, not a
//!   catalog name (listing it would add rows to every catalog-wide study and sweep). Its
//!   forced writes are the N prepared records and the TM's decision, N + 1. With N = 1 there
//!   is no Prepare round: 2 delays (0 co-located), outside the delay formula like Paxos
//!   Commit's N = 1 rows; messages still match 3N − 1 and 3N − 3.
//! - Only the transaction's own causal chain is counted: messages sent by the client, or by a
//!   handler that a counted message started, and the forced writes of such handlers. A
//!   handler a timer or a (re)start begins counts nothing: 2PC over consensus
//!   (`2pc-raft`, `2pc-multipaxos`) elects its leader before the client starts and sends
//!   heartbeats throughout, which are the log's upkeep, not the commit's. Every message and
//!   write of the other protocols' fault-free commit is in that chain, so their rows are as
//!   before.
//! - 2PC over consensus runs in Gray & Lamport's shape too, with 2F + 1 coordinator members
//!   (co-located: the leader on the initiating RM's host, member j on RM j + 1's). The paper
//!   gives no formula for it, only that Paxos Commit saves one message delay over 2PC with a
//!   Paxos-replicated TM (§6): the decision's replication round adds two delays to 2PC's
//!   four, one more than Paxos Commit's five; that count (6, co-located 5) is its expected
//!   delay (with F = 0 the group of one commits alone: 2PC's delays). Its begun entry is
//!   replicated beside Prepare, off the critical path, so its messages count but not its
//!   delays. These rows run with one constant latency on every link (the default's 10 ms
//!   bound, the paper's unit delay): with latencies drawn per message a heartbeat sent after
//!   the decision entry could overtake it and commit it outside the chain.
//! - Faster Paxos Commit's TM learns nothing in the normal case (the acceptors answer the
//!   RMs), which is what makes (N − 1)(2F + 3) co-located; the paper gives no non-co-located
//!   message count, so none is expected.

use serde::{Deserialize, Serialize};
use sim_core::{NodeId, TraceLevel};

use protocols::{Fact, Observation, Roles, Scenario, ScenarioError, TraceFact};

/// The protocols of the paper's table, in column order.
pub const PROTOCOLS: [&str; 3] = ["2pc", "paxos-commit", "faster-paxos-commit"];

/// 2PC over consensus: 2PC whose TM is a replicated group (the paper's §6 comparison), after
/// the paper's protocols in the table.
pub const REPLICATED: [&str; 2] = ["2pc-raft", "2pc-multipaxos"];

/// One row of the table: what was measured and what the paper predicts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRow {
    pub protocol: String,
    pub rms: u32,
    pub f: u32,
    pub colocated: bool,
    pub messages: u64,
    pub message_delays: u64,
    pub disk_writes: u64,
    pub disk_writes_total: u64,
    pub expected_messages: Option<u64>,
    pub expected_delays: Option<u64>,
    pub expected_disk_writes: Option<u64>,
    /// False where the paper's message formula assumes more hosts than there are.
    pub messages_formula_applies: bool,
    /// False where the paper's delay count assumes steps this configuration skips.
    pub delays_formula_applies: bool,
}

/// The paper's predictions for one configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    pub messages: Option<u64>,
    pub delays: Option<u64>,
    pub disk_writes: Option<u64>,
    pub messages_formula_applies: bool,
    pub delays_formula_applies: bool,
}

/// The paper's formulas, and whether they apply (see the module docs).
pub fn expected(protocol: &str, n: u64, f: u64, colocated: bool) -> Expected {
    // Hosts matter only to the acceptors' placement; 2PC has none.
    let enough_hosts = !colocated || n > f || protocol == "2pc";
    // With one RM there is no Prepare round; with F = 0 co-located Paxos Commit's only
    // acceptor shares the TM's host, so phase 2b is local (it is 2PC, 3 delays).
    // With N = 2, F = 1 the only remote acceptor shares the only prepared RM's host, so
    // the longest chain is again 3.
    let pc_colocated = protocol == "paxos-commit" && colocated;
    let delays_apply = n >= 2 && !(pc_colocated && (f == 0 || (n == 2 && f == 1)));
    if REPLICATED.contains(&protocol) {
        // Paxos Commit's delays plus one (see the module docs); no message or write formula.
        return Expected {
            messages: None,
            delays: Some(if colocated { 5 } else { 6 }),
            disk_writes: None,
            messages_formula_applies: false,
            // F = 0: a group of one commits its entries alone (no replication round).
            delays_formula_applies: n >= 2 && f >= 1,
        };
    }
    let (messages, delays) = match (protocol, colocated) {
        ("paxos-commit", false) => (Some((n + 1) * (f + 3) - 2), Some(5)),
        ("paxos-commit", true) => (Some(n * (f + 3) - 3), Some(4)),
        ("faster-paxos-commit", false) => (None, Some(4)),
        ("faster-paxos-commit", true) => (Some((n - 1) * (2 * f + 3)), Some(3)),
        ("2pc", false) => (Some(3 * n - 1), Some(4)),
        ("2pc", true) => (Some(3 * n - 3), Some(3)),
        _ => (None, None),
    };
    // 2PC: N prepared records and the TM's decision; Paxos Commit: the acceptors' F + 1
    // batched phase 2b writes instead of the TM's.
    let writes = if protocol == "2pc" { n + 1 } else { n + f + 1 };
    Expected {
        messages,
        delays,
        disk_writes: messages.or(delays).map(|_| writes),
        messages_formula_applies: messages.is_some() && enough_hosts,
        delays_formula_applies: delays.is_some() && delays_apply,
    }
}

/// Runs one fault-free commit and measures it (see the module docs).
pub fn measure(
    protocol: &str,
    rms: u32,
    f: u32,
    colocated: bool,
) -> Result<CostRow, ScenarioError> {
    measure_with_groups(protocol, rms, f, colocated, 1)
}

/// [`measure`] of 2PC over consensus with every RM a group of `participant_replicas` too
/// (Gray & Lamport's "2PC with every party replicated"; 1: the RMs are single nodes). The
/// paper gives no formula for it: the row's expectations are none.
pub fn measure_with_groups(
    protocol: &str,
    rms: u32,
    f: u32,
    colocated: bool,
    participant_replicas: u32,
) -> Result<CostRow, ScenarioError> {
    let mut s = Scenario::new(protocol, rms, 1, 1).with("colocated", colocated);
    if participant_replicas > 1 {
        s = s.with("participant_replicas", participant_replicas);
    }
    if protocol == "2pc" || REPLICATED.contains(&protocol) {
        // 2PC in Gray & Lamport's shape: the initiating RM prepares first, no acks. 2PC
        // tolerates no faults, so F only labels the row.
        s = s.with("gray_lamport_shape", true);
    }
    if REPLICATED.contains(&protocol) {
        // One latency on every link (the default's bound), as the paper's unit delays: with
        // latencies drawn per message, a heartbeat sent after the decision entry could
        // overtake it and commit it outside the transaction's chain.
        s.network.default.latency = sim_core::Latency::Constant { us: 10_000 };
    }
    if protocol != "2pc" {
        s = s.with("f", f);
    }
    s.trace = TraceLevel::Full;
    s.liveness_bound_us = None;
    let outcome = protocols::run(&s)?;
    let counts = count(&outcome.facts(), &outcome.report.roles);
    let mut e = expected(protocol, u64::from(rms), u64::from(f), colocated);
    if participant_replicas > 1 {
        e = Expected {
            messages: None,
            delays: None,
            disk_writes: None,
            messages_formula_applies: false,
            delays_formula_applies: false,
        };
    }
    Ok(CostRow {
        protocol: protocol.to_string(),
        rms,
        f,
        colocated,
        messages: counts.messages,
        message_delays: counts.message_delays,
        disk_writes: counts.disk_writes,
        disk_writes_total: counts.disk_writes_total,
        expected_messages: e.messages,
        expected_delays: e.delays,
        expected_disk_writes: e.disk_writes,
        messages_formula_applies: e.messages_formula_applies,
        delays_formula_applies: e.delays_formula_applies,
    })
}

/// What one run's trace shows (see the module docs).
struct Counts {
    messages: u64,
    message_delays: u64,
    disk_writes: u64,
    disk_writes_total: u64,
}

fn count(events: &[TraceFact], roles: &Roles) -> Counts {
    let local = |a: NodeId, b: NodeId| roles.same_host(a, b);
    let is_client = |n: NodeId| roles.is(n, "client");
    let is_rm = |n: NodeId| roles.is(n, "participant");

    // Per counted message, its depth; per node, the deepest counted message it received and
    // whether its current handler was started by a counted message.
    let mut depth_of_msg = std::collections::BTreeMap::new();
    let mut current = vec![0u64; roles.nodes() as usize];
    let mut in_chain = vec![false; roles.nodes() as usize];
    let (mut messages, mut delays) = (0, 0);
    let (mut writes, mut writes_total, mut learnt) = (0, 0, false);
    for ev in events {
        let node = ev.node;
        match &ev.what {
            // A node's depth is the longest chain that has reached it so far (a Lamport
            // clock that ticks only on network messages): an acceptor's batched phase 2b
            // depends on every phase 2a before it, not only the last.
            Fact::Deliver { id, .. } => {
                let depth = depth_of_msg.get(id).copied();
                in_chain[node.index()] = depth.is_some();
                let d = &mut current[node.index()];
                *d = (*d).max(depth.unwrap_or(0));
            }
            Fact::Wake => in_chain[node.index()] = false,
            Fact::Send { to, id } if is_client(node) || in_chain[node.index()] => {
                let network = !local(node, *to) && !is_client(node) && !is_client(*to);
                depth_of_msg.insert(*id, current[node.index()] + u64::from(network));
                messages += u64::from(network);
            }
            Fact::Persist { decision } if in_chain[node.index()] => {
                writes_total += 1;
                let rm_decision = is_rm(node) && decision.is_some();
                if !learnt && !rm_decision {
                    writes += 1;
                }
            }
            Fact::Observe(Observation::Decided { .. }) if is_rm(node) && in_chain[node.index()] => {
                learnt = true;
                delays = delays.max(current[node.index()]);
            }
            _ => {}
        }
    }
    Counts {
        messages,
        message_delays: delays,
        disk_writes: writes,
        disk_writes_total: writes_total,
    }
}

/// The whole table: 2PC (Gray & Lamport's shape), both Paxos Commit variants and 2PC over
/// consensus, N = 1..=8, F = 0..=2, co-located or not. 2PC ignores F; its rows repeat for
/// every F so that the table is a full grid (the CSV compares protocols at equal N and F).
pub fn table() -> Result<Vec<CostRow>, ScenarioError> {
    let mut rows = Vec::new();
    for protocol in PROTOCOLS.into_iter().chain(REPLICATED) {
        for colocated in [false, true] {
            for f in 0..=2 {
                for rms in 1..=8 {
                    rows.push(measure(protocol, rms, f, colocated)?);
                }
            }
        }
    }
    Ok(rows)
}
