//! Who speaks for a participant: with `participant_replicas` R > 1 each participant is a group
//! of R members, the participant's own node first, and only the group's leader plays the 2PC
//! participant. Everybody else (the coordinator group's leader, the other participants, the
//! client) still thinks in participants: "participant i" is the group's first member's id
//! (its *party*), what transactions, masks and votes name.
//!
//! [`Routes`] translates both ways at a node's edge: a message from any member of group i is
//! from party i (and makes that member the one to send to next: the last member that spoke
//! for the group, its leader as far as this node knows), and a message to party i goes to
//! that member. Followers forward what reaches them to their leader, so the first guess (the
//! party's own node) is right until a leader change. With R = 1 there are no groups: every
//! node is its own party and every route the identity, so nothing changes.

use std::collections::BTreeMap;

use sim_core::NodeId;

use super::log::Group;

/// The participant groups of a run (empty with R = 1), by party.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Parties {
    /// Group of participant `i` at index `i - 1`, its first member `i` itself.
    groups: Vec<Group>,
}

impl Parties {
    /// Participants `1..=participants`, each a group of `replicas`: the participant's node,
    /// then its `replicas - 1` members taken in order from `extra`.
    pub fn new(
        participants: u32,
        replicas: u32,
        extra: &mut impl Iterator<Item = NodeId>,
    ) -> Parties {
        if replicas <= 1 {
            return Parties::default();
        }
        let groups = (1..=participants)
            .map(|p| Group {
                members: std::iter::once(NodeId(p))
                    .chain(extra.take(replicas as usize - 1))
                    .collect(),
            })
            .collect::<Vec<Group>>();
        assert!(
            groups.iter().all(|g| g.members.len() == replicas as usize),
            "the layout has too few extra nodes for the participant groups"
        );
        Parties { groups }
    }

    /// The group `node` is a member of, if any.
    pub fn group_of(&self, node: NodeId) -> Option<&Group> {
        self.groups.iter().find(|g| g.contains(node))
    }

    /// The participant `node` speaks for: its group's first member (itself outside groups).
    pub fn party(&self, node: NodeId) -> NodeId {
        self.group_of(node).map_or(node, |g| g.members[0])
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }
}

/// One node's view of who leads each participant group: the member heard from last.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Routes {
    /// Party → the member that spoke for it last (absent: the party's own node).
    last: BTreeMap<NodeId, NodeId>,
}

impl Routes {
    /// A message came from `node`: the party it speaks for (remembering `node` as the one to
    /// send to).
    pub fn heard(&mut self, parties: &Parties, node: NodeId) -> NodeId {
        let party = parties.party(node);
        if party != node || self.last.contains_key(&party) {
            self.last.insert(party, node);
        }
        party
    }

    /// Where a message for `party` goes.
    pub fn to(&self, party: NodeId) -> NodeId {
        self.last.get(&party).copied().unwrap_or(party)
    }
}
