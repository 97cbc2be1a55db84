//! The visited set: 64-bit state keys, nothing else.
//!
//! Keys are stable hashes already (avalanched: every bit is uniform), so the set indexes
//! them by their own bits. It is only ever asked membership (never iterated), so its order
//! cannot leak into a result.
//!
//! It is an open-addressing table of bare `u64`s with linear probing: no per-entry
//! allocation, no control bytes, 8 bytes a slot. The table is cut into [`SEGMENTS`]
//! independent segments by the key's top bits, each growing on its own when it is 7/8 full.
//! A single table would hold its old and its new array at once while it doubles (1.5 times
//! its size at the peak); a segment doubling holds 1/256 of that extra. So the peak memory
//! is about the final tables: 8 bytes a slot at 7/16 to 7/8 of the slots used.

use std::hash::Hasher;

use crate::hash::StableHasher;

use super::successors::Used;

/// Segments, chosen by a key's top `SEGMENT_BITS` bits.
const SEGMENT_BITS: u32 = 8;
const SEGMENTS: usize = 1 << SEGMENT_BITS;
/// A segment's first size (slots, a power of two).
const FIRST_SLOTS_LOG2: u32 = 6;
/// The empty slot. The key 0 itself is kept apart, in [`Visited::zero`].
const EMPTY: u64 = 0;

/// One segment: a power-of-two array of keys, `EMPTY` where none.
#[derive(Default)]
struct Segment {
    slots: Vec<u64>,
    len: usize,
}

impl Segment {
    /// Where `key` starts probing: the bits just below the segment bits.
    #[inline]
    fn home(&self, key: u64) -> usize {
        let log2 = self.slots.len().trailing_zeros();
        ((key << SEGMENT_BITS) >> (64 - log2)) as usize
    }

    #[inline]
    fn contains(&self, key: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        // At most 7/8 full: an empty slot ends every probe.
        loop {
            match self.slots[i] {
                EMPTY => return false,
                k if k == key => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Inserts `key`; false if it was there.
    #[inline]
    fn insert(&mut self, key: u64) -> bool {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            match self.slots[i] {
                EMPTY => {
                    self.slots[i] = key;
                    self.len += 1;
                    return true;
                }
                k if k == key => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let log2 = if self.slots.is_empty() {
            FIRST_SLOTS_LOG2
        } else {
            self.slots.len().trailing_zeros() + 1
        };
        assert!(log2 + SEGMENT_BITS <= 64, "a visited set of 2^64 states");
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; 1 << log2]);
        self.len = 0;
        for key in old.into_iter().filter(|&k| k != EMPTY) {
            self.insert(key);
        }
    }
}

/// Membership only, never iterated: its order cannot reach a count or a counterexample.
pub(crate) struct Visited {
    segments: Vec<Segment>,
    /// Whether the key 0 (the empty slot's marker) is in the set.
    zero: bool,
    len: usize,
}

impl Default for Visited {
    fn default() -> Self {
        Visited {
            segments: (0..SEGMENTS).map(|_| Segment::default()).collect(),
            zero: false,
            len: 0,
        }
    }
}

impl Visited {
    #[inline]
    fn segment(key: u64) -> usize {
        (key >> (64 - SEGMENT_BITS)) as usize
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn contains(&self, key: &u64) -> bool {
        match *key {
            EMPTY => self.zero,
            k => self.segments[Self::segment(k)].contains(k),
        }
    }

    /// Inserts `key`; false if it was there.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64) -> bool {
        let new = match key {
            EMPTY => !std::mem::replace(&mut self.zero, true),
            k => self.segments[Self::segment(k)].insert(k),
        };
        self.len += usize::from(new);
        new
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys clustered in one segment and at the edges (0, all ones, equal low bits) are all
    /// kept apart through many doublings, and nothing absent is reported present.
    #[test]
    fn holds_exactly_what_was_inserted() {
        let mut v = Visited::default();
        let keys: Vec<u64> = (0..50_000u64)
            .map(|i| match i % 4 {
                0 => i,                                     // small: segment 0, low bits only
                1 => u64::MAX - i,                          // segment 255
                2 => (i << 40) | 0xABCD,                    // equal low bits
                _ => i.wrapping_mul(0x9E37_79B9_7F4A_7C15), // spread
            })
            .collect();
        for (n, &k) in keys.iter().enumerate() {
            assert!(v.insert(k), "key {k:#x} inserted once");
            assert!(!v.insert(k), "key {k:#x} again is not new");
            assert_eq!(v.len(), n + 1);
        }
        assert!(keys.iter().all(|k| v.contains(k)));
        let absent = (50_000..60_000u64).map(|i| i.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        for k in absent.filter(|k| !keys.contains(k)) {
            assert!(!v.contains(&k), "{k:#x} was never inserted");
        }
    }
}
