//! A coordinator's undecided transaction, the same record in 2PC, 3PC and quorum commit: who
//! takes part and how far it got. 3PC and quorum commit (Skeen's 3PC with quorums) also go
//! through the same phases, so they share [`ThreePhase`] rather than two copies. Every
//! coordinator counts votes the same way ([`tally`]).

use std::collections::BTreeSet;

use sim_core::{Context, NodeId, Protocol};

use crate::txn::Vote;

/// An undecided transaction at its coordinator, in its protocol's `Phase`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Active<Phase> {
    pub participants: Vec<NodeId>,
    pub phase: Phase,
}

/// How far a three-phase coordinator got with one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ThreePhase {
    /// CanCommit sent; `yes` holds who voted yes so far.
    Waiting { yes: BTreeSet<NodeId> },
    /// PreCommit sent; `acked` holds who acknowledged it so far.
    PreCommitting { acked: BTreeSet<NodeId> },
    /// A recovered coordinator asking how a transaction it has no record of ended.
    Inquiring { attempts: u32 },
}

/// What a coordinator collecting votes does after one more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tally {
    /// A no vote: abort.
    Abort,
    /// The last yes vote: every participant voted yes.
    AllYes,
    /// Votes are still to come.
    Waiting,
}

/// Counts `vote`, from `from`, for a transaction whose participants are `participants` and
/// whose yes voters so far are `yes`: a no aborts; the last yes marks `all_in` (the
/// all-votes-in crash point), and the coordinator moves on.
pub fn tally<P: Protocol>(
    ctx: &mut Context<'_, P>,
    (yes, participants): (&mut BTreeSet<NodeId>, &[NodeId]),
    (from, vote): (NodeId, Vote),
    all_in: &'static str,
) -> Tally {
    if vote == Vote::No {
        return Tally::Abort;
    }
    yes.insert(from);
    if yes.len() < participants.len() {
        return Tally::Waiting;
    }
    ctx.mark(all_in);
    Tally::AllYes
}
