//! The network model: per-link latency distributions, loss, duplication and ordering.
//!
//! Links are directed: `a -> b` and `b -> a` are configured, drawn and cut independently.
//! Each link draws from its own RNG stream, so traffic on one link never perturbs another.
//!
//! The configuration of every link is part of the world: faults change it and a state's
//! fingerprint includes it. The draws (one PCG stream per link, and the FIFO high-water
//! mark) belong to the time-ordered runner: an explorer abstracts time away and makes loss
//! and duplication explicit fault events instead.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::error::{SimError, check_node, check_probability};
use crate::id::NodeId;
use crate::rng::{Chance, SimRng, StreamDomain, exponential_us, stream, uniform_u64};
use crate::time::{Duration, Time};

/// One-way delay of a message on a link, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    Constant {
        us: u64,
    },
    /// Uniform over `[min_us, max_us]`, both inclusive.
    Uniform {
        min_us: u64,
        max_us: u64,
    },
    /// `floor_us` plus an exponential with mean `mean_us`.
    Exponential {
        mean_us: u64,
        floor_us: u64,
    },
}

impl Latency {
    pub fn validate(&self, field: &str) -> Result<(), SimError> {
        match *self {
            Latency::Uniform { min_us, max_us } if min_us > max_us => Err(SimError::invalid(
                format!("{field}.min_us"),
                format!("min_us = {min_us} exceeds max_us = {max_us}"),
            )),
            _ => Ok(()),
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut SimRng) -> Duration {
        Duration::from_us(match *self {
            Latency::Constant { us } => us,
            Latency::Uniform { min_us, max_us } => uniform_u64(rng, min_us, max_us),
            Latency::Exponential { mean_us, floor_us } => {
                floor_us.saturating_add(exponential_us(rng, mean_us))
            }
        })
    }

    /// Largest delay this distribution can draw, if bounded.
    pub fn max_us(&self) -> Option<u64> {
        match *self {
            Latency::Constant { us } => Some(us),
            Latency::Uniform { max_us, .. } => Some(max_us),
            Latency::Exponential { .. } => None,
        }
    }
}

/// Whether a link keeps messages in send order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// A message is never delivered before one sent earlier on the same link.
    Fifo,
    /// Each message takes its own drawn delay, so later sends can overtake earlier ones.
    #[default]
    Reorder,
}

/// How one directed link behaves.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    pub latency: Latency,
    #[serde(default)]
    pub drop_prob: f64,
    #[serde(default)]
    pub dup_prob: f64,
    #[serde(default)]
    pub ordering: Ordering,
}

impl Default for LinkConfig {
    /// A reliable, reordering link with 1–10 ms uniform latency (W1's network).
    fn default() -> Self {
        LinkConfig {
            latency: Latency::Uniform { min_us: 1_000, max_us: 10_000 },
            drop_prob: 0.0,
            dup_prob: 0.0,
            ordering: Ordering::Reorder,
        }
    }
}

impl LinkConfig {
    pub fn validate(&self, field: &str) -> Result<(), SimError> {
        check_probability(|| format!("{field}.drop_prob"), self.drop_prob)?;
        check_probability(|| format!("{field}.dup_prob"), self.dup_prob)?;
        self.latency.validate(&format!("{field}.latency"))
    }
}

/// A per-link exception to the default.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkOverride {
    pub from: NodeId,
    pub to: NodeId,
    pub config: LinkConfig,
}

/// The whole network's configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    #[serde(default)]
    pub default: LinkConfig,
    #[serde(default)]
    pub links: Vec<LinkOverride>,
}

impl NetworkConfig {
    pub fn validate(&self, nodes: u32) -> Result<(), SimError> {
        self.default.validate("network.default")?;
        for (i, o) in self.links.iter().enumerate() {
            check_node(|| format!("network.links[{i}].from"), o.from.0, nodes)?;
            check_node(|| format!("network.links[{i}].to"), o.to.0, nodes)?;
            o.config.validate(&format!("network.links[{i}].config"))?;
        }
        Ok(())
    }
}

/// Which links a network fault changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LinkSet {
    All,
    /// Both directions between `a` and `b`.
    Between {
        a: NodeId,
        b: NodeId,
    },
    /// Only `from -> to`.
    OneWay {
        from: NodeId,
        to: NodeId,
    },
    /// Every link into or out of `node`.
    Touching {
        node: NodeId,
    },
}

impl LinkSet {
    pub fn validate(&self, field: &str, nodes: u32) -> Result<(), SimError> {
        let f = |s: &str| format!("{field}.{s}");
        match *self {
            LinkSet::All => Ok(()),
            LinkSet::Between { a, b } => {
                check_node(|| f("a"), a.0, nodes)?;
                check_node(|| f("b"), b.0, nodes)
            }
            LinkSet::OneWay { from, to } => {
                check_node(|| f("from"), from.0, nodes)?;
                check_node(|| f("to"), to.0, nodes)
            }
            LinkSet::Touching { node } => check_node(|| f("node"), node.0, nodes),
        }
    }

    pub fn contains(&self, from: NodeId, to: NodeId) -> bool {
        match *self {
            LinkSet::All => true,
            LinkSet::Between { a, b } => (from == a && to == b) || (from == b && to == a),
            LinkSet::OneWay { from: f, to: t } => from == f && to == t,
            LinkSet::Touching { node } => from == node || to == node,
        }
    }
}

/// What the network decided for one message (connectivity is checked separately).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Lost.
    Lost,
    /// Arrives at `at`; with `duplicate_at`, a second copy arrives then. A scheduler without
    /// time answers `at: now` and no duplicate (duplicates are explicit fault events there).
    Arrives { at: Time, duplicate_at: Option<Time> },
}

/// Every link's configuration in a cluster of `n` nodes, indexed `from * n + to`: part of the
/// world (faults change it, fingerprints include it).
#[derive(Clone, Debug)]
pub(crate) struct Links {
    n: usize,
    links: Vec<LinkConfig>,
    /// The configuration before any fault, restored (made reliable) by the liveness phase.
    base: Vec<LinkConfig>,
}

impl Links {
    pub(crate) fn new(nodes: u32, config: &NetworkConfig) -> Links {
        let n = nodes as usize;
        let mut base = vec![config.default; n * n];
        for o in &config.links {
            base[o.from.index() * n + o.to.index()] = o.config;
        }
        Links { n, links: base.clone(), base }
    }

    fn link(&self, i: usize) -> (NodeId, NodeId) {
        (NodeId((i / self.n) as u32), NodeId((i % self.n) as u32))
    }

    /// Applies `change` to every link in `set`, telling `changed` about each.
    pub(crate) fn update(
        &mut self,
        set: LinkSet,
        mut change: impl FnMut(&mut LinkConfig),
        mut changed: impl FnMut(NodeId, NodeId, &LinkConfig),
    ) {
        for i in 0..self.links.len() {
            let (from, to) = self.link(i);
            if set.contains(from, to) {
                change(&mut self.links[i]);
                changed(from, to, &self.links[i]);
            }
        }
    }

    /// Makes every link reliable (no loss, no duplicates) with its configured latency:
    /// the network of the liveness phase. Tells `changed` about every link.
    pub(crate) fn make_reliable(&mut self, mut changed: impl FnMut(NodeId, NodeId, &LinkConfig)) {
        for i in 0..self.links.len() {
            self.links[i] = LinkConfig { drop_prob: 0.0, dup_prob: 0.0, ..self.base[i] };
            let (from, to) = self.link(i);
            changed(from, to, &self.links[i]);
        }
    }

    pub(crate) fn config(&self, from: NodeId, to: NodeId) -> LinkConfig {
        self.links[from.index() * self.n + to.index()]
    }

    /// Feeds every link's configuration to `h`, by value and by name (never by enum
    /// position), for the world's fingerprint.
    /// Links in the order of the nodes' names: the link hashed in place `(a, b)` is the
    /// one from `node(a)` to `node(b)` (the identity for the world's own fingerprint).
    pub(crate) fn hash_into(&self, h: &mut impl Hasher, node: impl Fn(NodeId) -> NodeId) {
        let ids = || (0..self.n as u32).map(NodeId);
        let ordered = ids().flat_map(|a| ids().map(move |b| (a, b)));
        for c in ordered.map(|(a, b)| &self.links[node(a).index() * self.n + node(b).index()]) {
            match c.latency {
                Latency::Constant { us } => ("constant", us, 0u64).hash(h),
                Latency::Uniform { min_us, max_us } => ("uniform", min_us, max_us).hash(h),
                Latency::Exponential { mean_us, floor_us } => {
                    ("exponential", mean_us, floor_us).hash(h)
                }
            }
            let ordering = match c.ordering {
                Ordering::Fifo => "fifo",
                Ordering::Reorder => "reorder",
            };
            (c.drop_prob.to_bits(), c.dup_prob.to_bits(), ordering).hash(h);
        }
    }
}

/// The runner's view of one directed link: its own random stream, the FIFO high-water mark,
/// and a copy of the link's configuration (kept current by the world's `link_changed`
/// notifications) with its probabilities compiled, all in one place for the hot path.
#[derive(Clone, Debug)]
struct LinkDraw {
    config: LinkConfig,
    drop: Chance,
    dup: Chance,
    rng: SimRng,
    /// Latest delivery time scheduled on this link; FIFO links never deliver before it.
    last_delivery: Time,
    /// No loss, no duplication, reordering: a message's fate is its latency draw alone.
    /// The general path draws exactly the same then (a certain Bernoulli outcome draws
    /// nothing, a reordering link keeps no high-water mark), so this only skips its checks.
    plain: bool,
}

impl LinkDraw {
    fn set_config(&mut self, config: LinkConfig) {
        self.drop = Chance::new(config.drop_prob);
        self.dup = Chance::new(config.dup_prob);
        self.plain =
            self.drop.is_never() && self.dup.is_never() && config.ordering == Ordering::Reorder;
        self.config = config;
    }
}

/// The time-ordered runner's draws for every link, indexed `from * n + to`: each link draws
/// loss, latency and duplication from its own PCG stream, so traffic on one link never
/// perturbs another. A scheduler concern, not part of the world: an explorer draws nothing.
#[derive(Clone, Debug)]
pub(crate) struct LinkDraws {
    n: usize,
    links: Vec<LinkDraw>,
}

impl LinkDraws {
    /// Streams for every link of `links`, which gives their current configurations.
    pub(crate) fn new(seed: u64, links: &Links) -> LinkDraws {
        let n = links.n;
        let links = links
            .links
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut l = LinkDraw {
                    config: *c,
                    drop: Chance::NEVER,
                    dup: Chance::NEVER,
                    rng: stream(seed, StreamDomain::Link, (i / n) as u64, (i % n) as u64),
                    last_delivery: Time::ZERO,
                    plain: false,
                };
                l.set_config(*c);
                l
            })
            .collect();
        LinkDraws { n, links }
    }

    /// The world changed the configuration of `from -> to`.
    pub(crate) fn set_config(&mut self, from: NodeId, to: NodeId, config: &LinkConfig) {
        self.links[from.index() * self.n + to.index()].set_config(*config);
    }

    /// Draws loss, delay and duplication for one message sent `now` on `from -> to`.
    #[inline(always)]
    pub(crate) fn fate(&mut self, now: Time, from: NodeId, to: NodeId) -> Fate {
        let link = &mut self.links[from.index() * self.n + to.index()];
        if link.plain {
            let at = now + link.config.latency.sample(&mut link.rng);
            return Fate::Arrives { at, duplicate_at: None };
        }
        if link.drop.sample(&mut link.rng) {
            return Fate::Lost;
        }
        let at = Self::arrival(link, now);
        let duplicate_at =
            if link.dup.sample(&mut link.rng) { Some(Self::arrival(link, now)) } else { None };
        Fate::Arrives { at, duplicate_at }
    }

    #[inline]
    fn arrival(link: &mut LinkDraw, now: Time) -> Time {
        let mut at = now + link.config.latency.sample(&mut link.rng);
        if link.config.ordering == Ordering::Fifo {
            // Ties keep send order: the queue breaks equal times by insertion seq.
            at = at.max(link.last_delivery);
            link.last_delivery = at;
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn latency() -> impl Strategy<Value = Latency> {
        prop_oneof![
            (0u64..5_000).prop_map(|us| Latency::Constant { us }),
            (0u64..5_000, 0u64..5_000)
                .prop_map(|(a, b)| Latency::Uniform { min_us: a.min(b), max_us: a.max(b) }),
            (1u64..5_000, 0u64..1_000)
                .prop_map(|(mean_us, floor_us)| Latency::Exponential { mean_us, floor_us }),
        ]
    }

    proptest! {
        /// The fast path of a plain link (no loss, no duplication, reordering) draws exactly
        /// what the general path draws: the same fates, and the streams left in the same
        /// state, for any latency; other links never take it.
        #[test]
        fn a_plain_link_draws_what_the_general_path_draws(
            latency in latency(),
            drop_prob in prop_oneof![Just(0.0), 0.0..1.0f64],
            dup_prob in prop_oneof![Just(0.0), 0.0..1.0f64],
            fifo in any::<bool>(),
            seed in any::<u64>(),
            gaps in proptest::collection::vec(0u64..3_000, 1..40),
        ) {
            let ordering = if fifo { Ordering::Fifo } else { Ordering::Reorder };
            let default = LinkConfig { latency, drop_prob, dup_prob, ordering };
            let links = Links::new(2, &NetworkConfig { default, links: Vec::new() });
            let mut fast = LinkDraws::new(seed, &links);
            let mut general = fast.clone();
            for l in &mut general.links {
                l.plain = false;
            }
            let plain = drop_prob == 0.0 && dup_prob == 0.0 && !fifo;
            prop_assert_eq!(fast.links.iter().all(|l| l.plain), plain);
            let (a, b) = (NodeId(0), NodeId(1));
            let mut now = Time::ZERO;
            for gap in gaps {
                now = now + Duration::from_us(gap);
                prop_assert_eq!(fast.fate(now, a, b), general.fate(now, a, b));
            }
            let i = a.index() * 2 + b.index();
            prop_assert_eq!(&fast.links[i].rng, &general.links[i].rng);
        }
    }
}
