use super::table::EntityTable;
use crate::catalog::api::{list_catalog, CatalogView};
use crate::catalog::types::{FacetCount, ListQuery};
use crate::ui::icons::Icon;
use crate::ui::{Card, EmptyState, ErrorBox, Loading, PageHeader, PrimaryAction, NO_TEAM};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The catalog list: filters, facet counts and keyset pages, all held in the URL.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let query = use_query_map();
    let pairs = move || {
        query.with(|q| {
            ["q", "kind", "type", "owner", "lifecycle", "tier", "tag", "classification", "sort", "after", "limit"]
                .iter()
                .filter_map(|k| q.get(k).map(|v| ((*k).to_owned(), v)))
                .collect::<Vec<_>>()
        })
    };
    let view_data = Resource::new(pairs, |pairs| {
        list_catalog(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
    });
    let may_own = crate::ui::layout::CurrentUser::get().is_some_and(|m| m.may_own());
    view! {
        <Title text="Catalog"/>
        <PageHeader title="Catalog" subtitle="Services, APIs, systems and resources: who owns them, and how critical they are.">
            <div class="flex flex-wrap items-start gap-2">
                <a href="/api/v1/catalog/export" rel="external" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Export YAML"</a>
                <a href="/catalog/import" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Import YAML"</a>
                <PrimaryAction allowed=may_own href="/catalog/new" label="Register a service" reason=NO_TEAM testid="register-service"/>
            </div>
        </PageHeader>
        <Suspense fallback=|| view! { <Card><div class="p-4"><Loading rows=6/></div></Card> }>
            {move || Suspend::new(async move {
                let pairs = pairs();
                let q = ListQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())).unwrap_or_default();
                match view_data.await {
                    Ok(data) => view! { <Listing q data/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Listing(q: ListQuery, data: CatalogView) -> impl IntoView {
    let CatalogView { page, facets } = data;
    let owner_label = facets.owner_label.clone();
    let for_sort = q.clone();
    let filter_chips = chips(&q, owner_label.as_deref());
    let navigate = leptos_router::hooks::use_navigate();
    let filtered = q != ListQuery { sort: q.sort, limit: q.limit, ..ListQuery::default() };
    let summary = format!("{} {} found", facets.total, if facets.total == 1 { "entity" } else { "entities" });
    let next = page.next.map(|cursor| {
        let mut nq = q.clone();
        nq.after = Some(cursor);
        format!("/catalog?{}", nq.to_query_string(true))
    });
    let first = q.after.is_some().then(|| format!("/catalog?{}", q.to_query_string(false)));
    let facet = |title: &'static str, key: &'static str, counts: Vec<FacetCount>| {
        let current = q.clone();
        view! { <Facet title key counts current/> }
    };
    let sel = "h-9 rounded-lg border border-slate-300 bg-white px-2 text-sm dark:border-slate-700 dark:bg-slate-800";
    let sort = q.sort.as_str();
    view! {
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-[16rem_1fr]">
            <aside class="space-y-4 text-sm" data-testid="facets" aria-label="Filters">
                {facet("Kind", "kind", facets.kind)}
                {facet("Type", "type", facets.entity_type)}
                {facet("Owner", "owner", facets.owner)}
                {facet("Lifecycle", "lifecycle", facets.lifecycle)}
                {facet("Tier", "tier", facets.tier)}
                {facet("Data classification", "classification", facets.classification)}
                {facet("Tag", "tag", facets.tag)}
            </aside>
            <div class="min-w-0">
                <Card>
                    <form method="get" action="/catalog" class="flex flex-wrap items-end gap-2 border-b border-slate-200 p-3 dark:border-slate-800">
                        <div class="min-w-48 flex-1">
                            <label for="catalog-q" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Search"</label>
                            <input id="catalog-q" name="q" type="search" value=q.text.as_str().to_owned() placeholder="name, title, description or tag"
                                class="mt-1 h-9 w-full rounded-lg border border-slate-300 px-3 text-sm dark:border-slate-700 dark:bg-slate-800"/>
                        </div>
                        {q.kind.map(|k| view! { <input type="hidden" name="kind" value=k.as_str()/> })}
                        {q.owner.clone().map(|o| view! { <input type="hidden" name="owner" value=o/> })}
                        {q.entity_type.clone().map(|t| view! { <input type="hidden" name="type" value=t/> })}
                        {q.lifecycle.map(|l| view! { <input type="hidden" name="lifecycle" value=l.as_str()/> })}
                        {q.tier.map(|t| view! { <input type="hidden" name="tier" value=t.get().to_string()/> })}
                        {q.tag.clone().map(|t| view! { <input type="hidden" name="tag" value=t/> })}
                        {q.classification.map(|c| view! { <input type="hidden" name="classification" value=c.as_str()/> })}
                        <div>
                            <label for="catalog-sort" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Sort by"</label>
                            // with JavaScript a new order applies at once; without, with Apply
                            <select id="catalog-sort" name="sort" class=format!("mt-1 {sel}") on:change=move |ev| {
                                let mut nq = for_sort.clone();
                                nq.sort = crate::catalog::types::Sort::parse(&event_target_value(&ev)).unwrap_or_default();
                                nq.after = None;
                                navigate(&format!("/catalog?{}", nq.to_query_string(false)), Default::default());
                            }>
                                {(!q.text.is_empty()).then(|| view! { <option value="relevance" selected=sort == "relevance">"Best match"</option> })}
                                <option value="name" selected=sort == "name">"Name"</option>
                                <option value="updated" selected=sort == "updated">"Recently changed"</option>
                                <option value="tier" selected=sort == "tier">"Tier"</option>
                            </select>
                        </div>
                        <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500">"Apply"</button>
                        {filtered.then(|| view! { <a href="/catalog" class="h-9 px-2 py-2 text-sm text-indigo-700 hover:underline dark:text-indigo-300">"Clear filters"</a> })}
                    </form>
                    {filter_chips}
                    <p class="border-b border-slate-200 px-4 py-2 text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400" data-testid="result-count">{summary}</p>
                    {if page.items.is_empty() && !filtered {
                        view! {
                            <EmptyState icon=Icon::Catalog title="The catalog is empty">
                                "Register a service, or import your Backstage catalog-info.yaml files."
                            </EmptyState>
                        }.into_any()
                    } else if page.items.is_empty() {
                        let text = q.text.as_str().to_owned();
                        view! {
                            <div class="p-6 text-sm" data-testid="no-results">
                                {if text.is_empty() { "Nothing matches these filters.".to_owned() } else { format!("Nothing matches “{text}”.") }}
                                " Try a shorter or different word, or clear a filter."
                            </div>
                        }.into_any()
                    } else {
                        view! { <EntityTable entities=page.items/> }.into_any()
                    }}
                    <nav class="flex justify-between gap-2 border-t border-slate-200 px-4 py-2 text-sm dark:border-slate-800" aria-label="Pages">
                        <span>{first.map(|href| view! { <a href=href class="text-indigo-700 hover:underline dark:text-indigo-300">"← First page"</a> })}</span>
                        <span>{next.map(|href| view! { <a href=href rel="next" class="text-indigo-700 hover:underline dark:text-indigo-300">"Next page →"</a> })}</span>
                    </nav>
                </Card>
            </div>
        </div>
    }
}

/// A facet's value as people read it: "Tier 0", "PCI (card data)", a team's name, "Component".
fn shown(key: &str, value: &str, label: Option<&str>) -> String {
    let capital = |v: &str| {
        let mut c = v.chars();
        c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
    };
    match key {
        "tier" => format!("Tier {value}"),
        "classification" => crate::catalog::types::Classification::parse(value).map_or_else(|_| value.to_owned(), |c| c.label().to_owned()),
        "owner" => label.map_or_else(|| value.to_owned(), str::to_owned),
        "kind" | "lifecycle" => capital(value),
        _ => value.to_owned(),
    }
}

/// The query string of `q` without the filter `key` (and from the first page).
fn without(q: &ListQuery, key: &str) -> String {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(q.to_query_string(false).as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).filter(|(k, _)| k != key).collect();
    let qs: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    if qs.is_empty() { "/catalog".to_owned() } else { format!("/catalog?{qs}") }
}

/// The filters in force, each a chip that removes it.
fn chips(q: &ListQuery, owner_label: Option<&str>) -> impl IntoView {
    let mut active: Vec<(&'static str, &'static str, String)> = Vec::new();
    if !q.text.is_empty() {
        active.push(("q", "Search", format!("“{}”", q.text.as_str())));
    }
    let mut add = |key: &'static str, title: &'static str, value: Option<String>| {
        if let Some(v) = value {
            active.push((key, title, shown(key, &v, if key == "owner" { owner_label } else { None })));
        }
    };
    add("kind", "Kind", q.kind.map(|k| k.as_str().to_owned()));
    add("type", "Type", q.entity_type.clone());
    add("owner", "Owner", q.owner.clone());
    add("lifecycle", "Lifecycle", q.lifecycle.as_ref().map(|l| l.as_str().to_owned()));
    add("tier", "Tier", q.tier.map(|t| t.get().to_string()));
    add("classification", "Data classification", q.classification.map(|c| c.as_str().to_owned()));
    add("tag", "Tag", q.tag.clone());
    (!active.is_empty()).then(|| {
        view! {
            <ul class="flex flex-wrap gap-2 border-b border-slate-200 px-3 py-2 text-xs dark:border-slate-800" data-testid="active-filters" aria-label="Filters in force">
                {active.into_iter().map(|(key, title, value)| {
                    let href = without(q, key);
                    let label = format!("Remove the filter {title}: {value}");
                    view! {
                        <li class="inline-flex items-center gap-1 rounded-full bg-indigo-50 py-0.5 pl-2.5 pr-1 text-indigo-900 ring-1 ring-indigo-200 dark:bg-indigo-950 dark:text-indigo-100 dark:ring-indigo-800" data-filter=key>
                            <span>{format!("{title}: {value}")}</span>
                            <a href=href aria-label=label title="Remove this filter" class="grid h-5 w-5 place-items-center rounded-full hover:bg-indigo-200 dark:hover:bg-indigo-800">"×"</a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
    })
}

/// One facet: each value with its count, as a link that sets (or clears) the filter.
#[component]
fn Facet(title: &'static str, key: &'static str, counts: Vec<FacetCount>, current: ListQuery) -> impl IntoView {
    if counts.is_empty() {
        return ().into_any();
    }
    let link = move |value: &str| {
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(current.to_query_string(false).as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .filter(|(k, _)| k != key)
            .collect();
        let active = url::form_urlencoded::parse(current.to_query_string(false).as_bytes()).any(|(k, v)| k == key && v == value);
        if !active {
            pairs.push((key.to_owned(), value.to_owned()));
        }
        let qs: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        (format!("/catalog?{qs}"), active)
    };
    view! {
        <section>
            <h2 class="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">{title}</h2>
            <ul class="space-y-0.5">
                {counts.into_iter().map(|c| {
                    let (href, active) = link(&c.value);
                    let class = if active {
                        "flex justify-between rounded-md bg-indigo-50 px-2 py-1 font-medium text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200"
                    } else {
                        "flex justify-between rounded-md px-2 py-1 hover:bg-slate-100 dark:hover:bg-slate-800"
                    };
                    view! {
                        <li><a href=href class=class aria-current=active.then_some("true")>
                            <span class="truncate" data-value=c.value.clone()>{shown(key, &c.value, c.label.as_deref())}</span>
                            <span class="tabular-nums text-slate-500">{c.count}</span>
                        </a></li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }.into_any()
}
