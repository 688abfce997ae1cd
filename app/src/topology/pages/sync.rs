//! The NetBox panel on the topology page (admins): the NetBox read, the schedule, a sync or a
//! dry run started from here, its progress while it runs, and the latest syncs' reports.
use crate::integrations::pages::When;
use crate::topology::api::{get_netbox_panel, StartNetboxSync};
use crate::topology::types::{NetboxPanel, SyncJob};
use crate::ui::form::{returned_problems, FieldError, BUTTON};
use crate::ui::{Badge, Card, Tone};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The panel, for admins; nothing for anyone else.
#[component]
pub fn NetboxCard() -> impl IntoView {
    let start = ServerAction::<StartNetboxSync>::new();
    // read again when a sync starts, and every second while one runs
    let tick = RwSignal::new(0u32);
    let data = Resource::new(move || (start.version().get(), tick.get()), |_| get_netbox_panel());
    let running = move || data.get().and_then(Result::ok).flatten().is_some_and(|p| p.syncs.iter().any(|s| s.state == "running"));
    Effect::new(move |_| {
        if running() {
            set_timeout(move || tick.update(|t| *t += 1), std::time::Duration::from_secs(1));
        }
    });
    let query = use_query_map();
    let problems = RwSignal::new(query.with_untracked(returned_problems));
    Effect::new(move |_| {
        if let Some(Err(e)) = start.value().get() {
            problems.set(e.problems());
        }
    });
    view! {
        <Transition>
            {move || data.get().and_then(Result::ok).flatten().map(|p| view! { <Panel p start problems/> })}
        </Transition>
    }
}

#[component]
fn Panel(p: NetboxPanel, start: ServerAction<StartNetboxSync>, problems: RwSignal<Vec<crate::error::FieldProblem>>) -> impl IntoView {
    let NetboxPanel { url, why_not, every_secs, syncs } = p;
    let busy = syncs.iter().any(|s| s.state == "running");
    let can = url.is_some() && !busy;
    let schedule = match every_secs {
        Some(s) if s >= 3600.0 => format!("Synced on its own every {:.0} h.", s / 3600.0),
        Some(s) if s >= 60.0 => format!("Synced on its own every {:.0} min.", s / 60.0),
        Some(s) => format!("Synced on its own every {s:.0} s."),
        None => "Synced when an admin starts it (topology.netbox.sync_every_secs sets a schedule).".into(),
    };
    view! {
        <div id="netbox">
            <Card title="NetBox sync">
                <div class="space-y-3 p-4 text-sm" data-testid="netbox-panel">
                    {match (url, why_not) {
                        (Some(u), _) => view! { <p>"Reads " <span class="font-mono">{u}</span>". " {schedule}</p> }.into_any(),
                        (None, why) => view! { <p class="text-amber-800 dark:text-amber-300" data-testid="netbox-unconfigured">{why.unwrap_or_default()}</p> }.into_any(),
                    }}
                    <div class="flex flex-wrap items-center gap-2">
                        <ActionForm action=start>
                            <input type="hidden" name="dry_run" value="yes"/>
                            <button type="submit" class="h-9 rounded-lg px-3 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 disabled:opacity-50 dark:ring-slate-700" disabled=!can>"Dry run"</button>
                        </ActionForm>
                        <ActionForm action=start attr:class="flex flex-wrap items-center gap-2">
                            <input type="hidden" name="dry_run" value="no"/>
                            <button type="submit" class=BUTTON disabled=!can data-confirm="Sync the network from NetBox now? What NetBox no longer has is removed here.">"Sync now"</button>
                            <label class="inline-flex items-center gap-1 text-slate-600 dark:text-slate-400" title="Otherwise only the interfaces and cables changed since the last sync are read (everything is read once a day)">
                                <input type="checkbox" name="full" value="yes" class="rounded border-slate-300"/>
                                "Read everything"
                            </label>
                        </ActionForm>
                        {busy.then(|| view! { <span class="text-slate-500">"A sync is running…"</span> })}
                    </div>
                    <FieldError field="form" problems=problems/>
                </div>
                {if syncs.is_empty() {
                    view! { <p class="border-t border-slate-200 p-4 text-sm text-slate-500 dark:border-slate-800">"No sync yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="divide-y divide-slate-200 border-t border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-800" data-testid="netbox-syncs">
                            {syncs.into_iter().map(sync_row).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </Card>
        </div>
    }
}

fn sync_row(s: SyncJob) -> impl IntoView {
    let (tone, label) = match s.state.as_str() {
        "succeeded" => (Tone::Good, "succeeded"),
        "failed" => (Tone::Bad, "failed"),
        _ => (Tone::Warn, "running"),
    };
    let pct = if s.total > 0 { (s.done * 100 / s.total).clamp(0, 100) } else { 0 };
    let what = match (&s.report, &s.error) {
        (_, Some(e)) => e.clone(),
        (Some(r), _) if !r.changed => "Nothing changed: the network is as NetBox has it.".into(),
        (Some(r), _) => r
            .kinds
            .iter()
            .filter(|k| k.counts.changed())
            .map(|k| {
                let c = k.counts;
                let said: Vec<String> = [(c.created, "new"), (c.updated, "updated"), (c.removed, "removed")]
                    .into_iter()
                    .filter(|(n, _)| *n > 0)
                    .map(|(n, what)| format!("{n} {what}"))
                    .collect();
                format!("{}: {}", k.kind.replace('_', " "), said.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" · "),
        (None, None) => s.step.clone(),
    };
    let running = s.state == "running";
    view! {
        <li class="p-4">
            <div class="flex flex-wrap items-center gap-2">
                <Badge tone>{label}</Badge>
                {s.dry_run.then(|| view! { <Badge tone=Tone::Neutral>"dry run"</Badge> })}
                <span class="text-slate-600 dark:text-slate-400">{s.started_by.clone().unwrap_or_else(|| "on schedule".into())}</span>
                <When at=Some(s.started_at)/>
                {match s.since {
                    Some(since) => view! { <span class="text-slate-500" title="Interfaces and cables: only those NetBox changed since then">"· read what changed since " <When at=Some(since)/></span> }.into_any(),
                    None => view! { <span class="text-slate-500">"· read everything"</span> }.into_any(),
                }}
            </div>
            {running.then(|| view! {
                <div class="mt-2 h-2 w-full rounded bg-slate-200 dark:bg-slate-800" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=pct.to_string() aria-label="Sync progress">
                    <div class="h-2 rounded bg-indigo-600" style=format!("width: {pct}%")></div>
                </div>
            })}
            <p class="mt-1 text-slate-700 dark:text-slate-300" data-testid="netbox-sync-says">{what}</p>
        </li>
    }
}
