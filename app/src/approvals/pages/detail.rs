use super::card::{state_tone, DecisionError, DecisionForm};
use crate::approvals::api::{get_approval, DecideApproval};
use crate::approvals::types::{ApprovalView, Verdict};
use crate::audit::api::subject_history;
use crate::audit::pages::AuditTable;
use crate::audit::types::AuditEntry;
use crate::ui::{Badge, Card, ErrorBox, Loading, PageHeader, Tone};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

/// One request: the full subject, the policy and its progress, every decision, and the form.
#[component]
pub fn ApprovalPage() -> impl IntoView {
    let params = use_params_map();
    let query = leptos_router::hooks::use_query_map();
    let decided = move || query.read().get("decided").is_some();
    let decide = ServerAction::<DecideApproval>::new();
    let approval = Resource::new(
        move || (params.read().get("id"), decide.version().get()),
        |(id, _)| async move {
            let id = id.and_then(|s| Uuid::parse_str(&s).ok()).ok_or_else(|| crate::error::AppError::NotFound("That approval request".into()))?;
            // one resource for both, under one Suspense (see AccessPanels)
            let view = get_approval(id).await?;
            let history = subject_history("approval".into(), id.to_string()).await?;
            Ok((view, history))
        },
    );
    view! {
        <Title text="Approval request"/>
        <PageHeader title="Approval request"/>
        <DecisionError decide/>
        <Suspense fallback=|| view! { <Loading rows=4/> }>
            {move || Suspend::new(async move {
                match approval.await {
                    Ok((v, history)) => {
                        // a decision posted without JavaScript lands here, and is confirmed
                        let done = (decided() && decide.value().get_untracked().is_none()).then(|| super::card::decision_note(&v));
                        view! { {done.map(|note| view! { <super::card::DecisionDone note/> })} <Detail view=v history decide/> }.into_any()
                    }
                    Err(e) => {
                        #[cfg(feature = "ssr")]
                        let e = crate::context::respond(e);
                        view! { <ErrorBox error=e/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Detail(view: ApprovalView, history: Vec<AuditEntry>, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let dt = "text-slate-500 dark:text-slate-400";
    let progress = view.progress();
    let approvers = view.approvers_text();
    let subject = format!("{} {} — {}", view.subject_kind, view.subject_id, view.action);
    let id = view.id.0.to_string();
    let ApprovalView { summary, reason, requester, created_at, payload, decisions, can_decide, state, expires_at, preflight, .. } = view;
    let decisions = if decisions.is_empty() {
        view! { <p class="p-4 text-sm text-slate-600 dark:text-slate-400">"No decision yet."</p> }.into_any()
    } else {
        view! {
            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="decisions">
                {decisions.into_iter().map(|d| view! {
                    <li class="px-4 py-3 text-sm">
                        <Badge tone=if d.verdict == Verdict::Approve { Tone::Good } else { Tone::Bad }>{d.verdict.as_str()}</Badge>
                        <span class="ml-2 font-medium">{d.approver}</span>
                        <span class="ml-2 text-slate-500">{d.decided_at.format("%Y-%m-%d %H:%M UTC").to_string()}</span>
                        <p class="mt-1">{d.comment}</p>
                    </li>
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <div class="grid grid-cols-1 gap-6 lg:grid-cols-3">
            <div class="space-y-6 lg:col-span-2">
                <Card title="What is asked">
                    <div class="p-4">
                        <p class="text-lg font-medium" data-testid="summary">{summary}</p>
                        <p class="mt-2 text-sm">"“" {reason} "”"</p>
                        <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">"Asked by " {requester} " on " {created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</p>
                        {(!preflight.is_empty()).then(|| view! { <super::card::Preflight groups=preflight/> })}
                        <h3 class="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">"Subject"</h3>
                        <p class="mt-1 font-mono text-xs">{subject}</p>
                        <pre class="mt-2 overflow-x-auto rounded-lg bg-slate-100 p-3 text-xs dark:bg-slate-800">{payload}</pre>
                    </div>
                </Card>
                <Card title="Decisions">
                    {decisions}
                    {can_decide.then(|| view! { <div class="border-t border-slate-200 p-4 dark:border-slate-800"><DecisionForm id decide/></div> })}
                </Card>
            </div>
            <div class="lg:col-span-3 lg:order-last">
                <Card title="History"><AuditTable entries=history/></Card>
            </div>
            <Card title="Policy">
                <dl class="grid grid-cols-[7rem_1fr] gap-x-3 gap-y-2 p-4 text-sm">
                    <dt class=dt>"State"</dt><dd><Badge tone=state_tone(state)>{state.as_str()}</Badge></dd>
                    <dt class=dt>"Progress"</dt><dd data-testid="progress">{progress}</dd>
                    <dt class=dt>"Who decides"</dt><dd>{approvers}</dd>
                    <dt class=dt>"Expires"</dt><dd>{expires_at.format("%Y-%m-%d %H:%M UTC").to_string()}</dd>
                    <dt class=dt>"Rules"</dt><dd>"The requester never decides; each person counts once; one rejection ends it."</dd>
                </dl>
            </Card>
        </div>
    }
}
