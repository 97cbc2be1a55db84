//! Configuration shared by every node of a run, not copied into each.
//!
//! A node's state must be a value (`Clone + Eq + Hash`) so that a scheduler can copy a whole
//! world and fingerprint it (the state-space explorer). The configuration is not state: it is
//! the same for every node and every state of a run. [`Shared`] holds it behind one `Arc`, so
//! cloning a node copies a pointer, and it takes no part in equality or hashing: two nodes are
//! equal when their *states* are.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// One run's configuration, shared by its nodes (see the module docs).
pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(value))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Configuration is not state: every node of a run shares the same one.
impl<T> PartialEq for Shared<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<T> Eq for Shared<T> {}

/// Hashes nothing, consistently with equality.
impl<T> Hash for Shared<T> {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// Configuration is the same for every node: renaming nodes leaves it alone.
impl<T> sim_core::Rename for Shared<T> {
    fn rename(&mut self, _: &sim_core::Renaming) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_and_never_distinguish_states() {
        let a = Shared::new(vec![1, 2, 3]);
        let b = a.clone();
        assert!(Arc::ptr_eq(&a.0, &b.0), "a clone copies the pointer");
        assert_eq!(a, Shared::new(vec![9]), "configuration takes no part in equality");
        assert_eq!(a.len(), 3);
    }
}
