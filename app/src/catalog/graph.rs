//! Lays out a dependency graph with `layout-rs` (a Graphviz-style layered layout). The crate
//! computes positions and edge routes; the page draws them itself, so every label is escaped
//! text and nothing from the catalog becomes markup.
use super::types::{DependencyGraph, EntityRef, GraphEdge, GraphNode};
use layout::core::base::Orientation;
use layout::core::format::{ClipHandle, RenderBackend};
use layout::core::geometry::Point;
use layout::core::style::StyleAttr;
use layout::std_shapes::shapes::{Arrow, Element, ShapeKind};
use layout::topo::layout::VisualGraph;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

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

/// Lays out the nodes (with their distance from the root) and edges.
pub fn layout(
    root: Uuid,
    depth_of: &HashMap<Uuid, i32>,
    edges: &BTreeSet<(Uuid, String, Uuid)>,
    labels: &HashMap<Uuid, (EntityRef, String)>,
    truncated: bool,
) -> DependencyGraph {
    let mut ids: Vec<Uuid> = depth_of.keys().copied().filter(|id| labels.contains_key(id)).collect();
    ids.sort_by_key(|id| (depth_of[id], labels[id].0.name.clone(), *id != root));
    let index: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut vg = VisualGraph::new(Orientation::LeftToRight);
    let mut handles = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let (r, _) = &labels[id];
        let text = format!("{} ({})", r.name, r.kind);
        let size = Point::new(9.0 * text.chars().count() as f64 + 24.0, 44.0);
        let element = Element::create_with_properties(
            ShapeKind::new_box(&text),
            StyleAttr::simple(),
            Orientation::LeftToRight,
            size,
            i.to_string(),
        );
        handles.push(vg.add_node(element));
    }
    let mut out_edges = Vec::new();
    for (s, t, d) in edges {
        let (Some(&from), Some(&to)) = (index.get(s), index.get(d)) else { continue };
        let e = out_edges.len();
        vg.add_edge(Arrow::simple_with_properties("", e.to_string()), handles[from], handles[to]);
        out_edges.push((from, to, t.clone()));
    }
    let mut collect = Collect::default();
    if !ids.is_empty() {
        vg.do_it(false, false, false, &mut collect);
    }
    let nodes: Vec<GraphNode> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (xy, size) = collect.boxes.get(&i).copied().unwrap_or((Point::zero(), Point::new(120.0, 44.0)));
            GraphNode {
                entity: labels[id].0.clone(),
                title: labels[id].1.clone(),
                depth: depth_of[id],
                x: xy.x,
                y: xy.y,
                width: size.x,
                height: size.y,
            }
        })
        .collect();
    let width = nodes.iter().map(|n| n.x + n.width).fold(0.0, f64::max) + 20.0;
    let height = nodes.iter().map(|n| n.y + n.height).fold(0.0, f64::max) + 20.0;
    let edges = out_edges
        .into_iter()
        .enumerate()
        .map(|(i, (from, to, relation))| GraphEdge { from, to, relation, d: collect.paths.remove(&i).unwrap_or_default() })
        .collect();
    DependencyGraph { nodes, edges, width, height, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_gets_a_box_of_its_own_and_every_edge_a_path() {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        let depth_of: HashMap<Uuid, i32> = ids.iter().enumerate().map(|(i, id)| (*id, i32::from(i > 0))).collect();
        let labels: HashMap<Uuid, (EntityRef, String)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, (EntityRef::new("component", "default", &format!("service-{i}")), format!("Service {i}"))))
            .collect();
        let edges: BTreeSet<(Uuid, String, Uuid)> =
            ids[1..].iter().map(|d| (ids[0], "depends_on".to_owned(), *d)).collect();
        let g = layout(ids[0], &depth_of, &edges, &labels, false);
        println!("{g:#?}");
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
