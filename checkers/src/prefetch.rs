//! Reading a large report ahead of the checker: hints that ask the CPU to bring memory
//! into cache before it is read.
//!
//! Why: checking is linear in the history, but not its cost per fact. A thousand
//! transactions' report is still in cache when the check reads it; a million transactions'
//! (28 million observations of 64 bytes, 10 million other facts of 72) is in main memory,
//! and a submission's participants sit apart on the heap, one miss each. The hardware
//! follows a stream only within a page and only so far ahead; [`History::from_report`]
//! asks for what it will read a few thousand bytes from now, so memory works while the
//! checker does.
//!
//! A prefetch is a hint: it reads nothing the program sees and cannot fault, so a history is
//! the same with it or without it (targets other than x86_64 go without).
//!
//! [`History::from_report`]: crate::History::from_report

use protocols::{Observation, RunReport};

/// How many observations ahead the report's observations are asked for (each is 64 bytes:
/// 12 KiB, a few transactions).
const OBSERVATIONS_AHEAD: usize = 192;
/// How many observations ahead a submission's participants are asked for: nearer than
/// [`OBSERVATIONS_AHEAD`], so the observation naming them is in cache by then.
const PARTICIPANTS_AHEAD: usize = 64;
/// How many of the report's other facts ahead they are asked for (72 bytes each).
const EVENTS_AHEAD: usize = 64;

/// Asks for what reading `report` will need soon, when `observed` observations and `others`
/// other facts have been read.
#[inline]
pub(crate) fn ahead(report: &RunReport, observed: usize, others: usize) {
    if let Some(o) = report.observations.get(observed + OBSERVATIONS_AHEAD) {
        fetch(o);
    }
    if let Some(o) = report.observations.get(observed + PARTICIPANTS_AHEAD)
        && let Observation::Submitted { participants, .. } = &o.obs
    {
        fetch(participants.as_ptr());
    }
    if let Some(e) = report.events.get(others + EVENTS_AHEAD) {
        fetch(e);
    }
}

#[inline]
fn fetch<T>(ptr: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of every x86_64 target; a prefetch never faults, whatever the
        // address, and writes nothing.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ptr.cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = ptr;
}
