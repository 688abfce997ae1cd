//! One integration: its flow, health card, charts over 30 days and 13 months, runs (new ones
//! appear while the page is open, with JavaScript), service levels and owners.
use super::charts::{duration_text, DailyDuration, DailyRuns};
use super::{HealthBadge, RunBadge, When};
use crate::audit::pages::{AsOfCard, AuditTable};
use crate::integrations::api::{get_integration, recent_runs, IntegrationView};
use crate::integrations::types::{age_text, IntegrationDetail, RunPage, RunView, SlotState, SystemRef};
use crate::ui::{Badge, Card, DataTable, ErrorBox, Loading, Tone};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn IntegrationPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let runs_q = move || query.with(|q| ["state", "after"].iter().filter_map(|k| q.get(k).map(|v| format!("{k}={}", urlencode(&v)))).collect::<Vec<_>>().join("&"));
    // blocking: the page's status (404 for an integration not there) is known before it streams
    let data = Resource::new_blocking(move || (name(), runs_q()), |(n, r)| get_integration(n, r));
    let registered = move || query.with(|q| q.get("registered").is_some());
    let saved = move || query.with(|q| q.get("saved").is_some());
    // new runs come in live on the first page of runs, filtered by nothing
    let first_page = move || query.with(|q| q.get("after").is_none() && q.get("state").is_none());
    let then = super::as_of_resource(false, name);
    view! {
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(IntegrationView { detail, runs, history }) => view! {
                        {registered().then(|| view! {
                            <p role="status" class="mb-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200" data-testid="registered">
                                {if detail.summary.status == "pending" { "Registered: it waits for approval." } else { "Registered." }}
                            </p>
                        })}
                        {saved().then(|| view! {
                            <p role="status" class="mb-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200" data-testid="saved">
                                {if detail.pending_approval.is_some() { "Saved; a change waits for approval." } else { "Saved." }}
                            </p>
                        })}
                        <Integration detail runs live=first_page()/>
                        <div class="mt-6"><Card title="History"><div data-testid="history"><AuditTable entries=history as_of_links=true/></div></Card></div>
                        <div class="mt-6"><AsOfCard data=then/></div>
                    }.into_any(),
                    Err(e) => view! { <Title text="Integration"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn urlencode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// Source systems → the platform → target systems, with the format and auth on the arrows.
#[component]
fn FlowDiagram(sources: Vec<SystemRef>, targets: Vec<SystemRef>, platform: String, label: String) -> impl IntoView {
    let rows = sources.len().max(targets.len()).max(1) as f64;
    let (w, row_h, box_w, box_h) = (720.0_f64, 56.0_f64, 190.0_f64, 40.0_f64);
    let h = rows * row_h + 16.0;
    let mid_y = h / 2.0;
    let column = |ends: &[SystemRef], x: f64| {
        let n = ends.len().max(1) as f64;
        ends.iter()
            .enumerate()
            .map(|(i, s)| {
                let y = (h - n * row_h) / 2.0 + i as f64 * row_h + (row_h - box_h) / 2.0;
                (s.clone(), x, y)
            })
            .collect::<Vec<_>>()
    };
    let left = column(&sources, 8.0);
    let right = column(&targets, w - box_w - 8.0);
    let px = (w - box_w) / 2.0;
    // boxes only (an SVG <a> made in the browser would land in the HTML namespace); the systems'
    // links are listed under the drawing
    let node = |s: &SystemRef, x: f64, y: f64| {
        let title = s.title.clone();
        let kind = format!("{}{}", s.kind.label(), if s.external { " · outside" } else { "" });
        view! {
            <g>
                <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{box_w}") height=format!("{box_h}") rx="8"
                    class="fill-white stroke-slate-300 dark:fill-slate-900 dark:stroke-slate-600"/>
                <text x=format!("{:.1}", x + box_w / 2.0) y=format!("{:.1}", y + 17.0) text-anchor="middle" font-size="13" fill="currentColor">{title}</text>
                <text x=format!("{:.1}", x + box_w / 2.0) y=format!("{:.1}", y + 32.0) text-anchor="middle" font-size="10" fill="currentColor" fill-opacity="0.7">{kind}</text>
            </g>
        }
    };
    view! {
        <svg viewBox=format!("0 0 {w} {h}") class="w-full text-slate-700 dark:text-slate-300" role="img" aria-label=label data-testid="flow">
            <defs>
                <marker id="flow-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor"/>
                </marker>
            </defs>
            {left.iter().map(|(_, x, y)| view! {
                <path d=format!("M {:.1} {:.1} C {:.1} {:.1}, {:.1} {:.1}, {px:.1} {mid_y:.1}", x + box_w, y + box_h / 2.0, x + box_w + 40.0, y + box_h / 2.0, px - 40.0, mid_y)
                    fill="none" stroke="currentColor" stroke-opacity="0.5" marker-end="url(#flow-arrow)"/>
            }).collect_view()}
            {right.iter().map(|(_, x, y)| view! {
                <path d=format!("M {:.1} {mid_y:.1} C {:.1} {mid_y:.1}, {:.1} {:.1}, {x:.1} {:.1}", px + box_w, px + box_w + 40.0, x - 40.0, y + box_h / 2.0, y + box_h / 2.0)
                    fill="none" stroke="currentColor" stroke-opacity="0.5" marker-end="url(#flow-arrow)"/>
            }).collect_view()}
            <rect x=format!("{px:.1}") y=format!("{:.1}", mid_y - box_h / 2.0) width=format!("{box_w}") height=format!("{box_h}") rx="20"
                class="fill-indigo-100 stroke-indigo-500 dark:fill-indigo-950"/>
            <text x=format!("{:.1}", px + box_w / 2.0) y=format!("{:.1}", mid_y + 4.0) text-anchor="middle" font-size="13" fill="currentColor">{platform}</text>
            {left.iter().map(|(s, x, y)| node(s, *x, *y)).collect_view()}
            {right.iter().map(|(s, x, y)| node(s, *x, *y)).collect_view()}
        </svg>
    }
}

#[component]
fn Integration(detail: IntegrationDetail, runs: RunPage, live: bool) -> impl IntoView {
    let d = detail;
    let s = d.summary.clone();
    let now = d.as_of;
    let dt = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
    let dd = "mt-0.5 text-sm";
    let last30: Vec<_> = d.history.iter().rev().take(30).rev().cloned().collect();
    let freshness = match (d.last_success_at, d.levels.freshness_hours) {
        (Some(t), Some(h)) => format!("{} ago (target: at least every {h} h)", age_text(now - t)),
        (Some(t), None) => format!("{} ago", age_text(now - t)),
        (None, _) => "never".to_owned(),
    };
    let budget = if d.budget.expected == 0 {
        "no runs expected yet".to_owned()
    } else {
        format!("{:.0} % left · {} failures of {:.1} allowed · burn {:.1}×", d.budget.left * 100.0, d.budget.failures, d.budget.allowed, d.budget.burn_rate)
    };
    let flow_label = format!(
        "{} to {} on {}: {} over {}, {}",
        s.sources.iter().map(|x| x.title.clone()).collect::<Vec<_>>().join(", "),
        s.targets.iter().map(|x| x.title.clone()).collect::<Vec<_>>().join(", "),
        s.platform.label(),
        d.data_format.label(),
        d.transport.label(),
        d.auth.label()
    );
    let schedule = match (&s.schedule, s.trigger) {
        (Some(c), _) => format!("{c} ({})", d.time_zone),
        (None, t) => t.label().to_owned(),
    };
    let name = s.name.clone();
    let late_slots = d.late_slots.clone();
    view! {
        <Title text=s.title.clone()/>
        <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <a href=format!("/integrations/{}/edit", s.name) class="order-last h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Edit"</a>
            <div>
                <p class="font-mono text-xs text-slate-500">{format!("integration {}", s.name)}</p>
                <h1 class="text-2xl font-semibold tracking-tight">{s.title.clone()}</h1>
                <div class="mt-2 flex flex-wrap items-center gap-2 text-sm">
                    <HealthBadge health=s.health/>
                    <span class="text-slate-600 dark:text-slate-400" data-testid="health-reason">{s.health_reason.clone()}</span>
                    {(s.status == "pending").then(|| view! { <Badge tone=Tone::Warn>"Waits for approval"</Badge> })}
                    {d.pending_approval.map(|a| view! { <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/approvals/{a}")>"See the request"</a> })}
                </div>
            </div>
        </div>
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
            <div class="space-y-6 lg:col-span-2">
                <Card title="Flow">
                    <div class="p-4">
                        <FlowDiagram sources=s.sources.clone() targets=s.targets.clone() platform=s.platform.label().to_owned() label=flow_label.clone()/>
                        <p class="mt-2 text-xs text-slate-600 dark:text-slate-400">{format!("{} · {} · {}", d.data_format.label(), d.transport.label(), d.auth.label())}</p>
                        <p class="mt-1 text-sm" data-testid="flow-systems">
                            {s.sources.iter().chain(s.targets.iter()).enumerate().map(|(i, x)| view! {
                                {(i > 0).then_some(" · ")}
                                <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/integrations/systems/{}", x.name)>{x.title.clone()}</a>
                            }).collect_view()}
                        </p>
                    </div>
                </Card>
                <Card title="Runs per day, last 30 days"><div class="p-4"><DailyRuns days=last30 label="Runs per day over the last 30 days" testid="chart-30d"/></div></Card>
                <Card title="Runs">
                    <Runs name=name.clone() initial=runs live/>
                </Card>
                <Card title="13 months">
                    <div class="space-y-4 p-4">
                        <DailyRuns days=d.history.clone() label="Runs per day over 13 months" testid="chart-13m"/>
                        <DailyDuration days=d.history.clone() testid="chart-duration"/>
                    </div>
                </Card>
            </div>
            <div class="space-y-6">
                <Card title="Health">
                    <dl class="grid gap-3 p-4" data-testid="health-card">
                        <div><dt class=dt>"Last run"</dt><dd class=dd>{match &s.last_run {
                            Some(r) => view! { <span><RunBadge state=r.state/>" " <When at=r.ended_at.or(r.started_at)/>{r.duration_secs.map(|x| format!(" · {}", duration_text(x)))}</span> }.into_any(),
                            None => view! { <span>"No runs yet"</span> }.into_any(),
                        }}</dd></div>
                        <div><dt class=dt>"Last success"</dt><dd class=dd>{freshness}</dd></div>
                        <div><dt class=dt>"Success rate"</dt><dd class=dd data-testid="success-rates">
                            {format!("{} (24 h) · {} (7 d) · {} (30 d); target {:.1} %", percent(d.success_24h), percent(d.success_7d), percent(d.success_30d), d.levels.success_target * 100.0)}
                        </dd></div>
                        <div><dt class=dt>"p95 duration"</dt><dd class=dd>{format!("{} (24 h) against {} (30 d)", d.p95_24h_secs.map_or("—".into(), duration_text), d.p95_30d_secs.map_or("—".into(), duration_text))}</dd></div>
                        <div><dt class=dt>"Error budget, 30 days"</dt><dd class=dd data-testid="budget">{budget}</dd></div>
                        <div><dt class=dt>"Records failed, 30 days"</dt><dd class=dd>{d.records_failed_30d}</dd></div>
                        {(!d.top_errors.is_empty()).then(|| view! {
                            <div><dt class=dt>"Top errors, 30 days"</dt><dd class=dd><ul>
                                {d.top_errors.iter().map(|e| view! { <li><span class="font-mono">{e.error_class.clone()}</span>{format!(" × {}", e.runs)}</li> }).collect_view()}
                            </ul></dd></div>
                        })}
                        {(!late_slots.is_empty()).then(|| view! {
                            <div><dt class=dt>"Late and missed slots"</dt><dd class=dd><ul data-testid="late-slots">
                                {late_slots.into_iter().take(5).map(|l| view! {
                                    <li><Badge tone=if l.state == SlotState::Missed { Tone::Bad } else { Tone::Warn }>{l.state.label()}</Badge>" " <When at=Some(l.nominal)/></li>
                                }).collect_view()}
                            </ul></dd></div>
                        })}
                    </dl>
                </Card>
                <Card title="Service levels">
                    <dl class="grid gap-3 p-4">
                        <div><dt class=dt>"Trigger"</dt><dd class=dd>{schedule}</dd></div>
                        {(!d.next_slots.is_empty()).then(|| view! {
                            <div><dt class=dt>"Next runs due"</dt><dd class=dd><ul>{d.next_slots.iter().map(|t| view! { <li><When at=Some(*t)/></li> }).collect_view()}</ul></dd></div>
                        })}
                        <div><dt class=dt>"Late after"</dt><dd class=dd>{format!("{} min (grace); missed after {} min", d.levels.grace_mins, d.levels.max_duration_mins)}</dd></div>
                    </dl>
                </Card>
                <Card title="About">
                    <dl class="grid gap-3 p-4">
                        {(!d.description.is_empty()).then(|| view! { <div><dt class=dt>"Description"</dt><dd class="mt-0.5 whitespace-pre-line text-sm">{d.description.clone()}</dd></div> })}
                        <div><dt class=dt>"Owner"</dt><dd class=dd><a class="hover:underline" href=format!("/teams/{}", s.owner)>{s.owner.clone()}</a>
                            {(!d.co_owners.is_empty()).then(|| format!(" with {}", d.co_owners.join(", ")))}</dd></div>
                        <div><dt class=dt>"Data"</dt><dd class=dd>{s.classification.label()}</dd></div>
                        <div><dt class=dt>"Lifecycle"</dt><dd class=dd>{s.lifecycle.label()}</dd></div>
                        {(!d.platform_ref.is_empty()).then(|| view! { <div><dt class=dt>"Platform reference"</dt><dd class="mt-0.5 font-mono text-sm">{d.platform_ref.clone()}</dd></div> })}
                        <div><dt class=dt>"OpenLineage job"</dt><dd class="mt-0.5 font-mono text-sm">{format!("{}/{}", d.job_namespace, d.job_name)}</dd></div>
                        {d.runbook.clone().map(|r| { let href = r.clone(); view! { <div><dt class=dt>"Runbook"</dt><dd class=dd><a class="text-indigo-700 hover:underline dark:text-indigo-300" rel="noopener" href=href>{r}</a></dd></div> } })}
                        {(!d.on_call.is_empty()).then(|| view! { <div><dt class=dt>"On call"</dt><dd class=dd>{d.on_call.clone()}</dd></div> })}
                        {(!d.tags.is_empty()).then(|| view! { <div><dt class=dt>"Tags"</dt><dd class=dd>{d.tags.join(", ")}</dd></div> })}
                    </dl>
                </Card>
            </div>
        </div>
    }
}

fn run_row(r: RunView) -> impl IntoView {
    let records = match (r.records_in, r.records_out, r.records_failed) {
        (None, None, None) => "—".to_owned(),
        (i, o, f) => format!("{} in · {} out{}", i.map_or("—".into(), |n| n.to_string()), o.map_or("—".into(), |n| n.to_string()), f.filter(|n| *n > 0).map(|n| format!(" · {n} failed")).unwrap_or_default()),
    };
    let error = r.error_message.clone().map(|m| m.chars().take(140).collect::<String>());
    view! {
        <tr data-run=r.run_id.to_string()>
            <td class="px-4 py-2"><a href=format!("/integrations/runs/{}", r.run_id) class="hover:underline"><RunBadge state=r.state/></a></td>
            <td class="px-4 py-2 text-sm">{r.trigger.label()}</td>
            <td class="px-4 py-2 text-sm"><When at=r.started_at.or(r.ended_at)/></td>
            <td class="px-4 py-2 text-sm tabular-nums">{r.duration_secs.map_or("—".into(), duration_text)}</td>
            <td class="px-4 py-2 text-sm">{records}</td>
            <td class="px-4 py-2 text-sm text-rose-800 dark:text-rose-300" data-testid="run-error-summary">{error}</td>
        </tr>
    }
}

/// The runs table: the page's runs, and with JavaScript the newest ones every few seconds.
#[component]
fn Runs(name: String, initial: RunPage, live: bool) -> impl IntoView {
    let rows = RwSignal::new(initial.items);
    let next = initial.next.map(|c| format!("?after={}", urlencode(&c)));
    if live {
        // live: the newest runs replace the top of the table as they arrive
        let name = name.clone();
        Effect::new(move |_| {
            let name = name.clone();
            let handle = set_interval_with_handle(
                move || {
                    let name = name.clone();
                    leptos::task::spawn_local(async move {
                        if let Ok(page) = recent_runs(name).await {
                            rows.update(|list| {
                                let fresh: Vec<RunView> = page.items;
                                let mut merged = fresh.clone();
                                merged.extend(list.iter().filter(|r| !fresh.iter().any(|f| f.run_id == r.run_id)).cloned());
                                *list = merged;
                            });
                        }
                    });
                },
                std::time::Duration::from_secs(4),
            );
            on_cleanup(move || {
                if let Ok(h) = handle {
                    h.clear();
                }
            });
        });
    }
    view! {
        {move || if rows.with(Vec::is_empty) {
            view! { <p class="p-4 text-sm text-slate-500" data-testid="no-runs">"No runs yet. Runs arrive as OpenLineage events from the platform."</p> }.into_any()
        } else {
            view! {
                <DataTable testid="runs" columns=vec!["State", "Trigger", "Started", "Duration", "Records", "Error"]>
                    {move || rows.get().into_iter().map(run_row).collect_view()}
                </DataTable>
            }.into_any()
        }}
        {next.map(|href| view! { <nav class="border-t border-slate-200 px-4 py-2 text-sm dark:border-slate-800"><a rel="next" class="text-indigo-700 hover:underline dark:text-indigo-300" href=href>"Older runs →"</a></nav> })}
    }
}
