//! The kick-off form: pick environment and version, say why, and see the policy that will
//! apply (approvals, freeze, what runs there now) before submitting.
use crate::ui::form::{problem_of, returned_problems, Field, FieldError, Submit, INPUT, TEXTAREA};
use crate::deploys::api::{get_plan, RequestDeploy};
use crate::deploys::types::{DeployPlan, Problem};
use crate::ui::{Badge, Card, ErrorBox, Loading, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn NewDeployPage() -> impl IntoView {
    let query = use_query_map();
    let service = move || query.read().get("service").unwrap_or_default();
    let plan = Resource::new(service, |s| async move {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            get_plan(s).await.map(Some)
        }
    });
    view! {
        <Title text="Deploy"/>
        <PageHeader title="Deploy a service" subtitle="Members of an owning team and admins deploy. Production waits for an approval by someone else."/>
        <Suspense fallback=|| view! { <Loading rows=6/> }>
            {move || Suspend::new(async move {
                match plan.await {
                    Ok(Some((plan, key, typed_override))) => {
                        let typed = query.with_untracked(|q| {
                            let get = |k: &str| q.get(k).unwrap_or_default();
                            (get("environment"), get("version"), get("reason"), q.get("key").unwrap_or(key), typed_override, returned_problems(q))
                        });
                        view! { <DeployFormView plan typed/> }.into_any()
                    }
                    Ok(None) => view! {
                        <Card>
                            <form method="get" action="/deploys/new" class="flex flex-wrap items-end gap-2 p-4">
                                <label class="text-sm">"Service (its catalog name)"<input name="service" required class=INPUT placeholder="payments-api"/></label>
                                <Submit label="Continue"/>
                            </form>
                        </Card>
                    }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

type Typed = (String, String, String, String, String, Vec<Problem>);

#[component]
fn DeployFormView(plan: DeployPlan, typed: Typed) -> impl IntoView {
    let (env0, version0, reason0, key, override0, problems) = typed;
    let first_env = plan.environments.first().map(|e| e.environment.clone()).unwrap_or_default();
    let chosen = RwSignal::new(if env0.is_empty() { first_env } else { env0 });
    let server_problems = RwSignal::new(problems);
    let action = ServerAction::<RequestDeploy>::new();
    let navigate = use_navigate();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(id)) => navigate(&format!("/deploys/{}", id.0), Default::default()),
        Some(Err(e)) => server_problems.set(e.problems()),
        None => {}
    });
    let problem = move |field: &'static str| view! { <FieldError field problems=server_problems/> };
    let DeployPlan { service, service_title, tier, owner, may_deploy, is_admin, environments } = plan;
    let envs_for_select = environments.clone();
    let tier_text = tier.map(|t| format!("Tier {t}")).unwrap_or_else(|| "no tier".into());
    view! {
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-5">
            <div class="lg:col-span-3">
                <Card title="What to deploy">
                    <div class="p-4">
                        <p class="mb-4 text-sm">
                            <a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/catalog/component/default/{service}")>{service_title.clone()}</a>
                            " · owned by " {owner.clone()} " · " {tier_text}
                        </p>
                        {(!may_deploy).then(|| view! {
                            <p role="status" class="mb-4 rounded-lg bg-amber-50 p-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="cannot-deploy">
                                "Only members of the owning team and admins may deploy this service."
                            </p>
                        })}
                        {problem("form")}
                        {problem("service")}
                        <ActionForm action attr:class="space-y-4" attr:data-testid="deploy-form">
                            <input type="hidden" name="service" value=service.clone()/>
                            <input type="hidden" name="idempotency_key" value=key/>
                            <Field id="dep-env" label="Environment" field="environment" required=true error=problem_of("environment", server_problems)>
                                <select id="dep-env" name="environment" class=INPUT on:change=move |ev| chosen.set(event_target_value(&ev))>
                                    {envs_for_select.into_iter().map(|e| {
                                        let selected = e.environment == chosen.get_untracked();
                                        view! { <option value=e.environment.clone() selected=selected>{format!("{} ({})", e.title, e.environment)}</option> }
                                    }).collect_view()}
                                </select>
                            </Field>
                            <Field id="dep-version" label="Version" field="version" required=true error=problem_of("version", server_problems)>
                                <input id="dep-version" name="version" value=version0 required maxlength="200" class=INPUT placeholder="v1.4.2, a commit or an image tag"/>
                            </Field>
                            <Field id="dep-reason" label="Reason" field="reason" required=true error=problem_of("reason", server_problems)>
                                <textarea id="dep-reason" name="reason" required maxlength="2000" rows="3" class=TEXTAREA>{reason0}</textarea>
                            </Field>
                            {is_admin.then(|| view! {
                                <Field id="dep-override" label="Freeze override reason (admins; only if the environment is frozen)" field="freeze_override"
                                    error=problem_of("freeze_override", server_problems)>
                                    <input id="dep-override" name="freeze_override" value=override0 maxlength="500" class=INPUT/>
                                </Field>
                            })}
                            {problem("idempotency_key")}
                            <Submit label="Request deploy" disabled=!may_deploy/>
                        </ActionForm>
                    </div>
                </Card>
            </div>
            <div class="lg:col-span-2">
                <Card title="Policy per environment">
                    <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="policy">
                        {environments.into_iter().map(|e| {
                            let name = e.environment.clone();
                            let selected = move || chosen.get() == name;
                            view! {
                                <li class=move || format!("p-4 text-sm {}", if selected() { "bg-indigo-50 dark:bg-indigo-950/40" } else { "" })
                                    data-testid=format!("policy-{}", e.environment)>
                                    <div class="flex items-center justify-between">
                                        <span class="font-medium">{e.title.clone()}</span>
                                        {if e.requires_approval {
                                            view! { <Badge tone=Tone::Warn>{format!("{} approval{}", e.required_approvals, if e.required_approvals == 1 { "" } else { "s" })}</Badge> }.into_any()
                                        } else {
                                            view! { <Badge tone=Tone::Good>"no approval"</Badge> }.into_any()
                                        }}
                                    </div>
                                    {e.requires_approval.then(|| view! { <p class="mt-1 text-slate-600 dark:text-slate-400">"Approved by " {e.approvers.clone()}</p> })}
                                    <p class="mt-1 text-slate-600 dark:text-slate-400">"Running now: " <span class="font-mono">{e.current_version.clone().unwrap_or_else(|| "nothing yet".into())}</span></p>
                                    {e.active_freeze.clone().map(|f| view! { <p class="mt-1 font-medium text-rose-700 dark:text-rose-300">"Frozen: " {f}</p> })}
                                    {e.blocks_during_maintenance.then(|| view! { <p class="mt-1 text-slate-600 dark:text-slate-400">"Refused during maintenance on the service's network path"</p> })}
                                    {(!e.maintenance_now.is_empty()).then(|| {
                                        let (tone, lead) = if e.blocks_during_maintenance { ("text-rose-700 dark:text-rose-300", "Refused now — maintenance on its path: ") } else { ("text-amber-700 dark:text-amber-300", "Maintenance on its path now: ") };
                                        view! { <p class=format!("mt-1 font-medium {tone}") data-testid=format!("maintenance-{}", e.environment)>{lead} {e.maintenance_now.join("; ")}</p> }
                                    })}
                                    {e.blocks_during_critical_runs.then(|| view! { <p class="mt-1 text-slate-600 dark:text-slate-400">"Refused while a critical integration of the service runs"</p> })}
                                    {(!e.critical_runs_now.is_empty()).then(|| {
                                        let (tone, lead) = if e.blocks_during_critical_runs { ("text-rose-700 dark:text-rose-300", "Refused now — a critical integration runs: ") } else { ("text-amber-700 dark:text-amber-300", "A critical integration runs now: ") };
                                        view! { <p class=format!("mt-1 font-medium {tone}") data-testid=format!("critical-run-{}", e.environment)>{lead} {e.critical_runs_now.join("; ")}</p> }
                                    })}
                                    {e.in_flight.map(|d| view! { <p class="mt-1"><a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/deploys/{}", d.0)>"A deploy is in progress; a new one queues behind it"</a></p> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </Card>
            </div>
        </div>
    }
}
