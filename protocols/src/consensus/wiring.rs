//! What every replicated-log family wires the same way: replicas `0..N` and the key-value
//! client at `N` (roles and layout), one node type that routes the client's messages and
//! timers to the client and everything else to the replica, and the timeouts and client
//! derived from the network's latency bound. A family keeps only its replica, its vocabulary
//! and its variants.

use serde::{Deserialize, Serialize};
use sim_core::{Context, Duration, NodeId, Process, Protocol, SimRng};

use super::Requests;
use super::client::{KvClient, KvClientConfig, KvTimer, KvWire};
use crate::backoff::Backoff;
use crate::family::{ExploreFn, Family, VariantSpec};
use crate::family::{RoleSpec, Roles};
use crate::scenario::{CommitProtocol, NodeView, RunOutcome, Scenario, ScenarioError};
use crate::settings::{SettingSpec, Settings, SettingsView};
use crate::shared::Shared;
use crate::timing::Timing;
use crate::txn::{Key, TxnId};

/// Keys the client spreads its operations over: few, so that operations contend.
pub const KEYS: u32 = 3;

/// The roles of a replicated log: `replica` (labelled `r0`, `r1`, ...) with `crash_points`,
/// and the client.
pub const fn replica_roles(crash_points: &'static [&'static str]) -> [RoleSpec; 2] {
    [
        RoleSpec { name: "replica", label: "r", crash_points, failure_points: &[] },
        RoleSpec { name: "client", label: "client", crash_points: &[], failure_points: &[] },
    ]
}

/// Replicas are nodes `0..N` (`--participants N`), the client node `N`.
pub fn replica_layout(specs: &[RoleSpec], scenario: &Scenario) -> Roles {
    Roles::from_groups(specs, &[("replica", scenario.participants), ("client", 1)])
}

/// Election and heartbeat timing from the latency bound `d`: heartbeats well inside the
/// election timeout (a round trip is at most 2d; the paper's "broadcastTime ≪
/// electionTimeout").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub election_min_us: u64,
    pub election_max_us: u64,
    pub heartbeat_us: u64,
}

/// The settings every replicated log takes (`[family]`, `--set`): its election timeout
/// range in latency bounds `d` (what the failover sweep varies).
pub const TIMEOUT_SETTINGS: &[SettingSpec] = &[
    SettingSpec::int(
        "election_min_d",
        4..=1000,
        10,
        "shortest election timeout, in latency bounds d (heartbeats come every 3d)",
    ),
    SettingSpec::int(
        "election_max_d",
        4..=1000,
        20,
        "longest election timeout, in latency bounds d (at least election_min_d)",
    ),
];

impl Timeouts {
    /// The timeouts of a scenario's `[family]` section (validated against
    /// [`TIMEOUT_SETTINGS`]), `d` the network's latency bound.
    pub fn of(timing: &Timing, settings: &Settings) -> Result<Timeouts, ScenarioError> {
        let view = SettingsView::new(TIMEOUT_SETTINGS, settings);
        let (min_d, max_d) = (view.int("election_min_d"), view.int("election_max_d"));
        if min_d > max_d {
            return Err(ScenarioError::Invalid {
                field: "family.election_max_d".into(),
                reason: format!("{max_d} is below election_min_d ({min_d})"),
            });
        }
        let d = timing.latency_bound_us;
        Ok(Timeouts {
            election_min_us: min_d as u64 * d,
            election_max_us: max_d as u64 * d,
            heartbeat_us: 3 * d,
        })
    }
}

/// The client of `scenario`: its operations and concurrency, retries timed from `timing`.
pub fn client_config(scenario: &Scenario, timing: &Timing) -> KvClientConfig {
    let retry_us = 40 * timing.latency_bound_us;
    KvClientConfig {
        replicas: scenario.participants,
        ops: scenario.txns,
        max_in_flight: scenario.max_in_flight,
        keys: KEYS,
        retry: Backoff::new(retry_us, 8 * retry_us),
    }
}

/// A replica's timers, the same in every replicated log, beside the client's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogTimer {
    Kv(KvTimer),
    /// No word from a leader: stand for election (Raft), or run phase 1 with a higher ballot
    /// (Multi-Paxos).
    Election,
    /// Leader: replicate, or just assert leadership and re-send what is unanswered.
    Heartbeat,
}

/// A replicated log's configuration, the same fields in every family; `B` names the family's
/// broken variants.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogConfig<B> {
    pub replicas: u32,
    /// Election timeouts are drawn uniformly from `[election_min_us, election_max_us]`.
    pub election_min_us: u64,
    pub election_max_us: u64,
    pub heartbeat_us: u64,
    /// Entries per replication message (and values per catch-up answer), at most: the bound
    /// on any one message's size.
    pub batch_max: u64,
    pub broken: Option<B>,
    pub client: KvClientConfig,
}

/// The protocol of a replicated log (every family [`crate::replicated_log!`] wires): its
/// timers are [`LogTimer`]s, its messages say which are [`Requests`] a replica may refuse,
/// and its configuration is a [`LogConfig`] of its broken behaviours.
pub trait LogProtocol: KvWire<Timer = LogTimer, Msg: Requests> {
    /// The family's broken behaviours.
    type Broken;
}

impl<P, B> LogProtocol for P
where
    P: KvWire<Timer = LogTimer, Msg: Requests> + CommitProtocol<Config = LogConfig<B>>,
    P::Record: crate::durable::TxnRecord,
{
    type Broken = B;
}

/// Entries per replication message unless a family says otherwise.
pub const BATCH_MAX: u64 = 64;

impl<B> LogConfig<B> {
    /// The configuration `scenario` asks for (its `[family]` settings validated against
    /// [`TIMEOUT_SETTINGS`]), timed from `timing`.
    pub fn of(
        scenario: &Scenario,
        timing: &Timing,
        broken: Option<B>,
    ) -> Result<LogConfig<B>, ScenarioError> {
        let t = Timeouts::of(timing, &scenario.family)?;
        Ok(LogConfig::new(scenario.participants, &t, client_config(scenario, timing), broken))
    }

    /// A cluster of `replicas` timed by `t`, with `client`, planting `broken`.
    pub fn new(
        replicas: u32,
        t: &Timeouts,
        client: KvClientConfig,
        broken: Option<B>,
    ) -> LogConfig<B> {
        LogConfig {
            replicas,
            election_min_us: t.election_min_us,
            election_max_us: t.election_max_us,
            heartbeat_us: t.heartbeat_us,
            batch_max: BATCH_MAX,
            broken,
            client,
        }
    }

    /// Replicas in a majority: any two majorities share one.
    pub fn majority(&self) -> usize {
        self.replicas as usize / 2 + 1
    }

    /// A fresh election timeout, drawn from the replica's own stream.
    pub fn election_timeout(&self, rng: &mut SimRng) -> Duration {
        let us = sim_core::rng::uniform_u64(rng, self.election_min_us, self.election_max_us);
        Duration::from_us(us)
    }

    /// Arms the replica's election timer with a fresh timeout.
    pub fn arm_election<P: Protocol<Timer = LogTimer>>(&self, ctx: &mut Context<'_, P>) {
        let after = self.election_timeout(ctx.rng());
        ctx.set_timer(after, LogTimer::Election);
    }

    /// Every replica but `me`.
    pub fn others(&self, me: NodeId) -> impl Iterator<Item = NodeId> + use<B> {
        (0..self.replicas).map(NodeId).filter(move |&n| n != me)
    }
}

/// The family of a replicated log named `name`: replicas and a client, the timeout
/// settings, judged on `properties`, explored by `explore` (see [`super::explore`]).
pub const fn log_family(
    name: &'static str,
    variants: fn() -> Vec<VariantSpec>,
    roles: &'static [RoleSpec],
    properties: &'static [&'static str],
    layout: fn(&Scenario) -> Roles,
    run: fn(&str, &Scenario) -> Result<RunOutcome, ScenarioError>,
    explore: ExploreFn,
) -> Family {
    Family {
        name,
        variants,
        roles,
        settings: TIMEOUT_SETTINGS,
        properties,
        layout,
        run,
        explore: Some(explore),
    }
}

/// The broken behaviour `variant` (one of `variants`) plants.
pub fn broken_of<B: Copy>(variants: &[(VariantSpec, Option<B>)], variant: &str) -> Option<B> {
    variants
        .iter()
        .find(|v| v.0.name == variant)
        .unwrap_or_else(|| panic!("{variant} is not a variant of this family"))
        .1
}

/// Runs `variant` (one of `variants`, each with the broken behaviour it plants) of the
/// replicated log `P` on `scenario`.
pub fn run_log<P, B>(
    variants: &[(VariantSpec, Option<B>)],
    layout: fn(&Scenario) -> Roles,
    variant: &str,
    scenario: &Scenario,
) -> Result<RunOutcome, ScenarioError>
where
    P: CommitProtocol<Config = LogConfig<B>>,
    P::Record: crate::durable::TxnRecord,
    B: Copy,
{
    let broken = broken_of(variants, variant);
    let timing = Timing::for_network(&scenario.network);
    let config = LogConfig::of(scenario, &timing, broken)?;
    crate::scenario::run_with::<P>(scenario, layout(scenario), timing, config)
}

/// One node of a replicated log: a replica `R`, or the key-value client.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConsensusNode<R> {
    Replica(R),
    Client(KvClient),
}

impl<R> ConsensusNode<R> {
    /// Node `id` of a cluster of `replicas`: the replica `replica()` builds, or the client.
    pub fn build(
        id: NodeId,
        replicas: u32,
        client: &KvClientConfig,
        recovered: bool,
        replica: impl FnOnce() -> R,
    ) -> ConsensusNode<R> {
        if id.0 < replicas {
            ConsensusNode::Replica(replica())
        } else {
            ConsensusNode::Client(KvClient::new(Shared::new(client.clone()), recovered))
        }
    }
}

impl<P: KvWire, R: Process<P>> Process<P> for ConsensusNode<R> {
    fn on_start(&mut self, ctx: &mut Context<'_, P>) {
        match self {
            ConsensusNode::Replica(r) => r.on_start(ctx),
            ConsensusNode::Client(c) => c.on_start(ctx),
        }
    }
    fn on_message(&mut self, ctx: &mut Context<'_, P>, from: NodeId, msg: P::Msg) {
        match self {
            ConsensusNode::Replica(r) => r.on_message(ctx, from, msg),
            ConsensusNode::Client(c) => match P::unwrap_msg(msg) {
                Ok(m) => c.on_message(ctx, from, m),
                Err(msg) => panic!("the client got {msg:?}: a protocol bug"),
            },
        }
    }
    fn on_timer(&mut self, ctx: &mut Context<'_, P>, timer: P::Timer) {
        match self {
            ConsensusNode::Replica(r) => r.on_timer(ctx, timer),
            ConsensusNode::Client(c) => match P::unwrap_timer(timer) {
                Ok(t) => c.on_timer(ctx, t),
                Err(t) => panic!("the client got timer {t:?}: a protocol bug"),
            },
        }
    }
}

/// Replicas hold no transaction: nothing in doubt, no locks.
impl<R> NodeView for ConsensusNode<R> {
    fn in_doubt(&self) -> Vec<TxnId> {
        Vec::new()
    }
    fn locks(&self) -> std::collections::BTreeMap<Key, TxnId> {
        std::collections::BTreeMap::new()
    }
}
