//! What the saga properties ([`crate::saga`]) are judged on, indexed as the history grows:
//! per transaction, the steps applied and compensated, where and in which order, and how
//! the saga ended.

use protocols::{Observation, SagaOutcome};
use sim_core::NodeId;

/// One applied step or compensation: its step, its position among the observations, where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Applied {
    pub(crate) step: u32,
    pub(crate) at: usize,
    pub(crate) node: NodeId,
}

/// What the saga observations say about one transaction, indexed as they come
/// ([`crate::history::History`] keeps one per transaction a saga fact names).
#[derive(Clone, Debug, Default)]
pub struct SagaFacts {
    /// A saga fact other than a refusal was reported (begun, applied, compensated, ended).
    pub(crate) named: bool,
    pub(crate) steps: Option<u32>,
    pub(crate) applied: Vec<Applied>,
    pub(crate) compensated: Vec<Applied>,
    pub(crate) ended: Vec<(SagaOutcome, NodeId)>,
}

impl SagaFacts {
    /// Indexes one saga observation, the `at`-th observation of the history, from `node`.
    pub(crate) fn observe(&mut self, obs: &Observation, at: usize, node: NodeId) {
        let a = |step| Applied { step, at, node };
        match *obs {
            Observation::SagaBegun { steps, .. } => self.steps = Some(steps),
            Observation::StepApplied { step, .. } => self.applied.push(a(step)),
            Observation::CompensationApplied { step, .. } => self.compensated.push(a(step)),
            Observation::SagaEnded { outcome, .. } => self.ended.push((outcome, node)),
            _ => return,
        }
        self.named = true;
    }

    pub(crate) fn nodes(&self) -> Vec<NodeId> {
        let mut v: Vec<NodeId> = self
            .applied
            .iter()
            .chain(&self.compensated)
            .map(|a| a.node)
            .chain(self.ended.iter().map(|e| e.1))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    pub(crate) fn first(list: &[Applied], step: u32) -> Option<usize> {
        list.iter().find(|a| a.step == step).map(|a| a.at)
    }

    /// Distinct steps in `list`, ascending.
    pub(crate) fn distinct(list: &[Applied]) -> Vec<u32> {
        let mut v: Vec<u32> = list.iter().map(|a| a.step).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Why the saga is in neither final form (None: it is in the one `outcome` names).
    pub(crate) fn form_error(&self, outcome: SagaOutcome) -> Option<String> {
        let done = Self::distinct(&self.applied);
        let undone = Self::distinct(&self.compensated);
        let prefix = done.iter().enumerate().all(|(i, &s)| s == i as u32 + 1);
        let j = done.len() as u32;
        match outcome {
            SagaOutcome::Completed => {
                let n = self.steps.unwrap_or(0);
                if prefix && j == n && n > 0 && undone.is_empty() {
                    None
                } else {
                    Some(format!("ended completed as {}, not T1..T{n}", sequence(&done, &undone)))
                }
            }
            SagaOutcome::Compensated => {
                let short = self.steps.is_none_or(|n| j < n);
                if prefix && short && undone == done {
                    None
                } else {
                    Some(format!(
                        "ended compensated as {}, not T1..Tj, Cj..C1",
                        sequence(&done, &undone)
                    ))
                }
            }
        }
    }
}

pub(crate) fn sequence(done: &[u32], undone: &[u32]) -> String {
    let t = done.iter().map(|s| format!("T{s}"));
    let c = undone.iter().rev().map(|s| format!("C{s}"));
    let all: Vec<String> = t.chain(c).collect();
    if all.is_empty() { "nothing applied".into() } else { all.join(" ") }
}
