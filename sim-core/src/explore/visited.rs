//! The visited set: 64-bit state keys, nothing else.
//!
//! Keys are stable hashes already (avalanched: every bit is uniform), so the set indexes
//! them by their own bits. It is only ever asked membership (never iterated), so its order
//! cannot leak into a result.
//!
//! It is an open-addressing table with linear probing: no per-entry allocation, no control
//! bytes. The table is cut into [`SEGMENTS`] independent segments by the key's top 8 bits,
//! and a segment stores only the other 56 bits of each key (7 bytes a slot: the top byte is
//! the segment's own number, so no bit of the key is lost). Each segment grows on its own
//! when it is 7/8 full: a single table would hold its old and its new array at once while
//! it doubles (1.5 times its size at the peak); a segment doubling holds 1/256 of that. So
//! the peak memory is about the final tables: 7 bytes a slot at 7/16 to 7/8 of the slots
//! used.

use std::hash::Hasher;

use crate::hash::StableHasher;

use super::successors::Used;

/// Segments, chosen by a key's top `SEGMENT_BITS` bits.
const SEGMENT_BITS: u32 = 8;
const SEGMENTS: usize = 1 << SEGMENT_BITS;
/// What a segment stores of a key: the bits below the segment bits.
const REST_BITS: u32 = 64 - SEGMENT_BITS;
const REST_MASK: u64 = (1 << REST_BITS) - 1;
/// Bytes a slot (a key's rest, little-endian).
const SLOT_BYTES: usize = (REST_BITS / 8) as usize;
/// A segment's first size (slots, a power of two).
const FIRST_SLOTS_LOG2: u32 = 6;
/// The empty slot. A key whose rest is 0 is kept apart, in [`Segment::zero`].
const EMPTY: u64 = 0;

/// One segment: a power-of-two array of 7-byte keys' rests, `EMPTY` where none (plus one
/// byte, so that every slot can be read as a whole `u64`).
#[derive(Default)]
struct Segment {
    bytes: Vec<u8>,
    /// Slots, a power of two (0 before the first insertion).
    slots: usize,
    len: usize,
    /// Whether the rest 0 (the empty slot's marker) is in the segment.
    zero: bool,
}

impl Segment {
    /// Where `rest` starts probing: its top bits.
    #[inline]
    fn home(&self, rest: u64) -> usize {
        (rest >> (REST_BITS - self.slots.trailing_zeros())) as usize
    }

    #[inline]
    fn slot(&self, i: usize) -> u64 {
        let at = i * SLOT_BYTES;
        let word: [u8; 8] = self.bytes[at..at + 8].try_into().expect("8 bytes");
        u64::from_le_bytes(word) & REST_MASK
    }

    #[inline]
    fn set(&mut self, i: usize, rest: u64) {
        let at = i * SLOT_BYTES;
        self.bytes[at..at + SLOT_BYTES].copy_from_slice(&rest.to_le_bytes()[..SLOT_BYTES]);
    }

    #[inline]
    fn contains(&self, rest: u64) -> bool {
        if rest == EMPTY {
            return self.zero;
        }
        if self.slots == 0 {
            return false;
        }
        let mask = self.slots - 1;
        let mut i = self.home(rest);
        // At most 7/8 full: an empty slot ends every probe.
        loop {
            match self.slot(i) {
                EMPTY => return false,
                r if r == rest => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Inserts `rest`; false if it was there.
    #[inline]
    fn insert(&mut self, rest: u64) -> bool {
        if rest == EMPTY {
            return !std::mem::replace(&mut self.zero, true);
        }
        if (self.len + 1) * 8 > self.slots * 7 {
            self.grow();
        }
        let mask = self.slots - 1;
        let mut i = self.home(rest);
        loop {
            match self.slot(i) {
                EMPTY => {
                    self.set(i, rest);
                    self.len += 1;
                    return true;
                }
                r if r == rest => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let log2 = if self.slots == 0 { FIRST_SLOTS_LOG2 } else { self.slots.trailing_zeros() + 1 };
        assert!(log2 < REST_BITS, "a visited set of 2^64 states");
        let old = std::mem::take(self);
        *self = Segment {
            bytes: vec![0; (SLOT_BYTES << log2) + 1],
            slots: 1 << log2,
            len: 0,
            zero: old.zero,
        };
        for i in 0..old.slots {
            let rest = old.slot(i);
            if rest != EMPTY {
                self.insert(rest);
            }
        }
    }
}

/// Membership only, never iterated: its order cannot reach a count or a counterexample.
pub(crate) struct Visited {
    segments: Vec<Segment>,
    len: usize,
}

impl Default for Visited {
    fn default() -> Self {
        Visited { segments: (0..SEGMENTS).map(|_| Segment::default()).collect(), len: 0 }
    }
}

impl Visited {
    #[inline]
    fn segment(key: u64) -> usize {
        (key >> REST_BITS) as usize
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn contains(&self, key: &u64) -> bool {
        self.segments[Self::segment(*key)].contains(key & REST_MASK)
    }

    /// Inserts `key`; false if it was there.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64) -> bool {
        let new = self.segments[Self::segment(key)].insert(key & REST_MASK);
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
        let mut keys: Vec<u64> = (0..50_000u64)
            .map(|i| match i % 4 {
                0 => i,                                     // small: segment 0, low bits only
                1 => u64::MAX - i,                          // segment 255
                2 => (i << 40) | 0xABCD,                    // equal low bits
                _ => i.wrapping_mul(0x9E37_79B9_7F4A_7C15), // spread
            })
            .collect();
        // A segment's empty marker: the rest 0 in every segment (0 itself is above).
        keys.extend((1..SEGMENTS as u64).map(|s| s << REST_BITS));
        for (n, &k) in keys.iter().enumerate() {
            assert!(v.insert(k), "key {k:#x} inserted once");
            assert!(!v.insert(k), "key {k:#x} again is not new");
            assert_eq!(v.len(), n + 1);
        }
        assert!(keys.iter().all(|k| v.contains(k)));
        let absent = (50_000..60_000u64).map(|i| i.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1);
        let absent = absent.chain((0..SEGMENTS as u64).map(|s| s << REST_BITS | 0xFFFF));
        for k in absent.filter(|k| !keys.contains(k)) {
            assert!(!v.contains(&k), "{k:#x} was never inserted");
        }
    }
}
