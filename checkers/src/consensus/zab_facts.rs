//! What ZAB's properties ([`super::zab`]) are judged on, kept as the history grows: each
//! primary's broadcasts and each replica life's deliveries, in order.

use std::collections::BTreeMap;

use sim_core::{NodeId, Time};

/// A zxid: (epoch, counter).
pub type Zxid = (u64, u64);

/// One delivery: which transaction, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub zxid: Zxid,
    pub op: u64,
    pub at: Time,
}

/// One primary's broadcast: what and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Broadcast {
    pub zxid: Zxid,
    pub op: u64,
    pub at: Time,
}

/// One life of one replica and what it delivered, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Life {
    pub node: NodeId,
    pub deliveries: Vec<Delivery>,
}

/// ZAB's facts. Bounded by the run: one broadcast per proposal, one delivery per delivered
/// transaction per life, one life per replica start.
#[derive(Clone, Debug, Default)]
pub struct ZabFacts {
    /// Per primary (epoch, node): its broadcasts in order.
    pub primaries: BTreeMap<(u64, NodeId), Vec<Broadcast>>,
    /// Every life that delivered something, in the order each started delivering.
    pub lives: Vec<Life>,
    /// Per node: its current life in `lives`, if it delivered anything since its last crash.
    current: BTreeMap<NodeId, usize>,
}

impl ZabFacts {
    pub fn broadcast(&mut self, time: Time, node: NodeId, epoch: u64, counter: u64, op: u64) {
        let b = Broadcast { zxid: (epoch, counter), op, at: time };
        self.primaries.entry((epoch, node)).or_default().push(b);
    }

    pub fn deliver(&mut self, time: Time, node: NodeId, epoch: u64, counter: u64, op: u64) {
        let life = *self.current.entry(node).or_insert_with(|| {
            self.lives.push(Life { node, deliveries: Vec::new() });
            self.lives.len() - 1
        });
        self.lives[life].deliveries.push(Delivery { zxid: (epoch, counter), op, at: time });
    }

    /// `node` crashed: its next delivery starts a new life.
    pub fn crash(&mut self, node: NodeId) {
        self.current.remove(&node);
    }

    pub(crate) fn active(&self) -> bool {
        !self.primaries.is_empty() || !self.lives.is_empty()
    }

    /// The broadcast of `zxid` (the first one, if a broken run broadcast it twice), and the
    /// epoch of the primary that made it.
    pub(crate) fn broadcast_of(&self, zxid: Zxid) -> Option<(u64, &Broadcast)> {
        self.primaries
            .iter()
            .find_map(|(&(e, _), bs)| bs.iter().find(|b| b.zxid == zxid).map(|b| (e, b)))
    }
}
