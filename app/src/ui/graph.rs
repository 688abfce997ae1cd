//! Drawing a laid-out graph (`graph::LaidOut`) as SVG: boxes, routed edges with arrowheads,
//! the root highlighted. Every label is text, never markup.
use crate::graph::LaidOut;
use leptos::prelude::*;

/// The graph as an SVG image named `label` for screen readers.
#[component]
pub fn GraphDrawing(graph: LaidOut, label: &'static str) -> impl IntoView {
    let view_box = format!("0 0 {:.0} {:.0}", graph.width, graph.height);
    view! {
        <svg viewBox=view_box width=format!("{:.0}", graph.width) class="max-w-full text-slate-700 dark:text-slate-300" role="img" aria-label=label data-testid="graph">
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor"/>
                </marker>
            </defs>
            {graph.edges.into_iter().map(|e| view! {
                <path d=e.d fill="none" stroke="currentColor" stroke-opacity="0.5" marker-end="url(#arrow)"
                    stroke-dasharray=if e.dashed { "4 3" } else { "" }/>
            }).collect_view()}
            {graph.nodes.into_iter().map(|n| {
                let root = n.depth == 0;
                view! {
                    <rect x=format!("{:.1}", n.x) y=format!("{:.1}", n.y) width=format!("{:.1}", n.width) height=format!("{:.1}", n.height) rx="8"
                        class=if root { "fill-indigo-100 stroke-indigo-500 dark:fill-indigo-950" } else { "fill-white stroke-slate-300 dark:fill-slate-900 dark:stroke-slate-600" }/>
                    <text x=format!("{:.1}", n.x + n.width / 2.0) y=format!("{:.1}", n.y + n.height / 2.0 + 4.0) text-anchor="middle" font-size="13" fill="currentColor">
                        {n.label}
                    </text>
                }
            }).collect_view()}
        </svg>
    }
}
