//! Registering an integration (or claiming an unregistered job). The form checks each field as
//! it is typed with the same parse the server runs; without JavaScript it posts as a plain
//! form, and a refused post comes back here with everything typed still in place.
use crate::catalog::types::Classification;
use crate::error::AppError;
use crate::integrations::api::{get_edit_form, EditIntegration, RegisterIntegration};
use crate::integrations::types::{AuthMethod, DataFormat, FieldProblem, IntegrationForm, IntegrationLifecycle, Platform, Transport, Trigger};
use crate::ui::form::{returned_problems, Field, Submit, INPUT, TEXTAREA};
use crate::ui::{Card, ErrorBox, Loading, NotAllowed, PageHeader, NO_TEAM};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

#[component]
pub fn RegisterIntegrationPage() -> impl IntoView {
    let query = use_query_map();
    let (form, problems) = query.with_untracked(|q| {
        let mut form = IntegrationForm::default();
        for f in IntegrationForm::FIELDS {
            if let Some(v) = q.get(f) {
                form.set(f, &v);
            }
        }
        (form, returned_problems(q))
    });
    let claiming = !form.job_name.is_empty();
    let may_own = crate::ui::layout::CurrentUser::get().is_some_and(|m| m.may_own());
    view! {
        <Title text="Register an integration"/>
        <PageHeader
            title="Register an integration"
            subtitle="Confidential or PCI data, or a target outside the company, waits for an admin or a lead of the owning team (PCI: two)."/>
        {claiming.then(|| view! {
            <p class="mb-4 rounded-lg bg-indigo-50 p-3 text-sm text-indigo-900 dark:bg-indigo-950 dark:text-indigo-200" data-testid="claiming">
                "Claiming the job " <span class="font-mono">{format!("{}/{}", form.job_namespace, form.job_name)}</span> ": its runs so far become this integration's history."
            </p>
        })}
        {if may_own {
            view! { <IntegrationFormView form problems version=None/> }.into_any()
        } else {
            view! { <NotAllowed reason=NO_TEAM back="/integrations" back_label="Back to the integrations"/> }.into_any()
        }}
    }
}

/// The form's values and the server's problems, as a refused no-JS post left them in the URL.
fn typed(q: &leptos_router::params::ParamsMap) -> (IntegrationForm, Vec<FieldProblem>) {
    let mut form = IntegrationForm::default();
    for f in IntegrationForm::FIELDS {
        if let Some(v) = q.get(f) {
            form.set(f, &v);
        }
    }
    (form, returned_problems(q))
}

#[component]
pub fn EditIntegrationPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let data = Resource::new(name, get_edit_form);
    view! {
        <Title text="Edit integration"/>
        <PageHeader title="Edit integration" subtitle="Changes apply at once and show in its history; raising the data classification waits for approval."/>
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((stored, version)) => {
                        // a refused no-JS post comes back with what was typed: prefer it
                        let (typed, problems) = query.with_untracked(typed);
                        let form = if typed.name.is_empty() { stored } else { typed };
                        view! { <IntegrationFormView form problems version=Some(version)/> }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn IntegrationFormView(form: IntegrationForm, problems: Vec<FieldProblem>, version: Option<i32>) -> impl IntoView {
    let editing = version.is_some();
    let values = RwSignal::new(form);
    let touched = RwSignal::new(Vec::<String>::new());
    let server_problems = RwSignal::new(problems);
    let register = ServerAction::<RegisterIntegration>::new();
    let edit = ServerAction::<EditIntegration>::new();
    let answer = move || if editing { edit.value().get() } else { register.value().get() };
    let navigate = use_navigate();
    Effect::new(move |_| match answer() {
        Some(Ok(saved)) => navigate(&format!("{}?{}=1", saved.href, if editing { "saved" } else { "registered" }), Default::default()),
        Some(Err(AppError::InvalidFields(list))) => server_problems.set(list),
        Some(Err(AppError::Invalid { field, message })) => server_problems.set(vec![FieldProblem { field, message }]),
        _ => {}
    });
    let other_error = move || answer().and_then(Result::err).filter(|e| !matches!(e, AppError::Invalid { .. } | AppError::InvalidFields(_)));
    // the live check: the same parse the server runs, shown for fields already visited
    let live = Memo::new(move |_| values.with(IntegrationForm::parse).err().unwrap_or_default());
    let problem = move |field: &'static str| {
        move || {
            let t = touched.get();
            live.get()
                .into_iter()
                .filter(|p| p.field == field && t.iter().any(|f| f == field))
                .chain(server_problems.get().into_iter().filter(|p| p.field == field))
                .map(|p| p.message)
                .next()
        }
    };
    let on_input = move |field: &'static str| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            values.update(|f| {
                f.set(field, &v);
            });
            touched.update(|t| {
                if !t.iter().any(|f| f == field) {
                    t.push(field.to_owned());
                }
            });
            server_problems.update(|list| list.retain(|p| p.field != field));
        }
    };
    let initial = move |field: &str| values.with_untracked(|f| f.get(field).to_owned());
    let text = move |field: &'static str, label: &'static str, hint: &'static str, required: bool| {
        let id = format!("int-{field}");
        view! {
            <Field id=id.clone() label field required hint error=Signal::derive(problem(field))>
                <input id=id name=field value=initial(field) required=required readonly=editing && field == "name" class=INPUT on:input=on_input(field)
                    aria-invalid=move || problem(field)().is_some().then_some("true")/>
            </Field>
        }
    };
    let area = move |field: &'static str, label: &'static str, hint: &'static str| {
        let id = format!("int-{field}");
        view! {
            <Field id=id.clone() label field hint error=Signal::derive(problem(field))>
                <textarea id=id name=field rows="3" class=TEXTAREA on:input=on_input(field)>{initial(field)}</textarea>
            </Field>
        }
    };
    let select = move |field: &'static str, label: &'static str, options: Vec<(&'static str, &'static str)>, default: &'static str| {
        let id = format!("int-{field}");
        let now = Some(initial(field)).filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned());
        view! {
            <Field id=id.clone() label field required=default.is_empty() error=Signal::derive(problem(field))>
                <select id=id name=field class=INPUT on:change=on_input(field)>
                    {default.is_empty().then(|| view! { <option value="" selected=now.is_empty()>"Choose…"</option> })}
                    {options.into_iter().map(|(v, l)| view! { <option value=v selected=now == v>{l}</option> }).collect_view()}
                </select>
            </Field>
        }
    };
    let words = |all: Vec<(&'static str, &'static str)>| all;
    let fields = view! {
        <div class="grid gap-4 p-4 md:grid-cols-2">
            {text("name", "Name", "Lowercase letters, digits and hyphens, like sfdc-opportunities-to-netsuite.", true)}
            {text("title", "Title", "What people call it.", true)}
            <div class="md:col-span-2">{area("description", "Description", "What moves, why, and who relies on it.")}</div>
            {text("sources", "Source systems", "System names, separated by commas.", true)}
            {text("targets", "Target systems", "System names, separated by commas.", true)}
            {select("platform", "Platform", words(Platform::ALL.iter().map(|p| (p.as_str(), p.label())).collect()), "")}
            {text("platform_ref", "Platform reference", "The Boomi process id, Workato recipe id or Mule application.", false)}
            {select("trigger", "Trigger", words(Trigger::ALL.iter().map(|t| (t.as_str(), t.label())).collect()), "")}
            {text("schedule", "Schedule (cron)", "For a schedule: minute hour day month weekday, like 0 6 * * 1-5.", false)}
            {text("time_zone", "Time zone", "The schedule's, like Europe/London (UTC if empty).", false)}
            {select("data_format", "Data format", words(DataFormat::ALL.iter().map(|d| (d.as_str(), d.label())).collect()), "")}
            {select("transport", "Transport", words(Transport::ALL.iter().map(|t| (t.as_str(), t.label())).collect()), "")}
            {select("auth", "Auth", words(AuthMethod::ALL.iter().map(|a| (a.as_str(), a.label())).collect()), "")}
            {text("owner", "Owning team", "The team's name, like ledger.", true)}
            {text("co_owners", "Co-owning teams", "Separated by commas.", false)}
            {select("classification", "Data classification", words(Classification::ALL.iter().map(|c| (c.as_str(), c.label())).collect()), "internal")}
            {select("lifecycle", "Lifecycle", words(IntegrationLifecycle::ALL.iter().map(|l| (l.as_str(), l.label())).collect()), "development")}
            {text("runbook", "Runbook", "https://…", false)}
            {text("on_call", "On call", "The rota or pager, like ledger-oncall.", false)}
            {text("tags", "Tags", "Separated by commas.", false)}
            {text("grace_mins", "Grace (minutes)", "Late when no run started this long after its slot (15).", false)}
            {text("max_duration_mins", "Maximum duration (minutes)", "Missed when no run ended this long after its slot (60).", false)}
            {text("freshness_hours", "Freshness (hours)", "Late when no success for this long; empty for none.", false)}
            {text("success_target", "Success target (%)", "Share of runs that must succeed (99).", false)}
            {text("job_namespace", "OpenLineage job namespace", "switchyard if empty.", false)}
            {text("job_name", "OpenLineage job name", "The integration's name if empty.", false)}
            <div class="md:col-span-2">{area("reason", "Why (for the approver)", "Needed when the registration waits for approval.")}</div>
        </div>
    };
    let buttons = view! {
        <div class="flex items-center justify-end gap-3 border-t border-slate-200 p-4 dark:border-slate-800">
            {move || other_error().map(|e| view! { <div class="mr-auto"><ErrorBox error=e/></div> })}
            {move || server_problems.with(|p| !p.is_empty()).then(|| view! {
                <p class="mr-auto text-sm text-rose-700 dark:text-rose-300" role="alert" data-testid="form-problems">
                    {move || server_problems.get().into_iter().map(|p| format!("{}: {}", p.field.replace('_', " "), p.message)).collect::<Vec<_>>().join(" · ")}
                </p>
            })}
            <a href="/integrations" class="text-sm text-slate-600 hover:underline dark:text-slate-400">"Cancel"</a>
            <Submit label=if editing { "Save changes" } else { "Register integration" }/>
        </div>
    };
    match version {
        None => view! { <Card><ActionForm action=register attr:data-testid="integration-form">{fields}{buttons}</ActionForm></Card> }.into_any(),
        Some(v) => view! {
            <Card><ActionForm action=edit attr:data-testid="integration-form">
                <input type="hidden" name="version" value=v.to_string()/>
                {fields}{buttons}
            </ActionForm></Card>
        }.into_any(),
    }
}
