//! What every commit protocol does the same way once an outcome is known: send it to a list
//! of nodes with crash points after the first and the last send, and tell the client.
//!
//! Written once so that the crash points a fault plan aims at ("decision sent to the first
//! participant but not the others") and the order of observation and reply mean the same in
//! 2PC, 3PC, Paxos Commit and the sagas.

use sim_core::{Context, NodeId, Protocol};

use crate::client::{ClientMsg, ClientWire};
use crate::txn::{Observation, Outcome, TxnId};

/// Sends `msg` to `targets` in order, marking `first` after the first send and `all` after
/// the last (the names of a `*SentToFirst` / `*SentToAll` pair of crash points), so a fault
/// plan can crash the sender between them.
pub fn send_marked<P: Protocol>(
    ctx: &mut Context<'_, P>,
    targets: &[NodeId],
    msg: P::Msg,
    (first, all): (&'static str, &'static str),
) {
    for (i, &p) in targets.iter().enumerate() {
        ctx.send(p, msg.clone());
        if i == 0 {
            ctx.mark(first);
        }
    }
    ctx.mark(all);
}

/// Tells the client at `client` how `txn` ended. Observed before the send: no trigger fires
/// between an observation and a send, so the count of replies is exact.
pub fn reply_to_client<P: ClientWire>(
    ctx: &mut Context<'_, P>,
    client: NodeId,
    txn: TxnId,
    outcome: Outcome,
) {
    ctx.observe(Observation::ReportedToClient { txn, outcome });
    ctx.send(client, P::wrap_msg(ClientMsg::Reply { txn, outcome }));
}
