//! One deploy: what, where, who and why, its transitions, and its log — live while it runs
//! (server-sent events with JavaScript; the page refreshes itself without).
use super::{state_tone, when};
use crate::ui::form::{returned_problems, Submit, ERROR};
use crate::deploys::api::{get_deploy_page, CancelDeploy, RollbackDeploy};
use crate::deploys::types::{DeployPage, DeployState, LogLine, TransitionView};
use crate::ui::{Badge, Card, ErrorBox, Loading};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

#[component]
pub fn DeployDetailPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").and_then(|s| Uuid::parse_str(&s).ok());
    let cancel = ServerAction::<CancelDeploy>::new();
    let page = Resource::new(
        move || (id(), cancel.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_deploy_page(id).await,
                None => Err(crate::error::AppError::NotFound("That deploy".into())),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <Loading rows=8/> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => {
                        let problems = query.with_untracked(returned_problems);
                        view! { <Deploy page=p cancel problems/> }.into_any()
                    }
                    Err(e) => view! { <Title text="Deploy"/><ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Deploy(page: DeployPage, cancel: ServerAction<CancelDeploy>, problems: Vec<crate::deploys::types::Problem>) -> impl IntoView {
    let DeployPage { deploy: d, log, can_cancel, rollback_to, compare_url: compare, held_by_freeze, last_transition_id, .. } = page;
    let id = d.id.0;
    let state = RwSignal::new(d.state);
    let progress = RwSignal::new(d.progress);
    let outcome = RwSignal::new(d.outcome.clone());
    let executor = RwSignal::new(d.executor.clone());
    let transitions = RwSignal::new(d.transitions.clone());
    let lines = RwSignal::new(log);
    let last_transition = RwSignal::new(last_transition_id);
    live(id, Live { state, executor, progress, outcome, transitions, lines, last_transition });
    let rollback = ServerAction::<RollbackDeploy>::new();
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(new_id)) = rollback.value().get() {
            navigate(&format!("/deploys/{}", new_id.0), Default::default());
        }
    });
    let action_error = move || {
        cancel.value().get().and_then(Result::err).or_else(|| rollback.value().get().and_then(Result::err))
            .map(|e| e.to_string())
            .or_else(|| problems.first().map(|p| p.message.clone()))
            .map(|m| view! { <p class=ERROR role="alert" data-testid="action-error">{m}</p> })
    };
    let title = format!("{} → {}", d.service_title, d.environment);
    let dt = "text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400";
    view! {
        <Title text=title.clone()/>
        // without JavaScript the page refreshes itself while the deploy is still going
        {(!d.state.is_final()).then(|| view! { <noscript inner_html="<meta http-equiv=\"refresh\" content=\"2\">"></noscript> })}
        <div class="mb-6 flex flex-wrap items-start justify-between gap-4">
            <div>
                <p class="font-mono text-xs text-slate-500">{format!("deploy {id}")}</p>
                <h1 class="text-2xl font-semibold tracking-tight">
                    <a class="hover:underline" href=format!("/deploys/service/{}", d.service)>{d.service_title.clone()}</a>
                    " → " {d.environment.clone()}
                </h1>
                <div class="mt-2 flex flex-wrap items-center gap-2">
                    <span class="font-mono text-sm" data-testid="deploy-version">{d.version.clone()}</span>
                    {move || {
                        let s = state.get();
                        view! { <span data-testid="deploy-state"><Badge tone=state_tone(s)>{s.label()}</Badge></span> }
                    }}
                    {d.rollback_of.map(|r| view! { <a class="text-xs text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/deploys/{}", r.0)>"a rollback"</a> })}
                </div>
            </div>
            <div class="flex flex-wrap items-start gap-2">
                {move || (can_cancel && state.get().is_cancellable()).then(|| view! {
                    <ActionForm action=cancel>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <button type="submit" class="h-9 rounded-lg bg-white px-3 text-sm font-medium text-rose-700 ring-1 ring-rose-300 hover:bg-rose-50 dark:bg-slate-900 dark:text-rose-300"
                            data-confirm="Cancel this deploy?">"Cancel deploy"</button>
                    </ActionForm>
                })}
                {rollback_to.clone().map(|to| view! {
                    <ActionForm action=rollback>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input type="hidden" name="idempotency_key" value=format!("rollback-{id}")/>
                        <Submit label=format!("Roll back to {to}")/>
                    </ActionForm>
                })}
            </div>
        </div>
        {action_error}
        {held_by_freeze.map(|w| {
            let note = format!("Waiting in the queue: {} is frozen for {w}. It starts when the window ends.", d.environment);
            move || (state.get() == DeployState::Queued).then(|| view! {
                <p class="mb-6 rounded-lg bg-sky-50 px-4 py-3 text-sm text-sky-900 ring-1 ring-sky-200 dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-900" role="status" data-testid="held-by-freeze">{note.clone()}</p>
            })
        })}
        {move || {
            let p = progress.get().unwrap_or(0);
            (state.get() == DeployState::Running || progress.get().is_some()).then(|| view! {
                <div class="mb-6 h-2 w-full rounded bg-slate-200 dark:bg-slate-800" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=p.to_string() data-testid="progress">
                    <div class="h-2 rounded bg-indigo-600" style=format!("width: {p}%")></div>
                </div>
            })
        }}
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
            <Card title="Details">
                <dl class="grid gap-3 p-4 text-sm">
                    <div><dt class=dt>"Requested by"</dt><dd>{d.requester.clone()} " · " {when(d.created_at)}</dd></div>
                    <div><dt class=dt>"Reason"</dt><dd data-testid="deploy-reason">{d.reason.clone()}</dd></div>
                    <div><dt class=dt>"Before"</dt><dd class="font-mono">{d.previous_version.clone().unwrap_or_else(|| "nothing deployed".into())}</dd></div>
                    {compare.map(|url| view! { <div><dt class=dt>"Changes"</dt><dd><a class="text-indigo-700 hover:underline dark:text-indigo-300" href=url rel="noopener noreferrer">"Compare versions"</a></dd></div> })}
                    {d.approval_id.map(|a| view! { <div><dt class=dt>"Approval"</dt><dd><a class="text-indigo-700 hover:underline dark:text-indigo-300" href=format!("/approvals/{}", a.0)>"The approval request"</a></dd></div> })}
                    {d.freeze_override.clone().map(|o| view! { <div><dt class=dt>"Freeze overridden"</dt><dd>{o}</dd></div> })}
                    <div><dt class=dt>"Executor"</dt><dd>{move || executor.get().unwrap_or_else(|| "chosen when it starts".into())} {(d.attempts > 1).then(|| format!(" · attempt {}", d.attempts))}</dd></div>
                    {move || outcome.get().map(|o| view! { <div><dt class=dt>"Outcome"</dt><dd data-testid="deploy-outcome">{o}</dd></div> })}
                </dl>
            </Card>
            <div class="lg:col-span-2 space-y-6">
                <Card title="Transitions">
                    <ol class="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="transitions">
                        <For each=move || transitions.get() key=|t: &TransitionView| (t.at, t.to.as_str()) let:t>
                            <li class="flex flex-wrap justify-between gap-2 px-4 py-2">
                                <span><Badge tone=state_tone(t.to)>{t.to.label()}</Badge> " " {t.note.clone()}</span>
                                <span class="text-slate-500">{t.actor.clone()} " · " {when(t.at)}</span>
                            </li>
                        </For>
                    </ol>
                </Card>
                <Card title="Log">
                    <pre class="max-h-[32rem] overflow-auto whitespace-pre-wrap bg-slate-950 p-4 font-mono text-xs leading-5 text-slate-100" data-testid="deploy-log" aria-live="polite">
                        {move || {
                            let l = lines.get();
                            if l.is_empty() { "No output yet.".to_owned() } else { l.iter().map(render_line).collect::<Vec<_>>().join("\n") }
                        }}
                    </pre>
                </Card>
            </div>
        </div>
    }
}

/// A log line with who wrote it: the program's own output (`stdout`, `stderr`), the CD system's
/// (`cd`) or Switchyard's. The label comes from where the line arrived, never from its text, so
/// a program cannot print a line that reads as Switchyard's.
fn render_line(l: &LogLine) -> String {
    let source = match l.stream.as_str() {
        "stdout" => "out",
        "stderr" => "err",
        "cd" => "cd ",
        _ => "sy ",
    };
    format!("{} {source} │ {}", l.at.format("%H:%M:%S"), l.line)
}

/// The parts of the page a live update changes.
#[derive(Clone, Copy)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Live {
    state: RwSignal<DeployState>,
    executor: RwSignal<Option<String>>,
    progress: RwSignal<Option<i16>>,
    outcome: RwSignal<Option<String>>,
    transitions: RwSignal<Vec<TransitionView>>,
    lines: RwSignal<Vec<LogLine>>,
    last_transition: RwSignal<i64>,
}

/// Follows the deploy's server-sent events until it ends (in the browser only).
#[allow(unused_variables)]
fn live(id: Uuid, live: Live) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let Live { state, executor, progress, outcome, transitions, lines, last_transition } = live;
        Effect::new(move |_| {
            if state.get_untracked().is_final() {
                return;
            }
            let after_log = lines.with_untracked(|l| l.last().map(|x| x.id).unwrap_or(0));
            let url = format!("/deploys/{id}/stream?after_transition={}&after_log={after_log}", last_transition.get_untracked());
            let Ok(source) = web_sys::EventSource::new(&url) else { return };
            let stored = StoredValue::new_local(source.clone());
            let on_update = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let Some(text) = ev.data().as_string() else { return };
                let Ok(u) = serde_json::from_str::<crate::deploys::types::DeployUpdate>(&text) else { return };
                if !u.transitions.is_empty() {
                    transitions.update(|t| t.extend(u.transitions));
                }
                if !u.log.is_empty() {
                    lines.update(|l| l.extend(u.log));
                }
                last_transition.set(u.last_transition);
                state.set(u.state);
                executor.set(u.executor);
                progress.set(u.progress);
                outcome.set(u.outcome);
                if u.state.is_final() {
                    stored.with_value(|s| s.close());
                }
            });
            let _ = source.add_event_listener_with_callback("update", on_update.as_ref().unchecked_ref());
            on_update.forget();
            on_cleanup(move || stored.with_value(|s| s.close()));
        });
    }
}
