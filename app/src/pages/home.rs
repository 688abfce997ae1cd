//! The home page, for whoever is looking: their teams' services, what waits for their
//! decision and the deploys they asked for, above the catalog's counts (each a link to the
//! catalog list it counts, so the two always agree).
use crate::catalog::pages::{lifecycle_tone, tier_tone, EntityTable};
use crate::catalog::types::{CatalogOverview, EntitySummary, Lifecycle, Tier};
use crate::deploys::types::DeployState;
use crate::error::AppError;
use crate::ui::{Badge, Card, ErrorBox, Loading, PageHeader, StatCard, When};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde::{Deserialize, Serialize};

/// Everything the home page shows, read together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Home {
    pub overview: CatalogOverview,
    /// Each team the viewer is in: slug, name, its first services.
    pub my_teams: Vec<(String, String, Vec<MyService>)>,
    /// How many requests wait for the viewer's decision, and the newest of them.
    pub waiting_total: usize,
    pub waiting: Vec<Waiting>,
    /// The deploys the viewer asked for, newest first.
    pub my_deploys: Vec<MyDeploy>,
}

/// One of the viewer's teams' services, as its line on the home page shows it (the team is the
/// heading it sits under, so the line carries no owner).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyService {
    pub href: String,
    pub name: String,
    pub title: String,
    pub tier: Option<Tier>,
    pub lifecycle: Option<Lifecycle>,
    pub pending: bool,
}

impl From<EntitySummary> for MyService {
    fn from(e: EntitySummary) -> Self {
        Self { href: e.entity_ref().href(), name: e.name, title: e.title, tier: e.tier, lifecycle: e.lifecycle, pending: e.pending }
    }
}

/// A request waiting for the viewer's decision, as its line on the home page shows it (the
/// page carries these few fields, not the inbox's whole card).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    pub id: uuid::Uuid,
    pub summary: String,
    pub requester: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One of the viewer's deploys, as its line on the home page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyDeploy {
    pub id: uuid::Uuid,
    pub service_title: String,
    pub version: String,
    pub environment: String,
    pub state: DeployState,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[server(endpoint = "home")]
pub async fn get_home() -> Result<Home, AppError> {
    /// How many of each list the home page shows.
    const SHOWN: usize = 5;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let subjects = crate::context::approval_subjects()?;
    let (overview, teams, waiting, deploys) = futures::join!(
        crate::catalog::service::overview(&pool),
        crate::catalog::service::my_services(&pool, &principal, 8),
        crate::approvals::service::waiting(&pool, &subjects, &principal),
        crate::deploys::service::asked_by_me(&pool, &principal, SHOWN as i64),
    );
    let fail = |e: AppError| crate::context::respond(e);
    let waiting = waiting.map_err(|e| fail(e.into()))?;
    Ok(Home {
        overview: overview.map_err(|e| fail(e.into()))?,
        my_teams: teams
            .map_err(|e| fail(e.into()))?
            .into_iter()
            .map(|(slug, name, services)| (slug, name, services.into_iter().map(MyService::from).collect()))
            .collect(),
        waiting_total: waiting.len(),
        waiting: waiting
            .into_iter()
            .take(SHOWN)
            .map(|v| Waiting { id: v.id.0, summary: v.summary, requester: v.requester, created_at: v.created_at })
            .collect(),
        my_deploys: deploys
            .map_err(|e| fail(e.into()))?
            .into_iter()
            .map(|d| MyDeploy {
                id: d.id.0,
                service_title: d.service_title,
                version: d.version,
                environment: d.environment,
                state: d.state,
                created_at: d.created_at,
            })
            .collect(),
    })
}

#[component]
pub fn HomePage() -> impl IntoView {
    let home = Resource::new(|| (), |_| get_home());
    let me = crate::ui::layout::CurrentUser::get();
    let greeting = match me.as_ref().and_then(|m| m.name.split_whitespace().next().map(str::to_owned)) {
        Some(first) => format!("Good to see you, {first}"),
        None => "Good to see you".to_owned(),
    };
    view! {
        <Title text="Home"/>
        <PageHeader title=greeting subtitle="Your teams' services, what waits for you, and how everything changes."/>
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                match home.await {
                    Ok(h) => view! { <Overview home=h/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A team's service on the home page: its title (a link), its name, its tier and lifecycle.
fn service_line(s: MyService) -> impl IntoView {
    view! {
        <li class="flex flex-wrap items-center justify-between gap-x-3 gap-y-1 py-2 text-sm" data-testid="my-service">
            <span class="min-w-0">
                <a class=LINK href=s.href>{s.title}</a>
                " "<span class="font-mono text-xs text-slate-500 dark:text-slate-400">{s.name}</span>
            </span>
            <span class="flex shrink-0 gap-1.5">
                {s.pending.then(|| view! { <Badge tone=crate::ui::Tone::Info>"pending approval"</Badge> })}
                {s.tier.map(|t| view! { <Badge tone=tier_tone(t.get())>{format!("Tier {}", t.get())}</Badge> })}
                {s.lifecycle.map(|l| view! { <Badge tone=lifecycle_tone(&l)>{l.as_str().to_owned()}</Badge> })}
            </span>
        </li>
    }
}

const LINK: &str = "font-medium text-indigo-700 hover:underline dark:text-indigo-300";

#[component]
fn Overview(home: Home) -> impl IntoView {
    let Home { overview, my_teams, waiting_total, waiting, my_deploys } = home;
    let team_count = i64::try_from(overview.teams.len()).unwrap_or(i64::MAX);
    let in_no_team = my_teams.is_empty();
    let admin = crate::ui::layout::CurrentUser::get().is_some_and(|m| m.is_admin());
    let no_team = if admin {
        "You are in no team, so nothing here is yours; as an admin you may change anything."
    } else {
        "You are in no team yet, so nothing here is yours. Ask a team's lead to add you; until then you can read everything."
    };
    view! {
        <div class="grid grid-cols-2 gap-4 lg:grid-cols-4">
            <StatCard label="Services" value=overview.services hint="registered in the catalog" href="/catalog?kind=component"/>
            <StatCard label="In production" value=overview.production hint="lifecycle production" href="/catalog?kind=component&lifecycle=production"/>
            <StatCard label="Tier 0" value=overview.tier_zero hint="money stops if these stop" href="/catalog?kind=component&tier=0"/>
            <StatCard label="Teams" value=team_count hint="owning services"/>
        </div>
        <div class="mt-6 grid gap-6 xl:grid-cols-3">
            <div class="min-w-0 space-y-6 xl:col-span-2">
                <Card title="Your teams' services">
                    <div data-testid="my-services">
                        {if in_no_team {
                            view! { <p class="p-4 text-sm text-slate-600 dark:text-slate-400">{no_team}</p> }.into_any()
                        } else {
                            my_teams.into_iter().map(|(slug, name, services)| view! {
                                <div class="border-b border-slate-200 last:border-b-0 dark:border-slate-800" data-team=slug.clone()>
                                    <h3 class="flex items-center justify-between px-4 pt-3 text-sm font-semibold">
                                        <a class=LINK href=format!("/teams/{slug}")>{name}</a>
                                        <a class="text-xs font-normal text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/catalog?kind=component&owner={slug}")>"All of them →"</a>
                                    </h3>
                                    {if services.is_empty() {
                                        view! { <p class="px-4 pb-3 pt-1 text-sm text-slate-500">"No services yet."</p> }.into_any()
                                    } else {
                                        view! { <ul class="divide-y divide-slate-200 px-4 pb-1 dark:divide-slate-800">{services.into_iter().map(service_line).collect_view()}</ul> }.into_any()
                                    }}
                                </div>
                            }).collect_view().into_any()
                        }}
                    </div>
                </Card>
                <Card title="Recently changed services">
                    <EntityTable entities=overview.recently_changed/>
                    <div class="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
                        <A href="/catalog" attr:class=LINK>"Browse the whole catalog →"</A>
                    </div>
                </Card>
            </div>
            <div class="min-w-0 space-y-6">
                <Card title="Waiting for your decision">
                    <div data-testid="my-approvals">
                        {if waiting.is_empty() {
                            view! { <p class="p-4 text-sm text-slate-600 dark:text-slate-400">"Nothing waits for your decision."</p> }.into_any()
                        } else {
                            view! {
                                <p class="px-4 pt-3 text-sm" data-testid="my-approvals-count">
                                    {format!("{waiting_total} request{} wait{} for you.", if waiting_total == 1 { "" } else { "s" }, if waiting_total == 1 { "s" } else { "" })}
                                </p>
                                <ul class="divide-y divide-slate-200 dark:divide-slate-800">
                                    {waiting.into_iter().map(|v| view! {
                                        <li class="px-4 py-2 text-sm">
                                            <a class=LINK href=format!("/approvals/{}", v.id)>{v.summary}</a>
                                            <p class="text-xs text-slate-500">{format!("asked by {} · ", v.requester)}<When at=v.created_at/></p>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <div class="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
                            <A href="/approvals" attr:class=LINK>"Open the inbox →"</A>
                        </div>
                    </div>
                </Card>
                <Card title="Your recent deploys">
                    <div data-testid="my-deploys">
                        {if my_deploys.is_empty() {
                            view! { <p class="p-4 text-sm text-slate-600 dark:text-slate-400">"You have not deployed anything yet."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="divide-y divide-slate-200 dark:divide-slate-800">
                                    {my_deploys.into_iter().map(|d| view! {
                                        <li class="flex items-start justify-between gap-2 px-4 py-2 text-sm">
                                            <div class="min-w-0">
                                                <a class=LINK href=format!("/deploys/{}", d.id)>{format!("{} {}", d.service_title, d.version)}</a>
                                                <p class="text-xs text-slate-500">{format!("to {} · ", d.environment)}<When at=d.created_at/></p>
                                            </div>
                                            <Badge tone=crate::deploys::pages::state_tone(d.state)>{d.state.as_str()}</Badge>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </div>
                </Card>
                <Card title="Teams">
                    <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="team-list">
                        {overview.teams.into_iter().map(|t| view! {
                            <li class="flex items-center justify-between gap-3 px-4 py-2.5">
                                <div class="min-w-0">
                                    <a class="truncate text-sm font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/teams/{}", t.slug)>{t.name}</a>
                                    <div class="truncate text-xs text-slate-500 dark:text-slate-400">{t.description}</div>
                                </div>
                                <a class="shrink-0 text-xs tabular-nums text-slate-500 hover:underline dark:text-slate-400" href=format!("/catalog?kind=component&owner={}", t.slug)>
                                    {format!("{} service{}", t.services, if t.services == 1 { "" } else { "s" })}
                                </a>
                            </li>
                        }).collect_view()}
                    </ul>
                </Card>
            </div>
        </div>
    }
}
