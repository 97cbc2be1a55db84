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
//!
//! Values reach it through serde, not through `std::hash::Hash`: [`stable_digest`] and
//! [`stable_hash`] feed any `T: Serialize` into a [`StableHasher`], naming enum variants by
//! their serde name. A derived `Hash` feeds a variant's *position* instead, so inserting a
//! variant anywhere but last would change every hash the enum appears in; by name, adding a
//! variant changes no recorded hash, and only renaming a variant that occurs does.

use std::fmt;
use std::hash::Hasher;

use serde::ser::{self, Serialize};

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

// ----- any `Serialize` value, with variants by name ---------------------------------------

/// The digest of `value` without the final avalanche, from [`StableHasher::finish_raw`]: for
/// chaining into another hasher (the trace hash [`absorb`](StableHasher::absorb)s these).
///
/// # What is hashed
///
/// The value's serde data model, fed as little-endian words, prefix-free for any one type
/// (no value's encoding is a prefix of another's), so that a tuple, a struct or a sequence of
/// values is unambiguous:
///
/// - enum variants by their serde **name**, never their index: an externally tagged variant
///   as a label holding its kind (unit, newtype, tuple, struct, so `X` and `X(())` differ) and
///   its name, then its contents. An internally tagged enum (`#[serde(tag = "...")]`) writes
///   its name as a string field, an adjacently tagged one as a unit variant: by name too.
///   Adding a variant anywhere therefore changes no hash; renaming one that occurs does.
/// - integers and `bool` as one word (signed ones sign-extended), 128-bit ones as two, `char`
///   as its code point, `f32` and `f64` by their bits (so `0.0` and `-0.0` differ);
/// - strings and byte strings with their length: one word for up to 7 bytes (length and
///   kind in its top byte), one more word per further 8 bytes, and from 31 bytes on one more
///   for the length;
/// - `None` as a 0 word, `Some(v)` as a 1 word then `v`;
/// - sequences and maps: their length, then the elements (keys and values alternating); with
///   no length known up front, a 1 word before each element and a 0 word at the end. Maps
///   and sets count in their iteration order: a `HashMap`'s changes from run to run, so
///   hash `BTreeMap`s and `BTreeSet`s;
/// - a field skipped by `skip_serializing_if` as one 0 word: what `None`, `0`, `false`, `""`
///   and an empty sequence hash as, so a field skipped because it is one of those hashes as
///   if it had been written out (a field skipped on another condition is told apart from
///   its written values only as far as their encodings differ from that 0 word);
/// - newtype structs as their content, so `#[serde(transparent)]` wrappers cost nothing.
///
/// Not hashed, because the Rust type already fixes them: type names, struct field names, the
/// number of fields of a struct, tuple or variant, and unit values. Fields are taken in
/// declaration order, so reordering a struct's fields changes its hashes and renaming one does
/// not. An `#[serde(untagged)]` enum writes no variant at all: variants with contents of the
/// same shape hash alike, so keep them out of hashed types. The serializer reports itself as
/// not human-readable, so types with two serde forms hash their compact one.
///
/// Nothing is allocated: names and strings are mixed straight from their bytes (the variant
/// names of a derived `Serialize` are constants, so after inlining their words usually are
/// too). This runs for every message of every simulation.
///
/// # Panics
///
/// If `value`'s `Serialize` implementation fails (calls `Error::custom`); derived
/// implementations never do, and a value that cannot be serialised could not be exported
/// either.
#[inline]
pub fn stable_digest<T: Serialize + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    h.write_serialize(value);
    h.finish_raw()
}

/// The finished stable hash of `value` (with the final avalanche): a fingerprint, e.g. of a
/// node's state. Hashes exactly what [`stable_digest`] does.
#[inline]
pub fn stable_hash<T: Serialize + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    h.write_serialize(value);
    h.finish()
}

// The kind of a label, in the top 3 bits of its first word.
const LABEL_STR: u64 = 0;
const LABEL_BYTES: u64 = 1;
const LABEL_UNIT_VARIANT: u64 = 2;
const LABEL_NEWTYPE_VARIANT: u64 = 3;
const LABEL_TUPLE_VARIANT: u64 = 4;
const LABEL_STRUCT_VARIANT: u64 = 5;

/// A label's length from here up is written as a word of its own.
const LONG_LABEL: usize = 31;

impl StableHasher {
    /// Feeds `value` through serde, as [`stable_digest`] describes; several values can be fed
    /// into one hasher this way.
    ///
    /// # Panics
    ///
    /// If `value`'s `Serialize` implementation fails (see [`stable_digest`]).
    #[inline]
    pub fn write_serialize<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Err(e) = value.serialize(&mut *self) {
            serialize_failed(e)
        }
    }

    /// A string, byte string or variant name, prefix-free: the first word holds `kind` (top 3
    /// bits), the length (next 5 bits, 31 meaning "in the next word") and the first 7 bytes;
    /// the remaining bytes follow as little-endian words, the last zero-padded.
    #[inline(always)]
    fn label(&mut self, kind: u64, bytes: &[u8]) {
        let n = bytes.len();
        let first = load_le(&bytes[..n.min(7)]);
        self.mix(first | (kind << 61) | ((n.min(LONG_LABEL) as u64) << 56));
        if n > 7 {
            self.label_tail(n, &bytes[7..]);
        }
    }

    #[inline]
    fn label_tail(&mut self, n: usize, rest: &[u8]) {
        if n >= LONG_LABEL {
            self.mix(n as u64);
        }
        let mut chunks = rest.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().expect("chunk of 8")));
        }
        let last = chunks.remainder();
        if !last.is_empty() {
            self.mix(load_le(last));
        }
    }
}

/// Up to 8 bytes as a little-endian word, zero-padded.
#[inline(always)]
fn load_le(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    u64::from_le_bytes(buf)
}

#[cold]
#[inline(never)]
fn serialize_failed(e: HashError) -> ! {
    panic!("a value failed to serialise for its stable hash: {e}")
}

/// A `Serialize` implementation reported an error while being hashed (the hasher itself
/// never fails).
#[derive(Debug)]
pub struct HashError(Box<str>);

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HashError {}

impl ser::Error for HashError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        HashError(msg.to_string().into_boxed_str())
    }
}

/// `fn $name(self, v: $t)` for serializers that hash `v` as one 64-bit word.
macro_rules! mix_as_word {
    ($($name:ident: $t:ty),* $(,)?) => {$(
        #[inline]
        fn $name(self, v: $t) -> Result<(), HashError> {
            self.mix(v as u64);
            Ok(())
        }
    )*};
}

/// The serializer: a value serialised into a `&mut StableHasher` is absorbed by it.
impl<'a> ser::Serializer for &'a mut StableHasher {
    type Ok = ();
    type Error = HashError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn is_human_readable(&self) -> bool {
        false
    }

    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), HashError> {
        self.write_pair(v as u64, (v >> 64) as u64);
        Ok(())
    }
    // Every integer, bool and char is one word (`as u64`: sign-extended for signed types).
    mix_as_word! {
        serialize_bool: bool, serialize_char: char,
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64,
    }
    #[inline]
    fn serialize_u128(self, v: u128) -> Result<(), HashError> {
        self.write_pair(v as u64, (v >> 64) as u64);
        Ok(())
    }
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), HashError> {
        self.mix(v.to_bits() as u64);
        Ok(())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), HashError> {
        self.mix(v.to_bits());
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), HashError> {
        self.label(LABEL_STR, v.as_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_bytes(self, v: &[u8]) -> Result<(), HashError> {
        self.label(LABEL_BYTES, v);
        Ok(())
    }
    #[inline]
    fn serialize_none(self) -> Result<(), HashError> {
        self.mix(0);
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), HashError> {
        self.mix(1);
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), HashError> {
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), HashError> {
        Ok(())
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), HashError> {
        self.label(LABEL_UNIT_VARIANT, variant.as_bytes());
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), HashError> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), HashError> {
        self.label(LABEL_NEWTYPE_VARIANT, variant.as_bytes());
        value.serialize(self)
    }
    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, HashError> {
        Ok(Compound::new(self, len))
    }
    #[inline]
    fn serialize_tuple(self, _len: usize) -> Result<Self, HashError> {
        Ok(self)
    }
    #[inline]
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self, HashError> {
        Ok(self)
    }
    #[inline]
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, HashError> {
        self.label(LABEL_TUPLE_VARIANT, variant.as_bytes());
        Ok(self)
    }
    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, HashError> {
        Ok(Compound::new(self, len))
    }
    #[inline]
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self, HashError> {
        Ok(self)
    }
    #[inline]
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, HashError> {
        self.label(LABEL_STRUCT_VARIANT, variant.as_bytes());
        Ok(self)
    }

    /// Hashed exactly as `serialize_str(&value.to_string())`, without allocating unless the
    /// text is longer than a small stack buffer.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), HashError> {
        let mut text = StackText { bytes: [0; 256], len: 0, overflowed: false };
        match fmt::write(&mut text, format_args!("{value}")) {
            Ok(()) => self.label(LABEL_STR, &text.bytes[..text.len]),
            Err(_) if text.overflowed => self.label(LABEL_STR, value.to_string().as_bytes()),
            Err(_) => return Err(ser::Error::custom("a Display implementation failed")),
        }
        Ok(())
    }
}

/// Text formatted onto the stack, for `collect_str`.
struct StackText {
    bytes: [u8; 256],
    len: usize,
    overflowed: bool,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let Some(dst) = self.bytes.get_mut(self.len..end) else {
            self.overflowed = true;
            return Err(fmt::Error);
        };
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A sequence or map being hashed. Its length goes first when known; otherwise each element
/// (or entry) is preceded by a 1 word and the end is a 0 word, as a chain of `Some`s ending
/// in `None` would be.
pub struct Compound<'a> {
    hasher: &'a mut StableHasher,
    unsized_len: bool,
}

impl<'a> Compound<'a> {
    #[inline]
    fn new(hasher: &'a mut StableHasher, len: Option<usize>) -> Self {
        if let Some(n) = len {
            hasher.mix(n as u64);
        }
        Compound { hasher, unsized_len: len.is_none() }
    }

    #[inline]
    fn next(&mut self) {
        if self.unsized_len {
            self.hasher.mix(1);
        }
    }

    #[inline]
    fn close(self) -> Result<(), HashError> {
        if self.unsized_len {
            self.hasher.mix(0);
        }
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = HashError;
    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HashError> {
        self.next();
        value.serialize(&mut *self.hasher)
    }
    #[inline]
    fn end(self) -> Result<(), HashError> {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = HashError;
    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), HashError> {
        self.next();
        key.serialize(&mut *self.hasher)
    }
    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HashError> {
        value.serialize(&mut *self.hasher)
    }
    #[inline]
    fn end(self) -> Result<(), HashError> {
        self.close()
    }
}

/// Tuples, tuple structs and tuple variants: the elements in order, nothing else.
macro_rules! positional {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for &mut StableHasher {
            type Ok = ();
            type Error = HashError;
            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), HashError> {
                value.serialize(&mut **self)
            }
            #[inline]
            fn end(self) -> Result<(), HashError> {
                Ok(())
            }
        }
    )*};
}

positional!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Structs and struct variants: the fields in order, without their names; a skipped field as
/// a 0 word.
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for &mut StableHasher {
            type Ok = ();
            type Error = HashError;
            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), HashError> {
                value.serialize(&mut **self)
            }
            #[inline]
            fn skip_field(&mut self, _key: &'static str) -> Result<(), HashError> {
                self.mix(0);
                Ok(())
            }
            #[inline]
            fn end(self) -> Result<(), HashError> {
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Serialize, Serializer};
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

    // ----- the serde path -----

    #[test]
    fn serde_pinned_values_never_change() {
        // These pin the serde encoding: a change here changes every trace hash.
        #[derive(Serialize)]
        enum Msg {
            Prepare(u64),
        }
        let long = "a label longer than thirty-one bytes";
        assert!(long.len() > LONG_LABEL);
        // An integer is the same word either way.
        assert_eq!(stable_hash(&0u64), h(0u64));
        assert_eq!(stable_hash("commit"), 0xe325_49be_af8c_1102);
        assert_eq!(stable_hash(&Msg::Prepare(7)), 0x908e_53f6_c6cd_c0b1);
        assert_eq!(stable_hash(&(Some(3u32), vec![1.5f64], long)), 0x4bee_9717_5d9b_7929);
    }

    #[test]
    fn none_and_some_zero_differ() {
        assert_ne!(stable_hash(&None::<u64>), stable_hash(&Some(0u64)));
        assert_ne!(stable_hash(&Some(None::<u64>)), stable_hash(&None::<Option<u64>>));
        assert_ne!(stable_hash(&(None::<u64>, 0u64)), stable_hash(&(Some(0u64),)));
    }

    #[test]
    fn strings_are_delimited() {
        assert_ne!(stable_hash(&("ab", "c")), stable_hash(&("a", "bc")));
        // Every split of a string long enough to cross the label's word boundaries (7 bytes
        // in the first word, then 8 per word, and the long-length escape at 31).
        let text = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..=text.len() {
            assert!(seen.insert(stable_hash(&(&text[..i], &text[i..]))), "split at {i}");
        }
        // Zero padding never looks like a shorter string, nor bytes like a string.
        for n in [0, 1, 6, 7, 8, 15, 16, 30, 31, 32, 40] {
            let a = "x".repeat(n);
            let b = format!("{a}\0");
            assert_ne!(stable_hash(&a), stable_hash(&b), "{n} bytes");
            assert_ne!(stable_hash(&a), stable_hash(&Bytes(a.as_bytes())), "{n} bytes");
        }
    }

    /// A byte string, serialised as bytes rather than as a sequence of `u8`.
    struct Bytes<'a>(&'a [u8]);
    impl Serialize for Bytes<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    #[test]
    fn variant_kinds_differ_even_with_empty_contents() {
        #[derive(Serialize)]
        enum Unit {
            X,
        }
        #[derive(Serialize)]
        enum Newtype {
            X(()),
        }
        #[derive(Serialize)]
        enum Tuple {
            X((), ()),
        }
        #[derive(Serialize)]
        enum Struct {
            X {},
        }
        let all = [
            stable_hash(&Unit::X),
            stable_hash(&Newtype::X(())),
            stable_hash(&Tuple::X((), ())),
            stable_hash(&Struct::X {}),
            stable_hash("X"),
        ];
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "{all:x?}");
    }

    #[test]
    fn variants_hash_by_name_not_by_position() {
        #[derive(Serialize)]
        enum Before {
            Prepare(u64),
            Commit(u64),
            Abort,
        }
        #[derive(Serialize)]
        #[allow(dead_code)]
        enum After {
            Prepare(u64),
            Inserted { note: String },
            Commit(u64),
            Abort,
        }
        assert_eq!(stable_hash(&Before::Prepare(5)), stable_hash(&After::Prepare(5)));
        assert_eq!(stable_hash(&Before::Commit(5)), stable_hash(&After::Commit(5)));
        assert_eq!(stable_hash(&Before::Abort), stable_hash(&After::Abort));
        // Same index, another name: another hash.
        #[derive(Serialize)]
        #[allow(dead_code)]
        enum Renamed {
            Prepare(u64),
            Decide(u64),
        }
        assert_ne!(stable_hash(&Before::Commit(5)), stable_hash(&Renamed::Decide(5)));

        // Internally tagged enums name the variant as a string field: by name too.
        #[derive(Serialize)]
        #[serde(tag = "msg", rename_all = "snake_case")]
        enum TaggedBefore {
            Vote { txn: u64 },
            Ack { txn: u64 },
        }
        #[derive(Serialize)]
        #[serde(tag = "msg", rename_all = "snake_case")]
        #[allow(dead_code)]
        enum TaggedAfter {
            Inserted,
            Vote { txn: u64 },
            Ack { txn: u64 },
        }
        assert_eq!(
            stable_hash(&TaggedBefore::Ack { txn: 1 }),
            stable_hash(&TaggedAfter::Ack { txn: 1 })
        );
        assert_ne!(
            stable_hash(&TaggedBefore::Ack { txn: 1 }),
            stable_hash(&TaggedBefore::Vote { txn: 1 })
        );
    }

    #[test]
    fn a_skipped_field_hashes_as_the_none_it_skipped() {
        #[derive(Serialize)]
        struct Skipping {
            a: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<u64>,
            c: u64,
        }
        #[derive(Serialize)]
        struct Writing {
            a: u64,
            b: Option<u64>,
            c: u64,
        }
        for b in [None, Some(0), Some(9)] {
            assert_eq!(
                stable_hash(&Skipping { a: 1, b, c: 2 }),
                stable_hash(&Writing { a: 1, b, c: 2 })
            );
        }
        assert_ne!(
            stable_hash(&Skipping { a: 1, b: None, c: 2 }),
            stable_hash(&Skipping { a: 1, b: Some(0), c: 2 })
        );
    }

    /// Serialised with no length up front (a filtered iterator).
    struct Unsized(Vec<u64>);
    impl Serialize for Unsized {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().filter(|_| true))
        }
    }

    #[test]
    fn sequences_are_delimited_with_or_without_a_length() {
        let sized = |a: Vec<u64>, b: Vec<u64>| stable_hash(&(a, b));
        assert_ne!(sized(vec![1, 2], vec![3]), sized(vec![1], vec![2, 3]));
        assert_ne!(sized(vec![], vec![0]), sized(vec![0], vec![]));
        let open = |a: Vec<u64>, b: Vec<u64>| stable_hash(&(Unsized(a), Unsized(b)));
        assert_ne!(open(vec![1, 2], vec![3]), open(vec![1], vec![2, 3]));
        assert_ne!(open(vec![], vec![0]), open(vec![0], vec![]));
        assert_ne!(open(vec![0, 1], vec![]), open(vec![], vec![0, 1]));
        let map = |a: &[(u8, u8)], b: &[(u8, u8)]| {
            let m =
                |s: &[(u8, u8)]| s.iter().copied().collect::<std::collections::BTreeMap<_, _>>();
            stable_hash(&(m(a), m(b)))
        };
        assert_ne!(map(&[(1, 2)], &[]), map(&[], &[(1, 2)]));
    }

    #[test]
    fn floats_hash_by_their_bits() {
        assert_ne!(stable_hash(&0.0f64), stable_hash(&-0.0f64));
        assert_eq!(stable_hash(&1.5f64), stable_hash(&1.5f64.to_bits()));
        assert_ne!(stable_hash(&1.0f32), stable_hash(&1.0f64));
    }

    #[test]
    fn collect_str_hashes_as_the_string() {
        struct Shown(usize);
        impl std::fmt::Display for Shown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for i in 0..self.0 {
                    write!(f, "{}", i % 10)?;
                }
                Ok(())
            }
        }
        impl Serialize for Shown {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        for n in [0, 5, 255, 256, 257, 1000] {
            assert_eq!(stable_hash(&Shown(n)), stable_hash(&Shown(n).to_string()), "{n}");
        }
    }

    #[test]
    fn digest_is_the_raw_state_and_hash_the_finished_one() {
        let v = ("x", 1u8, Some(2i64));
        let mut h = StableHasher::default();
        h.write_serialize(&v);
        assert_eq!(stable_digest(&v), h.finish_raw());
        assert_eq!(stable_hash(&v), h.finish());
    }

    #[test]
    #[should_panic(expected = "failed to serialise for its stable hash: nope")]
    fn a_failing_serialize_impl_panics_with_its_message() {
        struct Failing;
        impl Serialize for Failing {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("nope"))
            }
        }
        stable_hash(&Failing);
    }
}
