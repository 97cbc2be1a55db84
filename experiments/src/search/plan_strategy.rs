//! The proptest sampler over a [`FaultSpace`]: strategies for the builder's draws, built to
//! shrink toward readable counterexamples. The space, its ranges and the mapping from draws
//! to faults live in `sim_core::plans`; only the shrinking is decided here.
//!
//! - Times are absolute and shrink toward 0; a recovery delay shrinks toward "never".
//! - Node draws are plain integers the builder reduces modulo the targets, so shrinking a
//!   draw walks toward node 0 (the coordinator in every commit layout) instead of being
//!   rejected; the extra targets (e.g. acceptors) come after, in shrink order.
//! - Mark triggers come first and shrink toward the first of the space's marks.
//! - Nothing is ever rejected (no `prop_filter`), and the crash limit is a map: every shrink
//!   step yields a runnable plan, so shrinking never stalls on rejections.
//! - Faults are a `Vec`, so shrinking first drops whole faults, then simplifies the rest.
//!
//! The strategies are exactly those the search has always used (a half-open range for
//! latencies and recovery delays, one short of the space's bound): the pinned minimal
//! counterexamples and case counts depend on every one of them.

use std::ops::{Range, RangeInclusive};

use proptest::collection::vec;
use proptest::prelude::*;
use sim_core::{ActionDraw, FaultClass, FaultKind, FaultPlan, FaultSpace, TriggerDraw};

/// Plans of 1..=max_faults faults from the allowed classes.
pub fn plans(space: &FaultSpace) -> BoxedStrategy<FaultPlan> {
    space.validate().expect("a valid fault space");
    let fault = (trigger(space), action(space));
    let space = space.clone();
    vec(fault, 1..=space.max_faults)
        .prop_map(move |draws| {
            space.plan(draws.into_iter().map(|(t, a)| space.fault(t, a)).collect())
        })
        .boxed()
}

fn trigger(space: &FaultSpace) -> BoxedStrategy<TriggerDraw> {
    let time = space.times().prop_map(|at_us| TriggerDraw::Time { at_us });
    if space.marks.is_empty() {
        return time.boxed();
    }
    let mark = (0..space.marks.len(), FaultSpace::MARK_NTH)
        .prop_map(|(index, nth)| TriggerDraw::Mark { index, nth });
    // Marks first: a counterexample reads better as "at all-votes-in" than "at 12345 us".
    prop_oneof![mark, time].boxed()
}

/// One strategy per enabled kind, in the space's order.
fn action(space: &FaultSpace) -> BoxedStrategy<ActionDraw> {
    let options = space.kinds().into_iter().map(|kind| draws(space, kind));
    proptest::strategy::Union::new(options).boxed()
}

fn draws(space: &FaultSpace, kind: FaultKind) -> BoxedStrategy<ActionDraw> {
    match kind {
        FaultKind::Crash => {
            // Without the recover class a crash is crash-stop; with it, it may come back.
            let recover_after: BoxedStrategy<Option<u64>> = if space.allows(FaultClass::Recover) {
                proptest::option::of(below_end(space.recovery_delays())).boxed()
            } else {
                Just(None).boxed()
            };
            (node(), recover_after)
                .prop_map(|(node, recover_after_us)| ActionDraw::Crash { node, recover_after_us })
                .boxed()
        }
        FaultKind::Recover => node().prop_map(|node| ActionDraw::Recover { node }).boxed(),
        // A side is a bit mask over the targets; the others form the other side.
        FaultKind::Partition => {
            any::<u64>().prop_map(|mask| ActionDraw::Partition { side: vec![mask] }).boxed()
        }
        FaultKind::Heal => Just(ActionDraw::Heal).boxed(),
        FaultKind::CutOneWay => {
            (node(), node()).prop_map(|(from, to)| ActionDraw::CutOneWay { from, to }).boxed()
        }
        FaultKind::HealLink => {
            (node(), node()).prop_map(|(a, b)| ActionDraw::HealLink { a, b }).boxed()
        }
        FaultKind::Drop => (links(), FaultSpace::PERMILLE)
            .prop_map(|(links, permille)| ActionDraw::Drop { links, permille })
            .boxed(),
        FaultKind::Duplicate => (links(), FaultSpace::PERMILLE)
            .prop_map(|(links, permille)| ActionDraw::Duplicate { links, permille })
            .boxed(),
        FaultKind::Delay => (
            links(),
            below_end(FaultSpace::LATENCY_MIN_US),
            below_end(FaultSpace::LATENCY_EXTRA_US),
        )
            .prop_map(|(links, min_us, extra_us)| ActionDraw::Delay { links, min_us, extra_us })
            .boxed(),
        FaultKind::ClockDrift => (node(), FaultSpace::DRIFT_PPM)
            .prop_map(|(node, ppm)| ActionDraw::ClockDrift { node, ppm })
            .boxed(),
    }
}

/// A node draw: any integer, shrinking toward 0 (node 0).
fn node() -> impl Strategy<Value = u64> + Clone {
    any::<u32>().prop_map(u64::from)
}

/// Every link, or (shrinking toward every link) those touching one node.
fn links() -> impl Strategy<Value = Option<u64>> {
    prop_oneof![Just(None), node().prop_map(Some)]
}

/// `range` without its upper bound (never empty): the search's historical draws.
fn below_end(range: RangeInclusive<u64>) -> Range<u64> {
    let (lo, hi) = range.into_inner();
    lo..hi.max(lo + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use sim_core::{Action, CrashLimit, Fault, NodeId, Trigger};

    fn space(classes: Vec<FaultClass>) -> FaultSpace {
        FaultSpace {
            nodes: 4,
            horizon_us: 100_000,
            classes,
            max_faults: 5,
            marks: vec![(NodeId(0), "all-votes-in".into()), (NodeId(1), "voted-yes".into())],
            extra_nodes: vec![],
            crash_limit: None,
        }
    }

    #[test]
    fn generated_plans_are_valid_and_use_only_allowed_classes() {
        let mut runner = TestRunner::deterministic();
        let s = plans(&space(vec![FaultClass::Crash]));
        for _ in 0..500 {
            let plan = s.new_tree(&mut runner).unwrap().current();
            plan.validate(4).unwrap();
            assert!(!plan.is_empty() && plan.faults.len() <= 5);
            for f in &plan.faults {
                assert!(matches!(f.action, Action::Crash { recover_after_us: None, .. }), "{f:?}");
            }
        }
        let all = plans(&space(FaultClass::ALL.to_vec()));
        for _ in 0..500 {
            all.new_tree(&mut runner).unwrap().current().validate(4).unwrap();
        }
    }

    #[test]
    fn extra_nodes_are_reachable_and_the_crash_limit_holds() {
        let mut runner = TestRunner::deterministic();
        let acceptors = vec![NodeId(6), NodeId(7), NodeId(8)];
        let mut sp = space(vec![FaultClass::Crash]);
        sp.extra_nodes = acceptors.clone();
        sp.crash_limit = Some(CrashLimit { nodes: acceptors.clone(), max: 1 });
        let s = plans(&sp);
        let mut hit_extra = false;
        for _ in 0..2_000 {
            let plan = s.new_tree(&mut runner).unwrap().current();
            let mut crashed: Vec<NodeId> = plan
                .faults
                .iter()
                .filter_map(|f| match f.action {
                    Action::Crash { node, .. } => Some(node),
                    _ => None,
                })
                .collect();
            assert!(crashed.iter().all(|n| n.0 < 4 || acceptors.contains(n)), "{plan:?}");
            crashed.retain(|n| acceptors.contains(n));
            crashed.dedup();
            hit_extra |= !crashed.is_empty();
            assert!(crashed.len() <= 1, "at most one acceptor crashes: {plan:?}");
        }
        assert!(hit_extra, "the extra nodes are reachable");
    }

    #[test]
    fn shrinking_reaches_a_single_crash_of_node_0_at_the_first_mark() {
        // Property "no plan crashes anyone": the minimal counterexample is one crash, of
        // node 0, with no recovery, on the first mark.
        let mut runner = TestRunner::deterministic();
        let s = plans(&space(vec![FaultClass::Crash, FaultClass::Recover, FaultClass::Drop]));
        let mut tree = loop {
            let t = s.new_tree(&mut runner).unwrap();
            if t.current().faults.iter().any(|f| matches!(f.action, Action::Crash { .. })) {
                break t;
            }
        };
        let fails =
            |p: &FaultPlan| p.faults.iter().any(|f| matches!(f.action, Action::Crash { .. }));
        let mut steps = 0;
        loop {
            steps += 1;
            assert!(steps < 10_000, "shrinking must terminate");
            if fails(&tree.current()) {
                if !tree.simplify() {
                    break;
                }
            } else if !tree.complicate() {
                break;
            }
        }
        let minimal = tree.current();
        assert!(fails(&minimal));
        assert_eq!(
            minimal.faults,
            vec![Fault {
                trigger: Trigger::Mark { node: NodeId(0), mark: "all-votes-in".into(), nth: 1 },
                action: Action::Crash { node: NodeId(0), recover_after_us: None },
            }]
        );
    }
}
