//! The facts of a run that checkers are fed, one at a time, in the shared vocabulary.
//!
//! A checker judges a history: the run's observations ([`crate::Observation`], what nodes
//! reported) interleaved with the few other facts a property needs beside them — crashes and
//! recoveries, durable writes read as yes votes and decisions (through [`TxnRecord`]),
//! failures (a fault fired, a message lost or duplicated), which links are cut, and where the
//! fault phase ended. Nothing here is a live node: every fact is data, in the order it
//! happened, so a checker can judge a finished run, a run as it grows, or one state of an
//! explorer's world, with the same code.
//!
//! The scenario runner collects these facts through a [`sim_core::Tap`] at every trace
//! level: the same run yields the same facts with the trace off, at `observations` or
//! `full` (the level only decides what the engine's own trace keeps).
//!
//! [`TxnRecord`]: crate::durable::TxnRecord

use serde::{Deserialize, Serialize};
use sim_core::{NodeId, Time};

use crate::txn::{Observation, Outcome, TxnId};

/// One fact: what happened, where and when. Facts about the whole cluster (links, phases)
/// are recorded at node 0, as the engine's trace records cluster-wide events.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunFact {
    pub time: Time,
    pub node: NodeId,
    pub what: Happened,
}

/// What a fact says.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Happened {
    /// The node reported a protocol fact.
    Observed { obs: Observation },
    /// The node crashed: its volatile state (doubts, locks) is gone until it recovers.
    Crashed,
    /// The node was rebuilt from its disk and restarted.
    Recovered,
    /// The node forced a prepared record for `txn` (a durable yes vote) to its disk;
    /// `delta` is the sum of the writes it holds under lock: what committing `txn` adds to
    /// the node's applied total (conservation judges each transaction by it).
    Prepared {
        txn: TxnId,
        #[serde(default)]
        delta: i64,
    },
    /// The node forced a decision record for `txn` to its disk.
    Logged { txn: TxnId, outcome: Outcome },
    /// Fault `index` of the plan fired.
    FaultFired { index: u32 },
    /// A message was lost (a cut link, the link's loss, or a receiver that was down).
    Lost,
    /// The network will deliver a message twice.
    Duplicated,
    /// From now on exactly these directed links `(from, to)` are cut, ascending.
    Cut { links: Vec<(NodeId, NodeId)> },
    /// The run was cut short by one of its bounds (`reason`: which, in words): what had to
    /// happen by the end of the phase it stopped in may not have had its turn, so the
    /// properties that need a finished run are inconclusive.
    CutShort { reason: String },
    /// The fault phase ended: blocking is judged here.
    FaultPhaseEnded,
    /// The liveness phase began: every node recovers, every link heals, no fault follows.
    LivenessPhaseBegan,
    /// The run ended.
    Ended,
}

/// An observation with when and where, in the shared vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TxnObserved {
    pub time: Time,
    pub node: NodeId,
    pub obs: Observation,
}

impl RunFact {
    /// An observation as a fact.
    pub fn observed(o: &TxnObserved) -> RunFact {
        RunFact { time: o.time, node: o.node, what: Happened::Observed { obs: o.obs.clone() } }
    }
}

/// A fact of a report other than an observation, placed among the observations: it happened
/// after the first `after` of them (and after the facts placed before it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlacedFact {
    pub after: usize,
    pub fact: RunFact,
}

/// A fact of a finished run, borrowed from its report.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FactRef<'a> {
    Observed(&'a TxnObserved),
    Other(&'a RunFact),
}

impl FactRef<'_> {
    pub fn time(self) -> Time {
        match self {
            FactRef::Observed(o) => o.time,
            FactRef::Other(f) => f.time,
        }
    }

    /// The fact, owned (an observation is cloned).
    pub fn to_fact(self) -> RunFact {
        match self {
            FactRef::Observed(o) => RunFact::observed(o),
            FactRef::Other(f) => f.clone(),
        }
    }
}
