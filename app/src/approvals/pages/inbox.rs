use super::card::{ApprovalCard, DecisionError};
use crate::approvals::api::{list_approvals, DecideApproval};
use crate::ui::icons::Icon;
use crate::ui::{Card, EmptyState, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

const TABS: &[(&str, &str)] = &[("waiting_for_me", "Waiting for me"), ("asked_by_me", "Asked by me"), ("all", "History")];

/// The approvals inbox: what waits for me, what I asked for, and the history.
#[component]
pub fn InboxPage() -> impl IntoView {
    let query = use_query_map();
    let inbox = move || query.read().get("inbox").unwrap_or_else(|| "waiting_for_me".into());
    let state = move || query.read().get("state").filter(|s| !s.is_empty());
    let decide = ServerAction::<DecideApproval>::new();
    let list = Resource::new(
        move || (inbox(), state(), decide.version().get()),
        |(inbox, state, _)| list_approvals(inbox, state),
    );
    view! {
        <Title text="Approvals"/>
        <PageHeader title="Approvals" subtitle="What waits for your decision, and what you asked others for."/>
        <nav aria-label="Inbox" class="mb-4 flex gap-1 border-b border-slate-200 dark:border-slate-800">
            {TABS.iter().map(|(key, label)| {
                let href = format!("/approvals?inbox={key}");
                let current = move || inbox() == *key;
                view! {
                    <A href=href attr:class=move || format!(
                        "-mb-px border-b-2 px-3 py-2 text-sm font-medium {}",
                        if current() { "border-indigo-600 text-indigo-700 dark:text-indigo-300" } else { "border-transparent text-slate-600 hover:text-slate-900 dark:text-slate-400" }
                    )>{*label}</A>
                }
            }).collect_view()}
        </nav>
        {move || (inbox() == "all").then(|| view! { <StateFilter current=state()/> })}
        <DecisionError decide/>
        <Card>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=3/></div> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(items) if items.is_empty() => view! {
                            <EmptyState icon=Icon::Approvals title="Nothing here">
                                {match inbox().as_str() {
                                    "asked_by_me" => "You have not asked for anything that needs approval.",
                                    "all" => "No approval requests match.",
                                    _ => "No request waits for your decision.",
                                }}
                            </EmptyState>
                        }.into_any(),
                        Ok(items) => view! {
                            <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="approval-list">
                                {items.into_iter().map(|v| view! { <ApprovalCard view=v decide/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}

/// A GET form, so the filter lives in the URL and works without JavaScript.
#[component]
fn StateFilter(current: Option<String>) -> impl IntoView {
    let current = current.unwrap_or_default();
    let states = ["", "pending", "approved", "rejected", "expired"];
    view! {
        <form method="get" action="/approvals" class="mb-4 flex items-end gap-2">
            <input type="hidden" name="inbox" value="all"/>
            <label class="text-sm">
                <span class="block text-xs font-medium text-slate-600 dark:text-slate-400">"State"</span>
                <select name="state" class="mt-1 h-9 rounded-lg border border-slate-300 px-2 text-sm dark:border-slate-700 dark:bg-slate-800">
                    {states.into_iter().map(|s| view! {
                        <option value=s selected=s == current>{if s.is_empty() { "any" } else { s }}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="h-9 rounded-lg bg-slate-800 px-3 text-sm font-medium text-white dark:bg-slate-200 dark:text-slate-900">"Filter"</button>
        </form>
    }
}
