//! `explore --symmetry` for the commit families: states keyed up to a renaming of the
//! participants.
//!
//! # Why a renaming, and why the smallest fingerprint
//!
//! In a commit scenario whose participants are configured alike (same votes offered, one
//! key each, same links), permuting the participants' ids maps every run onto another run,
//! and atomicity and blocking do not name a participant. So two states that are renamings
//! of each other have the same verdicts and futures that are renamings of each other, and
//! the explorer need expand only one of them. Node ids live deep inside the commit
//! protocols' states (participant lists, vote sets, senders and receivers, disk records, the
//! explorer's [`CommitMemory`](super::CommitMemory)), so a state cannot be canonicalised by sorting the
//! participants by a summary of their own state: a participant's state names the others.
//! Instead every type that holds an id implements [`sim_core::Rename`] (declared field by
//! field next to the type, lists that are sets of participants re-sorted), and the key of a
//! state is the smallest fingerprint over all N! renamings of its participants
//! ([`World::symmetric_fingerprint`]): the same for every state of an orbit, different
//! (hash collisions aside) for states of different orbits. N! is fine up to
//! [`MAX_INTERCHANGEABLE`] participants; beyond that `--symmetry` is refused. The
//! coordinator, the client and any other role are never permuted.
//!
//! Faults need nothing of their own: the budget spent is a count (symmetric), and a
//! crashed node's slot, its disk, the partition's cut links and the pending recoveries are
//! renamed with the rest of the world.
//!
//! # What stays concrete
//!
//! Only the visited set sees the key. The states the search keeps and expands are the
//! worlds it reached, so a counterexample is a real path, replayable step by step.
//!
//! # When participants are not interchangeable
//!
//! Decided from the scenario before the search: the initial world must be its own renaming
//! under every permutation of the participants (this catches per-participant vote policies,
//! per-link network overrides, a client that enters through the first participant, and
//! anything else configured per node that reaches the state), and the coordinator must have
//! its own host (Gray & Lamport's co-located case ties it to participant 1). Otherwise
//! `--symmetry` is refused, naming the reason.
//!
//! # The one asymmetry the code has, and why it does not matter here
//!
//! A handler that sends to several participants does so in id order, and the explorer may
//! crash its node between two of those sends: the participants that got the message first
//! are the lower ids. So the reachable states are not closed under renaming, and merging a
//! state with a renaming of it could in principle lose a crash point. This is checked, not
//! proven: for every 2PC variant with 3 participants and one crash, the number of orbits
//! the full search reaches equals the unique states the reduced search counts
//! (`crate::two_pc::explore`'s tests), and every verdict and violated property is the same
//! with and without `--symmetry` (`experiments/tests/explore_symmetry.rs`).
//!
//! [`World::symmetric_fingerprint`]: sim_core::World::symmetric_fingerprint

use std::hash::Hash;

use sim_core::explore::{ExploreConfig, ExploreReport, Model};
use sim_core::rename::MAX_INTERCHANGEABLE;
use sim_core::{NodeId, Rename, Renaming, World};

use super::{
    CommitMemory, Explorable, ExploreRequest, model, properties, remember, scenario,
    search_or_replay,
};
use crate::family::Family;
use crate::scenario::{Scenario, ScenarioError};

/// The families whose explorer takes `--symmetry` (for the refusal of the others).
pub const SUPPORTED: &str = "two-phase commit (2pc and its variants)";

/// A commit protocol whose states can be renamed (every type holding a node id does).
pub trait Symmetric: Explorable<Node: Rename, Msg: Rename, Timer: Rename, Record: Rename> {}

impl<P> Symmetric for P where P: Explorable<Node: Rename, Msg: Rename, Timer: Rename, Record: Rename>
{}

/// [`super::explore`] for a family that supports `--symmetry`: with it, the model's key is
/// the participants' orbit ([`symmetric_key`]); without it, the plain search.
pub fn explore<P: Symmetric>(
    family: &Family,
    request: &ExploreRequest<'_>,
    explore: &ExploreConfig,
    configure: impl FnOnce(&Scenario) -> Result<P::Config, ScenarioError>,
) -> Result<ExploreReport, ScenarioError> {
    if !request.symmetry {
        return super::explore::<P>(family, request, explore, configure);
    }
    let model = symmetric_model::<P>(family, request, configure)?;
    search_or_replay(&model, request, explore)
}

/// The model of [`super::model`], keyed by the participants' orbit, or why the scenario's
/// participants are not interchangeable (see the module docs).
pub(crate) fn symmetric_model<P: Symmetric>(
    family: &Family,
    request: &ExploreRequest<'_>,
    configure: impl FnOnce(&Scenario) -> Result<P::Config, ScenarioError>,
) -> Result<Model<P, P::Node>, ScenarioError> {
    let checked = properties(request.properties, family.properties, super::COMMIT_EXPLORED)?;
    let scenario = scenario(request);
    scenario.validate()?;
    let roles = (family.layout)(&scenario);
    let refuse = |why: String| ScenarioError::Invalid {
        field: "symmetry".into(),
        reason: format!("{}: {why}; run without --symmetry", request.variant),
    };
    let participants: Vec<NodeId> = roles.ids("participant").collect();
    if participants.len() > MAX_INTERCHANGEABLE {
        return Err(refuse(format!(
            "{} participants: symmetry reduction enumerates their N! renamings, so it takes \
             at most {MAX_INTERCHANGEABLE}",
            participants.len()
        )));
    }
    if roles.hosts.is_some() {
        return Err(refuse(
            "the coordinator shares participant 1's host (colocated), so participant 1 is \
             not interchangeable with the others"
                .into(),
        ));
    }
    let mut model = model::<P>(&scenario, &roles, configure(&scenario)?, &checked);
    let init = std::mem::replace(&mut model.init, Box::new(|| unreachable!("replaced")));
    let movable = participants.clone();
    model.init = Box::new(move || init().with_interchangeable(movable.clone()));
    model.view = Some(symmetric_key::<P>);
    if let Some(p) = asymmetric(&model, &participants) {
        return Err(refuse(format!(
            "participant {} does not start as participant {} does (a per-participant vote \
             policy, link override or entry point), so they are not interchangeable",
            p.0, participants[0].0
        )));
    }
    Ok(model)
}

/// A participant whose renaming with the first one changes the initial world, if any.
fn asymmetric<P: Symmetric>(model: &Model<P, P::Node>, participants: &[NodeId]) -> Option<NodeId> {
    let world = (model.init)();
    let first = *participants.first()?;
    participants[1..].iter().copied().find(|&p| {
        let mut to: Vec<NodeId> = (0..world.node_count()).map(NodeId).collect();
        to.swap(first.index(), p.index());
        world.fingerprint_renamed(&Renaming::new(to)) != world.fingerprint()
    })
}

/// The state's key up to renaming the participants: the smallest, over every permutation,
/// of the renamed world's fingerprint with the renamed [`CommitMemory`](super::CommitMemory).
fn symmetric_key<P: Symmetric>(world: &World<P, P::Node>) -> u64
where
    P::Record: crate::durable::TxnRecord,
    P::Node: Hash,
{
    let memory: CommitMemory = remember(world);
    world.symmetric_fingerprint(|r, h| memory.renamed(r).hash(h))
}

/// Implemented here for the model's own type: what the key needs renamed beside the world.
impl Rename for CommitMemory {
    fn rename(&mut self, r: &Renaming) {
        let CommitMemory { decided, voted, submitted } = self;
        decided.rename(r);
        voted.rename(r);
        for (_, participants) in submitted.iter_mut() {
            participants.rename(r);
            participants.sort_unstable();
        }
        submitted.sort_unstable();
    }
}

/// How many orbits a full search (no reduction) of `model` reaches: every state it
/// generates, keyed by [`symmetric_key`] and the crashes spent (the one fault the callers
/// budget). Equal to the reduced search's unique states exactly when the reduction loses
/// no orbit (see the module docs).
#[cfg(test)]
pub(crate) fn orbits_reached<P: Symmetric>(
    mut model: Model<P, P::Node>,
    config: &ExploreConfig,
) -> (u64, ExploreReport) {
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    thread_local! {
        static ORBITS: RefCell<BTreeSet<(u64, u64)>> = const { RefCell::new(BTreeSet::new()) };
    }
    fn recording<P: Symmetric>(world: &World<P, P::Node>) -> u64 {
        let orbit = (symmetric_key::<P>(world), world.stats().crashes);
        ORBITS.with(|o| o.borrow_mut().insert(orbit));
        super::memory_key::<CommitMemory, P, P::Node>(world)
    }
    assert!(config.threads <= 1, "the orbits are recorded on the calling thread");
    assert_eq!(
        config.budget,
        sim_core::explore::Budget { crashes: config.budget.crashes, ..Default::default() }
    );
    model.view = Some(recording::<P>);
    ORBITS.with(|o| o.borrow_mut().clear());
    let full = sim_core::explore::explore(&model, config);
    (ORBITS.with(|o| o.borrow().len() as u64), full)
}
