//! A short list kept inside its owner: the history's per-transaction lists (votes,
//! decisions, durable records) hold a few entries each — one per participant, give or take
//! the coordinator — so the first `N` live in the transaction's own slot of the index and
//! only a longer list moves to the heap. The index stays one flat vector: pushing a fact
//! allocates nothing in the common case, and a walk over the transactions reads memory in
//! order instead of chasing a pointer per list.

use std::ops::Deref;

/// Up to `N` entries inline, more on the heap; reads as a slice.
#[derive(Clone, Debug)]
pub enum Few<T: Copy, const N: usize> {
    Inline { len: u8, items: [T; N] },
    Heap(Vec<T>),
}

impl<T: Copy, const N: usize> Default for Few<T, N> {
    fn default() -> Self {
        Few::Heap(Vec::new()) // empty: no allocation
    }
}

impl<T: Copy, const N: usize> Few<T, N> {
    pub fn push(&mut self, v: T) {
        let len = self.len();
        self.insert(len, v);
    }

    /// Inserts `v` at `at`, shifting the rest right.
    pub fn insert(&mut self, at: usize, v: T) {
        match self {
            Few::Heap(h) if h.is_empty() && N > 0 => {
                assert!(at == 0, "insertion index {at} past the end of an empty list");
                *self = Few::Inline { len: 1, items: [v; N] };
            }
            Few::Heap(h) => h.insert(at, v),
            Few::Inline { len, items } if (*len as usize) < N => {
                let n = *len as usize;
                assert!(at <= n, "insertion index {at} past the end ({n})");
                items.copy_within(at..n, at + 1);
                items[at] = v;
                *len += 1;
            }
            Few::Inline { items, .. } => {
                let mut h = Vec::with_capacity(2 * N);
                h.extend_from_slice(items);
                h.insert(at, v);
                *self = Few::Heap(h);
            }
        }
    }

    /// The list holding `items`.
    pub fn from_slice(items: &[T]) -> Self {
        match items.first() {
            Some(&first) if items.len() <= N && N <= u8::MAX as usize => {
                let mut a = [first; N];
                a[..items.len()].copy_from_slice(items);
                Few::Inline { len: items.len() as u8, items: a }
            }
            _ => Few::Heap(items.to_vec()),
        }
    }
}

impl<T: Copy, const N: usize> Deref for Few<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Few::Inline { len, items } => &items[..*len as usize],
            Few::Heap(h) => h,
        }
    }
}

impl<'a, T: Copy, const N: usize> IntoIterator for &'a Few<T, N> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for Few<T, N> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::Few;

    #[test]
    fn reads_as_the_slice_it_was_built_into() {
        let mut f: Few<u32, 3> = Few::default();
        let mut v: Vec<u32> = Vec::new();
        for (i, at) in [(1, 0), (2, 1), (3, 0), (4, 2), (5, 4), (6, 1)] {
            f.insert(at, i);
            v.insert(at, i);
            assert_eq!(&*f, &v[..]);
        }
        assert!(matches!(f, Few::Heap(_)), "spilled past 3");
        let g: Few<u32, 3> = Few::from_slice(&[7, 8]);
        assert!(matches!(g, Few::Inline { len: 2, .. }));
        assert_eq!(&*g, &[7, 8]);
        let mut h = g.clone();
        h.push(9);
        h.push(10);
        assert_eq!(&*h, &[7, 8, 9, 10]);
        assert!(Few::<u32, 3>::default().is_empty());
    }
}
