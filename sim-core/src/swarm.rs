//! A seeded, swarm-style generator of random fault plans.
//!
//! Swarm testing (Groce et al.) draws, for every plan, *which* fault classes are on and at
//! what rate, instead of using one fixed mix: some runs are all partitions, some all
//! crashes, some a little of everything. That finds bugs a uniform mix dilutes. The
//! generator has its own PCG stream, so plans never perturb the run's other randomness.

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::fault::{Action, Fault, FaultPlan, HashableF64, Trigger};
use crate::id::NodeId;
use crate::network::{Latency, LinkSet};
use crate::rng::{SimRng, StreamDomain, stream, uniform_u64, unit_f64};

/// A kind of fault the generator may draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultClass {
    Crash,
    /// Crashed nodes come back (as a delay on the crash, or as a separate recover fault).
    Recover,
    Partition,
    OneWayCut,
    Drop,
    Duplicate,
    Delay,
    ClockDrift,
}

impl FaultClass {
    pub const ALL: [FaultClass; 8] = [
        FaultClass::Crash,
        FaultClass::Recover,
        FaultClass::Partition,
        FaultClass::OneWayCut,
        FaultClass::Drop,
        FaultClass::Duplicate,
        FaultClass::Delay,
        FaultClass::ClockDrift,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultClass::Crash => "crash",
            FaultClass::Recover => "recover",
            FaultClass::Partition => "partition",
            FaultClass::OneWayCut => "one-way-cut",
            FaultClass::Drop => "drop",
            FaultClass::Duplicate => "duplicate",
            FaultClass::Delay => "delay",
            FaultClass::ClockDrift => "clock-drift",
        }
    }

    pub fn parse(s: &str) -> Result<FaultClass, SimError> {
        FaultClass::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| {
            let known: Vec<&str> = FaultClass::ALL.iter().map(|c| c.name()).collect();
            SimError::invalid(
                "faults",
                format!("unknown fault class {s:?} (known: {})", known.join(", ")),
            )
        })
    }
}

/// What the generator may produce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwarmConfig {
    pub nodes: u32,
    /// Time triggers are drawn in `[0, horizon_us)`.
    pub horizon_us: u64,
    pub classes: Vec<FaultClass>,
    /// At most this many faults per plan (at least 1).
    pub max_faults: u32,
    /// Protocol points `(node, mark)` a crash may be triggered on; empty = time triggers only.
    pub marks: Vec<(NodeId, String)>,
}

impl SwarmConfig {
    pub fn validate(&self) -> Result<(), SimError> {
        if self.nodes == 0 {
            return Err(SimError::NoNodes);
        }
        if self.classes.is_empty() {
            return Err(SimError::invalid("classes", "no fault class enabled"));
        }
        if self.max_faults == 0 {
            return Err(SimError::invalid("max_faults", "must be at least 1"));
        }
        if self.horizon_us == 0 {
            return Err(SimError::invalid("horizon_us", "must be positive"));
        }
        for (i, (n, _)) in self.marks.iter().enumerate() {
            crate::error::check_node(|| format!("marks[{i}].node"), n.0, self.nodes)?;
        }
        Ok(())
    }

    /// The plan for `seed`: a pure function of the config and the seed.
    pub fn generate(&self, seed: u64) -> FaultPlan {
        debug_assert!(self.validate().is_ok());
        let mut rng = stream(seed, StreamDomain::FaultGenerator, 0, 0);
        // Swarm: each allowed class is on with probability 1/2 (at least one is on).
        let mut on: Vec<FaultClass> =
            self.classes.iter().copied().filter(|_| coin(&mut rng)).collect();
        if on.is_empty() {
            on.push(self.classes[uniform_u64(&mut rng, 0, self.classes.len() as u64 - 1) as usize]);
        }
        let recover = self.classes.contains(&FaultClass::Recover);
        let count = uniform_u64(&mut rng, 1, self.max_faults as u64) as usize;
        let mut faults = Vec::with_capacity(count + 2);
        for _ in 0..count {
            let class = on[uniform_u64(&mut rng, 0, on.len() as u64 - 1) as usize];
            self.draw(&mut rng, class, recover, &mut faults);
        }
        FaultPlan { faults }
    }

    fn time(&self, rng: &mut SimRng) -> Trigger {
        Trigger::Time { at_us: uniform_u64(rng, 0, self.horizon_us - 1) }
    }

    fn node(&self, rng: &mut SimRng) -> NodeId {
        NodeId(uniform_u64(rng, 0, self.nodes as u64 - 1) as u32)
    }

    fn links(&self, rng: &mut SimRng) -> LinkSet {
        if coin(rng) { LinkSet::All } else { LinkSet::Touching { node: self.node(rng) } }
    }

    fn draw(&self, rng: &mut SimRng, class: FaultClass, recover: bool, out: &mut Vec<Fault>) {
        let later = |rng: &mut SimRng, t: &Trigger| match t {
            Trigger::Time { at_us } => {
                Trigger::Time { at_us: uniform_u64(rng, *at_us, self.horizon_us) }
            }
            _ => Trigger::Time { at_us: uniform_u64(rng, 0, self.horizon_us) },
        };
        match class {
            FaultClass::Crash => {
                let (trigger, node) = if !self.marks.is_empty() && coin(rng) {
                    let (node, mark) =
                        &self.marks[uniform_u64(rng, 0, self.marks.len() as u64 - 1) as usize];
                    let nth = uniform_u64(rng, 1, 2) as u32;
                    (Trigger::Mark { node: *node, mark: mark.clone(), nth }, *node)
                } else {
                    (self.time(rng), self.node(rng))
                };
                let recover_after_us = if recover && coin(rng) {
                    Some(uniform_u64(rng, 1_000, self.horizon_us))
                } else {
                    None
                };
                out.push(Fault { trigger, action: Action::Crash { node, recover_after_us } });
            }
            FaultClass::Recover => {
                let trigger = self.time(rng);
                out.push(Fault { trigger, action: Action::Recover { node: self.node(rng) } });
            }
            FaultClass::Partition => {
                let side: Vec<NodeId> = (0..self.nodes).map(NodeId).filter(|_| coin(rng)).collect();
                let trigger = self.time(rng);
                let heal_at = later(rng, &trigger);
                let heals = coin(rng);
                out.push(Fault {
                    trigger,
                    action: Action::Partition { groups: vec_nonempty(side) },
                });
                if heals {
                    out.push(Fault { trigger: heal_at, action: Action::Heal });
                }
            }
            FaultClass::OneWayCut => {
                let from = self.node(rng);
                let to = self.node(rng);
                let trigger = self.time(rng);
                let heal_at = later(rng, &trigger);
                let heals = coin(rng);
                out.push(Fault { trigger, action: Action::CutOneWay { from, to } });
                if heals {
                    out.push(Fault {
                        trigger: heal_at,
                        action: Action::HealLink { a: from, b: to },
                    });
                }
            }
            FaultClass::Drop => {
                let prob = HashableF64(round3(unit_f64(rng) * 0.5));
                let links = self.links(rng);
                out.push(Fault {
                    trigger: self.time(rng),
                    action: Action::SetDrop { links, prob },
                });
            }
            FaultClass::Duplicate => {
                let prob = HashableF64(round3(unit_f64(rng) * 0.5));
                let links = self.links(rng);
                out.push(Fault {
                    trigger: self.time(rng),
                    action: Action::SetDuplicate { links, prob },
                });
            }
            FaultClass::Delay => {
                let min_us = uniform_u64(rng, 1_000, 20_000);
                let max_us = min_us + uniform_u64(rng, 0, 100_000);
                let links = self.links(rng);
                let latency = Latency::Uniform { min_us, max_us };
                out.push(Fault {
                    trigger: self.time(rng),
                    action: Action::SetLatency { links, latency },
                });
            }
            FaultClass::ClockDrift => {
                let ppm = uniform_u64(rng, 0, 400_000) as i64 - 200_000;
                let node = self.node(rng);
                out.push(Fault {
                    trigger: self.time(rng),
                    action: Action::ClockDrift { node, ppm },
                });
            }
        }
    }
}

fn coin(rng: &mut SimRng) -> bool {
    use rand::Rng;
    rng.next_u64() & 1 == 1
}

/// Probabilities are kept to three decimals so plans stay readable when printed.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A partition needs at least one explicit group; an empty side means "everyone else".
fn vec_nonempty(side: Vec<NodeId>) -> Vec<Vec<NodeId>> {
    if side.is_empty() { vec![vec![NodeId(0)]] } else { vec![side] }
}
