//! How DFS on several threads knows that every state's depth is the same in any order.
//!
//! The one-thread search reports the depth each state was first reached at in its order;
//! workers reach states in another order, so their depths are the one thread's only when
//! every path to a state has the same length. Each transition the workers take is checked
//! for it, in one of two ways:
//!
//! - [`StoredDepths`]: the shared visited set keeps each state's depth with its key (8-byte
//!   slots), and a transition from depth d must reach a state at depth d + 1. Any model;
//!   depths up to a byte.
//! - [`Potential`]: the model declares a potential (a function of the state key that
//!   every step raises by one, [`Model::potential`](super::Model::potential)); a
//!   transition from depth d must reach a state whose potential is the initial one plus
//!   d + 1. Then every path to a state has the potential's length, and the visited set
//!   keeps keys alone (7-byte slots, as the one-thread set's): an eighth less memory.
//!
//! Either way the first transition that fails the check makes the result order-dependent,
//! and the parallel search leaves it to the one-thread search (`parallel_dfs`).

use crate::process::Protocol;
use crate::world::World;

use super::PotentialFn;
use super::visited::SharedVisited;

/// The deepest a state may be for its depth to fit the stored payload byte.
const MAX_STORED_DEPTH: u32 = u8::MAX as u32;

/// What marking a state visited found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Visit {
    /// First reached now, at the depth it was offered at.
    New,
    /// Reached before, at the same depth.
    Seen,
    /// The depth is not one every order agrees on (or does not fit): the one thread decides.
    OrderDependent,
}

/// A shared visited set that checks every state's depth.
pub(super) trait Depths<P: Protocol, N>: Sync {
    /// Marks the state `key` (its world `world`, reached at `depth`) visited.
    fn visit(&self, key: u64, world: &World<P, N>, depth: u32) -> Visit;

    /// States visited.
    fn len(&self) -> usize;
}

/// Depths kept with the keys (8-byte slots).
#[derive(Default)]
pub(super) struct StoredDepths(SharedVisited<8>);

impl<P: Protocol, N> Depths<P, N> for StoredDepths {
    #[inline]
    fn visit(&self, key: u64, _: &World<P, N>, depth: u32) -> Visit {
        if depth > MAX_STORED_DEPTH {
            return Visit::OrderDependent;
        }
        match self.0.insert(key, depth as u8) {
            None => Visit::New,
            Some(seen) if u32::from(seen) == depth => Visit::Seen,
            Some(_) => Visit::OrderDependent,
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Depths given by the model's potential (7-byte slots: keys alone).
pub(super) struct Potential<P: Protocol, N> {
    visited: SharedVisited<7>,
    potential: PotentialFn<P, N>,
    /// The initial state's potential: depth 0.
    base: u64,
}

impl<P: Protocol, N> Potential<P, N> {
    /// Depths as `potential` says, from the initial state `root`.
    pub(super) fn new(potential: PotentialFn<P, N>, root: &World<P, N>) -> Self {
        Potential { visited: SharedVisited::default(), potential, base: potential(root) }
    }
}

impl<P: Protocol, N> Depths<P, N> for Potential<P, N> {
    #[inline]
    fn visit(&self, key: u64, world: &World<P, N>, depth: u32) -> Visit {
        if (self.potential)(world).checked_sub(self.base) != Some(u64::from(depth)) {
            return Visit::OrderDependent;
        }
        match self.visited.insert(key, 0) {
            None => Visit::New,
            Some(_) => Visit::Seen,
        }
    }

    fn len(&self) -> usize {
        self.visited.len()
    }
}
