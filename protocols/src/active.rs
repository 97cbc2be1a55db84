//! A coordinator's undecided transaction, the same record in 2PC, 3PC and quorum commit: who
//! takes part and how far it got. 3PC and quorum commit (Skeen's 3PC with quorums) also go
//! through the same phases, so they share [`ThreePhase`] rather than two copies.

use std::collections::BTreeSet;

use sim_core::NodeId;

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
