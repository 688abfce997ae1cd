//! GraphML as the Internet Topology Zoo, yEd and Gephi write it, read into nodes and edges
//! (roxmltree parses the XML). Attributes are taken by the names their `<key>` declares
//! (`attr.name`), never by the generated key ids. A node's label is its `label` attribute or, as
//! yEd writes it, the text of the `y:NodeLabel` in its graphics; its place is its `x`/`y`
//! attributes or its `y:Geometry`; latitude and longitude are taken when declared. Parallel
//! edges are kept, each an edge of its own; direction is not (a link joins two ends).
use std::collections::{BTreeMap, HashMap, HashSet};

/// The most a file may hold.
pub const MAX_NODES: usize = 20_000;
pub const MAX_EDGES: usize = 50_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: String,
    /// What the file calls it, trimmed; `None` when it has no label (or an empty one).
    pub label: Option<String>,
    /// Where a drawing placed it.
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Every other declared attribute, by its declared name.
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The edge's id, or `e<position>` (its place among the file's edges) when it has none.
    pub id: String,
    pub source: String,
    pub target: String,
    pub label: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// A file read: the graph's own attributes, its nodes and edges, and the elements left out,
/// each with its id (or position) and why.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Graph {
    pub attributes: BTreeMap<String, String>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub problems: Vec<(String, String)>,
}

const YED: &str = "http://www.yworks.com/xml/graphml";

/// Reads a GraphML document. A file that is not XML, or has no `<graph>`, is refused with where
/// and why; an element that cannot be taken (a node without an id, an edge to a node that is
/// not there) is listed in `problems` and the rest is read.
pub fn parse(text: &str) -> Result<Graph, String> {
    let doc = roxmltree::Document::parse_with_options(text, roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: 5_000_000, ..Default::default() })
        .map_err(|e| format!("not GraphML: {e}"))?;
    let root = doc.root_element();
    if !root.has_tag_name("graphml") {
        return Err(format!("not GraphML: the document is a <{}>, not a <graphml>", root.tag_name().name()));
    }
    let Some(graph) = root.children().find(|n| n.has_tag_name("graph")) else {
        return Err("not GraphML: there is no <graph> element".into());
    };
    // key id → declared name, per domain (node, edge, graph, all)
    let mut keys: HashMap<(&str, &str), &str> = HashMap::new();
    for key in root.children().filter(|n| n.has_tag_name("key")) {
        if let (Some(id), Some(name)) = (key.attribute("id"), key.attribute("attr.name")) {
            keys.insert((key.attribute("for").unwrap_or("all"), id), name);
        }
    }
    let data = |element: roxmltree::Node, domain: &str| -> BTreeMap<String, String> {
        element
            .children()
            .filter(|d| d.has_tag_name("data"))
            .filter_map(|d| {
                let key = d.attribute("key")?;
                let name = keys.get(&(domain, key)).or_else(|| keys.get(&("all", key)))?;
                let text: String = d.descendants().filter(|t| t.is_text()).filter_map(|t| t.text()).collect();
                Some((name.to_string(), text.trim().to_owned()))
            })
            .filter(|(_, v)| !v.is_empty())
            .collect()
    };
    let mut out = Graph { attributes: data(graph, "graph"), ..Graph::default() };
    let mut ids = HashSet::new();
    for (i, node) in graph.children().filter(|n| n.has_tag_name("node")).enumerate() {
        let Some(id) = node.attribute("id").map(str::to_owned) else {
            out.problems.push((format!("node {}", i + 1), "has no id".into()));
            continue;
        };
        if !ids.insert(id.clone()) {
            out.problems.push((id, "a second node with this id is left out".into()));
            continue;
        }
        if out.nodes.len() == MAX_NODES {
            return Err(format!("more than {MAX_NODES} nodes"));
        }
        let mut attributes = data(node, "node");
        let mut take = |names: &[&str]| -> Option<String> {
            let key = attributes.keys().find(|k| names.iter().any(|n| k.eq_ignore_ascii_case(n)))?.clone();
            attributes.remove(&key)
        };
        let number = |v: Option<String>| v.and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite());
        let drawn = node.descendants().find(|n| n.has_tag_name((YED, "NodeLabel"))).and_then(|l| l.text()).map(str::trim).map(str::to_owned);
        let geometry = node.descendants().find(|n| n.has_tag_name((YED, "Geometry")));
        let at = |name: &str| geometry.and_then(|g| g.attribute(name)).map(str::to_owned);
        let label = take(&["label", "name"]).or(drawn).filter(|l| !l.is_empty());
        let x = number(take(&["x"])).or(number(at("x")));
        let y = number(take(&["y"])).or(number(at("y")));
        let latitude = number(take(&["latitude", "lat"])).filter(|v| (-90.0..=90.0).contains(v));
        let longitude = number(take(&["longitude", "lon", "lng"])).filter(|v| (-180.0..=180.0).contains(v));
        out.nodes.push(Node { id, label, x, y, latitude, longitude, attributes });
    }
    let mut edge_ids = HashSet::new();
    for (i, edge) in graph.children().filter(|n| n.has_tag_name("edge")).enumerate() {
        let id = edge.attribute("id").map(str::to_owned).unwrap_or_else(|| format!("e{i}"));
        if !edge_ids.insert(id.clone()) {
            out.problems.push((id, "a second edge with this id is left out".into()));
            continue;
        }
        let (Some(source), Some(target)) = (edge.attribute("source"), edge.attribute("target")) else {
            out.problems.push((id, "needs a source and a target".into()));
            continue;
        };
        if let Some(end) = [source, target].into_iter().find(|end| !ids.contains(*end)) {
            out.problems.push((id, format!("joins \"{end}\", which is not a node of this graph")));
            continue;
        }
        if out.edges.len() == MAX_EDGES {
            return Err(format!("more than {MAX_EDGES} edges"));
        }
        let mut attributes = data(edge, "edge");
        let label = attributes.keys().find(|k| k.eq_ignore_ascii_case("label")).cloned().and_then(|k| attributes.remove(&k));
        out.edges.push(Edge { id, source: source.into(), target: target.into(), label, attributes });
    }
    Ok(out)
}

/// What each node is called: its label, or, where two or more nodes share a label, the label
/// and the node's id ("Athens (n12)"); a node with no label is "node <id>". The names are
/// distinct and do not depend on the nodes' order.
pub fn names(graph: &Graph) -> HashMap<String, String> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for n in &graph.nodes {
        if let Some(l) = &n.label {
            *uses.entry(l.as_str()).or_default() += 1;
        }
    }
    let mut names: HashMap<String, String> = graph
        .nodes
        .iter()
        .map(|n| {
            let name = match &n.label {
                Some(l) if uses[l.as_str()] == 1 => l.clone(),
                Some(l) => format!("{l} ({})", n.id),
                None => format!("node {}", n.id),
            };
            (n.id.clone(), name)
        })
        .collect();
    // a label that is another node's made-up name ("node n3", "Athens (n12)"): that one keeps its id too
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names.values() {
        *seen.entry(name.clone()).or_default() += 1;
    }
    for (id, name) in names.iter_mut() {
        if seen[name.as_str()] > 1 {
            *name = format!("{name} [{id}]");
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const YED_FILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:y="http://www.yworks.com/xml/graphml">
  <key attr.name="Network" attr.type="string" for="graph" id="d0"/>
  <key attr.name="Latitude" attr.type="double" for="node" id="d1"/>
  <key attr.name="Longitude" attr.type="double" for="node" id="d2"/>
  <key attr.name="type" attr.type="string" for="node" id="d3"/>
  <key for="node" id="d4" yfiles.type="nodegraphics"/>
  <key attr.name="LinkSpeed" attr.type="string" for="edge" id="d5"/>
  <key attr.name="label" attr.type="string" for="edge" id="d6"/>
  <graph edgedefault="directed" id="G">
    <data key="d0">Test net</data>
    <node id="n0"><data key="d1">50.11</data><data key="d2">8.68</data><data key="d3">PoP</data>
      <data key="d4"><y:ShapeNode><y:Geometry x="10.5" y="-3"/><y:NodeLabel>Frankfurt</y:NodeLabel></y:ShapeNode></data></node>
    <node id="n1"><data key="d4"><y:ShapeNode><y:Geometry x="20" y="4"/><y:NodeLabel>Athens</y:NodeLabel></y:ShapeNode></data></node>
    <node id="n2"><data key="d4"><y:ShapeNode><y:NodeLabel>Athens</y:NodeLabel></y:ShapeNode></data></node>
    <node id="n3"><data key="d4"><y:ShapeNode><y:NodeLabel hasText="false"/></y:ShapeNode></data></node>
    <node id="n4"/>
    <edge id="a" source="n0" target="n1"><data key="d5">10G</data><data key="d6">primary</data></edge>
    <edge id="b" source="n0" target="n1"><data key="d5">10G</data></edge>
    <edge source="n1" target="n2"/>
    <edge id="c" source="n2" target="n9"/>
  </graph>
</graphml>"#;

    #[test]
    fn a_yed_file_reads_labels_places_and_declared_attributes() {
        let g = parse(YED_FILE).expect("parses");
        assert_eq!(g.attributes.get("Network").map(String::as_str), Some("Test net"));
        assert_eq!(g.nodes.len(), 5);
        let n0 = &g.nodes[0];
        assert_eq!((n0.label.as_deref(), n0.x, n0.y), (Some("Frankfurt"), Some(10.5), Some(-3.0)));
        assert_eq!((n0.latitude, n0.longitude), (Some(50.11), Some(8.68)));
        assert_eq!(n0.attributes.get("type").map(String::as_str), Some("PoP"), "by its declared name, not d3");
        assert_eq!(g.nodes[2].x, None, "no geometry, no place");
        assert_eq!(g.nodes[3].label, None, "an empty yEd label is no label");
        // parallel edges are two edges; an edge without an id gets its position; a dangling one is a problem
        assert_eq!(g.edges.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["a", "b", "e2"]);
        assert_eq!(g.edges[0].label.as_deref(), Some("primary"));
        assert_eq!(g.edges[1].attributes.get("LinkSpeed").map(String::as_str), Some("10G"));
        assert_eq!(g.problems, vec![("c".to_owned(), "joins \"n9\", which is not a node of this graph".to_owned())]);
    }

    #[test]
    fn repeated_and_missing_labels_make_distinct_names() {
        let g = parse(YED_FILE).expect("parses");
        let names = names(&g);
        assert_eq!(names["n0"], "Frankfurt");
        assert_eq!(names["n1"], "Athens (n1)");
        assert_eq!(names["n2"], "Athens (n2)");
        assert_eq!(names["n3"], "node n3");
        assert_eq!(names["n4"], "node n4");
    }

    #[test]
    fn what_is_not_graphml_is_refused_with_where() {
        assert!(parse("<graphml><graph>").unwrap_err().starts_with("not GraphML: "));
        assert!(parse("<svg/>").unwrap_err().contains("<svg>"));
        assert!(parse(r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns"/>"#).unwrap_err().contains("no <graph>"));
        let entity = r#"<!DOCTYPE g [<!ENTITY a "aaaa">]><graphml><graph/></graphml>"#;
        assert!(parse(entity).is_err(), "no DTDs, so no entity expansion");
    }

    /// The Internet Topology Zoo's files, read where they lie (`PEER_DATA`); their counts are
    /// the ones networkx gives (the folder's SOURCES.md).
    #[test]
    fn the_topology_zoo_files_read_as_networkx_reads_them() {
        let Ok(dir) = std::env::var("PEER_DATA") else { panic!("PEER_DATA is not set (make test sets it)") };
        for (file, nodes, edges, unlabelled) in [("Arnes", 34, 47, 0), ("Cogentco", 197, 245, 11), ("Kdl", 754, 899, 28)] {
            let text = std::fs::read_to_string(format!("{dir}/topology-zoo/{file}.graphml")).expect("read");
            let g = parse(&text).expect(file);
            assert_eq!((g.nodes.len(), g.edges.len()), (nodes, edges), "{file}");
            assert!(g.problems.is_empty(), "{file}: {:?}", g.problems);
            assert_eq!(g.nodes.iter().filter(|n| n.label.is_none()).count(), unlabelled, "{file}");
            assert!(g.nodes.iter().all(|n| n.x.is_some() && n.y.is_some()), "{file}: yEd places every node");
            let names = names(&g);
            let distinct: HashSet<&String> = names.values().collect();
            assert_eq!(distinct.len(), nodes, "{file}: every node its own name");
        }
    }
}
