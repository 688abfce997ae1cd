//! The systems and the map of every integration between them; one system's page; and the jobs
//! that report runs but match no integration.
use super::{HealthBadge, RunBadge, When};
use crate::catalog::types::Classification;
use crate::integrations::api::{get_system, list_systems, unregistered_jobs, CreateSystem};
use crate::integrations::types::{IntegrationSummary, SystemEnvironment, SystemKind};
use crate::ui::form::{returned_problems, FieldError, Submit, INPUT, LABEL_SMALL};
use crate::ui::graph::GraphDrawing;
use crate::ui::icons::Icon;
use crate::ui::{Card, DataTable, EmptyState, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn map_legend() -> impl IntoView {
    view! {
        <p class="mt-2 text-xs text-slate-600 dark:text-slate-400">
            "Boxes are systems, arrows integrations (source → target); a dashed arrow carries PCI card data."
        </p>
    }
}

#[component]
pub fn SystemsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| list_systems());
    let query = use_query_map();
    let problems = RwSignal::new(query.with_untracked(returned_problems));
    let typed = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let create = ServerAction::<CreateSystem>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| match create.value().get() {
        Some(Ok(saved)) => navigate(&saved.href, Default::default()),
        Some(Err(e)) => problems.set(e.problems()),
        None => {}
    });
    let kinds: Vec<(&'static str, &'static str)> = SystemKind::ALL.iter().map(|k| (k.as_str(), k.label())).collect();
    let kind_now = typed("kind");
    view! {
        <Title text="Systems"/>
        <PageHeader title="Systems" subtitle="The business systems integrations move data between, and the map of every flow."/>
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((systems, map)) if systems.is_empty() => {
                        let _ = map;
                        view! { <EmptyState icon=Icon::Integrations title="No systems yet">"Register the first one below: a Salesforce org, a bank's SFTP, the warehouse…"</EmptyState> }.into_any()
                    }
                    Ok((systems, map)) => view! {
                        <div class="space-y-6">
                            <Card title="Map of integrations">
                                <div class="overflow-x-auto p-4">
                                    {if map.edges.is_empty() {
                                        view! { <p class="text-sm text-slate-500">"No integrations between these systems yet."</p> }.into_any()
                                    } else {
                                        view! { <GraphDrawing graph=map label="Map of integrations between systems"/> }.into_any()
                                    }}
                                    {map_legend()}
                                </div>
                            </Card>
                            <Card title="Systems">
                                <DataTable testid="systems" columns=vec!["System", "Kind", "Environment", "Owner", "Data", "In", "Out"]>
                                    {systems.into_iter().map(|s| view! {
                                        <tr>
                                            <td class="px-4 py-2"><a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/integrations/systems/{}", s.name)>{s.title.clone()}</a>
                                                <div class="font-mono text-xs text-slate-500">{s.name.clone()}</div></td>
                                            <td class="px-4 py-2 text-sm">{s.kind.label()}{s.external.then_some(" · outside")}</td>
                                            <td class="px-4 py-2 text-sm">{s.environment.label()}</td>
                                            <td class="px-4 py-2 text-sm">{s.owner.clone()}</td>
                                            <td class="px-4 py-2 text-sm">{s.classification.label()}</td>
                                            <td class="px-4 py-2 text-sm tabular-nums">{s.integrations_in}</td>
                                            <td class="px-4 py-2 text-sm tabular-nums">{s.integrations_out}</td>
                                        </tr>
                                    }).collect_view()}
                                </DataTable>
                            </Card>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
        <div class="mt-6">
            <Card title="Register a system">
                <ActionForm action=create attr:data-testid="system-form">
                    <div class="grid gap-3 p-4 md:grid-cols-3">
                        <div><label for="sys-name" class=LABEL_SMALL>"Name"</label><input id="sys-name" name="name" required value=typed("name") placeholder="netsuite-prod" class=INPUT/></div>
                        <div><label for="sys-title" class=LABEL_SMALL>"Title"</label><input id="sys-title" name="title" required value=typed("title") placeholder="NetSuite (production)" class=INPUT/></div>
                        <div><label for="sys-kind" class=LABEL_SMALL>"Kind"</label><select id="sys-kind" name="kind" required class=INPUT>
                            <option value="">"Choose…"</option>
                            {kinds.into_iter().map(|(v, l)| view! { <option value=v selected=kind_now == v>{l}</option> }).collect_view()}
                        </select></div>
                        <div><label for="sys-vendor" class=LABEL_SMALL>"Vendor"</label><input id="sys-vendor" name="vendor" value=typed("vendor") class=INPUT/></div>
                        <div><label for="sys-environment" class=LABEL_SMALL>"Environment"</label><select id="sys-environment" name="environment" class=INPUT>
                            {SystemEnvironment::ALL.iter().map(|e| view! { <option value=e.as_str()>{e.label()}</option> }).collect_view()}
                        </select></div>
                        <div><label for="sys-owner" class=LABEL_SMALL>"Owning team"</label><input id="sys-owner" name="owner" required value=typed("owner") placeholder="ledger" class=INPUT/></div>
                        <div><label for="sys-classification" class=LABEL_SMALL>"Data"</label><select id="sys-classification" name="classification" class=INPUT>
                            {Classification::ALL.iter().map(|c| view! { <option value=c.as_str() selected=c.as_str() == "internal">{c.label()}</option> }).collect_view()}
                        </select></div>
                        <div><label for="sys-external" class=LABEL_SMALL>"Outside the company"</label><select id="sys-external" name="external" class=INPUT>
                            <option value="">"As its kind says"</option><option value="yes">"Yes"</option><option value="no">"No"</option>
                        </select></div>
                        <div><label for="sys-component" class=LABEL_SMALL>"Catalog component (in-house)"</label><input id="sys-component" name="component" value=typed("component") class=INPUT/></div>
                        <div class="md:col-span-3"><label for="sys-contacts" class=LABEL_SMALL>"Contacts"</label><input id="sys-contacts" name="contacts" value=typed("contacts") placeholder="e-mail addresses" class=INPUT/></div>
                        <input type="hidden" name="description" value=""/>
                    </div>
                    <div class="flex items-center justify-end gap-3 border-t border-slate-200 p-4 dark:border-slate-800">
                        <div class="mr-auto text-sm">
                            {["name", "title", "kind", "vendor", "environment", "owner", "classification", "external", "component", "contacts", "form"]
                                .into_iter().map(|f| view! { <FieldError field=f problems/> }).collect_view()}
                        </div>
                        <Submit label="Register system"/>
                    </div>
                </ActionForm>
            </Card>
        </div>
    }
}

fn integration_rows(list: Vec<IntegrationSummary>, testid: &'static str) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="p-4 text-sm text-slate-500">"None."</p> }.into_any();
    }
    view! {
        <DataTable testid columns=vec!["Integration", "Health", "Last run", "Owner"]>
            {list.into_iter().map(|i| view! {
                <tr>
                    <td class="px-4 py-2"><a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/integrations/{}", i.name)>{i.title.clone()}</a></td>
                    <td class="px-4 py-2"><HealthBadge health=i.health/></td>
                    <td class="px-4 py-2">{i.last_run.map(|r| view! { <RunBadge state=r.state/> })}</td>
                    <td class="px-4 py-2 text-sm">{i.owner.clone()}</td>
                </tr>
            }).collect_view()}
        </DataTable>
    }.into_any()
}

#[component]
pub fn SystemPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let data = Resource::new(name, get_system);
    view! {
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((d, map)) => {
                        let s = d.system;
                        let dt = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
                        view! {
                            <Title text=s.title.clone()/>
                            <div class="mb-6">
                                <p class="font-mono text-xs text-slate-500">{format!("system {}", s.name)}</p>
                                <h1 class="text-2xl font-semibold tracking-tight">{s.title.clone()}</h1>
                                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{format!("{} · {} · {}{}", s.kind.label(), s.environment.label(), s.classification.label(), if s.external { " · outside the company" } else { "" })}</p>
                            </div>
                            <div class="grid gap-6 lg:grid-cols-3">
                                <div class="space-y-6 lg:col-span-2">
                                    <Card title="Integrations into it">{integration_rows(d.incoming, "incoming")}</Card>
                                    <Card title="Integrations out of it">{integration_rows(d.outgoing, "outgoing")}</Card>
                                    <Card title="Its neighbours">
                                        <div class="overflow-x-auto p-4">
                                            {if map.edges.is_empty() {
                                                view! { <p class="text-sm text-slate-500">"No integration touches it yet."</p> }.into_any()
                                            } else {
                                                view! { <GraphDrawing graph=map label="Systems this one exchanges data with"/> }.into_any()
                                            }}
                                            {map_legend()}
                                        </div>
                                    </Card>
                                </div>
                                <Card title="About">
                                    <dl class="grid gap-3 p-4">
                                        <div><dt class=dt>"Owner"</dt><dd class="text-sm"><a class="hover:underline" href=format!("/teams/{}", s.owner)>{s.owner.clone()}</a></dd></div>
                                        {(!s.vendor.is_empty()).then(|| view! { <div><dt class=dt>"Vendor"</dt><dd class="text-sm">{s.vendor.clone()}</dd></div> })}
                                        {s.component.clone().map(|c| view! { <div><dt class=dt>"Catalog component"</dt><dd class="text-sm"><a class="hover:underline" href=format!("/catalog/component/default/{c}")>{c.clone()}</a></dd></div> })}
                                        {(!s.contacts.is_empty()).then(|| view! { <div><dt class=dt>"Contacts"</dt><dd class="text-sm">{s.contacts.join(", ")}</dd></div> })}
                                        {(!s.description.is_empty()).then(|| view! { <div><dt class=dt>"Description"</dt><dd class="text-sm">{s.description.clone()}</dd></div> })}
                                    </dl>
                                </Card>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <Title text="System"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn UnregisteredJobsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| unregistered_jobs());
    view! {
        <Title text="Unregistered jobs"/>
        <PageHeader title="Unregistered jobs" subtitle="Jobs that report runs but match no integration. Claim one to register it, with the history it has."/>
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(jobs) if jobs.is_empty() => view! {
                        <EmptyState icon=Icon::Integrations title="Every job is registered">"A job that sends OpenLineage events under a name no integration has appears here."</EmptyState>
                    }.into_any(),
                    Ok(jobs) => view! {
                        <Card>
                            <DataTable testid="unregistered-jobs" columns=vec!["Job", "Runs ended", "Last state", "Last heard", ""]>
                                {jobs.into_iter().map(|j| {
                                    let slug: String = j.name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect::<String>().trim_matches('-').chars().take(63).collect();
                                    let claim = format!("/integrations/new?{}", url::form_urlencoded::Serializer::new(String::new())
                                        .append_pair("job_namespace", &j.namespace).append_pair("job_name", &j.name).append_pair("name", &slug).finish());
                                    view! {
                                        <tr>
                                            <td class="px-4 py-2 font-mono text-sm">{format!("{}/{}", j.namespace, j.name)}</td>
                                            <td class="px-4 py-2 text-sm tabular-nums">{j.runs}</td>
                                            <td class="px-4 py-2">{j.last_state.map(|s| view! { <RunBadge state=s/> })}</td>
                                            <td class="px-4 py-2 text-sm"><When at=j.last_event_at/></td>
                                            <td class="px-4 py-2 text-right"><a class="rounded-lg px-2 py-1 text-sm ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700" href=claim>"Claim"</a></td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </DataTable>
                        </Card>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
