//! proptest strategies over fault plans, built to shrink toward readable counterexamples.
//!
//! - Times are absolute and shrink toward 0; a recovery delay shrinks toward "never".
//! - Node ids are drawn as plain integers and reduced modulo the cluster, so shrinking an id
//!   walks toward node 0 (the coordinator in every commit layout) instead of being rejected.
//! - Mark triggers pick from the protocol's own list of marks and shrink toward the first.
//! - Nothing is ever rejected (no `prop_filter`): a fault that cannot apply (recovering an
//!   up node, healing a whole network) is a no-op in the engine, so every shrink step yields
//!   a runnable plan and shrinking never stalls on rejections.
//! - Faults are a `Vec`, so shrinking first drops whole faults, then simplifies the rest.
//! - Nodes beyond `0..nodes` (Paxos Commit's acceptors, laid out after the client) are
//!   reachable through `extra_nodes`; a [`CrashLimit`] bounds how many distinct nodes of a
//!   set a plan may crash (e.g. "at most F acceptors"), by dropping the crashes past the
//!   limit — a map, not a filter, so nothing is rejected and shrinking still works.

use proptest::collection::vec;
use proptest::prelude::*;
use sim_core::{
    Action, Fault, FaultClass, FaultPlan, HashableF64, Latency, LinkSet, NodeId, Trigger,
};

/// The space of plans a search explores.
#[derive(Clone, Debug)]
pub struct PlanSpace {
    pub nodes: u32,
    /// Time triggers fall in `[0, horizon_us)`.
    pub horizon_us: u64,
    pub classes: Vec<FaultClass>,
    pub max_faults: usize,
    /// `(node, mark)` pairs a fault may be triggered on.
    pub marks: Vec<(NodeId, String)>,
    /// Nodes outside `0..nodes` that faults may also hit (after those, in shrink order).
    pub extra_nodes: Vec<NodeId>,
    /// At most this many distinct nodes of a set crash in one plan.
    pub crash_limit: Option<CrashLimit>,
}

/// At most `max` distinct nodes of `nodes` crash in one plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashLimit {
    pub nodes: Vec<NodeId>,
    pub max: usize,
}

impl CrashLimit {
    /// Drops every crash of a limited node past the first `max` such nodes (in plan order);
    /// every other fault stays.
    pub fn apply(&self, faults: Vec<Fault>) -> Vec<Fault> {
        let mut crashed: Vec<NodeId> = Vec::new();
        faults
            .into_iter()
            .filter(|f| match f.action {
                Action::Crash { node, .. } if self.nodes.contains(&node) => {
                    if crashed.contains(&node) {
                        true
                    } else if crashed.len() < self.max {
                        crashed.push(node);
                        true
                    } else {
                        false
                    }
                }
                _ => true,
            })
            .collect()
    }
}

impl PlanSpace {
    fn allows(&self, c: FaultClass) -> bool {
        self.classes.contains(&c)
    }

    /// Every node a fault may hit, in shrink order.
    fn targets(&self) -> Vec<NodeId> {
        (0..self.nodes).map(NodeId).chain(self.extra_nodes.iter().copied()).collect()
    }
}

/// Plans of 1..=max_faults faults from the allowed classes.
pub fn plans(space: &PlanSpace) -> BoxedStrategy<FaultPlan> {
    assert!(space.nodes > 0 && space.horizon_us > 0 && space.max_faults > 0);
    assert!(!space.classes.is_empty(), "at least one fault class");
    let limit = space.crash_limit.clone();
    vec(fault(space), 1..=space.max_faults)
        .prop_map(move |faults| match &limit {
            Some(l) => FaultPlan::new(l.apply(faults)),
            None => FaultPlan::new(faults),
        })
        .boxed()
}

fn trigger(space: &PlanSpace) -> BoxedStrategy<Trigger> {
    let time = (0..space.horizon_us).prop_map(|at_us| Trigger::Time { at_us });
    if space.marks.is_empty() {
        return time.boxed();
    }
    let marks = space.marks.clone();
    let mark = (0..marks.len(), 1u32..=2).prop_map(move |(i, nth)| {
        let (node, mark) = marks[i].clone();
        Trigger::Mark { node, mark, nth }
    });
    // Marks first: a counterexample reads better as "at all-votes-in" than "at 12345 us".
    prop_oneof![mark, time].boxed()
}

fn node(targets: &[NodeId]) -> impl Strategy<Value = NodeId> + Clone + use<> {
    let targets = targets.to_vec();
    any::<u32>().prop_map(move |raw| targets[raw as usize % targets.len()])
}

fn action(space: &PlanSpace) -> BoxedStrategy<Action> {
    let targets = space.targets();
    let n = &targets[..];
    let h = space.horizon_us;
    let mut options: Vec<BoxedStrategy<Action>> = Vec::new();
    if space.allows(FaultClass::Crash) {
        // Without the recover class a crash is crash-stop; with it, it may come back.
        let recover_after: BoxedStrategy<Option<u64>> = if space.allows(FaultClass::Recover) {
            proptest::option::of(1_000..h.max(1_001)).boxed()
        } else {
            Just(None).boxed()
        };
        options.push(
            (node(n), recover_after)
                .prop_map(|(node, recover_after_us)| Action::Crash { node, recover_after_us })
                .boxed(),
        );
    }
    if space.allows(FaultClass::Recover) {
        options.push(node(n).prop_map(|node| Action::Recover { node }).boxed());
    }
    if space.allows(FaultClass::Partition) {
        // A side is a bit mask over the nodes; the others form the other side.
        let targets = targets.clone();
        options.push(
            any::<u64>()
                .prop_map(move |mask| {
                    let side: Vec<NodeId> = (0..targets.len())
                        .filter(|i| mask >> (i % 64) & 1 == 1)
                        .map(|i| targets[i])
                        .collect();
                    Action::Partition {
                        groups: vec![if side.is_empty() { vec![NodeId(0)] } else { side }],
                    }
                })
                .boxed(),
        );
        options.push(Just(Action::Heal).boxed());
    }
    if space.allows(FaultClass::OneWayCut) {
        options
            .push((node(n), node(n)).prop_map(|(from, to)| Action::CutOneWay { from, to }).boxed());
        options.push((node(n), node(n)).prop_map(|(a, b)| Action::HealLink { a, b }).boxed());
    }
    let links_to = n.to_vec();
    let links = move || {
        let n = &links_to[..];
        prop_oneof![Just(LinkSet::All), node(n).prop_map(|node| LinkSet::Touching { node })]
    };
    if space.allows(FaultClass::Drop) {
        options.push(
            (links(), 0u32..=500)
                .prop_map(|(links, p)| Action::SetDrop {
                    links,
                    prob: HashableF64(p as f64 / 1000.0),
                })
                .boxed(),
        );
    }
    if space.allows(FaultClass::Duplicate) {
        options.push(
            (links(), 0u32..=500)
                .prop_map(|(links, p)| Action::SetDuplicate {
                    links,
                    prob: HashableF64(p as f64 / 1000.0),
                })
                .boxed(),
        );
    }
    if space.allows(FaultClass::Delay) {
        options.push(
            (links(), 1_000u64..20_000, 0u64..100_000)
                .prop_map(|(links, min_us, extra_us)| Action::SetLatency {
                    links,
                    latency: Latency::Uniform { min_us, max_us: min_us + extra_us },
                })
                .boxed(),
        );
    }
    if space.allows(FaultClass::ClockDrift) {
        options.push(
            (node(n), -200_000i64..=200_000)
                .prop_map(|(node, ppm)| Action::ClockDrift { node, ppm })
                .boxed(),
        );
    }
    if options.is_empty() {
        // Only `Recover`-less classes that add nothing: fall back to a harmless heal.
        options.push(Just(Action::Heal).boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

fn fault(space: &PlanSpace) -> BoxedStrategy<Fault> {
    (trigger(space), action(space)).prop_map(|(trigger, action)| Fault { trigger, action }).boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn space(classes: Vec<FaultClass>) -> PlanSpace {
        PlanSpace {
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
