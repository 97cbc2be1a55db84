//! A stable 64-bit hasher for trace hashes.
//!
//! `std`'s `DefaultHasher` is explicitly not stable across releases, and native-endian byte
//! writes would differ across architectures. This hasher fixes both: every integer is fed as
//! little-endian words, and the mixing function is written down here, so the same trace gives
//! the same hash on any machine and any thread count.
//!
//! It sits on the engine's hot path (two trace events per message, at every trace level),
//! so it absorbs words in pairs with one 64x64->128 "folded" multiply (the foldhash idea):
//! one multiply latency per two words instead of one per word.

use std::hash::Hasher;

const K: u64 = 0x9E37_79B9_7F4A_7C15;

const K2: u64 = 0x1319_8A2E_0370_7344;

/// Pairs of words folded into the state by a 128-bit multiply, with a final avalanche
/// (the splitmix64 finaliser). An odd word waits in `pending` for its partner.
#[derive(Clone, Debug)]
pub struct StableHasher {
    state: u64,
    pending: u64,
    has_pending: bool,
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher { state: 0x243F_6A88_85A3_08D3, pending: 0, has_pending: false }
    }
}

#[inline]
fn folded_mul(a: u64, b: u64) -> u64 {
    let full = (a as u128).wrapping_mul(b as u128);
    (full as u64) ^ ((full >> 64) as u64)
}

impl StableHasher {
    #[inline(always)]
    fn mix(&mut self, word: u64) {
        if self.has_pending {
            self.state = folded_mul(self.state ^ self.pending ^ K, word ^ K2);
            self.has_pending = false;
        } else {
            self.pending = word;
            self.has_pending = true;
        }
    }

    /// Absorbs two words at once.
    #[inline]
    pub fn write_pair(&mut self, a: u64, b: u64) {
        self.mix(a);
        self.mix(b);
    }

    /// Absorbs one already-mixed 64-bit digest with a single folded multiply. Trace events
    /// are digested independently (their multiplies overlap) and only the digests are
    /// chained, so the serial dependency is one multiply per event.
    #[inline(always)]
    pub fn absorb(&mut self, digest: u64) {
        self.state = folded_mul(self.state ^ digest, K);
    }

    /// The state with any pending word folded in, without the final avalanche: a digest
    /// for [`absorb`](Self::absorb) or for combining with other digests.
    #[inline(always)]
    pub fn finish_raw(&self) -> u64 {
        if self.has_pending { folded_mul(self.state ^ self.pending ^ K, K2) } else { self.state }
    }
}

/// Two words mixed into one digest.
#[inline(always)]
pub fn digest2(a: u64, b: u64) -> u64 {
    folded_mul(a ^ K, b ^ K2)
}

/// splitmix64's output function: a bijective avalanche on 64 bits.
#[inline]
pub fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        let tail = if self.has_pending { folded_mul(self.pending ^ K2, K) } else { 0 };
        avalanche(self.state ^ tail)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("chunk of 8")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            // The length goes in the top byte so "ab" and "ab\0" differ.
            self.mix(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.mix(i as u64);
        self.mix((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_i8(&mut self, i: i8) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_i16(&mut self, i: i16) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.mix(i as u64);
    }
    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.mix(i as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn h<T: Hash>(v: T) -> u64 {
        let mut s = StableHasher::default();
        v.hash(&mut s);
        s.finish()
    }

    #[test]
    fn pinned_values_never_change() {
        // These pin the hash function itself: a change here changes every trace hash.
        assert_eq!(h(0u64), 0x9c25_0875_1c61_2ede);
        assert_eq!(h("commit"), 0x5733_25cb_9d2c_9c66);
    }

    #[test]
    fn byte_strings_of_different_length_differ() {
        assert_ne!(h(&b"ab"[..]), h(&b"ab\0"[..]));
    }
}
