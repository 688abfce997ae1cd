//! The systems and the map of every integration between them; one system's page; and the jobs
//! that report runs but match no integration.
use super::{HealthBadge, RunBadge, When};
use crate::catalog::types::Classification;
use crate::integrations::api::{get_system, list_systems, unregistered_jobs, CreateSystem, EditSystem};
use crate::integrations::types::{IntegrationSummary, SystemEnvironment, SystemKind, SystemView};
use crate::audit::pages::{AsOfCard, AuditTable};
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
                {if crate::ui::layout::CurrentUser::get().is_some_and(|m| m.may_own()) {
                    view! {
                        <PartnerNames/>
                        <ActionForm action=create attr:data-testid="system-form">
                            {system_fields(typed, false)}
                            {form_footer(problems, "Register system")}
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <div class="p-4"><crate::ui::NotAllowed reason=crate::ui::NO_TEAM back="/integrations" back_label="Back to the integrations"/></div> }.into_any()
                }}
            </Card>
        </div>
    }
}

/// The partners' names, offered as the partner fields are typed (one list per page).
#[component]
fn PartnerNames() -> impl IntoView {
    let names = Resource::new(|| (), |_| crate::topology::api::partner_names());
    view! {
        <datalist id="partner-names">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    names.await.unwrap_or_default().into_iter().map(|n| view! { <option value=n/> }).collect_view()
                })}
            </Suspense>
        </datalist>
    }
}

/// The fields of a system's form and their problems.
const FIELDS: [&str; 13] = ["name", "title", "kind", "vendor", "environment", "owner", "classification", "external", "component", "hosted_by", "reached_via", "contacts", "form"];

/// A system's form fields, filled in by `value`; when `editing`, the name is fixed.
fn system_fields(value: impl Fn(&str) -> String, editing: bool) -> impl IntoView {
    let kind_now = value("kind");
    let environment_now = value("environment");
    let classification_now = value("classification");
    let external_now = value("external");
    let id = move |f: &str| format!("sys-{}{f}", if editing { "edit-" } else { "" });
    view! {
        <div class="grid gap-3 p-4 md:grid-cols-3">
            <div><label for=id("name") class=LABEL_SMALL>"Name"</label><input id=id("name") name="name" required readonly=editing value=value("name") placeholder="netsuite-prod" class=INPUT/></div>
            <div><label for=id("title") class=LABEL_SMALL>"Title"</label><input id=id("title") name="title" required value=value("title") placeholder="NetSuite (production)" class=INPUT/></div>
            <div><label for=id("kind") class=LABEL_SMALL>"Kind"</label><select id=id("kind") name="kind" required class=INPUT>
                <option value="">"Choose…"</option>
                {SystemKind::ALL.iter().map(|k| view! { <option value=k.as_str() selected=kind_now == k.as_str()>{k.label()}</option> }).collect_view()}
            </select></div>
            <div><label for=id("vendor") class=LABEL_SMALL>"Vendor"</label><input id=id("vendor") name="vendor" value=value("vendor") class=INPUT/></div>
            <div><label for=id("environment") class=LABEL_SMALL>"Environment"</label><select id=id("environment") name="environment" class=INPUT>
                {SystemEnvironment::ALL.iter().map(|e| view! { <option value=e.as_str() selected=environment_now == e.as_str()>{e.label()}</option> }).collect_view()}
            </select></div>
            <div><label for=id("owner") class=LABEL_SMALL>"Owning team"</label><input id=id("owner") name="owner" required value=value("owner") placeholder="ledger" class=INPUT/></div>
            <div><label for=id("classification") class=LABEL_SMALL>"Data"</label><select id=id("classification") name="classification" class=INPUT>
                {Classification::ALL.iter().map(|c| {
                    let selected = if classification_now.is_empty() { c.as_str() == "internal" } else { classification_now == c.as_str() };
                    view! { <option value=c.as_str() selected=selected>{c.label()}</option> }
                }).collect_view()}
            </select></div>
            <div><label for=id("external") class=LABEL_SMALL>"Outside the company"</label><select id=id("external") name="external" class=INPUT>
                <option value="">"As its kind says"</option>
                <option value="yes" selected=external_now == "yes">"Yes"</option>
                <option value="no" selected=external_now == "no">"No"</option>
            </select></div>
            <div><label for=id("component") class=LABEL_SMALL>"Catalog component (in-house)"</label><input id=id("component") name="component" value=value("component") class=INPUT/></div>
            <div><label for=id("hosted_by") class=LABEL_SMALL>"Hosted by (partner)"</label><input id=id("hosted_by") name="hosted_by" value=value("hosted_by") placeholder="Barclays" maxlength="100" list="partner-names" autocomplete="off" class=INPUT/></div>
            <div><label for=id("reached_via") class=LABEL_SMALL>"Reached through (partner)"</label><input id=id("reached_via") name="reached_via" value=value("reached_via") placeholder="AWS" maxlength="100" list="partner-names" autocomplete="off" class=INPUT/></div>
            <div><label for=id("contacts") class=LABEL_SMALL>"Contacts"</label><input id=id("contacts") name="contacts" value=value("contacts") placeholder="e-mail addresses" class=INPUT/></div>
            <input type="hidden" name="description" value=value("description")/>
        </div>
    }
}

/// A system form's problems, each under its field's name, and its button.
fn form_footer(problems: RwSignal<Vec<crate::error::FieldProblem>>, label: &'static str) -> impl IntoView {
    view! {
        <div class="flex items-center justify-end gap-3 border-t border-slate-200 p-4 dark:border-slate-800">
            <div class="mr-auto text-sm">
                {FIELDS.into_iter().map(|f| view! { <FieldError field=f problems/> }).collect_view()}
            </div>
            <Submit label/>
        </div>
    }
}

/// A stored system as its form states it.
fn form_value(s: &SystemView, field: &str) -> String {
    match field {
        "name" => s.name.clone(),
        "title" => s.title.clone(),
        "description" => s.description.clone(),
        "kind" => s.kind.as_str().to_owned(),
        "vendor" => s.vendor.clone(),
        "environment" => s.environment.as_str().to_owned(),
        "external" => if s.external { "yes" } else { "no" }.to_owned(),
        "owner" => s.owner.clone(),
        "classification" => s.classification.as_str().to_owned(),
        "contacts" => s.contacts.join(", "),
        "component" => s.component.clone().unwrap_or_default(),
        "hosted_by" => s.hosted_by.clone().unwrap_or_default(),
        "reached_via" => s.reached_via.clone().unwrap_or_default(),
        _ => String::new(),
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
    let data = Resource::new_blocking(name, get_system);
    let query = use_query_map();
    let problems = RwSignal::new(query.with_untracked(returned_problems));
    // sent back after an error: the form shows what was typed, empty fields included
    let sent_back = query.with_untracked(|q| q.get("edit").is_some());
    let typed = move |k: &str| query.with_untracked(|q| q.get(k).unwrap_or_default());
    let saved = RwSignal::new(query.with_untracked(|q| q.get("saved").is_some()));
    let edit = ServerAction::<EditSystem>::new();
    let then = super::as_of_resource(true, name);
    Effect::new(move |_| match edit.value().get() {
        Some(Ok(_)) => {
            problems.set(Vec::new());
            saved.set(true);
            data.refetch();
        }
        Some(Err(e)) => problems.set(e.problems()),
        None => {}
    });
    view! {
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((d, map, history)) => {
                        let s = d.system;
                        let dt = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
                        let stored = s.clone();
                        let value = move |k: &str| if sent_back { typed(k) } else { form_value(&stored, k) };
                        let partner_link = |p: &String| view! { <a class="hover:underline" href=crate::topology::pages::partner_href(p)>{p.clone()}</a> };
                        view! {
                            <Title text=s.title.clone()/>
                            {move || (saved.get() && query.with(|q| q.get("as_of").is_none())).then(|| view! {
                                <p role="status" class="mb-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200" data-testid="saved">"Saved."</p>
                            })}
                            <div class="mb-6">
                                <p class="font-mono text-xs text-slate-500">{format!("system {}", s.name)}</p>
                                <h1 class="text-2xl font-semibold tracking-tight">{s.title.clone()}</h1>
                                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{format!("{} · {} · {}{}", s.kind.label(), s.environment.label(), s.classification.label(), if s.external { " · outside the company" } else { "" })}</p>
                            </div>
                            <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
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
                                        {s.hosted_by.as_ref().map(|p| view! { <div data-testid="system-hosted-by"><dt class=dt>"Hosted by"</dt><dd class="text-sm">{partner_link(p)}</dd></div> })}
                                        {s.reached_via.as_ref().map(|p| view! { <div data-testid="system-reached-via"><dt class=dt>"Reached through"</dt><dd class="text-sm">{partner_link(p)}</dd></div> })}
                                        {(!s.contacts.is_empty()).then(|| view! { <div><dt class=dt>"Contacts"</dt><dd class="text-sm">{s.contacts.join(", ")}</dd></div> })}
                                        {(!s.description.is_empty()).then(|| view! { <div><dt class=dt>"Description"</dt><dd class="text-sm">{s.description.clone()}</dd></div> })}
                                    </dl>
                                </Card>
                            </div>
                            <details class="mt-6 rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" open=sent_back data-testid="system-edit">
                                <summary class="cursor-pointer p-4 text-sm font-semibold">"Edit this system"
                                    <span class="ml-2 font-normal text-slate-500">"(its owning team, or an admin)"</span></summary>
                                <PartnerNames/>
                                <ActionForm action=edit>
                                    {system_fields(value, true)}
                                    {form_footer(problems, "Save")}
                                </ActionForm>
                            </details>
                            <div class="mt-6"><Card title="History"><div data-testid="history"><AuditTable entries=history as_of_links=true/></div></Card></div>
                            <div class="mt-6"><AsOfCard data=then/></div>
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
