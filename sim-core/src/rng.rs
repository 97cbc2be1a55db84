//! Seeded randomness. One root seed; every consumer draws from its own PCG stream derived
//! from `(root seed, domain, a, b)`, so that adding or removing one fault, or one message on
//! one link, never shifts the draws of any other node or link. That independence is what
//! keeps shrinking stable and replays exact.

use rand::{Rng, RngExt};
use rand_pcg::Pcg64;

use crate::hash::avalanche;

/// The RNG type handed to nodes and used on links.
pub type SimRng = Pcg64;

/// What a stream is for; part of the derivation so domains never collide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum StreamDomain {
    Node = 1,
    Link = 2,
    FaultGenerator = 3,
    /// Free for callers outside the engine (workload generators, experiment drivers).
    User = 4,
}

/// Derives an independent PCG stream for `(seed, domain, a, b)`.
pub fn stream(seed: u64, domain: StreamDomain, a: u64, b: u64) -> SimRng {
    let d = domain as u64;
    let s0 = avalanche(seed ^ avalanche(d.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
    let s1 = avalanche(s0 ^ avalanche(a.wrapping_add(0x632B_E59B_D9B4_E019)));
    let s2 = avalanche(s1 ^ avalanche(b.wrapping_add(0x8CB9_2BA7_2F3D_8DD7)));
    let state = ((s1 as u128) << 64) | s2 as u128;
    let stream_id = ((d as u128) << 96) | ((a as u128) << 32) ^ (b as u128);
    Pcg64::new(state, stream_id)
}

/// A probability compiled to a 64-bit threshold, so a Bernoulli draw is one integer
/// compare with no floating point (bit-identical everywhere, and cheap on the hot path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Chance {
    /// `None` = never; `Some(u64::MAX)` with `always` = every time.
    threshold: u64,
    always: bool,
}

impl Chance {
    pub const NEVER: Chance = Chance { threshold: 0, always: false };

    /// `p` must be within [0, 1]; validation happens where the value enters (config, plan).
    pub fn new(p: f64) -> Chance {
        debug_assert!((0.0..=1.0).contains(&p), "probability {p} outside [0,1]");
        if p >= 1.0 {
            Chance { threshold: u64::MAX, always: true }
        } else if p <= 0.0 {
            Chance::NEVER
        } else {
            // 2^64 * p, exact enough: the error is below 2^-52 relative.
            Chance { threshold: (p * 18_446_744_073_709_551_616.0) as u64, always: false }
        }
    }

    #[inline]
    pub fn is_never(self) -> bool {
        self.threshold == 0 && !self.always
    }

    /// Draws one Bernoulli trial. Draws nothing when the outcome is certain, so a zero
    /// probability never consumes randomness.
    #[inline]
    pub fn sample(self, rng: &mut SimRng) -> bool {
        if self.always {
            return true;
        }
        if self.threshold == 0 {
            return false;
        }
        rng.next_u64() < self.threshold
    }
}

/// Uniform integer in `[lo, hi]`.
#[inline]
pub fn uniform_u64(rng: &mut SimRng, lo: u64, hi: u64) -> u64 {
    debug_assert!(lo <= hi);
    rng.random_range(lo..=hi)
}

/// Uniform float in [0, 1) from the top 53 bits.
#[inline]
pub fn unit_f64(rng: &mut SimRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Exponential with the given mean, by inversion; `libm::log` is a pure-Rust port, so the
/// same draw gives the same value on every platform.
pub fn exponential_us(rng: &mut SimRng, mean_us: u64) -> u64 {
    let u = unit_f64(rng);
    let x = -(mean_us as f64) * libm::log(1.0 - u);
    if x >= u64::MAX as f64 { u64::MAX } else { x as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_repeatable() {
        let mut a1 = stream(7, StreamDomain::Node, 0, 0);
        let mut a2 = stream(7, StreamDomain::Node, 0, 0);
        let mut b = stream(7, StreamDomain::Node, 1, 0);
        let mut c = stream(7, StreamDomain::Link, 0, 0);
        let xs: Vec<u64> = (0..4).map(|_| a1.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| a2.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], b.next_u64());
        assert_ne!(xs[0], c.next_u64());
    }

    #[test]
    fn chance_extremes_draw_nothing() {
        let mut r = stream(1, StreamDomain::User, 0, 0);
        let mut r2 = r.clone();
        assert!(!Chance::new(0.0).sample(&mut r));
        assert!(Chance::new(1.0).sample(&mut r));
        assert_eq!(r.next_u64(), r2.next_u64());
    }
}
