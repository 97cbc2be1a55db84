//! Roles as data: which node plays which role in a cluster, by name, so that code outside a
//! protocol family (checkers, the CLI, studies, diagrams) finds "the participants" or "the
//! coordinator" without knowing the protocol, and a replicated log with no fixed coordinator
//! fits as well as a commit protocol.

use serde::{Deserialize, Serialize};
use sim_core::NodeId;

use crate::txn::Layout;

/// A role some nodes of a family play.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleSpec {
    /// The role's name (`coordinator`, `participant`, `acceptor`, `replica`, `broker`, ...).
    pub name: &'static str,
    /// How diagrams and the CLI name its nodes: the label alone when one node plays the role
    /// (`coord`), the label and the node id otherwise (`p3`).
    pub label: &'static str,
    /// The marks a node of this role emits on every transaction, in protocol order: the
    /// crash points studies and searches use. Declared in the module that emits them.
    pub crash_points: &'static [&'static str],
    /// Marks emitted only on failure paths (termination, recovery, compensation): valid
    /// crash points, never reached by a fault-free run.
    pub failure_points: &'static [&'static str],
}

/// Which node plays which role: one role name per node, and the host of each node when
/// processes share hosts. Built by a family's [`Family::layout`]; read by everything that must
/// find "the participants" or "the coordinator" without knowing the protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// `names[i]`: the role of node `i`.
    pub names: Vec<String>,
    /// `labels[i]`: how node `i` is named in diagrams and on the command line.
    pub labels: Vec<String>,
    /// Co-location: `hosts[i]` is node `i`'s host; `None`, every node is its own host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<u32>>,
    /// Replicated groups: the nodes that together play one party (a coordinator group, a
    /// participant group), its first member first; the group's kind is that member's role.
    /// What a crash limit per group reads (`check --crash-limit participant-group=1`).
    /// Empty: no node is replicated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Vec<NodeId>>,
}

impl Roles {
    /// Lays out `groups` in order: each `(role, count)` takes the next `count` ids.
    pub fn from_groups(specs: &[RoleSpec], groups: &[(&str, u32)]) -> Roles {
        let mut r = Roles::default();
        for &(name, count) in groups {
            let spec = specs.iter().find(|s| s.name == name);
            let label = spec.map_or(name, |s| s.label);
            for _ in 0..count {
                let id = r.names.len();
                r.names.push(name.to_string());
                r.labels.push(if count == 1 { label.to_string() } else { format!("{label}{id}") });
            }
        }
        r
    }

    pub fn nodes(&self) -> u32 {
        self.names.len() as u32
    }
    /// The role of `id` (empty past the cluster).
    pub fn of(&self, id: NodeId) -> &str {
        self.names.get(id.index()).map_or("", String::as_str)
    }
    pub fn label(&self, id: NodeId) -> String {
        self.labels.get(id.index()).cloned().unwrap_or_else(|| id.to_string())
    }
    /// The nodes playing `role`, ascending.
    pub fn ids<'a>(&'a self, role: &'a str) -> impl Iterator<Item = NodeId> + Clone + 'a {
        self.names
            .iter()
            .enumerate()
            .filter(move |(_, n)| *n == role)
            .map(|(i, _)| NodeId(i as u32))
    }
    pub fn first(&self, role: &str) -> Option<NodeId> {
        self.ids(role).next()
    }
    pub fn is(&self, id: NodeId, role: &str) -> bool {
        self.of(id) == role
    }
    /// The node a user names by its label (`coord`, `p2`, `client`) or as `n<id>` / `<id>`.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        if let Some(i) = self.labels.iter().position(|l| l == name) {
            return Some(NodeId(i as u32));
        }
        let digits = name.strip_prefix('n').unwrap_or(name);
        digits.parse::<u32>().ok().filter(|&i| i < self.nodes()).map(NodeId)
    }
    /// Whether `a` and `b` run on the same host.
    pub fn same_host(&self, a: NodeId, b: NodeId) -> bool {
        self.hosts.as_ref().is_some_and(|h| h.get(a.index()) == h.get(b.index()))
    }
}

/// The role specs of a commit layout's three roles: the coordinator's crash points (normal
/// path, then failure paths), the participants' (likewise), and a client with none.
pub const fn commit_role_specs(
    coordinator: (&'static [&'static str], &'static [&'static str]),
    participant: (&'static [&'static str], &'static [&'static str]),
) -> [RoleSpec; 3] {
    [
        RoleSpec {
            name: "coordinator",
            label: "coord",
            crash_points: coordinator.0,
            failure_points: coordinator.1,
        },
        RoleSpec {
            name: "participant",
            label: "p",
            crash_points: participant.0,
            failure_points: participant.1,
        },
        RoleSpec { name: "client", label: "client", crash_points: &[], failure_points: &[] },
    ]
}

/// The roles of a commit [`Layout`] (coordinator, participants, client) whose extra nodes play
/// `extra_role`, labelled by `specs`.
pub fn commit_roles(layout: &Layout, specs: &[RoleSpec], extra_role: &str) -> Roles {
    let mut r = Roles::from_groups(
        specs,
        &[("coordinator", 1), ("participant", layout.participants), ("client", 1)],
    );
    let first = r.nodes();
    r.names.extend((0..layout.extra).map(|_| extra_role.to_string()));
    // Extra nodes are labelled by their own id, like participants.
    let label = specs.iter().find(|s| s.name == extra_role).map_or(extra_role, |s| s.label);
    r.labels.extend((0..layout.extra).map(|j| format!("{label}{}", first + j)));
    r.hosts = layout.hosts();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_from_groups_number_and_label_nodes() {
        const SPECS: &[RoleSpec] =
            &[RoleSpec { name: "participant", label: "p", crash_points: &[], failure_points: &[] }];
        let r = Roles::from_groups(SPECS, &[("coordinator", 1), ("participant", 2), ("client", 1)]);
        assert_eq!(r.labels, ["coordinator", "p1", "p2", "client"]);
        assert_eq!(r.ids("participant").collect::<Vec<_>>(), [NodeId(1), NodeId(2)]);
        assert_eq!(r.find("p2"), Some(NodeId(2)));
        assert_eq!(r.find("n3"), Some(NodeId(3)));
        assert_eq!(r.find("n4"), None);
    }
}
