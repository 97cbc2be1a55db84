//! The feedback-guided half of the search: cascades of faults, each aimed at a protocol
//! point that only exists because of the faults before it.
//!
//! The random half ([`plan_strategy`](super::plan_strategy)) draws every fault of a plan
//! independently, so "isolate p1 as it pre-commits, then crash p2 at a mark of the recovery
//! that this provokes, then heal" is drawn about once in 10^5 plans: the second fault aims at
//! a mark no fault-free run emits. Here (AFL and Jepsen's idea, over fault plans) every run
//! with coverage no earlier run had joins a [`Corpus`], with the marks it emitted after its
//! last fault; a guided case is a corpus plan plus one fault triggered right after one of
//! those marks (or, on a full plan, its last fault's trigger with another action). A cascade
//! is thus found one fault at a time, each step a likely draw.
//!
//! - Cases mix: one in [`DRAWN_EVERY`] is drawn at random (the very cases the random search
//!   draws, in the same order), the others are guided once the corpus has an entry.
//! - Determinism: a guided case is a function of the search seed, its case index and the
//!   corpus, which the runner feeds in case order (one case after another), so cases,
//!   counterexample and shrunk plan are the same for any thread count.
//! - Which entry: the newest one that still has children to give (depth first: new coverage,
//!   often one fault deeper, is explored first) half the time, any entry otherwise.
//! - Which fault: three times in four a focused one at the point's own node — crash it
//!   (for good or for a while), cut it off alone or with one other node, heal, or recover a
//!   node the plan crashed — otherwise an action of the space's seeded sampler (so every
//!   enabled fault class is reachable).
//! - Shrinking: a guided case is shrunk by [`Reduce`], a deterministic delta-debugging pass
//!   (drop each fault; then no recovery, first emission, crash at the point's own node, time
//!   0, everyone votes yes), inside proptest's own shrink loop.

use std::cell::RefCell;
use std::rc::Rc;

use proptest::strategy::{BoxedStrategy, NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use sim_core::rng::{SimRng, StreamDomain, stream, uniform_u64};
use sim_core::{Action, ActionDraw, Fault, FaultClass, FaultKind, FaultSpace, NodeId, Trigger};

use super::corpus::{Corpus, Entry, Run};
use super::plan_strategy::PlanDraws;

/// Children a corpus entry gives while it is the newest with some left.
const ENERGY: u32 = 24;
/// One case in this many is drawn at random; the others are guided (once the corpus has
/// an entry). Measured on `quorum-3pc` (README): one in two finds Skeen's blocking in 10,000
/// cases for 7 of 13 search seeds, one in four for 12.
const DRAWN_EVERY: u64 = 4;
/// The stream `(search seed, User, GUIDE_STREAM, case index)` draws a guided case.
const GUIDE_STREAM: u64 = 0x6775_6964_6564;

/// A case of the search: drawn at random (mapped against the space when it runs), or
/// derived from the corpus (concrete faults).
#[derive(Clone, Debug)]
pub enum Case {
    Drawn { seed: u64, no_voter: Option<u32>, draws: PlanDraws },
    Guided(Guided),
}

/// A guided case: a run seed, the participant voting no, and the plan's faults.
#[derive(Clone, Debug, PartialEq)]
pub struct Guided {
    pub seed: u64,
    pub no_voter: Option<u32>,
    pub faults: Vec<Fault>,
}

impl Case {
    /// The run seed, the participant voting no and the faults of this case in `space`.
    pub fn parts(&self, space: &FaultSpace) -> (u64, Option<u32>, Vec<Fault>) {
        match self {
            Case::Drawn { seed, no_voter, draws } => (*seed, *no_voter, draws.plan(space).faults),
            Case::Guided(g) => (g.seed, g.no_voter, space.plan(g.faults.clone()).faults),
        }
    }
}

/// The corpus and what a guided case is drawn from.
#[derive(Debug)]
pub struct Guide {
    pub corpus: Corpus,
    /// The kinds, targets, horizon and crash limit of the search, to derive from (guided
    /// triggers come from the runs themselves, not from its marks).
    space: FaultSpace,
    /// The search's pool of marks as it has grown (the runner keeps it current), which
    /// shrinking moves triggers toward.
    pub marks: Rc<Vec<(NodeId, String)>>,
    seed: u64,
    /// Cases handed out so far.
    cases: u64,
    /// Guided cases handed out so far.
    pub guided: u64,
}

impl Guide {
    pub fn new(space: FaultSpace, seed: u64) -> Guide {
        let marks = Rc::new(space.marks.clone());
        Guide { corpus: Corpus::default(), space, marks, seed, cases: 0, guided: 0 }
    }

    /// Feeds a judged run (in case order).
    pub fn learn(&mut self, run: &Run) {
        self.corpus.learn(run);
    }

    /// The next case's guided faults, if it is a guided one.
    fn next(&mut self) -> Option<Guided> {
        let index = self.cases;
        self.cases += 1;
        if index.is_multiple_of(DRAWN_EVERY) || self.corpus.entries.is_empty() {
            return None;
        }
        self.guided += 1;
        let mut rng = stream(self.seed, StreamDomain::User, GUIDE_STREAM, index);
        let entries = &mut self.corpus.entries;
        let newest = entries.iter().rposition(|e| e.children < ENERGY);
        let pick = match newest {
            Some(i) if coin(&mut rng) => i,
            _ => below(&mut rng, entries.len()),
        };
        entries[pick].children += 1;
        let entry = &entries[pick];
        let faults = derive(entry, &self.space, &mut rng);
        Some(Guided { seed: entry.seed, no_voter: entry.no_voter, faults })
    }
}

/// A child of `entry`: one more fault after its last, or (on a full plan, one time in
/// eight otherwise) its last fault's trigger with another action.
fn derive(entry: &Entry, space: &FaultSpace, rng: &mut SimRng) -> Vec<Fault> {
    let mut faults = entry.faults.clone();
    let replace = !faults.is_empty() && (faults.len() >= space.max_faults || below(rng, 8) == 0);
    let trigger = match faults.pop_if(|_| replace) {
        Some(last) => last.trigger,
        None if !entry.points.is_empty() && below(rng, 8) != 0 => {
            let p = &entry.points[below(rng, entry.points.len())];
            Trigger::Mark { node: p.node, mark: p.mark.clone(), nth: p.nth }
        }
        None => {
            let at_us = uniform_u64(rng, entry.last_us, entry.last_us.max(space.horizon_us));
            Trigger::Time { at_us }
        }
    };
    let emitter = match &trigger {
        Trigger::Mark { node, .. } | Trigger::Sends { node, .. } => Some(*node),
        Trigger::Time { .. } | Trigger::AnyMark { .. } => None,
    };
    let action = action(space, emitter, &entry.crashed, rng);
    faults.push(Fault { trigger, action });
    faults
}

/// An action for a fault fired at `emitter`'s point.
fn action(
    space: &FaultSpace,
    emitter: Option<NodeId>,
    crashed: &[NodeId],
    rng: &mut SimRng,
) -> Action {
    let targets = space.targets();
    let own = match emitter.filter(|n| targets.contains(n)) {
        Some(n) => n,
        None => targets[below(rng, targets.len())],
    };
    let kinds = space.kinds();
    let mut focused: Vec<ActionDraw> = Vec::new();
    let node = space.draw_of(own);
    if kinds.contains(&FaultKind::Crash) {
        focused.push(ActionDraw::Crash { node, recover_after_us: None });
        if space.allows(FaultClass::Recover) {
            let delay =
                uniform_u64(rng, *space.recovery_delays().start(), *space.recovery_delays().end());
            focused.push(ActionDraw::Crash { node, recover_after_us: Some(delay) });
        }
    }
    if kinds.contains(&FaultKind::Partition) {
        let mut side = vec![0u64; space.target_count().div_ceil(64)];
        side[node as usize / 64] |= 1 << (node % 64);
        focused.push(ActionDraw::Partition { side: side.clone() });
        let other = uniform_u64(rng, 0, space.target_count() as u64 - 1);
        side[other as usize / 64] |= 1 << (other % 64);
        focused.push(ActionDraw::Partition { side });
        focused.push(ActionDraw::Heal);
    }
    if kinds.contains(&FaultKind::Recover) && !crashed.is_empty() {
        let node = space.draw_of(crashed[below(rng, crashed.len())]);
        focused.push(ActionDraw::Recover { node });
    }
    if !focused.is_empty() && below(rng, 4) != 0 {
        let draw = focused.swap_remove(below(rng, focused.len()));
        return space.action(draw);
    }
    // Any action the seeded sampler draws: every enabled class, its own distribution.
    let plan = space.generate(uniform_u64(rng, 0, u64::MAX));
    plan.faults.into_iter().next().map_or(Action::Heal, |f| f.action)
}

fn coin(rng: &mut SimRng) -> bool {
    uniform_u64(rng, 0, 1) == 1
}

/// Uniform in `0..n` (`n` at least 1).
fn below(rng: &mut SimRng, n: usize) -> usize {
    assert!(n > 0, "a choice among none");
    uniform_u64(rng, 0, n as u64 - 1) as usize
}

/// The search's cases: the random strategy's, with a guided one in between once the corpus
/// has entries (see the module docs).
#[derive(Debug)]
pub struct Mixed {
    pub drawn: BoxedStrategy<(u64, Option<u32>, PlanDraws)>,
    pub guide: Rc<RefCell<Guide>>,
}

impl Strategy for Mixed {
    type Tree = CaseTree;
    type Value = Case;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        // A guided case draws nothing from the runner's RNG: the drawn cases stay the ones
        // the random search draws.
        let next = self.guide.borrow_mut().next();
        if let Some(g) = next {
            let marks = self.guide.borrow().marks.clone();
            return Ok(CaseTree::Guided(Reduce::new(g, marks)));
        }
        Ok(CaseTree::Drawn(self.drawn.new_tree(runner)?))
    }
}

pub enum CaseTree {
    Drawn(Box<dyn ValueTree<Value = (u64, Option<u32>, PlanDraws)>>),
    Guided(Reduce),
}

impl std::fmt::Debug for CaseTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseTree::Drawn(_) => f.write_str("CaseTree::Drawn"),
            CaseTree::Guided(r) => r.fmt(f),
        }
    }
}

impl ValueTree for CaseTree {
    type Value = Case;

    fn current(&self) -> Case {
        match self {
            CaseTree::Drawn(t) => {
                let (seed, no_voter, draws) = t.current();
                Case::Drawn { seed, no_voter, draws }
            }
            CaseTree::Guided(r) => Case::Guided(r.current.clone()),
        }
    }

    fn simplify(&mut self) -> bool {
        match self {
            CaseTree::Drawn(t) => t.simplify(),
            CaseTree::Guided(r) => r.simplify(),
        }
    }

    fn complicate(&mut self) -> bool {
        match self {
            CaseTree::Drawn(t) => t.complicate(),
            CaseTree::Guided(r) => r.complicate(),
        }
    }
}

/// Delta debugging over a guided case's faults, as a proptest value tree: `simplify` is
/// called when the current case failed (it is kept, and the next candidate is tried),
/// `complicate` when it passed (the next candidate of the last failing case is tried).
/// Candidates, from the last failing case: drop fault i (each i); then for each fault no
/// recovery, an earlier point of the search's pool of marks (first emission; a time or send
/// trigger moves to any mark: the random half shrinks toward marks, then the first mark,
/// too), its trigger's first emission, a crash of the node at whose point it fires, time 0;
/// then everyone votes yes. Each is strictly simpler, so shrinking ends.
#[derive(Clone, Debug)]
pub struct Reduce {
    failing: Guided,
    current: Guided,
    /// The search's marks when the case was drawn, in pool order.
    marks: Rc<Vec<(NodeId, String)>>,
    /// The next candidate of `failing` to try.
    next: usize,
}

/// Simplifications tried per fault besides the moves to an earlier mark.
const PER_FAULT: usize = 4;

impl Reduce {
    fn new(case: Guided, marks: Rc<Vec<(NodeId, String)>>) -> Reduce {
        Reduce { failing: case.clone(), current: case, marks, next: 0 }
    }

    /// Moves to the next candidate that differs from the failing case, if any.
    fn advance(&mut self) -> bool {
        let n = self.failing.faults.len();
        let count = n + pairs(n) + n * (PER_FAULT + self.marks.len()) + 1;
        while self.next < count {
            let k = self.next;
            self.next += 1;
            if let Some(c) = candidate(&self.failing, &self.marks, k) {
                self.current = c;
                return true;
            }
        }
        self.current = self.failing.clone();
        false
    }
}

impl ValueTree for Reduce {
    type Value = Guided;

    fn current(&self) -> Guided {
        self.current.clone()
    }

    fn simplify(&mut self) -> bool {
        if self.current != self.failing {
            self.failing = self.current.clone();
            self.next = 0;
        }
        self.advance()
    }

    fn complicate(&mut self) -> bool {
        self.advance()
    }
}

/// How many pairs of `n` faults there are.
fn pairs(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

/// The `k`-th pair `(i, j)`, `i < j < n`, in lexicographic order.
fn pair(n: usize, mut k: usize) -> (usize, usize) {
    for i in 0..n {
        let after = n - i - 1;
        if k < after {
            return (i, i + 1 + k);
        }
        k -= after;
    }
    unreachable!("pair {k} of {n} faults")
}

/// The `k`-th candidate simplification of `case` (`None`: it changes nothing).
fn candidate(case: &Guided, marks: &[(NodeId, String)], k: usize) -> Option<Guided> {
    let n = case.faults.len();
    let mut c = case.clone();
    if k < n {
        c.faults.remove(k);
        return Some(c);
    }
    // Then two faults at once: a cascade's faults may each be needed only while the other
    // is there (a crash and the recovery that undoes it), which single drops never remove.
    let k = k - n;
    if k < pairs(n) {
        let (i, j) = pair(n, k);
        c.faults.remove(j);
        c.faults.remove(i);
        return Some(c);
    }
    let per_fault = PER_FAULT + marks.len();
    let k = k - pairs(n);
    if k >= n * per_fault {
        c.no_voter.take()?;
        return Some(c);
    }
    let f = &mut c.faults[k / per_fault];
    let k = k % per_fault;
    if let Some(j) = k.checked_sub(1).filter(|&j| j < marks.len()) {
        // Toward the pool's first marks: `j` comes before where the trigger is now.
        let now = match &f.trigger {
            Trigger::Mark { node, mark, .. } => {
                marks.iter().position(|m| m.0 == *node && m.1 == *mark).unwrap_or(marks.len())
            }
            Trigger::Sends { .. } | Trigger::Time { .. } | Trigger::AnyMark { .. } => marks.len(),
        };
        if j >= now {
            return None;
        }
        f.trigger = Trigger::Mark { node: marks[j].0, mark: marks[j].1.clone(), nth: 1 };
        return Some(c);
    }
    let step = if k == 0 { 0 } else { k - marks.len() };
    let changed = match (step, &mut f.trigger, &mut f.action) {
        (0, _, Action::Crash { recover_after_us, .. }) => recover_after_us.take().is_some(),
        (1, Trigger::Mark { nth, .. }, _) if *nth > 1 => {
            *nth = 1;
            true
        }
        (
            2,
            Trigger::Mark { node: at, .. } | Trigger::Sends { node: at, .. },
            Action::Crash { node, .. },
        ) if node != at => {
            *node = *at;
            true
        }
        (3, Trigger::Time { at_us }, _) if *at_us > 0 => {
            *at_us = 0;
            true
        }
        _ => false,
    };
    changed.then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(node: u32, mark: &str, nth: u32) -> Trigger {
        Trigger::Mark { node: NodeId(node), mark: mark.into(), nth }
    }

    /// Shrinks `case` with proptest's protocol: simplify after a failure, complicate after
    /// a pass, until neither moves.
    fn shrink(
        case: Guided,
        marks: Vec<(NodeId, String)>,
        fails: impl Fn(&Guided) -> bool,
    ) -> Guided {
        let mut tree = Reduce::new(case, Rc::new(marks));
        let mut moved = tree.simplify();
        let mut steps = 0;
        while moved {
            steps += 1;
            assert!(steps < 1_000, "shrinking ends");
            moved = if fails(&tree.current()) { tree.simplify() } else { tree.complicate() };
        }
        tree.current()
    }

    #[test]
    fn two_faults_needed_only_together_are_dropped_together() {
        // Fails while n1 is crashed at the end: crash n1 (0), recover n1 (1), crash n2 (2)
        // and crash n1 again (3). Dropping 0 or 1 alone leaves n1 up or crashed by 3 anyway,
        // so the single drops keep both; only the pair goes, leaving the second crash.
        let crash = |n: u32| Action::Crash { node: NodeId(n), recover_after_us: None };
        let at = |us: u64| Trigger::Time { at_us: us };
        let faults = vec![
            Fault { trigger: at(1), action: crash(1) },
            Fault { trigger: at(2), action: Action::Recover { node: NodeId(1) } },
            Fault { trigger: at(3), action: crash(2) },
            Fault { trigger: at(4), action: crash(1) },
        ];
        let case = Guided { seed: 1, no_voter: None, faults };
        // n1 ends crashed and n2 too, and no recovery of n1 precedes a crash it undoes
        // without a later crash: the crash-recover pair is dead weight only together.
        let fails = |g: &Guided| {
            let crashes_n1 = g
                .faults
                .iter()
                .filter(|f| matches!(f.action, Action::Crash { node: NodeId(1), .. }));
            let recovers = g.faults.iter().any(|f| matches!(f.action, Action::Recover { .. }));
            let crashes_n2 =
                g.faults.iter().any(|f| matches!(f.action, Action::Crash { node: NodeId(2), .. }));
            crashes_n2 && crashes_n1.count() == if recovers { 2 } else { 1 }
        };
        let minimal = shrink(case, vec![], fails);
        assert_eq!(minimal.faults.len(), 2, "{minimal:?}");
        assert!(minimal.faults.iter().all(|f| matches!(f.action, Action::Crash { .. })));
    }

    #[test]
    fn a_guided_case_shrinks_to_the_one_fault_it_needs_at_the_first_mark() {
        // Fails whenever n1 crashes: the minimal case is one crash of n1, no recovery, at
        // the pool's first mark, everyone voting yes.
        let marks = vec![(NodeId(0), "prepare-sent".to_string()), (NodeId(1), "voted-yes".into())];
        let case = Guided {
            seed: 7,
            no_voter: Some(2),
            faults: vec![
                Fault { trigger: mark(0, "prepare-sent", 1), action: Action::Heal },
                Fault {
                    trigger: mark(1, "decided", 2),
                    action: Action::Crash { node: NodeId(1), recover_after_us: Some(5_000) },
                },
                Fault {
                    trigger: Trigger::Time { at_us: 9 },
                    action: Action::Recover { node: NodeId(2) },
                },
            ],
        };
        let crashes_n1 = |g: &Guided| {
            g.faults.iter().any(|f| matches!(f.action, Action::Crash { node: NodeId(1), .. }))
        };
        let minimal = shrink(case, marks, crashes_n1);
        let expected = Fault {
            trigger: mark(0, "prepare-sent", 1),
            action: Action::Crash { node: NodeId(1), recover_after_us: None },
        };
        assert_eq!(minimal, Guided { seed: 7, no_voter: None, faults: vec![expected] });
    }

    #[test]
    fn a_child_extends_its_parent_after_its_last_fault() {
        use super::super::corpus::Point;
        let space = FaultSpace {
            nodes: 4,
            extra_nodes: vec![],
            horizon_us: 100_000,
            classes: vec![FaultClass::Crash, FaultClass::Partition],
            max_faults: 3,
            marks: vec![],
            send_points: vec![],
            crash_limits: Vec::new(),
        };
        let first = Fault {
            trigger: mark(0, "precommit-sent-to-first", 1),
            action: Action::Crash { node: NodeId(0), recover_after_us: None },
        };
        let entry = Entry {
            seed: 3,
            no_voter: None,
            faults: vec![first.clone()],
            last_us: 40_000,
            points: vec![Point { node: NodeId(1), mark: "precommitted".into(), nth: 1 }],
            crashed: vec![NodeId(0)],
            children: 0,
        };
        for i in 0..200 {
            let mut rng = stream(1, StreamDomain::User, GUIDE_STREAM, i);
            let child = derive(&entry, &space, &mut rng);
            assert!(child.len() <= space.max_faults);
            if child.len() == 2 {
                assert_eq!(child[0], first, "the parent's faults come first");
                match &child[1].trigger {
                    Trigger::Mark { .. } => {
                        assert_eq!(child[1].trigger, mark(1, "precommitted", 1))
                    }
                    Trigger::Time { at_us } => assert!((40_000..=100_000).contains(at_us)),
                    other => panic!("{other:?}"),
                }
            } else {
                assert_eq!(
                    child[0].trigger, first.trigger,
                    "a replaced last fault keeps its trigger"
                );
            }
        }
    }
}
