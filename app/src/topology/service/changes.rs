//! The network team's changes, each with its audit row in the same transaction: maintenance
//! windows, the integration systems a partner hosts, edits of a device, links and sessions
//! removed. An edit that touches a device in PCI scope, or the removal of a link or a session
//! to a partner, waits for approval through the engine and is made when it is approved. Interface
//! states come in from a collector, each change kept with its time.
use super::{may_report, require_change, shown, TopologyError, NETWORK_TEAM};
use crate::approvals::service::{self as approvals, Ask};
use crate::approvals::types::Approvers;
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::error::Refusal;
use crate::iam::principal::Principal;
use crate::topology::repo::changes::{self as repo, DeviceNow, InterfaceStateRow, NewMaintenance};
use crate::topology::types::{
    ChangeOutcome, DeviceEdit, InterfaceChange, InterfaceHistory, InterfaceOutcome, MaintenanceForm, MaintenanceList, MaintenanceWindow,
    UnknownInterface, DEVICE_STATUSES, MAINTENANCE_KINDS, MAX_MAINTENANCE_DAYS,
};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The approval subject of the network's changes that wait for approval.
pub const NETWORK_CHANGE: &str = "network_change";
/// Its actions.
pub const EDIT_DEVICE: &str = "device.edit";
pub const REMOVE_LINK: &str = "link.remove";
pub const REMOVE_SESSION: &str = "session.remove";

/// How long a request waits for its approvers.
const APPROVAL_VALID_DAYS: i64 = 7;
/// The most interface reports a batch may carry.
pub const MAX_INTERFACE_REPORTS: usize = 1_000;
/// The most windows one listing answers.
const MAX_WINDOWS: i64 = 1_000;

/// An interface's state as one report gives it.
struct InterfaceReport {
    device: String,
    interface: String,
    up: bool,
    at: DateTime<Utc>,
}

/// Reads a batch of interface reports: every problem named by its JSON pointer (`/3/state`);
/// one refuses the batch.
fn parse_interface_reports(body: &Value, now: DateTime<Utc>) -> Result<Vec<InterfaceReport>, Refusal> {
    let mut reports = Vec::new();
    for item in super::reported_batch(body, "interface states", MAX_INTERFACE_REPORTS, "device, interface, state, at")? {
        let device = item.text("device")?;
        let interface = item.text("interface")?;
        for (f, v) in [("device", device), ("interface", interface)] {
            if v.chars().count() > 100 {
                return Err(Refusal::invalid(&item.field(f), format!("{f} is at most 100 characters")));
            }
        }
        let up = match item.text("state")?.to_ascii_lowercase().as_str() {
            "up" => true,
            "down" => false,
            other => return Err(Refusal::invalid(&item.field("state"), format!("\"{}\" is not an interface state: use up or down", shown(other)))),
        };
        reports.push(InterfaceReport { device: device.to_owned(), interface: interface.to_owned(), up, at: item.at(now)? });
    }
    Ok(reports)
}

/// Takes a collector's batch of interface states (a token with the `network-state` scope). Each
/// change is kept with the time the collector saw it; a report older than the interface's last
/// change is left out (stale); an interface Switchyard does not know is named back.
#[tracing::instrument(name = "topology.service.report_interface_states", skip_all, err)]
pub async fn report_interface_states(pool: &PgPool, principal: &Principal, body: &Value) -> Result<InterfaceOutcome, TopologyError> {
    may_report(principal)?;
    let reports = parse_interface_reports(body, Utc::now())?;
    let mut tx = pool.begin().await?;
    let devices: Vec<String> = reports.iter().map(|r| r.device.clone()).collect();
    let names: Vec<String> = reports.iter().map(|r| r.interface.clone()).collect();
    let known = repo::lock_interfaces(&mut tx, &devices, &names).await?;
    let by_ends: HashMap<(&str, &str), usize> = known.iter().enumerate().map(|(i, k)| ((k.device.as_str(), k.interface.as_str()), i)).collect();
    let mut outcome = InterfaceOutcome::default();
    let mut per_interface: BTreeMap<usize, Vec<&InterfaceReport>> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        match by_ends.get(&(r.device.as_str(), r.interface.as_str())) {
            Some(&k) => {
                outcome.received += 1;
                per_interface.entry(k).or_default().push(r);
            }
            None => outcome.unknown.push(UnknownInterface { index: i as u32, device: r.device.clone(), interface: r.interface.clone() }),
        }
    }
    let (mut after, mut changes) = (Vec::new(), Vec::new());
    for (k, mut seen) in per_interface {
        seen.sort_by_key(|r| r.at);
        let current = &known[k];
        let (mut up, mut since) = (current.oper_up, current.oper_changed_at);
        for r in seen {
            if since.is_some_and(|t| r.at < t) {
                outcome.stale += 1;
                continue;
            }
            if up != Some(r.up) {
                changes.push(InterfaceStateRow { interface: current.id, at: r.at, up: r.up, previous: up });
                up = Some(r.up);
                since = Some(r.at);
            }
        }
        if let (Some(up), Some(since)) = (up, since) {
            after.push((current.id, up, since));
        }
    }
    outcome.changed = repo::keep_interface_changes(&mut tx, &changes).await? as u32;
    repo::save_interface_states(&mut tx, &after).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A device's interface changes (of one interface, when named), newest first.
#[tracing::instrument(name = "topology.service.interface_history", skip_all, err)]
pub async fn interface_history(pool: &PgPool, principal: &Principal, device: &str, interface: Option<&str>, limit: i64) -> Result<InterfaceHistory, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let rows = repo::interface_changes(&mut conn, device, interface, limit.clamp(1, 500))
        .await?
        .ok_or_else(|| Refusal::not_found(format!("The device \"{}\"", shown(device))))?;
    let changes = rows.into_iter().map(|r| InterfaceChange { interface: r.interface, at: r.at, up: r.up, previous: r.previous }).collect();
    Ok(InterfaceHistory { device: device.to_owned(), changes })
}

fn window_of(doc: Value) -> Result<MaintenanceWindow, TopologyError> {
    serde_json::from_value(doc).map_err(|e| TopologyError::Drawing(format!("a maintenance window does not read: {e}")))
}

/// The maintenance windows overlapping `[from, until)`, soonest first (every one may read them:
/// they are on the change calendar).
#[tracing::instrument(name = "topology.service.maintenance", skip_all, err)]
pub async fn maintenance(pool: &PgPool, principal: &Principal, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<MaintenanceList, TopologyError> {
    principal.require_read()?;
    if until <= from {
        return Err(Refusal::invalid("until", "until is after from").into());
    }
    let mut conn = pool.acquire().await?;
    let items = windows_between(&mut conn, from, until).await?;
    Ok(MaintenanceList { from, until, items })
}

/// The maintenance windows overlapping `[from, until)`, soonest first.
pub(super) async fn windows_between(conn: &mut PgConnection, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<MaintenanceWindow>, TopologyError> {
    repo::maintenance(conn, from, until, MAX_WINDOWS).await?.into_iter().map(window_of).collect()
}

/// A time as the API (RFC 3339) or a browser's date-and-time field (`YYYY-MM-DDTHH:MM`, UTC) sends it.
pub fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, Refusal> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Refusal::invalid(field, "a time is required (RFC 3339, or YYYY-MM-DDTHH:MM in UTC)"));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| Refusal::invalid(field, format!("\"{}\" is not a time: use RFC 3339, or YYYY-MM-DDTHH:MM in UTC", shown(raw))))
}

/// A window's form, read: every problem named by its field, all of them at once.
struct Planned {
    device: Option<String>,
    site: Option<String>,
    circuit: Option<(String, String)>,
    kind: String,
    title: String,
    reference: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

fn read_form(form: &MaintenanceForm, now: DateTime<Utc>) -> Result<Planned, Refusal> {
    let mut problems = Vec::new();
    let mut note = |r: Refusal| {
        if let Refusal::Invalid(p) = r {
            problems.push(p);
        }
    };
    let trimmed = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let (device, site) = (trimmed(&form.device), trimmed(&form.site));
    let circuit = form.circuit.as_ref().map(|c| (c.provider.trim().to_owned(), c.cid.trim().to_owned())).filter(|(p, c)| !p.is_empty() || !c.is_empty());
    let subjects = usize::from(device.is_some()) + usize::from(site.is_some()) + usize::from(circuit.is_some());
    if subjects != 1 {
        note(Refusal::invalid("device", "name one device, one site or one circuit that the work is on"));
    }
    if let Some((p, c)) = &circuit {
        if p.is_empty() || c.is_empty() {
            note(Refusal::invalid("circuit", "a circuit is named by its provider and its id"));
        }
    }
    let kind = trimmed(&form.kind).unwrap_or_else(|| "planned".into());
    if !MAINTENANCE_KINDS.contains(&kind.as_str()) {
        note(Refusal::invalid("kind", format!("\"{}\" is not a kind of window: use {}", shown(&kind), MAINTENANCE_KINDS.join(" or "))));
    }
    let title = form.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 {
        note(Refusal::invalid("title", "say what the work is, in 1 to 200 characters"));
    }
    let reference = trimmed(&form.reference);
    if reference.as_ref().is_some_and(|r| r.chars().count() > 100) {
        note(Refusal::invalid("reference", "a reference is at most 100 characters"));
    }
    let starts_at = parse_time("starts_at", &form.starts_at).map_err(&mut note).ok();
    let ends_at = parse_time("ends_at", &form.ends_at).map_err(&mut note).ok();
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            note(Refusal::invalid("ends_at", "the window ends after it starts"));
        } else if e - s > Duration::days(MAX_MAINTENANCE_DAYS) {
            note(Refusal::invalid("ends_at", format!("a window lasts at most {MAX_MAINTENANCE_DAYS} days")));
        } else if e <= now {
            note(Refusal::invalid("ends_at", "the window has ended already"));
        }
    }
    match (starts_at, ends_at, problems.is_empty()) {
        (Some(starts_at), Some(ends_at), true) => Ok(Planned { device, site, circuit, kind, title, reference, starts_at, ends_at }),
        _ => Err(Refusal::InvalidFields(problems)),
    }
}

/// Puts a window on the calendar inside the caller's transaction, with its audit row.
async fn plan_in(conn: &mut PgConnection, actor: Actor<'_>, form: &MaintenanceForm, meta: &RequestMeta) -> Result<MaintenanceWindow, TopologyError> {
    let p = read_form(form, Utc::now())?;
    let circuit = p.circuit.as_ref().map(|(a, b)| (a.as_str(), b.as_str()));
    let subject = repo::maintenance_subject(&mut *conn, p.device.as_deref(), p.site.as_deref(), circuit).await?;
    let missing = match (&p.device, &p.site, &p.circuit) {
        (Some(d), _, _) if subject.device_id.is_none() => Some(("device", format!("there is no device \"{}\"", shown(d)))),
        (_, Some(s), _) if subject.site_id.is_none() => Some(("site", format!("there is no site \"{}\"", shown(s)))),
        (_, _, Some((pr, c))) if subject.circuit_id.is_none() => Some(("circuit", format!("there is no circuit \"{}\" of \"{}\"", shown(c), shown(pr)))),
        _ => None,
    };
    if let Some((field, message)) = missing {
        return Err(Refusal::invalid(field, message).into());
    }
    let created_by = match actor {
        Actor::Person(p) => Some(p.user_id.0),
        Actor::System => None,
    };
    let new = NewMaintenance {
        subject: &subject,
        kind: &p.kind,
        title: &p.title,
        reference: p.reference.as_deref(),
        starts_at: p.starts_at,
        ends_at: p.ends_at,
        created_by,
    };
    let id = repo::insert_maintenance(&mut *conn, &new).await?;
    let doc = repo::maintenance_window(&mut *conn, id).await?.ok_or_else(|| Refusal::not_found("That maintenance window"))?;
    let change = Change { action: "topology.maintenance.plan", subject_kind: SubjectKind::MaintenanceWindow, subject_id: id.to_string(), before: None, after: Some(doc.clone()) };
    audit::record(&mut *conn, actor, change, meta).await?;
    window_of(doc)
}

/// Puts planned work, or a carrier's notice, on a device, a circuit or a site (the network team
/// or an admin): on the change calendar beside the deploy freezes.
#[tracing::instrument(name = "topology.service.plan_maintenance", skip_all, fields(user = %principal.username), err)]
pub async fn plan_maintenance(pool: &PgPool, principal: &Principal, form: &MaintenanceForm, meta: &RequestMeta) -> Result<MaintenanceWindow, TopologyError> {
    require_change(principal)?;
    let mut tx = pool.begin().await?;
    let window = plan_in(&mut tx, Actor::Person(principal), form, meta).await?;
    tx.commit().await?;
    Ok(window)
}

/// Takes a window off the calendar (the network team or an admin), with its audit row.
#[tracing::instrument(name = "topology.service.cancel_maintenance", skip_all, fields(user = %principal.username), err)]
pub async fn cancel_maintenance(pool: &PgPool, principal: &Principal, id: Uuid, meta: &RequestMeta) -> Result<(), TopologyError> {
    require_change(principal)?;
    let mut tx = pool.begin().await?;
    let before = repo::maintenance_window(&mut tx, id).await?.ok_or_else(|| Refusal::not_found("That maintenance window"))?;
    // another cancel may have taken it meanwhile: only the one that deleted it says so
    if !repo::delete_maintenance(&mut tx, id).await? {
        return Err(Refusal::not_found("That maintenance window").into());
    }
    let change = Change { action: "topology.maintenance.cancel", subject_kind: SubjectKind::MaintenanceWindow, subject_id: id.to_string(), before: Some(before), after: None };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// The demo's maintenance windows, as Switchyard, in one transaction; a second load changes
/// nothing.
#[tracing::instrument(name = "topology.service.load_demo_maintenance", skip_all, err)]
pub async fn load_demo_maintenance(pool: &PgPool, windows: &[MaintenanceForm], meta: &RequestMeta) -> Result<(), TopologyError> {
    let mut tx = pool.begin().await?;
    for w in windows {
        // a second load finds its windows by their references, and adds none
        let known = match w.reference.as_deref() {
            Some(r) => repo::maintenance_referenced(&mut tx, r).await?,
            None => false,
        };
        if !known {
            plan_in(&mut tx, Actor::System, w, meta).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Who approves the network's changes: the network team's leads (or admins) when the requester
/// is of that team, else admins.
fn ask(principal: &Principal, subject_id: String, action: &'static str, summary: String, payload: Value, reason: String) -> Ask<'static> {
    let team = principal.teams.iter().find(|t| t.slug == NETWORK_TEAM).map(|t| t.team_id);
    Ask {
        subject_kind: NETWORK_CHANGE,
        subject_id,
        action,
        summary,
        payload,
        required_approvals: 1,
        approvers: if team.is_some() { Approvers::TeamLeadsOrAdmins } else { Approvers::Admins },
        owning_team: team,
        reason,
        valid_for: Duration::days(APPROVAL_VALID_DAYS),
    }
}

fn reason_of(reason: &Option<String>, why: &str) -> Result<String, Refusal> {
    let reason = reason.as_deref().map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return Err(Refusal::invalid("reason", format!("{why} needs approval: say why")));
    }
    if reason.chars().count() > 1000 {
        return Err(Refusal::invalid("reason", "a reason is at most 1,000 characters"));
    }
    Ok(reason.to_owned())
}

/// The device as the edit would leave it, or why the edit does not read.
fn edited(now: &DeviceNow, edit: &DeviceEdit) -> Result<DeviceNow, Refusal> {
    let mut after = now.clone();
    // a field is checked when it changes: what a sync brought in stays as it is
    if let Some(status) = edit.status.as_deref().map(str::trim).filter(|s| *s != now.status) {
        if !DEVICE_STATUSES.contains(&status) {
            return Err(Refusal::invalid("status", format!("\"{}\" is not a device status: use {}", shown(status), DEVICE_STATUSES.join(", "))));
        }
        after.status = status.to_owned();
    }
    if let Some(role) = edit.role.as_deref().map(str::trim).filter(|r| *r != now.role) {
        if role.is_empty() || role.chars().count() > 50 || !role.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_')) {
            return Err(Refusal::invalid("role", "a role is 1 to 50 letters, digits, spaces, - or _ (border router, core switch, leaf …)"));
        }
        after.role = role.to_owned();
    }
    if let Some(platform) = edit.platform.as_deref().map(str::trim).filter(|p| Some(*p) != now.platform.as_deref()) {
        if platform.chars().count() > 100 {
            return Err(Refusal::invalid("platform", "a platform is at most 100 characters"));
        }
        after.platform = (!platform.is_empty()).then(|| platform.to_owned());
    }
    if let Some(pci) = edit.pci_scope {
        after.pci_scope = pci;
    }
    Ok(after)
}

fn device_json(d: &DeviceNow) -> Value {
    json!({ "status": d.status, "role": d.role, "platform": d.platform, "pci_scope": d.pci_scope })
}

async fn apply_edit(conn: &mut PgConnection, actor: Actor<'_>, before: &DeviceNow, after: &DeviceNow, meta: &RequestMeta) -> Result<(), TopologyError> {
    repo::update_device(&mut *conn, after).await?;
    let change = Change {
        action: "topology.device.edit",
        subject_kind: SubjectKind::Device,
        subject_id: before.name.clone(),
        before: Some(device_json(before)),
        after: Some(device_json(after)),
    };
    audit::record(conn, actor, change, meta).await?;
    Ok(())
}

/// Edits a device's status, role, platform or PCI scope (the network team or an admin). A device
/// in PCI scope, before or after, is changed only once approved: the request is opened and the
/// edit waits for it.
#[tracing::instrument(name = "topology.service.edit_device", skip_all, fields(user = %principal.username), err)]
pub async fn edit_device(pool: &PgPool, principal: &Principal, name: &str, edit: &DeviceEdit, meta: &RequestMeta) -> Result<ChangeOutcome, TopologyError> {
    require_change(principal)?;
    let mut tx = pool.begin().await?;
    let now = repo::lock_device(&mut tx, name).await?.ok_or_else(|| Refusal::not_found(format!("The device \"{}\"", shown(name))))?;
    let after = edited(&now, edit)?;
    if after == now {
        return Ok(ChangeOutcome { applied: true, approval_id: None, message: format!("{} is as asked already; nothing changed", now.name) });
    }
    if now.pci_scope || after.pci_scope {
        let reason = reason_of(&edit.reason, "a change to a device in PCI scope")?;
        let summary = format!("Edit {} (PCI scope): {}", now.name, describe(&now, &after));
        let payload = json!({ "id": now.id, "device": now.name, "before": device_json(&now), "after": device_json(&after) });
        let id = approvals::open(&mut tx, principal, ask(principal, now.name.clone(), EDIT_DEVICE, summary, payload, reason), meta).await?;
        tx.commit().await?;
        return Ok(ChangeOutcome { applied: false, approval_id: Some(id.0), message: format!("{} is in PCI scope: the edit waits for approval", now.name) });
    }
    apply_edit(&mut tx, Actor::Person(principal), &now, &after, meta).await?;
    tx.commit().await?;
    Ok(ChangeOutcome { applied: true, approval_id: None, message: format!("{} changed: {}", now.name, describe(&now, &after)) })
}

/// "status active → offline, PCI scope no → yes".
fn describe(before: &DeviceNow, after: &DeviceNow) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let none = |p: &Option<String>| p.clone().unwrap_or_else(|| "none".into());
    let mut parts = Vec::new();
    if before.status != after.status {
        parts.push(format!("status {} → {}", before.status, after.status));
    }
    if before.role != after.role {
        parts.push(format!("role {} → {}", before.role, after.role));
    }
    if before.platform != after.platform {
        parts.push(format!("platform {} → {}", none(&before.platform), none(&after.platform)));
    }
    if before.pci_scope != after.pci_scope {
        parts.push(format!("PCI scope {} → {}", yes(before.pci_scope), yes(after.pci_scope)));
    }
    parts.join(", ")
}

/// Removes a link (the network team or an admin). A link whose circuit reaches a partner is
/// removed only once approved.
#[tracing::instrument(name = "topology.service.remove_link", skip_all, fields(user = %principal.username), err)]
pub async fn remove_link(pool: &PgPool, principal: &Principal, id: Uuid, reason: Option<String>, meta: &RequestMeta) -> Result<ChangeOutcome, TopologyError> {
    require_change(principal)?;
    let mut tx = pool.begin().await?;
    let link = repo::lock_link(&mut tx, id).await?.ok_or_else(|| Refusal::not_found("That link"))?;
    if let Some(partner) = &link.partner {
        let reason = reason_of(&reason, "removing a link to a partner")?;
        let summary = format!("Remove the link {} (to {partner})", link.label);
        let payload = json!({ "label": link.label, "partner": partner });
        // (the link's id is the request's subject)
        let approval = approvals::open(&mut tx, principal, ask(principal, id.to_string(), REMOVE_LINK, summary, payload, reason), meta).await?;
        tx.commit().await?;
        return Ok(ChangeOutcome { applied: false, approval_id: Some(approval.0), message: format!("The link reaches {partner}: its removal waits for approval") });
    }
    delete_link_in(&mut tx, Actor::Person(principal), id, &link.label, meta).await?;
    tx.commit().await?;
    Ok(ChangeOutcome { applied: true, approval_id: None, message: format!("The link {} is removed", link.label) })
}

async fn delete_link_in(conn: &mut PgConnection, actor: Actor<'_>, id: Uuid, label: &str, meta: &RequestMeta) -> Result<(), TopologyError> {
    repo::delete_link(&mut *conn, id).await?;
    let change = Change { action: "topology.link.remove", subject_kind: SubjectKind::Link, subject_id: id.to_string(), before: Some(json!({ "label": label })), after: None };
    audit::record(conn, actor, change, meta).await?;
    Ok(())
}

/// Removes a BGP session (the network team or an admin). A session to a partner is removed only
/// once approved.
#[tracing::instrument(name = "topology.service.remove_session", skip_all, fields(user = %principal.username), err)]
pub async fn remove_session(pool: &PgPool, principal: &Principal, name: &str, reason: Option<String>, meta: &RequestMeta) -> Result<ChangeOutcome, TopologyError> {
    require_change(principal)?;
    let mut tx = pool.begin().await?;
    let s = repo::lock_session(&mut tx, name).await?.ok_or_else(|| Refusal::not_found(format!("The BGP session \"{}\"", shown(name))))?;
    if let Some(partner) = &s.partner {
        let reason = reason_of(&reason, "removing a session to a partner")?;
        let summary = format!("Remove the BGP session {name} ({} to {partner})", s.device);
        let payload = json!({ "id": s.id, "device": s.device, "remote_address": s.remote_address, "partner": partner });
        let approval = approvals::open(&mut tx, principal, ask(principal, name.to_owned(), REMOVE_SESSION, summary, payload, reason), meta).await?;
        tx.commit().await?;
        return Ok(ChangeOutcome { applied: false, approval_id: Some(approval.0), message: format!("The session is to {partner}: its removal waits for approval") });
    }
    delete_session_in(&mut tx, Actor::Person(principal), s.id, name, &s.device, &s.remote_address, meta).await?;
    tx.commit().await?;
    Ok(ChangeOutcome { applied: true, approval_id: None, message: format!("The session {name} is removed") })
}

async fn delete_session_in(conn: &mut PgConnection, actor: Actor<'_>, id: Uuid, name: &str, device: &str, remote: &str, meta: &RequestMeta) -> Result<(), TopologyError> {
    repo::delete_session(&mut *conn, id).await?;
    let change = Change {
        action: "topology.session.remove",
        subject_kind: SubjectKind::BgpSession,
        subject_id: name.to_owned(),
        before: Some(json!({ "device": device, "remote_address": remote })),
        after: None,
    };
    audit::record(conn, actor, change, meta).await?;
    Ok(())
}

/// Makes an approved change, inside the decision's transaction: the subject as it is now must
/// still be as the request saw it (else the approver is told what moved).
#[tracing::instrument(name = "topology.service.perform", skip_all, err)]
pub async fn perform(conn: &mut PgConnection, subject_id: &str, action: &str, payload: &Value, approver: &Principal, meta: &RequestMeta) -> Result<(), TopologyError> {
    match action {
        EDIT_DEVICE => {
            let now = repo::lock_device(&mut *conn, subject_id).await?.ok_or_else(|| Refusal::invalid("subject", "the device is no longer in the network"))?;
            if json!(now.id) != payload["id"] || device_json(&now) != payload["before"] {
                return Err(Refusal::invalid("subject", format!("{} changed since the request: ask again", now.name)).into());
            }
            let after: DeviceEdit = serde_json::from_value(payload["after"].clone()).map_err(|_| Refusal::invalid("payload", "the edit does not read"))?;
            let after = DeviceNow { platform: after.platform.clone(), ..edited(&now, &after)? };
            apply_edit(conn, Actor::Person(approver), &now, &after, meta).await
        }
        REMOVE_LINK => {
            let id: Uuid = subject_id.parse().map_err(|_| Refusal::invalid("subject", "not a link's id"))?;
            let link = repo::lock_link(&mut *conn, id).await?.ok_or_else(|| Refusal::invalid("subject", "the link is gone already"))?;
            if json!(link.label) != payload["label"] || json!(link.partner) != payload["partner"] {
                return Err(Refusal::invalid("subject", format!("the link {} changed since the request: ask again", link.label)).into());
            }
            delete_link_in(conn, Actor::Person(approver), id, &link.label, meta).await
        }
        REMOVE_SESSION => {
            let s = repo::lock_session(&mut *conn, subject_id).await?.ok_or_else(|| Refusal::invalid("subject", "the session is gone already"))?;
            let same = json!(s.id) == payload["id"] && json!(s.device) == payload["device"] && json!(s.remote_address) == payload["remote_address"];
            if !same || json!(s.partner) != payload["partner"] {
                return Err(Refusal::invalid("subject", format!("the session {subject_id} changed since the request: ask again")).into());
            }
            delete_session_in(conn, Actor::Person(approver), s.id, subject_id, &s.device, &s.remote_address, meta).await
        }
        other => Err(Refusal::invalid("action", format!("\"{}\" is not a change of the network", shown(other))).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn a_batch_names_its_bad_report_by_pointer() {
        let now = at("2026-12-06T12:00:00Z");
        let body = json!([{ "device": "a", "interface": "xe-0/0/0", "state": "up" }, { "device": "a", "interface": "xe-0/0/1", "state": "sideways" }]);
        match parse_interface_reports(&body, now) {
            Err(Refusal::Invalid(p)) => {
                assert_eq!(p.field, "/1/state");
                assert!(p.message.contains("up or down"), "{}", p.message);
            }
            other => panic!("expected the second report refused, got {:?}", other.map(|r| r.len())),
        }
        let ahead = json!([{ "device": "a", "interface": "i", "state": "down", "at": "2026-12-06T12:10:00Z" }]);
        assert!(matches!(parse_interface_reports(&ahead, now), Err(Refusal::Invalid(p)) if p.field == "/0/at"));
    }

    #[test]
    fn a_window_form_names_every_problem_at_once() {
        let now = at("2026-12-06T12:00:00Z");
        let form = MaintenanceForm { device: Some("r1".into()), site: Some("fra1".into()), title: " ".into(), starts_at: "tomorrow".into(), ends_at: "2026-12-07T10:00".into(), ..Default::default() };
        let Err(Refusal::InvalidFields(problems)) = read_form(&form, now) else { panic!("the form is refused") };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["device", "title", "starts_at"]);
        let backwards = MaintenanceForm { site: Some("fra1".into()), title: "Power work".into(), starts_at: "2026-12-08T10:00".into(), ends_at: "2026-12-08T09:00".into(), ..Default::default() };
        assert!(matches!(read_form(&backwards, now), Err(Refusal::InvalidFields(p)) if p[0].field == "ends_at"));
        let fine = MaintenanceForm { site: Some("fra1".into()), title: "Power work".into(), starts_at: "2026-12-08T10:00".into(), ends_at: "2026-12-08T14:00:00Z".into(), ..Default::default() };
        let p = read_form(&fine, now).map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.kind.as_str(), p.ends_at - p.starts_at), ("planned", Duration::hours(4)));
    }

    #[test]
    fn an_edit_reads_its_fields_and_says_what_it_changes() {
        let now = DeviceNow { id: Uuid::nil(), name: "hsm-1".into(), status: "active".into(), role: "hsm".into(), platform: None, pci_scope: true };
        let bad = DeviceEdit { status: Some("melted".into()), ..Default::default() };
        assert!(matches!(edited(&now, &bad), Err(Refusal::Invalid(p)) if p.field == "status"));
        // what a sync brought in is not checked again when it does not change
        let synced = DeviceNow { role: "router/firewall".into(), status: "spare".into(), ..now.clone() };
        let same = DeviceEdit { status: Some("spare".into()), role: Some("router/firewall".into()), pci_scope: Some(false), ..Default::default() };
        assert_eq!(edited(&synced, &same).map(|d| d.pci_scope).ok(), Some(false));
        let edit = DeviceEdit { status: Some("offline".into()), pci_scope: Some(false), ..Default::default() };
        let after = edited(&now, &edit).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(describe(&now, &after), "status active → offline, PCI scope yes → no");
    }
}
