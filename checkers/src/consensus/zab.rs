//! ZAB's own properties (Junqueira, Reed & Serafini, DSN 2011, §III), as pure functions of
//! the history: what primaries broadcast (`PrimaryBroadcast`) and what each process
//! delivered, in order (`Delivered`). A transaction is `<v, z>`: its zxid `z` and its client
//! operation `v`.
//!
//! - `integrity`: if some process delivers `<v, z>`, some process broadcast `<v, z>` (before).
//! - `total-order`: if some process delivers `<v, z>` before `<v', z'>`, any process that
//!   delivers `<v', z'>` delivers `<v, z>` before it.
//! - `primary-order`, local: if a primary broadcasts `<v, z>` before `<v', z'>`, a process
//!   that delivers `<v', z'>` delivers `<v, z>` before it; global: if a primary broadcasts
//!   `<v, z>` and a later primary (higher epoch) broadcasts `<v', z'>`, a process that
//!   delivers both delivers `<v, z>` first.
//!
//! A crashed process's state machine is gone and it delivers again from the start, so
//! "a process" is one life of a replica: each life's deliveries are one sequence.

use std::collections::BTreeMap;

use super::violation;
pub use super::zab_facts::{Broadcast, Delivery, Life, ZabFacts, Zxid};
use crate::history::History;
use crate::verdict::{Property, Verdict, Violation};

/// A family that reports no ZAB facts is not judged.
fn not_zab(h: &History) -> Option<Verdict> {
    (!h.consensus().zab.active()).then(|| Verdict::NotApplicable {
        reason: "the protocol reports no primary broadcasts or deliveries (ZAB facts)".into(),
    })
}

fn show(z: Zxid) -> String {
    format!("<{},{}>", z.0, z.1)
}

pub fn integrity(h: &History) -> Verdict {
    if let Some(v) = not_zab(h) {
        return v;
    }
    let z = &h.consensus().zab;
    let mut v = Vec::new();
    for life in &z.lives {
        let bad = life
            .deliveries
            .iter()
            .find(|d| z.broadcast_of(d.zxid).is_none_or(|(_, b)| b.op != d.op || b.at > d.at));
        if let Some(d) = bad {
            let what = match z.broadcast_of(d.zxid) {
                None => "no primary broadcast it".to_string(),
                Some((_, b)) if b.op != d.op => format!("it was broadcast with op {}", b.op),
                Some((_, b)) => format!("it was broadcast later, at {}us", b.at.as_us()),
            };
            v.push(violation(
                Property::Integrity,
                vec![life.node],
                format!(
                    "{} delivered {} (op {}) at {}us, but {what}",
                    life.node,
                    show(d.zxid),
                    d.op,
                    d.at.as_us()
                ),
            ));
        }
    }
    Verdict::from_violations(v)
}

/// The first element of `seq` (zxids in delivery order) that `order` says must come after
/// some element `seq` lacks before it: `(position in seq, the missing predecessor)`. `order`
/// is a sequence whose every prefix must precede its next element wherever that element is
/// delivered. Linear in both lengths.
fn first_out_of_order(order: &[Zxid], seq: &[Zxid]) -> Option<(usize, Zxid)> {
    let pos: BTreeMap<Zxid, usize> = order.iter().enumerate().map(|(i, &z)| (z, i)).collect();
    let mut seen = vec![false; order.len()];
    // Every element of `order` before `covered` was delivered earlier in `seq`.
    let mut covered = 0;
    for (j, z) in seq.iter().enumerate() {
        let Some(&i) = pos.get(z) else { continue };
        if i > covered {
            return Some((j, order[covered]));
        }
        seen[i] = true;
        while covered < order.len() && seen[covered] {
            covered += 1;
        }
    }
    None
}

fn zxids(life: &Life) -> Vec<Zxid> {
    life.deliveries.iter().map(|d| d.zxid).collect()
}

pub fn total_order(h: &History) -> Verdict {
    if let Some(v) = not_zab(h) {
        return v;
    }
    let lives = &h.consensus().zab.lives;
    let seqs: Vec<Vec<Zxid>> = lives.iter().map(zxids).collect();
    let mut v = Vec::new();
    for (a, first) in seqs.iter().enumerate() {
        for (b, second) in seqs.iter().enumerate() {
            if a == b {
                continue;
            }
            if let Some((j, missing)) = first_out_of_order(first, second) {
                v.push(violation(
                    Property::TotalOrder,
                    vec![lives[a].node, lives[b].node],
                    format!(
                        "{} delivered {} before {}, but {} delivered {} without it before",
                        lives[a].node,
                        show(missing),
                        show(second[j]),
                        lives[b].node,
                        show(second[j])
                    ),
                ));
                return Verdict::from_violations(v); // one pair says it; the rest repeat it
            }
        }
    }
    Verdict::from_violations(v)
}

pub fn primary_order(h: &History) -> Verdict {
    if let Some(v) = not_zab(h) {
        return v;
    }
    let z = &h.consensus().zab;
    let mut v: Vec<Violation> = Vec::new();
    // Local: each primary's broadcast order, in every life.
    for (&(epoch, primary), bs) in &z.primaries {
        let order: Vec<Zxid> = bs.iter().map(|b| b.zxid).collect();
        for life in &z.lives {
            let seq = zxids(life);
            if let Some((j, missing)) = first_out_of_order(&order, &seq) {
                v.push(violation(
                    Property::PrimaryOrder,
                    vec![primary, life.node],
                    format!(
                        "local: {primary}, primary of epoch {epoch}, broadcast {} before {}, \
                         but {} delivered {} without it before",
                        show(missing),
                        show(seq[j]),
                        life.node,
                        show(seq[j])
                    ),
                ));
            }
        }
    }
    // Global: along each life, the primaries' epochs never go down.
    for life in &z.lives {
        let mut latest: Option<(u64, Zxid)> = None;
        for d in &life.deliveries {
            let Some((epoch, _)) = z.broadcast_of(d.zxid) else { continue };
            if let Some((e, earlier)) = latest
                && epoch < e
            {
                v.push(violation(
                    Property::PrimaryOrder,
                    vec![life.node],
                    format!(
                        "global: {} delivered {} (primary of epoch {epoch}) after {} (primary \
                         of epoch {e})",
                        life.node,
                        show(d.zxid),
                        show(earlier)
                    ),
                ));
                break;
            }
            if latest.is_none_or(|(e, _)| epoch >= e) {
                latest = Some((epoch, d.zxid));
            }
        }
    }
    Verdict::from_violations(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sequence_that_skips_a_predecessor_is_out_of_order() {
        let order = [(1, 1), (1, 2), (1, 3)];
        assert_eq!(first_out_of_order(&order, &[(1, 1), (1, 2)]), None);
        assert_eq!(first_out_of_order(&order, &[(2, 1), (1, 1)]), None, "foreign ones ignored");
        assert_eq!(first_out_of_order(&order, &[(1, 1), (1, 3)]), Some((1, (1, 2))));
        assert_eq!(first_out_of_order(&order, &[(1, 2), (1, 1)]), Some((0, (1, 1))));
    }
}
