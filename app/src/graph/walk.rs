//! A breadth-first walk out from one node, step by step, up to a node limit. The caller fetches
//! the edges that touch each frontier from wherever they live and hands them in, so the walk
//! itself is pure.
use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

pub struct Walk<K> {
    /// Every node reached, with the step it was reached at (the root: 0).
    pub depth_of: HashMap<K, i32>,
    /// The edges (source, relation, target) between nodes reached.
    pub edges: BTreeSet<(K, String, K)>,
    /// The nodes reached at the last step: whose edges to fetch next.
    pub frontier: Vec<K>,
    /// Some node was left out for the limit.
    pub truncated: bool,
    max_nodes: usize,
    steps: i32,
}

impl<K: Copy + Eq + Hash + Ord> Walk<K> {
    pub fn new(root: K, max_nodes: usize) -> Self {
        Walk { depth_of: HashMap::from([(root, 0)]), edges: BTreeSet::new(), frontier: vec![root], truncated: false, max_nodes, steps: 0 }
    }

    /// Takes the edges touching the frontier: their other ends are the next frontier, until
    /// the node limit; an edge is kept when both its ends are in.
    pub fn step(&mut self, found: Vec<(K, String, K)>) {
        self.steps += 1;
        let mut next = Vec::new();
        for (s, relation, t) in found {
            for n in [s, t] {
                if !self.depth_of.contains_key(&n) {
                    if self.depth_of.len() >= self.max_nodes {
                        self.truncated = true;
                        continue;
                    }
                    self.depth_of.insert(n, self.steps);
                    next.push(n);
                }
            }
            if self.depth_of.contains_key(&s) && self.depth_of.contains_key(&t) {
                self.edges.insert((s, relation, t));
            }
        }
        self.frontier = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_reaches_the_next_ring_and_the_limit_truncates() {
        // 0 → 1 → 2 → 3, and 0 → 4
        let edges = [(0, 1), (1, 2), (2, 3), (0, 4)];
        let touching = |frontier: &[u8]| -> Vec<(u8, String, u8)> {
            edges.iter().filter(|(s, t)| frontier.contains(s) || frontier.contains(t)).map(|(s, t)| (*s, "depends_on".to_owned(), *t)).collect()
        };
        let mut walk = Walk::new(0u8, 10);
        walk.step(touching(&walk.frontier.clone()));
        assert_eq!(walk.depth_of.get(&1), Some(&1));
        assert_eq!(walk.depth_of.get(&4), Some(&1));
        assert_eq!(walk.depth_of.get(&2), None);
        walk.step(touching(&walk.frontier.clone()));
        assert_eq!(walk.depth_of.get(&2), Some(&2));
        assert_eq!(walk.edges.len(), 3);
        assert!(!walk.truncated);

        let mut small = Walk::new(0u8, 2);
        small.step(touching(&small.frontier.clone()));
        assert_eq!(small.depth_of.len(), 2);
        assert!(small.truncated, "one of 1 and 4 was left out");
        assert_eq!(small.edges.len(), 1, "only the edge whose ends are both in");
    }
}
