//! Consensus properties of a replicated log and its key-value clients, as pure functions of
//! the history (Ongaro & Ousterhout §5.2–5.4; Herlihy & Wing for linearizability).
//!
//! - `election-safety`: at most one leader per term (ballot, epoch).
//! - `state-machine-safety`: no two replicas apply different entries at one index, and each
//!   replica applies entries in index order, each once per life (a recovered replica
//!   rebuilds its state machine from index 1).
//! - `linearizability`: the client's operations, with their invocation and return times,
//!   have a linearization per key ([`linearizability`]).
//! - `log-matching`: if two leaders' logs (as each started its term) hold an entry with the
//!   same index and term, they agree on every entry up to it (§5.3).
//! - `leader-completeness`: every entry committed (applied anywhere) before a leader was
//!   elected is in that leader's log at its index, with its term (§5.4).
//! - ZAB's `primary-order`, `integrity` and `total-order` ([`zab`]), judged for a family
//!   that reports primary broadcasts and deliveries, not applicable for the others.
//! - `termination` (liveness; judged only when a liveness phase ran): every operation a live
//!   client invoked returned, and every replica applied every entry that answered a client.
//!
//! The commit properties (AC1–AC4, blocking, durability, conservation) say nothing about a
//! replicated log and are reported as not applicable.

pub mod facts;
pub mod linearizability;
pub mod zab;
pub mod zab_facts;

use std::collections::BTreeMap;

use protocols::consensus::KvCall;

use crate::history::History;
use crate::verdict::{Property, Verdict, Violation};
use linearizability::{KeyOp, Outcome};

/// The verdict of `p` when `h` is a replicated log's history; `None` for any other history.
pub fn for_consensus(h: &History, p: Property) -> Option<Verdict> {
    let c = h.consensus();
    if !c.active {
        return None;
    }
    Some(match p {
        Property::ElectionSafety => election_safety(h),
        Property::StateMachineSafety => state_machine_safety(h),
        Property::Linearizability => linearizability(h),
        Property::LogMatching => log_matching(h),
        Property::LeaderCompleteness => leader_completeness(h),
        Property::Termination => termination(h),
        Property::PrimaryOrder => zab::primary_order(h),
        Property::Integrity => zab::integrity(h),
        Property::TotalOrder => zab::total_order(h),
        Property::NoPanic => return None,
        _ => Verdict::NotApplicable {
            reason: "a replicated log decides no transaction: see the consensus properties".into(),
        },
    })
}

pub(crate) fn violation(p: Property, nodes: Vec<sim_core::NodeId>, detail: String) -> Violation {
    Violation {
        property: p,
        txn: None,
        nodes,
        detail,
        since: None,
        waiting_on: None,
        decisions: Vec::new(),
    }
}

pub fn election_safety(h: &History) -> Verdict {
    let v = h
        .consensus()
        .leaders
        .iter()
        .filter(|(_, l)| l.len() > 1)
        .map(|(term, l)| {
            let names: Vec<String> = l.iter().map(|n| n.to_string()).collect();
            violation(
                Property::ElectionSafety,
                l.clone(),
                format!("term {term} has {} leaders: {}", l.len(), names.join(", ")),
            )
        })
        .collect();
    Verdict::from_violations(v)
}

pub fn state_machine_safety(h: &History) -> Verdict {
    let c = h.consensus();
    let entry = |op: u64, term: u64| {
        if op == 0 { format!("the no-op of term {term}") } else { format!("op {op} (term {term})") }
    };
    let mut v: Vec<Violation> = c
        .divergent
        .iter()
        .map(|(index, a, b)| {
            violation(
                Property::StateMachineSafety,
                vec![a.node, b.node],
                format!(
                    "index {index}: {} applied {}, {} applied {}",
                    a.node,
                    entry(a.op, a.term),
                    b.node,
                    entry(b.op, b.term)
                ),
            )
        })
        .collect();
    v.extend(c.out_of_order.iter().map(|(node, expected, got)| {
        violation(
            Property::StateMachineSafety,
            vec![*node],
            format!("{node} applied index {got} when index {expected} was next"),
        )
    }));
    Verdict::from_violations(v)
}

/// Without the leaders' logs (a family that does not report them) the log properties are not
/// judged.
fn no_leader_logs(h: &History) -> Option<Verdict> {
    let c = h.consensus();
    (c.leader_logs.is_empty() && !c.leaders.is_empty()).then(|| Verdict::NotApplicable {
        reason: "the protocol reports no leader logs (LeaderLog facts)".into(),
    })
}

pub fn log_matching(h: &History) -> Verdict {
    if let Some(v) = no_leader_logs(h) {
        return v;
    }
    let logs = &h.consensus().leader_logs;
    let mut v = Vec::new();
    for (k, a) in logs.iter().enumerate() {
        for b in &logs[k + 1..] {
            let shared = a.terms.len().min(b.terms.len());
            let first_diff = (0..shared).find(|&i| a.terms[i] != b.terms[i]);
            let last_same = (0..shared).rev().find(|&i| a.terms[i] == b.terms[i]);
            if let (Some(d), Some(s)) = (first_diff, last_same)
                && s > d
            {
                v.push(violation(
                    Property::LogMatching,
                    vec![a.node, b.node],
                    format!(
                        "the logs {} started term {} with and {} started term {} with both hold \
                         index {} of term {}, yet differ at index {} (terms {} and {})",
                        a.node,
                        a.term,
                        b.node,
                        b.term,
                        s + 1,
                        a.terms[s],
                        d + 1,
                        a.terms[d],
                        b.terms[d]
                    ),
                ));
            }
        }
    }
    Verdict::from_violations(v)
}

/// Leader completeness as Raft states it (§5.4): an entry committed in a term is in the log
/// of every leader of a higher term. An entry applied by time `t` was committed in a term no
/// higher than the highest term won by `t`; so a leader elected after it, of a term above
/// that, must start with it. A leader of a lower term elected late in real time (its votes
/// were delayed) is bound to nothing: it can commit nothing either.
pub fn leader_completeness(h: &History) -> Verdict {
    if let Some(v) = no_leader_logs(h) {
        return v;
    }
    let c = h.consensus();
    // The highest term won at or before `t` (leader logs are in time order).
    let term_by = |t: sim_core::Time| {
        c.leader_logs.iter().take_while(|l| l.at <= t).map(|l| l.term).max().unwrap_or(0)
    };
    let mut v = Vec::new();
    for log in &c.leader_logs {
        let missing = c.applied.iter().find(|(index, a)| {
            a.at <= log.at
                && term_by(a.at) < log.term
                && log.terms.get(**index as usize - 1) != Some(&a.term)
        });
        if let Some((index, a)) = missing {
            v.push(violation(
                Property::LeaderCompleteness,
                vec![log.node, a.node],
                format!(
                    "{} became leader of term {} without index {index} (term {}), which {} had \
                     applied at {}us",
                    log.node,
                    log.term,
                    a.term,
                    a.node,
                    a.at.as_us()
                ),
            ));
        }
    }
    Verdict::from_violations(v)
}

pub fn linearizability(h: &History) -> Verdict {
    let c = h.consensus();
    let mut by_key: BTreeMap<u32, Vec<KeyOp>> = BTreeMap::new();
    for (&id, f) in &c.ops {
        by_key.entry(f.key).or_default().push(KeyOp::from((id, f)));
    }
    let mut violations = Vec::new();
    for (key, ops) in &by_key {
        match linearizability::check_key(ops) {
            Outcome::Linearizable => {}
            Outcome::TooLarge => {
                return Verdict::NotApplicable {
                    reason: format!(
                        "key {key}'s history is too large to decide ({} operations, more than {} \
                         search states)",
                        ops.len(),
                        linearizability::STATES_MAX
                    ),
                };
            }
            Outcome::Not { witness } => {
                let shown: Vec<String> = witness.iter().map(describe).collect();
                violations.push(violation(
                    Property::Linearizability,
                    witness
                        .iter()
                        .filter_map(|o| c.ops.get(&o.id).map(|f| f.client))
                        .take(1)
                        .collect(),
                    format!("key {key}: no order explains these answers: {}", shown.join("; ")),
                ));
            }
        }
    }
    Verdict::from_violations(violations)
}

fn describe(o: &KeyOp) -> String {
    let call = match o.call {
        KvCall::Put { value } => format!("put {value}"),
        KvCall::Get => "get".to_string(),
        KvCall::Cas { expect, new } => {
            format!("cas {} -> {new}", expect.map_or("none".into(), |e| e.to_string()))
        }
    };
    let at = |t: sim_core::Time| format!("{}us", t.as_us());
    match o.returned {
        Some((t, r)) => format!("op {} {call} [{}, {}] -> {r:?}", o.id, at(o.invoked), at(t)),
        None => format!("op {} {call} [{}, never returned]", o.id, at(o.invoked)),
    }
}

pub fn termination(h: &History) -> Verdict {
    if !h.liveness_phase() {
        return Verdict::NotApplicable {
            reason: "no liveness phase (all up, all healed) ran: termination is not judged".into(),
        };
    }
    let c = h.consensus();
    let mut v: Vec<Violation> = c
        .ops
        .iter()
        .filter(|(_, f)| f.returned.is_none() && !c.crashed_clients.contains(&f.client))
        .map(|(id, f)| {
            violation(
                Property::Termination,
                vec![f.client],
                format!("op {id} never returned, though its client stayed up"),
            )
        })
        .collect();
    // Every entry that answered a client is applied on every replica by the end.
    let answered = c
        .applied
        .iter()
        .filter(|(_, a)| c.ops.get(&a.op).is_some_and(|f| f.returned.is_some()))
        .map(|(&i, _)| i)
        .max();
    if let Some(index) = answered {
        for (node, &through) in &c.applied_through {
            if through < index {
                v.push(violation(
                    Property::Termination,
                    vec![*node],
                    format!("{node} applied through index {through}, short of {index}"),
                ));
            }
        }
    }
    Verdict::from_violations(v)
}
