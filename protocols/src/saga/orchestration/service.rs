//! A saga service: owns some accounts, applies the steps and compensations it is asked for,
//! each at most once.
//!
//! Every request names its idempotency key `(saga, step)`. The first time a key is seen the
//! service decides (apply, or refuse on an overdraft or a business failure), forces the
//! record, reports it, and answers; every later request under that key — a retry after a
//! lost answer, a network duplicate, a request from a recovered orchestrator — is answered
//! from the ledger without acting again. A compensation is never refused; one that arrives
//! before its step undoes nothing and makes the late step a refusal, so no step ever runs
//! after its compensation.

use sim_core::rng::Chance;
use sim_core::{Boot, NodeId};

use super::{Ctx, Msg, OrchestrationConfig, Record, SagaOrchestration, Timer};
use crate::saga::wiring::SagaStyle;
use crate::saga::{Ledger, LedgerRecord, ServicePoint as Point, StepResult};
use crate::shared::Shared;
use crate::txn::{Observation, TxnId, Write};
use crate::workload::Workload;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Service {
    id: NodeId,
    refuse: Chance,
    ledger: Ledger,
}

/// A service's ledger as its disk holds it (recovery and the report both read it so).
pub(super) fn ledger(workload: &Workload, node: NodeId, records: &[Record]) -> Ledger {
    let own = records.iter().filter_map(<SagaOrchestration as SagaStyle>::ledger_record);
    Ledger::replay(workload.initial_values(node), workload.allows_negative(), own)
}

impl Service {
    pub fn new(
        config: &Shared<OrchestrationConfig>,
        id: NodeId,
        boot: Boot<'_, Record>,
    ) -> Service {
        let ledger = ledger(&config.client.workload, id, boot.disk());
        Service { id, refuse: config.refusals.chance(id), ledger }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// A service retries nothing: it only answers.
    pub fn retries_spent(&self) -> bool {
        false
    }

    /// A service only answers the orchestrator: nothing to start.
    pub fn on_start(&mut self, _ctx: &mut Ctx) {}

    /// A service arms no timers; one firing is a protocol bug.
    pub fn on_timer(&mut self, _ctx: &mut Ctx, timer: Timer) {
        panic!("a service got timer {timer:?}: services arm none")
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Step { txn, step, write } => {
                let result = match self.ledger.result(txn, step) {
                    Some(r) => r, // a retry or a duplicate: answer, do nothing again
                    None => self.perform(ctx, txn, step, write),
                };
                ctx.send(from, Msg::StepReply { txn, step, result });
            }
            Msg::Compensate { txn, step } => {
                if !self.ledger.is_compensated(txn, step) {
                    self.compensate(ctx, txn, step);
                }
                ctx.send(from, Msg::Compensated { txn, step });
            }
            other => unreachable!("a saga service got {other:?}"),
        }
    }

    /// The first request under this key: apply or refuse, durably, then report.
    fn perform(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32, write: Write) -> StepResult {
        assert_eq!(write.node, self.id, "{txn}: T{step} addressed to another service");
        // The overdraft is checked first, so the business-failure chance is drawn only for a
        // step that could run (as a participant draws its no vote).
        let refused = !self.ledger.can_apply(&write) || crate::store::choose_vote(ctx, self.refuse);
        let record = if refused {
            LedgerRecord::StepRefused { txn, step }
        } else {
            LedgerRecord::StepApplied { txn, step, write }
        };
        ctx.persist(Record::Service(record.clone()));
        self.ledger.apply(&record);
        if refused {
            ctx.observe(Observation::StepRefused { txn, step });
            ctx.mark(Point::StepRefused.name());
            StepResult::Refused
        } else {
            ctx.observe(Observation::StepApplied { txn, step, delta: write.delta });
            ctx.mark(Point::StepApplied.name());
            StepResult::Done
        }
    }

    fn compensate(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32) {
        let write = self.ledger.applied_write(txn, step);
        let record = LedgerRecord::Compensated { txn, step, write };
        ctx.persist(Record::Service(record.clone()));
        self.ledger.apply(&record);
        if let Some(w) = write {
            ctx.observe(Observation::CompensationApplied { txn, step, delta: -w.delta });
            ctx.mark(Point::CompensationApplied.name());
        }
    }
}
