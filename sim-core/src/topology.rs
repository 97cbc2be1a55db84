//! Who can talk to whom. The connectivity of the cluster is a directed graph (petgraph): an
//! edge `a -> b` means messages from `a` reach `b`. Partitions, one-way cuts and single-link
//! cuts remove edges; heal restores the complete graph. Components and reachability are
//! graph queries. The hot path reads a dense copy of the adjacency, rebuilt on each change
//! (changes are rare, sends are not).

use petgraph::algo::{has_path_connecting, kosaraju_scc};
use petgraph::graphmap::DiGraphMap;

use crate::fault::Action;
use crate::id::NodeId;

#[derive(Clone, Debug)]
pub struct Topology {
    n: u32,
    graph: DiGraphMap<u32, ()>,
    /// `up[from * n + to]`: mirror of the graph's edges for O(1) checks per send.
    up: Vec<bool>,
    /// Every link is up: the common case, checked with one load.
    whole: bool,
}

impl Topology {
    /// A fully connected cluster of `n` nodes.
    pub fn new(n: u32) -> Topology {
        let mut t = Topology { n, graph: DiGraphMap::new(), up: Vec::new(), whole: true };
        t.heal();
        t
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.graph.clear();
        for a in 0..self.n {
            self.graph.add_node(a);
        }
        for a in 0..self.n {
            for b in 0..self.n {
                if a != b {
                    self.graph.add_edge(a, b, ());
                }
            }
        }
        self.sync();
    }

    /// Splits the cluster into groups that cannot reach each other. Nodes listed in no
    /// group form one further group together. Links inside a group are left as they were.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) {
        let mut group_of = vec![usize::MAX; self.n as usize];
        for (g, members) in groups.iter().enumerate() {
            for m in members {
                group_of[m.index()] = g;
            }
        }
        for a in 0..self.n {
            for b in 0..self.n {
                if group_of[a as usize] != group_of[b as usize] {
                    self.graph.remove_edge(a, b);
                }
            }
        }
        self.sync();
    }

    /// Cuts `from -> to` only: `to` still reaches `from`.
    pub fn cut_one_way(&mut self, from: NodeId, to: NodeId) {
        self.graph.remove_edge(from.0, to.0);
        self.sync();
    }

    /// Cuts the link between `a` and `b` in both directions.
    pub fn cut_link(&mut self, a: NodeId, b: NodeId) {
        self.graph.remove_edge(a.0, b.0);
        self.graph.remove_edge(b.0, a.0);
        self.sync();
    }

    /// Restores the link between `a` and `b` in both directions.
    pub fn heal_link(&mut self, a: NodeId, b: NodeId) {
        if a != b {
            self.graph.add_edge(a.0, b.0, ());
            self.graph.add_edge(b.0, a.0, ());
        }
        self.sync();
    }

    /// Applies `action` if it changes connectivity (partition, cuts, heals) and says whether
    /// it did; any other action leaves the topology alone. The engine applies faults through
    /// this, so a copy of the topology kept elsewhere (from the faults a run reports) follows
    /// the engine's exactly.
    pub fn apply(&mut self, action: &Action) -> bool {
        match action {
            Action::Partition { groups } => self.partition(groups),
            Action::CutOneWay { from, to } => self.cut_one_way(*from, *to),
            Action::CutLink { a, b } => self.cut_link(*a, *b),
            Action::HealLink { a, b } => self.heal_link(*a, *b),
            Action::Heal => self.heal(),
            _ => return false,
        }
        true
    }

    fn sync(&mut self) {
        let n = self.n as usize;
        self.up.clear();
        self.up.resize(n * n, false);
        for i in 0..n {
            self.up[i * n + i] = true; // a node always reaches itself
        }
        for (a, b, _) in self.graph.all_edges() {
            self.up[a as usize * n + b as usize] = true;
        }
        self.whole = self.up.iter().all(|&u| u);
    }

    /// Does a message sent on `from -> to` get through (ignoring loss)?
    #[inline]
    pub fn link_up(&self, from: NodeId, to: NodeId) -> bool {
        self.whole || self.up[from.index() * self.n as usize + to.index()]
    }

    /// Can `from` reach `to`, possibly through other nodes?
    pub fn reachable(&self, from: NodeId, to: NodeId) -> bool {
        from == to || has_path_connecting(&self.graph, from.0, to.0, None)
    }

    /// Strongly connected components, each sorted, listed by smallest member: with only
    /// symmetric partitions these are exactly the partition's sides.
    pub fn components(&self) -> Vec<Vec<NodeId>> {
        let mut comps: Vec<Vec<NodeId>> = kosaraju_scc(&self.graph)
            .into_iter()
            .map(|c| {
                let mut c: Vec<NodeId> = c.into_iter().map(NodeId).collect();
                c.sort();
                c
            })
            .collect();
        comps.sort();
        comps
    }

    /// Every directed link that is currently cut, in `(from, to)` order.
    pub fn cut_links(&self) -> Vec<(NodeId, NodeId)> {
        let n = self.n as usize;
        (0..n * n)
            .filter(|&i| !self.up[i])
            .map(|i| (NodeId((i / n) as u32), NodeId((i % n) as u32)))
            .collect()
    }

    pub fn is_whole(&self) -> bool {
        self.whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_splits_into_components_and_heal_restores() {
        let mut t = Topology::new(5);
        t.partition(&[vec![NodeId(0), NodeId(1)], vec![NodeId(2)]]);
        assert_eq!(
            t.components(),
            vec![vec![NodeId(0), NodeId(1)], vec![NodeId(2)], vec![NodeId(3), NodeId(4)]]
        );
        assert!(t.link_up(NodeId(0), NodeId(1)));
        assert!(!t.link_up(NodeId(0), NodeId(2)) && !t.link_up(NodeId(2), NodeId(0)));
        assert!(!t.reachable(NodeId(1), NodeId(4)));
        t.heal();
        assert!(t.is_whole());
        assert_eq!(t.components().len(), 1);
    }

    #[test]
    fn one_way_cut_keeps_reverse_direction_and_multi_hop_reachability() {
        let mut t = Topology::new(3);
        t.cut_one_way(NodeId(0), NodeId(1));
        assert!(!t.link_up(NodeId(0), NodeId(1)));
        assert!(t.link_up(NodeId(1), NodeId(0)));
        assert!(t.reachable(NodeId(0), NodeId(1)), "via node 2");
        assert_eq!(t.cut_links(), vec![(NodeId(0), NodeId(1))]);
    }
}
