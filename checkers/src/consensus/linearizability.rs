//! Linearizability of a key-value history (Herlihy & Wing), decided per key: keys are
//! independent registers, so a history is linearizable iff each key's is.
//!
//! The search is Wing & Gong's, with Lowe's memoisation (as Porcupine and Knossos do it): a
//! state is the set of operations linearized so far plus the register's value; an operation
//! may be linearized next if no other pending-to-linearize operation returned before it was
//! invoked; a completed operation must return what the register model ([`KvCall::apply`])
//! answers; an operation that never returned may take effect at any point after its
//! invocation, or never. Visited states are cached, so each is expanded once.
//!
//! A violation is reported with a minimal non-linearizable sub-history of its key: operations
//! are dropped one at a time while what remains still cannot be linearized, so every
//! operation left is needed for the contradiction.

use std::collections::HashSet;

use protocols::consensus::{KvCall, KvResult, OpId};
use sim_core::Time;

use super::facts::OpFacts;

/// States the search of one key may visit before it gives up (then: not judged).
pub const STATES_MAX: usize = 2_000_000;

/// Operations the minimisation works on at most (above: the whole key is reported).
const MINIMISE_OPS_MAX: usize = 48;

/// One operation of one key, as the search sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyOp {
    pub id: OpId,
    pub call: KvCall,
    pub invoked: Time,
    /// `None`: it never returned (it may or may not have taken effect).
    pub returned: Option<(Time, KvResult)>,
}

impl From<(OpId, &OpFacts)> for KeyOp {
    fn from((id, f): (OpId, &OpFacts)) -> KeyOp {
        KeyOp { id, call: f.call, invoked: f.invoked, returned: f.returned }
    }
}

/// What the search of one key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Linearizable,
    /// No order explains the answers; the minimal sub-history that shows it.
    Not {
        witness: Vec<KeyOp>,
    },
    /// The search exceeded [`STATES_MAX`].
    TooLarge,
}

/// Decides one key's history (the register starts empty).
pub fn check_key(ops: &[KeyOp]) -> Outcome {
    match linearizable(ops) {
        Some(true) => Outcome::Linearizable,
        None => Outcome::TooLarge,
        Some(false) => Outcome::Not { witness: minimise(ops) },
    }
}

/// `Some(linearizable?)`, or `None` past the state bound.
fn linearizable(ops: &[KeyOp]) -> Option<bool> {
    let n = ops.len();
    let words = n.div_ceil(64).max(1);
    let must = {
        let mut m = vec![0u64; words];
        for (i, o) in ops.iter().enumerate() {
            if o.returned.is_some() {
                m[i / 64] |= 1 << (i % 64);
            }
        }
        m
    };
    let ret_time = |o: &KeyOp| o.returned.map_or(Time::from_us(u64::MAX), |r| r.0);
    // Membership only, never iterated: the search order (the stack) alone decides the
    // outcome, so the set's hashing cannot reach a verdict.
    let mut seen: HashSet<(Vec<u64>, Option<i64>)> = HashSet::new();
    let mut stack: Vec<(Vec<u64>, Option<i64>)> = vec![(vec![0u64; words], None)];
    while let Some((done, value)) = stack.pop() {
        if done.iter().zip(&must).all(|(d, m)| d & m == *m) {
            return Some(true);
        }
        if !seen.insert((done.clone(), value)) {
            continue;
        }
        if seen.len() > STATES_MAX {
            return None;
        }
        let is_done = |i: usize| done[i / 64] & (1 << (i % 64)) != 0;
        // The earliest return among operations not yet linearized: nothing invoked after it
        // may go next.
        let horizon = (0..n).filter(|&i| !is_done(i)).map(|i| ret_time(&ops[i])).min();
        let Some(horizon) = horizon else { continue };
        // Push in reverse so that the lowest index is tried first (a deterministic order).
        for i in (0..n).rev() {
            let o = &ops[i];
            if is_done(i) || o.invoked > horizon {
                continue;
            }
            let (next, answer) = o.call.apply(value);
            if let Some((_, got)) = o.returned
                && got != answer
            {
                continue;
            }
            let mut d = done.clone();
            d[i / 64] |= 1 << (i % 64);
            stack.push((d, next));
        }
    }
    Some(false)
}

/// Drops operations while the rest still cannot be linearized. A write whose value a kept
/// operation observed stays (values are unique), so the witness never shows a read of a value
/// nothing in it wrote: it shows the reads beside the writes they contradict.
fn minimise(ops: &[KeyOp]) -> Vec<KeyOp> {
    let mut keep = ops.to_vec();
    if keep.len() > MINIMISE_OPS_MAX {
        return keep;
    }
    let mut i = 0;
    while i < keep.len() {
        let observed = written(&keep[i]).is_some_and(|v| keep.iter().any(|o| observes(o, v)));
        let mut without = keep.clone();
        without.remove(i);
        if !observed && linearizable(&without) == Some(false) {
            keep = without;
        } else {
            i += 1;
        }
    }
    keep
}

/// The value `o` writes, if it writes one.
fn written(o: &KeyOp) -> Option<i64> {
    match o.call {
        KvCall::Put { value } => Some(value),
        KvCall::Cas { new, .. } => Some(new),
        KvCall::Get => None,
    }
}

/// Whether `o` saw `value`: read it, or expected it in a compare-and-set.
fn observes(o: &KeyOp, value: i64) -> bool {
    let read = matches!(o.returned, Some((_, KvResult::Read { value: Some(v) })) if v == value);
    read || matches!(o.call, KvCall::Cas { expect: Some(e), .. } if e == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: OpId, call: KvCall, inv: u64, ret: Option<(u64, KvResult)>) -> KeyOp {
        KeyOp {
            id,
            call,
            invoked: Time::from_us(inv),
            returned: ret.map(|(t, r)| (Time::from_us(t), r)),
        }
    }

    const W: KvResult = KvResult::Written;
    fn read(v: Option<i64>) -> KvResult {
        KvResult::Read { value: v }
    }

    #[test]
    fn sequential_history_follows_the_register() {
        let h = [
            op(1, KvCall::Put { value: 1 }, 0, Some((10, W))),
            op(2, KvCall::Get, 20, Some((30, read(Some(1))))),
        ];
        assert_eq!(check_key(&h), Outcome::Linearizable);
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_not_linearizable() {
        let h = [
            op(1, KvCall::Put { value: 1 }, 0, Some((10, W))),
            op(2, KvCall::Put { value: 2 }, 20, Some((30, W))),
            op(3, KvCall::Get, 40, Some((50, read(Some(1))))),
            op(4, KvCall::Get, 60, Some((70, read(Some(2))))),
        ];
        let Outcome::Not { witness } = check_key(&h) else { panic!("must be found") };
        // The stale read, the write it read and the write it missed; op 4 is not needed.
        assert_eq!(witness.iter().map(|o| o.id).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn concurrent_operations_may_take_either_order() {
        let h = [
            op(1, KvCall::Put { value: 1 }, 0, Some((50, W))),
            op(2, KvCall::Get, 10, Some((20, read(None)))),
            op(3, KvCall::Get, 30, Some((40, read(Some(1))))),
        ];
        assert_eq!(check_key(&h), Outcome::Linearizable);
    }

    #[test]
    fn a_pending_write_may_or_may_not_take_effect() {
        let pending = op(1, KvCall::Put { value: 7 }, 0, None);
        let seen = [pending, op(2, KvCall::Get, 10, Some((20, read(Some(7)))))];
        let unseen = [pending, op(2, KvCall::Get, 10, Some((20, read(None))))];
        assert_eq!(check_key(&seen), Outcome::Linearizable);
        assert_eq!(check_key(&unseen), Outcome::Linearizable);
        // But it cannot take effect twice, or be undone: 7, then nothing, is wrong.
        let undone = [
            pending,
            op(2, KvCall::Get, 10, Some((20, read(Some(7))))),
            op(3, KvCall::Get, 30, Some((40, read(None)))),
        ];
        assert!(matches!(check_key(&undone), Outcome::Not { .. }));
    }

    #[test]
    fn compare_and_set_answers_are_checked() {
        let h = [
            op(1, KvCall::Put { value: 1 }, 0, Some((10, W))),
            // A CAS expecting 1 must succeed once the put completed.
            op(
                2,
                KvCall::Cas { expect: Some(1), new: 2 },
                20,
                Some((30, KvResult::Swapped { ok: false })),
            ),
        ];
        assert!(matches!(check_key(&h), Outcome::Not { .. }));
    }
}
