//! A node's armed timers: a small map from timer to the token of its current arming.
//!
//! A node arms a handful of timers at most, and an explorer copies every node's timers at
//! every branch. A `BTreeMap` allocates a whole node for one entry and cannot copy into an
//! existing allocation; a vector sorted by timer is one small allocation, iterates in the
//! same (timer) order, and [`Clone::clone_from`] reuses its buffer, so an explorer that
//! copies worlds into recycled ones allocates nothing for timers.

/// Armed timers sorted by timer, each once, with its arming token.
#[derive(Debug)]
pub(crate) struct Armed<T> {
    entries: Vec<(T, u64)>,
}

impl<T> Default for Armed<T> {
    fn default() -> Self {
        Armed { entries: Vec::new() }
    }
}

impl<T: Clone> Clone for Armed<T> {
    fn clone(&self) -> Self {
        Armed { entries: self.entries.clone() }
    }
    fn clone_from(&mut self, source: &Self) {
        self.entries.clone_from(&source.entries);
    }
}

impl<T: Ord> Armed<T> {
    fn position(&self, timer: &T) -> Result<usize, usize> {
        self.entries.binary_search_by(|(t, _)| t.cmp(timer))
    }

    /// The token of `timer`'s current arming, if it is armed.
    pub(crate) fn get(&self, timer: &T) -> Option<u64> {
        self.position(timer).ok().map(|i| self.entries[i].1)
    }

    pub(crate) fn contains_key(&self, timer: &T) -> bool {
        self.position(timer).is_ok()
    }

    /// Arms `timer` (again) with `token`.
    pub(crate) fn insert(&mut self, timer: T, token: u64) {
        match self.position(&timer) {
            Ok(i) => self.entries[i].1 = token,
            Err(i) => self.entries.insert(i, (timer, token)),
        }
    }

    /// Disarms `timer`; its token if it was armed.
    pub(crate) fn remove(&mut self, timer: &T) -> Option<u64> {
        let i = self.position(timer).ok()?;
        Some(self.entries.remove(i).1)
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The armed timers, in timer order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries.iter().map(|(t, _)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::Armed;

    #[test]
    fn a_sorted_map_of_tokens() {
        let mut a = Armed::default();
        a.insert(3u8, 30);
        a.insert(1, 10);
        a.insert(2, 20);
        a.insert(1, 11); // re-armed: the newest token
        assert_eq!(a.keys().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!((a.get(&1), a.get(&4), a.len()), (Some(11), None, 3));
        assert_eq!((a.remove(&2), a.remove(&2)), (Some(20), None));
        assert!(a.contains_key(&3) && !a.contains_key(&2));
        let mut b = Armed::default();
        b.insert(9u8, 90);
        b.clone_from(&a);
        assert_eq!(b.keys().copied().collect::<Vec<_>>(), [1, 3]);
        a.clear();
        assert_eq!(a.len(), 0);
    }
}
