//! Sends a choreographed saga keeps until they are acknowledged: the broker's deliveries
//! (kept until the subscriber's Ack) and a service's publishes (kept until the broker's
//! Stored). Both re-send after a jittered, bounded backoff, count their re-sends, and tell
//! the explorer when one spent its budget: the same bookkeeping, written once.

use std::collections::BTreeMap;

use sim_core::{Context, Protocol};

use super::EventId;

/// What a sender still waits to hear acknowledged: per event, what it re-sends (`V`) and
/// the re-sends so far.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Unacked<V>(BTreeMap<EventId, (V, u32)>);

impl<V> Default for Unacked<V> {
    fn default() -> Self {
        Unacked(BTreeMap::new())
    }
}

impl<V: Clone> Unacked<V> {
    /// `id` was sent (again from the start: no re-sends yet).
    pub fn insert(&mut self, id: EventId, v: V) {
        self.0.insert(id, (v, 0));
    }

    /// `id` was acknowledged: forget it, and cancel its re-send `timer` if it was awaited.
    pub fn ack<P: Protocol>(&mut self, ctx: &mut Context<'_, P>, id: EventId, timer: P::Timer) {
        if self.0.remove(&id).is_some() {
            ctx.cancel_timer(timer);
        }
    }

    /// The re-send timer of `id` fired: what to send again and this re-send's number, if
    /// `id` is still awaited.
    pub fn resend(&mut self, id: EventId) -> Option<(V, u32)> {
        let (v, attempts) = self.0.get_mut(&id)?;
        *attempts += 1;
        Some((v.clone(), *attempts))
    }

    /// Whether some send spent its budget of `max` re-sends: it waits for a recovery of its
    /// sender (what the explorer reads on terminal states).
    pub fn spent(&self, max: u32) -> bool {
        self.0.values().any(|&(_, attempts)| attempts >= max)
    }

    /// What is awaited, in event order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.values().map(|(v, _)| v)
    }
}

#[cfg(test)]
mod tests {
    use sim_core::NodeId;

    use super::*;
    use crate::explore::stable_hash_of as hash;
    use crate::saga::choreography::EventKind;
    use crate::txn::TxnId;

    fn id(txn: u64, kind: EventKind) -> EventId {
        EventId { txn: TxnId(txn), kind }
    }

    #[test]
    fn resends_count_up_to_the_budget_and_restart_on_a_new_send() {
        let (a, b) = (id(1, EventKind::Started), id(1, EventKind::Done(1)));
        let mut u = Unacked::default();
        u.insert(a, NodeId(1));
        u.insert(b, NodeId(2));
        assert_eq!(u.resend(a), Some((NodeId(1), 1)));
        assert_eq!(u.resend(a), Some((NodeId(1), 2)));
        assert!(u.spent(2) && !u.spent(3), "two re-sends spend a budget of two");
        assert_eq!(u.resend(id(2, EventKind::Started)), None, "never sent: nothing to re-send");
        assert_eq!(u.values().copied().collect::<Vec<_>>(), [NodeId(1), NodeId(2)]);
        u.insert(a, NodeId(3));
        assert!(!u.spent(1), "sent again from the start");
    }

    /// A state's fingerprint hashes the map as it is: wrapping it changed no explored state.
    #[test]
    fn it_hashes_as_the_map_it_wraps() {
        let mut u = Unacked::default();
        u.insert(id(1, EventKind::Failed(2)), NodeId(4));
        let mut map = BTreeMap::new();
        map.insert(id(1, EventKind::Failed(2)), (NodeId(4), 0u32));
        assert_eq!(hash(&u), hash(&map));
    }
}
