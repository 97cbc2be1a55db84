//! Concurrent reads of the bank total, to count how many readers a saga's missing money
//! fools.
//!
//! The anomaly window (`checkers::anomaly`) says how long the total was off; it does not
//! say whether anyone noticed. An *auditor*, living in the client node of a saga scenario on
//! the bank workload, reads the total the way an outside reader would: every audit period it
//! starts a round (numbered from 1), asks every service for the sum of the balances it has
//! applied so far (from its live ledger — what a query against the service would return),
//! and sums the answers. A complete round is reported as [`Observation::AuditRead`]; a read
//! whose total differs from the initial one saw the anomaly.
//!
//! The answers of one round are taken at different instants, one per service: like a real
//! reader without a cross-service snapshot, the audit can see a transfer's debit without
//! its credit. That is the isolation a saga gives up, and exactly what is measured.
//!
//! Bounded: the period is the timing's round timeout (3d, a round trip plus slack), and the
//! next round abandons the current one, so a round missing an answer (a crashed service, a
//! dropped message) is given up after one period and answers for older rounds are ignored.
//! Auditing stops once the client has learned every saga it submits (nothing more can move
//! money), so it never keeps a run alive, and a recovered client (which submits nothing)
//! does not audit. Only saga scenarios carry an auditor: the commit protocols' traces,
//! message counts and recorded counterexamples are untouched.

use std::collections::BTreeMap;

use sim_core::{Context, Duration, NodeId, Protocol};

use crate::client::{Client, ClientConfig};
use crate::timing::Timing;
use crate::txn::{Layout, Observation};
use crate::workload::Workload;

/// A saga protocol whose client node can audit: it has a balance query and an audit timer.
pub trait AuditWire: Protocol<Obs = Observation> {
    /// Ask a service for its applied balance sum, for round `round`.
    fn balance_query(round: u64) -> Self::Msg;
    /// The auditor's periodic timer.
    fn audit_tick() -> Self::Timer;
}

/// `impl AuditWire` for a saga whose messages have `BalanceQuery { round }` and whose timers
/// have `Audit`: `audit_wire!(SagaOrchestration, Msg, Timer);`.
#[macro_export]
macro_rules! audit_wire {
    ($proto:ty, $msg:ident, $timer:ident) => {
        impl $crate::saga::audit::AuditWire for $proto {
            fn balance_query(round: u64) -> $msg {
                $msg::BalanceQuery { round }
            }
            fn audit_tick() -> $timer {
                $timer::Audit
            }
        }
    };
}

/// The period between audit rounds, which is also how long a round may take: the round
/// timeout (3d) covers a query and its answer (2d at most) with slack.
pub fn audit_period(timing: &Timing) -> Duration {
    Duration::from_us(timing.round_timeout_us.max(1))
}

/// The reader of the bank total (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Auditor {
    /// False off the bank workload and in a recovered client.
    enabled: bool,
    period: Duration,
    services: Vec<NodeId>,
    /// Sagas the client submits in all: once it has learned this many, auditing stops.
    txns: u64,
    /// The current round (0: none started yet).
    round: u64,
    /// Answers to the current round; `None` once it was reported.
    answers: Option<BTreeMap<NodeId, i64>>,
}

impl Auditor {
    pub fn new(layout: Layout, client: &ClientConfig, timing: &Timing, recovered: bool) -> Self {
        Auditor {
            enabled: matches!(client.workload, Workload::Bank { .. }) && !recovered,
            period: audit_period(timing),
            services: layout.participant_ids().collect(),
            txns: client.txns,
            round: 0,
            answers: None,
        }
    }

    /// Rounds started so far.
    pub fn rounds(&self) -> u64 {
        self.round
    }

    pub fn on_start<P: AuditWire>(&mut self, ctx: &mut Context<'_, P>) {
        if self.enabled {
            ctx.set_timer(self.period, P::audit_tick());
        }
    }

    /// The period is over: abandon the current round if it is incomplete, start the next —
    /// unless the client has learned every saga, which ends auditing.
    pub fn on_tick<P: AuditWire>(&mut self, ctx: &mut Context<'_, P>, client: &Client) {
        if !self.enabled || client.learned().len() as u64 >= self.txns {
            self.answers = None;
            return;
        }
        self.round += 1;
        self.answers = Some(BTreeMap::new());
        for &s in &self.services {
            ctx.send(s, P::balance_query(self.round));
        }
        ctx.set_timer(self.period, P::audit_tick());
    }

    /// A service's answer: kept if it belongs to the current, unreported round; the round is
    /// reported once every service answered. Duplicates overwrite (same round, same
    /// service, a sum read at a different instant: the latest wins, and the round is reported
    /// once).
    pub fn on_reply<P: AuditWire>(
        &mut self,
        ctx: &mut Context<'_, P>,
        from: NodeId,
        round: u64,
        total: i64,
    ) {
        if round != self.round || !self.services.contains(&from) {
            return;
        }
        let Some(answers) = self.answers.as_mut() else { return };
        answers.insert(from, total);
        if answers.len() == self.services.len() {
            let total = answers.values().sum();
            self.answers = None;
            ctx.observe(Observation::AuditRead { total });
        }
    }
}
