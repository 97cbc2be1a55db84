//! What a replicated-log run reported, indexed as the history grows: leaders per term,
//! log entries applied per index and per node, and the client's operations.

use std::collections::BTreeMap;

use protocols::Observation;
use protocols::consensus::{KvCall, KvResult, OpId};
use sim_core::{NodeId, Time};

use super::zab_facts::ZabFacts;

/// One client operation: when it was invoked and, if it was, when and how it returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpFacts {
    pub client: NodeId,
    pub key: u32,
    pub call: KvCall,
    pub invoked: Time,
    pub returned: Option<(Time, KvResult)>,
}

/// The first entry seen applied at an index: which entry (term, operation) and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedAt {
    pub term: u64,
    pub op: OpId,
    pub node: NodeId,
    /// When it was first applied: it was committed by then.
    pub at: Time,
}

/// The log a leader started its term with (see [`Observation::LeaderLog`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderLog {
    pub at: Time,
    pub node: NodeId,
    pub term: u64,
    /// The term of each entry, entry 1 first.
    pub terms: Vec<u64>,
}

/// A replicated log's facts. Every map is keyed by a number the run itself bounds (terms
/// won, log indexes, operations), and is never iterated in hash order.
#[derive(Clone, Debug, Default)]
pub struct ConsensusFacts {
    /// Any consensus fact was pushed.
    pub active: bool,
    /// Per term: the distinct nodes that became its leader, in order.
    pub leaders: BTreeMap<u64, Vec<NodeId>>,
    /// Every new leader's log, in time order (bounded by the elections won).
    pub leader_logs: Vec<LeaderLog>,
    /// Per log index: the first entry applied there.
    pub applied: BTreeMap<u64, AppliedAt>,
    /// Two nodes applied different entries at one index: (index, first, second).
    pub divergent: Vec<(u64, AppliedAt, AppliedAt)>,
    /// A node applied out of order (a gap or a repeat within one life): (node, index
    /// expected, index applied).
    pub out_of_order: Vec<(NodeId, u64, u64)>,
    /// Per node: the last index applied in its current life (0: none; a crash resets it, the
    /// state machine being rebuilt from the log).
    pub applied_through: BTreeMap<NodeId, u64>,
    pub ops: BTreeMap<OpId, OpFacts>,
    /// Clients that crashed (their pending operations are excused from termination).
    pub crashed_clients: Vec<NodeId>,
    /// ZAB's broadcasts and deliveries.
    pub zab: ZabFacts,
}

impl ConsensusFacts {
    pub fn observe(&mut self, time: Time, node: NodeId, obs: &Observation) {
        self.active = true;
        match *obs {
            Observation::LeaderElected { term } => {
                let l = self.leaders.entry(term).or_default();
                if !l.contains(&node) {
                    l.push(node);
                }
            }
            Observation::LeaderLog { term, ref terms } => {
                self.leader_logs.push(LeaderLog { at: time, node, term, terms: terms.clone() });
            }
            Observation::EntryApplied { index, term, op } => {
                let at = AppliedAt { term, op, node, at: time };
                let first = *self.applied.entry(index).or_insert(at);
                if (first.term, first.op) != (term, op) {
                    self.divergent.push((index, first, at));
                }
                let through = self.applied_through.entry(node).or_insert(0);
                if index != *through + 1 {
                    self.out_of_order.push((node, *through + 1, index));
                }
                *through = index;
            }
            Observation::PrimaryBroadcast { epoch, counter, op } => {
                self.zab.broadcast(time, node, epoch, counter, op)
            }
            Observation::Delivered { epoch, counter, op } => {
                self.zab.deliver(time, node, epoch, counter, op)
            }
            Observation::OpInvoked { op, key, call } => {
                self.ops.entry(op).or_insert(OpFacts {
                    client: node,
                    key,
                    call,
                    invoked: time,
                    returned: None,
                });
            }
            Observation::OpReturned { op, result } => {
                if let Some(f) = self.ops.get_mut(&op) {
                    f.returned.get_or_insert((time, result));
                }
            }
            _ => {}
        }
    }

    /// `node` crashed: its state machine is gone (it re-applies from index 1), and if it is
    /// a client, its pending operations will never be retried.
    pub fn crash(&mut self, node: NodeId) {
        self.zab.crash(node);
        if let Some(t) = self.applied_through.get_mut(&node) {
            *t = 0;
        }
        if self.ops.values().any(|o| o.client == node) && !self.crashed_clients.contains(&node) {
            self.crashed_clients.push(node);
        }
    }
}
