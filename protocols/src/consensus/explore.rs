//! The replicated logs (Raft, Multi-Paxos, ZAB) under `commitlab explore`: one model for the
//! three, over the very nodes `run` builds ([`ConsensusNode`]: the family's replica and the
//! key-value client), judged on the consensus properties from the facts they report.
//!
//! # What the explorer bounds that a run does not
//!
//! Time is abstracted (any armed timer may fire next), so an election can start while the
//! leader lives: leader changes need no fault. But every periodic timer would then fire
//! without end, each firing a new term (ballot, epoch) or more messages in flight. So each
//! node runs inside [`Bounded`], which hands the replica:
//!
//! - an election timeout only while its round (Raft's term, Multi-Paxos's promised ballot
//!   round, ZAB's accepted epoch: [`Round`]) is below the family's [`Round::MAX_ROUND`]
//!   (Raft 1, Multi-Paxos 1, ZAB 2: fixed constants, each the most a test exhausts in
//!   seconds), and once per round (a standing that failed is not retried in the same round);
//!   a leader's election timeout only re-arms it and is always handed on;
//! - no heartbeat timeout: a heartbeat repairs lost messages and spreads the commit point
//!   (what liveness needs); the explored replicas apply what they learn without it. A ZAB
//!   leader's first heartbeat is sent as it establishes its epoch, not on the timer: it is
//!   explored as every message is, and brings in a replica that missed discovery (the old
//!   leader in `broken-zab-skip-sync`'s counterexample).
//!
//! A timeout past the bounds is swallowed: that timer stays unarmed until the replica arms
//! it again. The client puts `--txns` operations, one at a time, on [`EXPLORED_KEYS`] key,
//! retries each at most [`Round::CLIENT_RETRIES`] times on its timer ([`CLIENT_RETRIES`]
//! unless the family says otherwise: ZAB 2) and follows redirects as in `run`. These bounds are
//! part of the state space explored; the README says so. Even so the state spaces grow
//! fast with depth (every order of the broadcasts' messages is a state): the tests explore
//! the correct logs to the depth at which their broken variants fail.
//!
//! # Judging safety on every state without the path in the key
//!
//! As for the commit families ([`crate::explore`]), each world keeps its observations (the
//! facts the checkers read: leaders elected, the log each leader started with, entries
//! applied, ZAB's broadcasts and deliveries), and the properties are judged from them in
//! the order they were reported (an explored world has no clock: order is what "before"
//! means here). The state's key is the world's fingerprint and only what a property can
//! still read from that history ([`Memory`]): every (term, leader) elected, every leader's
//! starting log, per log index the first entry applied there with the highest term won by
//! then, and for ZAB each primary's broadcasts and each replica life's deliveries. A live
//! replica's position in its own applying is its state (in the fingerprint). All of it is
//! bounded by the elections and operations above, so the state space stays finite.
//!
//! The checks restate `checkers::consensus` over that order (this crate cannot depend on the
//! checkers, which depend on it): at most one leader per term; no two different entries
//! applied at one index, each replica applying in index order from 1 in each life (a
//! replica applies index 1 only when it starts a life: its state machine is volatile);
//! leaders' starting logs agreeing up to any entry they share; every entry applied before a
//! leader of a higher term than any won by then was elected is in that leader's log; and
//! ZAB's integrity, total order and primary order over the lives' deliveries. Not checked
//! here: linearizability (the client's real-time order needs time) and termination (a
//! liveness property).

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use sim_core::explore::{Drawing, ExploreConfig, ExploreReport, Model, Predicate};
use sim_core::hash::StableHasher;
use sim_core::{Context, FaultPlan, NodeId, Process, SimConfig, TraceLevel, World};

use super::client::KvWire;
use super::wiring::{ConsensusNode, LogConfig, LogTimer, broken_of};
use crate::durable::TxnRecord;
use crate::explore::{ExploreRequest, properties, search_or_replay, sim_config};
use crate::family::{Family, VariantSpec};
use crate::scenario::{CommitProtocol, ScenarioError};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::txn::Observation;

/// Retries of an operation on the client's timer under exploration (redirects are still
/// followed), unless the family's [`Round::CLIENT_RETRIES`] says otherwise.
pub const CLIENT_RETRIES: u32 = 0;
/// Keys the client's operations go to under exploration (contention without a key choice).
pub const EXPLORED_KEYS: u32 = 1;

/// The properties every replicated log's explorer checks.
pub const LOG_EXPLORED: &[&str] = JUDGED.split_at(LEADER_COMPLETENESS + 1).0;
/// For a family that reports no leader logs (Multi-Paxos): election and state machine
/// safety.
pub const SLOT_EXPLORED: &[&str] = JUDGED.split_at(STATE_MACHINE_SAFETY + 1).0;
/// For ZAB: those and the paper's own.
pub const ZAB_EXPLORED: &[&str] = &JUDGED;

/// What the explorer reads of a replica to bound its elections: the round its last election
/// was for (Raft's current term, Multi-Paxos's promised ballot round, ZAB's accepted epoch),
/// and the highest round an election may reach under exploration.
pub trait Round {
    /// Elections (terms, ballot rounds, epochs) a replica may start under exploration.
    const MAX_ROUND: u64;
    fn round(&self) -> u64;
    /// Retries of an operation on the client's timer under exploration.
    const CLIENT_RETRIES: u32 = CLIENT_RETRIES;
    /// Whether the replica leads (its election timeout then changes nothing).
    fn leads(&self) -> bool;
}

/// A node of a replicated log under exploration: the node `run` builds, whose election
/// timeouts are handed on at most once per round of the replica and only below
/// [`Round::MAX_ROUND`] (a leader's always), its heartbeat timeouts never (module docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bounded<R> {
    node: ConsensusNode<R>,
    /// The replica's round when it last took an election timeout.
    election_at: Option<u64>,
    /// The round bound: [`Round::MAX_ROUND`] unless the request sets another.
    max_round: u64,
}

impl<P: KvWire<Timer = LogTimer>, R: Process<P> + Round> Process<P> for Bounded<R> {
    fn on_start(&mut self, ctx: &mut Context<'_, P>) {
        self.node.on_start(ctx)
    }
    fn on_message(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: P::Msg) {
        self.node.on_message(ctx, from, msg)
    }
    fn on_timer(&mut self, ctx: &mut Context<'_, P>, timer: LogTimer) {
        let ConsensusNode::Replica(replica) = &self.node else {
            return self.node.on_timer(ctx, timer);
        };
        let round = replica.round();
        match timer {
            // A leader's election timeout only re-arms it: a step back to the same state.
            LogTimer::Election if replica.leads() => self.node.on_timer(ctx, timer),
            LogTimer::Election if round < self.max_round && self.election_at != Some(round) => {
                self.election_at = Some(round);
                self.node.on_timer(ctx, timer);
            }
            LogTimer::Election | LogTimer::Heartbeat => {} // past the bounds: swallowed
            LogTimer::Kv(_) => self.node.on_timer(ctx, timer),
        }
    }
}

/// Explores `request` as the replicated log `P` (one of `variants`, whose replicas are `R`),
/// checking `explored` (or those of them asked).
pub fn explore<P, R, B>(
    family: &Family,
    variants: &[(VariantSpec, Option<B>)],
    explored: &[&'static str],
    request: &ExploreRequest<'_>,
    config: &ExploreConfig,
) -> Result<ExploreReport, ScenarioError>
where
    P: CommitProtocol<Node = ConsensusNode<R>, Config = LogConfig<B>> + KvWire<Timer = LogTimer>,
    P::Record: TxnRecord,
    R: Process<P> + Round + Clone + Hash + Send + 'static,
    B: Copy + Send + Sync + 'static,
{
    let checked = properties(request.properties, family.properties, explored)?;
    if request.symmetry {
        return Err(ScenarioError::Invalid {
            field: "symmetry".into(),
            reason: format!("{}: symmetry reduction is not supported yet", request.variant),
        });
    }
    let mut scenario = request.scenario.clone();
    scenario.trace = TraceLevel::Observations;
    scenario.validate()?;
    let timing = Timing::for_network(&scenario.network);
    let mut log = LogConfig::of(&scenario, &timing, broken_of(variants, request.variant))?;
    log.client.keys = EXPLORED_KEYS;
    log.client.retry.max_attempts = request.log_bounds.client_retries.unwrap_or(R::CLIENT_RETRIES);
    let max_round = request.log_bounds.max_round.unwrap_or(R::MAX_ROUND);
    let roles = (family.layout)(&scenario);
    let sim = sim_config(&scenario, &roles);
    let log = Shared::new(log);
    let world = move |trace: TraceLevel| {
        let (log, sim) = (log.clone(), SimConfig { trace, ..sim.clone() });
        move || {
            let log = log.clone();
            let factory = move |id: NodeId, boot: sim_core::Boot<'_, P::Record>| Bounded {
                node: P::build(&log, id, boot),
                election_at: None,
                max_round,
            };
            World::new(sim.clone(), FaultPlan::new(Vec::new()), factory)
                .expect("a scenario the runner accepts")
        }
    };
    let table: [Holds<P, Bounded<R>>; JUDGED.len()] = [
        holds::<P, Bounded<R>, ELECTION_SAFETY>,
        holds::<P, Bounded<R>, STATE_MACHINE_SAFETY>,
        holds::<P, Bounded<R>, LOG_MATCHING>,
        holds::<P, Bounded<R>, LEADER_COMPLETENESS>,
        holds::<P, Bounded<R>, PRIMARY_ORDER>,
        holds::<P, Bounded<R>, INTEGRITY>,
        holds::<P, Bounded<R>, TOTAL_ORDER>,
    ];
    let invariants = JUDGED
        .iter()
        .zip(table)
        .filter(|(name, _)| checked.contains(name))
        .map(|(&name, holds)| Predicate { name, holds })
        .collect();
    let model = Model {
        init: Box::new(world(TraceLevel::Observations)),
        view: Some(key::<P, Bounded<R>>),
        potential: None,
        invariants,
        terminal: Vec::new(),
        drawing: Some(Drawing {
            init: Box::new(world(TraceLevel::Full)),
            names: Box::new(move |id| roles.label(id)),
        }),
    };
    search_or_replay(&model, request, config)
}

/// A property's predicate.
type Holds<P, N> = fn(&World<P, N>) -> bool;

/// Every property this model can judge, in the order of [`Judged::violated`].
const JUDGED: [&str; 7] = [
    "election-safety",
    "state-machine-safety",
    "log-matching",
    "leader-completeness",
    "primary-order",
    "integrity",
    "total-order",
];

/// A ZAB transaction id as the facts report it: (epoch, counter).
type Zxid = (u64, u64);

/// What a property can still read from a world's history (module docs).
#[derive(Default, PartialEq, Eq, Hash)]
struct Memory {
    /// Every leader elected: (term, node).
    leaders: BTreeSet<(u64, NodeId)>,
    /// Every log a leader started its term with: (term, node, the term of each entry).
    logs: BTreeSet<(u64, NodeId, Vec<u64>)>,
    /// Per log index: the first entry applied there (term, op), and the highest term whose
    /// leader log was reported by then.
    applied: BTreeMap<u64, (u64, u64, u64)>,
    /// ZAB: each primary's broadcasts in order, per (epoch, node): (zxid, op).
    broadcasts: BTreeMap<(u64, NodeId), Vec<(Zxid, u64)>>,
    /// ZAB: each replica life's deliveries in order (sorted for the key: which life came
    /// first is no property's business).
    lives: Vec<(NodeId, Vec<Zxid>)>,
}

/// A history judged: its memory and which properties it violates.
struct Judged {
    memory: Memory,
    violated: [bool; JUDGED.len()],
}

// Indexes into [`JUDGED`].
const ELECTION_SAFETY: usize = 0;
const STATE_MACHINE_SAFETY: usize = 1;
const LOG_MATCHING: usize = 2;
const LEADER_COMPLETENESS: usize = 3;
const PRIMARY_ORDER: usize = 4;
const INTEGRITY: usize = 5;
const TOTAL_ORDER: usize = 6;

/// Walks the world's observations in order (see the module docs).
fn judge<P: sim_core::Protocol<Obs = Observation>, N>(world: &World<P, N>) -> Judged {
    let mut m = Memory::default();
    let mut v = [false; JUDGED.len()];
    // Per node: the last index applied in its current life, and that life in `m.lives`.
    let mut through: BTreeMap<NodeId, u64> = BTreeMap::new();
    let mut life: BTreeMap<NodeId, usize> = BTreeMap::new();
    for o in world.trace().observations() {
        let node = o.node;
        match &o.obs {
            Observation::LeaderElected { term } => {
                v[ELECTION_SAFETY] |= m.leaders.iter().any(|&(t, n)| t == *term && n != node);
                m.leaders.insert((*term, node));
            }
            Observation::LeaderLog { term, terms } => {
                v[LOG_MATCHING] |= m.logs.iter().any(|(_, _, other)| !logs_match(other, terms));
                v[LEADER_COMPLETENESS] |= m.applied.iter().any(|(&index, &(t, _, won))| {
                    won < *term && terms.get(index as usize - 1) != Some(&t)
                });
                m.logs.insert((*term, node, terms.clone()));
            }
            &Observation::EntryApplied { index, term, op } => {
                let last = through.entry(node).or_insert(0);
                if index == 1 {
                    life.remove(&node); // a new life: its state machine starts empty
                } else {
                    v[STATE_MACHINE_SAFETY] |= index != *last + 1;
                }
                *last = index;
                let won = m.logs.iter().map(|l| l.0).max().unwrap_or(0);
                let first = *m.applied.entry(index).or_insert((term, op, won));
                v[STATE_MACHINE_SAFETY] |= (first.0, first.1) != (term, op);
            }
            &Observation::PrimaryBroadcast { epoch, counter, op } => {
                m.broadcasts.entry((epoch, node)).or_default().push(((epoch, counter), op));
            }
            &Observation::Delivered { epoch, counter, op } => {
                let zxid = (epoch, counter);
                let sent = m.broadcasts.values().flatten().find(|b| b.0 == zxid);
                v[INTEGRITY] |= sent.is_none_or(|b| b.1 != op);
                let i = *life.entry(node).or_insert_with(|| {
                    m.lives.push((node, Vec::new()));
                    m.lives.len() - 1
                });
                m.lives[i].1.push(zxid);
            }
            _ => {}
        }
    }
    let lives = &m.lives;
    v[TOTAL_ORDER] = lives.iter().enumerate().any(|(a, first)| {
        lives.iter().enumerate().any(|(b, second)| a != b && !keeps_order(&first.1, &second.1))
    });
    let local = m.broadcasts.values().any(|bs| {
        let order: Vec<Zxid> = bs.iter().map(|b| b.0).collect();
        lives.iter().any(|l| !keeps_order(&order, &l.1))
    });
    // Global: along a life, the epochs of the primaries that broadcast what it delivered
    // never go down (a zxid's epoch is its primary's).
    let global = lives.iter().any(|l| {
        let epochs: Vec<u64> =
            l.1.iter()
                .filter(|z| m.broadcasts.values().flatten().any(|b| b.0 == **z))
                .map(|z| z.0)
                .collect();
        epochs.windows(2).any(|w| w[1] < w[0])
    });
    v[PRIMARY_ORDER] = local || global;
    m.lives.sort();
    Judged { memory: m, violated: v }
}

/// Log matching between two leaders' starting logs: if they hold an entry of the same term
/// at one index, they agree on every entry before it.
fn logs_match(a: &[u64], b: &[u64]) -> bool {
    let shared = a.len().min(b.len());
    let first_diff = (0..shared).find(|&i| a[i] != b[i]);
    let last_same = (0..shared).rev().find(|&i| a[i] == b[i]);
    !matches!((first_diff, last_same), (Some(d), Some(s)) if s > d)
}

/// Whether `seq` keeps `order`: whatever of `order` it holds, it holds after everything
/// `order` puts before it.
fn keeps_order(order: &[Zxid], seq: &[Zxid]) -> bool {
    seq.iter().enumerate().all(|(j, z)| {
        order
            .iter()
            .position(|o| o == z)
            .is_none_or(|i| order[..i].iter().all(|x| seq[..j].contains(x)))
    })
}

/// The state's key: the world's fingerprint and its [`Memory`].
fn key<P, N>(world: &World<P, N>) -> u64
where
    P: sim_core::Protocol<Obs = Observation>,
    N: Hash,
{
    let mut h = StableHasher::default();
    h.write_u64(world.fingerprint());
    judge(world).memory.hash(&mut h);
    h.finish()
}

fn holds<P: sim_core::Protocol<Obs = Observation>, N, const K: usize>(world: &World<P, N>) -> bool {
    !judge(world).violated[K]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leader_logs_match_unless_they_share_an_entry_after_a_difference() {
        assert!(logs_match(&[1, 1, 2], &[1, 1]));
        assert!(
            logs_match(&[1, 2], &[1, 3, 3]),
            "they differ from index 2 on: no shared entry after"
        );
        assert!(!logs_match(&[1, 2, 3], &[1, 3, 3]), "index 3 of term 3 in both, index 2 differs");
    }

    #[test]
    fn a_sequence_keeps_an_order_when_every_predecessor_came_first() {
        let order = [(1, 1), (1, 2), (1, 3)];
        assert!(keeps_order(&order, &[(1, 1), (1, 2)]));
        assert!(keeps_order(&order, &[(2, 1), (1, 1)]), "foreign zxids are ignored");
        assert!(!keeps_order(&order, &[(1, 1), (1, 3)]));
        assert!(!keeps_order(&order, &[(1, 2), (1, 1)]));
    }
}
