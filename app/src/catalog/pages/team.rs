use super::table::EntityTable;
use crate::catalog::api::get_team;
use crate::catalog::types::{Level, TeamPage as Team};
use crate::ui::{Card, ErrorBox, Loading, StatCard};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// A team: its people, everything it owns, and its scorecard summary.
#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    // blocking: the page's status (404 for a team not there) is known before it streams
    let team = Resource::new_blocking(slug, get_team);
    view! {
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match team.await {
                    Ok(t) => view! { <TeamView team=t/> }.into_any(),
                    Err(e) => view! { <Title text="Not found"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TeamView(team: Team) -> impl IntoView {
    let count = |l: Option<Level>| i64::try_from(team.levels.iter().filter(|(_, x)| *x == l).count()).unwrap_or(0);
    let (gold, silver, bronze, none) = (count(Some(Level::Gold)), count(Some(Level::Silver)), count(Some(Level::Bronze)), count(None));
    let levels = team.levels.clone();
    let shown = team.owned.len();
    let partial = i64::try_from(shown).unwrap_or(i64::MAX) < team.total;
    let hint = |level: &'static str| if partial { format!("of the components listed, at {level}") } else { format!("components at {level}") };
    let all_href = format!("/catalog?owner={}", team.slug);
    view! {
        <Title text=team.name.clone()/>
        <div class="mb-6">
            <p class="font-mono text-xs text-slate-500">{format!("group:default/{}", team.slug)}</p>
            <h1 class="text-2xl font-semibold tracking-tight">{team.name.clone()}</h1>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{team.description.clone()}</p>
        </div>
        <div class="mb-6 grid grid-cols-2 gap-4 lg:grid-cols-4" data-testid="scorecard-summary">
            <StatCard label="Gold" value=gold hint=hint("gold")/>
            <StatCard label="Silver" value=silver hint=hint("silver")/>
            <StatCard label="Bronze" value=bronze hint=hint("bronze")/>
            <StatCard label="Below bronze" value=none hint="need an owner's attention"/>
        </div>
        <div class="grid grid-cols-1 gap-6 xl:grid-cols-3">
            <div class="xl:col-span-2">
                <Card title="Owned">
                    <div data-testid="owned">
                        {if team.owned.is_empty() {
                            view! { <p class="p-4 text-sm text-slate-500">"This team owns nothing in the catalog yet."</p> }.into_any()
                        } else {
                            view! { <EntityTable entities=team.owned.clone()/> }.into_any()
                        }}
                    </div>
                    {partial.then(|| view! {
                        <div class="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800" data-testid="owned-more">
                            {format!("The first {shown} of {} it owns. ", team.total)}
                            <a class="font-medium text-indigo-600 hover:underline dark:text-indigo-400" href=all_href>"Browse them all in the catalog →"</a>
                        </div>
                    })}
                </Card>
            </div>
            <div class="space-y-6">
                <Card title="People">
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="members">
                        {if team.members.is_empty() { view! { <li class="p-4 text-slate-500">"No members yet."</li> }.into_any() } else {
                            team.members.iter().map(|m| view! { <li class="p-3">{m.name.clone()}{m.lead.then_some(" (lead)")}<span class="ml-2 font-mono text-xs text-slate-500">{m.username.clone()}</span></li> }).collect_view().into_any()
                        }}
                    </ul>
                </Card>
                <Card title="Scorecards">
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="levels">
                        {levels.into_iter().map(|(name, l)| view! {
                            <li class="flex justify-between p-3"><span class="font-mono text-xs">{name}</span><span>{l.map(|l| l.as_str()).unwrap_or("below bronze")}</span></li>
                        }).collect_view()}
                    </ul>
                </Card>
            </div>
        </div>
    }
}
