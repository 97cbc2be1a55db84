//! Zeroed byte arrays for the visited set's segments, mapped from the OS when a page or more.
//!
//! A segment grows by allocating an array twice as large, moving its keys and freeing the
//! old array. Arrays from malloc leave the freed ones as holes in the heap (and in each
//! thread's arena) that the next, larger arrays do not fit, so they stay resident: at
//! N = 8 of `tla-two-phase` the heap was 16.8 MB on one thread and 17.7 MB on two for
//! 14.7 MB of slots. A mapped array is returned to the OS whole when it is freed (so the
//! peak is the final arrays and one growing segment), comes zeroed, and is in no arena.
//! Arrays under a page, and every array where there is no `mmap`, come from the heap.

use std::ops::{Deref, DerefMut};

/// Arrays this long or longer are mapped (where `mmap` exists).
#[cfg(unix)]
const MAP_AT_LEAST: usize = 4096;

/// A zeroed byte array, owned like a `Box<[u8]>`.
pub(super) struct Zeroed(Storage);

enum Storage {
    Heap(Box<[u8]>),
    /// `len` bytes of an anonymous private mapping at `ptr`, read and written by this
    /// array only.
    #[cfg(unix)]
    Mapped {
        ptr: std::ptr::NonNull<u8>,
        len: usize,
    },
}

// SAFETY: a mapping is owned by its one `Zeroed` as a `Box<[u8]>` owns its bytes: no other
// pointer to it exists, so moving it to or sharing it with another thread is as safe.
unsafe impl Send for Zeroed {}
// SAFETY: as above; `&Zeroed` only reads.
unsafe impl Sync for Zeroed {}

impl Zeroed {
    /// `len` zero bytes.
    pub(super) fn new(len: usize) -> Zeroed {
        #[cfg(unix)]
        if len >= MAP_AT_LEAST
            && let Some(mapped) = map(len)
        {
            return mapped;
        }
        Zeroed(Storage::Heap(vec![0; len].into_boxed_slice()))
    }
}

/// A fresh mapping of `len` zero bytes, or `None` if the OS refuses one (then the heap).
#[cfg(unix)]
fn map(len: usize) -> Option<Zeroed> {
    // SAFETY: an anonymous private mapping at an address the kernel chooses aliases no
    // memory of the process; the result is checked before use.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return None;
    }
    // Small pages only: neighbouring arrays merge into one mapping, where a transparent huge
    // page would make a 4 KiB fault zero 2 MiB and a later unmap split it. Advice only, and
    // Linux's only (other unix systems have no transparent huge pages to advise against).
    // SAFETY: advice on the mapping just made, which nothing else refers to.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    unsafe {
        libc::madvise(ptr, len, libc::MADV_NOHUGEPAGE)
    };
    let ptr = std::ptr::NonNull::new(ptr.cast::<u8>())?;
    Some(Zeroed(Storage::Mapped { ptr, len }))
}

impl Default for Zeroed {
    fn default() -> Self {
        Zeroed(Storage::Heap(Box::default()))
    }
}

impl Deref for Zeroed {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match &self.0 {
            Storage::Heap(bytes) => bytes,
            // SAFETY: `len` readable bytes at `ptr`, mapped until `drop`, zeroed by the
            // kernel and written only through `&mut self`.
            #[cfg(unix)]
            Storage::Mapped { ptr, len } => unsafe {
                std::slice::from_raw_parts(ptr.as_ptr(), *len)
            },
        }
    }
}

impl DerefMut for Zeroed {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        match &mut self.0 {
            Storage::Heap(bytes) => bytes,
            // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
            #[cfg(unix)]
            Storage::Mapped { ptr, len } => unsafe {
                std::slice::from_raw_parts_mut(ptr.as_ptr(), *len)
            },
        }
    }
}

impl Drop for Zeroed {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Storage::Mapped { ptr, len } = self.0 {
            // SAFETY: the mapping `map` made, unmapped once; no reference to it outlives
            // `self`.
            let unmapped = unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
            assert_eq!(unmapped, 0, "munmap of a visited set's segment failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Arrays under a page and over are zeroed, writable to their last byte, and freed
    /// (hundreds of mappings made and returned); those of a page or more are mappings.
    #[test]
    fn arrays_are_zeroed_and_writable() {
        for round in 0..50usize {
            for len in [0, 1, 4095, 4096, 7 << 12, (7 << 12) + 1, 1 << 20] {
                let mut bytes = Zeroed::new(len);
                assert_eq!(bytes.len(), len);
                #[cfg(unix)]
                let mapped = matches!(bytes.0, Storage::Mapped { .. });
                #[cfg(unix)]
                assert_eq!(mapped, len >= MAP_AT_LEAST, "{len} bytes mapped from the OS");
                assert!(bytes.iter().all(|&b| b == 0), "{len} bytes zeroed");
                for (i, b) in bytes.iter_mut().enumerate() {
                    *b = (i + round) as u8;
                }
                assert!(bytes.iter().enumerate().all(|(i, &b)| b == (i + round) as u8));
            }
        }
    }
}
