//! What a run is configured with ([`SimConfig`]) and what it counts ([`RunStats`]): shared by
//! the world and every scheduler over it, so neither depends on the other for them.

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::id::NodeId;
use crate::network::{LinkConfig, NetworkConfig};
use crate::trace::TraceLevel;

/// Everything a run needs besides its nodes and its fault plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    pub nodes: u32,
    pub seed: u64,
    #[serde(default)]
    pub network: NetworkConfig,
    #[serde(default)]
    pub trace: TraceLevel,
    /// The event budget: the most events one `run_*` call processes before it stops with
    /// `Stop::EventBudget` (a run cut short is inconclusive, never judged as complete).
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// Co-location: `hosts[i]` is the host node `i` runs on (see the module docs). `None`:
    /// every node is its own host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<u32>>,
}

/// The event budget of a run that names none: far beyond any run the testbed makes, so only
/// a protocol that never settles (a retry storm, a livelock) meets it.
pub const DEFAULT_MAX_EVENTS: u64 = 1 << 40;

fn default_max_events() -> u64 {
    DEFAULT_MAX_EVENTS
}

impl SimConfig {
    pub fn new(nodes: u32, seed: u64) -> SimConfig {
        SimConfig {
            nodes,
            seed,
            network: NetworkConfig::default(),
            trace: TraceLevel::default(),
            max_events: default_max_events(),
            hosts: None,
        }
    }
    /// Places node `i` on host `hosts[i]`.
    pub fn with_hosts(mut self, hosts: Vec<u32>) -> Self {
        self.hosts = Some(hosts);
        self
    }
    /// Whether `a` and `b` run on the same host (always false without `hosts`).
    pub fn same_host(&self, a: NodeId, b: NodeId) -> bool {
        match &self.hosts {
            Some(h) => h.get(a.index()).is_some_and(|ha| Some(ha) == h.get(b.index())),
            None => false,
        }
    }
    pub fn with_trace(mut self, level: TraceLevel) -> Self {
        self.trace = level;
        self
    }
    pub fn with_link(mut self, config: LinkConfig) -> Self {
        self.network.default = config;
        self
    }
    pub fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::NoNodes);
        }
        if self.max_events == 0 {
            return Err(SimError::invalid("max_events", "must be at least 1"));
        }
        if let Some(hosts) = &self.hosts
            && hosts.len() != self.nodes as usize
        {
            return Err(SimError::invalid(
                "hosts",
                format!(
                    "has {} entries but the cluster has {} nodes (one host id per node)",
                    hosts.len(),
                    self.nodes
                ),
            ));
        }
        self.network.validate(self.nodes)
    }
}

/// Counters of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStats {
    pub events: u64,
    pub sent: u64,
    pub delivered: u64,
    pub dropped_cut: u64,
    pub dropped_loss: u64,
    pub dropped_receiver_down: u64,
    pub duplicated: u64,
    /// Messages between processes on one host (see co-location); not in `sent`.
    #[serde(default)]
    pub local_messages: u64,
    /// Local messages delivered; not in `delivered`.
    #[serde(default)]
    pub local_delivered: u64,
    pub timers_fired: u64,
    pub disk_writes: u64,
    pub crashes: u64,
    pub recoveries: u64,
    pub faults_fired: u64,
}
