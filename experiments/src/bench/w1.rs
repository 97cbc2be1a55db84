//! Workload W1 ("2PC commit throughput", ../shared/bench/README.md) on the real engine.
//!
//! Five nodes: node 0 coordinates, nodes 1..4 participate. Transactions run one after
//! another: PREPARE to all four, four YES, COMMIT to all four, four ACK, next transaction.
//! Sixteen messages per transaction over reliable links with latency uniform in
//! [1 ms, 10 ms]. The nodes are real [`Process`] implementations driven by the full engine
//! (queue, network model, per-link RNG streams, fault-trigger checks, trace hashing), with
//! an empty fault plan: this measures what the engine's generality costs.

use serde::{Deserialize, Serialize};
use sim_core::{Boot, Context, FaultPlan, NodeId, Process, Protocol, SimConfig, Simulation};

pub const NODES: u32 = 5;
const COORDINATOR: NodeId = NodeId(0);
const PARTICIPANTS: u32 = NODES - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Msg {
    Prepare(u64),
    Yes(u64),
    Commit(u64),
    Ack(u64),
}

/// W1's vocabulary: no timers, no disk, no observations.
#[derive(Clone, Debug, PartialEq, Hash)]
pub struct W1;

impl Protocol for W1 {
    type Msg = Msg;
    type Timer = ();
    type Record = ();
    type Obs = ();
}

/// One enum for both roles, so the engine is monomorphised with no dynamic dispatch.
pub enum Node {
    Coordinator { txn: u64, yes: u32, acks: u32, committed: u64, target: u64 },
    Participant { prepared: Option<u64>, applied: u64 },
}

fn participants() -> impl Iterator<Item = NodeId> {
    (1..NODES).map(NodeId)
}

impl Process<W1> for Node {
    fn on_start(&mut self, ctx: &mut Context<'_, W1>) {
        if let Node::Coordinator { target, .. } = self
            && *target > 0
        {
            ctx.broadcast(participants(), Msg::Prepare(0));
        }
    }

    fn on_message(&mut self, ctx: &mut Context<'_, W1>, from: NodeId, msg: Msg) {
        match (self, msg) {
            (Node::Participant { prepared, .. }, Msg::Prepare(t)) => {
                assert!(prepared.is_none(), "W1 runs one transaction at a time");
                *prepared = Some(t);
                ctx.send(from, Msg::Yes(t));
            }
            (Node::Participant { prepared, applied }, Msg::Commit(t)) => {
                assert_eq!(*prepared, Some(t), "commit for a transaction not prepared");
                *prepared = None;
                *applied += 1;
                ctx.send(from, Msg::Ack(t));
            }
            (Node::Coordinator { txn, yes, .. }, Msg::Yes(t)) => {
                debug_assert_eq!(*txn, t);
                *yes += 1;
                if *yes == PARTICIPANTS {
                    ctx.broadcast(participants(), Msg::Commit(t));
                }
            }
            (Node::Coordinator { txn, yes, acks, committed, target }, Msg::Ack(t)) => {
                debug_assert_eq!(*txn, t);
                *acks += 1;
                if *acks == PARTICIPANTS {
                    *committed += 1;
                    if *committed < *target {
                        *txn = t + 1;
                        *yes = 0;
                        *acks = 0;
                        ctx.broadcast(participants(), Msg::Prepare(t + 1));
                    }
                }
            }
            (_, msg) => unreachable!("W1 node got unexpected {msg:?}"),
        }
    }

    fn on_timer(&mut self, _ctx: &mut Context<'_, W1>, _timer: ()) {}
}

/// Builds a W1 run of `txns` transactions.
pub fn simulation(txns: u64, config: SimConfig) -> Simulation<W1, Node> {
    assert_eq!(config.nodes, NODES);
    let factory = Box::new(move |id: NodeId, _boot: Boot<'_, ()>| {
        if id == COORDINATOR {
            Node::Coordinator { txn: 0, yes: 0, acks: 0, committed: 0, target: txns }
        } else {
            Node::Participant { prepared: None, applied: 0 }
        }
    });
    Simulation::new(config, FaultPlan::none(), factory).expect("W1's fixed config is valid")
}

/// What one W1 run produced.
pub struct W1Result {
    pub committed: u64,
    pub messages: u64,
    pub sim_time_us: u64,
    pub trace_hash: u64,
}

/// Runs W1 to quiescence and checks its invariants: every transaction committed at the
/// coordinator and applied at every participant, 16 messages each.
pub fn run(sim: &mut Simulation<W1, Node>, txns: u64) -> W1Result {
    sim.run_to_quiescence();
    let committed = match sim.node(COORDINATOR) {
        Some(Node::Coordinator { committed, .. }) => *committed,
        _ => unreachable!("node 0 is W1's coordinator"),
    };
    assert_eq!(committed, txns, "W1 must commit every transaction");
    for p in participants() {
        match sim.node(p) {
            Some(Node::Participant { applied, prepared }) => {
                assert_eq!((*applied, *prepared), (txns, None), "participant {p} diverged");
            }
            _ => unreachable!("nodes 1..4 are W1's participants"),
        }
    }
    let messages = sim.stats().delivered;
    assert_eq!(messages, 16 * txns, "W1 sends 16 messages per transaction");
    W1Result { committed, messages, sim_time_us: sim.now().as_us(), trace_hash: sim.trace_hash() }
}

#[cfg(test)]
mod tests {
    use sim_core::TraceLevel;

    use super::*;

    /// W1's trace hash, pinned: the engine's hot path may get faster, never different.
    /// Recorded with the build of 2026-11-30 before the W1 speed work (issue 18), and the
    /// same at every trace level.
    #[test]
    fn the_trace_hash_of_100_000_transactions_is_pinned_at_every_level() {
        const TXNS: u64 = 100_000;
        for level in [TraceLevel::Off, TraceLevel::Observations, TraceLevel::Full] {
            let config = SimConfig::new(NODES, 42).with_trace(level);
            let mut sim = simulation(TXNS, config);
            let result = run(&mut sim, TXNS);
            assert_eq!(format!("{:016x}", result.trace_hash), "22060ebf50a0d072", "{level:?}");
            assert_eq!(result.sim_time_us, 2_964_091_204, "{level:?}");
        }
    }
}
