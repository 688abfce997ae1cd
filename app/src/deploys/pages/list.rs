//! Every deploy, newest first, filtered by service, environment, state, requester and time.
use super::{state_tone, when};
use crate::deploys::api::list_deploys;
use crate::deploys::types::DeployState;
use crate::ui::form::{Submit, INPUT};
use crate::ui::icons::Icon;
use crate::ui::{Badge, Card, DataTable, EmptyState, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DeploysPage() -> impl IntoView {
    let query = use_query_map();
    let qs = move || {
        query.with(|q| {
            ["service", "environment", "state", "requester", "since", "until"]
                .iter()
                .filter_map(|k| q.get(k).filter(|v| !v.is_empty()).map(|v| format!("{k}={}", crate::catalog::types::encode_query_value(&v))))
                .collect::<Vec<_>>()
                .join("&")
        })
    };
    let deploys = Resource::new(qs, list_deploys);
    let value = move |k: &'static str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let state_now = value("state");
    let env_now = value("environment");
    view! {
        <Title text="Deploys"/>
        <PageHeader title="Deploys" subtitle="Kick off, approve and watch deploys, one at a time per service and environment."/>
        <div class="mb-4 flex flex-wrap gap-2 text-sm">
            <a href="/deploys/freezes" class="rounded-lg px-3 py-2 font-medium text-indigo-700 ring-1 ring-indigo-200 hover:bg-indigo-50 dark:text-indigo-300 dark:ring-indigo-800">"Freeze calendar"</a>
            <a href="/catalog?kind=component" class="rounded-lg px-3 py-2 font-medium text-slate-700 ring-1 ring-slate-200 hover:bg-slate-50 dark:text-slate-300 dark:ring-slate-700">"Deploy a service…"</a>
        </div>
        <form method="get" action="/deploys" class="mb-4 grid gap-2 sm:grid-cols-3 lg:grid-cols-7 lg:items-end" data-testid="deploy-filters">
            <label class="text-sm">"Service"<input name="service" value=value("service") placeholder="payments-api" class=INPUT/></label>
            <label class="text-sm">"Environment"
                <select name="environment" class=INPUT>
                    {["", "dev", "staging", "production"].into_iter().map(|e| view! {
                        <option value=e selected=e == env_now>{if e.is_empty() { "any" } else { e }}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="text-sm">"State"
                <select name="state" class=INPUT>
                    <option value="" selected=state_now.is_empty()>"any"</option>
                    {DeployState::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s.as_str() == state_now>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="text-sm">"Requester"<input name="requester" value=value("requester") placeholder="user name or email" class=INPUT/></label>
            <label class="text-sm">"From"<input type="date" name="since" value=value("since") class=INPUT/></label>
            <label class="text-sm">"Until"<input type="date" name="until" value=value("until") class=INPUT/></label>
            <Submit label="Filter"/>
        </form>
        <Card>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=5/></div> }>
                {move || Suspend::new(async move {
                    match deploys.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState icon=Icon::Deploys title="No deploys match">
                                "Deploys are started from a service's page (Deploy). Production deploys wait for an approval before they run."
                            </EmptyState>
                        }.into_any(),
                        Ok(list) => view! {
                            <DataTable testid="deploy-table" columns=vec!["Asked", "Service", "Environment", "Version", "State", "Requester"]>
                                {list.into_iter().map(|d| view! {
                                    <tr>
                                        <td class="px-4 py-2 whitespace-nowrap"><a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/deploys/{}", d.id.0)>{when(d.created_at)}</a></td>
                                        <td class="px-4 py-2"><a class="hover:underline" href=format!("/deploys/service/{}", d.service)>{d.service_title.clone()}</a></td>
                                        <td class="px-4 py-2">{d.environment.clone()}</td>
                                        <td class="px-4 py-2 font-mono">{d.version.clone()}</td>
                                        <td class="px-4 py-2"><Badge tone=state_tone(d.state)>{d.state.label()}</Badge></td>
                                        // by id: two people may share a name
                                        <td class="px-4 py-2"><a class="hover:underline" href=format!("/deploys?requester={}", d.requester_id)>{d.requester.clone()}</a></td>
                                    </tr>
                                }).collect_view()}
                            </DataTable>
                        }.into_any(),
                        Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}
