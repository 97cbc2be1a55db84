//! What the client asks for: the shape of each transaction and each participant's initial
//! data. Two workloads:
//!
//! - `spread`: every transaction adds 1 to one random key at *every* participant, so a
//!   transaction has N participants (message-count studies).
//! - `bank`: accounts spread over the participants; each transaction moves an amount between
//!   two accounts on two different participants. Participants refuse overdrafts (vote no),
//!   so the total is conserved exactly when the protocol is atomic: the end-to-end oracle.

use std::collections::BTreeMap;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::rng::Chance;
use sim_core::{NodeId, SimRng};

use crate::txn::{Key, Layout, Txn, TxnId, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Workload {
    Spread { keys_per_participant: u32 },
    Bank { accounts_per_participant: u32, initial_balance: i64, max_amount: i64 },
}

impl Default for Workload {
    fn default() -> Self {
        Workload::Spread { keys_per_participant: 8 }
    }
}

impl Workload {
    pub fn bank() -> Workload {
        Workload::Bank { accounts_per_participant: 4, initial_balance: 1_000, max_amount: 100 }
    }

    pub fn validate(&self, participants: u32) -> Result<(), String> {
        match *self {
            Workload::Spread { keys_per_participant: 0 } => {
                Err("workload.keys_per_participant must be at least 1".into())
            }
            Workload::Bank { accounts_per_participant, initial_balance, max_amount } => {
                if participants < 2 {
                    return Err("workload bank needs at least 2 participants".into());
                }
                if accounts_per_participant == 0 {
                    return Err("workload.accounts_per_participant must be at least 1".into());
                }
                if initial_balance < 0 || max_amount < 1 {
                    return Err("workload.initial_balance must be >= 0, max_amount >= 1".into());
                }
                Ok(())
            }
            Workload::Spread { .. } => Ok(()),
        }
    }

    /// Whether a store may hold negative values (the bank may not).
    pub fn allows_negative(&self) -> bool {
        matches!(self, Workload::Spread { .. })
    }

    /// The data participant `node` starts with.
    pub fn initial_values(&self, _node: NodeId) -> BTreeMap<Key, i64> {
        match *self {
            Workload::Spread { keys_per_participant } => {
                (0..keys_per_participant).map(|k| (k, 0)).collect()
            }
            Workload::Bank { accounts_per_participant, initial_balance, .. } => {
                (0..accounts_per_participant).map(|k| (k, initial_balance)).collect()
            }
        }
    }

    /// Draws transaction `id` from the client's stream.
    pub fn generate(&self, layout: Layout, id: TxnId, rng: &mut SimRng) -> Txn {
        self.choose(layout, id, &mut |_, _, draw| draw(rng))
    }

    /// Transaction `id`, made of explicit choices: `pick(label, options, draw)` returns an
    /// index in `0..options` — the runner by calling `draw` on the client's stream (the very
    /// draws [`generate`](Self::generate) makes, in the same order), an explorer by trying
    /// each (see `sim_core::Context::choose_index`).
    pub fn choose(&self, layout: Layout, id: TxnId, pick: &mut Pick<'_>) -> Txn {
        let writes = match *self {
            Workload::Spread { keys_per_participant: k } => layout
                .participant_ids()
                .map(|node| {
                    let key = pick("key", k as usize, &mut |rng| rng.random_range(0..k) as usize);
                    Write { node, key: key as Key, delta: 1 }
                })
                .collect(),
            Workload::Bank { accounts_per_participant: a, max_amount, .. } => {
                let n = layout.participants;
                let from =
                    1 + pick("from", n as usize, &mut |rng| rng.random_range(1..=n) as usize - 1)
                        as u32;
                let hop =
                    1 + pick("to", n as usize - 1, &mut |rng| rng.random_range(1..n) as usize - 1)
                        as u32;
                let to = 1 + (from - 1 + hop) % n;
                debug_assert_ne!(from, to);
                let amount = 1 + pick("amount", max_amount as usize, &mut |rng| {
                    rng.random_range(1..=max_amount) as usize - 1
                }) as i64;
                let from_key = pick("key", a as usize, &mut |rng| rng.random_range(0..a) as usize);
                let to_key = pick("key", a as usize, &mut |rng| rng.random_range(0..a) as usize);
                vec![
                    Write { node: NodeId(from), key: from_key as Key, delta: -amount },
                    Write { node: NodeId(to), key: to_key as Key, delta: amount },
                ]
            }
        };
        Txn { id, writes }
    }
}

/// How a workload's choices are made: `(label, options, draw) -> index in 0..options`.
pub type Pick<'a> =
    dyn FnMut(&'static str, usize, &mut dyn FnMut(&mut SimRng) -> usize) -> usize + 'a;

/// When a participant votes no of its own accord (beyond lock conflicts and overdrafts).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VotePolicy {
    /// Probability of a no vote at every participant, drawn from its own stream.
    #[serde(default)]
    pub no_vote_prob: f64,
    /// Per-participant probabilities overriding `no_vote_prob`.
    #[serde(default)]
    pub per_node: Vec<(NodeId, f64)>,
}

impl VotePolicy {
    /// Participant `node` always votes no (when it can vote at all).
    pub fn always_no(node: NodeId) -> VotePolicy {
        VotePolicy { no_vote_prob: 0.0, per_node: vec![(node, 1.0)] }
    }

    pub fn chance(&self, node: NodeId) -> Chance {
        let p = self.per_node.iter().find(|(n, _)| *n == node).map_or(self.no_vote_prob, |x| x.1);
        Chance::new(p)
    }

    pub fn validate(&self) -> Result<(), String> {
        let probs = std::iter::once(self.no_vote_prob).chain(self.per_node.iter().map(|x| x.1));
        match probs.into_iter().find(|p| !(0.0..=1.0).contains(p)) {
            Some(p) => Err(format!("votes.no_vote_prob = {p} is not within [0, 1]")),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::rng::{StreamDomain, stream};

    #[test]
    fn bank_transfers_cross_participants_and_sum_to_zero() {
        let layout = Layout::new(3);
        let mut rng = stream(7, StreamDomain::User, 0, 0);
        for i in 1..200 {
            let t = Workload::bank().generate(layout, TxnId(i), &mut rng);
            assert_eq!(t.participants().len(), 2);
            assert_eq!(t.writes.iter().map(|w| w.delta).sum::<i64>(), 0);
            assert!(t.participants().iter().all(|p| (1..=3).contains(&p.0)));
        }
    }
}
