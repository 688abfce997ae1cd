//! The topology page: the interactive view (drawn by `/pkg/topology/view.js`, a sigma.js bundle
//! loaded on this page only), and under it what reads without a script: an overview of the
//! sites and partners drawn on the server, the single points of failure, the partners with one
//! path, the sites and the partners.
use super::{device_href, partner_href, partner_kind, site_href, site_kind, DT, LINK, TD};
use crate::topology::api::get_overview;
use crate::topology::types::Overview;
use crate::ui::form::INPUT;
use crate::ui::icons::Icon;
use crate::ui::{Badge, Card, DataTable, EmptyState, ErrorBox, Loading, PageHeader, StatCard, Tone};
use leptos::prelude::*;
use leptos_meta::Title;

/// The interactive view's script: bundled at build time from npm's sigma.js and graphology
/// (`app/js/topology-view.js`), served beside the WASM, loaded by this page alone.
pub const VIEW_SCRIPT: &str = "/pkg/topology/view.js";

#[component]
pub fn TopologyPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Topology"/>
        <PageHeader title="Topology" subtitle="Sites, devices, links, circuits and BGP sessions to banks, card networks and clouds; and what a failure would cut off."/>
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) if o.devices == 0 && o.places.is_empty() => view! {
                        <EmptyState icon=Icon::Topology title="No network data yet">
                            "An admin syncs sites, devices, cables, circuits and BGP sessions from NetBox (below, or POST /api/v1/topology/sync/netbox), or the network team imports a GraphML drawing (POST /api/v1/topology/import/graphml). The drawing and what a failure would cut off appear here."
                        </EmptyState>
                    }.into_any(),
                    Ok(o) => overview(o).into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
        <div class="mt-6"><super::sync::NetboxCard/></div>
    }
}

fn overview(o: Overview) -> impl IntoView {
    let weak = o.weak_points.len() as i64;
    let single = o.partner_findings.iter().map(|f| f.partner.as_str()).collect::<std::collections::HashSet<_>>().len() as i64;
    let roles = o.roles.clone();
    let site_names: Vec<String> = o.sites.iter().map(|s| s.name.clone()).collect();
    let drawing = o.clone();
    let Overview { version, devices, links, weak_points, partner_findings, sites, partners, .. } = o;
    let site_count = sites.len() as i64;
    view! {
        <div class="mb-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            <StatCard label="Devices" value=i64::from(devices) hint=format!("{links} links, circuits and sessions")/>
            <StatCard label="Sites" value=site_count hint="data centers, colocations, cloud regions"/>
            <StatCard label="Single points of failure" value=weak hint="devices whose loss splits the network"/>
            <StatCard label="Partners with one path" value=single hint="from a data center or colocation, or none"/>
        </div>
        <div class="space-y-6">
            <Card title="The network">
                <div class="p-4">
                    <p class="text-sm text-slate-600 dark:text-slate-400" data-topology-fallback="">
                        "The interactive drawing needs JavaScript and WebGL. The overview and the tables below are drawn by the server."
                    </p>
                    <topology-view data-src="/api/v1/topology/graph" data-roles=roles.join(",") data-sites=site_names.join("\u{1f}")
                        id="topology-view" class="block" data-testid="topology-view"></topology-view>
                    <script type="module" src=VIEW_SCRIPT></script>
                </div>
            </Card>
            <Card title="Sites, partners and what joins them">
                <div class="overflow-x-auto p-4">
                    <OverviewDrawing overview=drawing/>
                    <p class="mt-2 text-xs text-slate-600 dark:text-slate-400">
                        "Boxes are sites, dots partners; a line is the circuits and cables between two of them (dashed: BGP sessions only), thicker for more; hover for the count. A red dot is a partner a data center reaches by one path or none."
                    </p>
                </div>
            </Card>
            <div class="grid grid-cols-1 gap-6 lg:grid-cols-2">
                <Card title="Single points of failure">
                    {if weak_points.is_empty() {
                        view! { <p class="p-4 text-sm text-slate-500">"None: no single device's loss splits the network."</p> }.into_any()
                    } else {
                        view! {
                            <DataTable testid="weak-points" columns=vec!["Device", "Cuts off", "What it is the only path to"]>
                                {weak_points.into_iter().map(|w| view! {
                                    <tr>
                                        <td class=TD>{w.devices.into_iter().map(|d| view! { <a class=LINK href=device_href(&d)>{d.clone()}</a>" " }).collect_view()}</td>
                                        <td class=format!("{TD} tabular-nums")>{w.cuts_off}</td>
                                        <td class=TD>{w.summary}</td>
                                    </tr>
                                }).collect_view()}
                            </DataTable>
                        }.into_any()
                    }}
                </Card>
                <Card title="Partners with one path or none">
                    {if partner_findings.is_empty() {
                        view! { <p class="p-4 text-sm text-slate-500">"Every partner has two or more independent paths from each data center and colocation."</p> }.into_any()
                    } else {
                        view! {
                            <DataTable testid="partner-findings" columns=vec!["Partner", "From", "Independent paths"]>
                                {partner_findings.into_iter().map(|f| {
                                    let (tone, text) = if f.paths == 0 { (Tone::Bad, "none") } else { (Tone::Warn, "one") };
                                    view! {
                                        <tr>
                                            <td class=TD><a class=LINK href=partner_href(&f.partner)>{f.partner.clone()}</a></td>
                                            <td class=TD><a class=LINK href=site_href(&f.site)>{f.site.clone()}</a></td>
                                            <td class=TD><Badge tone>{text}</Badge></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </DataTable>
                        }.into_any()
                    }}
                </Card>
            </div>
            <div class="grid grid-cols-1 gap-6 lg:grid-cols-2">
                <Card title="Find">
                    <form method="get" action="/topology/devices" class="grid gap-2 p-4 sm:grid-cols-[1fr_auto]">
                        <label class="sr-only" for="find-device">"Device name"</label>
                        <input id="find-device" name="q" class=INPUT placeholder="Device name, or part of it" maxlength="100"/>
                        <button class="rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Find devices"</button>
                    </form>
                    <form method="get" action="/topology/paths" class="grid gap-2 border-t border-slate-200 p-4 sm:grid-cols-[1fr_1fr_auto] dark:border-slate-800">
                        <label class="sr-only" for="path-from">"From"</label>
                        <input id="path-from" name="from" class=INPUT placeholder="From a device" maxlength="100" required/>
                        <label class="sr-only" for="path-to">"To"</label>
                        <input id="path-to" name="to" class=INPUT placeholder="To a device or partner" maxlength="100" required/>
                        <button class="rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Show paths"</button>
                    </form>
                </Card>
                <Card title="Sites">
                    <DataTable testid="sites" columns=vec!["Site", "Kind", "Region", "Devices"]>
                        {sites.into_iter().map(|s| view! {
                            <tr>
                                <td class=TD><a class=LINK href=site_href(&s.name)>{s.name.clone()}</a></td>
                                <td class=TD>{site_kind(&s.kind)}</td>
                                <td class=TD>{s.region.unwrap_or_default()}</td>
                                <td class=format!("{TD} tabular-nums")><a class="hover:underline" href=format!("/topology/devices?site={}", super::seg(&s.name))>{s.devices}</a></td>
                            </tr>
                        }).collect_view()}
                    </DataTable>
                </Card>
            </div>
            <Card title="Partners">
                {if partners.is_empty() {
                    view! { <p class="p-4 text-sm text-slate-500">"No partners yet: they come with their BGP sessions from NetBox."</p> }.into_any()
                } else {
                    view! {
                        <DataTable testid="partners" columns=vec!["Partner", "Kind", "ASNs", "Sessions established"]>
                            {partners.into_iter().map(|p| {
                                let tone = if p.sessions == 0 { Tone::Neutral } else if p.established == p.sessions { Tone::Good } else if p.established == 0 { Tone::Bad } else { Tone::Warn };
                                let established = format!("{} of {}", p.established, p.sessions);
                                view! {
                                    <tr>
                                        <td class=TD><a class=LINK href=partner_href(&p.name)>{p.name.clone()}</a></td>
                                        <td class=TD>{partner_kind(&p.kind)}</td>
                                        <td class=format!("{TD} font-mono")>{p.asns.iter().map(|a| format!("AS{a}")).collect::<Vec<_>>().join(", ")}</td>
                                        <td class=TD><Badge tone>{established}</Badge></td>
                                    </tr>
                                }
                            }).collect_view()}
                        </DataTable>
                    }.into_any()
                }}
            </Card>
            <p class=DT>{format!("Network version {version}")}</p>
        </div>
    }
}

/// The sites (boxes, a row at a time: data centers, colocations, cloud regions, then the rest)
/// and the partners (dots, in a row below), and a line for what joins two of them: SVG drawn on
/// the server, every label text. Two sites of one row are joined by an arc above it.
#[component]
fn OverviewDrawing(overview: Overview) -> impl IntoView {
    let o = overview;
    if o.places.is_empty() {
        return view! { <p class="text-sm text-slate-500">"Nothing to draw yet."</p> }.into_any();
    }
    const PER_ROW: usize = 8;
    const W: f64 = 170.0;
    const H: f64 = 52.0;
    const GAP_X: f64 = 40.0;
    const GAP_Y: f64 = 120.0;
    let rank = |kind: &str| match kind {
        "data_center" => 0,
        "colocation" => 1,
        "cloud_region" => 2,
        _ => 3,
    };
    let mut sites: Vec<usize> = (0..o.places.len()).filter(|i| o.places[*i].kind != "partner").collect();
    sites.sort_by(|a, b| rank(&o.places[*a].kind).cmp(&rank(&o.places[*b].kind)).then_with(|| o.places[*a].name.cmp(&o.places[*b].name)));
    let partners: Vec<usize> = (0..o.places.len()).filter(|i| o.places[*i].kind == "partner").collect();
    let columns = sites.len().clamp(1, PER_ROW).max(partners.len().min(PER_ROW));
    let width = columns as f64 * (W + GAP_X) + GAP_X;
    // room above the first row for the highest arc
    let lift_of = |dx: f64| 16.0 + dx * 0.06;
    let top = lift_of(width) + H / 2.0 + 10.0;
    // where each place is drawn: (centre x, centre y)
    let mut at = vec![(0.0, 0.0); o.places.len()];
    for (n, i) in sites.iter().enumerate() {
        let (row, col) = (n / PER_ROW, n % PER_ROW);
        let in_row = (sites.len() - row * PER_ROW).min(PER_ROW);
        let left = (width - in_row as f64 * (W + GAP_X) + GAP_X) / 2.0;
        at[*i] = (left + col as f64 * (W + GAP_X) + W / 2.0, top + row as f64 * (H + GAP_Y) + H / 2.0);
    }
    let site_rows = sites.len().div_ceil(PER_ROW).max(1);
    let partner_top = top + site_rows as f64 * (H + GAP_Y) + 30.0;
    for (n, i) in partners.iter().enumerate() {
        let (row, col) = (n / PER_ROW, n % PER_ROW);
        let in_row = (partners.len() - row * PER_ROW).min(PER_ROW);
        let step = width / in_row as f64;
        at[*i] = (step * (col as f64 + 0.5), partner_top + row as f64 * 70.0);
    }
    let height = partner_top + partners.len().div_ceil(PER_ROW).max(1) as f64 * 70.0 + 10.0;
    let single: std::collections::HashSet<&str> = o.partner_findings.iter().map(|f| f.partner.as_str()).collect();
    let plural = |n: u32, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let lines = o.joins.iter().map(|j| {
        let (a, b) = (&o.places[j.a as usize], &o.places[j.b as usize]);
        let ((ax, ay), (bx, by)) = (at[j.a as usize], at[j.b as usize]);
        let mut what = Vec::new();
        if j.circuits > 0 { what.push(plural(j.circuits, "circuit")); }
        if j.links > 0 { what.push(plural(j.links, "cable")); }
        if j.sessions > 0 { what.push(plural(j.sessions, "BGP session")); }
        let title = format!("{} — {}: {}", a.name, b.name, what.join(", "));
        let n = j.circuits + j.links + j.sessions;
        let both_sites = a.kind != "partner" && b.kind != "partner";
        let d = if both_sites && (ay - by).abs() < 1.0 {
            // two sites of one row: an arc above them, higher the farther apart
            let lift = lift_of((ax - bx).abs());
            format!("M {ax:.1} {:.1} Q {:.1} {:.1} {bx:.1} {:.1}", ay - H / 2.0, (ax + bx) / 2.0, ay - H / 2.0 - lift * 2.0, by - H / 2.0)
        } else {
            let (y1, y2) = if ay < by { (ay + H / 2.0, by - if b.kind == "partner" { 9.0 } else { H / 2.0 }) } else { (ay - if a.kind == "partner" { 9.0 } else { H / 2.0 }, by + H / 2.0) };
            format!("M {ax:.1} {y1:.1} L {bx:.1} {y2:.1}")
        };
        view! {
            <path d=d fill="none" stroke="currentColor" stroke-opacity="0.4" stroke-width=format!("{:.1}", 1.0 + (n as f64).sqrt())
                stroke-dasharray=if j.circuits == 0 && j.links == 0 { "5 4" } else { "" }>
                <title>{title}</title>
            </path>
        }
    }).collect_view();
    let places = o.places.iter().enumerate().map(|(i, p)| {
        let (x, y) = at[i];
        if p.kind == "partner" {
            let weak = single.contains(p.name.as_str());
            view! {
                <g data-testid="overview-partner">
                    <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r="9"
                        class=if weak { "fill-rose-500 stroke-rose-800" } else { "fill-emerald-500 stroke-emerald-800" }>
                        <title>{format!("{}{}", p.name, if weak { ": one path or none from a data center" } else { "" })}</title>
                    </circle>
                    <text x=format!("{x:.1}") y=format!("{:.1}", y + 26.0) text-anchor="middle" font-size="13" fill="currentColor">{p.name.clone()}</text>
                </g>
            }.into_any()
        } else {
            view! {
                <g data-testid="overview-site">
                    <rect x=format!("{:.1}", x - W / 2.0) y=format!("{:.1}", y - H / 2.0) width=format!("{W:.0}") height=format!("{H:.0}") rx="8"
                        class="fill-indigo-50 stroke-indigo-400 dark:fill-indigo-950"><title>{format!("{} ({})", p.name, site_kind(&p.kind))}</title></rect>
                    <text x=format!("{x:.1}") y=format!("{:.1}", y - 3.0) text-anchor="middle" font-size="14" font-weight="600" fill="currentColor">{p.name.clone()}</text>
                    <text x=format!("{x:.1}") y=format!("{:.1}", y + 15.0) text-anchor="middle" font-size="11" fill="currentColor" fill-opacity="0.7">{site_kind(&p.kind)}</text>
                </g>
            }.into_any()
        }
    }).collect_view();
    view! {
        <svg viewBox=format!("0 0 {width:.0} {height:.0}") class="h-auto w-full text-slate-700 dark:text-slate-300" role="img"
            aria-label="Overview of the sites and partners and the circuits between them" data-testid="topology-overview">
            {lines}
            {places}
        </svg>
    }.into_any()
}
