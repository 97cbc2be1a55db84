//! Running one protocol's state machine inside another's node, unchanged.
//!
//! The replicated coordinator reuses the Raft and Multi-Paxos replicas, the 2PC participant
//! and the client as they are: each is a `Process` of its own vocabulary. [`embed`] runs one
//! of their handlers against a detached context of that vocabulary (same node, same clock,
//! the hosting node's own random stream) and hands back the effects it asked for, in order;
//! the host translates each into its own vocabulary and pushes it, so a crash still lands
//! between any two of them exactly as if the embedded machine were the node.
//!
//! What is lost is only an explorer's forcing of `choose` calls inside the embedded handler
//! (they draw from the stream, as under the runner); this family has no explorer model.

use sim_core::{Context, Effect, NodeId, Protocol};

/// Runs `handler` on a context of vocabulary `Q` for node `as_id` and returns its effects.
pub fn embed<P: Protocol, Q: Protocol>(
    ctx: &mut Context<'_, P>,
    as_id: NodeId,
    handler: impl FnOnce(&mut Context<'_, Q>),
) -> Vec<Effect<Q>> {
    let mut effects = Vec::new();
    let (now, nodes) = (ctx.now(), ctx.nodes());
    let mut inner = Context::detached(as_id, now, nodes, ctx.rng(), &mut effects);
    handler(&mut inner);
    effects
}

/// Pushes the effects that need no translation but of their payload: timers, records,
/// observations and marks, wrapped by `timer` and `record`. Sends are the caller's (they are
/// routed, not just wrapped); `observe` says which observations pass.
pub fn push_local<P: Protocol, Q: Protocol<Obs = P::Obs>>(
    ctx: &mut Context<'_, P>,
    effect: Effect<Q>,
    timer: impl Fn(Q::Timer) -> P::Timer,
    record: impl Fn(Q::Record) -> P::Record,
    observe: bool,
) {
    match effect {
        Effect::SetTimer { after, timer: t } => ctx.set_timer(after, timer(t)),
        Effect::CancelTimer { timer: t } => ctx.cancel_timer(timer(t)),
        Effect::Persist { record: r } => ctx.persist(record(r)),
        Effect::Observe { obs } if observe => ctx.observe(obs),
        Effect::Observe { .. } => {}
        Effect::Mark { name } => ctx.mark(name),
        Effect::Send { .. } => unreachable!("sends are routed by the caller"),
    }
}
