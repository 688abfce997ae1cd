//! Registering and editing a service. The form checks each field as it is typed with the same
//! parse the server runs; without JavaScript it posts as a plain form, and a refused post
//! comes back to this page with everything typed still in place.
use crate::catalog::api::{get_edit_form, search_entities, EditService, RegisterService};
use crate::catalog::draft::{ServiceDraft, ServiceForm};
use crate::catalog::types::{Classification, FieldProblem, Kind, Lifecycle};
use crate::error::AppError;
use crate::iam::api::list_teams;
use crate::iam::types::TeamDetail;
use crate::ui::form::{returned_problems, Field, Submit, INPUT, TEXTAREA};
use crate::ui::{Card, ErrorBox, Loading, NotAllowed, PageHeader, NO_TEAM};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

/// The form's values and the server's problems, as a refused no-JS post left them in the URL.
fn from_query(q: &leptos_router::params::ParamsMap) -> (ServiceForm, Vec<FieldProblem>) {
    let form = ServiceForm::from_pairs(ServiceForm::FIELDS.iter().filter_map(|f| q.get(f).map(|v| (*f, v))));
    (form, returned_problems(q))
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let query = use_query_map();
    let (form, problems) = query.with_untracked(from_query);
    let teams = Resource::new(|| (), |_| list_teams());
    let may_own = crate::ui::layout::CurrentUser::get().is_some_and(|m| m.may_own());
    view! {
        <Title text="Register a service"/>
        <PageHeader title="Register a service" subtitle="It shows as pending until an admin or a lead of the owning team approves it (tier 0 needs two)."/>
        {if !may_own {
            view! { <NotAllowed reason=NO_TEAM back="/catalog" back_label="Back to the catalog"/> }.into_any()
        } else {
        view! {
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || {
                let form = form.clone();
                let problems = problems.clone();
                Suspend::new(async move {
                    match teams.await {
                        Ok(teams) => view! { <ServiceFormView form problems teams version=None/> }.into_any(),
                        Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
        }.into_any()
        }}
    }
}

#[component]
pub fn EditPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let data = Resource::new(name, |n| async move { Ok::<_, AppError>((get_edit_form(n).await?, list_teams().await?)) });
    view! {
        <Title text="Edit service"/>
        <PageHeader title="Edit service" subtitle="Changes apply at once and show in the history; a new owner or tier waits for approval."/>
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(((stored, version), teams)) => {
                        // a refused no-JS post comes back with what was typed: prefer it
                        let (typed, problems) = query.with_untracked(from_query);
                        let form = if typed.name.is_empty() { stored } else { typed };
                        view! { <ServiceFormView form problems teams version=Some(version)/> }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}


/// The form itself, for a new service (`version` none) or an edit.
#[component]
fn ServiceFormView(form: ServiceForm, problems: Vec<FieldProblem>, teams: Vec<TeamDetail>, version: Option<i32>) -> impl IntoView {
    let values = RwSignal::new(form.clone());
    let touched = RwSignal::new(Vec::<String>::new());
    let server_problems = RwSignal::new(problems);
    let register = ServerAction::<RegisterService>::new();
    let edit = ServerAction::<EditService>::new();
    let navigate = use_navigate();
    let editing = version.is_some();
    // after a successful post (with JS), go to the entity page
    Effect::new(move |_| {
        let done = if editing { edit.value().get() } else { register.value().get() };
        match done {
            Some(Ok(saved)) => navigate(&format!("{}?{}=1", saved.href, if editing { "saved" } else { "registered" }), Default::default()),
            Some(Err(AppError::InvalidFields(list))) => server_problems.set(list),
            Some(Err(AppError::Invalid { field, message })) => server_problems.set(vec![FieldProblem { field, message }]),
            _ => {}
        }
    });
    let other_error = move || {
        let v = if editing { edit.value().get() } else { register.value().get() };
        v.and_then(Result::err).filter(|e| !matches!(e, AppError::Invalid { .. } | AppError::InvalidFields(_)))
    };
    // the live check: the same parse the server runs, shown for fields already visited
    let live = Memo::new(move |_| ServiceDraft::parse(&values.get()).err().unwrap_or_default());
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
            values.update(|f| f.set(field, v));
            touched.update(|t| {
                if !t.iter().any(|f| f == field) {
                    t.push(field.to_owned());
                }
            });
            server_problems.update(|list| list.retain(|p| p.field != field));
        }
    };
    let text = move |field: &'static str, label: &'static str, hint: &'static str, required: bool| {
        let id = format!("svc-{field}");
        let initial = form_value(values, field);
        view! {
            <Field id=id.clone() label field required hint error=Signal::derive(problem(field))>
                <input id=id name=field value=initial required=required readonly=editing && field == "name"
                    class=INPUT on:input=on_input(field)
                    aria-invalid=move || problem(field)().is_some().then_some("true")/>
            </Field>
        }
    };
    let area = move |field: &'static str, label: &'static str, hint: &'static str| {
        let id = format!("svc-{field}");
        let initial = form_value(values, field);
        view! {
            <Field id=id.clone() label field hint error=Signal::derive(problem(field))>
                <textarea id=id name=field rows="3" class=TEXTAREA
                    on:input=on_input(field) prop:value=move || values.with(|f| f.get(field).to_owned())>{initial}</textarea>
            </Field>
        }
    };
    let select = move |field: &'static str, label: &'static str, mut options: Vec<(String, String)>| {
        let id = format!("svc-{field}");
        let initial = form_value(values, field);
        // an imported entity's own value (a `worker` type, a person as owner) stays a choice
        if !initial.is_empty() && !options.iter().any(|(v, _)| *v == initial) {
            options.push((initial.clone(), format!("{initial} (as it is now)")));
        }
        view! {
            <Field id=id.clone() label field required=true error=Signal::derive(problem(field))>
                <select id=id name=field required class=INPUT on:change=on_input(field)>
                    <option value="" selected=initial.is_empty()>"Choose…"</option>
                    {options.into_iter().map(|(v, l)| {
                        let selected = v == initial;
                        view! { <option value=v selected=selected>{l}</option> }
                    }).collect_view()}
                </select>
            </Field>
        }
    };
    let team_options: Vec<(String, String)> = teams.iter().map(|t| (t.slug.clone(), format!("{} ({})", t.name, t.slug))).collect();
    let types = Kind::Component.types().unwrap_or_default().iter().map(|t| ((*t).to_owned(), (*t).to_owned())).collect();
    let lifecycles = Lifecycle::WELL_KNOWN
        .into_iter()
        .map(|l| (l.as_str().to_owned(), l.as_str().to_owned()))
        .collect();
    let tiers = (0..=3).map(|t| (t.to_string(), format!("Tier {t}{}", ["  — money stops if it stops", " — critical", "", " — best effort"][t]))).collect();
    let classes = Classification::ALL.into_iter().map(|c| (c.as_str().to_owned(), c.label().to_owned())).collect();
    let fields = view! {
        <div class="grid gap-4 p-4 md:grid-cols-2">
            {text("name", "Name", "Lowercase letters, digits and hyphens, like card-vault. Cannot change later.", true)}
            {text("title", "Title", "What people call it, like Card Vault.", true)}
            <div class="md:col-span-2">{area("description", "Description", "One or two sentences: what it does, for whom.")}</div>
            {select("entity_type", "Type", types)}
            {select("owner", "Owning team", team_options)}
            {select("lifecycle", "Lifecycle", lifecycles)}
            {select("tier", "Tier", tiers)}
            {select("classification", "Data classification", classes)}
            {text("language", "Language", "", false)}
            {text("co_owners", "Co-owning teams", "Team names, separated by commas.", false)}
            {text("system", "System", "The system it is part of, like payments-platform.", false)}
            {text("repository_url", "Repository", "https://…", false)}
            {text("runbook_url", "Runbook", "https://…", false)}
            {text("oncall_url", "On-call rota", "https://…", false)}
            {text("tags", "Tags", "Separated by commas, like pci, cards.", false)}
            {text("sites", "Runs at (sites)", "Network sites, separated by commas, like fra1, iad1: a service that runs only at a lost site is in that failure's blast radius.", false)}
            <div class="md:col-span-2">{area("dashboards", "Dashboards", "Grafana links, one per line.")}</div>
            <div class="md:col-span-2">
                {area("depends_on", "Depends on", "Service names, separated by commas (resource:payments-db for a resource).")}
                <DependencyPicker values/>
            </div>
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
            <a href="/catalog" class="text-sm text-slate-600 hover:underline dark:text-slate-400">"Cancel"</a>
            <Submit label=if editing { "Save changes" } else { "Register service" }/>
        </div>
    };
    match version {
        None => view! {
            <Card><ActionForm action=register attr:data-testid="service-form">{fields}{buttons}</ActionForm></Card>
        }.into_any(),
        Some(v) => view! {
            <Card><ActionForm action=edit attr:data-testid="service-form">
                <input type="hidden" name="version" value=v.to_string()/>
                {fields}{buttons}
            </ActionForm></Card>
        }.into_any(),
    }
}

fn form_value(values: RwSignal<ServiceForm>, field: &str) -> String {
    values.with_untracked(|f| f.get(field).to_owned())
}

/// Finds services by name or title and adds them to "Depends on" (JavaScript only; without it
/// the names are typed).
#[component]
fn DependencyPicker(values: RwSignal<ServiceForm>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let results = Resource::new(move || text.get(), |t| async move {
        if t.trim().len() < 2 { Ok(Vec::new()) } else { search_entities(t).await }
    });
    view! {
        <div class="mt-2 hidden rounded-lg border border-dashed border-slate-300 p-2 dark:border-slate-700 js-only" data-testid="dependency-picker">
            <label for="dep-search" class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Find a dependency"</label>
            <input id="dep-search" type="search" autocomplete="off" placeholder="type part of a name"
                class="mt-1 h-8 w-full rounded-md border border-slate-300 px-2 text-sm dark:border-slate-700 dark:bg-slate-800"
                on:input=move |ev| text.set(event_target_value(&ev))/>
            <Transition fallback=|| ()>
                <ul class="mt-1 space-y-1 text-sm">
                    {move || results.get().and_then(Result::ok).unwrap_or_default().into_iter()
                        .filter(|e| matches!(e.kind, Kind::Component | Kind::Resource))
                        .map(|e| {
                            let r = e.entity_ref();
                            let token = if r.kind == "component" { r.name.clone() } else { format!("{}:{}", r.kind, r.name) };
                            let add = token.clone();
                            view! {
                                <li class="flex items-center justify-between gap-2">
                                    <span>{e.title}" "<span class="font-mono text-xs text-slate-500">{token}</span></span>
                                    <button type="button" class="rounded px-2 py-0.5 text-xs ring-1 ring-slate-300 hover:bg-slate-100 dark:ring-slate-600 dark:hover:bg-slate-800"
                                        on:click=move |_| values.update(|f| {
                                            let mut list: Vec<String> = f.depends_on.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
                                            if !list.contains(&add) { list.push(add.clone()); }
                                            f.depends_on = list.join(", ");
                                        })>"Add"</button>
                                </li>
                            }
                        }).collect_view()}
                </ul>
            </Transition>
        </div>
    }
}
