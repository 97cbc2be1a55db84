//! A run's history indexed by transaction, built in one pass.
//!
//! Transaction ids are dense (the client numbers them 1, 2, ...), so the index is a vector:
//! building it is linear in the number of observations plus disk records, and every checker
//! then walks it once. Total cost of checking a run: O(observations + disk records + nodes).

use sim_core::{NodeId, Time};

use protocols::{Observation, Outcome, RunReport, Snapshot, TxnId, Vote};

/// Everything reported or made durable about one transaction.
#[derive(Clone, Debug, Default)]
pub struct TxnFacts {
    pub submitted: bool,
    /// The participants the client addressed.
    pub participants: Vec<NodeId>,
    /// Reported votes, in time order.
    pub votes: Vec<(NodeId, Vote, Time)>,
    /// Yes votes found on disks (prepared records).
    pub durable_yes: Vec<NodeId>,
    /// Reported decisions, in time order.
    pub decided: Vec<(NodeId, Outcome, Time)>,
    /// Decisions found on disks, per node in disk order.
    pub durable_decisions: Vec<(NodeId, Outcome)>,
    /// When each node last reported being uncertain.
    pub uncertain: Vec<(NodeId, Time)>,
    pub client_learned: Option<(Outcome, Time)>,
    pub reported_to_client: Vec<(Outcome, Time)>,
}

impl TxnFacts {
    /// Every decision, reported or durable, as (node, outcome).
    pub fn all_decisions(&self) -> impl Iterator<Item = (NodeId, Outcome)> + '_ {
        self.decided.iter().map(|(n, o, _)| (*n, *o)).chain(self.durable_decisions.iter().copied())
    }

    /// Did `node` vote yes (reported, or durable on its disk)?
    pub fn voted_yes(&self, node: NodeId) -> bool {
        self.durable_yes.contains(&node)
            || self.votes.iter().any(|(n, v, _)| *n == node && *v == Vote::Yes)
    }

    pub fn voted_no(&self, node: NodeId) -> bool {
        self.votes.iter().any(|(n, v, _)| *n == node && *v == Vote::No)
    }

    /// Did `node` decide (reported, or durable)?
    pub fn decided_at(&self, node: NodeId) -> Option<Outcome> {
        self.decided
            .iter()
            .find(|(n, _, _)| *n == node)
            .map(|(_, o, _)| *o)
            .or_else(|| self.durable_decisions.iter().find(|(n, _)| *n == node).map(|(_, o)| *o))
    }

    /// The nodes that took part: addressed participants plus anyone who voted or decided.
    pub fn involved(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .participants
            .iter()
            .copied()
            .chain(self.votes.iter().map(|x| x.0))
            .chain(self.durable_yes.iter().copied())
            .chain(self.all_decisions().map(|x| x.0))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The per-transaction index of one run, with the disks read at `disks_at`.
pub struct History<'a> {
    pub report: &'a RunReport,
    txns: Vec<TxnFacts>,
}

impl<'a> History<'a> {
    /// Indexes observations and the disks of `disks_at` (normally the end of the run).
    pub fn build(report: &'a RunReport, disks_at: &Snapshot) -> History<'a> {
        let mut txns: Vec<TxnFacts> = Vec::new();
        let mut slot = |t: TxnId| -> usize {
            let i = t.0 as usize;
            if i >= txns.len() {
                txns.resize_with(i + 1, TxnFacts::default);
            }
            i
        };
        let mut index = Vec::with_capacity(report.observations.len());
        for o in &report.observations {
            index.push(slot(o.obs.txn()));
        }
        let mut disk_index = Vec::new();
        for (n, disk) in disks_at.disks.iter().enumerate() {
            for t in &disk.prepared {
                disk_index.push((n, slot(*t), None));
            }
            for (t, out) in &disk.decisions {
                disk_index.push((n, slot(*t), Some(*out)));
            }
        }
        for (o, &i) in report.observations.iter().zip(&index) {
            let f = &mut txns[i];
            let (n, t) = (o.node, o.time);
            match &o.obs {
                Observation::Submitted { participants, .. } => {
                    f.submitted = true;
                    f.participants = participants.clone();
                }
                Observation::Voted { vote, .. } => f.votes.push((n, *vote, t)),
                Observation::Uncertain { .. } => match f.uncertain.iter_mut().find(|u| u.0 == n) {
                    Some(u) => u.1 = t,
                    None => f.uncertain.push((n, t)),
                },
                Observation::Decided { outcome, .. } => f.decided.push((n, *outcome, t)),
                Observation::ClientLearned { outcome, .. } => {
                    f.client_learned.get_or_insert((*outcome, t));
                }
                Observation::ReportedToClient { outcome, .. } => {
                    f.reported_to_client.push((*outcome, t))
                }
                // Facts the atomicity checkers do not need (exposure reads them directly).
                _ => {}
            }
        }
        for (n, i, decision) in disk_index {
            let node = NodeId(n as u32);
            match decision {
                None => txns[i].durable_yes.push(node),
                Some(o) => txns[i].durable_decisions.push((node, o)),
            }
        }
        History { report, txns }
    }

    /// The facts about `txn`, if anything was recorded.
    pub fn facts(&self, txn: TxnId) -> Option<&TxnFacts> {
        self.txns.get(txn.0 as usize)
    }

    /// Every transaction anything was recorded about, in id order.
    pub fn txns(&self) -> impl Iterator<Item = (TxnId, &TxnFacts)> {
        self.txns.iter().enumerate().map(|(i, f)| (TxnId(i as u64), f)).filter(|(_, f)| {
            f.submitted
                || !f.votes.is_empty()
                || !f.decided.is_empty()
                || !f.durable_decisions.is_empty()
        })
    }
}
