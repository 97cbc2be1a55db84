//! The resource managers and the transaction manager of `TwoPhase`, as sim-core processes.
//!
//! Each TLA+ action is one engine event of one node: `RMPrepare` and `RMChooseToAbort` are
//! the two options of the RM's spontaneous step (its always-armed timer, then
//! `ctx.choose`); `RMRcvCommitMsg` and `RMRcvAbortMsg` are deliveries to the RM;
//! `TMRcvPrepared` is a delivery to the TM; `TMCommit` and `TMAbort` are the options of the
//! TM's spontaneous step (its timer, then `ctx.choose`; commit is offered only once every RM
//! is in `tmPrepared`).

use rand::RngExt;
use serde::{Deserialize, Serialize};
use sim_core::{Duration, NodeId, Process};

use super::{Ctx, Msg, Timer, TlaTwoPhase};
use crate::txn::{Observation, Outcome, TxnId, Vote};

/// The one transaction the model decides.
pub const TXN: TxnId = TxnId(1);

/// The TM is node 0; RM `i` (1-based) is node `i`.
pub const TM: NodeId = NodeId(0);

/// `rmState[rm]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RmState {
    Working,
    Prepared,
    Committed,
    Aborted,
}

/// `tmState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TmState {
    Init,
    Committed,
    Aborted,
}

/// A resource manager: its state, and whether `[type |-> "Prepared", rm |-> self]` is in
/// `msgs` (it sent it: TLA's messages are never consumed, so this stays true).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rm {
    pub state: RmState,
    pub sent_prepared: bool,
}

/// The transaction manager: `tmState`, `tmPrepared` (bit `i - 1` for RM `i`), how many RMs
/// there are, and whether it is the broken variant (it commits once any RM is prepared).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Tm {
    pub state: TmState,
    pub prepared: u64,
    pub rms: u32,
    pub broken: bool,
}

/// One node of the model.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Node {
    Tm(Tm),
    Rm(Rm),
}

impl Node {
    pub fn fresh(id: NodeId, rms: u32, broken: bool) -> Node {
        if id == TM {
            Node::Tm(Tm { state: TmState::Init, prepared: 0, rms, broken })
        } else {
            Node::Rm(Rm { state: RmState::Working, sent_prepared: false })
        }
    }
}

/// The RM's spontaneous step: `RMPrepare` or `RMChooseToAbort`.
#[derive(Clone, Copy)]
enum RmStep {
    Prepare,
    Abort,
}

/// The TM's spontaneous step: `TMCommit` or `TMAbort`.
#[derive(Clone, Copy)]
enum TmStep {
    Commit,
    Abort,
}

/// When the timed runner fires the spontaneous steps (the explorer ignores time).
const RM_STEP: Duration = Duration::from_us(1_000);
const TM_STEP: Duration = Duration::from_us(10_000);

impl Process<TlaTwoPhase> for Node {
    fn on_start(&mut self, ctx: &mut Ctx) {
        match self {
            Node::Tm(tm) if tm.state == TmState::Init => ctx.set_timer(TM_STEP, Timer::Step),
            Node::Rm(rm) if rm.state == RmState::Working => ctx.set_timer(RM_STEP, Timer::Step),
            _ => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match (self, msg) {
            // TMRcvPrepared(rm): only while tmState = "init".
            (Node::Tm(tm), Msg::Prepared) if tm.state == TmState::Init && from.0 >= 1 => {
                tm.prepared |= 1 << (from.0 - 1);
            }
            // RMRcvCommitMsg(rm) and RMRcvAbortMsg(rm): no guard on rmState.
            (Node::Rm(rm), Msg::Commit) => rm.decide(ctx, RmState::Committed),
            (Node::Rm(rm), Msg::Abort) => rm.decide(ctx, RmState::Aborted),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _timer: Timer) {
        match self {
            Node::Rm(rm) if rm.state == RmState::Working => {
                let options = [RmStep::Prepare, RmStep::Abort];
                match ctx.choose("rm-step", &options, |r| r.random_range(0..2)) {
                    RmStep::Prepare => {
                        rm.state = RmState::Prepared;
                        rm.sent_prepared = true;
                        ctx.observe(Observation::Voted { txn: TXN, vote: Vote::Yes });
                        ctx.send(TM, Msg::Prepared);
                    }
                    RmStep::Abort => {
                        ctx.observe(Observation::Voted { txn: TXN, vote: Vote::No });
                        rm.decide(ctx, RmState::Aborted);
                    }
                }
            }
            Node::Tm(tm) if tm.state == TmState::Init => {
                let all = (1u64 << tm.rms) - 1;
                let can_commit = tm.prepared == all || (tm.broken && tm.prepared != 0);
                let options: &[TmStep] =
                    if can_commit { &[TmStep::Commit, TmStep::Abort] } else { &[TmStep::Abort] };
                let n = options.len();
                let step = ctx.choose("tm-step", options, |r| r.random_range(0..n));
                let (state, msg, outcome) = match step {
                    TmStep::Commit => (TmState::Committed, Msg::Commit, Outcome::Commit),
                    TmStep::Abort => (TmState::Aborted, Msg::Abort, Outcome::Abort),
                };
                tm.state = state;
                ctx.observe(Observation::Decided { txn: TXN, outcome });
                ctx.broadcast((1..=tm.rms).map(NodeId), msg);
            }
            _ => {}
        }
    }
}

impl Rm {
    fn decide(&mut self, ctx: &mut Ctx, state: RmState) {
        if self.state == state {
            return;
        }
        self.state = state;
        let outcome = if state == RmState::Committed { Outcome::Commit } else { Outcome::Abort };
        ctx.observe(Observation::Decided { txn: TXN, outcome });
    }
}
