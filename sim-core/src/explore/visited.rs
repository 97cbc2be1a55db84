//! The visited set: 64-bit state keys (shared between threads, with a depth each or not),
//! nothing else.
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
//! used (arrays of a page or more are mapped from the OS, so the arrays a segment outgrew
//! leave no holes behind: `pages`).
//!
//! A search on several threads shares one [`SharedVisited`]: the same segments, each behind
//! its own lock (two threads contend only on keys of one segment). Its slots are 7 bytes
//! too when the model declares a potential (the depth of a state is then known without
//! storing it), else one byte more a slot for the depth a state was first reached at
//! (`depths` says how each is checked on every transition).

use std::hash::Hasher;
use std::sync::Mutex;

use crate::hash::StableHasher;

use super::pages::Zeroed;
use super::successors::Used;

/// Segments, chosen by a key's top `SEGMENT_BITS` bits.
const SEGMENT_BITS: u32 = 8;
const SEGMENTS: usize = 1 << SEGMENT_BITS;
/// What a segment stores of a key: the bits below the segment bits.
const REST_BITS: u32 = 64 - SEGMENT_BITS;
const REST_MASK: u64 = (1 << REST_BITS) - 1;
/// A segment's first size (slots, a power of two).
const FIRST_SLOTS_LOG2: u32 = 6;
/// The empty slot. A key whose rest is 0 is kept apart, in [`Segment::zero`].
const EMPTY: u64 = 0;

/// One segment: a power-of-two array of `W`-byte slots, `EMPTY` where none (whole pages
/// once a page or more: [`Zeroed`]). A slot is a key's 7-byte rest and, when `W` is 8, one
/// byte of payload above it (the shared set's depth, see [`SharedVisited`]).
struct Segment<const W: usize> {
    bytes: Zeroed,
    /// Slots, a power of two (0 before the first insertion).
    slots: usize,
    len: usize,
    /// The payload of the rest 0 (the empty slot's marker), if it is in the segment.
    zero: Option<u8>,
}

impl<const W: usize> Default for Segment<W> {
    fn default() -> Self {
        Segment { bytes: Zeroed::default(), slots: 0, len: 0, zero: None }
    }
}

impl<const W: usize> Segment<W> {
    const ASSERT_WIDTH: () = assert!(W * 8 == REST_BITS as usize || W == 8);

    /// Where `rest` starts probing: its top bits.
    #[inline]
    fn home(&self, rest: u64) -> usize {
        (rest >> (REST_BITS - self.slots.trailing_zeros())) as usize
    }

    /// Slot `i`: the rest and the payload.
    #[inline]
    fn slot(&self, i: usize) -> (u64, u8) {
        let at = i * W;
        let word = match self.bytes.get(at..at + 8) {
            Some(word) => u64::from_le_bytes(word.try_into().expect("8 bytes")),
            None => {
                // The last of 7-byte slots: no byte follows it.
                let mut word = [0; 8];
                word[..W].copy_from_slice(&self.bytes[at..at + W]);
                u64::from_le_bytes(word)
            }
        };
        let payload = if W == 8 { (word >> REST_BITS) as u8 } else { 0 };
        (word & REST_MASK, payload)
    }

    #[inline]
    fn set(&mut self, i: usize, rest: u64, payload: u8) {
        let at = i * W;
        let word = rest | u64::from(payload) << REST_BITS;
        self.bytes[at..at + W].copy_from_slice(&word.to_le_bytes()[..W]);
    }

    /// The payload kept with `rest`, if `rest` is in the segment.
    #[inline]
    fn get(&self, rest: u64) -> Option<u8> {
        if rest == EMPTY {
            return self.zero;
        }
        if self.slots == 0 {
            return None;
        }
        let mask = self.slots - 1;
        let mut i = self.home(rest);
        // At most 7/8 full: an empty slot ends every probe.
        loop {
            match self.slot(i) {
                (EMPTY, _) => return None,
                (r, payload) if r == rest => return Some(payload),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Inserts `rest` with `payload`: `None` if it was new, else the payload it has.
    #[inline]
    fn insert(&mut self, rest: u64, payload: u8) -> Option<u8> {
        let () = Self::ASSERT_WIDTH;
        if rest == EMPTY {
            let old = self.zero;
            self.zero = self.zero.or(Some(payload));
            return old;
        }
        if (self.len + 1) * 8 > self.slots * 7 {
            self.grow();
        }
        let mask = self.slots - 1;
        let mut i = self.home(rest);
        loop {
            match self.slot(i) {
                (EMPTY, _) => {
                    self.set(i, rest, payload);
                    self.len += 1;
                    return None;
                }
                (r, old) if r == rest => return Some(old),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Keys in the segment.
    fn len(&self) -> usize {
        self.len + usize::from(self.zero.is_some())
    }

    fn grow(&mut self) {
        let log2 = if self.slots == 0 { FIRST_SLOTS_LOG2 } else { self.slots.trailing_zeros() + 1 };
        assert!(log2 < REST_BITS, "a visited set of 2^64 states");
        let old = std::mem::take(self);
        let bytes = Zeroed::new(W << log2);
        *self = Segment { bytes, slots: 1 << log2, len: 0, zero: old.zero };
        for i in 0..old.slots {
            let (rest, payload) = old.slot(i);
            if rest != EMPTY {
                self.insert(rest, payload);
            }
        }
    }
}

/// Membership only, never iterated: its order cannot reach a count or a counterexample.
pub(crate) struct Visited {
    segments: Vec<Segment<7>>,
    len: usize,
}

impl Default for Visited {
    fn default() -> Self {
        Visited { segments: (0..SEGMENTS).map(|_| Segment::default()).collect(), len: 0 }
    }
}

#[inline]
fn segment(key: u64) -> usize {
    (key >> REST_BITS) as usize
}

impl Visited {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn contains(&self, key: &u64) -> bool {
        self.segments[segment(*key)].get(key & REST_MASK).is_some()
    }

    /// Inserts `key`; false if it was there.
    #[inline]
    pub(crate) fn insert(&mut self, key: u64) -> bool {
        let new = self.segments[segment(key)].insert(key & REST_MASK, 0).is_none();
        self.len += usize::from(new);
        new
    }
}

/// One segment behind its own lock, alone on its cache line (two threads locking
/// neighbouring segments do not contend).
#[repr(align(64))]
#[derive(Default)]
struct Locked<const W: usize>(Mutex<Segment<W>>);

/// The visited set of a search on several threads: each segment behind its own lock, so
/// two threads contend only on a key of the same segment (1 in 256), with `W`-byte slots:
/// 7 (the key alone) or 8 (the key and one byte of payload: the depth a state was first
/// reached at). Membership and payloads only, never iterated.
pub(crate) struct SharedVisited<const W: usize> {
    segments: Vec<Locked<W>>,
}

impl<const W: usize> Default for SharedVisited<W> {
    fn default() -> Self {
        SharedVisited { segments: (0..SEGMENTS).map(|_| Locked::default()).collect() }
    }
}

impl<const W: usize> SharedVisited<W> {
    /// Inserts `key` with `payload` (kept only in 8-byte slots; 0 in 7-byte ones): `None` if
    /// it was new, else the payload it has.
    #[inline]
    pub(crate) fn insert(&self, key: u64, payload: u8) -> Option<u8> {
        let mut segment = self.segments[segment(key)].0.lock().expect("a visited segment");
        segment.insert(key & REST_MASK, payload)
    }

    /// Keys in the set (locks every segment in turn: for a final count or a progress line).
    pub(crate) fn len(&self) -> usize {
        self.segments.iter().map(|s| s.0.lock().expect("a visited segment").len()).sum()
    }
}

/// The key of a state: its world's key, plus the fault budget and the delays spent (a world
/// reached with budget left is a different search state from the same world with none).
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
    if used.delays > 0 {
        h.write_u32(used.delays);
    }
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

    /// The shared set keeps what the one-thread set keeps, and each key's first payload (in
    /// 8-byte slots; none in 7-byte ones): the rest 0 of every segment included, from two
    /// threads at once.
    #[test]
    fn the_shared_set_keeps_each_keys_first_payload() {
        shared_set_keeps::<8>(|k| (k % 251) as u8);
        shared_set_keeps::<7>(|_| 0);
    }

    /// Inserts keys from two threads with `payload(k)`, then again with another payload.
    fn shared_set_keeps<const W: usize>(payload: fn(u64) -> u8) {
        let shared = SharedVisited::<W>::default();
        let keys: Vec<u64> = (0..20_000u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .chain((1..SEGMENTS as u64).map(|s| s << REST_BITS)) // 0 is the first key
            .collect();
        std::thread::scope(|s| {
            for half in keys.chunks(keys.len() / 2 + 1) {
                let shared = &shared;
                s.spawn(move || {
                    for &k in half {
                        assert_eq!(shared.insert(k, payload(k)), None, "{k:#x} is new");
                    }
                });
            }
        });
        assert_eq!(shared.len(), keys.len());
        for &k in &keys {
            let again = shared.insert(k, payload(k).wrapping_add(1));
            assert_eq!(again, Some(payload(k)), "{k:#x} in {W}-byte slots");
        }
        assert_eq!(shared.len(), keys.len(), "nothing inserted twice");
    }
}
