//! Every integration with its health and 30 days, filtered, in the URL.
use super::charts::Sparkline;
use super::{HealthBadge, RunBadge};
use crate::catalog::types::Classification;
use crate::error::AppError;
use crate::integrations::api::list_integrations;
use crate::integrations::types::{Health, IntegrationLifecycle, IntegrationPage, IntegrationQuery, Platform, Trigger};
use crate::ui::icons::Icon;
use crate::ui::{Card, DataTable, EmptyState, ErrorBox, Loading, PageHeader, PrimaryAction, NO_TEAM};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const KEYS: [&str; 12] = ["q", "platform", "system", "owner", "health", "classification", "trigger", "lifecycle", "component", "partner", "after", "limit"];

#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let query = use_query_map();
    let pairs = move || query.with(|q| KEYS.iter().filter_map(|k| q.get(k).map(|v| ((*k).to_owned(), v))).collect::<Vec<_>>());
    let data = Resource::new(pairs, |pairs| list_integrations(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()));
    let may_own = crate::ui::layout::CurrentUser::get().is_some_and(|m| m.may_own());
    view! {
        <Title text="Integrations"/>
        <PageHeader title="Integrations" subtitle="The flows that move data between business systems, and how they are doing.">
            <div class="flex flex-wrap items-start gap-2">
                <a href="/integrations/systems" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Systems and map"</a>
                <a href="/integrations/unregistered-jobs" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Unregistered jobs"</a>
                <PrimaryAction allowed=may_own href="/integrations/new" label="Register an integration" reason=NO_TEAM testid="register-integration"/>
            </div>
        </PageHeader>
        <Suspense fallback=|| view! { <Card><div class="p-4"><Loading rows=6/></div></Card> }>
            {move || Suspend::new(async move {
                let pairs = pairs();
                let q = IntegrationQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())).unwrap_or_default();
                match data.await {
                    Ok(page) => view! { <Listing q page/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn select(id: &'static str, label: &'static str, current: Option<&'static str>, options: Vec<(&'static str, &'static str)>) -> impl IntoView {
    let sel = "mt-1 h-9 rounded-lg border border-slate-300 bg-white px-2 text-sm dark:border-slate-700 dark:bg-slate-800";
    view! {
        <div>
            <label for=format!("int-{id}") class="block text-xs font-medium text-slate-600 dark:text-slate-400">{label}</label>
            <select id=format!("int-{id}") name=id class=sel>
                <option value="" selected=current.is_none()>"Any"</option>
                {options.into_iter().map(|(v, l)| view! { <option value=v selected=current == Some(v)>{l}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn Listing(q: IntegrationQuery, page: IntegrationPage) -> impl IntoView {
    let filtered = q != IntegrationQuery { limit: q.limit, ..IntegrationQuery::default() };
    let next = page.next.clone().map(|cursor| {
        let mut nq = q.clone();
        nq.after = Some(cursor);
        format!("/integrations?{}", nq.to_query_string(true))
    });
    let first = q.after.is_some().then(|| format!("/integrations?{}", q.to_query_string(false)));
    let counts = page.health_counts.iter().filter(|c| c.count > 0 || c.health == Health::Failing).map(|c| {
        let mut hq = q.clone();
        hq.after = None;
        hq.health = if q.health == Some(c.health) { None } else { Some(c.health) };
        let href = format!("/integrations?{}", hq.to_query_string(false));
        let active = q.health == Some(c.health);
        view! {
            <a href=href aria-current=active.then_some("true") data-testid=format!("count-{}", c.health.as_str())
                class=format!("rounded-lg border px-3 py-2 text-sm {}", if active { "border-indigo-400 bg-indigo-50 dark:bg-indigo-950" } else { "border-slate-200 bg-white hover:border-indigo-300 dark:border-slate-800 dark:bg-slate-900" })>
                <span class="block text-xl font-semibold tabular-nums">{c.count}</span>
                <span class="text-slate-600 dark:text-slate-400">{c.health.label()}</span>
            </a>
        }
    }).collect_view();
    let opts = |all: &[(&'static str, &'static str)]| all.to_vec();
    let platforms: Vec<_> = Platform::ALL.iter().map(|p| (p.as_str(), p.label())).collect();
    let healths: Vec<_> = Health::ALL.iter().map(|h| (h.as_str(), h.label())).collect();
    let classes: Vec<_> = Classification::ALL.iter().map(|c| (c.as_str(), c.label())).collect();
    let triggers: Vec<_> = Trigger::ALL.iter().map(|t| (t.as_str(), t.label())).collect();
    let lifecycles: Vec<_> = IntegrationLifecycle::ALL.iter().map(|l| (l.as_str(), l.label())).collect();
    let empty = page.items.is_empty();
    view! {
        <div class="mb-4 flex flex-wrap gap-2" data-testid="health-counts" aria-label="Integrations by health">{counts}</div>
        <Card>
            <form method="get" action="/integrations" class="flex flex-wrap items-end gap-2 border-b border-slate-200 p-3 dark:border-slate-800">
                <div class="min-w-48 flex-1">
                    <label for="int-q" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Search"</label>
                    <input id="int-q" name="q" type="search" value=q.text.clone() placeholder="name or title"
                        class="mt-1 h-9 w-full rounded-lg border border-slate-300 px-3 text-sm dark:border-slate-700 dark:bg-slate-800"/>
                </div>
                {select("platform", "Platform", q.platform.map(Platform::as_str), opts(&platforms))}
                {select("health", "Health", q.health.map(Health::as_str), opts(&healths))}
                {select("classification", "Data", q.classification.map(Classification::as_str), opts(&classes))}
                {select("trigger", "Trigger", q.trigger.map(Trigger::as_str), opts(&triggers))}
                {select("lifecycle", "Lifecycle", q.lifecycle.map(IntegrationLifecycle::as_str), opts(&lifecycles))}
                <div>
                    <label for="int-owner" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Owner"</label>
                    <input id="int-owner" name="owner" value=q.owner.clone().unwrap_or_default() placeholder="team" class="mt-1 h-9 w-28 rounded-lg border border-slate-300 px-2 text-sm dark:border-slate-700 dark:bg-slate-800"/>
                </div>
                <div>
                    <label for="int-system" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"System"</label>
                    <input id="int-system" name="system" value=q.system.clone().unwrap_or_default() placeholder="netsuite" class="mt-1 h-9 w-28 rounded-lg border border-slate-300 px-2 text-sm dark:border-slate-700 dark:bg-slate-800"/>
                </div>
                <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500">"Apply"</button>
                {filtered.then(|| view! { <a href="/integrations" class="h-9 px-2 py-2 text-sm text-indigo-700 hover:underline dark:text-indigo-300">"Clear filters"</a> })}
            </form>
            {if empty && !filtered {
                view! {
                    <EmptyState icon=Icon::Integrations title="No integrations yet">
                        "Register one, or let its runs come in: a job that reports OpenLineage events to /api/v1/lineage shows up under unregistered jobs, ready to claim."
                    </EmptyState>
                }.into_any()
            } else if empty {
                view! { <p class="p-6 text-sm" data-testid="no-results">"Nothing matches these filters. Clear one, or try another word."</p> }.into_any()
            } else {
                view! {
                    <DataTable testid="integrations" columns=vec!["Integration", "Flow", "Health", "Last run", "30 days", "Owner"]>
                        {page.items.into_iter().map(|i| {
                            let flow = format!("{} → {}",
                                i.sources.iter().map(|s| s.title.as_str()).collect::<Vec<_>>().join(", "),
                                i.targets.iter().map(|s| s.title.as_str()).collect::<Vec<_>>().join(", "));
                            view! {
                                <tr>
                                    <td class="px-4 py-2">
                                        <a href=format!("/integrations/{}", i.name) class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{i.title.clone()}</a>
                                        <div class="font-mono text-xs text-slate-500">{i.name.clone()}" · "{i.platform.label()}</div>
                                        {(i.status == "pending").then(|| view! { <span class="text-xs text-amber-700 dark:text-amber-300">"waits for approval"</span> })}
                                    </td>
                                    <td class="px-4 py-2 text-sm">{flow}</td>
                                    <td class="px-4 py-2" title=i.health_reason.clone()><HealthBadge health=i.health/></td>
                                    <td class="px-4 py-2">{i.last_run.map(|r| view! { <RunBadge state=r.state/> })}</td>
                                    <td class="px-4 py-2"><Sparkline days=i.days/></td>
                                    <td class="px-4 py-2 text-sm"><a href=format!("/teams/{}", i.owner) class="hover:underline">{i.owner.clone()}</a></td>
                                </tr>
                            }
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
            <nav class="flex justify-between gap-2 border-t border-slate-200 px-4 py-2 text-sm dark:border-slate-800" aria-label="Pages">
                <span>{first.map(|href| view! { <a href=href class="text-indigo-700 hover:underline dark:text-indigo-300">"← First page"</a> })}</span>
                <span>{next.map(|href| view! { <a href=href rel="next" class="text-indigo-700 hover:underline dark:text-indigo-300">"Next page →"</a> })}</span>
            </nav>
        </Card>
    }
}

/// The integrations one filter (`component`, `partner`) keeps for the name `name()` gives
/// (nothing asked while it gives none).
pub type TouchingData = Resource<Option<Result<IntegrationPage, AppError>>>;

fn touching_data(filter: &'static str, name: impl Fn() -> Option<String> + Send + Sync + 'static) -> TouchingData {
    let query = move || name().map(|n| format!("{filter}={}", url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()));
    Resource::new(query, |query| async move {
        match query {
            Some(q) => Some(crate::ui::card_read(list_integrations(q)).await),
            None => None,
        }
    })
}

/// The integrations that touch the catalog component `name()` names (through a system that is
/// it), for [`ComponentIntegrations`]: the component's page makes it beside its own data.
pub fn component_integrations_data(name: impl Fn() -> Option<String> + Send + Sync + 'static) -> TouchingData {
    touching_data("component", name)
}

/// The integrations that touch a catalog component, for the component's page.
#[component]
pub fn ComponentIntegrations(data: TouchingData) -> impl IntoView {
    view! { <IntegrationsTouching data title="Integrations" empty="No integration moves data to or from it." testid="component-integrations"/> }
}

/// The integrations to or from a system a partner hosts or carries, with their health, for the
/// partner's page.
#[component]
pub fn PartnerIntegrations(name: String) -> impl IntoView {
    let data = touching_data("partner", move || Some(name.clone()));
    view! {
        <IntegrationsTouching data title="Integrations with it" empty="No integration moves data to or from a system it hosts or carries." testid="partner-integrations"/>
    }
}

/// The integrations one filter keeps, with their health and last run.
#[component]
fn IntegrationsTouching(data: TouchingData, title: &'static str, empty: &'static str, testid: &'static str) -> impl IntoView {
    view! {
        <Card title=title>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=2/></div> }>
                {move || Suspend::new(async move {
                    match data.await {
                        None => ().into_any(),
                        Some(Ok(page)) if page.items.is_empty() => view! {
                            <p class="p-4 text-sm text-slate-500" data-testid=format!("{testid}-empty")>{empty}</p>
                        }.into_any(),
                        Some(Ok(page)) => view! {
                            <DataTable testid columns=vec!["Integration", "Flow", "Health", "Last run"]>
                                {page.items.into_iter().map(|i| {
                                    let flow = format!("{} → {}",
                                        i.sources.iter().map(|s| s.title.as_str()).collect::<Vec<_>>().join(", "),
                                        i.targets.iter().map(|s| s.title.as_str()).collect::<Vec<_>>().join(", "));
                                    view! {
                                        <tr>
                                            <td class="px-4 py-2"><a href=format!("/integrations/{}", i.name) class="text-indigo-700 hover:underline dark:text-indigo-300">{i.title.clone()}</a></td>
                                            <td class="px-4 py-2 text-sm">{flow}</td>
                                            <td class="px-4 py-2"><HealthBadge health=i.health/></td>
                                            <td class="px-4 py-2">{i.last_run.map(|r| view! { <RunBadge state=r.state/> })}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </DataTable>
                        }.into_any(),
                        Some(Err(e)) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}
