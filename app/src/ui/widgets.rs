//! Page header, badges, cards, empty/loading/error states.
use super::icons::{Icon, IconSvg};
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(optional)] subtitle: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
                {subtitle.map(|s| view! { <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">{s}</p> })}
            </div>
            {children.map(|c| c())}
        </div>
    }
}

/// A white (dark: slate) panel with an optional heading.
#[component]
pub fn Card(#[prop(optional)] title: Option<&'static str>, children: Children) -> impl IntoView {
    view! {
        <section class="rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
            {title.map(|t| view! {
                <h2 class="border-b border-slate-200 px-4 py-3 text-sm font-semibold dark:border-slate-800">{t}</h2>
            })}
            {children()}
        </section>
    }
}

/// A count with its label; with `href`, the whole card links to the list it counts.
#[component]
pub fn StatCard(label: &'static str, value: i64, #[prop(into)] hint: String, #[prop(optional)] href: Option<&'static str>) -> impl IntoView {
    let body = view! {
        <div class="text-sm text-slate-500 dark:text-slate-400">{label}</div>
        <div class="mt-1 text-3xl font-semibold tabular-nums" data-testid=format!("stat-{}", label.to_lowercase().replace(' ', "-"))>{value}</div>
        <div class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</div>
    };
    let class = "block rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900";
    match href {
        Some(href) => view! { <a href=href class=format!("{class} hover:border-indigo-300 hover:shadow dark:hover:border-indigo-700")>{body}</a> }.into_any(),
        None => view! { <div class=class>{body}</div> }.into_any(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Neutral,
    Good,
    Warn,
    Bad,
    Info,
}

#[component]
pub fn Badge(tone: Tone, children: Children) -> impl IntoView {
    let colours = match tone {
        Tone::Neutral => "bg-slate-100 text-slate-700 ring-slate-300 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-700",
        Tone::Good => "bg-emerald-50 text-emerald-800 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-800",
        Tone::Warn => "bg-amber-50 text-amber-800 ring-amber-300 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-800",
        Tone::Bad => "bg-rose-50 text-rose-800 ring-rose-300 dark:bg-rose-950 dark:text-rose-300 dark:ring-rose-800",
        Tone::Info => "bg-indigo-50 text-indigo-800 ring-indigo-300 dark:bg-indigo-950 dark:text-indigo-300 dark:ring-indigo-800",
    };
    view! {
        <span class=format!("inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset {colours}")>
            {children()}
        </span>
    }
}

/// What a page shows when it has nothing yet: what will be here, and how it gets here.
#[component]
pub fn EmptyState(icon: Icon, title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="flex flex-col items-center rounded-xl border border-dashed border-slate-300 bg-white px-6 py-14 text-center dark:border-slate-700 dark:bg-slate-900">
            <div class="rounded-full bg-slate-100 p-3 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
                <IconSvg icon=icon class="h-7 w-7"/>
            </div>
            <h2 class="mt-4 text-base font-semibold">{title}</h2>
            <div class="mt-2 max-w-md text-sm text-slate-600 dark:text-slate-400">{children()}</div>
        </div>
    }
}

/// Placeholder rows while data loads.
#[component]
pub fn Loading(#[prop(default = 3)] rows: usize) -> impl IntoView {
    view! {
        <div class="animate-pulse space-y-3" role="status" aria-live="polite">
            <span class="sr-only">"Loading…"</span>
            {(0..rows).map(|_| view! { <div class="h-10 rounded-lg bg-slate-200 dark:bg-slate-800"></div> }).collect_view()}
        </div>
    }
}

/// An error as a person should see it: what happened, and the request id when there is one.
#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    let request_id = error.request_id().map(str::to_owned);
    view! {
        <div role="alert" class="flex gap-3 rounded-xl border border-rose-200 bg-rose-50 p-4 text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200">
            <IconSvg icon=Icon::Alert class="mt-0.5 h-5 w-5 shrink-0"/>
            <div>
                <p class="font-medium">{error.sentence()}</p>
                {request_id.map(|id| view! {
                    <p class="mt-1 text-sm">"Request id: " <code data-testid="request-id" class="font-mono">{id}</code></p>
                })}
            </div>
        </div>
    }
}

const TH: &str = "px-4 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400";

/// A table in the portal's look: a header row (an empty name is an unlabeled actions column),
/// then the rows given as children.
#[component]
pub fn DataTable(testid: &'static str, columns: Vec<&'static str>, children: Children) -> impl IntoView {
    view! {
        <div class="overflow-x-auto">
            <table class="min-w-full text-sm" data-testid=testid>
                <thead class="bg-slate-50 dark:bg-slate-900/60">
                    <tr>
                        {columns.into_iter().map(|c| view! {
                            <th scope="col" class=TH>
                                {if c.is_empty() { view! { <span class="sr-only">"Actions"</span> }.into_any() } else { c.into_any() }}
                            </th>
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-200 dark:divide-slate-800">{children()}</tbody>
            </table>
        </div>
    }
}

/// A moment as people read it: how long ago, with the exact time (UTC) on hover and in the
/// element's `datetime` for tools.
#[component]
pub fn When(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let exact = at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    view! {
        <time datetime=at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) title=exact>
            {crate::audit::types::ago(at, chrono::Utc::now())}
        </time>
    }
}

/// Why someone who is in no team cannot register things, and what to do about it.
pub const NO_TEAM: &str = "Only members of a team (or an admin) can register things. You are in no team yet: ask a team's lead to add you.";

/// A page's primary action: a link when the viewer may take it; otherwise shown disabled with
/// the reason beside it, so no one fills in a form only to be refused.
#[component]
pub fn PrimaryAction(allowed: bool, href: &'static str, label: &'static str, reason: &'static str, testid: &'static str) -> impl IntoView {
    if allowed {
        view! { <a href=href data-testid=testid class="h-9 rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">{label}</a> }.into_any()
    } else {
        let why = format!("{testid}-why");
        view! {
            <span class="inline-flex flex-col items-end gap-1">
                <span role="link" aria-disabled="true" aria-describedby=why.clone() data-testid=testid
                    class="h-9 cursor-not-allowed rounded-lg bg-slate-200 px-3 py-2 text-sm font-medium text-slate-500 dark:bg-slate-800">{label}</span>
                <span id=why class="max-w-xs text-right text-xs text-slate-500 dark:text-slate-400">{reason}</span>
            </span>
        }.into_any()
    }
}

/// In place of a form the viewer may not use: why, and where to go instead.
#[component]
pub fn NotAllowed(reason: &'static str, back: &'static str, back_label: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200" role="note" data-testid="not-allowed">
            <p>{reason}</p>
            <a href=back class="mt-2 inline-block font-medium underline">{back_label}</a>
        </div>
    }
}
