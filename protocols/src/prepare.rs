//! A coordinator's first phase, the same in every commit family that has one (2PC's
//! Prepare, 3PC's and quorum commit's CanCommit, Paxos Commit's and replicated 2PC's
//! Prepare): each participant is asked to prepare its own writes, told who else takes part
//! (for termination), and the coordinator marks the crash point after the last request.
//!
//! Written once so that "which writes go to whom" and where the crash point sits cannot
//! drift apart between the families.

use sim_core::{Context, NodeId, Protocol};

use crate::txn::{Txn, Write};

/// Sends each of `participants` but `skip` (an initiating RM that prepared already) its
/// request to prepare `txn`, in order: `request(p, participants, writes at p)` says to whom
/// and in which message; then marks `sent`.
pub fn send_prepares<P: Protocol>(
    ctx: &mut Context<'_, P>,
    txn: &Txn,
    (participants, skip): (&[NodeId], Option<NodeId>),
    sent: &'static str,
    request: impl Fn(NodeId, Vec<NodeId>, Vec<Write>) -> (NodeId, P::Msg),
) {
    for &p in participants.iter().filter(|&&p| Some(p) != skip) {
        let (to, msg) = request(p, participants.to_vec(), txn.writes_at(p));
        ctx.send(to, msg);
    }
    ctx.mark(sent);
}
