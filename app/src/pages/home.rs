use crate::catalog::api::get_overview;
use crate::catalog::pages::EntityTable;
use crate::catalog::types::CatalogOverview;
use crate::ui::{Card, ErrorBox, Loading, PageHeader, StatCard};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Home"/>
        <PageHeader title="Good to see you" subtitle="Everything your company runs, who owns it, and how it changes."/>
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(o) => view! { <Overview overview=o/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: CatalogOverview) -> impl IntoView {
    let team_count = i64::try_from(overview.teams.len()).unwrap_or(i64::MAX);
    view! {
        <div class="grid grid-cols-2 gap-4 lg:grid-cols-4">
            <StatCard label="Services" value=overview.services hint="registered in the catalog"/>
            <StatCard label="In production" value=overview.production hint="lifecycle production"/>
            <StatCard label="Tier 0" value=overview.tier_zero hint="money stops if these stop"/>
            <StatCard label="Teams" value=team_count hint="owning services"/>
        </div>
        <div class="mt-6 grid gap-6 xl:grid-cols-3">
            <div class="xl:col-span-2">
                <Card title="Recently changed services">
                    <EntityTable entities=overview.recently_changed/>
                    <div class="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
                        <A href="/catalog" attr:class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">"Browse the whole catalog →"</A>
                    </div>
                </Card>
            </div>
            <Card title="Teams">
                <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="team-list">
                    {overview.teams.into_iter().map(|t| view! {
                        <li class="flex items-center justify-between gap-3 px-4 py-2.5">
                            <div class="min-w-0">
                                <a class="truncate text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/teams/{}", t.slug)>{t.name}</a>
                                <div class="truncate text-xs text-slate-500 dark:text-slate-400">{t.description}</div>
                            </div>
                            <span class="shrink-0 text-xs tabular-nums text-slate-500 dark:text-slate-400">
                                {format!("{} service{}", t.services, if t.services == 1 { "" } else { "s" })}
                            </span>
                        </li>
                    }).collect_view()}
                </ul>
            </Card>
        </div>
    }
}
