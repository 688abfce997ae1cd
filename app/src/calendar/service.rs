//! The change calendar, put together from each domain's service: the freezes' occurrences
//! (deploys), the maintenance windows with their blast radius (topology), and the runs of
//! critical integrations (integrations); then the clashes between them are flagged, and the
//! whole filtered. Reading only: it writes nothing.
use super::types::{CalendarEvent, CalendarQuery, ChangeCalendar, DEFAULT_DAYS, MAX_DAYS, MAX_EVENTS};
use crate::deploys::service::DeployError;
use crate::deploys::types::FreezeView;
use crate::error::Refusal;
use crate::iam::principal::Principal;
use crate::integrations::service::IntegrationError;
use crate::integrations::types::CriticalRuns;
use crate::topology::pages::{circuit_href, device_href, seg, site_href};
use crate::topology::service::TopologyError;
use crate::topology::types::{BlastRadius, MaintenanceWindow};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most occurrences of one freeze, or runs of one integration, one read expands.
const MAX_REPEATS: usize = 2_000;

/// What went wrong, in the calendar's words: the reader's mistake, or a domain's failure.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Deploys(#[from] DeployError),
    #[error(transparent)]
    Topology(#[from] TopologyError),
    #[error(transparent)]
    Integrations(#[from] IntegrationError),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for CalendarError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("calendar", &e);
        CalendarError::Database(e)
    }
}

/// A day (`YYYY-MM-DD`, UTC: its start, or with `end_of_day` the next day's) or a moment (RFC 3339).
fn moment(field: &str, raw: &str, end_of_day: bool) -> Result<Option<DateTime<Utc>>, Refusal> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let wrong = || Refusal::invalid(field, format!("\"{}\" is not a day or a time: use YYYY-MM-DD, or RFC 3339 such as 2026-12-07T06:00:00Z", raw.chars().take(40).collect::<String>()));
    if raw.len() > 40 {
        return Err(wrong());
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = if end_of_day { day.succ_opt().ok_or_else(wrong)? } else { day };
        return Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    DateTime::parse_from_rfc3339(raw).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| wrong())
}

/// The span asked for: from today (UTC) for four weeks unless said otherwise.
pub fn span(from: &str, to: &str, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), Refusal> {
    let today = now.date_naive().and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
    let from_at = moment("from", from, false)?.unwrap_or(today);
    let until = moment("to", to, true)?.unwrap_or(from_at + Duration::days(DEFAULT_DAYS));
    if until <= from_at {
        return Err(Refusal::invalid("to", "the calendar ends after it starts: choose a later \"to\""));
    }
    if until - from_at > Duration::days(MAX_DAYS) {
        return Err(Refusal::invalid("to", format!("the calendar covers at most {MAX_DAYS} days at a time: choose a nearer \"to\"")));
    }
    Ok((from_at, until))
}

/// The filters, trimmed, each at most 200 characters.
fn filters(q: &CalendarQuery) -> Result<CalendarQuery, Refusal> {
    let mut out = CalendarQuery { from: q.from.trim().to_owned(), to: q.to.trim().to_owned(), ..Default::default() };
    for (field, raw, into) in [("team", &q.team, &mut out.team), ("service", &q.service, &mut out.service), ("site", &q.site, &mut out.site), ("partner", &q.partner, &mut out.partner)] {
        let value = raw.trim();
        if value.chars().count() > 200 {
            return Err(Refusal::invalid(field, format!("the {field} is longer than 200 characters")));
        }
        *into = value.to_owned();
    }
    Ok(out)
}

fn hm(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn freeze_events(freezes: Vec<FreezeView>) -> Vec<CalendarEvent> {
    let mut out = Vec::new();
    for f in freezes {
        let detail = match (&f.schedule, f.duration_mins) {
            (Some(s), Some(m)) => format!("Recurring: every \"{s}\" (UTC) for {m} min. Deploys to {} are refused unless an admin overrides.", f.environment),
            _ => format!("Deploys to {} are refused unless an admin overrides.", f.environment),
        };
        for (start, end) in &f.occurrences {
            out.push(CalendarEvent {
                uid: format!("freeze-{}-{}", f.id.0, start.timestamp()),
                kind: "freeze".into(),
                title: format!("Freeze of {}: {}", f.environment, f.reason),
                starts_at: *start,
                ends_at: *end,
                on: f.environment.clone(),
                href: "/deploys/freezes".into(),
                detail: detail.clone(),
                ..Default::default()
            });
        }
    }
    out
}

fn maintenance_event(w: MaintenanceWindow, radius: Option<BlastRadius>) -> CalendarEvent {
    let href = match (w.subject_kind.as_str(), &w.circuit) {
        ("circuit", Some(c)) => circuit_href(&c.provider, &c.cid),
        ("device", _) => device_href(&w.subject),
        _ => site_href(&w.subject),
    };
    let (mut partners, mut cuts_off, mut services, mut teams) = (BTreeSet::new(), Vec::new(), BTreeSet::new(), BTreeSet::new());
    if let Some(r) = radius {
        for p in r.partners {
            if p.effect == "cut_off" {
                cuts_off.push(p.name.clone());
            }
            partners.insert(p.name);
        }
        for i in r.integrations {
            teams.insert(i.owner);
        }
        for s in r.services {
            teams.insert(s.owner);
            services.insert(s.entity);
        }
    }
    let what = if w.kind == "carrier_notice" { "Carrier's notice" } else { "Planned work" };
    CalendarEvent {
        uid: format!("maintenance-{}", w.id),
        kind: "maintenance".into(),
        detail: format!("{what} on the {} {}{}", w.subject_kind, w.subject, w.reference.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()),
        title: w.title,
        starts_at: w.starts_at,
        ends_at: w.ends_at,
        on: w.subject,
        href,
        teams: teams.into_iter().collect(),
        services: services.into_iter().collect(),
        sites: w.site.into_iter().collect(),
        partners: partners.into_iter().collect(),
        cuts_off,
        ..Default::default()
    }
}

fn run_events(runs: Vec<CriticalRuns>, partner_sites: &HashMap<String, Vec<String>>) -> Vec<CalendarEvent> {
    let mut out = Vec::new();
    for c in runs {
        let sites: BTreeSet<String> = c.partners.iter().filter_map(|p| partner_sites.get(p)).flatten().cloned().collect();
        let sites: Vec<String> = sites.into_iter().collect();
        let detail = format!("Critical ({}): scheduled \"{}\" ({}).", c.why, c.schedule, c.time_zone);
        for (start, end) in &c.runs {
            out.push(CalendarEvent {
                uid: format!("run-{}-{}", c.name, start.timestamp()),
                kind: "integration".into(),
                title: c.title.clone(),
                starts_at: *start,
                ends_at: *end,
                on: c.name.clone(),
                href: format!("/integrations/{}", seg(&c.name)),
                detail: detail.clone(),
                teams: vec![c.owner.clone()],
                services: c.services.clone(),
                sites: sites.clone(),
                partners: c.partners.clone(),
                ..Default::default()
            });
        }
    }
    out
}

/// Flags each maintenance window that cuts off a partner while a critical integration with a
/// system that partner hosts is scheduled to run, on both: the run names the window, the window
/// each integration (and its runs) it cuts off.
pub fn flag_clashes(events: &mut [CalendarEvent]) {
    // (window, integration's title, partner) → the runs' starts
    let mut per_window: BTreeMap<(usize, String, String), Vec<DateTime<Utc>>> = BTreeMap::new();
    let mut on_runs: Vec<(usize, String)> = Vec::new();
    for (i, m) in events.iter().enumerate() {
        if m.kind != "maintenance" || m.cuts_off.is_empty() {
            continue;
        }
        for (j, r) in events.iter().enumerate() {
            if r.kind != "integration" || r.starts_at >= m.ends_at || m.starts_at >= r.ends_at {
                continue;
            }
            if let Some(p) = r.partners.iter().find(|p| m.cuts_off.contains(p)) {
                on_runs.push((j, format!("{} on {} ({} to {}) cuts off {p}, which it reaches", m.title, m.on, hm(m.starts_at), hm(m.ends_at))));
                per_window.entry((i, r.title.clone(), p.clone())).or_default().push(r.starts_at);
            }
        }
    }
    for (j, line) in on_runs {
        events[j].clashes.push(line);
    }
    for ((i, title, partner), starts) in per_window {
        let line = match starts.as_slice() {
            [one] => format!("cuts off {partner} during the critical run of {title} at {}", hm(*one)),
            [first, ..] => format!("cuts off {partner} during {} critical runs of {title}, the first at {}", starts.len(), hm(*first)),
            [] => continue,
        };
        events[i].clashes.push(line);
    }
}

/// Whether an event touches what the query narrows to. A freeze touches every team and
/// component, so it stays under those filters, but touches no site or partner.
pub fn touches(e: &CalendarEvent, q: &CalendarQuery) -> bool {
    let freeze = e.kind == "freeze";
    let team = q.team.is_empty() || freeze || e.teams.iter().any(|t| t.eq_ignore_ascii_case(&q.team));
    let service = q.service.is_empty() || freeze || e.services.iter().any(|s| *s == q.service || s.rsplit('/').next() == Some(q.service.as_str()));
    let site = q.site.is_empty() || e.sites.contains(&q.site);
    let partner = q.partner.is_empty() || e.partners.contains(&q.partner);
    team && service && site && partner
}

fn offered(events: &[CalendarEvent], of: impl Fn(&CalendarEvent) -> &Vec<String>) -> Vec<String> {
    let all: BTreeSet<&String> = events.iter().flat_map(of).collect();
    all.into_iter().cloned().collect()
}

/// The change calendar (anyone who may read) over the span and filters asked for.
#[tracing::instrument(name = "calendar.service.calendar", skip_all, err)]
pub async fn calendar(pool: &PgPool, principal: &Principal, query: &CalendarQuery, now: DateTime<Utc>) -> Result<ChangeCalendar, CalendarError> {
    principal.require_read()?;
    let (from, until) = span(&query.from, &query.to, now)?;
    let query = filters(query)?;
    let mut conn = pool.acquire().await?;
    let freezes = crate::deploys::service::freezes_between(&mut conn, from, until, MAX_REPEATS).await?;
    let windows = crate::topology::service::blast::maintenance_effects(&mut conn, from, until).await?;
    let runs = crate::integrations::service::critical_runs(&mut conn, None, from, until, MAX_REPEATS).await?;
    let partner_sites = crate::topology::service::blast::partner_sites(&mut conn).await?;
    drop(conn);

    let mut events = freeze_events(freezes);
    events.extend(windows.into_iter().map(|(w, r)| maintenance_event(w, r)));
    events.extend(run_events(runs, &partner_sites));
    flag_clashes(&mut events);
    events.sort_by(|a, b| (a.starts_at, &a.kind, &a.title).cmp(&(b.starts_at, &b.kind, &b.title)));
    let (teams, services, sites, partners) =
        (offered(&events, |e| &e.teams), offered(&events, |e| &e.services), offered(&events, |e| &e.sites), offered(&events, |e| &e.partners));
    events.retain(|e| touches(e, &query));
    let truncated = events.len() > MAX_EVENTS;
    events.truncate(MAX_EVENTS);
    Ok(ChangeCalendar { from, until, query, events, truncated, teams, services, sites, partners })
}

/// The calendar as iCalendar (RFC 5545): one event per entry, its page as the URL (under
/// `public_url`), what it cuts off and its clashes in the description.
pub fn ics(c: &ChangeCalendar, public_url: &str) -> String {
    use icalendar::{Calendar, Component, Event, EventLike};
    let base = public_url.trim_end_matches('/');
    let mut cal = Calendar::new();
    cal.name("Switchyard change calendar");
    cal.description("Deploy freezes, network maintenance and the runs of critical integrations");
    for e in &c.events {
        let mut description = e.detail.clone();
        if !e.cuts_off.is_empty() {
            description.push_str(&format!("\nCuts off: {}.", e.cuts_off.join(", ")));
        }
        for clash in &e.clashes {
            description.push_str(&format!("\nClash: {clash}."));
        }
        let category = match e.kind.as_str() {
            "freeze" => "Freeze",
            "maintenance" => "Maintenance",
            _ => "Critical integration run",
        };
        cal.push(
            Event::new()
                .uid(&format!("{}@switchyard", e.uid))
                .summary(&format!("{}{}", if e.clashes.is_empty() { "" } else { "Clash: " }, e.title))
                .description(&description)
                .starts(e.starts_at)
                .ends(e.ends_at)
                .url(&format!("{base}{}", e.href))
                .add_property("CATEGORIES", category)
                .done(),
        );
    }
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 12, 10).and_then(|d| d.and_hms_opt(h, 0, 0)).map(|t| t.and_utc()).expect("a time")
    }

    fn event(kind: &str, title: &str, from: u32, to: u32) -> CalendarEvent {
        CalendarEvent {
            uid: title.into(),
            kind: kind.into(),
            title: title.into(),
            starts_at: at(from),
            ends_at: at(to),
            on: title.into(),
            href: "/".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_window_that_cuts_off_a_partner_during_a_critical_run_is_flagged_on_both() {
        let mut window = event("maintenance", "Core upgrade", 5, 8);
        window.cuts_off = vec!["Bank A".into()];
        window.partners = vec!["Bank A".into(), "Bank B".into()];
        let mut inside = event("integration", "Statements from A", 6, 7);
        inside.partners = vec!["Bank A".into()];
        let mut after = event("integration", "Statements from A", 9, 10);
        after.partners = vec!["Bank A".into()];
        // left with one path, not cut off: no clash
        let mut other = event("integration", "Payments to B", 6, 7);
        other.partners = vec!["Bank B".into()];
        let mut freeze = event("freeze", "Freeze of production", 0, 23);
        freeze.teams = Vec::new();
        let mut events = vec![window, inside, after, other, freeze];
        flag_clashes(&mut events);
        assert_eq!(events[0].clashes, vec!["cuts off Bank A during the critical run of Statements from A at 2026-12-10 06:00 UTC".to_owned()]);
        assert_eq!(events[1].clashes.len(), 1);
        assert!(events[1].clashes[0].starts_with("Core upgrade on Core upgrade (2026-12-10 05:00 UTC to 2026-12-10 08:00 UTC) cuts off Bank A"), "{:?}", events[1].clashes);
        assert!(events[2].clashes.is_empty(), "a run after the window ends does not clash");
        assert!(events[3].clashes.is_empty(), "a partner left with one path is not cut off");
        assert!(events[4].clashes.is_empty(), "a freeze clashes with no run");
    }

    #[test]
    fn a_window_over_many_runs_says_how_many() {
        let mut window = event("maintenance", "Fibre repair", 0, 12);
        window.cuts_off = vec!["Bank A".into()];
        let mut events = vec![window];
        for h in [1, 4, 7] {
            let mut r = event("integration", "Hourly feed", h, h + 1);
            r.partners = vec!["Bank A".into()];
            events.push(r);
        }
        flag_clashes(&mut events);
        assert_eq!(events[0].clashes, vec!["cuts off Bank A during 3 critical runs of Hourly feed, the first at 2026-12-10 01:00 UTC".to_owned()]);
        assert!(events[1..].iter().all(|e| e.clashes.len() == 1));
    }

    #[test]
    fn freezes_stay_under_team_and_service_filters_but_not_site_or_partner() {
        let freeze = event("freeze", "Freeze of production", 0, 23);
        let mut run = event("integration", "Statements", 6, 7);
        run.teams = vec!["Treasury".into()];
        run.services = vec!["component:default/ledger-core".into()];
        run.partners = vec!["Bank A".into()];
        run.sites = vec!["ldn-eq".into()];
        let q = |f: fn(&mut CalendarQuery)| {
            let mut q = CalendarQuery::default();
            f(&mut q);
            q
        };
        let by_team = q(|q| q.team = "treasury".into());
        let by_service = q(|q| q.service = "ledger-core".into());
        let by_ref = q(|q| q.service = "component:default/ledger-core".into());
        let by_other = q(|q| q.service = "billing".into());
        let by_site = q(|q| q.site = "ldn-eq".into());
        let by_partner = q(|q| q.partner = "Bank B".into());
        assert!(touches(&freeze, &by_team) && touches(&run, &by_team));
        assert!(touches(&freeze, &by_service) && touches(&run, &by_service) && touches(&run, &by_ref));
        assert!(touches(&freeze, &by_other) && !touches(&run, &by_other));
        assert!(!touches(&freeze, &by_site) && touches(&run, &by_site));
        assert!(!touches(&freeze, &by_partner) && !touches(&run, &by_partner));
    }

    #[test]
    fn the_span_defaults_to_four_weeks_from_today_and_says_what_is_wrong() {
        let now = at(13);
        let (from, until) = span("", "", now).expect("a span");
        assert_eq!(from, at(0));
        assert_eq!(until - from, Duration::days(DEFAULT_DAYS));
        let (from, until) = span("2026-12-10", "2026-12-10", now).expect("one day");
        assert_eq!((from, until), (at(0), at(0) + Duration::days(1)));
        let (from, _) = span("2026-12-10T06:00:00Z", "", now).expect("a moment");
        assert_eq!(from, at(6));
        let field = |e: Refusal| match e {
            Refusal::Invalid(p) => p.field,
            other => panic!("not a field's problem: {other:?}"),
        };
        assert_eq!(field(span("next week", "", now).expect_err("not a day")), "from");
        assert_eq!(field(span("2026-12-10", "2026-12-09", now).expect_err("backwards")), "to");
        let e = span("2026-01-01", "2026-12-31", now).expect_err("too long");
        assert!(e.to_string().contains("at most 92 days"), "{e}");
    }
}
