//! `/calendar`: one timeline of deploy freezes, network maintenance and the runs of critical
//! integrations, with the clashes flagged, filterable in the URL (a plain GET form, so it works
//! without JavaScript), and the same as an iCalendar feed.
use super::api::get_calendar;
use super::types::{CalendarEvent, CalendarQuery, ChangeCalendar};
use crate::ui::icons::Icon;
use crate::ui::{Badge, Card, EmptyState, ErrorBox, Loading, PageHeader, Tone};
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn query_of(get: impl Fn(&str) -> Option<String>) -> CalendarQuery {
    let v = |k: &str| get(k).unwrap_or_default();
    CalendarQuery { from: v("from"), to: v("to"), team: v("team"), service: v("service"), site: v("site"), partner: v("partner") }
}

/// The query as URL parameters (the empty ones left out).
fn encoded(q: &CalendarQuery) -> String {
    let pairs = [("from", &q.from), ("to", &q.to), ("team", &q.team), ("service", &q.service), ("site", &q.site), ("partner", &q.partner)];
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.into_iter().filter(|(_, v)| !v.is_empty())).finish()
}

#[component]
pub fn CalendarPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || query.with(|q| query_of(|k| q.get(k)));
    let data = Resource::new(asked, |q| get_calendar(q.from, q.to, q.team, q.service, q.site, q.partner));
    view! {
        <Title text="Change calendar"/>
        <PageHeader title="Change calendar" subtitle="Deploy freezes, network maintenance and the scheduled runs of critical integrations (PCI, or an end that is tier 0 or 1) on one timeline. Maintenance that cuts off a partner while a critical integration with it runs is flagged on both.">
            <div class="flex flex-wrap gap-2">
                <a href="/deploys/freezes" class="h-9 rounded-lg px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Freeze windows"</a>
                <a href=move || format!("/calendar.ics?{}", encoded(&asked())) data-testid="calendar-ics" download="switchyard-changes.ics"
                    class="h-9 rounded-lg bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Subscribe (iCalendar)"</a>
            </div>
        </PageHeader>
        {move || view! { <Filters q=asked()/> }}
        <Suspense fallback=|| view! { <Card><div class="p-4"><Loading rows=6/></div></Card> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(c) => view! { <Timeline c/> }.into_any(),
                    Err(e) => view! { <ErrorBox error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The filters, as typed (kept when the server refuses them).
#[component]
fn Filters(q: CalendarQuery) -> impl IntoView {
    let input = "mt-1 h-9 rounded-lg border border-slate-300 bg-white px-2 text-sm dark:border-slate-700 dark:bg-slate-800";
    let label = "block text-xs font-medium text-slate-600 dark:text-slate-400";
    let filtered = q.team.len() + q.service.len() + q.site.len() + q.partner.len() + q.from.len() + q.to.len() > 0;
    let field = move |id: &'static str, name: &'static str, value: String, placeholder: &'static str, list: &'static str| {
        view! {
            <div>
                <label for=id class=label>{name}</label>
                <input id=id name=id.trim_start_matches("cal-") value=value placeholder=placeholder list=list class=format!("{input} w-36")/>
            </div>
        }
    };
    view! {
        <form method="get" action="/calendar" class="mb-4 flex flex-wrap items-end gap-2 rounded-xl border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900" data-testid="calendar-filters">
            <div>
                <label for="cal-from" class=label>"From"</label>
                <input id="cal-from" name="from" value=q.from.clone() placeholder="YYYY-MM-DD (today)" class=format!("{input} w-40")/>
            </div>
            <div>
                <label for="cal-to" class=label>"To (included)"</label>
                <input id="cal-to" name="to" value=q.to.clone() placeholder="YYYY-MM-DD (4 weeks on)" class=format!("{input} w-40")/>
            </div>
            {field("cal-team", "Team", q.team.clone(), "any team", "cal-teams")}
            {field("cal-service", "Service", q.service.clone(), "any service", "cal-services")}
            {field("cal-site", "Site", q.site.clone(), "any site", "cal-sites")}
            {field("cal-partner", "Partner", q.partner.clone(), "any partner", "cal-partners")}
            <button type="submit" class="h-9 rounded-lg bg-indigo-600 px-3 text-sm font-medium text-white hover:bg-indigo-500">"Show"</button>
            {filtered.then(|| view! { <a href="/calendar" class="h-9 px-2 py-2 text-sm text-indigo-700 hover:underline dark:text-indigo-300">"Clear filters"</a> })}
        </form>
    }
}

fn options(id: &'static str, values: &[String], short: bool) -> impl IntoView {
    view! {
        <datalist id=id>
            {values.iter().map(|v| {
                let shown = if short { v.rsplit('/').next().unwrap_or(v).to_owned() } else { v.clone() };
                view! { <option value=shown></option> }
            }).collect_view()}
        </datalist>
    }
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%H:%M").to_string()
}

fn kind_label(kind: &str) -> (&'static str, Tone) {
    match kind {
        "freeze" => ("Freeze", Tone::Info),
        "maintenance" => ("Maintenance", Tone::Warn),
        _ => ("Critical run", Tone::Neutral),
    }
}

#[component]
fn Timeline(c: ChangeCalendar) -> impl IntoView {
    let count = |kind: &str| c.events.iter().filter(|e| e.kind == kind).count();
    let (freezes, windows, runs, clashing) = (count("freeze"), count("maintenance"), count("integration"), c.clashing());
    let lists = view! {
        {options("cal-teams", &c.teams, false)}
        {options("cal-services", &c.services, true)}
        {options("cal-sites", &c.sites, false)}
        {options("cal-partners", &c.partners, false)}
    };
    let span = format!(
        "{} to {}",
        c.from.format("%a %-d %b %Y"),
        (c.until - chrono::Duration::seconds(1)).format("%a %-d %b %Y")
    );
    if c.events.is_empty() {
        return view! {
            {lists}
            <EmptyState icon=Icon::Deploys title="Nothing on the calendar">
                {format!("No freeze, maintenance window or critical integration run from {span} touches what you chose. Widen the dates or clear a filter.")}
            </EmptyState>
        }
        .into_any();
    }
    let flagged: Vec<CalendarEvent> = c.events.iter().filter(|e| e.kind == "maintenance" && !e.clashes.is_empty()).cloned().collect();
    view! {
        {lists}
        <p class="mb-3 text-sm text-slate-600 dark:text-slate-400" data-testid="calendar-summary">
            {format!("{span} (UTC): {freezes} freeze{}, {windows} maintenance window{}, {runs} critical run{}", plural(freezes), plural(windows), plural(runs))}
            {(clashing > 0).then(|| view! { <span class="font-medium text-rose-700 dark:text-rose-300">{format!(", {clashing} flagged")}</span> })}
            {c.truncated.then(|| view! { <span>" — the latest were left off: narrow the dates to see them"</span> })}
        </p>
        {(!flagged.is_empty()).then(|| view! {
            <section role="alert" class="mb-4 rounded-xl border border-rose-200 bg-rose-50 p-4 text-sm text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200" data-testid="calendar-clashes">
                <h2 class="font-semibold">"Maintenance that cuts off a partner during a critical run"</h2>
                <ul class="mt-2 space-y-1">
                    {flagged.into_iter().map(|e| view! {
                        <li>
                            <a href=e.href.clone() class="font-medium underline">{e.title.clone()}</a>
                            {format!(" ({}, {} {} to {}): {}", e.on, e.starts_at.format("%a %-d %b"), when(e.starts_at), when(e.ends_at), e.clashes.join("; "))}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        <Strip c=c.clone()/>
        <Agenda events=c.events/>
    }
    .into_any()
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The span as a strip: a lane per kind, a bar per event (red when flagged), a line per day.
#[component]
fn Strip(c: ChangeCalendar) -> impl IntoView {
    const W: f64 = 1000.0;
    const LEFT: f64 = 110.0;
    let total = (c.until - c.from).num_seconds().max(1) as f64;
    let x = move |t: DateTime<Utc>| LEFT + ((t - c.from).num_seconds() as f64 / total).clamp(0.0, 1.0) * (W - LEFT);
    let lanes = [("freeze", "Freezes", "#6366f1"), ("maintenance", "Maintenance", "#d97706"), ("integration", "Critical runs", "#0d9488")];
    let days = (c.until - c.from).num_days().max(1);
    let every = if days > 31 { 7 } else if days > 14 { 2 } else { 1 };
    let ticks = (0..=days).map(|d| {
        let t = c.from + chrono::Duration::days(d);
        let px = x(t);
        let label = (d % every == 0 && d < days).then(|| view! { <text x=px + 2.0 y="12" font-size="10" fill="currentColor" opacity="0.7">{t.format("%-d %b").to_string()}</text> });
        view! { <g><line x1=px x2=px y1="16" y2="134" stroke="currentColor" stroke-opacity="0.12"/>{label}</g> }
    }).collect_view();
    let bars = lanes.iter().enumerate().map(|(i, (kind, name, colour))| {
        let y = 22.0 + i as f64 * 38.0;
        // the flagged ones drawn last, over the rest; many short runs drawn faint, so a flagged one stands out
        let mut lane: Vec<&CalendarEvent> = c.events.iter().filter(|e| e.kind == *kind).collect();
        lane.sort_by_key(|e| !e.clashes.is_empty());
        let faint = lane.len() > 60;
        let bars = lane.into_iter().map(|e| {
            let (x0, x1) = (x(e.starts_at), x(e.ends_at));
            let fill = if e.clashes.is_empty() { *colour } else { "#dc2626" };
            let opacity = if faint && e.clashes.is_empty() { "0.3" } else { "0.85" };
            let tip = format!("{} — {} {} to {} {}{}", e.title, e.starts_at.format("%-d %b"), when(e.starts_at), e.ends_at.format("%-d %b"), when(e.ends_at),
                if e.clashes.is_empty() { String::new() } else { format!(" — {}", e.clashes.join("; ")) });
            view! {
                <a href=e.href.clone()>
                    <rect x=x0 y=y width=(x1 - x0).max(if e.clashes.is_empty() { 2.0 } else { 4.0 }) height="26" rx="2" fill=fill fill-opacity=opacity data-clash=(!e.clashes.is_empty()).then_some("true")>
                        <title>{tip}</title>
                    </rect>
                </a>
            }
        }).collect_view();
        view! {
            <g data-lane=*kind>
                <text x="0" y=y + 17.0 font-size="12" fill="currentColor">{*name}</text>
                {bars}
            </g>
        }
    }).collect_view();
    view! {
        <Card>
            <div class="overflow-x-auto p-3">
                <svg viewBox=format!("0 0 {W} 140") class="min-w-[640px] w-full text-slate-700 dark:text-slate-300" role="img" data-testid="calendar-timeline"
                    aria-label="The span as a timeline: freezes, maintenance and critical runs, flagged ones in red">
                    {ticks}
                    {bars}
                </svg>
            </div>
        </Card>
    }
}

/// One line of the agenda: an event, or a day's runs of one integration taken together.
struct Line {
    events: Vec<CalendarEvent>,
}

/// The events day by day; a day's runs of one integration are one line when there are more
/// than three.
fn lines_of(events: Vec<CalendarEvent>) -> Vec<(NaiveDate, Vec<Line>)> {
    let mut days: Vec<(NaiveDate, Vec<Line>)> = Vec::new();
    for e in events {
        let day = e.starts_at.date_naive();
        if days.last().is_none_or(|(d, _)| *d != day) {
            days.push((day, Vec::new()));
        }
        let Some((_, lines)) = days.last_mut() else { continue };
        lines.push(Line { events: vec![e] });
    }
    for (_, lines) in days.iter_mut() {
        let mut merged: Vec<Line> = Vec::new();
        let mut by_integration: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let counts = lines.iter().filter(|l| l.events[0].kind == "integration").fold(std::collections::HashMap::<String, usize>::new(), |mut m, l| {
            *m.entry(l.events[0].on.clone()).or_default() += 1;
            m
        });
        for l in lines.drain(..) {
            let e = &l.events[0];
            let many = e.kind == "integration" && counts.get(&e.on).copied().unwrap_or(0) > 3 && e.clashes.is_empty();
            if many {
                if let Some(i) = by_integration.get(&e.on) {
                    merged[*i].events.extend(l.events);
                    continue;
                }
                by_integration.insert(e.on.clone(), merged.len());
            }
            merged.push(l);
        }
        *lines = merged;
    }
    days
}

#[component]
fn Agenda(events: Vec<CalendarEvent>) -> impl IntoView {
    let days = lines_of(events);
    view! {
        <div class="mt-4 space-y-4" data-testid="calendar">
            {days.into_iter().map(|(day, lines)| view! {
                <Card>
                    <h2 class="border-b border-slate-200 px-4 py-2 text-sm font-semibold dark:border-slate-800">{day.format("%A %-d %B %Y").to_string()}</h2>
                    <ul class="divide-y divide-slate-100 dark:divide-slate-800">
                        {lines.into_iter().map(line_view).collect_view()}
                    </ul>
                </Card>
            }).collect_view()}
        </div>
    }
}

fn line_view(l: Line) -> impl IntoView {
    let e = l.events[0].clone();
    let (label, tone) = kind_label(&e.kind);
    let times = if l.events.len() > 1 {
        let shown: Vec<String> = l.events.iter().take(6).map(|r| when(r.starts_at)).collect();
        format!("{} runs: {}{}", l.events.len(), shown.join(", "), if l.events.len() > 6 { ", …" } else { "" })
    } else if e.ends_at.date_naive() == e.starts_at.date_naive() {
        format!("{}–{}", when(e.starts_at), when(e.ends_at))
    } else {
        format!("{} until {} {}", when(e.starts_at), e.ends_at.format("%a %-d %b"), when(e.ends_at))
    };
    let clash = !e.clashes.is_empty();
    view! {
        <li class=format!("flex flex-wrap gap-x-4 gap-y-1 px-4 py-2 text-sm {}", if clash { "bg-rose-50 dark:bg-rose-950" } else { "" })
            data-testid="calendar-event" data-kind=e.kind.clone() data-clash=clash.then_some("true") data-on=e.on.clone()>
            <span class="w-40 shrink-0 font-mono text-xs tabular-nums text-slate-600 dark:text-slate-400">{times}</span>
            <span class="w-28 shrink-0"><Badge tone=if clash { Tone::Bad } else { tone }>{label}</Badge></span>
            <div class="min-w-0 flex-1 break-words">
                <a href=e.href.clone() class="font-medium text-indigo-700 hover:underline dark:text-indigo-300">{e.title.clone()}</a>
                <span class="ml-2 font-mono text-xs text-slate-500">{e.on.clone()}</span>
                <p class="text-xs text-slate-600 dark:text-slate-400">{e.detail.clone()}</p>
                {(!e.cuts_off.is_empty()).then(|| view! { <p class="text-xs font-medium text-amber-800 dark:text-amber-300">{format!("Cuts off {}", e.cuts_off.join(", "))}</p> })}
                {e.clashes.iter().map(|c| view! { <p class="text-xs font-medium text-rose-700 dark:text-rose-300">{format!("Clash: {c}")}</p> }).collect_view()}
                {(!e.teams.is_empty()).then(|| view! { <p class="text-xs text-slate-500">{format!("Teams: {}", e.teams.join(", "))}</p> })}
            </div>
        </li>
    }
}
