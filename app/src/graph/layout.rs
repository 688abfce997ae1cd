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
            Node { label: n.label, title: n.title, href: n.href, depth: n.depth, x: xy.x, y: xy.y, width: size.x, height: size.y }
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
            .map(|i| NodeSpec { label: format!("service-{i} (component)"), title: format!("Service {i}"), href: format!("/s/{i}"), depth: i32::from(i > 0) })
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
}
