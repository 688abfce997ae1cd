use crate::approvals::api::DecideApproval;
use crate::approvals::types::{ApprovalState, ApprovalView, Fact, FactGroup};
use crate::ui::{Badge, ErrorBox, Tone};
use leptos::prelude::*;
use leptos_router::components::A;

pub fn state_tone(s: ApprovalState) -> Tone {
    match s {
        ApprovalState::Pending => Tone::Info,
        ApprovalState::Approved => Tone::Good,
        ApprovalState::Rejected => Tone::Bad,
        ApprovalState::Expired | ApprovalState::Cancelled => Tone::Neutral,
    }
}

/// One request in a list: what, who, why, progress, and the decision form when the viewer may decide.
#[component]
pub fn ApprovalCard(view: ApprovalView, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let href = format!("/approvals/{}", view.id.0);
    let id = view.id.0.to_string();
    let progress = view.progress();
    let ApprovalView { summary, requester, created_at, reason, state, can_decide, facts, subject_kind, preflight, .. } = view;
    view! {
        <li class="p-4" data-testid="approval">
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <A href=href attr:class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{summary}</A>
                    <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                        "Asked by " <span class="font-medium">{requester}</span>
                        " · " {created_at.format("%Y-%m-%d %H:%M UTC").to_string()}
                    </p>
                    <p class="mt-1 text-sm">"“" {reason} "”"</p>
                    {(!facts.is_empty()).then(|| view! { <Facts kind=subject_kind facts/> })}
                    {(!preflight.is_empty()).then(|| view! { <Preflight groups=preflight/> })}
                </div>
                <div class="flex items-center gap-2 text-sm">
                    <span class="tabular-nums text-slate-600 dark:text-slate-400" data-testid="progress">{progress}</span>
                    <Badge tone=state_tone(state)>{state.as_str()}</Badge>
                </div>
            </div>
            {can_decide.then(|| view! { <DecisionForm id decide/> })}
        </li>
    }
}

/// Approve or reject with a comment. Works without JavaScript (a plain form POST).
#[component]
pub fn DecisionForm(id: String, decide: ServerAction<DecideApproval>) -> impl IntoView {
    let field = format!("comment-{id}");
    view! {
        <ActionForm action=decide attr:class="mt-3 flex flex-wrap items-end gap-2">
            <input type="hidden" name="id" value=id.clone()/>
            <div class="min-w-64 flex-1">
                <label for=field.clone() class="block text-xs font-medium text-slate-600 dark:text-slate-400">"Comment (required)"</label>
                <input id=field name="comment" required maxlength="2000" class="mt-1 h-9 w-full rounded-lg border border-slate-300 px-3 text-sm dark:border-slate-700 dark:bg-slate-800"/>
            </div>
            <button type="submit" name="verdict" value="approve" class="h-9 rounded-lg bg-emerald-600 px-3 text-sm font-medium text-white hover:bg-emerald-500">"Approve"</button>
            <button type="submit" name="verdict" value="reject" class="h-9 rounded-lg bg-white px-3 text-sm font-medium text-rose-700 ring-1 ring-rose-300 hover:bg-rose-50 dark:bg-slate-900 dark:text-rose-300">"Reject"</button>
        </ActionForm>
    }
}

/// What the viewer's decision on `v` did, in a sentence: "You approved “…”. It is approved and
/// goes ahead."
pub fn decision_note(v: &ApprovalView) -> String {
    let me = crate::ui::layout::CurrentUser::get().map(|m| m.username).unwrap_or_default();
    let verb = match v.decisions.iter().rev().find(|d| d.approver == me).map(|d| d.verdict) {
        Some(crate::approvals::types::Verdict::Approve) => "approved",
        Some(crate::approvals::types::Verdict::Reject) => "rejected",
        None => "decided on",
    };
    let state = match v.state {
        ApprovalState::Pending => format!("It waits for more: {}.", v.progress()),
        ApprovalState::Approved => "It is approved and goes ahead.".to_owned(),
        ApprovalState::Rejected => "It is rejected and will not go ahead.".to_owned(),
        ApprovalState::Expired | ApprovalState::Cancelled => format!("It is {}.", v.state.as_str()),
    };
    format!("You {verb} “{}”. {state}", v.summary)
}

/// A decision confirmed.
#[component]
pub fn DecisionDone(note: String) -> impl IntoView {
    view! {
        <p role="status" data-testid="decision-done" class="mb-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200">{note}</p>
    }
}

/// The last decision: what it did when it went through (so a decision never vanishes without
/// a word), its error when it failed.
#[component]
pub fn DecisionError(decide: ServerAction<DecideApproval>) -> impl IntoView {
    move || {
        decide.value().get().map(|result| match result {
            Ok(v) => view! { <DecisionDone note=decision_note(&v)/> }.into_any(),
            Err(e) => view! { <div class="mb-4"><ErrorBox error=e/></div> }.into_any(),
        })
    }
}

/// What the subject checked for an approver while the request waits (a production deploy's
/// pre-flight card): groups of findings, each linking to its page, warnings marked.
#[component]
pub fn Preflight(groups: Vec<FactGroup>) -> impl IntoView {
    let link = "font-medium text-indigo-700 hover:underline dark:text-indigo-300";
    view! {
        <section class="mt-3 rounded-lg border border-slate-200 dark:border-slate-800" data-testid="preflight" aria-label="Pre-flight checks">
            <h3 class="border-b border-slate-200 px-3 py-2 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:border-slate-800">"Pre-flight"</h3>
            <div class="divide-y divide-slate-200 dark:divide-slate-800">
                {groups.into_iter().map(|g| {
                    let warnings = g.facts.iter().filter(|f| f.warn).count();
                    view! {
                        <div class="px-3 py-2" data-testid="preflight-group" data-group=g.title.clone()>
                            <h4 class="flex items-center gap-2 text-xs font-medium text-slate-600 dark:text-slate-400">
                                {g.title.clone()}
                                {(warnings > 0).then(|| view! { <Badge tone=Tone::Warn>{format!("{warnings} to look at")}</Badge> })}
                            </h4>
                            {if g.facts.is_empty() {
                                view! { <p class="mt-1 text-xs text-slate-500">{g.empty}</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="mt-1 space-y-1 text-sm">
                                        {g.facts.into_iter().map(|f| view! {
                                            <li class=if f.warn { "text-amber-800 dark:text-amber-200" } else { "text-slate-700 dark:text-slate-300" } data-warn=f.warn.to_string()>
                                                {f.warn.then(|| view! { <span aria-label="look at this">"⚠ "</span> })}
                                                {match f.href {
                                                    Some(href) => view! { <a class=link href=href>{f.label}</a> }.into_any(),
                                                    None => view! { <span class="font-medium">{f.label}</span> }.into_any(),
                                                }}
                                                " — " {f.value}
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                        </div>
                    }
                }).collect_view()}
            </div>
        </section>
    }
}

/// What the request's subject says an approver should know: labelled values, links, warnings.
#[component]
pub fn Facts(kind: String, facts: Vec<Fact>) -> impl IntoView {
    let link = "text-indigo-700 hover:underline dark:text-indigo-300";
    view! {
        <dl class="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600 dark:text-slate-400" data-testid=format!("{kind}-facts")>
            {facts.into_iter().map(|f| match (f.href, f.warn) {
                (Some(href), _) => view! { <div><a class=link href=href rel="noopener noreferrer">{f.value}</a></div> }.into_any(),
                (None, true) => view! { <div class="font-medium text-amber-700 dark:text-amber-300">{f.value}</div> }.into_any(),
                (None, false) => view! {
                    <div><dt class="inline font-medium">{f.label} " "</dt><dd class="inline font-mono">{f.value}</dd></div>
                }.into_any(),
            }).collect_view()}
        </dl>
    }
}
