//! A layered (Graphviz-style) layout with `layout-rs`: it computes positions and edge routes;
//! `ui::graph` draws them, so every label is escaped text and nothing from the data becomes
//! markup.
use super::{Edge, LaidOut, Node};
use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::collections::HashMap;

/// A node to place: its box's label, what links to it say and where they go, and its depth.
pub struct NodeSpec {
    pub label: String,
    pub title: String,
    pub href: String,
    pub depth: i32,
    /// How many nodes this box stands for, when it stands for a collapsed group (else 0).
    pub more: u32,
}

impl NodeSpec {
    /// A node of its own.
    pub fn one(label: String, title: String, href: String, depth: i32) -> Self {
        NodeSpec { label, title, href, depth, more: 0 }
    }
}

/// Keeps a large neighbourhood readable: where a node has more than `fanout` neighbours one
/// step further out, the first `fanout - 1` of them (in the nodes' order) stay, and the rest,
/// with everything reached only through them, become one box, "+N more", linked to
/// `more_href(that node)`.
pub fn collapse(nodes: Vec<NodeSpec>, edges: Vec<EdgeSpec>, fanout: usize, more_href: impl Fn(&NodeSpec) -> String) -> (Vec<NodeSpec>, Vec<EdgeSpec>) {
    let n = nodes.len();
    // each node's parent: its first neighbour one step closer to the root, and the edge to it
    let mut parent: Vec<Option<(usize, usize)>> = vec![None; n];
    for (k, e) in edges.iter().enumerate() {
        if e.from >= n || e.to >= n {
            continue;
        }
        for (child, other) in [(e.to, e.from), (e.from, e.to)] {
            if nodes[other].depth + 1 == nodes[child].depth && parent[child].is_none_or(|(p, _)| other < p) {
                parent[child] = Some((other, k));
            }
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (child, p) in parent.iter().enumerate() {
        if let Some((p, _)) = p {
            children[*p].push(child);
        }
    }
    let mut removed = vec![false; n];
    // (the node, how many it stands for, the edge of the first it stands for)
    let mut groups: Vec<(usize, u32, usize)> = Vec::new();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|i| (nodes[*i].depth, *i));
    for p in order {
        if removed[p] || children[p].len() <= fanout {
            continue;
        }
        let hidden = &children[p][fanout - 1..];
        let first_edge = parent[hidden[0]].map(|(_, k)| k).unwrap_or(0);
        groups.push((p, u32::try_from(hidden.len()).unwrap_or(u32::MAX), first_edge));
        let mut stack: Vec<usize> = hidden.to_vec();
        while let Some(i) = stack.pop() {
            if !removed[i] {
                removed[i] = true;
                stack.extend(children[i].iter().copied());
            }
        }
    }
    let mut index = vec![usize::MAX; n];
    let mut kept = Vec::with_capacity(n);
    let mut summaries = Vec::new();
    for (p, more, k) in &groups {
        let e = &edges[*k];
        let noun = if *more == 1 { "entity" } else { "entities" };
        summaries.push((
            NodeSpec { label: format!("+{more} more"), title: format!("{more} more {noun} beside {}", nodes[*p].title), href: more_href(&nodes[*p]), depth: nodes[*p].depth + 1, more: *more },
            *p,
            e.from == *p,
            e.relation.clone(),
            e.dashed,
        ));
    }
    for (i, node) in nodes.into_iter().enumerate() {
        if !removed[i] {
            index[i] = kept.len();
            kept.push(node);
        }
    }
    let mut edges: Vec<EdgeSpec> = edges
        .into_iter()
        .filter(|e| e.from < n && e.to < n && !removed[e.from] && !removed[e.to])
        .map(|e| EdgeSpec { from: index[e.from], to: index[e.to], ..e })
        .collect();
    for (node, p, outward, relation, dashed) in summaries {
        let (p, s) = (index[p], kept.len());
        kept.push(node);
        let (from, to) = if outward { (p, s) } else { (s, p) };
        edges.push(EdgeSpec { from, to, relation, dashed });
    }
    (kept, edges)
}

/// An edge to route: its ends (indexes into the nodes), what it means, whether it is dashed.
pub struct EdgeSpec {
    pub from: usize,
    pub to: usize,
    pub relation: String,
    pub dashed: bool,
}

/// Collects what the layout would draw: node boxes and edge paths, keyed by our indexes.
#[derive(Default)]
struct Collect {
    boxes: HashMap<usize, (Point, Point)>,
    paths: HashMap<usize, String>,
}

impl RenderBackend for Collect {
    fn draw_rect(&mut self, xy: Point, size: Point, _: &StyleAttr, properties: Option<String>, _: Option<ClipHandle>) {
        if let Some(i) = properties.and_then(|p| p.parse().ok()) {
            self.boxes.insert(i, (xy, size));
        }
    }
    fn draw_line(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}
    fn draw_circle(&mut self, _: Point, _: Point, _: &StyleAttr, _: Option<String>) {}
    fn draw_text(&mut self, _: Point, _: &str, _: &StyleAttr) {}
    fn draw_arrow(&mut self, path: &[(Point, Point)], _: bool, _: (bool, bool), _: &StyleAttr, properties: Option<String>, _: &str) {
        let Some(i) = properties.and_then(|p| p.parse::<usize>().ok()) else { return };
        if path.len() < 2 {
            return;
        }
        let mut d = format!(
            "M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {:.1} {:.1}",
            path[0].0.x, path[0].0.y, path[0].1.x, path[0].1.y, path[1].0.x, path[1].0.y, path[1].1.x, path[1].1.y
        );
        for p in path.iter().skip(2) {
            d.push_str(&format!(" S {:.1} {:.1}, {:.1} {:.1}", p.0.x, p.0.y, p.1.x, p.1.y));
        }
        // long edges are split into pieces; keep them all
        self.paths.entry(i).and_modify(|prev| {
            prev.push(' ');
            prev.push_str(&d);
        }).or_insert(d);
    }
    fn create_clip(&mut self, _: Point, _: Point, _: usize) -> ClipHandle {
        0
    }
}

/// Places the nodes left to right by their edges, and routes the edges.
pub fn layout(nodes: Vec<NodeSpec>, edges: Vec<EdgeSpec>, truncated: bool) -> LaidOut {
    let mut vg = VisualGraph::new(Orientation::LeftToRight);
    let handles: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let size = Point::new(9.0 * n.label.chars().count() as f64 + 24.0, 44.0);
            let element = Element::create_with_properties(ShapeKind::new_box(&n.label), StyleAttr::simple(), Orientation::LeftToRight, size, i.to_string());
            vg.add_node(element)
        })
        .collect();
    let edges: Vec<EdgeSpec> = edges.into_iter().filter(|e| e.from < nodes.len() && e.to < nodes.len()).collect();
    for (i, e) in edges.iter().enumerate() {
        vg.add_edge(Arrow::simple_with_properties("", i.to_string()), handles[e.from], handles[e.to]);
    }
    let mut collect = Collect::default();
    if !nodes.is_empty() {
        vg.do_it(false, false, false, &mut collect);
    }
    let nodes: Vec<Node> = nodes
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let (xy, size) = collect.boxes.get(&i).copied().unwrap_or((Point::zero(), Point::new(120.0, 44.0)));
            Node { label: n.label, title: n.title, href: n.href, depth: n.depth, more: n.more, x: xy.x, y: xy.y, width: size.x, height: size.y }
        })
        .collect();
    let width = nodes.iter().map(|n| n.x + n.width).fold(0.0, f64::max) + 20.0;
    let height = nodes.iter().map(|n| n.y + n.height).fold(0.0, f64::max) + 20.0;
    let edges = edges
        .into_iter()
        .enumerate()
        .map(|(i, e)| Edge { from: e.from, to: e.to, relation: e.relation, dashed: e.dashed, d: collect.paths.remove(&i).unwrap_or_default() })
        .collect();
    LaidOut { nodes, edges, width, height, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_gets_a_box_of_its_own_and_every_edge_a_path() {
        let nodes: Vec<NodeSpec> = (0..4)
            .map(|i| NodeSpec::one(format!("service-{i} (component)"), format!("Service {i}"), format!("/s/{i}"), i32::from(i > 0)))
            .collect();
        let edges: Vec<EdgeSpec> = (1..4).map(|to| EdgeSpec { from: 0, to, relation: "depends_on".into(), dashed: false }).collect();
        let g = layout(nodes, edges, false);
        assert_eq!(g.nodes.len(), 4);
        assert_eq!(g.edges.len(), 3);
        for e in &g.edges {
            assert!(e.d.starts_with('M'), "{e:?}");
        }
        for (i, a) in g.nodes.iter().enumerate() {
            assert!(a.width > 50.0 && a.height > 20.0, "{a:?}");
            for b in &g.nodes[i + 1..] {
                let apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn a_large_neighbourhood_collapses_into_a_count_and_what_hangs_off_it_goes_too() {
        // root 0 with twelve neighbours (1..=12); neighbour 12 has one of its own (13)
        let mut nodes: Vec<NodeSpec> = (0..=12).map(|i| NodeSpec::one(format!("n{i}"), format!("N {i}"), format!("/n/{i}"), i32::from(i > 0))).collect();
        nodes.push(NodeSpec::one("n13".into(), "N 13".into(), "/n/13".into(), 2));
        let mut edges: Vec<EdgeSpec> = (1..=12).map(|to| EdgeSpec { from: 0, to, relation: "depends_on".into(), dashed: false }).collect();
        edges.push(EdgeSpec { from: 13, to: 12, relation: "depends_on".into(), dashed: false });
        let (nodes, edges) = collapse(nodes, edges, 8, |p| format!("{}#relations", p.href));
        let labels: Vec<&str> = nodes.iter().map(|n| n.label.as_str()).collect();
        assert_eq!(labels, vec!["n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "+5 more"]);
        let more = nodes.last().expect("the count");
        assert_eq!((more.more, more.depth, more.href.as_str()), (5, 1, "/n/0#relations"));
        assert_eq!(edges.len(), 8);
        assert!(edges.iter().all(|e| e.from == 0 && e.to < nodes.len()), "every edge still leaves the root");
        // a neighbourhood within the limit is left as it is
        let small: Vec<NodeSpec> = (0..3).map(|i| NodeSpec::one(format!("n{i}"), String::new(), String::new(), i32::from(i > 0))).collect();
        let (small, _) = collapse(small, vec![EdgeSpec { from: 1, to: 0, relation: "x".into(), dashed: true }], 8, |_| String::new());
        assert_eq!(small.len(), 3);
    }
}
