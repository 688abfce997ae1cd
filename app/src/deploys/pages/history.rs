//! A service's deploys per environment: what runs there now, a one-click rollback to the
//! version before, and the history.
use super::{state_tone, when};
use crate::ui::form::{BUTTON, INPUT};
use crate::deploys::api::{get_service_deploys, RollbackDeploy};
use crate::deploys::types::{DeployView, EnvironmentHistory, ServiceDeploys};
use crate::error::AppError;
use crate::ui::{Badge, ErrorBox, Loading, PageHeader, When};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// The rollback action; once a rollback is asked for, its deploy's page opens.
fn rollback_action() -> ServerAction<RollbackDeploy> {
    let rollback = ServerAction::<RollbackDeploy>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = rollback.value().get() {
            navigate(&format!("/deploys/{}", id.0), Default::default());
        }
    });
    rollback
}

#[component]
pub fn ServiceDeploysPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let data = Resource::new(name, get_service_deploys);
    let rollback = rollback_action();
    view! {
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(s) => view! { <History data=s rollback/> }.into_any(),
                    Err(e) => view! { <Title text="Deploys"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn History(data: ServiceDeploys, rollback: ServerAction<RollbackDeploy>) -> impl IntoView {
    let ServiceDeploys { service, service_title, may_deploy, environments } = data;
    let title = format!("Deploys of {service_title}");
    let error = move || rollback.value().get().and_then(Result::err).map(|e: AppError| view! { <div class="mb-4"><ErrorBox error=e/></div> });
    view! {
        <Title text=title.clone()/>
        <PageHeader title="Deploys" subtitle="What runs where, and how it got there."/>
        <div class="mb-4 flex flex-wrap items-center gap-3">
            <a class="text-lg font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/catalog/component/default/{service}")>{service_title.clone()}</a>
            {may_deploy.then(|| view! { <a href=format!("/deploys/new?service={service}") class=BUTTON.to_owned() + " py-2">"Deploy"</a> })}
        </div>
        {error}
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
            {environments.into_iter().map(|e| view! { <EnvironmentCard env=e may_deploy rollback/> }).collect_view()}
        </div>
    }
}

#[component]
fn EnvironmentCard(env: EnvironmentHistory, may_deploy: bool, rollback: ServerAction<RollbackDeploy>) -> impl IntoView {
    let EnvironmentHistory { environment, title, current, rollback_to, history } = env;
    let testid = format!("env-{environment}");
    view! {
        <section class="rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid=testid>
            <header class="border-b border-slate-200 p-4 dark:border-slate-800">
                <h2 class="font-semibold">{title.clone()}</h2>
                <p class="mt-1 text-sm">"Running now: "
                    <span class="font-mono" data-testid=format!("current-{environment}")>{current.as_ref().map(|c| c.version.clone()).unwrap_or_else(|| "nothing yet".into())}</span>
                </p>
                {match (current, rollback_to, may_deploy) {
                    (Some(c), Some(to), true) => Some(view! { <RollbackForm current=c to env_title=title.clone() rollback/> }),
                    _ => None,
                }}
            </header>
            {if history.is_empty() {
                view! { <p class="p-4 text-sm text-slate-500">"No deploys here yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800">
                        {history.into_iter().map(|d| view! {
                            <li class="flex items-center justify-between gap-2 px-4 py-2">
                                <a class="font-mono text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/deploys/{}", d.id.0)>{d.version.clone()}</a>
                                <span class="text-xs text-slate-500">{d.requester.clone()} " · " {when(d.created_at)}</span>
                                <Badge tone=state_tone(d.state)>{d.state.label()}</Badge>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// Rolling back what runs in an environment: behind a confirmation that names the environment
/// and both versions, with the reason every change of it needs. Works without JavaScript.
#[component]
pub fn RollbackForm(current: DeployView, to: String, env_title: String, rollback: ServerAction<RollbackDeploy>) -> impl IntoView {
    let field = format!("rollback-reason-{}", current.environment);
    view! {
        <details class="mt-2 text-sm" data-testid=format!("rollback-{}", current.environment)>
            <summary class="cursor-pointer font-medium text-rose-700 dark:text-rose-300">{format!("Roll back to {to}…")}</summary>
            <ActionForm action=rollback attr:class="mt-2 space-y-2">
                <input type="hidden" name="id" value=current.id.0.to_string()/>
                <input type="hidden" name="idempotency_key" value=format!("rollback-{}", current.id.0)/>
                <p>{format!("{env_title} runs {} now; this deploys {to} there again. The environment's policy applies as to any deploy.", current.version)}</p>
                <label for=field.clone() class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Why roll back? (required)"</label>
                <input id=field name="reason" required maxlength="1000" class=INPUT placeholder="What broke, or the incident"/>
                <button type="submit" class="h-9 rounded-lg bg-rose-600 px-3 text-sm font-medium text-white hover:bg-rose-500">{format!("Yes, roll back {env_title} to {to}")}</button>
            </ActionForm>
        </details>
    }
}

/// The deploys of the service `service()` names (nothing asked while it names none), for
/// [`RunsWhereCard`]. The service's page makes it beside its own data, so both are read at the
/// same time rather than one after the other.
pub type RunsWhereData = Resource<Option<Result<ServiceDeploys, AppError>>>;

pub fn runs_where_data(service: impl Fn() -> Option<String> + Send + Sync + 'static) -> RunsWhereData {
    Resource::new(service, |service| async move {
        match service {
            Some(s) => Some(crate::ui::card_read(get_service_deploys(s)).await),
            None => None,
        }
    })
}

/// What runs where, on a service's page: per environment the version running, since when and
/// who deployed it, the last deploy's state; deploy, promote to the next environment, and roll
/// back from here.
#[component]
pub fn RunsWhereCard(data: RunsWhereData) -> impl IntoView {
    let rollback = rollback_action();
    view! {
        <crate::ui::Card title="Runs where">
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=3/></div> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Some(Ok(s)) => view! { <RunsWhere data=s rollback/> }.into_any(),
                        Some(Err(e)) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                        None => ().into_any(),
                    }
                })}
            </Suspense>
        </crate::ui::Card>
    }
}

#[component]
fn RunsWhere(data: ServiceDeploys, rollback: ServerAction<RollbackDeploy>) -> impl IntoView {
    let ServiceDeploys { service, may_deploy, environments, .. } = data;
    let error = move || rollback.value().get().and_then(Result::err).map(|e: AppError| view! { <div class="px-4 pt-3"><ErrorBox error=e/></div> });
    // the next environment of each, for "promote"
    let next: Vec<Option<(String, String)>> = (0..environments.len())
        .map(|i| environments.get(i + 1).map(|n| (n.environment.clone(), n.title.clone())))
        .collect();
    let link = "text-indigo-700 hover:underline dark:text-indigo-300";
    view! {
        {error}
        <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="runs-where">
            {environments.into_iter().zip(next).map(|(e, next)| {
                let EnvironmentHistory { environment, title, current, rollback_to, history } = e;
                let last = history.first().cloned();
                let newer = last.as_ref().filter(|l| current.as_ref().is_none_or(|c| c.id != l.id)).cloned();
                let service = service.clone();
                view! {
                    <li class="px-4 py-3 text-sm" data-testid=format!("runs-{environment}")>
                        <div class="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
                            <h3 class="font-medium">{title.clone()}</h3>
                            {match &current {
                                Some(c) => view! {
                                    <p class="min-w-0 text-slate-600 dark:text-slate-400">
                                        <a class=format!("font-mono {link}") href=format!("/deploys/{}", c.id.0) data-testid="running">{c.version.clone()}</a>
                                        {format!(" by {} · since ", c.requester)}
                                        <When at=c.finished_at.unwrap_or(c.updated_at)/>
                                    </p>
                                }.into_any(),
                                None => view! { <p class="text-slate-500" data-testid="running">"Nothing runs here yet."</p> }.into_any(),
                            }}
                        </div>
                        {newer.map(|l| view! {
                            <p class="mt-1 text-xs text-slate-600 dark:text-slate-400" data-testid="last-deploy">
                                "Last deploy: " <a class=format!("font-mono {link}") href=format!("/deploys/{}", l.id.0)>{l.version.clone()}</a>" "
                                <Badge tone=state_tone(l.state)>{l.state.label()}</Badge>
                            </p>
                        })}
                        {may_deploy.then(|| {
                            let promote = match (&current, &next) {
                                (Some(c), Some((to, to_title))) => Some(view! {
                                    <a class=link data-testid=format!("promote-{environment}")
                                        href=format!("/deploys/new?service={service}&environment={to}&version={}&reason={}", encode(&c.version), encode(&format!("Promote {} from {title}", c.version)))>
                                        {format!("Promote {} to {to_title}", c.version)}
                                    </a>
                                }),
                                _ => None,
                            };
                            view! {
                                <div class="mt-2 flex flex-wrap items-start gap-x-4 gap-y-1 text-sm">
                                    <a class=link href=format!("/deploys/new?service={service}&environment={environment}")>{format!("Deploy to {title}")}</a>
                                    {promote}
                                </div>
                                {match (current.clone(), rollback_to.clone()) {
                                    (Some(c), Some(to)) => Some(view! { <RollbackForm current=c to env_title=title.clone() rollback/> }),
                                    _ => None,
                                }}
                            }
                        })}
                    </li>
                }
            }).collect_view()}
        </ul>
        <p class="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
            <a class=link href=format!("/deploys/service/{service}")>"Every deploy, per environment →"</a>
        </p>
    }
}

/// A query-string value, percent-encoded.
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
