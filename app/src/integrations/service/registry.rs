//! Registering and changing systems and integrations. Members of the owning team (or admins)
//! change what the team owns. An integration that carries confidential or PCI data, or whose
//! target is outside the company, waits for approval by an admin or a lead of the owning team
//! (PCI: two), never the requester; so does raising an integration's classification. Every
//! change is one transaction with its audit row.
use super::IntegrationError;
use crate::approvals::service::{self as approvals, Ask};
use crate::approvals::types::Approvers;
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::catalog::types::Classification;
use crate::context::RequestMeta;
use crate::error::{FieldProblem, Refusal};
use crate::iam::principal::Principal;
use crate::iam::types::TeamId;
use crate::integrations::repo::{self, IntegrationRow, NewSystem};
use crate::integrations::types::{IntegrationDraft, IntegrationId, SystemDraft, SystemId, Trigger};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The subject kind of integrations in approvals.
pub const INTEGRATION: &str = "integration";
const REGISTER: &str = "register";
const EDIT: &str = "edit";
const APPROVAL_VALID_DAYS: i64 = 7;

fn invalid(field: &str, message: impl Into<String>) -> IntegrationError {
    Refusal::invalid(field, message).into()
}

fn rank(c: Classification) -> u8 {
    match c {
        Classification::Public => 0,
        Classification::Internal => 1,
        Classification::Confidential => 2,
        Classification::Pci => 3,
    }
}

/// Who registers: a person (their rights checked, approval where needed), or Switchyard itself
/// loading data of its own (the demo company), which is active at once.
#[derive(Clone, Copy)]
pub enum By<'a> {
    Person(&'a Principal),
    Switchyard,
}

impl By<'_> {
    fn actor(&self) -> Actor<'_> {
        match self {
            By::Person(p) => Actor::Person(p),
            By::Switchyard => Actor::System,
        }
    }

    fn require_team_change(&self, team: Uuid) -> Result<(), IntegrationError> {
        match self {
            By::Person(p) => Ok(p.require_team_change(TeamId(team))?),
            By::Switchyard => Ok(()),
        }
    }
}

/// Registers a system (a member of the owning team, or an admin).
#[tracing::instrument(name = "integrations.service.create_system", skip_all, fields(system = %draft.name), err)]
pub async fn create_system(pool: &PgPool, principal: &Principal, draft: &SystemDraft, meta: &RequestMeta) -> Result<SystemId, IntegrationError> {
    principal.require_write()?;
    add_system(pool, By::Person(principal), draft, meta).await
}

/// Changes a system (a member of the owning team, or an admin; of the new owning team too,
/// when it moves): every field but its name, as its form states them.
#[tracing::instrument(name = "integrations.service.edit_system", skip_all, fields(system = %draft.name), err)]
pub async fn edit_system(pool: &PgPool, principal: &Principal, draft: &SystemDraft, meta: &RequestMeta) -> Result<SystemId, IntegrationError> {
    principal.require_write()?;
    let mut tx = pool.begin().await?;
    let id = write_system(&mut tx, By::Person(principal), draft, true, meta).await?;
    tx.commit().await?;
    Ok(id)
}

/// Registers a system as `by`.
pub async fn add_system(pool: &PgPool, by: By<'_>, draft: &SystemDraft, meta: &RequestMeta) -> Result<SystemId, IntegrationError> {
    let mut tx = pool.begin().await?;
    let id = write_system(&mut tx, by, draft, false, meta).await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes a system as `by` inside the caller's transaction: a new one, or (`update`) the one of
/// that name, which the writer must be able to change too.
pub(super) async fn write_system(conn: &mut PgConnection, by: By<'_>, draft: &SystemDraft, update: bool, meta: &RequestMeta) -> Result<SystemId, IntegrationError> {
    let owner = team(&mut *conn, &draft.owner, "owner").await?;
    by.require_team_change(owner)?;
    let entity_id = match &draft.component {
        Some(c) => Some(repo::component_id(&mut *conn, c).await?.ok_or_else(|| invalid("component", format!("no component named \"{c}\" in the catalog")))?),
        None => None,
    };
    let partners: Vec<String> = draft.hosted_by.iter().chain(&draft.reached_via).cloned().collect();
    let found = repo::partner_ids(&mut *conn, &partners).await?;
    let partner = |field: &str, name: &Option<String>| -> Result<Option<Uuid>, IntegrationError> {
        match name {
            None => Ok(None),
            Some(n) => found.iter().find(|(f, _)| f == n).map(|(_, id)| Some(*id)).ok_or_else(|| invalid(field, format!("no partner named \"{n}\" in the topology"))),
        }
    };
    let hosted_by = partner("hosted_by", &draft.hosted_by)?;
    let reached_via = partner("reached_via", &draft.reached_via)?;
    let row = NewSystem {
        name: &draft.name,
        title: &draft.title,
        description: &draft.description,
        kind: draft.kind.as_str(),
        vendor: &draft.vendor,
        environment: draft.environment.as_str(),
        external: draft.external,
        owner_team_id: owner,
        classification: draft.classification.as_str(),
        contacts: &draft.contacts,
        entity_id,
        hosted_by,
        reached_via,
    };
    let (id, action) = if update {
        let was = repo::system_forms(&mut *conn, std::slice::from_ref(&draft.name)).await?;
        let Some((_, was_owner)) = was.first() else {
            return Err(Refusal::not_found(format!("The system \"{}\"", draft.name)).into());
        };
        by.require_team_change(*was_owner)?;
        let id = repo::update_system(&mut *conn, &row).await?.ok_or_else(|| Refusal::not_found(format!("The system \"{}\"", draft.name)))?;
        (id, "integration_system.updated")
    } else {
        let id = repo::insert_system(&mut *conn, &row).await?.ok_or_else(|| invalid("name", format!("a system named \"{}\" exists already", draft.name)))?;
        (id, "integration_system.created")
    };
    let after = serde_json::to_value(draft).unwrap_or(Value::Null);
    let change = Change { action, subject_kind: SubjectKind::IntegrationSystem, subject_id: id.to_string(), before: None, after: Some(after) };
    audit::record(conn, by.actor(), change, meta).await?;
    Ok(id)
}

async fn team(conn: &mut PgConnection, slug: &str, field: &str) -> Result<Uuid, IntegrationError> {
    repo::team_ids(conn, &[slug.to_owned()])
        .await?
        .first()
        .map(|(_, id)| *id)
        .ok_or_else(|| invalid(field, format!("no team named \"{slug}\"")))
}

/// The ids of a draft's teams and systems, each missing one named.
struct Resolved {
    owner: Uuid,
    co_owners: Vec<Uuid>,
    sources: Vec<Uuid>,
    targets: Vec<Uuid>,
    /// A target outside the company, if any.
    external_target: Option<String>,
    job_id: Uuid,
}

async fn resolve(conn: &mut PgConnection, d: &IntegrationDraft, this: Option<Uuid>) -> Result<Resolved, IntegrationError> {
    let mut problems: Vec<FieldProblem> = Vec::new();
    let teams = repo::team_ids(&mut *conn, &[vec![d.owner.clone()], d.co_owners.clone()].concat()).await?;
    let team_of = |slug: &String| teams.iter().find(|(s, _)| s == slug).map(|(_, id)| *id);
    let owner = team_of(&d.owner);
    if owner.is_none() {
        problems.push(FieldProblem::new("owner", format!("no team named \"{}\"", d.owner)));
    }
    let co_owners: Vec<Uuid> = d.co_owners.iter().filter_map(team_of).collect();
    if let Some(missing) = d.co_owners.iter().find(|t| team_of(t).is_none()) {
        problems.push(FieldProblem::new("co_owners", format!("no team named \"{missing}\"")));
    }
    let systems = repo::system_ids(&mut *conn, &[d.sources.clone(), d.targets.clone()].concat()).await?;
    let system_of = |name: &String| systems.iter().find(|(n, _, _)| n == name);
    for (field, names) in [("sources", &d.sources), ("targets", &d.targets)] {
        if let Some(missing) = names.iter().find(|n| system_of(n).is_none()) {
            problems.push(FieldProblem::new(field, format!("no system named \"{missing}\": register it first")));
        }
    }
    let job_id = repo::job_id(&mut *conn, &d.job_namespace, &d.job_name).await?.0;
    if let Some(other) = repo::job_owner(&mut *conn, job_id).await? {
        if this.is_none() || repo::current(&mut *conn, this, None).await?.is_none_or(|c| c.job_id != job_id) {
            problems.push(FieldProblem::new("job_name", format!("the job {}/{} is already the integration \"{other}\"", d.job_namespace, d.job_name)));
        }
    }
    if !problems.is_empty() {
        return Err(Refusal::InvalidFields(problems).into());
    }
    Ok(Resolved {
        owner: owner.unwrap_or_default(),
        co_owners,
        sources: d.sources.iter().filter_map(|n| system_of(n).map(|s| s.1)).collect(),
        targets: d.targets.iter().filter_map(|n| system_of(n).map(|s| s.1)).collect(),
        external_target: d.targets.iter().find(|n| system_of(n).is_some_and(|s| s.2)).cloned(),
        job_id,
    })
}

fn row<'a>(d: &'a IntegrationDraft, r: &Resolved) -> IntegrationRow<'a> {
    IntegrationRow {
        name: &d.name,
        title: &d.title,
        description: &d.description,
        platform: d.platform.as_str(),
        platform_ref: &d.platform_ref,
        trigger: d.trigger.as_str(),
        schedule: d.schedule.as_ref().map(|s| s.as_str()).filter(|_| d.trigger == Trigger::Schedule),
        time_zone: &d.time_zone,
        data_format: d.data_format.as_str(),
        transport: d.transport.as_str(),
        auth: d.auth.as_str(),
        owner_team_id: r.owner,
        classification: d.classification.as_str(),
        lifecycle: d.lifecycle.as_str(),
        runbook_url: d.runbook.as_deref().unwrap_or(""),
        on_call: &d.on_call,
        tags: &d.tags,
        grace_mins: d.levels.grace_mins,
        max_duration_mins: d.levels.max_duration_mins,
        freshness_hours: d.levels.freshness_hours,
        success_target: d.levels.success_target,
        job_id: r.job_id,
    }
}

/// Why a registration needs approval, if it does.
fn approval_reason(d: &IntegrationDraft, r: &Resolved) -> Option<String> {
    match (d.classification, &r.external_target) {
        (Classification::Pci, _) => Some("it carries PCI (card) data".into()),
        (Classification::Confidential, _) => Some("it carries confidential data".into()),
        (_, Some(t)) => Some(format!("its target \"{t}\" is outside the company")),
        _ => None,
    }
}

/// What registering answered: the integration, and the approval it waits for.
pub struct Registered {
    pub id: IntegrationId,
    pub approval: Option<Uuid>,
}

/// Registers an integration (a member of the owning team, or an admin); it is active at once
/// unless its data or target needs approval.
#[tracing::instrument(name = "integrations.service.register", skip_all, fields(integration = %d.name), err)]
pub async fn register_integration(pool: &PgPool, principal: &Principal, d: &IntegrationDraft, meta: &RequestMeta, now: DateTime<Utc>) -> Result<Registered, IntegrationError> {
    principal.require_write()?;
    register(pool, By::Person(principal), d, meta, now).await
}

/// Registers an integration as `by`, as of `now` (its schedule's slots count from then).
pub async fn register(pool: &PgPool, by: By<'_>, d: &IntegrationDraft, meta: &RequestMeta, now: DateTime<Utc>) -> Result<Registered, IntegrationError> {
    let mut tx = pool.begin().await?;
    let registered = register_in(&mut tx, by, d, meta, now).await?;
    tx.commit().await?;
    Ok(registered)
}

/// Registers an integration as `by` inside the caller's transaction.
pub(super) async fn register_in(tx: &mut PgConnection, by: By<'_>, d: &IntegrationDraft, meta: &RequestMeta, now: DateTime<Utc>) -> Result<Registered, IntegrationError> {
    let r = resolve(&mut *tx, d, None).await?;
    by.require_team_change(r.owner)?;
    let why = match by {
        By::Person(_) => approval_reason(d, &r),
        By::Switchyard => None,
    };
    if why.is_some() && d.reason.trim().is_empty() {
        return Err(invalid("reason", format!("this registration needs approval ({}): say why it is needed", why.unwrap_or_default())));
    }
    let status = if why.is_some() { "pending" } else { "active" };
    let created_by = match by {
        By::Person(p) => Some(p.user_id.0),
        By::Switchyard => None,
    };
    let id = repo::insert_integration(&mut *tx, &row(d, &r), status, created_by, now)
        .await?
        .ok_or_else(|| invalid("name", format!("an integration named \"{}\" exists already", d.name)))?;
    repo::set_links(&mut *tx, id, &r.sources, &r.targets, &r.co_owners).await?;
    let after = serde_json::to_value(d).unwrap_or(Value::Null);
    let action = if why.is_some() { "integration.requested" } else { "integration.registered" };
    let change = Change { action, subject_kind: SubjectKind::Integration, subject_id: id.to_string(), before: None, after: Some(after.clone()) };
    audit::record(&mut *tx, by.actor(), change, meta).await?;
    let approval = match (why, by) {
        (Some(why), By::Person(principal)) => Some(
            approvals::open(
                &mut *tx,
                principal,
                Ask {
                    subject_kind: INTEGRATION,
                    subject_id: id.to_string(),
                    action: REGISTER,
                    summary: format!("Register the integration {} ({} → {}): {why}", d.name, d.sources.join(", "), d.targets.join(", ")),
                    payload: after,
                    required_approvals: if d.classification == Classification::Pci { 2 } else { 1 },
                    approvers: Approvers::TeamLeadsOrAdmins,
                    owning_team: Some(TeamId(r.owner)),
                    reason: d.reason.clone(),
                    valid_for: Duration::days(APPROVAL_VALID_DAYS),
                },
                meta,
            )
            .await?
            .0,
        ),
        _ => {
            super::health::recompute(&mut *tx, id, now).await?;
            None
        }
    };
    Ok(Registered { id, approval })
}

/// Changes an integration (members of an owning team, or admins), if it is still at `version`.
/// Raising its classification waits for approval; anything else applies at once.
#[tracing::instrument(name = "integrations.service.edit", skip_all, fields(integration = %d.name), err)]
pub async fn edit_integration(pool: &PgPool, principal: &Principal, d: &IntegrationDraft, version: i32, meta: &RequestMeta, now: DateTime<Utc>) -> Result<Option<Uuid>, IntegrationError> {
    principal.require_write()?;
    let mut tx = pool.begin().await?;
    let approval = change_in(&mut tx, By::Person(principal), d, Some(version), meta, now).await?;
    tx.commit().await?;
    Ok(approval)
}

/// Changes an integration as `by` inside the caller's transaction, if it is still at `version`
/// (`None`: whatever version it is at, for a declaration that states the whole of it).
pub(super) async fn change_in(tx: &mut PgConnection, by: By<'_>, d: &IntegrationDraft, version: Option<i32>, meta: &RequestMeta, now: DateTime<Utc>) -> Result<Option<Uuid>, IntegrationError> {
    let Some(current) = repo::current(&mut *tx, None, Some(&d.name)).await? else {
        return Err(Refusal::not_found(format!("The integration \"{}\"", d.name)).into());
    };
    let owners: Vec<Uuid> = std::iter::once(current.owner_team_id).chain(current.co_owners.iter().copied()).collect();
    if !owners.iter().any(|t| by.require_team_change(*t).is_ok()) {
        return Err(Refusal::Forbidden.into());
    }
    let version = version.unwrap_or(current.version);
    if current.version != version {
        return Err(IntegrationError::StaleVersion);
    }
    let r = resolve(&mut *tx, d, Some(current.id)).await?;
    if r.owner != current.owner_team_id {
        // handing over to another team: one must belong to it (or administer)
        by.require_team_change(r.owner)?;
    }
    let was = Classification::parse(&current.classification).unwrap_or(Classification::Internal);
    let after = json!({ "draft": d, "version": version });
    if let (By::Person(principal), true) = (by, rank(d.classification) > rank(was) && current.status == "active") {
        if d.reason.trim().is_empty() {
            return Err(invalid("reason", format!("raising the classification from {} to {} needs approval: say why", was.as_str(), d.classification.as_str())));
        }
        let approval = approvals::open(
            &mut *tx,
            principal,
            Ask {
                subject_kind: INTEGRATION,
                subject_id: current.id.to_string(),
                action: EDIT,
                summary: format!("Raise the classification of {} from {} to {}", d.name, was.as_str(), d.classification.as_str()),
                payload: after,
                required_approvals: if d.classification == Classification::Pci { 2 } else { 1 },
                approvers: Approvers::TeamLeadsOrAdmins,
                owning_team: Some(TeamId(current.owner_team_id)),
                reason: d.reason.clone(),
                valid_for: Duration::days(APPROVAL_VALID_DAYS),
            },
            meta,
        )
        .await?;
        return Ok(Some(approval.0));
    }
    apply_edit(&mut *tx, IntegrationId(current.id), d, version, &r, by.actor(), meta, now).await?;
    Ok(None)
}

#[allow(clippy::too_many_arguments)]
async fn apply_edit(
    conn: &mut PgConnection,
    id: IntegrationId,
    d: &IntegrationDraft,
    version: i32,
    r: &Resolved,
    actor: Actor<'_>,
    meta: &RequestMeta,
    now: DateTime<Utc>,
) -> Result<(), IntegrationError> {
    let before = crate::integrations::repo::current(&mut *conn, Some(id.0), None).await?;
    if !repo::update_integration(&mut *conn, id, version, &row(d, r), now).await? {
        return Err(IntegrationError::StaleVersion);
    }
    repo::set_links(&mut *conn, id, &r.sources, &r.targets, &r.co_owners).await?;
    let change = Change {
        action: "integration.updated",
        subject_kind: SubjectKind::Integration,
        subject_id: id.to_string(),
        before: before.map(|b| json!({ "version": b.version, "classification": b.classification })),
        after: Some(serde_json::to_value(d).unwrap_or(Value::Null)),
    };
    audit::record(&mut *conn, actor, change, meta).await?;
    super::health::recompute(conn, id, now).await?;
    Ok(())
}

/// Performs an approved change: activates a registration, or applies an edit (if the
/// integration has not changed since it was asked for).
pub async fn perform(conn: &mut PgConnection, subject_id: &str, action: &str, payload: &Value, approver: &Principal, meta: &RequestMeta) -> Result<(), IntegrationError> {
    let id = Uuid::parse_str(subject_id).map_err(|_| invalid("subject", "not an integration id"))?;
    let Some(current) = repo::current(&mut *conn, Some(id), None).await? else {
        return Err(Refusal::not_found("The integration").into());
    };
    let now = Utc::now();
    match action {
        REGISTER => {
            repo::set_status(&mut *conn, id, "active").await?;
            let change = Change { action: "integration.activated", subject_kind: SubjectKind::Integration, subject_id: id.to_string(), before: None, after: Some(json!({ "status": "active" })) };
            audit::record(&mut *conn, Actor::Person(approver), change, meta).await?;
            super::health::recompute(conn, IntegrationId(id), now).await
        }
        EDIT => {
            let draft: IntegrationDraft = serde_json::from_value(payload["draft"].clone()).map_err(|_| invalid("subject", "the stored change does not read"))?;
            let version = payload["version"].as_i64().unwrap_or(-1) as i32;
            if version != current.version {
                return Err(IntegrationError::StaleVersion);
            }
            let r = resolve(&mut *conn, &draft, Some(id)).await?;
            apply_edit(conn, IntegrationId(id), &draft, version, &r, Actor::Person(approver), meta, now).await
        }
        other => Err(invalid("action", format!("unknown integration action \"{other}\""))),
    }
}

/// A registration that was not approved is withdrawn (its job and any runs stay, unregistered).
pub async fn abandon(conn: &mut PgConnection, subject_id: &str, action: &str, meta: &RequestMeta) -> Result<(), IntegrationError> {
    let Ok(id) = Uuid::parse_str(subject_id) else { return Ok(()) };
    if action != REGISTER {
        return Ok(());
    }
    if let Some(current) = repo::current(&mut *conn, Some(id), None).await? {
        if current.status == "pending" {
            repo::delete_integration(&mut *conn, id).await?;
            let change = Change { action: "integration.withdrawn", subject_kind: SubjectKind::Integration, subject_id: id.to_string(), before: Some(json!({ "name": current.name })), after: None };
            audit::record(conn, Actor::System, change, meta).await?;
        }
    }
    Ok(())
}
