//! Drawing a laid-out graph (`graph::LaidOut`) as SVG: boxes that link to their pages, routed
//! edges with arrowheads, the root highlighted, a collapsed group drawn as a dashed count. It
//! keeps its size and scrolls (pans) in its frame rather than shrinking; with JavaScript it
//! zooms. Every label is text, never markup.
use crate::graph::LaidOut;
use leptos::prelude::*;

/// The zoom steps, in percent.
const ZOOMS: [u32; 7] = [40, 60, 80, 100, 125, 150, 200];

/// The graph as an SVG image named `label` for screen readers.
#[component]
pub fn GraphDrawing(graph: LaidOut, label: &'static str) -> impl IntoView {
    let (width, height) = (graph.width, graph.height);
    let view_box = format!("0 0 {width:.0} {height:.0}");
    // index into ZOOMS: 100 %
    let zoom = RwSignal::new(3usize);
    let percent = move || ZOOMS[zoom.get()];
    let scaled = move |v: f64| format!("{:.0}", v * f64::from(percent()) / 100.0);
    let button = "h-7 min-w-7 rounded-md px-2 text-sm ring-1 ring-slate-300 hover:bg-slate-100 disabled:opacity-40 dark:ring-slate-700 dark:hover:bg-slate-800";
    view! {
        <div class="js-only hidden" data-testid="graph-zoom">
            <div class="mb-2 flex items-center gap-1 text-xs" role="group" aria-label="Zoom">
                <button type="button" class=button aria-label="Zoom out" disabled=move || zoom.get() == 0 on:click=move |_| zoom.update(|z| *z = z.saturating_sub(1))>"−"</button>
                <button type="button" class=button aria-label="Actual size" on:click=move |_| zoom.set(3)>{move || format!("{} %", percent())}</button>
                <button type="button" class=button aria-label="Zoom in" disabled=move || zoom.get() == ZOOMS.len() - 1 on:click=move |_| zoom.update(|z| *z = (*z + 1).min(ZOOMS.len() - 1))>"+"</button>
            </div>
        </div>
        <div class="max-h-[36rem] overflow-auto rounded-lg border border-slate-100 dark:border-slate-800" data-testid="graph-frame" tabindex="0" aria-label=format!("{label}: scroll to pan")>
            // the boxes are drawn in the SVG; their links are HTML laid over them (an element
            // made in the browser inside an SVG would be HTML, not SVG, and not drawn)
            <div class="relative" style=move || format!("width:{}px;height:{}px", scaled(width), scaled(height))>
                <svg viewBox=view_box width="100%" height="100%" class="block text-slate-700 dark:text-slate-300" role="img" aria-label=label data-testid="graph">
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor"/>
                        </marker>
                    </defs>
                    {graph.edges.into_iter().map(|e| view! {
                        <path d=e.d fill="none" stroke="currentColor" stroke-opacity="0.5" marker-end="url(#arrow)"
                            stroke-dasharray=if e.dashed { "4 3" } else { "" }/>
                    }).collect_view()}
                    {graph.nodes.iter().map(|n| {
                        let (root, group) = (n.depth == 0, n.more > 0);
                        let (rect_class, text_class) = match (root, group) {
                            (true, _) => ("fill-indigo-600 stroke-indigo-800 dark:fill-indigo-500", "fill-white font-semibold"),
                            (false, true) => ("fill-slate-50 stroke-slate-400 dark:fill-slate-800", "fill-slate-600 italic dark:fill-slate-300"),
                            (false, false) => ("fill-white stroke-slate-300 dark:fill-slate-900 dark:stroke-slate-600", "fill-indigo-700 dark:fill-indigo-300"),
                        };
                        view! {
                            <rect x=format!("{:.1}", n.x) y=format!("{:.1}", n.y) width=format!("{:.1}", n.width) height=format!("{:.1}", n.height) rx="8"
                                class=rect_class stroke-width=if root { "2" } else { "1" } stroke-dasharray=if group { "4 3" } else { "" }/>
                            <text x=format!("{:.1}", n.x + n.width / 2.0) y=format!("{:.1}", n.y + n.height / 2.0 + 4.0) text-anchor="middle" font-size="13" class=text_class>
                                {n.label.clone()}
                            </text>
                        }
                    }).collect_view()}
                </svg>
                {graph.nodes.into_iter().map(|n| {
                    let place = format!(
                        "left:{:.3}%;top:{:.3}%;width:{:.3}%;height:{:.3}%",
                        n.x / width * 100.0, n.y / height * 100.0, n.width / width * 100.0, n.height / height * 100.0
                    );
                    let title = n.title.clone();
                    if n.depth == 0 {
                        // where you are: not a link to itself
                        view! { <span class="absolute" style=place data-testid="graph-node" data-root="true" aria-current="page" title=title><span class="sr-only">{n.title}</span></span> }.into_any()
                    } else {
                        let testid = if n.more > 0 { "graph-more" } else { "graph-node" };
                        view! {
                            <a href=n.href class="absolute rounded-lg hover:ring-2 hover:ring-indigo-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600" style=place
                                data-testid=testid title=title><span class="sr-only">{n.title}</span></a>
                        }.into_any()
                    }
                }).collect_view()}
            </div>
        </div>
    }
}
