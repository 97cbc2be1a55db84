//! The saga orchestrator (Garcia-Molina & Salem's saga execution component).
//!
//! Per saga: *executing* T`i` (its request out, the step-started record forced), then on
//! its answer either the next step, or — if it was refused — *compensating* C`i-1` down to
//! C1; then *ended* (completed or compensated). Every transition is logged before the
//! orchestrator acts on it, so the log's last record for a saga says exactly what to do
//! next: recovery and the live handlers share [`Orchestrator::after`].
//!
//! Marks, in protocol order: `saga-begun`, `step-started`, `step-done` (or `step-failed`),
//! `compensating`, `compensated`, `saga-ended`; each right after its record is forced and
//! before anyone is told.

use std::collections::BTreeMap;

use sim_core::{Boot, NodeId};

use super::{BrokenOrchestration, Ctx, Msg, OrchestrationConfig, Record, Timer};
use crate::client::ClientMsg;
use crate::saga::{StepResult, jittered, step_write, steps};
use crate::shared::Shared;
use crate::txn::{Observation, SagaOutcome, Txn, TxnId};

crate::crash_points! {
    /// The orchestrator's crash points: the first four on every saga, in protocol order; the rest only on sagas that fail a step.
    pub enum Point {
        SagaBegun, StepStarted, StepDone, SagaEnded, StepFailed, Compensating, Compensated
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// T`step` was requested; its answer is awaited (re-requested `attempts` times).
    Executing {
        step: u32,
        attempts: u32,
    },
    /// C`step` was requested; its acknowledgement is awaited.
    Compensating {
        step: u32,
        attempts: u32,
    },
    Ended(SagaOutcome),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Saga {
    def: Txn,
    phase: Phase,
}

/// The saga log's last word on a saga: what recovery resumes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Logged {
    Begun,
    StepStarted(u32),
    StepDone(u32),
    StepFailed(u32),
    Compensating(u32),
    Compensated(u32),
    Ended(SagaOutcome),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Orchestrator {
    config: Shared<OrchestrationConfig>,
    sagas: BTreeMap<TxnId, Saga>,
    /// Read back from the disk at recovery, resumed by `on_start`.
    to_resume: Vec<(TxnId, Logged)>,
    recovered: bool,
}

impl Orchestrator {
    pub fn new(config: &Shared<OrchestrationConfig>, boot: Boot<'_, Record>) -> Orchestrator {
        let mut defs: BTreeMap<TxnId, Txn> = BTreeMap::new();
        let mut last: BTreeMap<TxnId, Logged> = BTreeMap::new();
        for r in boot.disk() {
            let (txn, logged) = match r {
                Record::Begun { saga } => {
                    defs.insert(saga.id, saga.clone());
                    (saga.id, Logged::Begun)
                }
                Record::StepStarted { txn, step } => (*txn, Logged::StepStarted(*step)),
                Record::StepDone { txn, step } => (*txn, Logged::StepDone(*step)),
                Record::StepFailed { txn, step } => (*txn, Logged::StepFailed(*step)),
                Record::Compensating { txn, step } => (*txn, Logged::Compensating(*step)),
                Record::Compensated { txn, step } => (*txn, Logged::Compensated(*step)),
                Record::Ended { txn, outcome } => (*txn, Logged::Ended(*outcome)),
                Record::Service(_) => unreachable!("the orchestrator keeps no ledger"),
            };
            last.insert(txn, logged);
        }
        let mut sagas = BTreeMap::new();
        let mut to_resume = Vec::new();
        for (txn, logged) in last {
            // A saga ended at once, never begun, has no Begun record: it has no steps.
            let def = defs.remove(&txn).unwrap_or(Txn { id: txn, writes: Vec::new() });
            // Until resumed, a saga counts as executing its first step (nothing is sent).
            let phase = match logged {
                Logged::Ended(o) => Phase::Ended(o),
                _ => Phase::Executing { step: 1, attempts: 0 },
            };
            sagas.insert(txn, Saga { def, phase });
            to_resume.push((txn, logged));
        }
        Orchestrator { config: config.clone(), sagas, to_resume, recovered: boot.is_recovery() }
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        for (txn, logged) in std::mem::take(&mut self.to_resume) {
            self.after(ctx, txn, logged);
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Client(ClientMsg::Request { txn, attempt }) => self.on_request(ctx, txn, attempt),
            Msg::StepReply { txn, step, result } => {
                self.on_step_reply(ctx, from, txn, step, result)
            }
            Msg::Compensated { txn, step } => self.on_compensated(ctx, txn, step),
            other => unreachable!("the orchestrator got {other:?}"),
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        let Timer::Retry(txn) = timer else { unreachable!("the orchestrator got {timer:?}") };
        let Some(saga) = self.sagas.get_mut(&txn) else { return };
        match &mut saga.phase {
            Phase::Executing { step, attempts } => {
                *attempts += 1;
                let (step, attempt) = (*step, *attempts);
                self.request_step(ctx, txn, step, attempt);
            }
            Phase::Compensating { step, attempts } => {
                *attempts += 1;
                let (step, attempt) = (*step, *attempts);
                self.request_compensation(ctx, txn, step, attempt);
            }
            Phase::Ended(_) => {}
        }
    }

    /// Whether the retry loop of some saga still under way spent its budget of attempts: it
    /// waits for a recovery (what the explorer reads on terminal states, `saga::explore`).
    pub fn retries_spent(&self) -> bool {
        let max = self.config.timing.resend.max_attempts;
        self.sagas.values().any(|s| match s.phase {
            Phase::Executing { attempts, .. } | Phase::Compensating { attempts, .. } => {
                attempts >= max
            }
            Phase::Ended(_) => false,
        })
    }

    // ----- the client ----------------------------------------------------------------------

    fn on_request(&mut self, ctx: &mut Ctx, txn: Txn, attempt: u32) {
        let id = txn.id;
        if let Some(saga) = self.sagas.get(&id) {
            if let Phase::Ended(outcome) = saga.phase {
                self.reply(ctx, id, outcome);
            }
            return; // in progress: the reply comes when it ends
        }
        if self.recovered && attempt > 0 {
            // A retry this recovered orchestrator has no record of: the saga was never
            // begun (Begun is forced before T1 is requested), so it ends with nothing to
            // undo. Only the durable log makes this sound.
            let def = Txn { id, writes: Vec::new() };
            self.sagas.insert(id, Saga { def, phase: Phase::Executing { step: 1, attempts: 0 } });
            return self.end(ctx, id, SagaOutcome::Compensated);
        }
        assert!(!txn.writes.is_empty(), "{id} has no steps");
        let n = steps(&txn);
        self.log(ctx, Record::Begun { saga: txn.clone() });
        ctx.observe(Observation::SagaBegun { txn: id, steps: n });
        ctx.mark(Point::SagaBegun.name());
        self.sagas.insert(id, Saga { def: txn, phase: Phase::Executing { step: 1, attempts: 0 } });
        self.after(ctx, id, Logged::Begun);
    }

    fn reply(&self, ctx: &mut Ctx, txn: TxnId, outcome: SagaOutcome) {
        let client = self.config.layout.client();
        crate::decision::reply_to_client(ctx, client, txn, outcome.outcome());
    }

    // ----- forward and backward --------------------------------------------------------------

    fn on_step_reply(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        txn: TxnId,
        step: u32,
        result: StepResult,
    ) {
        let Some(saga) = self.sagas.get(&txn) else { return };
        if !matches!(saga.phase, Phase::Executing { step: s, .. } if s == step) {
            return; // a late or duplicated answer to a request already settled
        }
        debug_assert_eq!(from, step_write(&saga.def, step).node);
        ctx.cancel_timer(Timer::Retry(txn));
        let logged = match result {
            StepResult::Done => {
                self.log(ctx, Record::StepDone { txn, step });
                ctx.mark(Point::StepDone.name());
                Logged::StepDone(step)
            }
            StepResult::Refused => {
                self.log(ctx, Record::StepFailed { txn, step });
                ctx.mark(Point::StepFailed.name());
                Logged::StepFailed(step)
            }
        };
        self.after(ctx, txn, logged);
    }

    fn on_compensated(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32) {
        let Some(saga) = self.sagas.get(&txn) else { return };
        if !matches!(saga.phase, Phase::Compensating { step: s, .. } if s == step) {
            return;
        }
        ctx.cancel_timer(Timer::Retry(txn));
        self.log(ctx, Record::Compensated { txn, step });
        ctx.mark(Point::Compensated.name());
        self.after(ctx, txn, Logged::Compensated(step));
    }

    /// What follows once `logged` is on the log (live, or read back at recovery).
    fn after(&mut self, ctx: &mut Ctx, txn: TxnId, logged: Logged) {
        let n = steps(&self.sagas[&txn].def);
        match logged {
            Logged::Begun => self.start_step(ctx, txn, 1),
            Logged::StepStarted(step) => {
                self.set_phase(ctx, txn, Phase::Executing { step, attempts: 0 })
            }
            Logged::StepDone(step) if step < n => self.start_step(ctx, txn, step + 1),
            Logged::StepDone(_) => self.end(ctx, txn, SagaOutcome::Completed),
            // Ti failed: compensate T(i-1)..T1; Ci completed: compensate C(i-1)..C1.
            Logged::StepFailed(step) | Logged::Compensated(step) if step > 1 => {
                self.start_compensation(ctx, txn, step - 1)
            }
            Logged::StepFailed(_) | Logged::Compensated(_) => {
                self.end(ctx, txn, SagaOutcome::Compensated)
            }
            Logged::Compensating(step) => {
                self.set_phase(ctx, txn, Phase::Compensating { step, attempts: 0 })
            }
            Logged::Ended(outcome) => {
                self.sagas.get_mut(&txn).expect("known").phase = Phase::Ended(outcome)
            }
        }
    }

    fn start_step(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32) {
        self.log(ctx, Record::StepStarted { txn, step });
        ctx.mark(Point::StepStarted.name());
        self.set_phase(ctx, txn, Phase::Executing { step, attempts: 0 });
    }

    fn start_compensation(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32) {
        self.log(ctx, Record::Compensating { txn, step });
        ctx.mark(Point::Compensating.name());
        self.set_phase(ctx, txn, Phase::Compensating { step, attempts: 0 });
    }

    /// Enters an executing or compensating phase and sends its first request.
    fn set_phase(&mut self, ctx: &mut Ctx, txn: TxnId, phase: Phase) {
        match phase {
            Phase::Executing { step, .. } => self.request_step(ctx, txn, step, 0),
            Phase::Compensating { step, .. } => self.request_compensation(ctx, txn, step, 0),
            Phase::Ended(_) => unreachable!("a saga ends through end()"),
        }
        self.sagas.get_mut(&txn).expect("known").phase = phase;
    }

    fn request_step(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32, attempt: u32) {
        let write = step_write(&self.sagas[&txn].def, step);
        ctx.send(write.node, Msg::Step { txn, step, write });
        self.arm_retry(ctx, txn, attempt);
    }

    fn request_compensation(&mut self, ctx: &mut Ctx, txn: TxnId, step: u32, attempt: u32) {
        let node = step_write(&self.sagas[&txn].def, step).node;
        ctx.send(node, Msg::Compensate { txn, step });
        self.arm_retry(ctx, txn, attempt);
    }

    fn arm_retry(&self, ctx: &mut Ctx, txn: TxnId, attempt: u32) {
        // Past the budget the saga waits for a recovery to resume it.
        if let Some(after) = jittered(&self.config.timing.resend, attempt, ctx.rng()) {
            ctx.set_timer(after, Timer::Retry(txn));
        }
    }

    fn end(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: SagaOutcome) {
        self.log(ctx, Record::Ended { txn, outcome });
        ctx.observe(Observation::SagaEnded { txn, outcome });
        ctx.observe(Observation::Decided { txn, outcome: outcome.outcome() });
        ctx.mark(Point::SagaEnded.name());
        self.sagas.get_mut(&txn).expect("known").phase = Phase::Ended(outcome);
        self.reply(ctx, txn, outcome);
    }

    /// Forces `record` to the saga log (kept in memory only by the broken variant).
    fn log(&self, ctx: &mut Ctx, record: Record) {
        if self.config.broken != Some(BrokenOrchestration::VolatileOrchestrator) {
            ctx.persist(record);
        }
    }
}
