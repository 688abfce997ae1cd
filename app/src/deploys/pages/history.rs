//! A service's deploys per environment: what runs there now, a one-click rollback to the
//! version before, and the history.
use super::{state_tone, when};
use crate::ui::form::{Submit, BUTTON};
use crate::deploys::api::{get_service_deploys, RollbackDeploy};
use crate::deploys::types::{EnvironmentHistory, ServiceDeploys};
use crate::error::AppError;
use crate::ui::{Badge, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

#[component]
pub fn ServiceDeploysPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let data = Resource::new(name, get_service_deploys);
    let rollback = ServerAction::<RollbackDeploy>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = rollback.value().get() {
            navigate(&format!("/deploys/{}", id.0), Default::default());
        }
    });
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
        <div class="grid gap-6 lg:grid-cols-3">
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
                <h2 class="font-semibold">{title}</h2>
                <p class="mt-1 text-sm">"Running now: "
                    <span class="font-mono" data-testid=format!("current-{environment}")>{current.as_ref().map(|c| c.version.clone()).unwrap_or_else(|| "nothing yet".into())}</span>
                </p>
                {match (current, rollback_to, may_deploy) {
                    (Some(c), Some(to), true) => Some(view! {
                        <ActionForm action=rollback attr:class="mt-2">
                            <input type="hidden" name="id" value=c.id.0.to_string()/>
                            <input type="hidden" name="idempotency_key" value=format!("rollback-{}", c.id.0)/>
                            <Submit label=format!("Roll back to {to}")/>
                        </ActionForm>
                    }),
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
