//! The explorer's model of `TwoPhase`: initial world, view, invariant, entry point.

use std::hash::{Hash, Hasher};

use sim_core::explore::{Drawing, ExploreConfig, ExploreReport, Model, Predicate};
use sim_core::hash::StableHasher;
use sim_core::{FaultPlan, NodeId, SimConfig, TraceLevel, World};

use super::nodes::{Node, RmState, TmState};
use super::{BROKEN, CORRECT, TlaTwoPhase};
use crate::explore::ExploreRequest;
use crate::scenario::ScenarioError;

/// The most RMs the model takes (`tmPrepared` is a bit set; 6^N states long before that).
pub const MAX_RMS: u32 = 20;
// The packed view: `tmPrepared` and the TM's 2 state bits in one word, 3 bits an RM in another.
const _: () = assert!(MAX_RMS + 2 <= 64 && 3 * MAX_RMS <= 64);

pub type TwoPhaseWorld = World<TlaTwoPhase, Node>;

/// The initial world for `rms` RMs (`broken`: the early-commit TM), trace off.
pub fn init(rms: u32, broken: bool) -> TwoPhaseWorld {
    traced(rms, broken, TraceLevel::Off)
}

/// The initial world with its trace at `trace` (`full` to draw a counterexample).
fn traced(rms: u32, broken: bool, trace: TraceLevel) -> TwoPhaseWorld {
    let config = SimConfig::new(rms + 1, 0).with_trace(trace);
    World::new(config, FaultPlan::new(Vec::new()), move |id, _| Node::fresh(id, rms, broken))
        .expect("a valid configuration")
}

/// TLA+'s state: the node states (`msgs` is a function of them, see the module docs),
/// packed into two words before hashing (the explorer keys every successor with it): the
/// TM's state and `tmPrepared`, then 3 bits per RM (its state and whether it sent
/// `Prepared`). The view is used only without faults, so every node is up.
pub fn view(world: &TwoPhaseWorld) -> u64 {
    let tm = tm(world);
    let mut rms = 0u64;
    for i in 1..world.node_count() {
        let rm = rm(world, i);
        rms = rms << 3 | (rm.state as u64) << 1 | u64::from(rm.sent_prepared);
    }
    let mut h = StableHasher::default();
    h.write_u64((tm.state as u64) | tm.prepared << 2);
    h.write_u64(rms);
    h.finish()
}

/// How far `TwoPhase` has gone: RMs that sent `Prepared`, RMs decided, the TM decided, and
/// the RMs in `tmPrepared`. Every step of the specification raises it by exactly one
/// (`RMPrepare` sends `Prepared`, `RMChooseToAbort` and the two receipts decide an RM,
/// `TMCommit` and `TMAbort` decide the TM, `TMRcvPrepared` adds one RM to `tmPrepared`;
/// what else a delivery does changes nothing), so a state's depth is its potential, in any
/// order: DFS on several threads needs no depth per state (`Model::potential`). It reads
/// the fields [`view`] and [`symmetric_view`] key on, so equal views have equal potentials.
/// Not so for the early-commit TM: its `Commit` can reach an RM that chose to abort.
pub fn potential(world: &TwoPhaseWorld) -> u64 {
    let tm = tm(world);
    let decided = |rm: &super::nodes::Rm| matches!(rm.state, RmState::Committed | RmState::Aborted);
    let rms: u64 = (1..world.node_count())
        .map(|i| rm(world, i))
        .map(|rm| u64::from(rm.sent_prepared) + u64::from(decided(rm)))
        .sum();
    rms + u64::from(tm.state != TmState::Init) + u64::from(tm.prepared.count_ones())
}

/// The TM, up (the views are used only without faults).
fn tm(world: &TwoPhaseWorld) -> &super::nodes::Tm {
    match world.node(super::nodes::TM) {
        Some(Node::Tm(tm)) => tm,
        _ => unreachable!("without faults the TM is up"),
    }
}

/// RM `i`, up (the views are used only without faults).
fn rm(world: &TwoPhaseWorld, i: u32) -> &super::nodes::Rm {
    match world.node(NodeId(i)) {
        Some(Node::Rm(rm)) => rm,
        _ => unreachable!("without faults every RM is up"),
    }
}

/// The view up to a permutation of the RMs (`--symmetry`): the TM's state and the sorted
/// multiset of each RM's `(rmState, Prepared sent, in tmPrepared)`. RMs are interchangeable
/// in `TwoPhase` (and in the early-commit variant), so worlds with equal symmetric views
/// have the same futures up to renaming RMs, and the same verdict (`TCConsistent` is
/// symmetric).
pub fn symmetric_view(world: &TwoPhaseWorld) -> u64 {
    let mut h = StableHasher::default();
    let tm = tm(world);
    tm.state.hash(&mut h);
    let mut rms: Vec<(RmState, bool, bool)> = (1..world.node_count())
        .map(|i| {
            let rm = rm(world, i);
            (rm.state, rm.sent_prepared, tm.prepared >> (i - 1) & 1 == 1)
        })
        .collect();
    rms.sort_unstable_by_key(|&(s, sent, prepared)| (s as u8, sent, prepared));
    rms.hash(&mut h);
    h.finish()
}

/// `TCConsistent`: no RM has committed while another has aborted.
pub fn consistent(world: &TwoPhaseWorld) -> bool {
    let states = (1..world.node_count()).filter_map(|i| match world.node(NodeId(i)) {
        Some(Node::Rm(rm)) => Some(rm.state),
        _ => None,
    });
    let (mut committed, mut aborted) = (false, false);
    for s in states {
        committed |= s == RmState::Committed;
        aborted |= s == RmState::Aborted;
    }
    !(committed && aborted)
}

/// The model for `rms` RMs; the view only when `faults` is false (see the module docs), the
/// potential only then and for the specification's TM.
pub fn model(rms: u32, broken: bool, faults: bool) -> Model<TlaTwoPhase, Node> {
    Model {
        init: Box::new(move || init(rms, broken)),
        view: if faults { None } else { Some(view) },
        potential: if faults || broken { None } else { Some(potential) },
        invariants: vec![Predicate { name: "atomicity", holds: consistent }],
        terminal: Vec::new(),
        drawing: Some(Drawing {
            init: Box::new(move || traced(rms, broken, TraceLevel::Full)),
            // TLA+'s names: the TM is node 0, RM i is node i.
            names: Box::new(|id| if id.0 == 0 { "tm".into() } else { format!("rm{}", id.0) }),
        }),
    }
}

/// The family's entry point: `scenario.participants` RMs, as `config` says.
pub fn explore(
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError> {
    let variant = request.variant;
    crate::explore::properties(request.properties, &["atomicity"], &["atomicity"])?;
    let rms = request.scenario.participants;
    if !(1..=MAX_RMS).contains(&rms) {
        return Err(ScenarioError::Invalid {
            field: "participants".into(),
            reason: format!("{variant} takes 1 to {MAX_RMS} resource managers, not {rms}"),
        });
    }
    let broken = match variant {
        CORRECT => false,
        BROKEN => true,
        other => unreachable!("not a TwoPhase variant: {other}"),
    };
    let faults = !config.budget.is_zero();
    let mut model = model(rms, broken, faults);
    if request.symmetry {
        if faults {
            return Err(ScenarioError::Invalid {
                field: "symmetry".into(),
                reason: format!("{variant}: symmetry reduction is exact only without faults"),
            });
        }
        model.view = Some(symmetric_view);
    }
    crate::explore::search_or_replay(&model, request, config)
}
