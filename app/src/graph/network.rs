//! A network's weak points, apart from any domain (the topology is one): the nodes and links
//! whose loss splits it, and what each cuts off; the paths between two nodes, shortest first;
//! and how many paths join them that share no node and no link. petgraph finds articulation
//! points, bridges and flows, pathfinding the k shortest paths; this module maps keys to its
//! indexes and reads the answers.
//!
//! Links between the same two nodes (parallel cables, the members of a LAG, two circuits
//! between the same two routers) are one path: the two stay joined while any of them is up, so
//! none of them alone is a bridge. A group of things that fail together (one carrier, one
//! building entry, one power feed) is asked about as one (`Network::cut_by`).
use pathfinding::prelude::yen;
use petgraph::algo::articulation_points::articulation_points;
use petgraph::algo::dominators::simple_fast;
use petgraph::algo::{bridges, ford_fulkerson};
use petgraph::graph::{EdgeIndex, Graph, NodeIndex, UnGraph};
use petgraph::unionfind::UnionFind;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Nodes by key, and the links between them.
pub struct Network {
    keys: Vec<String>,
    index: HashMap<String, NodeIndex>,
    /// One edge for each pair of nodes that some link joins, added in `pairs`' order: edge i is
    /// pair i, and its weight is i.
    graph: UnGraph<(), usize>,
    /// The links of each joined pair, by key, sorted.
    pairs: Vec<Vec<String>>,
    /// Which pair each link is in.
    pair_of_link: HashMap<String, usize>,
}

/// Something whose loss splits the network, and what it cuts off: every part of the network it
/// was in but the largest that is left, largest first, each part's node keys sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    pub nodes: Vec<String>,
    pub links: Vec<String>,
    pub cut_off: Vec<Vec<String>>,
}

/// What a set of roots (the data centers' devices) reaches, kept to answer "if this fails"
/// without walking the network: the dominator tree (petgraph's `simple_fast`) of the network as a
/// flow graph from one start joined to every root, each joined pair of nodes a node of its own
/// between them. A node, or a pair, cuts off from the roots exactly what it dominates.
pub struct Reach {
    /// The dominator tree's children, by flow-graph index: the network's nodes, then its pairs.
    children: Vec<Vec<usize>>,
    /// The dominator tree's parents, by flow-graph index (none for the start, and for what the
    /// roots do not reach).
    parent: Vec<Option<usize>>,
    /// Which of the network's nodes the roots reach at all.
    reached: Vec<bool>,
    roots: Vec<NodeIndex>,
}

/// One thing every path to a node goes through: a node, or the links of a joined pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Through {
    Node(String),
    Links(Vec<String>),
}

/// A path: its nodes in order, and for each hop the links that make it (parallel ones together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub nodes: Vec<String>,
    pub hops: Vec<Vec<String>>,
}

impl Network {
    /// `links` are (link key, node key, node key). A link to a node not in `nodes`, or from a
    /// node to itself, joins nothing and is left out; a node key given twice is one node.
    pub fn new(nodes: impl IntoIterator<Item = String>, links: impl IntoIterator<Item = (String, String, String)>) -> Self {
        let mut graph = UnGraph::default();
        let mut keys = Vec::new();
        let mut index = HashMap::new();
        for key in nodes {
            if !index.contains_key(&key) {
                index.insert(key.clone(), graph.add_node(()));
                keys.push(key);
            }
        }
        let mut pairs: Vec<Vec<String>> = Vec::new();
        let mut pair_index: HashMap<(NodeIndex, NodeIndex), usize> = HashMap::new();
        let mut pair_of_link = HashMap::new();
        for (link, a, b) in links {
            let (Some(&a), Some(&b)) = (index.get(&a), index.get(&b)) else { continue };
            if a == b || pair_of_link.contains_key(&link) {
                continue;
            }
            let ends = (a.min(b), a.max(b));
            let p = *pair_index.entry(ends).or_insert_with(|| {
                graph.add_edge(ends.0, ends.1, pairs.len());
                pairs.push(Vec::new());
                pairs.len() - 1
            });
            pairs[p].push(link.clone());
            pair_of_link.insert(link, p);
        }
        for links in &mut pairs {
            links.sort();
        }
        Network { keys, index, graph, pairs, pair_of_link }
    }

    pub fn node_count(&self) -> usize {
        self.keys.len()
    }

    /// The nodes whose loss alone splits the network (articulation points), by key.
    pub fn cut_nodes(&self) -> Vec<Cut> {
        let mut points: Vec<NodeIndex> = articulation_points(&self.graph).into_iter().collect();
        points.sort_by(|a, b| self.keys[a.index()].cmp(&self.keys[b.index()]));
        points.into_iter().filter_map(|n| self.cut(&BTreeSet::from([n]), &BTreeSet::new())).collect()
    }

    /// The nodes whose loss alone splits the network, by key, sorted (`cut_nodes` says what each
    /// cuts off).
    pub fn cut_node_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = articulation_points(&self.graph).into_iter().map(|n| self.keys[n.index()].clone()).collect();
        keys.sort();
        keys
    }

    /// The links whose loss alone splits the network (bridges, a pair joined by one link only),
    /// by key.
    pub fn cut_links(&self) -> Vec<Cut> {
        let mut single: Vec<usize> = bridges(&self.graph).map(|e| *e.weight()).filter(|&p| self.pairs[p].len() == 1).collect();
        single.sort_by(|a, b| self.pairs[*a].cmp(&self.pairs[*b]));
        single.into_iter().filter_map(|p| self.cut(&BTreeSet::new(), &BTreeSet::from([p]))).collect()
    }

    /// Whether losing these nodes and links together splits the network, and what it cuts off.
    /// A pair of nodes stays joined while any of its links is not in `links`; keys that are not
    /// in the network are ignored.
    pub fn cut_by(&self, nodes: &[String], links: &[String]) -> Option<Cut> {
        let gone_nodes: BTreeSet<NodeIndex> = nodes.iter().filter_map(|k| self.index.get(k).copied()).collect();
        let gone_pairs = self.gone_pairs(links);
        self.cut(&gone_nodes, &gone_pairs).map(|mut cut| {
            cut.links = links.iter().filter(|l| self.pair_of_link.contains_key(*l)).cloned().collect();
            cut.links.sort();
            cut
        })
    }

    /// The parts each connected part of the network falls into without these nodes and pairs;
    /// a cut when one of the parts they were in falls apart.
    fn cut(&self, gone_nodes: &BTreeSet<NodeIndex>, gone_pairs: &BTreeSet<usize>) -> Option<Cut> {
        let n = self.keys.len();
        let mut whole = UnionFind::new(n);
        let mut left = UnionFind::new(n);
        for e in self.graph.edge_references() {
            let (a, b) = (e.source().index(), e.target().index());
            whole.union(a, b);
            if !gone_pairs.contains(e.weight()) && !gone_nodes.contains(&e.source()) && !gone_nodes.contains(&e.target()) {
                left.union(a, b);
            }
        }
        // the parts of the network the loss touched
        let touched: BTreeSet<usize> = gone_nodes
            .iter()
            .map(|n| n.index())
            .chain(gone_pairs.iter().filter_map(|&p| self.graph.edge_endpoints(EdgeIndex::new(p)).map(|(a, _)| a.index())))
            .map(|i| whole.find(i))
            .collect();
        let mut parts: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        for i in (0..n).filter(|i| !gone_nodes.contains(&NodeIndex::new(*i)) && touched.contains(&whole.find(*i))) {
            parts.entry((whole.find(i), left.find(i))).or_default().push(self.keys[i].clone());
        }
        let mut by_whole: BTreeMap<usize, Vec<Vec<String>>> = BTreeMap::new();
        for ((w, _), mut keys) in parts {
            keys.sort();
            by_whole.entry(w).or_default().push(keys);
        }
        let mut cut_off = Vec::new();
        for (_, mut split) in by_whole {
            // the largest part stays (ties: the one whose first key sorts first); the rest is cut off
            split.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
            cut_off.extend(split.into_iter().skip(1));
        }
        if cut_off.is_empty() {
            return None;
        }
        cut_off.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let mut nodes: Vec<String> = gone_nodes.iter().map(|n| self.keys[n.index()].clone()).collect();
        nodes.sort();
        let links = gone_pairs.iter().flat_map(|&p| self.pairs[p].iter().cloned()).collect();
        Some(Cut { nodes, links, cut_off })
    }

    /// What `roots` reach, as a dominator tree (see `Reach`): one pass over the network.
    pub fn reach(&self, roots: &[String]) -> Reach {
        let (n, pairs) = (self.keys.len(), self.pairs.len());
        let start = n + pairs;
        let roots: Vec<NodeIndex> = roots.iter().filter_map(|k| self.index.get(k).copied()).collect();
        let mut flow: Graph<(), ()> = Graph::with_capacity(start + 1, 4 * pairs + roots.len());
        for _ in 0..=start {
            flow.add_node(());
        }
        for e in self.graph.edge_references() {
            let (a, b, pair) = (e.source(), e.target(), NodeIndex::new(n + *e.weight()));
            for (x, y) in [(a, pair), (pair, b), (b, pair), (pair, a)] {
                flow.add_edge(x, y, ());
            }
        }
        for r in &roots {
            flow.add_edge(NodeIndex::new(start), *r, ());
        }
        let tree = simple_fast(&flow, NodeIndex::new(start));
        let mut children = vec![Vec::new(); start + 1];
        let mut parent = vec![None; start + 1];
        let mut reached = vec![false; n];
        for i in 0..start {
            if let Some(d) = tree.immediate_dominator(NodeIndex::new(i)) {
                children[d.index()].push(i);
                parent[i] = Some(d.index());
                if i < n {
                    reached[i] = true;
                }
            }
        }
        Reach { children, parent, reached, roots }
    }

    /// What every path from the roots of `reach` to `key` goes through (its dominators), nearest
    /// the roots first: nodes, and joined pairs as their links (parallel ones together). None
    /// when the roots reach it by two independent paths, or not at all.
    pub fn single_points(&self, reach: &Reach, key: &str) -> Vec<Through> {
        let n = self.keys.len();
        let mut through = Vec::new();
        let Some(at) = self.index.get(key).map(|i| i.index()) else { return through };
        let mut up = reach.parent[at];
        while let Some(i) = up {
            if i < n {
                through.push(Through::Node(self.keys[i].clone()));
            } else if i < n + self.pairs.len() {
                through.push(Through::Links(self.pairs[i - n].clone()));
            }
            up = reach.parent[i];
        }
        through.reverse();
        through
    }

    /// The nodes the roots of `reach` reach that they would not without these nodes and links,
    /// sorted by key; the nodes lost themselves are not in it. One node, or the links of one
    /// pair, is read off the dominator tree (what it dominates); more are walked.
    pub fn cut_off_from_roots(&self, reach: &Reach, nodes: &[String], links: &[String]) -> Vec<String> {
        let n = self.keys.len();
        let gone_nodes: BTreeSet<usize> = nodes.iter().filter_map(|k| self.index.get(k)).map(|i| i.index()).collect();
        let gone_pairs = self.gone_pairs(links);
        let mut off: Vec<usize> = match (gone_nodes.len(), gone_pairs.len()) {
            (0, 0) => Vec::new(),
            (1, 0) | (0, 1) => {
                let top = gone_nodes.iter().copied().next().unwrap_or_else(|| n + gone_pairs.iter().next().copied().unwrap_or_default());
                let mut below = Vec::new();
                let mut stack = reach.children[top].clone();
                while let Some(i) = stack.pop() {
                    if i < n {
                        below.push(i);
                    }
                    stack.extend(reach.children[i].iter().copied());
                }
                below
            }
            _ => {
                let mut seen = vec![false; n];
                let mut stack: Vec<NodeIndex> = reach.roots.iter().copied().filter(|r| !gone_nodes.contains(&r.index())).collect();
                for r in &stack {
                    seen[r.index()] = true;
                }
                while let Some(x) = stack.pop() {
                    for e in self.graph.edges(x) {
                        let y = if e.source() == x { e.target() } else { e.source() };
                        if !seen[y.index()] && !gone_pairs.contains(e.weight()) && !gone_nodes.contains(&y.index()) {
                            seen[y.index()] = true;
                            stack.push(y);
                        }
                    }
                }
                (0..n).filter(|&i| reach.reached[i] && !seen[i] && !gone_nodes.contains(&i)).collect()
            }
        };
        off.retain(|i| !gone_nodes.contains(i));
        let mut keys: Vec<String> = off.into_iter().map(|i| self.keys[i].clone()).collect();
        keys.sort();
        keys
    }

    /// The pairs every link of which is among `links`.
    fn gone_pairs(&self, links: &[String]) -> BTreeSet<usize> {
        let gone: BTreeSet<&String> = links.iter().collect();
        links
            .iter()
            .filter_map(|l| self.pair_of_link.get(l).copied())
            .filter(|&p| self.pairs[p].iter().all(|l| gone.contains(l)))
            .collect()
    }

    /// Up to `k` paths from one node to another, fewest hops first (ties in a stable order);
    /// none when either is not in the network.
    pub fn paths(&self, from: &str, to: &str, k: usize) -> Vec<Path> {
        let (Some(&from), Some(&to)) = (self.index.get(from), self.index.get(to)) else { return Vec::new() };
        let mut found = yen(
            &from,
            |n| {
                let mut next: Vec<(NodeIndex, u32)> = self.graph.neighbors(*n).map(|m| (m, 1)).collect();
                next.sort();
                next
            },
            |n| *n == to,
            k,
        );
        found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| self.named(&a.0).cmp(&self.named(&b.0))));
        found
            .into_iter()
            .map(|(nodes, _)| Path {
                hops: nodes
                    .windows(2)
                    .map(|w| self.graph.find_edge(w[0], w[1]).map(|e| self.pairs[self.graph[e]].clone()).unwrap_or_default())
                    .collect(),
                nodes: self.named(&nodes),
            })
            .collect()
    }

    fn named(&self, nodes: &[NodeIndex]) -> Vec<String> {
        nodes.iter().map(|n| self.keys[n.index()].clone()).collect()
    }

    /// How many paths join any of `from` to `to` with no node and no link in common (each of
    /// `from` starts one at most): the maximum flow through the network with every node and
    /// every pair of nodes carrying one.
    pub fn independent_paths(&self, from: &[String], to: &str) -> u32 {
        self.independent_paths_without(from, to, &[], &[])
    }

    /// `independent_paths` without these nodes and links (a pair of nodes stays joined while any
    /// of its links is left).
    pub fn independent_paths_without(&self, from: &[String], to: &str, nodes: &[String], links: &[String]) -> u32 {
        let Some(&sink) = self.index.get(to) else { return 0 };
        let gone_nodes: BTreeSet<usize> = nodes.iter().filter_map(|k| self.index.get(k)).map(|i| i.index()).collect();
        let gone_pairs = self.gone_pairs(links);
        let sources: BTreeSet<usize> =
            from.iter().filter_map(|k| self.index.get(k)).map(|n| n.index()).filter(|&i| i != sink.index() && !gone_nodes.contains(&i)).collect();
        if sources.is_empty() {
            return 0;
        }
        // each node i is two: 2i takes paths in, 2i + 1 sends them on, one at a time
        let n = self.keys.len();
        let (into, out) = (|i: usize| NodeIndex::new(2 * i), |i: usize| NodeIndex::new(2 * i + 1));
        let mut flow: Graph<(), u32> = Graph::with_capacity(2 * n + 1, n + 2 * self.graph.edge_count() + sources.len());
        for _ in 0..=2 * n {
            flow.add_node(());
        }
        for i in 0..n {
            flow.add_edge(into(i), out(i), u32::from(!gone_nodes.contains(&i)));
        }
        for e in self.graph.edge_references().filter(|e| !gone_pairs.contains(e.weight())) {
            let (a, b) = (e.source().index(), e.target().index());
            flow.add_edge(out(a), into(b), 1);
            flow.add_edge(out(b), into(a), 1);
        }
        let source = NodeIndex::new(2 * n);
        for &s in &sources {
            flow.add_edge(source, into(s), 1);
        }
        ford_fulkerson(&flow, source, into(sink.index())).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(nodes: &str, links: &[(&str, &str, &str)]) -> Network {
        Network::new(nodes.split_whitespace().map(str::to_owned), links.iter().map(|(l, a, b)| (l.to_string(), a.to_string(), b.to_string())))
    }

    fn keys(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn what_a_loss_cuts_off_from_the_roots_is_read_off_the_dominator_tree_and_sets_are_walked() {
        // r1 and r2 are the roots; a hangs off r1 alone; b is reached from both; c only through b
        // by one link; d through b by a LAG of two
        let n = net(
            "r1 r2 a b c d x",
            &[("r1a", "r1", "a"), ("r1b", "r1", "b"), ("r2b", "r2", "b"), ("bc", "b", "c"), ("bd-1", "b", "d"), ("bd-2", "b", "d")],
        );
        let reach = n.reach(&keys("r1 r2"));
        assert_eq!(n.cut_off_from_roots(&reach, &keys("r1"), &[]), keys("a"), "b is still reached from r2");
        assert_eq!(n.cut_off_from_roots(&reach, &keys("b"), &[]), keys("c d"));
        assert_eq!(n.cut_off_from_roots(&reach, &[], &keys("bc")), keys("c"));
        assert!(n.cut_off_from_roots(&reach, &[], &keys("bd-1")).is_empty(), "one member of a LAG");
        assert_eq!(n.cut_off_from_roots(&reach, &[], &keys("bd-1 bd-2")), keys("d"));
        // x was never reached: it is not cut off by anything
        assert!(n.cut_off_from_roots(&reach, &keys("r1 r2"), &[]).iter().all(|k| k != "x"));
        // both roots together: everything they reached
        assert_eq!(n.cut_off_from_roots(&reach, &keys("r1 r2"), &[]), keys("a b c d"));
        // a set of links walked: r1b and r2b together cut off b, c and d
        assert_eq!(n.cut_off_from_roots(&reach, &[], &keys("r1b r2b")), keys("b c d"));
        // paths without a loss
        assert_eq!(n.independent_paths(&keys("r1 r2"), "b"), 2);
        assert_eq!(n.independent_paths_without(&keys("r1 r2"), "b", &keys("r2"), &[]), 1);
        assert_eq!(n.independent_paths_without(&keys("r1 r2"), "b", &[], &keys("r1b")), 1);
        assert_eq!(n.independent_paths_without(&keys("r1 r2"), "b", &[], &keys("r1b r2b")), 0);
        // what every path to a node goes through: nearest the roots first, a LAG as one entry
        let node = |k: &str| Through::Node(k.into());
        assert_eq!(n.single_points(&reach, "d"), [node("b"), Through::Links(keys("bd-1 bd-2"))]);
        assert_eq!(n.single_points(&reach, "c"), [node("b"), Through::Links(keys("bc"))]);
        assert_eq!(n.single_points(&reach, "a"), [node("r1"), Through::Links(keys("r1a"))]);
        assert!(n.single_points(&reach, "b").is_empty(), "two roots reach b");
        assert!(n.single_points(&reach, "x").is_empty(), "never reached");
        assert!(n.single_points(&reach, "nowhere").is_empty());
    }

    #[test]
    fn a_chain_is_cut_by_its_middle_node_and_by_each_link() {
        let n = net("a b c", &[("ab", "a", "b"), ("bc", "b", "c")]);
        assert_eq!(n.cut_nodes(), vec![Cut { nodes: keys("b"), links: vec![], cut_off: vec![keys("c")] }]);
        let links = n.cut_links();
        assert_eq!(links.iter().map(|c| c.links.clone()).collect::<Vec<_>>(), vec![keys("ab"), keys("bc")]);
        assert_eq!(links[0].cut_off, vec![keys("a")], "a is alone, b and c stay");
    }

    #[test]
    fn a_ring_has_no_single_point_of_failure_and_two_independent_paths_from_two_starts() {
        let n = net("a b c d", &[("ab", "a", "b"), ("bc", "b", "c"), ("cd", "c", "d"), ("da", "d", "a")]);
        assert!(n.cut_nodes().is_empty());
        assert!(n.cut_links().is_empty());
        assert_eq!(n.independent_paths(&keys("a b"), "c"), 2, "a round by d, b straight on");
        assert_eq!(n.independent_paths(&keys("a"), "c"), 1, "a start is a device the paths would share");
        let paths = n.paths("a", "c", 5);
        assert_eq!(paths.iter().map(|p| p.nodes.clone()).collect::<Vec<_>>(), vec![keys("a b c"), keys("a d c")]);
        assert_eq!(paths[0].hops, vec![keys("ab"), keys("bc")]);
    }

    #[test]
    fn parallel_links_are_one_path_not_two_bridges() {
        // x and y joined twice (a LAG's two members), y to z once
        let n = net("x y z", &[("lag-1", "x", "y"), ("lag-2", "x", "y"), ("yz", "y", "z")]);
        let bridges: Vec<Vec<String>> = n.cut_links().into_iter().map(|c| c.links).collect();
        assert_eq!(bridges, vec![keys("yz")], "neither member of the LAG alone splits x from y");
        assert_eq!(n.cut_nodes().iter().map(|c| c.nodes.clone()).collect::<Vec<_>>(), vec![keys("y")]);
        // both members together do
        let both = n.cut_by(&[], &keys("lag-1 lag-2")).expect("a cut");
        assert_eq!(both.cut_off, vec![keys("x")]);
        assert_eq!(n.cut_by(&[], &keys("lag-1")), None);
        // the LAG is one path: x reaches y once
        assert_eq!(n.independent_paths(&keys("x"), "y"), 1);
        assert_eq!(n.paths("x", "z", 3)[0].hops, vec![keys("lag-1 lag-2"), keys("yz")]);
    }

    #[test]
    fn a_node_between_two_triangles_cuts_off_the_smaller_side() {
        let n = net(
            "a b m c d e",
            &[("ab", "a", "b"), ("am", "a", "m"), ("bm", "b", "m"), ("cm", "c", "m"), ("dm", "d", "m"), ("cd", "c", "d"), ("ce", "c", "e")],
        );
        let cuts = n.cut_nodes();
        assert_eq!(cuts.iter().map(|c| (c.nodes.clone(), c.cut_off.clone())).collect::<Vec<_>>(), vec![
            (keys("c"), vec![keys("e")]),
            (keys("m"), vec![keys("a b")]),
        ]);
        assert_eq!(n.cut_links().iter().map(|c| c.links.clone()).collect::<Vec<_>>(), vec![keys("ce")]);
        // a separate part of the network is not cut off by anything here
        let apart = net("a b c x y", &[("ab", "a", "b"), ("bc", "b", "c"), ("xy", "x", "y")]);
        assert_eq!(apart.cut_nodes()[0].cut_off, vec![keys("c")]);
    }

    #[test]
    fn a_group_that_fails_together_is_checked_as_one() {
        let n = net("a b c d", &[("ab", "a", "b"), ("bc", "b", "c"), ("cd", "c", "d"), ("da", "d", "a")]);
        // one carrier's two circuits on opposite sides of the ring
        assert_eq!(n.cut_by(&[], &keys("ab cd")).map(|c| c.cut_off), Some(vec![keys("b c")]));
        // two links around b leave it alone
        assert_eq!(n.cut_by(&[], &keys("ab bc")).map(|c| c.cut_off), Some(vec![keys("b")]));
        // one power feed behind a and c
        assert_eq!(n.cut_by(&keys("a c"), &[]).map(|c| c.cut_off), Some(vec![keys("d")]));
        assert_eq!(n.cut_by(&[], &keys("ab")), None, "a ring survives one link");
        assert_eq!(n.cut_by(&[], &keys("nothing")), None);
    }

    #[test]
    fn a_partner_is_reached_by_as_many_paths_as_share_no_device_or_circuit() {
        // a data center of two routers; p dual-homed, q single-homed, r twice to one router,
        // s through one shared switch, t not connected
        let n = net("r1 r2 x p q r s t", &[
            ("r1r2", "r1", "r2"),
            ("c1", "r1", "p"),
            ("c2", "r2", "p"),
            ("c3", "r1", "q"),
            ("c4", "r1", "r"),
            ("c5", "r1", "r"),
            ("r1x", "r1", "x"),
            ("r2x", "r2", "x"),
            ("c6", "x", "s"),
        ]);
        let dc = keys("r1 r2");
        assert_eq!(n.independent_paths(&dc, "p"), 2);
        assert_eq!(n.independent_paths(&dc, "q"), 1);
        assert_eq!(n.independent_paths(&dc, "r"), 1, "two circuits into one router share the router");
        assert_eq!(n.independent_paths(&dc, "s"), 1, "two routers through one switch share the switch");
        assert_eq!(n.independent_paths(&dc, "t"), 0);
        assert_eq!(n.independent_paths(&dc, "nowhere"), 0);
        // what a single-homed partner hangs on
        let r1 = n.cut_nodes().into_iter().find(|c| c.nodes == keys("r1")).expect("r1 is a cut");
        assert_eq!(r1.cut_off, vec![keys("q"), keys("r")]);
    }

    #[test]
    fn paths_come_shortest_first_and_stop_at_k() {
        // a square with a diagonal: a-c directly, then the two ways round
        let n = net("a b c d", &[("ab", "a", "b"), ("bc", "b", "c"), ("cd", "c", "d"), ("da", "d", "a"), ("ac", "a", "c")]);
        let paths: Vec<Vec<String>> = n.paths("a", "c", 3).into_iter().map(|p| p.nodes).collect();
        assert_eq!(paths, vec![keys("a c"), keys("a b c"), keys("a d c")]);
        assert_eq!(n.paths("a", "c", 1).len(), 1);
        assert!(n.paths("a", "zz", 3).is_empty());
    }
}
