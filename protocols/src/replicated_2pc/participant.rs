//! A participant: `crate::two_pc`'s, unchanged, talking to a coordinator group instead of one
//! coordinator.
//!
//! The 2PC participant addresses "the coordinator" (node 0) and recognises it by that id.
//! Here whatever a member sends it arrives as from node 0, and what it sends to node 0 goes
//! to the member that last spoke to it (the leader that prepared it, in the normal case) —
//! except inquiries, which go to every member (the one it knew may be down; followers
//! forward to their leader), and acknowledgements, which are not sent (the log keeps every
//! outcome: the manager ends nothing).

use sim_core::{Boot, Effect, NodeId};

use super::embed::{embed, push_local};
use super::{Config, Ctx, Msg, Record, Replicated2pc, Timer};
use crate::shared::Shared;
use crate::two_pc::{self, TwoPc};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Participant {
    config: Shared<Config>,
    inner: two_pc::Participant,
    /// The member "the coordinator" means: the last one heard from.
    leader: NodeId,
}

impl Participant {
    pub fn new(config: &Shared<Config>, id: NodeId, boot: Boot<'_, Record>) -> Participant {
        let disk: Vec<two_pc::Record> = boot
            .disk()
            .iter()
            .map(|r| match r {
                Record::Participant(r) => r.clone(),
                other => unreachable!("{id}: a participant wrote {other:?}"),
            })
            .collect();
        let boot = if boot.is_recovery() { Boot::Recovered { disk: &disk } } else { Boot::Fresh };
        let inner = two_pc::Participant::new(&config.two_pc, id, boot);
        Participant { config: config.clone(), inner, leader: config.layout.coordinator() }
    }

    /// The 2PC participant inside (its doubts and locks).
    pub fn inner(&self) -> &two_pc::Participant {
        &self.inner
    }

    pub fn on_start(&mut self, ctx: &mut Ctx) {
        self.run(ctx, |p, c| p.on_start(c));
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, from: NodeId, msg: Msg) {
        let coordinator = self.config.layout.coordinator();
        let (from, msg) = match msg {
            Msg::Client(m) => (from, two_pc::Msg::Client(m)),
            Msg::TwoPc(m) if self.config.group.contains(from) => {
                self.leader = from;
                (coordinator, m)
            }
            Msg::TwoPc(m) => (from, m),
            other => unreachable!("participant {} got {other:?}", ctx.id()),
        };
        self.run(ctx, |p, c| p.on_message(c, from, msg));
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, timer: Timer) {
        let Timer::TwoPc(t) = timer else {
            unreachable!("participant {} got timer {timer:?}", ctx.id())
        };
        self.run(ctx, |p, c| p.on_timer(c, t));
    }

    fn run(
        &mut self,
        ctx: &mut Ctx,
        handler: impl FnOnce(&mut two_pc::Participant, &mut two_pc::Ctx),
    ) {
        let me = ctx.id();
        let effects = embed::<Replicated2pc, TwoPc>(ctx, me, |c| handler(&mut self.inner, c));
        for e in effects {
            match e {
                Effect::Send { to, msg } => send(ctx, &self.config, self.leader, |p| p, to, msg),
                other => push_local(ctx, other, Timer::TwoPc, Record::Participant, true),
            }
        }
    }
}

/// Sends what a 2PC participant addressed to `to`: to the client as is; to "the coordinator"
/// (node 0) at member `leader` (the last one heard from) — except inquiries, which go to
/// every member (the one it knew may be down; followers forward to their leader), and
/// acknowledgements, which are not sent (the log keeps every outcome); to another
/// participant at `route(participant)` (the member speaking for it, see `super::route`).
pub(super) fn send(
    ctx: &mut Ctx,
    config: &Config,
    leader: NodeId,
    route: impl Fn(NodeId) -> NodeId,
    to: NodeId,
    msg: two_pc::Msg,
) {
    match msg {
        two_pc::Msg::Client(m) => ctx.send(to, Msg::Client(m)),
        msg if to != config.layout.coordinator() => ctx.send(route(to), Msg::TwoPc(msg)),
        two_pc::Msg::Ack { .. } => {}
        msg @ two_pc::Msg::DecisionRequest { .. } => {
            ctx.broadcast(config.group.members.iter().copied(), Msg::TwoPc(msg))
        }
        msg => ctx.send(leader, Msg::TwoPc(msg)),
    }
}
