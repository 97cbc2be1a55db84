//! The visited set: 64-bit state keys, nothing else.
//!
//! Keys are stable hashes already, so the set hashes them with the identity; it is only
//! ever asked membership (never iterated), so its order cannot leak into a result.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use crate::hash::StableHasher;

use super::successors::Used;

#[derive(Default)]
pub(crate) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Membership only, never iterated: its order cannot reach a count or a counterexample.
pub(crate) type Visited = HashSet<u64, BuildHasherDefault<Identity>>;

/// The key of a state: its world's key, plus the fault budget spent (a world reached with
/// budget left is a different search state from the same world with none).
pub(crate) fn key(world_key: u64, used: Used) -> u64 {
    if used == Used::default() {
        return world_key;
    }
    let mut h = StableHasher::default();
    h.write_u64(world_key);
    h.write_u32(used.crashes);
    h.write_u32(used.recoveries);
    h.write_u32(used.drops);
    h.write_u32(used.duplicates);
    h.write_u32(used.partitions);
    h.finish()
}
