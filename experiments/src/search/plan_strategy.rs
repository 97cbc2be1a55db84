//! The proptest sampler over a [`FaultSpace`]: strategies for the builder's draws, built to
//! shrink toward readable counterexamples. The space, its ranges and the mapping from draws
//! to faults live in `sim_core::plans`; the distribution and the shrinking are decided here.
//!
//! **Swarm** (Groce et al., "Swarm testing"): each case first draws which fault kinds and
//! which nodes are on (each on with probability 1/2; none on means all), then its faults
//! from those only; mark and send triggers come from the marks and send points of the nodes
//! that are on. A bug that needs two crashes of two nodes is much likelier in a case whose
//! only kind is crash and whose nodes are those two than in a fixed mix of eleven kinds over
//! every node. A crash on a mark or send trigger crashes the node emitting it three times in
//! four (shrinking toward that), since that is where "crash right after X" lives.
//!
//! - The swarm is never shrunk: shrinking stays inside the case's kinds and nodes, so every
//!   step is a plan of the same space and shrinking never regenerates faults at random.
//! - Triggers: a mark (half the faults), a send count (a quarter: effect-level crash
//!   points, "after the node's k-th send", which cut a handler between two effects with no
//!   mark between them) or a time. They shrink toward marks, then toward the first mark.
//! - Times are absolute and shrink toward 0; a recovery delay shrinks toward "never".
//! - Node draws shrink toward the first node that is on (node 0 when it is on).
//! - Nothing is ever rejected (no `prop_filter`), and the crash limit is a map: every shrink
//!   step yields a runnable plan, so shrinking never stalls on rejections.
//! - Faults are a `Vec`, so shrinking first drops whole faults, then simplifies the rest.
//! - A case is drawn as integers ([`PlanDraws`]) and mapped to a plan against a space only
//!   when it runs, so the search can grow the space's marks and send points between cases
//!   (see `runner`) with the same strategy.

use std::ops::{Range, RangeInclusive};
use std::sync::Arc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::{NewTree, ValueTree};
use proptest::test_runner::TestRunner;
use sim_core::{ActionDraw, FaultClass, FaultKind, FaultPlan, FaultSpace, TriggerDraw};

/// Plans of 1..=max_faults faults from the allowed classes, mapped against `space`.
pub fn plans(space: &FaultSpace) -> BoxedStrategy<FaultPlan> {
    let mapped = space.clone();
    case_draws(space).prop_map(move |d| d.plan(&mapped)).boxed()
}

/// One case's draws: its swarm and its faults' draws, to map against a space.
#[derive(Clone, Debug)]
pub struct PlanDraws {
    /// Node draws (target positions) that are on in this case, ascending.
    nodes: Arc<Vec<u64>>,
    faults: Vec<FaultDraw>,
}

#[derive(Clone, Debug)]
struct FaultDraw {
    trigger: TriggerPick,
    action: ActionDraw,
    /// A crash on a mark or send trigger hits the action's own node draw, not the node
    /// emitting the trigger (false shrinks to "the emitting node").
    elsewhere: bool,
}

/// A trigger before it meets a space: which form, and the draws of each.
#[derive(Clone, Copy, Debug)]
struct TriggerPick {
    /// 0 mark, 1 sends, 2 time (a form the space has none of falls back to time).
    form: u8,
    index: usize,
    nth: u32,
    count: u64,
    at_us: u64,
}

impl PlanDraws {
    /// The plan these draws make in `space` (whose kinds and targets the draws were made for;
    /// its marks and send points may have grown since).
    pub fn plan(&self, space: &FaultSpace) -> FaultPlan {
        let faults = self.faults.iter().map(|f| {
            let trigger = self.trigger(space, f.trigger);
            let mut action = f.action.clone();
            if let (ActionDraw::Crash { node, .. }, false) = (&mut action, f.elsewhere)
                && let Some(own) = space.trigger_node(trigger)
            {
                *node = space.draw_of(own);
            }
            space.fault(trigger, action)
        });
        space.plan(faults.collect())
    }

    fn trigger(&self, space: &FaultSpace, pick: TriggerPick) -> TriggerDraw {
        let on = |n| self.nodes.contains(&space.draw_of(n));
        match pick.form {
            0 if !space.marks.is_empty() => {
                let index = swarm_index(space.marks.iter().map(|m| on(m.0)), pick.index);
                TriggerDraw::Mark { index, nth: pick.nth }
            }
            1 if !space.send_points.is_empty() => {
                let index = swarm_index(space.send_points.iter().map(|p| on(p.0)), pick.index);
                TriggerDraw::Sends { index, count: pick.count }
            }
            _ => TriggerDraw::Time { at_us: pick.at_us },
        }
    }
}

/// The `draw`-th (modulo) of the positions whose flag is on, or of all when none is.
fn swarm_index(on: impl Iterator<Item = bool> + Clone, draw: usize) -> usize {
    let chosen: Vec<usize> = on.clone().enumerate().filter(|(_, o)| *o).map(|(i, _)| i).collect();
    let all = on.count();
    if chosen.is_empty() { draw % all } else { chosen[draw % chosen.len()] }
}

/// The items whose bit (modulo 64) is set in `mask`; all of them when none is.
fn swarm<T: Clone>(items: &[T], mask: u64) -> Vec<T> {
    let on: Vec<T> = items
        .iter()
        .enumerate()
        .filter(|(i, _)| mask >> (i % 64) & 1 == 1)
        .map(|x| x.1.clone())
        .collect();
    if on.is_empty() { items.to_vec() } else { on }
}

/// A case's draws: the swarm (never shrunk), then 1..=max_faults faults inside it.
pub fn case_draws(space: &FaultSpace) -> BoxedStrategy<PlanDraws> {
    space.validate().expect("a valid fault space");
    let space = space.clone();
    let targets: Vec<u64> = (0..space.target_count() as u64).collect();
    (any::<u64>(), any::<u64>())
        .no_shrink()
        .prop_flat_map(move |(kind_mask, node_mask)| {
            let kinds = swarm(&space.kinds(), kind_mask);
            let nodes = Arc::new(swarm(&targets, node_mask));
            let fault = (trigger(space.times()), action(&space, &kinds, &nodes), elsewhere())
                .prop_map(|(trigger, action, elsewhere)| FaultDraw { trigger, action, elsewhere });
            vec(fault, 1..=space.max_faults)
                .prop_map(move |faults| PlanDraws { nodes: nodes.clone(), faults })
        })
        .boxed()
}

fn elsewhere() -> impl Strategy<Value = bool> {
    proptest::bool::weighted(0.25)
}

fn trigger(times: Range<u64>) -> impl Strategy<Value = TriggerPick> {
    // Marks first: a counterexample reads better as "at all-votes-in" than "at 12345 us".
    let form = prop_oneof![2 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)];
    (form, ZeroFirst, FaultSpace::MARK_NTH, any::<u64>(), times)
        .prop_map(|(form, index, nth, count, at_us)| TriggerPick { form, index, nth, count, at_us })
}

/// Any `usize`, whose shrinking tries 0 first. A mark or send point is an index modulo a
/// pool, so a binary search toward 0 (proptest's integer shrinking) need not end at 0; this
/// one does whenever the first point fails too, and otherwise shrinks as usual.
#[derive(Clone, Copy, Debug)]
struct ZeroFirst;

impl Strategy for ZeroFirst {
    type Tree = ZeroFirstTree;
    type Value = usize;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        let inner = any::<usize>().new_tree(runner)?;
        Ok(ZeroFirstTree { inner, at_zero: false, tried_zero: false })
    }
}

#[derive(Clone, Debug)]
struct ZeroFirstTree {
    inner: <proptest::num::usize::Any as Strategy>::Tree,
    /// Whether the current value is the tried 0 rather than the inner one.
    at_zero: bool,
    tried_zero: bool,
}

impl ValueTree for ZeroFirstTree {
    type Value = usize;

    fn current(&self) -> usize {
        if self.at_zero { 0 } else { self.inner.current() }
    }

    fn simplify(&mut self) -> bool {
        if !self.tried_zero && self.inner.current() != 0 {
            self.tried_zero = true;
            self.at_zero = true;
            return true;
        }
        // 0 held (or was never needed): nothing simpler; otherwise shrink as usual.
        !self.at_zero && self.inner.simplify()
    }

    fn complicate(&mut self) -> bool {
        if self.at_zero {
            // 0 passed: back to the drawn index, and on with the binary search.
            self.at_zero = false;
            return true;
        }
        self.inner.complicate()
    }
}

/// One strategy per kind that is on, in the space's order.
fn action(
    space: &FaultSpace,
    kinds: &[FaultKind],
    nodes: &Arc<Vec<u64>>,
) -> BoxedStrategy<ActionDraw> {
    let options = kinds.iter().map(|&kind| draws(space, kind, nodes));
    proptest::strategy::Union::new(options).boxed()
}

fn draws(space: &FaultSpace, kind: FaultKind, nodes: &Arc<Vec<u64>>) -> BoxedStrategy<ActionDraw> {
    let node = || node(nodes.clone());
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
        FaultKind::Drop => (links(node()), FaultSpace::PERMILLE)
            .prop_map(|(links, permille)| ActionDraw::Drop { links, permille })
            .boxed(),
        FaultKind::Duplicate => (links(node()), FaultSpace::PERMILLE)
            .prop_map(|(links, permille)| ActionDraw::Duplicate { links, permille })
            .boxed(),
        FaultKind::Delay => (
            links(node()),
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

/// A node draw among the nodes that are on, shrinking toward the first of them.
fn node(nodes: Arc<Vec<u64>>) -> impl Strategy<Value = u64> + Clone {
    any::<u32>().prop_map(move |d| nodes[d as usize % nodes.len()])
}

/// Every link, or (shrinking toward every link) those touching one node.
fn links(node: impl Strategy<Value = u64> + Clone + 'static) -> impl Strategy<Value = Option<u64>> {
    prop_oneof![Just(None), node.prop_map(Some)]
}

/// `range` without its upper bound (never empty).
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
            send_points: vec![(NodeId(0), 6), (NodeId(1), 2)],
            extra_nodes: vec![],
            crash_limits: Vec::new(),
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
        sp.crash_limits = vec![CrashLimit { nodes: acceptors.clone(), max: 1 }];
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
