//! The history's compact per-transaction layout (no times it never reads, outcome sets,
//! prepared deltas in an arena, checkers that build a witness only for a failing
//! transaction) judges every random history exactly as a straightforward reference does:
//! one that keeps no index and answers each question by scanning the raw facts.
//!
//! The index packs each transaction's nodes a byte each while their ids are below 32 and
//! the transaction's list is short, and moves the list aside otherwise: the histories here
//! name nodes on both sides of 32, and pile many facts on transaction 1, so both ways are
//! judged (and a list that moves aside midway).

use std::collections::BTreeSet;

use checkers::Property;
use checkers::{
    BankTotals, History, Verdict, Violation, WaitingOn, atomicity, end_to_end, liveness,
};
use proptest::prelude::*;
use protocols::{Happened, Observation, Outcome, RunFact, TxnId, Vote};
use sim_core::{NodeId, Time};

const TXNS: u64 = 4;

/// Mostly nodes 0..5; now and then one whose id does not fit the index's byte.
fn node() -> impl Strategy<Value = NodeId> {
    prop_oneof![6 => 0..5u32, 1 => 30..34u32].prop_map(NodeId)
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![Just(Outcome::Commit), Just(Outcome::Abort)]
}

/// One fact about transaction 1..=TXNS at node 0..NODES (or a crash).
fn fact() -> impl Strategy<Value = RunFact> {
    // Transaction 1 often, so that its list grows long.
    let txn = prop_oneof![Just(1), 1..=TXNS].prop_map(TxnId);
    let obs = prop_oneof![
        (txn.clone(), proptest::collection::vec(node(), 0..10))
            .prop_map(|(txn, participants)| Observation::Submitted { txn, participants }),
        (txn.clone(), prop_oneof![Just(Vote::Yes), Just(Vote::No)])
            .prop_map(|(txn, vote)| Observation::Voted { txn, vote }),
        (txn.clone(), outcome()).prop_map(|(txn, outcome)| Observation::Decided { txn, outcome }),
        (txn.clone(), outcome())
            .prop_map(|(txn, outcome)| Observation::ClientLearned { txn, outcome }),
        (txn.clone(), outcome())
            .prop_map(|(txn, outcome)| Observation::ReportedToClient { txn, outcome }),
    ];
    let what = prop_oneof![
        6 => obs.prop_map(|obs| Happened::Observed { obs }),
        2 => (txn.clone(), -2i64..=2).prop_map(|(txn, delta)| Happened::Prepared { txn, delta }),
        2 => (txn, outcome()).prop_map(|(txn, outcome)| Happened::Logged { txn, outcome }),
        1 => Just(Happened::Crashed),
    ];
    (what, node()).prop_map(|(what, node)| RunFact { time: Time::ZERO, node, what })
}

// ----- the reference: every answer scanned from the raw facts --------------------------------

fn observed(facts: &[RunFact], txn: TxnId) -> impl Iterator<Item = (NodeId, &Observation)> {
    facts.iter().filter_map(move |f| match &f.what {
        Happened::Observed { obs } if obs.txn() == txn => Some((f.node, obs)),
        _ => None,
    })
}

fn submitted(facts: &[RunFact], txn: TxnId) -> bool {
    observed(facts, txn).any(|(_, o)| matches!(o, Observation::Submitted { .. }))
}

/// The last submission's participants.
fn participants(facts: &[RunFact], txn: TxnId) -> Vec<NodeId> {
    let last = observed(facts, txn).filter_map(|(_, o)| match o {
        Observation::Submitted { participants, .. } => Some(participants.clone()),
        _ => None,
    });
    last.last().unwrap_or_default()
}

fn reported(facts: &[RunFact], txn: TxnId) -> Vec<(NodeId, Outcome)> {
    let decided = observed(facts, txn).filter_map(|(n, o)| match o {
        Observation::Decided { outcome, .. } => Some((n, *outcome)),
        _ => None,
    });
    decided.collect()
}

/// Durable decisions by node, each node's in the order it logged them.
fn durable(facts: &[RunFact], txn: TxnId) -> Vec<(NodeId, Outcome)> {
    let mut v: Vec<(NodeId, Outcome)> = (facts.iter())
        .filter_map(|f| match f.what {
            Happened::Logged { txn: t, outcome } if t == txn => Some((f.node, outcome)),
            _ => None,
        })
        .collect();
    v.sort_by_key(|d| d.0); // stable: disk order within a node
    v
}

fn decisions(facts: &[RunFact], txn: TxnId) -> Vec<(NodeId, Outcome)> {
    let mut v = reported(facts, txn);
    v.extend(durable(facts, txn));
    v
}

fn prepared(facts: &[RunFact], txn: TxnId) -> Vec<(NodeId, i64)> {
    (facts.iter())
        .filter_map(|f| match f.what {
            Happened::Prepared { txn: t, delta } if t == txn => Some((f.node, delta)),
            _ => None,
        })
        .collect()
}

fn voted(facts: &[RunFact], txn: TxnId, node: NodeId, vote: Vote) -> bool {
    observed(facts, txn).any(|(n, o)| n == node && *o == Observation::Voted { txn, vote })
}

fn voted_yes(facts: &[RunFact], txn: TxnId, node: NodeId) -> bool {
    prepared(facts, txn).iter().any(|p| p.0 == node) || voted(facts, txn, node, Vote::Yes)
}

/// Transactions anything was recorded about, ascending.
fn recorded(facts: &[RunFact]) -> Vec<TxnId> {
    (1..=TXNS)
        .map(TxnId)
        .filter(|&t| {
            let votes = observed(facts, t).any(|(_, o)| matches!(o, Observation::Voted { .. }));
            submitted(facts, t) || votes || !decisions(facts, t).is_empty()
        })
        .collect()
}

fn list(nodes: &[NodeId]) -> String {
    let v: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
    if v.is_empty() { "nobody".into() } else { v.join(", ") }
}

fn violation(
    property: Property,
    txn: Option<TxnId>,
    nodes: Vec<NodeId>,
    detail: String,
) -> Violation {
    Violation { property, txn, nodes, detail, since: None, waiting_on: None, decisions: vec![] }
}

fn deciders(facts: &[RunFact], txn: TxnId, outcome: Outcome) -> Vec<NodeId> {
    let set: BTreeSet<NodeId> =
        decisions(facts, txn).into_iter().filter(|d| d.1 == outcome).map(|d| d.0).collect();
    set.into_iter().collect()
}

fn agreement(facts: &[RunFact]) -> Verdict {
    let mut out = Vec::new();
    for t in recorded(facts) {
        let (c, a) = (deciders(facts, t, Outcome::Commit), deciders(facts, t, Outcome::Abort));
        if !c.is_empty() && !a.is_empty() {
            let detail = format!("{t}: {} committed, {} aborted", list(&c), list(&a));
            let mut v = violation(Property::Agreement, Some(t), [&c[..], &a[..]].concat(), detail);
            v.decisions = (c.iter().map(|&n| (n, Outcome::Commit)))
                .chain(a.iter().map(|&n| (n, Outcome::Abort)))
                .collect();
            out.push(v);
        }
    }
    Verdict::from_violations(out)
}

fn irreversibility(facts: &[RunFact]) -> Verdict {
    let mut out = Vec::new();
    for t in recorded(facts) {
        let all = decisions(facts, t);
        let mut seen = Vec::new();
        for &(node, first) in &all {
            if seen.contains(&node) {
                continue;
            }
            seen.push(node);
            if let Some(&(_, other)) = all.iter().find(|d| d.0 == node && d.1 != first) {
                let detail = format!("{t}: {node} decided {first}, later {other}");
                let mut v = violation(Property::Irreversibility, Some(t), vec![node], detail);
                v.decisions = vec![(node, first), (node, other)];
                out.push(v);
            }
        }
    }
    Verdict::from_violations(out)
}

fn commit_needs_all_yes(facts: &[RunFact]) -> Verdict {
    let mut out = Vec::new();
    for t in recorded(facts) {
        let committers = deciders(facts, t, Outcome::Commit);
        if committers.is_empty() {
            continue;
        }
        let missing: Vec<NodeId> = (participants(facts, t).into_iter())
            .filter(|&p| !voted_yes(facts, t, p) || voted(facts, t, p, Vote::No))
            .collect();
        let submitted = submitted(facts, t);
        if !missing.is_empty() || !submitted {
            let detail = if submitted {
                format!("{t} committed without a yes vote from {}", list(&missing))
            } else {
                format!("{t} committed but was never submitted")
            };
            let mut v = violation(Property::CommitNeedsAllYes, Some(t), missing, detail);
            v.decisions = committers.into_iter().map(|n| (n, Outcome::Commit)).collect();
            out.push(v);
        }
    }
    Verdict::from_violations(out)
}

fn commit_without_failures(facts: &[RunFact]) -> Verdict {
    if facts.iter().any(|f| f.what == Happened::Crashed) {
        return Verdict::NotApplicable { reason: "the run had failures".into() };
    }
    let mut out = Vec::new();
    for t in recorded(facts).into_iter().filter(|&t| submitted(facts, t)) {
        let ps = participants(facts, t);
        let all_yes = !ps.is_empty()
            && ps.iter().all(|&p| voted_yes(facts, t, p) && !voted(facts, t, p, Vote::No));
        let aborted = deciders(facts, t, Outcome::Abort);
        if all_yes && !aborted.is_empty() {
            let detail = format!("{t}: all voted yes, no failures, yet {} aborted", list(&aborted));
            let mut v =
                violation(Property::CommitWithoutFailures, Some(t), aborted.clone(), detail);
            v.decisions = aborted.into_iter().map(|n| (n, Outcome::Abort)).collect();
            out.push(v);
        }
    }
    Verdict::from_violations(out)
}

fn first_on_disk(facts: &[RunFact], t: TxnId, p: NodeId) -> Option<Outcome> {
    durable(facts, t).into_iter().find(|d| d.0 == p).map(|d| d.1)
}

fn durability(facts: &[RunFact], liveness: bool) -> Verdict {
    if !liveness {
        return Verdict::NotApplicable { reason: "no liveness phase ran".into() };
    }
    let mut out = Vec::new();
    for t in recorded(facts) {
        let learned = observed(facts, t).find_map(|(_, o)| match o {
            Observation::ClientLearned { outcome, .. } => Some(*outcome),
            _ => None,
        });
        let told: Vec<Outcome> = (learned.into_iter())
            .chain(observed(facts, t).filter_map(|(_, o)| match o {
                Observation::ReportedToClient { outcome, .. } => Some(*outcome),
                _ => None,
            }))
            .collect();
        let Some(&outcome) = told.first() else { continue };
        if told.iter().any(|o| *o != outcome) {
            let detail = format!("{t}: the client was told both commit and abort");
            out.push(violation(Property::Durability, Some(t), vec![], detail));
            continue;
        }
        let prepared = prepared(facts, t);
        let wrong: Vec<(NodeId, Option<Outcome>)> = (participants(facts, t).into_iter())
            .map(|p| (p, first_on_disk(facts, t, p)))
            .filter(|&(p, disk)| match outcome {
                Outcome::Commit => {
                    !(disk == Some(Outcome::Commit) && prepared.iter().any(|x| x.0 == p))
                }
                Outcome::Abort => disk == Some(Outcome::Commit),
            })
            .collect();
        if !wrong.is_empty() {
            let holds: Vec<String> = (wrong.iter())
                .map(|(n, d)| match d {
                    Some(d) => format!("{n} holds {d}"),
                    None => format!("{n} holds no decision"),
                })
                .collect();
            let detail =
                format!("{t}: the client was told {outcome}, but at the end {}", holds.join(", "));
            let nodes = wrong.iter().map(|w| w.0).collect();
            out.push(violation(Property::Durability, Some(t), nodes, detail));
        }
    }
    Verdict::from_violations(out)
}

/// AC5 (no node reports doubt in these histories, so none is in doubt again).
fn termination(facts: &[RunFact], liveness: bool) -> Verdict {
    if !liveness {
        return Verdict::NotApplicable { reason: "no liveness phase ran".into() };
    }
    let mut down: Vec<NodeId> =
        facts.iter().filter(|f| f.what == Happened::Crashed).map(|f| f.node).collect();
    down.sort_unstable();
    down.dedup();
    let mut out = Vec::new();
    for t in recorded(facts) {
        let decisions = decisions(facts, t);
        let prepared = prepared(facts, t).into_iter().map(|p| p.0);
        let mut undecided: Vec<NodeId> = (participants(facts, t).into_iter().chain(prepared))
            .filter(|&p| voted_yes(facts, t, p) && !decisions.iter().any(|d| d.0 == p))
            .collect();
        undecided.sort_unstable();
        undecided.dedup();
        if !undecided.is_empty() {
            let detail = format!(
                "{t}: {} still undecided after the liveness phase (at {})",
                list(&undecided),
                Time::ZERO
            );
            let mut v = violation(Property::Termination, Some(t), undecided, detail);
            v.waiting_on = Some(WaitingOn { down: down.clone(), cut_links: vec![] });
            out.push(v);
        }
    }
    Verdict::from_violations(out)
}

/// Conservation's arithmetic: the transactions not judged and what they applied.
fn in_flight(facts: &[RunFact], liveness: bool) -> (usize, Vec<TxnId>, i64) {
    let (mut judged, mut not_judged, mut sum) = (0, Vec::new(), 0);
    for t in recorded(facts) {
        let prepared = prepared(facts, t);
        let settled = prepared.iter().all(|p| first_on_disk(facts, t, p.0).is_some());
        let learned =
            observed(facts, t).any(|(_, o)| matches!(o, Observation::ClientLearned { .. }));
        let known = !decisions(facts, t).is_empty() || learned;
        if settled || (known && liveness) {
            judged += 1;
            continue;
        }
        not_judged.push(t);
        let mut firsts: Vec<(NodeId, i64)> = Vec::new();
        for p in prepared {
            if !firsts.iter().any(|f| f.0 == p.0) {
                firsts.push(p);
            }
        }
        sum += (firsts.iter())
            .filter(|(n, _)| first_on_disk(facts, t, *n) == Some(Outcome::Commit))
            .map(|(_, d)| d)
            .sum::<i64>();
    }
    (judged, not_judged, sum)
}

fn check(facts: &[RunFact], liveness: bool, bank: BankTotals) {
    let mut h = History::new();
    for f in facts {
        h.push(f);
    }
    let tag = |p| format!("{p:?} on {facts:#?}");
    assert_eq!(atomicity::agreement(&h), agreement(facts), "{}", tag(Property::Agreement));
    assert_eq!(atomicity::irreversibility(&h), irreversibility(facts), "irreversibility");
    assert_eq!(atomicity::commit_needs_all_yes(&h), commit_needs_all_yes(facts), "AC3");
    assert_eq!(atomicity::commit_without_failures(&h), commit_without_failures(facts), "AC4");
    assert_eq!(end_to_end::durability(&h), durability(facts, liveness), "durability");
    assert_eq!(liveness::termination(&h), termination(facts, liveness), "termination");
    let (judged, not_judged, sum) = in_flight(facts, liveness);
    assert_eq!(end_to_end::conservation_not_judged(&h, Some(bank)), not_judged);
    let conservation = end_to_end::conservation(&h, Some(bank));
    match conservation {
        Verdict::NotApplicable { .. } => assert_eq!(judged, 0),
        Verdict::Holds => assert!(judged > 0 && bank.at_end == bank.initial + sum),
        Verdict::Violated { .. } => assert!(judged > 0 && bank.at_end != bank.initial + sum),
        Verdict::Inconclusive { .. } => panic!("nothing cut this history short"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_compact_index_judges_as_the_raw_facts_do(
        facts in proptest::collection::vec(fact(), 0..60),
        liveness in any::<bool>(),
        initial in -3i64..=3,
        at_end in -6i64..=6,
    ) {
        let mut facts = facts;
        if liveness {
            facts.push(RunFact { time: Time::ZERO, node: NodeId(0), what: Happened::LivenessPhaseBegan });
        }
        check(&facts, liveness, BankTotals { initial, at_end });
    }
}
