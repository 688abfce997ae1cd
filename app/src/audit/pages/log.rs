use crate::audit::api::{search_audit, VerifyAuditChain};
use crate::audit::types::{AuditEntry, AuditQuery, ChainCheck};
use crate::ui::{Card, DataTable, ErrorBox, Loading, PageHeader};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The audit log for admins: filter by actor, subject, action and time; export CSV; verify the
/// chain. Anyone else gets a 403 page at once (decided before anything streams, so the status
/// never depends on which part of the page finished first).
#[component]
pub fn AuditPage() -> impl IntoView {
    if !crate::ui::layout::CurrentUser::get().is_some_and(|m| m.is_admin()) {
        #[cfg(feature = "ssr")]
        crate::context::respond(crate::error::AppError::Forbidden);
        return view! { <Title text="Audit log"/><ErrorBox error=crate::error::AppError::Forbidden/> }.into_any();
    }
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let p = params.read();
        AuditQuery {
            actor: p.get("actor"),
            action: p.get("action"),
            subject_kind: p.get("subject_kind"),
            subject_id: p.get("subject_id"),
            from: p.get("from"),
            until: p.get("until"),
            before_id: p.get("before_id").and_then(|s| s.parse().ok()),
        }
    });
    let page = Resource::new(
        move || query.get(),
        |q| search_audit(q.actor, q.action, q.subject_kind, q.subject_id, q.from, q.until, q.before_id),
    );
    let verify = ServerAction::<VerifyAuditChain>::new();
    view! {
        <Title text="Audit log"/>
        <PageHeader title="Audit log" subtitle="Every change, append-only and hash-chained so tampering shows.">
            <div class="flex items-center gap-2">
                <a href=move || format!("/admin/audit.csv?{}", AuditQuery { before_id: None, ..query.get() }.to_query_string())
                   rel="external" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-100 dark:ring-slate-700 dark:hover:bg-slate-800">"Export CSV"</a>
                <ActionForm action=verify>
                    <button type="submit" class="h-9 rounded-lg bg-slate-800 px-3 text-sm font-medium text-white dark:bg-slate-200 dark:text-slate-900">"Verify chain"</button>
                </ActionForm>
            </div>
        </PageHeader>
        {move || verify.value().get().map(|r| match r {
            Ok(ChainCheck::Intact { rows }) => view! {
                <p role="status" data-testid="chain-result" class="mb-4 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200">
                    {format!("The chain is intact: {rows} rows verified.")}
                </p>
            }.into_any(),
            Ok(ChainCheck::Broken { row_id, reason }) => view! {
                <p role="alert" data-testid="chain-result" class="mb-4 rounded-lg bg-rose-50 p-3 text-sm text-rose-900 dark:bg-rose-950 dark:text-rose-200">
                    {format!("The chain is broken at row {row_id}: {reason}.")}
                </p>
            }.into_any(),
            Err(e) => view! { <div class="mb-4"><ErrorBox error=e/></div> }.into_any(),
        })}
        <Filters query=query.get_untracked()/>
        <Card>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=6/></div> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let next = page.next_before_id.map(|id| format!("/admin/audit?{}", AuditQuery { before_id: Some(id), ..query.get() }.to_query_string()));
                            view! {
                                <AuditTable entries=page.entries/>
                                {next.map(|href| view! {
                                    <div class="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
                                        <a href=href class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">"Older entries →"</a>
                                    </div>
                                })}
                            }.into_any()
                        }
                        Err(e) => {
                            #[cfg(feature = "ssr")]
                            let e = crate::context::respond(e);
                            view! { <div class="p-4"><ErrorBox error=e/></div> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </Card>
    }
    .into_any()
}

#[component]
fn Filters(query: AuditQuery) -> impl IntoView {
    let input = "mt-1 h-9 w-full rounded-lg border border-slate-300 px-2 text-sm dark:border-slate-700 dark:bg-slate-800";
    let label = "block text-xs font-medium text-slate-600 dark:text-slate-400";
    let field = move |name: &'static str, text: &'static str, value: Option<String>, kind: &'static str| view! {
        <label class="min-w-36 flex-1">
            <span class=label>{text}</span>
            <input name=name type=kind value=value.unwrap_or_default() class=input/>
        </label>
    };
    view! {
        <form method="get" action="/admin/audit" class="mb-4 flex flex-wrap items-end gap-2" data-testid="audit-filters">
            {field("actor", "Actor", query.actor, "text")}
            {field("action", "Action", query.action, "text")}
            {field("subject_kind", "Subject kind", query.subject_kind, "text")}
            {field("subject_id", "Subject id", query.subject_id, "text")}
            {field("from", "From", query.from, "date")}
            {field("until", "Until", query.until, "date")}
            <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500">"Filter"</button>
        </form>
    }
}

/// Audit rows, newest first; before/after open on demand. With `as_of_links`, each row links to
/// the page as it was right after that change (its `as_of`).
#[component]
pub fn AuditTable(
    entries: Vec<AuditEntry>,
    #[prop(optional)] as_of_links: bool,
    /// What the subjects are called, where the table spans several.
    #[prop(optional)]
    labels: Vec<crate::audit::types::SubjectLabel>,
) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="p-6 text-sm text-slate-600 dark:text-slate-400" data-testid="audit-empty">"No audit entries match."</p> }.into_any();
    }
    view! {
        <DataTable testid="audit-table" columns=vec!["#", "When (UTC)", "Actor", "Action", "Subject", "Change"]>
                    {entries.into_iter().map(|e| view! {
                        <tr class="align-top">
                            <td class="px-4 py-2 tabular-nums text-slate-500">{e.id}</td>
                            <td class="whitespace-nowrap px-4 py-2 tabular-nums">{
                                let when = e.at.format("%Y-%m-%d %H:%M:%S").to_string();
                                if as_of_links {
                                    // the page as it was right after this change
                                    let at = e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                                    view! { <a class="text-indigo-700 hover:underline dark:text-indigo-300" data-testid="as-of-link" title="Show it as it was right after this change" href=format!("?as_of={at}")>{when}</a> }.into_any()
                                } else {
                                    when.into_any()
                                }
                            }</td>
                            // the name as it was; the link filters by id (two people may share a name)
                            <td class="px-4 py-2 font-mono text-xs">{match e.actor_id {
                                Some(id) => view! { <a class="hover:underline" href=format!("/admin/audit?actor={id}")>{e.actor_name.clone()}</a> }.into_any(),
                                None => e.actor_name.clone().into_any(),
                            }}</td>
                            <td class="px-4 py-2 font-mono text-xs">{e.action.clone()}</td>
                            <td class="px-4 py-2 font-mono text-xs">{
                                match labels.iter().find(|l| l.kind == e.subject_kind && l.id == e.subject_id) {
                                    Some(l) if !l.href.is_empty() => view! { <span class="text-slate-500">{format!("{} ", e.subject_kind.replace('_', " "))}</span><a class="font-sans text-sm text-indigo-700 hover:underline dark:text-indigo-300" href=l.href.clone()>{l.label.clone()}</a> }.into_any(),
                                    Some(l) => view! { <span class="text-slate-500">{format!("{} ", e.subject_kind.replace('_', " "))}</span><span class="font-sans text-sm">{l.label.clone()}</span> }.into_any(),
                                    None => format!("{} {}", e.subject_kind, e.subject_id).into_any(),
                                }
                            }</td>
                            <td class="px-4 py-2">
                                <details>
                                    <summary class="cursor-pointer text-xs text-indigo-700 dark:text-indigo-300">"details"</summary>
                                    <dl class="mt-1 space-y-1 text-xs">
                                        <dt class="text-slate-500">"before"</dt><dd class="break-all font-mono">{e.before.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt class="text-slate-500">"after"</dt><dd class="break-all font-mono">{e.after.clone().unwrap_or_else(|| "—".into())}</dd>
                                        <dt class="text-slate-500">"request"</dt><dd class="font-mono">{e.request_id.clone()} " from " {e.source_ip.clone()}</dd>
                                    </dl>
                                </details>

                            </td>
                        </tr>
                    }).collect_view()}
        </DataTable>
    }.into_any()
}
