//! What a participant keeps of the election it leads, and the crash points of elections:
//! the state both the participant's normal-case handlers ([`super::participant`]) and its
//! election handlers ([`super::election`]) read.

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::{Ballot, PreState, Report};

crate::crash_points! {
    /// Crash points of elections (failure paths only).
    pub enum ElectionPoint {
        ElectionStarted, ElectionJoined, RecoveryPrecommitSentToFirst, RecoveryPrecommitSentToAll,
        RecoveryPreabortSentToFirst, RecoveryPreabortSentToAll, Preaborted, RecoveryDecisionLogged,
        RecoveryDecisionSentToFirst, RecoveryDecisionSentToAll
    }
}

/// The election a participant leads.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Lead {
    pub(super) ballot: Ballot,
    pub(super) phase: Phase,
}

/// Where the election a participant leads stands.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Phase {
    /// Collecting the states of the processes that joined, this one's included.
    Collecting { reports: BTreeMap<NodeId, Report> },
    /// Attempting `pre`: the processes that took it.
    Attempting { pre: PreState, acked: Vec<NodeId> },
}
