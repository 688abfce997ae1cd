//! One run: its state, records and error, the retry chain, its facets and every event as it came.
use super::charts::duration_text;
use super::{RunBadge, When};
use crate::integrations::api::get_run;
use crate::integrations::types::RunDetail;
use crate::ui::{Card, DataTable, ErrorBox, Loading};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, get_run);
    view! {
        <Title text="Run"/>
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(run) => view! { <Run detail=run/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Run(detail: RunDetail) -> impl IntoView {
    let RunDetail { run: r, facets, events, retries } = detail;
    let dt = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
    let dd = "mt-0.5 text-sm";
    let n = |v: Option<i64>| v.map_or("—".to_owned(), |n| n.to_string());
    let facets = serde_json::from_str::<serde_json::Value>(&facets).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or(facets);
    view! {
        <div class="mb-6">
            <p class="font-mono text-xs text-slate-500">{format!("run {}", r.run_id)}</p>
            <h1 class="text-2xl font-semibold tracking-tight">
                {match &r.integration {
                    Some(i) => view! { <a class="hover:underline" href=format!("/integrations/{i}")>{i.clone()}</a> }.into_any(),
                    None => view! { <span>{format!("{}/{}", r.job_namespace, r.job_name)}</span>" " <span class="text-base font-normal text-slate-500">"(unregistered job)"</span> }.into_any(),
                }}
            </h1>
            <div class="mt-2 flex items-center gap-2 text-sm"><RunBadge state=r.state/>{r.raw_status.clone().map(|s| view! { <span class="font-mono text-xs text-slate-500">{s}</span> })}</div>
        </div>
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
            <Card title="Run">
                <dl class="grid gap-3 p-4">
                    <div><dt class=dt>"Trigger"</dt><dd class=dd>{r.trigger.label()}</dd></div>
                    <div><dt class=dt>"Due"</dt><dd class=dd><When at=r.nominal_start/></dd></div>
                    <div><dt class=dt>"Started"</dt><dd class=dd><When at=r.started_at/></dd></div>
                    <div><dt class=dt>"Ended"</dt><dd class=dd><When at=r.ended_at/></dd></div>
                    <div><dt class=dt>"Duration"</dt><dd class=dd>{r.duration_secs.map_or("—".into(), duration_text)}</dd></div>
                    <div><dt class=dt>"Records"</dt><dd class=dd>{format!("{} in · {} out · {} failed", n(r.records_in), n(r.records_out), n(r.records_failed))}</dd></div>
                    {r.runtime_node.clone().map(|x| view! { <div><dt class=dt>"Node"</dt><dd class="mt-0.5 font-mono text-sm">{x}</dd></div> })}
                    {r.parent_run_id.map(|p| view! { <div><dt class=dt>"Part of"</dt><dd class=dd><a class="font-mono hover:underline" href=format!("/integrations/runs/{p}")>{p.to_string()}</a></dd></div> })}
                </dl>
            </Card>
            <div class="space-y-6 lg:col-span-2">
                {r.error_message.clone().map(|m| view! {
                    <div role="alert" class="rounded-xl border border-rose-200 bg-rose-50 p-4 text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200" data-testid="run-error">
                        <p class="font-medium">{r.error_class.clone().unwrap_or_else(|| "Error".into())}</p>
                        <pre class="mt-1 whitespace-pre-wrap text-sm">{m}</pre>
                    </div>
                })}
                {(!retries.is_empty()).then(|| view! {
                    <Card title="Retry chain">
                        <DataTable testid="retries" columns=vec!["Run", "State", "Started"]>
                            {retries.into_iter().map(|x| view! {
                                <tr>
                                    <td class="px-4 py-2 font-mono text-xs"><a class="hover:underline" href=format!("/integrations/runs/{}", x.run_id)>{x.run_id.to_string()}</a></td>
                                    <td class="px-4 py-2"><RunBadge state=x.state/></td>
                                    <td class="px-4 py-2 text-sm"><When at=x.started_at/></td>
                                </tr>
                            }).collect_view()}
                        </DataTable>
                    </Card>
                })}
                <Card title="Events, as they came">
                    <ol class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="events">
                        {events.into_iter().map(|e| {
                            let body = serde_json::from_str::<serde_json::Value>(&e.body).ok().and_then(|v| serde_json::to_string_pretty(&v).ok()).unwrap_or(e.body);
                            view! {
                                <li class="p-4">
                                    <details>
                                        <summary class="cursor-pointer text-sm"><span class="font-mono font-medium">{e.event_type}</span>" at " <When at=Some(e.event_time)/>
                                            <span class="text-xs text-slate-500">" (received " {e.received_at.format("%H:%M:%S").to_string()} ")"</span></summary>
                                        <pre class="mt-2 max-h-96 overflow-auto rounded bg-slate-50 p-2 text-xs dark:bg-slate-950">{body}</pre>
                                    </details>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </Card>
                <Card title="Facets, merged">
                    <pre class="max-h-96 overflow-auto p-4 text-xs">{facets}</pre>
                </Card>
            </div>
        </div>
    }
}
