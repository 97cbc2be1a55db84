//! Renaming nodes: the hook symmetry reduction stands on.
//!
//! When some nodes are interchangeable (a commit protocol's participants, all configured
//! alike), a world and the same world with those nodes' ids permuted have the same futures
//! up to that permutation, and the same verdicts for any property that does not name a node.
//! An explorer may then key a state by its orbit: the smallest fingerprint over every
//! permutation of the interchangeable nodes ([`World::symmetric_fingerprint`]). That is an
//! exact orbit representative (two worlds get the same key iff one is a renaming of the
//! other), unlike a canonical sort by some per-node summary, which is exact only when no
//! node's state mentions another node; here they do (participant lists, senders, vote sets).
//!
//! A renaming is applied to *values*, never to a live world: node states, messages, timers
//! and disk records implement [`Rename`] (node ids mapped, containers keyed by node ids
//! rebuilt in the new order), and the world hashes the renamed copies in the renamed slot
//! order. This crate knows nothing of what the ids mean; a protocol says which of its types
//! hold them, field by field ([`rename_struct!`](crate::rename_struct),
//! [`rename_enum!`](crate::rename_enum): every field or variant must be listed, so a new one
//! that holds an id cannot be forgotten silently) and which hold none
//! ([`rename_nothing!`](crate::rename_nothing)).
//!
//! [`World::symmetric_fingerprint`]: crate::World::symmetric_fingerprint

use std::collections::{BTreeMap, BTreeSet};

use crate::id::NodeId;

/// The most interchangeable nodes a world may declare: their permutations are enumerated
/// (6! = 720 a state).
pub const MAX_INTERCHANGEABLE: usize = 6;

/// A permutation of node ids: node `i` is renamed `to[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renaming {
    to: Vec<NodeId>,
    /// The inverse: the node renamed `i` was `from[i]`.
    from: Vec<NodeId>,
}

impl Renaming {
    /// The renaming that changes nothing, over `nodes` nodes.
    pub fn identity(nodes: u32) -> Renaming {
        let ids: Vec<NodeId> = (0..nodes).map(NodeId).collect();
        Renaming { to: ids.clone(), from: ids }
    }

    /// Node `i` renamed `to[i]`; `to` must be a permutation of `0..to.len()`.
    pub fn new(to: Vec<NodeId>) -> Renaming {
        let mut from = vec![NodeId(u32::MAX); to.len()];
        for (i, t) in to.iter().enumerate() {
            assert!(t.index() < to.len(), "renaming {i} to {t}: out of range");
            assert_eq!(from[t.index()], NodeId(u32::MAX), "{t} is the image of two nodes");
            from[t.index()] = NodeId(i as u32);
        }
        Renaming { to, from }
    }

    /// Every permutation of `movable` among themselves (the identity first), all other of
    /// the `nodes` nodes fixed. At most [`MAX_INTERCHANGEABLE`] movable nodes.
    pub fn permutations(nodes: u32, movable: &[NodeId]) -> Vec<Renaming> {
        assert!(
            movable.len() <= MAX_INTERCHANGEABLE,
            "{} interchangeable nodes: at most {MAX_INTERCHANGEABLE}",
            movable.len()
        );
        assert!(movable.iter().all(|m| m.0 < nodes), "an interchangeable node out of range");
        let mut images: Vec<NodeId> = movable.to_vec();
        let mut out = Vec::new();
        // Heap's algorithm, iterative: every arrangement of `images` exactly once.
        let k = images.len();
        let mut c = vec![0usize; k];
        let push = |images: &[NodeId], out: &mut Vec<Renaming>| {
            let mut to: Vec<NodeId> = (0..nodes).map(NodeId).collect();
            for (m, image) in movable.iter().zip(images) {
                to[m.index()] = *image;
            }
            out.push(Renaming::new(to));
        };
        push(&images, &mut out);
        let mut i = 0;
        while i < k {
            if c[i] < i {
                if i % 2 == 0 {
                    images.swap(0, i)
                } else {
                    images.swap(c[i], i)
                }
                push(&images, &mut out);
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
        out
    }

    /// What node `id` is renamed.
    #[inline]
    pub fn of(&self, id: NodeId) -> NodeId {
        self.to[id.index()]
    }

    /// Which node is renamed `id`.
    #[inline]
    pub fn inverse(&self, id: NodeId) -> NodeId {
        self.from[id.index()]
    }

    pub fn nodes(&self) -> u32 {
        self.to.len() as u32
    }

    pub fn is_identity(&self) -> bool {
        self.to.iter().enumerate().all(|(i, t)| t.index() == i)
    }
}

/// A value that may mention nodes: renaming it maps every node id it holds (and rebuilds
/// what is ordered or keyed by them).
pub trait Rename {
    fn rename(&mut self, r: &Renaming);

    /// A renamed copy.
    fn renamed(&self, r: &Renaming) -> Self
    where
        Self: Clone,
    {
        let mut copy = self.clone();
        copy.rename(r);
        copy
    }
}

impl Rename for NodeId {
    #[inline]
    fn rename(&mut self, r: &Renaming) {
        *self = r.of(*self);
    }
}

impl<T: Rename> Rename for Vec<T> {
    fn rename(&mut self, r: &Renaming) {
        self.iter_mut().for_each(|x| x.rename(r));
    }
}

impl<T: Rename> Rename for Option<T> {
    fn rename(&mut self, r: &Renaming) {
        if let Some(x) = self {
            x.rename(r);
        }
    }
}

impl<T: Rename + ?Sized> Rename for Box<T> {
    fn rename(&mut self, r: &Renaming) {
        (**self).rename(r);
    }
}

/// Rebuilt: renaming changes the order of the elements.
impl<T: Rename + Ord> Rename for BTreeSet<T> {
    fn rename(&mut self, r: &Renaming) {
        *self = std::mem::take(self)
            .into_iter()
            .map(|mut x| {
                x.rename(r);
                x
            })
            .collect();
    }
}

/// Rebuilt: renaming changes the order of the keys.
impl<K: Rename + Ord, V: Rename> Rename for BTreeMap<K, V> {
    fn rename(&mut self, r: &Renaming) {
        *self = std::mem::take(self)
            .into_iter()
            .map(|(mut k, mut v)| {
                k.rename(r);
                v.rename(r);
                (k, v)
            })
            .collect();
    }
}

macro_rules! rename_tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Rename),+> Rename for ($($t,)+) {
            fn rename(&mut self, r: &Renaming) {
                $(self.$i.rename(r);)+
            }
        }
    };
}
rename_tuple!(A 0, B 1);
rename_tuple!(A 0, B 1, C 2);
rename_tuple!(A 0, B 1, C 2, D 3);

/// Types that hold no node id: renaming leaves them as they are.
#[macro_export]
macro_rules! rename_nothing {
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::rename::Rename for $t {
            #[inline]
            fn rename(&mut self, _: &$crate::rename::Renaming) {}
        })+
    };
}

rename_nothing!(bool, u8, u16, u32, u64, usize, i32, i64, String, &'static str, ());
rename_nothing!(crate::rng::Chance, crate::time::Time, crate::time::Duration);

/// Renames one field; `sorted`: a list kept in ascending order (a set of participants, a
/// transaction's writes by participant), sorted again after renaming, as the renamed run
/// itself would have built it.
#[doc(hidden)]
#[macro_export]
macro_rules! __rename_field {
    ($f:ident, $r:ident) => {
        $crate::rename::Rename::rename($f, $r)
    };
    ($f:ident, $r:ident, sorted) => {{
        $crate::rename::Rename::rename($f, $r);
        $f.sort_unstable();
    }};
}

/// [`Rename`] for a struct, field by field: `Type { a, b: sorted, c }` (see
/// `__rename_field` for `sorted`). Every field must be listed (the struct is destructured),
/// so one added later that holds a node id cannot be forgotten.
#[macro_export]
macro_rules! rename_struct {
    ($t:ident { $($f:ident $(: $how:ident)?),* $(,)? }) => {
        impl $crate::rename::Rename for $t {
            fn rename(&mut self, r: &$crate::rename::Renaming) {
                let $t { $($f),* } = self;
                $($crate::__rename_field!($f, r $(, $how)?);)*
            }
        }
    };
}

/// [`Rename`] for an enum, variant by variant: `Unit`, `Tuple(a, b)` or
/// `Struct { a, b: sorted }` (every field named, in order for a tuple variant). Every
/// variant must be listed: the match is exhaustive.
#[macro_export]
macro_rules! rename_enum {
    ($t:ident {
        $($v:ident $(( $($p:ident),* ))? $({ $($f:ident $(: $how:ident)?),* })?),* $(,)?
    }) => {
        impl $crate::rename::Rename for $t {
            #[allow(unused_variables)]
            fn rename(&mut self, r: &$crate::rename::Renaming) {
                match self {
                    $($t::$v $(( $($p),* ))? $({ $($f),* })? => {
                        $($($crate::rename::Rename::rename($p, r);)*)?
                        $($($crate::__rename_field!($f, r $(, $how)?);)*)?
                    })*
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_all_distinct_and_fix_the_other_nodes() {
        let movable = [NodeId(1), NodeId(2), NodeId(3), NodeId(4)];
        let all = Renaming::permutations(6, &movable);
        assert_eq!(all.len(), 24);
        assert!(all[0].is_identity());
        for (i, a) in all.iter().enumerate() {
            assert_eq!((a.of(NodeId(0)), a.of(NodeId(5))), (NodeId(0), NodeId(5)));
            for id in (0..6).map(NodeId) {
                assert_eq!(a.inverse(a.of(id)), id);
            }
            assert!(all[..i].iter().all(|b| b != a), "permutation {i} twice");
        }
    }

    #[derive(Clone, Debug, PartialEq)]
    enum Held {
        Nothing,
        One(NodeId, u32),
        Many { set: BTreeSet<NodeId>, map: BTreeMap<NodeId, Vec<NodeId>>, list: Vec<NodeId> },
    }
    rename_enum!(Held { Nothing, One(a, b), Many { set, map, list: sorted } });

    #[test]
    fn containers_are_rebuilt_in_the_new_order() {
        let swap = Renaming::new(vec![NodeId(0), NodeId(2), NodeId(1)]);
        let mut h = Held::Many {
            set: [NodeId(1)].into(),
            map: [(NodeId(1), vec![NodeId(2), NodeId(0)])].into(),
            list: vec![NodeId(0), NodeId(1), NodeId(2)],
        };
        h.rename(&swap);
        let want = Held::Many {
            set: [NodeId(2)].into(),
            map: [(NodeId(2), vec![NodeId(1), NodeId(0)])].into(),
            list: vec![NodeId(0), NodeId(1), NodeId(2)],
        };
        assert_eq!(h, want);
        assert_eq!(Held::One(NodeId(1), 7).renamed(&swap), Held::One(NodeId(2), 7));
        assert_eq!(Held::Nothing.renamed(&swap), Held::Nothing);
    }
}
