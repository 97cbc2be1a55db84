//! What the client asks for: the shape of each transaction and each participant's initial
//! data. Two workloads:
//!
//! - `spread`: every transaction adds 1 to one random key at *every* participant, so a
//!   transaction has N participants (message-count studies).
//! - `bank`: accounts spread over the participants; each transaction moves an amount between
//!   two accounts on two different participants. Participants refuse overdrafts (vote no),
//!   so the total is conserved exactly when the protocol is atomic: the end-to-end oracle.
//!   Its `steps` parameter makes each transaction an *order saga* of that many writes on as
//!   many participants instead (see [`step_names`]): a saga needs three steps or more before
//!   a refusal has two steps to compensate, in reverse order, which is where compensation
//!   bugs live. Money still sums to zero over an order, so conservation stays the oracle.

use std::collections::BTreeMap;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::rng::Chance;
use sim_core::{NodeId, SimRng};

use crate::txn::{Key, Layout, Txn, TxnId, Write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Workload {
    Spread {
        keys_per_participant: u32,
    },
    Bank {
        accounts_per_participant: u32,
        initial_balance: i64,
        max_amount: i64,
        /// Writes per transaction, each on its own participant: 2 is a transfer (debit,
        /// credit), any other count an order saga ([`step_names`]).
        #[serde(default = "transfer_steps")]
        steps: u32,
    },
}

/// A bank transfer's two steps: the default of scenario files that do not say.
fn transfer_steps() -> u32 {
    Workload::TRANSFER_STEPS
}

/// The names of a bank transaction's steps, in order: `debit, credit` for a transfer (2);
/// otherwise an order saga: `create-order` (the order's amount booked to the merchant),
/// `reserve-stock` (one per warehouse; moves no money), `charge-customer` (the amount taken
/// from the customer's account, refused on an overdraft), e.g. the usual three.
pub fn step_names(steps: u32) -> Vec<String> {
    match steps {
        Workload::TRANSFER_STEPS => vec!["debit".into(), "credit".into()],
        1 => vec!["create-order".into()],
        n => {
            let reserves = n - 2;
            let reserve = |i: u32| match reserves {
                1 => "reserve-stock".to_string(),
                _ => format!("reserve-stock-{i}"),
            };
            let middle = (1..=reserves).map(reserve);
            std::iter::once("create-order".into())
                .chain(middle)
                .chain(std::iter::once("charge-customer".into()))
                .collect()
        }
    }
}

impl Default for Workload {
    fn default() -> Self {
        Workload::Spread { keys_per_participant: 8 }
    }
}

impl Workload {
    /// A bank transfer's steps (debit, credit).
    pub const TRANSFER_STEPS: u32 = 2;
    /// The usual order saga: create order, reserve stock, charge customer.
    pub const ORDER_STEPS: u32 = 3;
    /// At most this many steps per transaction (each on its own participant).
    pub const MAX_STEPS: u32 = 16;

    /// Bank transfers between two participants.
    pub fn bank() -> Workload {
        Workload::Bank {
            accounts_per_participant: 4,
            initial_balance: 1_000,
            max_amount: 100,
            steps: Self::TRANSFER_STEPS,
        }
    }

    /// Order sagas of `steps` steps over the bank's accounts ([`step_names`]).
    pub fn order(steps: u32) -> Workload {
        match Workload::bank() {
            Workload::Bank { accounts_per_participant, initial_balance, max_amount, .. } => {
                Workload::Bank { accounts_per_participant, initial_balance, max_amount, steps }
            }
            spread => spread,
        }
    }

    pub fn validate(&self, participants: u32) -> Result<(), String> {
        match *self {
            Workload::Spread { keys_per_participant: 0 } => {
                Err("workload.keys_per_participant must be at least 1".into())
            }
            Workload::Bank { accounts_per_participant, initial_balance, max_amount, steps } => {
                if participants < 2 {
                    return Err("workload bank needs at least 2 participants".into());
                }
                if !(1..=Self::MAX_STEPS).contains(&steps) {
                    let max = Self::MAX_STEPS;
                    return Err(format!("workload.steps = {steps} is not within 1..={max}"));
                }
                if steps > participants {
                    return Err(format!(
                        "workload.steps = {steps}: each step needs its own participant, and \
                         there are {participants}"
                    ));
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
            Workload::Bank { accounts_per_participant: a, max_amount, steps, .. }
                if steps != Self::TRANSFER_STEPS =>
            {
                order(layout, a, max_amount, steps, pick)
            }
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

/// An order saga of `steps` writes on consecutive participants from a drawn first one:
/// `+amount` on the first (create order), nothing on the middle ones (reserve stock), and
/// `-amount` on the last (charge customer); one step alone books nothing.
fn order(
    layout: Layout,
    accounts: u32,
    max_amount: i64,
    steps: u32,
    pick: &mut Pick<'_>,
) -> Vec<Write> {
    let n = layout.participants;
    let first = pick("from", n as usize, &mut |rng| rng.random_range(0..n) as usize) as u32;
    let amount = 1 + pick("amount", max_amount as usize, &mut |rng| {
        rng.random_range(1..=max_amount) as usize - 1
    }) as i64;
    (0..steps)
        .map(|i| {
            let key =
                pick("key", accounts as usize, &mut |rng| rng.random_range(0..accounts) as usize);
            let delta = match i {
                0 if steps > 1 => amount,
                i if i + 1 == steps && steps > 1 => -amount,
                _ => 0,
            };
            Write { node: NodeId(1 + (first + i) % n), key: key as Key, delta }
        })
        .collect()
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

    #[test]
    fn order_sagas_have_their_steps_on_distinct_participants_and_conserve_money() {
        let layout = Layout::new(4);
        let mut rng = stream(7, StreamDomain::User, 0, 0);
        for steps in 1..=4 {
            for i in 1..50 {
                let t = Workload::order(steps).generate(layout, TxnId(i), &mut rng);
                assert_eq!(t.writes.len(), steps as usize);
                assert_eq!(t.participants().len(), steps as usize, "one step per participant");
                assert_eq!(t.writes.iter().map(|w| w.delta).sum::<i64>(), 0);
                if steps >= 3 {
                    assert!(t.writes[0].delta > 0 && t.writes[steps as usize - 1].delta < 0);
                }
            }
        }
        assert_eq!(step_names(3), ["create-order", "reserve-stock", "charge-customer"]);
        assert_eq!(step_names(2), ["debit", "credit"]);
        assert_eq!(step_names(4)[1..3], ["reserve-stock-1", "reserve-stock-2"]);
        assert_eq!(step_names(1), ["create-order"]);
    }

    #[test]
    fn steps_are_validated_against_their_bound_and_the_participants() {
        assert!(Workload::order(3).validate(3).is_ok());
        let err = Workload::order(0).validate(3).unwrap_err();
        assert!(err.contains("workload.steps = 0"), "{err}");
        let err = Workload::order(Workload::MAX_STEPS + 1).validate(64).unwrap_err();
        assert!(err.contains("not within 1..=16"), "{err}");
        let err = Workload::order(4).validate(3).unwrap_err();
        assert!(err.contains("its own participant"), "{err}");
    }

    #[test]
    fn scenario_files_without_steps_keep_two_step_transfers() {
        let w: Workload = serde_json::from_str(
            r#"{"kind":"bank","accounts_per_participant":4,"initial_balance":1000,"max_amount":100}"#,
        )
        .unwrap();
        assert_eq!(w, Workload::bank());
    }
}
