use crate::audit::api::{search_audit, verify_audit_chain};
use crate::audit::types::{AuditEntry, AuditQuery, ChainCheck, FieldChange};
use crate::ui::{Card, DataTable, ErrorBox, Loading, PageHeader, When};
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
    // a GET form asks for the check (`?verify=1`), so its result shows with or without JavaScript
    let verify = Resource::new(
        move || params.read().get("verify").is_some(),
        |asked| async move { if asked { Some(verify_audit_chain().await) } else { None } },
    );
    view! {
        <Title text="Audit log"/>
        <PageHeader title="Audit log" subtitle="Every change, append-only and hash-chained so tampering shows.">
            <div class="flex items-center gap-2">
                <a href=move || format!("/admin/audit.csv?{}", AuditQuery { before_id: None, ..query.get() }.to_query_string())
                   rel="external" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-100 dark:ring-slate-700 dark:hover:bg-slate-800">"Export CSV"</a>
                <form method="get" action="/admin/audit">
                    <input type="hidden" name="verify" value="1"/>
                    <button type="submit" class="h-9 rounded-lg bg-slate-800 px-3 text-sm font-medium text-white dark:bg-slate-200 dark:text-slate-900">"Verify chain"</button>
                </form>
            </div>
        </PageHeader>
        <Suspense fallback=|| view! { <p role="status" class="mb-4 text-sm text-slate-600">"Verifying the chain…"</p> }>
        {move || Suspend::new(async move { verify.await.map(|r| match r {
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
        }) })}
        </Suspense>
        <Filters query=query.get_untracked()/>
        <Card>
            <Suspense fallback=|| view! { <div class="p-4"><Loading rows=6/></div> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => {
                            let next = page.next_before_id.map(|id| format!("/admin/audit?{}", AuditQuery { before_id: Some(id), ..query.get() }.to_query_string()));
                            view! {
                                <AuditTable entries=page.entries labels=page.labels/>
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

/// An action as people read it: `entity.registration_requested` is "Registration requested"
/// (the subject says what it happened to).
pub fn action_label(action: &str) -> String {
    let words = action.split_once('.').map_or(action, |(_, rest)| rest).replace(['.', '_'], " ");
    let mut c = words.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// How many fields of one change show before the rest fold away.
const FIELDS_SHOWN: usize = 6;

/// One change, field by field: before → after.
fn changes(entry: &AuditEntry) -> impl IntoView {
    let changes = entry.changes();
    if entry.before.is_none() && entry.after.is_none() {
        // an event with no state of its own (a sign-in, a revocation)
        return view! { <span class="text-xs text-slate-500">"—"</span> }.into_any();
    }
    if changes.is_empty() {
        return view! { <span class="text-xs text-slate-500">"No field changed."</span> }.into_any();
    }
    let row = |c: FieldChange| {
        let (was, is) = (c.before.clone(), c.after.clone());
        view! {
            <li data-testid="change" data-field=c.field.clone()>
                {(!c.field.is_empty()).then(|| view! { <span class="font-medium">{c.label()}</span>": " })}
                {match (was.is_empty(), is.is_empty()) {
                    (true, _) => view! { <span class="break-words">{is}</span> }.into_any(),
                    (false, true) => view! { <del class="break-words text-rose-700 dark:text-rose-300">{was}</del>" (removed)" }.into_any(),
                    (false, false) => view! {
                        <del class="break-words text-rose-700 dark:text-rose-300">{was}</del>
                        <span aria-hidden="true">" → "</span><span class="sr-only">" became "</span>
                        <ins class="break-words text-emerald-700 no-underline dark:text-emerald-300">{is}</ins>
                    }.into_any(),
                }}
            </li>
        }
    };
    let mut shown = changes;
    let rest = if shown.len() > FIELDS_SHOWN + 1 { shown.split_off(FIELDS_SHOWN) } else { Vec::new() };
    view! {
        <ul class="max-w-xl space-y-0.5 text-xs" data-testid="changes">{shown.into_iter().map(row).collect_view()}</ul>
        // the rest as one line of text: a page of imports holds thousands of fields
        {(!rest.is_empty()).then(|| {
            let summary = format!("{} more field{}", rest.len(), if rest.len() == 1 { "" } else { "s" });
            let text = rest.iter().map(FieldChange::text).collect::<Vec<_>>().join("; ");
            view! {
                <details class="mt-1 text-xs">
                    <summary class="cursor-pointer text-indigo-700 dark:text-indigo-300">{summary}</summary>
                    <p class="mt-1 max-w-xl break-words">{text}</p>
                </details>
            }
        })}
    }.into_any()
}

/// Audit rows, newest first, each read as a change: when (how long ago, the exact time on
/// hover), who, what, and field by field before → after. With `as_of_links`, each row links to
/// the page as it was right after that change (its `as_of`). The subject column shows where the
/// rows span several subjects, by the names in `labels` (each a link to its page).
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
    let admin = crate::ui::layout::CurrentUser::get().is_some_and(|m| m.is_admin());
    let several = !labels.is_empty() || entries.iter().any(|e| (&e.subject_kind, &e.subject_id) != (&entries[0].subject_kind, &entries[0].subject_id));
    let columns = if several { vec!["When", "Who", "What", "Subject", "Change"] } else { vec!["When", "Who", "What", "Change"] };
    view! {
        <DataTable testid="audit-table" columns>
                    {entries.into_iter().map(|e| {
                        let subject = several.then(|| {
                            let kind = e.subject_kind.replace('_', " ");
                            let cell = match labels.iter().find(|l| l.kind == e.subject_kind && l.id == e.subject_id) {
                                Some(l) if !l.href.is_empty() => view! { <span class="text-xs text-slate-500">{kind}" "</span><a class="text-indigo-700 hover:underline dark:text-indigo-300" href=l.href.clone()>{l.label.clone()}</a> }.into_any(),
                                Some(l) => view! { <span class="text-xs text-slate-500">{kind}" "</span><span>{l.label.clone()}</span> }.into_any(),
                                None => view! { <span class="text-xs text-slate-500">{kind}" "</span><span class="font-mono text-xs">{e.subject_id.clone()}</span> }.into_any(),
                            };
                            view! { <td class="px-4 py-2" data-testid="subject">{cell}</td> }
                        });
                        let at = e.at;
                        view! {
                        <tr class="align-top" data-id=e.id>
                            <td class="whitespace-nowrap px-4 py-2">{
                                if as_of_links {
                                    // the page as it was right after this change
                                    let moment = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                                    view! { <a class="text-indigo-700 hover:underline dark:text-indigo-300" data-testid="as-of-link" href=format!("?as_of={moment}")
                                        aria-label=format!("Show it as it was right after this change, {}", at.format("%Y-%m-%d %H:%M:%S UTC"))><When at/></a> }.into_any()
                                } else {
                                    view! { <When at/> }.into_any()
                                }
                            }</td>
                            // the name as it was; an admin's link filters by id (two people may share a name)
                            <td class="px-4 py-2" data-testid="actor">{match e.actor_id {
                                Some(id) if admin => view! { <a class="hover:underline" href=format!("/admin/audit?actor={id}")>{e.actor_name.clone()}</a> }.into_any(),
                                _ => e.actor_name.clone().into_any(),
                            }}</td>
                            <td class="px-4 py-2" data-action=e.action.clone() title=e.action.clone()>{action_label(&e.action)}</td>
                            {subject}
                            <td class="px-4 py-2">
                                {changes(&e)}
                                {admin.then(|| view! {
                                    <details class="mt-1">
                                        <summary class="cursor-pointer text-xs text-slate-500">"Raw"</summary>
                                        <dl class="mt-1 space-y-1 text-xs">
                                            <dt class="text-slate-500">"before"</dt><dd class="break-all font-mono">{e.before.clone().unwrap_or_else(|| "—".into())}</dd>
                                            <dt class="text-slate-500">"after"</dt><dd class="break-all font-mono">{e.after.clone().unwrap_or_else(|| "—".into())}</dd>
                                            <dt class="text-slate-500">"row, request"</dt><dd class="font-mono">{format!("#{} · {} from {}", e.id, e.request_id, e.source_ip)}</dd>
                                        </dl>
                                    </details>
                                })}
                            </td>
                        </tr>
                        }
                    }).collect_view()}
        </DataTable>
    }.into_any()
}
