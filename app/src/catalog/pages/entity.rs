//! One entity: overview, owners and their people, relations both ways, its API definition,
//! links, scorecard, dependency graph and history.
use super::table::{lifecycle_tone, tier_tone};
use crate::audit::pages::{AsOfCard, AuditTable};
use crate::catalog::api::{get_entity, get_graph, DeleteEntity, DeprecateEntity};
use crate::catalog::types::{DependencyGraph, EntityDetail, Level, OwnerKind, Related};
use crate::ui::graph::GraphDrawing;
use crate::error::AppError;
use crate::ui::{Badge, Card, ErrorBox, Loading, Tone};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct PageData {
    detail: EntityDetail,
    graph: DependencyGraph,
    depth: u8,
}

#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let depth = query.with(|q| q.get("depth").and_then(|d| d.parse::<u8>().ok()).unwrap_or(1).clamp(1, 3));
        params.with(|p| (p.get("kind").unwrap_or_default(), p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default(), depth))
    };
    // one resource for the page (one Suspense): the entity (its history included) and its graph,
    // fetched together
    // blocking: the page's status (404 for an entity not there) is known before it streams
    let data = Resource::new_blocking(key, |(kind, namespace, name, depth)| async move {
        let (detail, graph) =
            futures::join!(get_entity(kind.clone(), namespace.clone(), name.clone()), get_graph(kind, namespace, name, depth));
        Ok::<_, AppError>(PageData { detail: detail?, graph: graph?, depth })
    });
    // a component's cards (what runs where, its integrations, what it needs from the network)
    // are asked for here, at the same time as the entity, not once the entity has rendered;
    // each reads with a response of its own (`card_read`), so only the entity sets the status
    let component = move || {
        params.with(|p| {
            p.get("kind")
                .is_some_and(|k| k.eq_ignore_ascii_case("component"))
                .then(|| (p.get("namespace").unwrap_or_default(), p.get("name").unwrap_or_default()))
        })
    };
    let cards = Cards {
        runs_where: crate::deploys::pages::runs_where_data(move || component().map(|(_, name)| name)),
        integrations: crate::integrations::pages::component_integrations_data(move || component().map(|(_, name)| name)),
        network: crate::topology::pages::network_needs_data(component),
    };
    let notice = move || {
        query.with(|q| {
            if q.get("registered").is_some() {
                Some("Registered. It shows as pending until the request is approved.")
            } else if q.get("saved").is_some() {
                Some("Saved. Any change of owner or tier waits for approval.")
            } else {
                None
            }
        })
    };
    view! {
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        {notice().map(|n| view! { <p role="status" class="mb-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200">{n}</p> })}
                        <Entity data=d cards/>
                    }.into_any(),
                    Err(e) => view! { <Title text="Not found"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn relation_label(rel: &str, outgoing: bool) -> &'static str {
    match (rel, outgoing) {
        ("depends_on", true) => "Depends on",
        ("depends_on", false) => "Depended on by",
        ("provides_api", true) => "Provides API",
        ("provides_api", false) => "Provided by",
        ("consumes_api", true) => "Consumes API",
        ("consumes_api", false) => "Consumed by",
        ("part_of", true) => "Part of",
        ("part_of", false) => "Has part",
        ("subcomponent_of", true) => "Subcomponent of",
        ("subcomponent_of", false) => "Has subcomponent",
        _ => "Related",
    }
}

/// The data of a component's cards, asked for by the page (see [`EntityPage`]).
#[derive(Clone, Copy)]
struct Cards {
    runs_where: crate::deploys::pages::RunsWhereData,
    integrations: crate::integrations::pages::TouchingData,
    network: crate::topology::pages::NetworkNeedsData,
}

#[component]
fn Entity(data: PageData, cards: Cards) -> impl IntoView {
    let PageData { detail: mut d, graph, depth } = data;
    let history = std::mem::take(&mut d.history);
    let s = d.summary.clone();
    let r = s.entity_ref();
    let title = s.title.clone();
    let asked = crate::audit::pages::asked_moment();
    let subject = (s.kind.as_str().to_owned(), s.namespace.clone(), s.name.clone());
    let then = Resource::new(move || asked.get(), move |at| {
        let (kind, namespace, name) = subject.clone();
        async move {
            match at {
                Some(at) => Some(crate::ui::card_read(crate::catalog::api::entity_as_of(kind, namespace, name, at)).await),
                None => None,
            }
        }
    });
    let kind_label = match &s.entity_type {
        Some(t) => format!("{} · {t}", s.kind.label()),
        None => s.kind.label().to_owned(),
    };
    let danger = d.can_edit.then(|| d.clone());
    let editable = d.can_edit && s.kind == crate::catalog::types::Kind::Component && !s.pending;
    // the owning teams and admins deploy (the deploy page says why when someone else cannot)
    let deployable = editable;
    let dd = "text-sm";
    let dt = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
    let links: Vec<(String, String)> = d
        .repository_url
        .iter()
        .map(|u| ("Repository".to_owned(), u.clone()))
        .chain(d.runbook_url.iter().map(|u| ("Runbook".to_owned(), u.clone())))
        .chain(d.oncall_url.iter().map(|u| ("On-call".to_owned(), u.clone())))
        .chain(d.dashboards.iter().enumerate().map(|(i, u)| (format!("Dashboard {}", i + 1), u.clone())))
        .chain(d.links.iter().map(|l| (if l.title.is_empty() { l.url.clone() } else { l.title.clone() }, l.url.clone())))
        .collect();
    view! {
        <Title text=title.clone()/>
        <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div>
                <p class="font-mono text-xs text-slate-500" data-testid="entity-ref">{r.to_string()}</p>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                <div class="mt-2 flex flex-wrap gap-2" data-testid="entity-badges">
                    <Badge tone=Tone::Neutral>{kind_label}</Badge>
                    {s.pending.then(|| view! { <Badge tone=Tone::Info>"pending approval"</Badge> })}
                    {s.lifecycle.map(|l| view! { <Badge tone=lifecycle_tone(&l)>{l.as_str().to_owned()}</Badge> })}
                    {s.tier.map(|t| view! { <Badge tone=tier_tone(t.get())>{format!("Tier {}", t.get())}</Badge> })}
                    <Badge tone=if s.classification == crate::catalog::types::Classification::Pci { Tone::Bad } else { Tone::Neutral }>{s.classification.label()}</Badge>
                    {d.scorecard.level.map(|l| view! { <Badge tone=Tone::Good>{format!("scorecard: {}", l.as_str())}</Badge> })}
                </div>
            </div>
            <div class="flex flex-wrap gap-2">
                {editable.then(|| view! {
                    <a href=format!("{}/edit", r.href()) class="h-9 rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Edit"</a>
                })}
                {deployable.then(|| view! {
                    <a href=format!("/deploys/new?service={}", r.name) class="h-9 rounded-lg bg-emerald-600 px-3 py-2 text-sm font-medium text-white hover:bg-emerald-500">"Deploy"</a>
                })}
                {(s.kind == crate::catalog::types::Kind::Component && !s.pending).then(|| view! {
                    <a href=format!("/deploys/service/{}", r.name) class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Deploys"</a>
                })}
                <a href=format!("/api/v1/catalog/entities/by-name/{}/{}/{}?format=yaml", r.kind, r.namespace, r.name) rel="external"
                    class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Export YAML"</a>
            </div>
        </div>
        {(!d.pending_requests.is_empty()).then(|| view! {
            <div class="mb-4 rounded-lg border border-sky-200 bg-sky-50 p-3 text-sm dark:border-sky-900 dark:bg-sky-950" data-testid="pending-requests">
                <p class="font-medium">"Waiting for approval"</p>
                <ul class="mt-1 list-disc pl-5">
                    {d.pending_requests.iter().map(|(id, summary)| view! {
                        <li><a class="text-indigo-700 underline dark:text-indigo-300" href=format!("/approvals/{id}")>{summary.clone()}</a></li>
                    }).collect_view()}
                </ul>
            </div>
        })}
        <div class="grid grid-cols-1 gap-6 xl:grid-cols-3">
            <div class="space-y-6 xl:col-span-2">
                <Card title="Overview">
                    <div class="space-y-4 p-4">
                        <p class="text-sm" data-testid="description">{if s.description.is_empty() { "No description yet.".to_owned() } else { s.description.clone() }}</p>
                        <dl class="grid grid-cols-1 gap-4 sm:grid-cols-2">
                            <div><dt class=dt>"Language"</dt><dd class=dd>{s.language.clone().unwrap_or_else(|| "—".into())}</dd></div>
                            <div><dt class=dt>"Tags"</dt><dd class=dd>{if s.tags.is_empty() { "—".to_owned() } else { s.tags.join(", ") }}</dd></div>
                            <div class="sm:col-span-2"><dt class=dt>"Links"</dt><dd class=dd>
                                {if links.is_empty() { view! { <span>"—"</span> }.into_any() } else { view! {
                                    <ul class="mt-1 space-y-1" data-testid="links">
                                        {links.into_iter().map(|(label, url)| view! {
                                            <li><a class="text-indigo-700 hover:underline dark:text-indigo-300" href=url.clone() rel="noopener noreferrer external" target="_blank">{label}</a>
                                                <span class="ml-2 break-all font-mono text-xs text-slate-500">{url}</span></li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any() }}
                            </dd></div>
                        </dl>
                    </div>
                </Card>
                <Card title="Relations">
                    <div class="grid gap-4 p-4 sm:grid-cols-2" id="relations" data-testid="relations">
                        <Relations title="This uses" list=d.outgoing.clone() outgoing=true/>
                        <Relations title="Uses this" list=d.incoming.clone() outgoing=false/>
                    </div>
                </Card>
                {(r.kind == "component" && !s.pending).then(|| view! { <crate::deploys::pages::RunsWhereCard data=cards.runs_where/> })}
                <GraphCard graph depth href=r.href()/>
                {(r.kind == "component").then(|| view! { <crate::integrations::pages::ComponentIntegrations data=cards.integrations/> })}
                {(r.kind == "component").then(|| view! { <crate::topology::pages::NetworkNeedsCard data=cards.network/> })}
                {d.definition.clone().map(|def| view! {
                    <Card title="API definition">
                        <pre class="max-h-[32rem] overflow-auto p-4 font-mono text-xs leading-relaxed" data-testid="api-definition">{def}</pre>
                    </Card>
                })}
                {d.definition_url.clone().map(|url| view! {
                    <Card title="API definition">
                        <p class="p-4 text-sm" data-testid="api-definition-url">
                            "The definition lives at "
                            <a class="break-all font-mono text-indigo-700 hover:underline dark:text-indigo-300" href=url.clone() rel="noopener noreferrer">{url.clone()}</a>
                            "; Switchyard keeps the link and does not fetch it."
                        </p>
                    </Card>
                })}
                <Card title="History"><div data-testid="history"><AuditTable entries=history as_of_links=true/></div></Card>
                <AsOfCard data=then/>
            </div>
            <div class="space-y-6">
                <Card title="Owners">
                    <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="owners">
                        {d.owners.iter().map(|o| view! {
                            <li class="p-4">
                                {match o.kind {
                                    OwnerKind::Team => view! {
                                        <a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/teams/{}", o.slug)>{o.name.clone()}</a>
                                    }.into_any(),
                                    OwnerKind::Person => view! {
                                        <span class="font-medium">{o.name.clone()}</span>
                                        <span class="ml-2"><Badge tone=Tone::Warn>"a person"</Badge></span>
                                    }.into_any(),
                                    OwnerKind::NotHere => view! {
                                        <span class="font-mono text-sm">{o.slug.clone()}</span>
                                        <span class="ml-2" data-testid="owner-not-here"><Badge tone=Tone::Neutral>"not in the catalog"</Badge></span>
                                    }.into_any(),
                                }}
                                {o.primary.then(|| view! { <span class="ml-2 text-xs text-slate-500">"primary owner"</span> })}
                                <ul class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                                    {if o.members.is_empty() { view! { <li>"No members yet."</li> }.into_any() } else {
                                        o.members.iter().map(|m| view! { <li>{m.name.clone()}{m.lead.then_some(" (lead)")}</li> }).collect_view().into_any()
                                    }}
                                </ul>
                            </li>
                        }).collect_view()}
                    </ul>
                </Card>
                <Card title="Scorecard">
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="scorecard">
                        {d.scorecard.checks.iter().map(|c| {
                            let (mark, tone, said) = match (c.applies, c.passed) {
                                (false, _) => ("–", "text-slate-400", " — does not apply"),
                                (true, true) => ("✓", "text-emerald-600", " — passed"),
                                (true, false) => ("✗", "text-rose-600", " — failed"),
                            };
                            view! {
                            <li class=if c.applies { "flex gap-3 p-3" } else { "flex gap-3 p-3 text-slate-500" } data-applies=c.applies.to_string()>
                                <span aria-hidden="true" class=tone>{mark}</span>
                                <div>
                                    <p>{c.rule.clone()}<span class="sr-only">{said}</span></p>
                                    <p class="text-xs text-slate-500">{format!("{} · {}", level_name(c.level), c.detail)}</p>
                                </div>
                            </li>
                            }
                        }).collect_view()}
                    </ul>
                </Card>
                {danger.map(|detail| view! { <DangerZone detail/> })}
            </div>
        </div>
    }
}

fn level_name(l: Level) -> &'static str {
    l.as_str()
}

#[component]
fn Relations(title: &'static str, list: Vec<Related>, outgoing: bool) -> impl IntoView {
    view! {
        <div>
            <h3 class="text-sm font-semibold">{title}</h3>
            {if list.is_empty() {
                view! { <p class="mt-1 text-sm text-slate-500">"Nothing."</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-1 space-y-1 text-sm">
                        {list.into_iter().map(|r| view! {
                            <li>
                                <span class="text-xs text-slate-500">{relation_label(&r.relation, outgoing)}" "</span>
                                {if r.in_catalog {
                                    view! { <a class="text-indigo-700 hover:underline dark:text-indigo-300" href=r.entity.href()>{r.title}</a> }.into_any()
                                } else {
                                    view! { <span>{r.title}</span> }.into_any()
                                }}
                                <span class="ml-1 font-mono text-xs text-slate-500">{r.entity.short()}</span>
                                {(!r.in_catalog).then(|| view! { <span class="ml-1" data-testid="not-in-catalog"><Badge tone=Tone::Neutral>"not in the catalog"</Badge></span> })}
                                {(r.lifecycle == Some(crate::catalog::types::Lifecycle::Deprecated)).then(|| view! { <span class="ml-1"><Badge tone=Tone::Warn>"deprecated"</Badge></span> })}
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </div>
    }
}

/// Upstream and downstream, two steps each way, as the layout placed them.
#[component]
fn GraphCard(graph: DependencyGraph, depth: u8, href: String) -> impl IntoView {
    if graph.edges.is_empty() {
        return view! { <Card title="Dependency graph"><p class="p-4 text-sm text-slate-500" data-testid="graph-empty">"No dependencies either way."</p></Card> }.into_any();
    }
    let truncated = graph.truncated;
    view! {
        <Card title="Dependency graph">
            <nav class="flex gap-2 px-4 pt-3 text-xs" aria-label="Graph depth">
                "Steps each way:"
                {(1..=3u8).map(|d| {
                    let current = d == depth;
                    view! {
                        <a href=format!("{href}?depth={d}") aria-current=current.then_some("true")
                            class=if current { "font-semibold text-slate-900 dark:text-slate-100" } else { "text-indigo-700 hover:underline dark:text-indigo-300" }>{d}</a>
                    }
                }).collect_view()}
            </nav>
            <div class="overflow-auto p-4">
                <GraphDrawing graph label="Dependency graph"/>
                <p class="mt-2 text-xs text-slate-500">"Each box opens its page. Solid: depends on. Dashed: provides or consumes an API. A dashed box stands for more entities than fit; it opens where they are listed."
                    {truncated.then_some(" Large neighbourhood: only the nearest entities are drawn.")}</p>
            </div>
        </Card>
    }.into_any()
}

/// Deprecate and delete, each behind a confirmation.
#[component]
fn DangerZone(detail: EntityDetail) -> impl IntoView {
    let deprecate = ServerAction::<DeprecateEntity>::new();
    let delete = ServerAction::<DeleteEntity>::new();
    let r = detail.summary.entity_ref();
    let deprecated = detail.summary.lifecycle == Some(crate::catalog::types::Lifecycle::Deprecated);
    let hidden = {
        let r = r.clone();
        move || view! {
            <input type="hidden" name="kind" value=r.kind.clone()/>
            <input type="hidden" name="namespace" value=r.namespace.clone()/>
            <input type="hidden" name="name" value=r.name.clone()/>
        }
    };
    let error = move || {
        deprecate.value().get().and_then(Result::err).or_else(|| delete.value().get().and_then(Result::err))
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            let navigate = leptos_router::hooks::use_navigate();
            navigate("/catalog?deleted=1", Default::default());
        }
    });
    let btn = "h-9 rounded-lg bg-white px-3 text-sm font-medium text-rose-700 ring-1 ring-rose-300 hover:bg-rose-50 dark:bg-slate-900 dark:text-rose-300";
    view! {
        <Card title="Retire">
            <div class="space-y-3 p-4 text-sm">
                {move || error().map(|e| view! { <ErrorBox error=e/> })}
                {(!deprecated && detail.summary.lifecycle.is_some()).then(|| {
                    let hidden = hidden.clone();
                    view! {
                        <details>
                            <summary class="cursor-pointer font-medium">"Deprecate…"</summary>
                            <ActionForm action=deprecate attr:class="mt-2 space-y-2">
                                {hidden()}
                                <p>"Marks it deprecated: services depending on it lose their gold scorecard until they move off."</p>
                                <button type="submit" class=btn>"Yes, deprecate"</button>
                            </ActionForm>
                        </details>
                    }
                })}
                <details>
                    <summary class="cursor-pointer font-medium">"Delete…"</summary>
                    <ActionForm action=delete attr:class="mt-2 space-y-2">
                        {hidden()}
                        <p>"Removes it from the catalog for good. Refused while anything still depends on it."</p>
                        <button type="submit" class=btn data-testid="confirm-delete">"Yes, delete"</button>
                    </ActionForm>
                </details>
            </div>
        </Card>
    }
}
