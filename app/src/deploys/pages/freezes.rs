//! The freeze calendar: the next four weeks, each day with the environments frozen in it, and
//! every window; admins add and end windows here.
use crate::ui::form::{problem_of, returned_problems, Field, FieldError, Submit, INPUT, LABEL};
use crate::deploys::api::{get_calendar, Calendar, CreateFreeze, DeleteFreeze, SetEnvironmentPolicies, CALENDAR_DAYS};
use crate::deploys::types::EnvironmentPolicies;
use crate::deploys::types::{FreezeView, Problem};
use crate::topology::types::MaintenanceWindow;
use crate::ui::icons::Icon;
use crate::ui::{Badge, Card, EmptyState, ErrorBox, Loading, PageHeader, Tone};
use chrono::{Duration, NaiveDate};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn FreezeCalendarPage() -> impl IntoView {
    let create = ServerAction::<CreateFreeze>::new();
    let delete = ServerAction::<DeleteFreeze>::new();
    let policies = ServerAction::<SetEnvironmentPolicies>::new();
    let data = Resource::new(move || (create.version().get(), delete.version().get(), policies.version().get()), |_| get_calendar());
    let query = use_query_map();
    view! {
        <Title text="Freeze calendar"/>
        <PageHeader title="Freeze calendar" subtitle="Deploys that would start inside a freeze window are refused, with the window named; an admin may override with a reason. The network's maintenance windows are on it too (amber)."/>
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(c) => {
                        let problems = query.with_untracked(returned_problems);
                        let typed = query.with_untracked(|q| {
                            ["environment", "reason", "kind", "starts_at", "ends_at", "schedule", "duration_mins"].map(|k| q.get(k).unwrap_or_default())
                        });
                        let set = c.policies.clone();
                        let admin = c.is_admin;
                        view! { <CalendarView c create delete problems typed/> <Policies policies=set is_admin=admin action=policies/> }.into_any()
                    }
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Each environment's policies for maintenance on a service's network path and for a critical
/// integration's run of it; admins change them here.
#[component]
fn Policies(policies: Vec<EnvironmentPolicies>, is_admin: bool, action: ServerAction<SetEnvironmentPolicies>) -> impl IntoView {
    let said = |p: &str| if p == "block" { ("refused", Tone::Bad) } else { ("warned", Tone::Warn) };
    let select = |name: &'static str, id: String, current: String| {
        view! {
            <select id=id name=name class="h-8 rounded-lg border border-slate-300 bg-white px-2 text-sm dark:border-slate-700 dark:bg-slate-800">
                <option value="warn" selected=current == "warn">"warn"</option>
                <option value="block" selected=current == "block">"block (refuse)"</option>
            </select>
        }
    };
    view! {
        <div class="mt-6">
            <Card title="Policies per environment">
                <p class="px-4 pt-3 text-sm text-slate-600 dark:text-slate-400">
                    "A deploy of a service while maintenance is under way on its network path, or while a critical integration of it runs (PCI, or an end that is tier 0 or 1): warned on the form and the approval card, or refused with what is under way named, unless an admin overrides with a reason."
                </p>
                <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="environment-policies">
                    {policies.into_iter().map(|p| {
                        let (m, mt) = said(&p.maintenance_policy);
                        let (c, ct) = said(&p.critical_run_policy);
                        let env = p.environment.clone();
                        let marked = p.environment.clone();
                        view! {
                            <li class="flex flex-wrap items-center justify-between gap-3 p-4" data-environment=marked>
                                <div>
                                    <span class="font-medium">{p.title.clone()}</span>
                                    <span class="ml-2">"During maintenance: "<Badge tone=mt>{m}</Badge></span>
                                    <span class="ml-2">"During a critical run: "<Badge tone=ct>{c}</Badge></span>
                                </div>
                                {is_admin.then(|| view! {
                                    <ActionForm action=action attr:class="flex flex-wrap items-center gap-2">
                                        <input type="hidden" name="environment" value=env.clone()/>
                                        <label class="sr-only" for=format!("pol-m-{env}")>{format!("{}: during maintenance", p.title)}</label>
                                        {select("maintenance_policy", format!("pol-m-{env}"), p.maintenance_policy.clone())}
                                        <label class="sr-only" for=format!("pol-c-{env}")>{format!("{}: during a critical run", p.title)}</label>
                                        {select("critical_run_policy", format!("pol-c-{env}"), p.critical_run_policy.clone())}
                                        <button type="submit" class="h-8 rounded-lg px-3 text-xs font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Save"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Card>
        </div>
    }
}

/// The network's maintenance windows open at some time on `day` (UTC).
fn maintenance_on(windows: &[MaintenanceWindow], day: NaiveDate) -> Vec<MaintenanceWindow> {
    let (Some(start), Some(end)) = (day.and_hms_opt(0, 0, 0), (day + Duration::days(1)).and_hms_opt(0, 0, 0)) else { return Vec::new() };
    let (start, end) = (start.and_utc(), end.and_utc());
    windows.iter().filter(|w| w.starts_at < end && w.ends_at > start).cloned().collect()
}

/// The page of what a window is on.
fn subject_href(m: &MaintenanceWindow) -> String {
    use crate::topology::pages::{circuit_href, device_href, site_href};
    match (m.subject_kind.as_str(), &m.circuit) {
        ("circuit", Some(c)) => circuit_href(&c.provider, &c.cid),
        ("device", _) => device_href(&m.subject),
        _ => site_href(&m.subject),
    }
}

/// Environments frozen at some time on `day` (UTC).
fn frozen_on(windows: &[FreezeView], day: NaiveDate) -> Vec<(String, String)> {
    let (Some(start), Some(end)) = (day.and_hms_opt(0, 0, 0), (day + Duration::days(1)).and_hms_opt(0, 0, 0)) else { return Vec::new() };
    let (start, end) = (start.and_utc(), end.and_utc());
    let mut out: Vec<(String, String)> = windows
        .iter()
        .filter(|w| w.occurrences.iter().any(|(s, e)| *s < end && *e > start))
        .map(|w| (w.environment.clone(), w.reason.clone()))
        .collect();
    out.dedup();
    out
}

#[component]
fn CalendarView(
    c: Calendar,
    create: ServerAction<CreateFreeze>,
    delete: ServerAction<DeleteFreeze>,
    problems: Vec<Problem>,
    typed: [String; 7],
) -> impl IntoView {
    let Calendar { windows, maintenance, environments, is_admin, today, .. } = c;
    // each day with the environments frozen in it and the network's work, worked out before the
    // view takes `windows`
    let cells: Vec<(NaiveDate, Vec<(String, String)>, Vec<MaintenanceWindow>)> = (0..CALENDAR_DAYS)
        .map(|i| today + Duration::days(i))
        .map(|day| (day, frozen_on(&windows, day), maintenance_on(&maintenance, day)))
        .collect();
    let server_problems = RwSignal::new(problems);
    Effect::new(move |_| match create.value().get() {
        Some(Err(e)) => server_problems.set(e.problems()),
        Some(Ok(_)) => server_problems.set(Vec::new()),
        None => {}
    });
    let problem = move |field: &'static str| view! { <FieldError field problems=server_problems/> };
    let [env0, reason0, kind0, starts0, ends0, schedule0, duration0] = typed;
    let recurring0 = kind0 == "recurring";
    view! {
        <Card title="Next four weeks (UTC)">
            <div class="grid grid-cols-7 gap-px bg-slate-200 text-xs dark:bg-slate-800" data-testid="calendar">
                {cells.into_iter().map(|(day, frozen, work)| {
                    let label = day.format("%a %d %b").to_string();
                    let class = format!("min-h-20 p-2 {}", if frozen.is_empty() { "bg-white dark:bg-slate-900" } else { "bg-rose-50 dark:bg-rose-950/40" });
                    view! {
                        <div class=class data-testid=format!("day-{}", day.format("%Y-%m-%d"))>
                            <div class="font-medium text-slate-600 dark:text-slate-400">{label}</div>
                            {frozen.into_iter().map(|(env, reason)| {
                                let (text, title) = (format!("{env}: {reason}"), reason);
                                view! { <div class="mt-1 truncate rounded bg-rose-600 px-1 text-white" title=title>{text}</div> }
                            }).collect_view()}
                            {work.into_iter().map(|m| {
                                let text = format!("{}: {}", m.subject, m.title);
                                let href = subject_href(&m);
                                view! { <a class="mt-1 block truncate rounded bg-amber-500 px-1 text-amber-950 hover:underline" href=href title=text.clone() data-testid="calendar-maintenance">{text.clone()}</a> }
                            }).collect_view()}
                        </div>
                    }
                }).collect_view()}
            </div>
        </Card>
        <div class="mt-6 grid gap-6 lg:grid-cols-2">
            <Card title="Windows">
                {if windows.is_empty() {
                    view! { <EmptyState icon=Icon::Deploys title="No freeze windows">"Nothing stops a deploy in the coming weeks."</EmptyState> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="freeze-list">
                            {windows.iter().cloned().map(|w| {
                                let when = match (&w.schedule, w.ends_at, w.duration_mins) {
                                    (Some(s), _, Some(m)) => format!("every \"{s}\" for {m} min, from {}", w.starts_at.format("%Y-%m-%d")),
                                    (_, Some(end), _) => format!("{} → {}", w.starts_at.format("%Y-%m-%d %H:%M"), end.format("%Y-%m-%d %H:%M UTC")),
                                    _ => String::new(),
                                };
                                let id = w.id.0.to_string();
                                view! {
                                    <li class="flex flex-wrap items-start justify-between gap-2 p-4">
                                        <div>
                                            <div class="flex items-center gap-2">
                                                <span class="font-medium">{w.reason.clone()}</span>
                                                <Badge tone=Tone::Neutral>{w.environment.clone()}</Badge>
                                                {w.active_now.then(|| view! { <Badge tone=Tone::Bad>"active now"</Badge> })}
                                            </div>
                                            <p class="mt-1 text-slate-600 dark:text-slate-400">{when} " · by " {w.created_by.clone()}</p>
                                        </div>
                                        {is_admin.then(|| view! {
                                            <ActionForm action=delete>
                                                <input type="hidden" name="id" value=id.clone()/>
                                                <button type="submit" class="h-8 rounded-lg px-2 text-xs font-medium text-rose-700 ring-1 ring-rose-300 hover:bg-rose-50 dark:text-rose-300"
                                                    data-confirm="End this freeze window?">"End window"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            <Card title="Network maintenance">
                {if maintenance.is_empty() {
                    view! { <EmptyState icon=Icon::Topology title="No network maintenance">"No planned work or carrier notice in the coming weeks."</EmptyState> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="maintenance-calendar-list">
                            {maintenance.iter().map(|m| {
                                let notice = m.kind == "carrier_notice";
                                view! {
                                    <li class="p-4">
                                        <div class="flex flex-wrap items-center gap-2">
                                            <a class="font-medium text-indigo-700 hover:underline dark:text-indigo-300" href=subject_href(m)>{m.subject.clone()}</a>
                                            <Badge tone=if notice { Tone::Warn } else { Tone::Neutral }>{if notice { "carrier notice" } else { "planned" }}</Badge>
                                        </div>
                                        <p class="mt-1">{m.title.clone()}</p>
                                        <p class="mt-1 text-slate-600 dark:text-slate-400">
                                            {format!("{} → {}{}", m.starts_at.format("%Y-%m-%d %H:%M"), m.ends_at.format("%Y-%m-%d %H:%M UTC"), m.reference.as_ref().map(|r| format!(" · {r}")).unwrap_or_default())}
                                        </p>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
            {is_admin.then(|| view! {
                <Card title="Add a freeze window">
                    <ActionForm action=create attr:class="space-y-3 p-4" attr:data-testid="freeze-form">
                        {problem("form")}
                        <Field id="fz-env" label="Environment" field="environment" required=true error=problem_of("environment", server_problems)>
                            <select id="fz-env" name="environment" class=INPUT>
                                {environments.iter().map(|(name, title)| view! { <option value=name.clone() selected=*name == env0>{title.clone()}</option> }).collect_view()}
                            </select>
                        </Field>
                        <Field id="fz-reason" label="Reason" field="reason" required=true error=problem_of("reason", server_problems)>
                            <input id="fz-reason" name="reason" value=reason0 maxlength="500" class=INPUT placeholder="Month-end close"/>
                        </Field>
                        <fieldset class="text-sm">
                            <legend class=LABEL>"Kind"</legend>
                            <label class="mr-4"><input type="radio" name="kind" value="once" checked=!recurring0/>" One-off"</label>
                            <label><input type="radio" name="kind" value="recurring" checked=recurring0/>" Recurring"</label>
                        </fieldset>
                        <div class="grid grid-cols-1 gap-3 sm:grid-cols-2">
                            <Field id="fz-start" label="Starts (UTC, required)" field="starts_at" error=problem_of("starts_at", server_problems)>
                                <input id="fz-start" type="datetime-local" name="starts_at" value=starts0 class=INPUT/>
                            </Field>
                            <Field id="fz-end" label="Ends (UTC, one-off)" field="ends_at" error=problem_of("ends_at", server_problems)>
                                <input id="fz-end" type="datetime-local" name="ends_at" value=ends0 class=INPUT/>
                            </Field>
                            <Field id="fz-schedule" label="Schedule (cron, recurring)" field="schedule" error=problem_of("schedule", server_problems)>
                                <input id="fz-schedule" name="schedule" value=schedule0 class=INPUT placeholder="0 0 18 * * Fri"/>
                            </Field>
                            <Field id="fz-duration" label="Duration in minutes (recurring)" field="duration_mins" error=problem_of("duration_mins", server_problems)>
                                <input id="fz-duration" name="duration_mins" value=duration0 inputmode="numeric" class=INPUT placeholder="3720"/>
                            </Field>
                        </div>
                        <Submit label="Add window"/>
                    </ActionForm>
                </Card>
            })}
        </div>
    }
}
