//! The transaction manager on each coordinator-group member: 2PC's coordinator, acting only
//! while its replica leads, with the replicated log as its only durable state.
//!
//! Per transaction, while this member leads: *collecting* votes (the begun entry is proposed
//! alongside Prepare, not waited for), then *deciding* (the decision entry is proposed); once
//! the log has applied it, the outcome the table shows is announced: to the participants, to
//! whoever asked, and to the client. Losing the lead forgets all of it: the next leader
//! finishes from the table (see the module docs of `super`).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Boot, Duration, NodeId};

use super::log::{Group, Host, LogEvent, Member, TxnState, transition, txn_of};
use super::route::Routes;
use super::{Config, Ctx, Msg, Record, Timer};
use crate::active::{Tally, tally};
use crate::client::ClientMsg;
use crate::consensus::OpId;
use crate::decision::{reply_to_client, send_marked};
use crate::prepare::send_prepares;
use crate::shared::Shared;
use crate::two_pc::{self, Shape};
use crate::txn::{Observation, Outcome, Txn, TxnId, Vote};

crate::crash_points! {
    /// The leader's crash points (normal path, in protocol order).
    pub enum Point {
        PrepareSent, AllVotesIn, DecisionProposed, DecisionCommitted, DecisionSentToFirst,
        DecisionSentToAll
    }
}

const DECISION_SENT: (&str, &str) =
    (Point::DecisionSentToFirst.name(), Point::DecisionSentToAll.name());

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Phase {
    Collecting { yes: BTreeSet<NodeId> },
    Deciding,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Active {
    participants: Vec<NodeId>,
    phase: Phase,
    /// Participants that asked about it (told the outcome with the others).
    askers: BTreeSet<NodeId>,
    /// The decision or abort proposed last, until the log applies it.
    pending: Option<OpId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoordinatorReplica {
    config: Shared<Config>,
    member: Member,
    active: BTreeMap<TxnId, Active>,
    /// Transactions announced since this member last became leader.
    announced: BTreeSet<TxnId>,
    /// Which member of each participant group to send to (R > 1; see `super::route`).
    routes: Routes,
}

impl CoordinatorReplica {
    pub fn new(config: &Shared<Config>, id: NodeId, boot: Boot<'_, Record>) -> CoordinatorReplica {
        let replica = config.group.replica(id);
        CoordinatorReplica {
            config: config.clone(),
            member: Member::new(config, &config.coordinator_log, replica, &boot),
            active: BTreeMap::new(),
            announced: BTreeSet::new(),
            routes: Routes::default(),
        }
    }

    fn group(&self) -> &Group {
        &self.config.group
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        self.start_log(ctx);
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        match timer {
            Timer::Votes(txn) => {
                if self.member.leading
                    && matches!(
                        self.active.get(&txn).map(|a| &a.phase),
                        Some(Phase::Collecting { .. })
                    )
                {
                    self.decide(ctx, txn, Outcome::Abort);
                }
            }
            Timer::Raft(_) | Timer::MultiPaxos(_) => self.on_log_timer(ctx, timer),
            other => unreachable!("member {} got timer {other:?}", ctx.id()),
        }
    }
}

impl Host for CoordinatorReplica {
    fn member(&mut self) -> (&mut Member, &Group) {
        (&mut self.member, &self.config.group)
    }

    fn busy(&self) -> bool {
        !self.active.is_empty() || !self.member.held.is_empty()
    }

    fn plays_2pc(&self) -> bool {
        self.member.leading
    }

    // ----- the log's answers -------------------------------------------------------------

    /// After any handler of the log: act on applied operations, notice a change of leader,
    /// and, leading, finish what the table holds.
    fn after_log(&mut self, ctx: &mut Ctx, events: Vec<LogEvent>) {
        for e in events {
            match e {
                LogEvent::Applied(op) => self.on_applied(ctx, op),
                LogEvent::Refused(_) => {} // not leading: noticed just below
            }
        }
        let leads = self.member.log.leader(self.group()) == Some(ctx.id());
        if leads && !self.member.leading {
            self.member.leading = true;
            self.announced.clear();
        } else if !leads && self.member.leading {
            self.member.leading = false;
            self.active.clear(); // the next leader finishes from the table
        }
        if self.member.leading {
            self.finish_table(ctx);
        }
        self.release_held(ctx);
    }

    // ----- 2PC messages --------------------------------------------------------------------

    fn handle(&mut self, ctx: &mut Ctx, origin: NodeId, msg: two_pc::Msg) {
        // A participant group's member speaks for its participant (see `super::route`).
        let origin = match msg {
            two_pc::Msg::Client(_) => origin,
            _ => self.routes.heard(&self.config.parties, origin),
        };
        match msg {
            two_pc::Msg::Client(ClientMsg::Request { txn, .. }) => self.begin(ctx, txn, None),
            two_pc::Msg::InitiatorPrepared { txn } => self.begin(ctx, txn, Some(origin)),
            two_pc::Msg::Vote { txn, vote } => self.on_vote(ctx, origin, txn, vote),
            two_pc::Msg::DecisionRequest { txn } => self.finish(ctx, txn, Some(origin)),
            other => unreachable!("the manager got {other:?}"),
        }
    }
}

impl CoordinatorReplica {
    /// The log applied `op`: announce the decision the table shows; a transaction still only
    /// begun that this leader is not running gets aborted, and an abort that found the row
    /// other than it expected is proposed again against the row as it is.
    fn on_applied(&mut self, ctx: &mut Ctx, op: OpId) {
        let txn = txn_of(op);
        if !self.member.leading {
            return;
        }
        match self.member.log.state(txn) {
            Some(TxnState::Decided { outcome, mask }) => self.announce(ctx, txn, outcome, mask),
            Some(TxnState::Begun { .. }) => match self.active.get(&txn) {
                None => self.finish(ctx, txn, None),
                Some(a) if a.pending == Some(op) => self.propose_abort(ctx, txn),
                Some(_) => {} // our begun entry: votes decide
            },
            None => unreachable!("{txn}: an applied transition leaves a row"),
        }
    }

    /// A new leader's duty: every decided row is announced (once per leadership), every row
    /// only begun and not run here is aborted through the log.
    fn finish_table(&mut self, ctx: &mut Ctx) {
        let rows: Vec<(TxnId, TxnState)> = self
            .member
            .log
            .rows(TxnState::decode)
            .filter(|(t, _)| !self.announced.contains(t) && !self.active.contains_key(t))
            .collect();
        for (txn, state) in rows {
            match state {
                TxnState::Decided { outcome, mask } => self.announce(ctx, txn, outcome, mask),
                TxnState::Begun { .. } => self.finish(ctx, txn, None),
            }
        }
    }

    // ----- phase 1 -------------------------------------------------------------------------

    /// A new transaction (in Gray & Lamport's shape, with its initiating RM prepared).
    fn begin(&mut self, ctx: &mut Ctx, txn: Txn, initiator: Option<NodeId>) {
        let id = txn.id;
        match self.member.log.state(id) {
            Some(TxnState::Decided { outcome, .. }) => {
                if let Some(rm) = initiator {
                    let to = self.routes.to(rm);
                    ctx.send(to, Msg::TwoPc(two_pc::Msg::Decision { txn: id, outcome }));
                } else {
                    reply_to_client(ctx, self.config.layout.client(), id, outcome);
                }
                return;
            }
            Some(TxnState::Begun { .. }) => return self.finish(ctx, id, initiator),
            None if self.active.contains_key(&id) => return, // a duplicate
            None => {}
        }
        let participants = txn.participants();
        assert!(!participants.is_empty(), "{id} touches no participant");
        let begun = TxnState::Begun { mask: self.mask_of(&participants) };
        let yes = initiator.into_iter().collect();
        let phase = Phase::Collecting { yes };
        let active = Active {
            participants: participants.clone(),
            phase,
            askers: BTreeSet::new(),
            pending: None,
        };
        self.active.insert(id, active);
        self.submit(ctx, transition(id, None, begun));
        let (to, sent) = ((&participants[..], initiator), Point::PrepareSent.name());
        send_prepares(ctx, &txn, to, sent, |p, prepare| {
            (self.routes.to(p), Msg::TwoPc(two_pc::Msg::Prepare(prepare)))
        });
        ctx.set_timer(Duration::from_us(self.config.votes_timeout_us()), Timer::Votes(id));
        if let Some(rm) = initiator {
            self.on_vote(ctx, rm, id, Vote::Yes);
        }
    }

    fn on_vote(&mut self, ctx: &mut Ctx, from: NodeId, txn: TxnId, vote: Vote) {
        let Some(a) = self.active.get_mut(&txn) else {
            // Not running here: a yes voter needs the outcome, whatever the table makes it.
            if vote == Vote::Yes {
                self.finish(ctx, txn, Some(from));
            }
            return;
        };
        let Phase::Collecting { yes } = &mut a.phase else {
            if vote == Vote::Yes {
                a.askers.insert(from); // deciding: told with the others
            }
            return;
        };
        match tally(ctx, (yes, &a.participants), (from, vote), Point::AllVotesIn.name()) {
            Tally::Abort => self.decide(ctx, txn, Outcome::Abort),
            Tally::AllYes => self.decide(ctx, txn, Outcome::Commit),
            Tally::Waiting => {}
        }
    }

    // ----- phase 2 -------------------------------------------------------------------------

    /// Proposes the decision: begun → decided, applied only if nothing decided it first.
    fn decide(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome) {
        let mask = self.mask_of(&self.active[&txn].participants);
        let op =
            transition(txn, Some(TxnState::Begun { mask }), TxnState::Decided { outcome, mask });
        let a = self.active.get_mut(&txn).expect("deciding a running transaction");
        a.phase = Phase::Deciding;
        a.pending = Some(op.id);
        ctx.cancel_timer(Timer::Votes(txn));
        self.submit(ctx, op);
        ctx.mark(Point::DecisionProposed.name());
    }

    /// Finishes a transaction this leader is not collecting votes for: announce what the table
    /// says, or abort it through the log. `asker` (a participant) is told the outcome.
    fn finish(&mut self, ctx: &mut Ctx, txn: TxnId, asker: Option<NodeId>) {
        if let Some(TxnState::Decided { outcome, .. }) = self.member.log.state(txn) {
            if let Some(p) = asker {
                ctx.send(self.routes.to(p), Msg::TwoPc(two_pc::Msg::Decision { txn, outcome }));
            }
            return;
        }
        if let Some(a) = self.active.get_mut(&txn) {
            a.askers.extend(asker); // collecting or deciding here: the answer comes with it
            return;
        }
        let participants = match self.member.log.state(txn) {
            Some(state) => self.participants_of(state.mask()),
            None => Vec::new(),
        };
        let askers = asker.into_iter().collect();
        let active = Active { participants, phase: Phase::Deciding, askers, pending: None };
        self.active.insert(txn, active);
        self.propose_abort(ctx, txn);
    }

    /// Proposes abort against the row as the table shows it now.
    fn propose_abort(&mut self, ctx: &mut Ctx, txn: TxnId) {
        let now = self.member.log.state(txn);
        let mask = now.map_or(0, TxnState::mask);
        let op = transition(txn, now, TxnState::Decided { outcome: Outcome::Abort, mask });
        if let Some(a) = self.active.get_mut(&txn) {
            a.pending = Some(op.id);
        }
        self.submit(ctx, op);
    }

    /// The log applied `txn`'s decision: tell every participant, every asker and the client.
    fn announce(&mut self, ctx: &mut Ctx, txn: TxnId, outcome: Outcome, mask: u64) {
        if !self.announced.insert(txn) {
            return;
        }
        ctx.mark(Point::DecisionCommitted.name());
        ctx.cancel_timer(Timer::Votes(txn));
        let askers = self.active.remove(&txn).map(|a| a.askers).unwrap_or_default();
        let mut targets = self.participants_of(mask);
        for p in askers {
            if !targets.contains(&p) {
                targets.push(p);
            }
        }
        ctx.observe(Observation::Decided { txn, outcome });
        let targets: Vec<NodeId> = targets.iter().map(|&p| self.routes.to(p)).collect();
        send_marked(
            ctx,
            &targets,
            Msg::TwoPc(two_pc::Msg::Decision { txn, outcome }),
            DECISION_SENT,
        );
        if self.config.shape() == Shape::Classic {
            reply_to_client(ctx, self.config.layout.client(), txn, outcome);
        }
    }
}

/// Participants a row's mask can name (bit `i`: participant node `i + 1`).
const MASK_BITS: u32 = 60;

impl CoordinatorReplica {
    /// A transaction's participants as its row stores them. A cluster of more than
    /// [`MASK_BITS`] participants stores none (0): its rows' participants are all of them.
    fn mask_of(&self, participants: &[NodeId]) -> u64 {
        if self.config.layout.participants > MASK_BITS {
            return 0;
        }
        participants.iter().fold(0, |m, p| m | 1 << (p.0 - 1))
    }

    /// Whom a row's outcome goes to.
    fn participants_of(&self, mask: u64) -> Vec<NodeId> {
        let layout = &self.config.layout;
        if layout.participants > MASK_BITS {
            return layout.participant_ids().collect();
        }
        (0..MASK_BITS).filter(|i| mask & 1 << i != 0).map(|i| NodeId(i + 1)).collect()
    }
}
