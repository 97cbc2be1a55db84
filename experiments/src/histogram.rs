//! An exact distribution of `u64` samples in little memory: the latency histograms the
//! study and the sweeps fold their runs into (see [`crate::aggregate`]).
//!
//! Why this shape. The reported numbers are nearest-rank percentiles to the microsecond,
//! so no two values may share a bucket; and a row's latencies are nearly all distinct (at
//! 1,000 seeds, about 3,850 distinct values among a row's 4,000, spread over seconds), so
//! a page of counts per 32 consecutive microseconds held about two samples in 256 bytes.
//! Here the values are cut into blocks of [`BLOCK`] consecutive microseconds, and each block
//! that holds a sample takes whichever of two forms is smaller:
//! - *sparse*: its (offset, count) pairs, 8 bytes per distinct value: the thin tails, where
//!   rare values keep appearing as the seeds grow;
//! - *dense*: one count per value of the block, each in the narrowest width (1, 2, 4 or 8
//!   bytes) that holds the block's largest count: the thick middle.
//!
//! A block turns dense once its pairs would take more room than its counts, and never back;
//! a dense block widens when a count outgrows its width. Which form a block has depends on
//! the order samples came in, so it is a matter of memory only: equality, iteration,
//! percentiles and the on-disk form (gaps and counts, as before) see the counts alone.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use serde::{Deserialize, Serialize};

use crate::sum::Sum;

/// Consecutive values per block: a value's offset in its block is a `u8`.
const BLOCK: usize = 256;

/// The bytes of one sparse pair.
const PAIR_BYTES: usize = std::mem::size_of::<(u8, u32)>();

/// Bytes per count that hold `c`: 1, 2, 4 or 8.
fn width_of(c: u64) -> usize {
    match c {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    }
}

/// The `i`-th of `bytes`' little-endian counts of `width` bytes.
fn read(bytes: &[u8], width: usize, i: usize) -> u64 {
    let mut le = [0u8; 8];
    le[..width].copy_from_slice(&bytes[i * width..(i + 1) * width]);
    u64::from_le_bytes(le)
}

fn write(bytes: &mut [u8], width: usize, i: usize, c: u64) {
    assert!(width_of(c) <= width, "count {c} does not fit {width} bytes");
    bytes[i * width..(i + 1) * width].copy_from_slice(&c.to_le_bytes()[..width]);
}

/// The counts of one block of [`BLOCK`] consecutive values.
#[derive(Clone, Debug)]
enum Block {
    /// (offset, count) of each value with a sample, ascending by offset.
    Sparse(Vec<(u8, u32)>),
    /// A count per offset, little-endian, `len / BLOCK` bytes each.
    Dense(Box<[u8]>),
}

impl Block {
    fn new() -> Block {
        Block::Sparse(Vec::with_capacity(1))
    }

    fn add(&mut self, offset: u8, count: u64) {
        if let Block::Sparse(pairs) = self {
            let at = pairs.binary_search_by_key(&offset, |&(o, _)| o);
            let old = at.map_or(0, |i| u64::from(pairs[i].1));
            let new = old.checked_add(count).expect("a histogram count overflows u64");
            let Ok(new) = u32::try_from(new) else {
                self.densify();
                return self.add(offset, count);
            };
            match at {
                Ok(i) => pairs[i].1 = new,
                Err(i) => {
                    pairs.insert(i, (offset, new));
                    let widest = pairs.iter().map(|&(_, c)| u64::from(c)).max().unwrap_or(0);
                    if pairs.len() * PAIR_BYTES > BLOCK * width_of(widest) {
                        self.densify();
                    }
                }
            }
            return;
        }
        let Block::Dense(bytes) = self else { unreachable!("a block is sparse or dense") };
        let (width, i) = (bytes.len() / BLOCK, usize::from(offset));
        let new =
            read(bytes, width, i).checked_add(count).expect("a histogram count overflows u64");
        if width_of(new) > width {
            *bytes = dense(Block::Dense(std::mem::take(bytes)).counts(), width_of(new));
        }
        write(bytes, bytes.len() / BLOCK, i, new);
    }

    /// The same counts, dense.
    fn densify(&mut self) {
        let widest = self.counts().map(|(_, c)| c).max().unwrap_or(0);
        *self = Block::Dense(dense(self.counts(), width_of(widest)));
    }

    /// Every (offset, count) with a positive count, ascending.
    fn counts(&self) -> impl Iterator<Item = (u8, u64)> + '_ {
        let (pairs, bytes): (&[(u8, u32)], &[u8]) = match self {
            Block::Sparse(pairs) => (pairs, &[]),
            Block::Dense(bytes) => (&[], bytes),
        };
        let width = (bytes.len() / BLOCK).max(1);
        let dense = bytes.chunks_exact(width).enumerate().filter_map(move |(i, _)| {
            let c = read(bytes, width, i);
            (c > 0).then(|| (u8::try_from(i).expect("BLOCK offsets fit a u8"), c))
        });
        pairs.iter().map(|&(o, c)| (o, u64::from(c))).chain(dense)
    }

    /// Heap bytes this block holds (its own allocation, not its map entry).
    fn heap_bytes(&self) -> usize {
        match self {
            Block::Sparse(pairs) => pairs.capacity() * PAIR_BYTES,
            Block::Dense(bytes) => bytes.len(),
        }
    }
}

/// A dense block of `counts`, `width` bytes each.
fn dense(counts: impl Iterator<Item = (u8, u64)>, width: usize) -> Box<[u8]> {
    let mut bytes = vec![0u8; BLOCK * width].into_boxed_slice();
    for (o, c) in counts {
        write(&mut bytes, width, usize::from(o), c);
    }
    bytes
}

/// An exact distribution of `u64` samples: how many times each value occurred (see the
/// module docs for the layout). Its size follows the values' spread and how thinly they
/// are spread, not the number of samples.
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    blocks: BTreeMap<u64, Block>,
    total: Sum,
}

impl PartialEq for Histogram {
    /// Equal counts, whatever form their blocks took.
    fn eq(&self, other: &Histogram) -> bool {
        self.total == other.total && self.counts().eq(other.counts())
    }
}

impl Eq for Histogram {}

impl Histogram {
    pub fn add(&mut self, x: u64) {
        self.add_n(x, 1);
    }

    fn add_n(&mut self, x: u64, count: u64) {
        assert!(count > 0, "a histogram adds positive counts");
        let (b, offset) = (x / BLOCK as u64, (x % BLOCK as u64) as u8);
        self.blocks.entry(b).or_insert_with(Block::new).add(offset, count);
        self.total.n += count;
        self.total.sum += u128::from(x) * u128::from(count);
        self.total.max = self.total.max.max(x);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (&b, theirs) in &other.blocks {
            match self.blocks.entry(b) {
                Entry::Vacant(e) => {
                    e.insert(theirs.clone());
                }
                Entry::Occupied(mut e) => {
                    let mine = e.get_mut();
                    theirs.counts().for_each(|(o, c)| mine.add(o, c));
                }
            }
        }
        self.total.merge(&other.total);
    }

    /// Every (value, count) with a positive count, ascending.
    pub fn counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.blocks.iter().flat_map(|(&b, block)| {
            block.counts().map(move |(o, c)| (b * BLOCK as u64 + u64::from(o), c))
        })
    }

    /// The heap bytes of the blocks' counts, without the map's nodes (a few tens of bytes
    /// per block): what the layout decides.
    pub fn count_bytes(&self) -> usize {
        self.blocks.values().map(Block::heap_bytes).sum()
    }

    /// Blocks held (each costs a map entry besides its counts).
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    pub fn len(&self) -> u64 {
        self.total.n
    }

    pub fn is_empty(&self) -> bool {
        self.total.n == 0
    }

    /// Equal to [`crate::metrics::mean`] of the samples.
    pub fn mean(&self) -> f64 {
        self.total.mean()
    }

    /// Equal to [`crate::metrics::percentile`] of the samples: the nearest-rank sample.
    pub fn percentile(&self, p: f64) -> u64 {
        let n = self.total.n;
        if n == 0 {
            return 0;
        }
        let rank = (((p / 100.0) * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0u64;
        for (x, c) in self.counts() {
            seen += c;
            if seen >= rank {
                return x;
            }
        }
        unreachable!("the counts add up to n = {n}, and rank {rank} <= n")
    }
}

/// On disk (a shard's partial state): ascending values as gaps from the previous one, and
/// their counts; short numbers, and nothing to check but the lengths and the order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistogramFile {
    gaps: Vec<u64>,
    counts: Vec<u64>,
}

impl Serialize for Histogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut prev = 0u64;
        let (mut gaps, mut counts) = (Vec::new(), Vec::new());
        for (x, c) in self.counts() {
            gaps.push(x - prev);
            counts.push(c);
            prev = x;
        }
        HistogramFile { gaps, counts }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Histogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let f = HistogramFile::deserialize(d)?;
        if f.gaps.len() != f.counts.len() {
            return Err(D::Error::custom("a histogram needs as many counts as values"));
        }
        let mut h = Histogram::default();
        let mut x = 0u64;
        for (i, (&gap, &count)) in f.gaps.iter().zip(&f.counts).enumerate() {
            if (i > 0 && gap == 0) || count == 0 {
                return Err(D::Error::custom("histogram values must ascend, counts be positive"));
            }
            x = x.checked_add(gap).ok_or_else(|| D::Error::custom("histogram value overflows"))?;
            h.add_n(x, count);
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{mean, percentile};
    use proptest::prelude::*;

    /// Thin values far apart, a block's worth of close ones, and a few hot values that
    /// outgrow a one-byte count.
    fn samples() -> impl Strategy<Value = Vec<u64>> {
        proptest::collection::vec(
            prop_oneof![0u64..5_000_000, 0u64..600, 1_000u64..1_002, Just(u64::MAX - 3)],
            0..1_500,
        )
    }

    proptest! {
        /// Every quantile is the sample the sorted list gives, split and merged anywhere, and
        /// the order samples came in (so the blocks' forms) changes nothing.
        #[test]
        fn histograms_agree_with_the_sorted_samples(
            xs in samples(),
            cut in 0usize..1_500,
            ps in proptest::collection::vec(0.0f64..=100.0, 8),
        ) {
            let cut = cut.min(xs.len());
            let (mut a, mut b) = (Histogram::default(), Histogram::default());
            xs[..cut].iter().for_each(|&x| a.add(x));
            xs[cut..].iter().for_each(|&x| b.add(x));
            b.merge(&a);
            let mut sorted = xs.clone();
            sorted.sort_unstable();
            for p in ps.into_iter().chain([0.0, 1.0, 50.0, 99.0, 100.0]) {
                prop_assert_eq!(b.percentile(p), percentile(&xs, p), "p{}", p);
            }
            let mut expected: Vec<(u64, u64)> = Vec::new();
            for &x in &sorted {
                match expected.last_mut() {
                    Some((v, c)) if *v == x => *c += 1,
                    _ => expected.push((x, 1)),
                }
            }
            prop_assert_eq!(b.counts().collect::<Vec<_>>(), expected);
            prop_assert_eq!(b.len(), xs.len() as u64);
            if xs.iter().all(|&x| x < 1 << 40) {
                prop_assert_eq!(b.mean().to_bits(), mean(&xs).to_bits());
            }
            let mut reversed = Histogram::default();
            xs.iter().rev().for_each(|&x| reversed.add(x));
            prop_assert_eq!(&reversed, &b);
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(serde_json::to_string(&reversed).unwrap(), json.clone());
            prop_assert_eq!(serde_json::from_str::<Histogram>(&json).unwrap(), b);
        }
    }

    #[test]
    fn a_malformed_histogram_is_refused() {
        for bad in [
            r#"{"gaps":[1,0],"counts":[1,1]}"#,
            r#"{"gaps":[1],"counts":[0]}"#,
            r#"{"gaps":[1],"counts":[]}"#,
        ] {
            assert!(serde_json::from_str::<Histogram>(bad).is_err(), "{bad}");
        }
    }

    /// A rare value costs one pair, not a block of counts: the thin tails that keep growing
    /// with the seeds (each of these values alone in its block).
    #[test]
    fn a_thinly_spread_value_costs_one_pair() {
        let mut h = Histogram::default();
        for i in 0..10_000u64 {
            h.add(i * 1_000 + i % 7);
        }
        assert_eq!(h.blocks(), 10_000);
        assert_eq!(h.count_bytes(), 10_000 * PAIR_BYTES);
    }

    /// Where every value occurs, a block holds a byte per value until a count outgrows it.
    #[test]
    fn a_thickly_spread_block_costs_a_byte_per_value() {
        let mut h = Histogram::default();
        for round in 0..255 {
            for x in 0..(100 * BLOCK as u64) {
                h.add(x + round % 2);
            }
        }
        assert_eq!(h.blocks(), 101);
        assert!(h.count_bytes() <= 101 * BLOCK + 2 * PAIR_BYTES, "{} bytes", h.count_bytes());
        assert_eq!(h.counts().next(), Some((0, 128)));
        assert_eq!(h.percentile(100.0), 100 * BLOCK as u64);
    }

    /// Counts widen from one byte to eight, in sparse and in dense blocks, and stay exact.
    #[test]
    fn counts_widen_past_every_width() {
        let big = [1u64, 254, 1, 65_000, 600, 4_294_000_000, 1_000_000, 1 << 40];
        let mut sparse = Histogram::default();
        let mut dense = Histogram::default();
        for x in 0..BLOCK as u64 {
            dense.add(x);
        }
        let mut sum = 0;
        for &n in &big {
            sparse.add_n(7, n);
            dense.add_n(7, n);
            sum += n;
            assert_eq!(sparse.counts().collect::<Vec<_>>(), vec![(7, sum)]);
            assert_eq!(dense.counts().nth(7), Some((7, sum + 1)));
            assert_eq!(dense.counts().count(), BLOCK);
        }
        assert_eq!(dense.count_bytes(), BLOCK * 8);
        assert_eq!(sparse.percentile(50.0), 7);
        assert_eq!(dense.percentile(50.0), 7);
        assert_eq!(dense.percentile(100.0), BLOCK as u64 - 1);
    }
}
