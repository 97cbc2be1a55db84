//! The acceptor: one Paxos acceptor for every instance of every transaction.
//!
//! Per transaction it keeps Gray & Lamport's `mbal` (here `promised`: no ballot below it is
//! accepted any more) and, per instance, `bal`/`val` (here `accepted`). Everything it answers
//! is forced first ([`Record::Acceptor`]), so a recovered acceptor never contradicts itself.
//!
//! Ballot 0 is batched as in the paper's cost analysis: the RMs' ballot-0 phase 2a messages
//! are held until every instance of the transaction has one, then accepted in one forced
//! write and answered with one phase 2b covering all instances. A phase 1a that arrives first
//! accepts what is held (it is still ballot 0 and nothing higher was promised) in the same
//! write as the promise, so the new leader sees it.

use std::collections::BTreeMap;

use sim_core::{Boot, NodeId};

use super::{Accepted, Ballot, Ctx, Msg, PaxosCommitConfig, Phase1a, Phase1b, Phase2a, Phase2b};
use super::{Record, Timer, Value};
use crate::shared::Shared;
use crate::txn::TxnId;

crate::crash_points! {
    /// An acceptor's crash points.
    pub enum Point {
        Phase2bSent, Phase1bSent
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Instances {
    participants: Vec<NodeId>,
    promised: Ballot,
    accepted: Vec<Accepted>,
    /// Ballot-0 proposals received but not yet accepted (waiting for the rest).
    held: Vec<Option<Value>>,
}

impl Instances {
    fn index(&self, rm: NodeId) -> usize {
        self.participants.iter().position(|&p| p == rm).expect("an instance of this transaction")
    }
    fn values(&self) -> Vec<(NodeId, Value)> {
        let accepted = self.accepted.iter().map(|a| a.expect("every instance accepted").1);
        self.participants.iter().copied().zip(accepted).collect()
    }

    /// Accepts, in ballot 0, every ballot-0 proposal held so far (the caller forces it).
    fn accept_held(&mut self) {
        for (accepted, held) in self.accepted.iter_mut().zip(&mut self.held) {
            if let Some(v) = held.take() {
                *accepted = Some((Ballot::ZERO, v));
            }
        }
    }

    /// Whether `ballot` is below this transaction's promise, and so refused: a leader's
    /// ballot is told so (`Nack`) and retries higher; ballot 0's proposers (the RMs) never
    /// retry, so they are not told.
    fn refuses(&self, ctx: &mut Ctx, from: NodeId, txn: TxnId, ballot: Ballot) -> bool {
        if ballot >= self.promised {
            return false;
        }
        if ballot != Ballot::ZERO {
            ctx.send(from, Msg::Nack { txn, ballot, promised: self.promised });
        }
        true
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Acceptor {
    config: Shared<PaxosCommitConfig>,
    txns: BTreeMap<TxnId, Instances>,
}

impl Acceptor {
    pub fn new(config: &Shared<PaxosCommitConfig>, boot: Boot<'_, Record>) -> Acceptor {
        let mut txns = BTreeMap::new();
        for r in boot.disk() {
            if let Record::Acceptor { txn, participants, promised, accepted } = r {
                let held = vec![None; participants.len()];
                let state = Instances {
                    participants: participants.clone(),
                    promised: *promised,
                    accepted: accepted.clone(),
                    held,
                };
                txns.insert(*txn, state);
            }
        }
        Acceptor { config: config.clone(), txns }
    }

    /// An acceptor only answers: nothing to start.
    pub fn on_start(&mut self, _ctx: &mut Ctx) {}

    /// An acceptor arms no timers; one firing is a protocol bug.
    pub fn on_timer(&mut self, _ctx: &mut Ctx, timer: Timer) {
        panic!("an acceptor got timer {timer:?}: acceptors arm none")
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        match msg {
            Msg::Phase2a(p2a) => self.on_phase2a(ctx, from, p2a),
            Msg::Phase1a(p1a) => self.on_phase1a(ctx, from, p1a),
            other => unreachable!("an acceptor got {other:?}"),
        }
    }

    fn instances(&mut self, txn: TxnId, participants: Vec<NodeId>) -> &mut Instances {
        self.txns.entry(txn).or_insert_with(|| Instances {
            accepted: vec![None; participants.len()],
            held: vec![None; participants.len()],
            participants,
            promised: Ballot::ZERO,
        })
    }

    fn persist(&self, ctx: &mut Ctx, txn: TxnId) {
        let s = &self.txns[&txn];
        ctx.persist(Record::Acceptor {
            txn,
            participants: s.participants.clone(),
            promised: s.promised,
            accepted: s.accepted.clone(),
        });
    }

    fn on_phase2a(&mut self, ctx: &mut Ctx, from: NodeId, p2a: Phase2a) {
        let Phase2a { txn, ballot, participants, values } = p2a;
        let s = self.instances(txn, participants);
        if s.refuses(ctx, from, txn, ballot) {
            return;
        }
        if ballot == Ballot::ZERO {
            let already_complete = s.accepted.iter().all(Option::is_some);
            for (rm, v) in values {
                let i = s.index(rm);
                if s.accepted[i].is_none() {
                    s.held[i] = Some(v);
                }
            }
            let complete =
                (0..s.participants.len()).all(|i| s.accepted[i].is_some() || s.held[i].is_some());
            if !complete {
                return;
            }
            if !already_complete {
                s.accept_held();
                self.persist(ctx, txn);
            }
            // Every instance accepted in ballot 0 (nothing higher was promised, so nothing
            // else was accepted); a duplicate 2a re-sends the answer.
            let s = &self.txns[&txn];
            let values = s.values();
            let msg = Msg::Phase2b(Phase2b { txn, ballot, values });
            if self.config.faster {
                ctx.broadcast(s.participants.clone(), msg);
            } else {
                ctx.send(self.config.layout.coordinator(), msg);
            }
            ctx.mark(Point::Phase2bSent.name());
            return;
        }
        // A leader's ballot: accept every instance's value.
        s.promised = ballot;
        for (rm, v) in &values {
            let i = s.index(*rm);
            s.accepted[i] = Some((ballot, *v));
            s.held[i] = None;
        }
        self.persist(ctx, txn);
        ctx.send(NodeId(ballot.leader), Msg::Phase2b(Phase2b { txn, ballot, values }));
        ctx.mark(Point::Phase2bSent.name());
    }

    fn on_phase1a(&mut self, ctx: &mut Ctx, from: NodeId, p1a: Phase1a) {
        let Phase1a { txn, ballot, participants } = p1a;
        assert_ne!(ballot, Ballot::ZERO, "ballot 0 has no phase 1");
        let s = self.instances(txn, participants);
        if s.refuses(ctx, from, txn, ballot) {
            return;
        }
        if ballot > s.promised {
            // Ballot 0 proposals held so far are accepted now, in the promise's write.
            s.accept_held();
            s.promised = ballot;
            self.persist(ctx, txn);
        }
        let s = &self.txns[&txn];
        let accepted = s.participants.iter().copied().zip(s.accepted.iter().copied()).collect();
        ctx.send(from, Msg::Phase1b(Phase1b { txn, ballot, accepted }));
        ctx.mark(Point::Phase1bSent.name());
    }
}
