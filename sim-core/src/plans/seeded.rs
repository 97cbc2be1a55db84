//! The seeded sampler, swarm style (Groce et al.): every plan first draws *which* of the
//! enabled classes are on, then its faults from those only, instead of one fixed mix: some
//! plans are all partitions, some all crashes, some a little of everything. That finds bugs
//! a uniform mix dilutes. It draws from its own PCG stream, so plans never perturb the run's
//! other randomness; the sweeps and the swarm tests use it.
//!
//! It draws its integers in the order the swarm generator always did (recorded sweeps and
//! tests depend on it) and hands them to the builder. Two compositions are its own: a crash
//! on a mark crashes the node emitting the mark, and a cut (partition or one-way) may be
//! followed by its heal at a later time.

use std::ops::RangeInclusive;

use rand::Rng;

use super::build::{ActionDraw, TriggerDraw};
use super::class::FaultClass;
use super::space::FaultSpace;
use crate::fault::{Fault, FaultPlan};
use crate::rng::{SimRng, StreamDomain, stream, uniform_u64, unit_f64};

impl FaultSpace {
    /// The plan for `seed`: a pure function of the space and the seed.
    pub fn generate(&self, seed: u64) -> FaultPlan {
        debug_assert!(self.validate().is_ok());
        let mut rng = stream(seed, StreamDomain::FaultGenerator, 0, 0);
        // Swarm: each enabled class is on with probability 1/2 (at least one is on).
        let mut on: Vec<FaultClass> =
            self.classes.iter().copied().filter(|_| coin(&mut rng)).collect();
        if on.is_empty() {
            on.push(self.classes[below(&mut rng, self.classes.len())]);
        }
        let count = uniform_u64(&mut rng, 1, self.max_faults as u64) as usize;
        let mut draws = Draws { space: self, rng, faults: Vec::with_capacity(count + 2) };
        for _ in 0..count {
            let class = on[below(&mut draws.rng, on.len())];
            draws.class(class);
        }
        self.plan(draws.faults)
    }
}

/// One plan's draws in progress.
struct Draws<'a> {
    space: &'a FaultSpace,
    rng: SimRng,
    faults: Vec<Fault>,
}

impl Draws<'_> {
    fn class(&mut self, class: FaultClass) {
        let space = self.space;
        match class {
            FaultClass::Crash => {
                let (trigger, node) = if !space.marks.is_empty() && coin(&mut self.rng) {
                    let index = below(&mut self.rng, space.marks.len());
                    let nth = self.within(&FaultSpace::MARK_NTH) as u32;
                    (TriggerDraw::Mark { index, nth }, space.draw_of(space.marks[index].0))
                } else {
                    (self.time(), self.node())
                };
                let recover_after_us = (space.allows(FaultClass::Recover) && coin(&mut self.rng))
                    .then(|| self.within(&space.recovery_delays()));
                self.push(trigger, ActionDraw::Crash { node, recover_after_us });
            }
            FaultClass::Recover => {
                let trigger = self.time();
                let node = self.node();
                self.push(trigger, ActionDraw::Recover { node });
            }
            FaultClass::Partition => {
                let mut side = vec![0u64; space.target_count().div_ceil(64)];
                for i in 0..space.target_count() {
                    side[i / 64] |= (coin(&mut self.rng) as u64) << (i % 64);
                }
                self.cut(ActionDraw::Partition { side }, ActionDraw::Heal);
            }
            FaultClass::OneWayCut => {
                let (from, to) = (self.node(), self.node());
                self.cut(
                    ActionDraw::CutOneWay { from, to },
                    ActionDraw::HealLink { a: from, b: to },
                );
            }
            FaultClass::Drop | FaultClass::Duplicate => {
                let permille = self.permille();
                let links = self.links();
                let trigger = self.time();
                let action = if class == FaultClass::Drop {
                    ActionDraw::Drop { links, permille }
                } else {
                    ActionDraw::Duplicate { links, permille }
                };
                self.push(trigger, action);
            }
            FaultClass::Delay => {
                let min_us = self.within(&FaultSpace::LATENCY_MIN_US);
                let extra_us = self.within(&FaultSpace::LATENCY_EXTRA_US);
                let links = self.links();
                let trigger = self.time();
                self.push(trigger, ActionDraw::Delay { links, min_us, extra_us });
            }
            FaultClass::ClockDrift => {
                let (lo, hi) = (*FaultSpace::DRIFT_PPM.start(), *FaultSpace::DRIFT_PPM.end());
                let ppm = uniform_u64(&mut self.rng, 0, (hi - lo) as u64) as i64 + lo;
                let node = self.node();
                let trigger = self.time();
                self.push(trigger, ActionDraw::ClockDrift { node, ppm });
            }
        }
    }

    /// A cut at a random time, healed (or not, on a coin) at a time after it.
    fn cut(&mut self, cut: ActionDraw, heal: ActionDraw) {
        let at_us = self.at();
        let heal_at_us = self.within(&self.space.heal_times(at_us));
        let heals = coin(&mut self.rng);
        self.push(TriggerDraw::Time { at_us }, cut);
        if heals {
            self.push(TriggerDraw::Time { at_us: heal_at_us }, heal);
        }
    }

    fn push(&mut self, trigger: TriggerDraw, action: ActionDraw) {
        let fault = self.space.fault(trigger, action);
        self.faults.push(fault);
    }

    fn time(&mut self) -> TriggerDraw {
        TriggerDraw::Time { at_us: self.at() }
    }

    fn at(&mut self) -> u64 {
        let times = self.space.times();
        uniform_u64(&mut self.rng, times.start, times.end - 1)
    }

    fn node(&mut self) -> u64 {
        below(&mut self.rng, self.space.target_count()) as u64
    }

    /// Every link on a coin, else the links touching one node.
    fn links(&mut self) -> Option<u64> {
        if coin(&mut self.rng) { None } else { Some(self.node()) }
    }

    /// A probability rounded to thousandths, from a uniform float (as the swarm always drew it).
    fn permille(&mut self) -> u32 {
        let max = *FaultSpace::PERMILLE.end() as f64 / 1000.0;
        (unit_f64(&mut self.rng) * max * 1000.0).round() as u32
    }

    fn within<T: Copy + Into<u64>>(&mut self, range: &RangeInclusive<T>) -> u64 {
        uniform_u64(&mut self.rng, (*range.start()).into(), (*range.end()).into())
    }
}

fn coin(rng: &mut SimRng) -> bool {
    rng.next_u64() & 1 == 1
}

/// Uniform in `0..n`.
fn below(rng: &mut SimRng, n: usize) -> usize {
    uniform_u64(rng, 0, n as u64 - 1) as usize
}
