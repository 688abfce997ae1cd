//! Graphs, apart from any domain and from drawing: a walk out from one node (`walk`), a
//! layered layout (`layout`, with `layout-rs`), and the laid-out graph both server and browser
//! read. The catalog's dependency graph is one. `network` questions an undirected network: what
//! splits it, the paths through it, the independent paths between two places (the topology's).
//! Drawing is `ui::graph`'s.
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod layout;
#[cfg(feature = "ssr")]
pub mod network;
#[cfg(feature = "ssr")]
pub mod walk;

/// A node as the layout placed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// What the box says.
    pub label: String,
    /// What a link to it says (a title).
    pub title: String,
    /// Where it links to.
    pub href: String,
    /// Steps from the walk's root (0: the root).
    pub depth: i32,
    /// How many nodes this box stands for, when a large neighbourhood was collapsed into it
    /// (else 0).
    #[serde(default)]
    pub more: u32,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// An edge as the layout routed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// What the edge means (`depends_on`, …).
    pub relation: String,
    /// Drawn dashed (a weaker kind of edge, as its domain decides).
    pub dashed: bool,
    /// SVG path data (numbers only), as the layout routed it.
    pub d: String,
}

/// A graph laid out: boxes and routed edges in a `width` × `height` plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaidOut {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
    /// The walk stopped at its node limit: not every neighbour is here.
    pub truncated: bool,
}
