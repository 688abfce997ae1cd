//! Catalog rules. Everyone signed in reads. Members of an owning team (or admins) register and
//! edit; new services and changes of owner or tier go through the approval engine (an admin or
//! a lead of the owning team decides; tier 0 needs two). Every write checks permission, writes
//! its audit row in the same transaction, and answers with a domain error.
use super::approval::approvals_needed;
use super::backstage::{self, Desired};
use super::draft::{ServiceDraft, ServiceForm};
use super::repo::{self, Cursor, OwnerId, Stored};
use super::scorecard::{self, Facts};
use super::types::{
    CatalogOverview, DependencyGraph, EntityDetail, EntityId, EntityPage, EntityRef, EntitySummary, Facets,
    Kind, Lifecycle, ListQuery, Owner, OwnerKind, Scorecard, SearchText, TeamPage, UnresolvedRef,
};
use crate::approvals::service::{self as approvals, ApprovalError, Ask};
use crate::approvals::types::{ApprovalId, Approvers};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::graph::layout::{collapse, layout, EdgeSpec, NodeSpec};
use crate::graph::walk::Walk;
use crate::untrusted::ReadError;
use crate::error::Refusal;
use crate::iam::principal::Principal;
use crate::iam::types::{TeamId, UserId};
use chrono::Duration;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// What went wrong in the catalog, in its own words.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Someone changed the entity after the editor opened it.
    #[error("someone changed this service after you opened it; reload to see their change, then edit again")]
    StaleVersion,
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("catalog", &e);
        CatalogError::Database(e)
    }
}

impl From<audit::AuditError> for CatalogError {
    fn from(e: audit::AuditError) -> Self {
        match e {
            audit::AuditError::Refused(r) => CatalogError::Refused(r),
            audit::AuditError::Database(e) => CatalogError::Database(e),
        }
    }
}

fn entity_not_found(r: &EntityRef) -> Refusal {
    Refusal::NotFound(format!("The entity {}", r.short()))
}

/// The subject kind of catalog entities in approvals and the audit log.
pub const ENTITY: &str = "entity";
pub const REGISTER: &str = "register";
pub const CHANGE_OWNER_TIER: &str = "change_owner_or_tier";

/// At most this many rows in one quick-search answer.
pub const SEARCH_LIMIT: i64 = 10;

/// Counts, teams and the latest changes, for the home page.
#[tracing::instrument(name = "catalog.service.overview", skip(pool), err)]
pub async fn overview(pool: &PgPool) -> Result<CatalogOverview, CatalogError> {
    // three small reads on three connections at once: the page waits for the slowest, not the sum
    let (counts, teams, recently_changed) =
        futures::try_join!(repo::service_counts(pool), repo::teams(pool), repo::recently_changed(pool))?;
    Ok(CatalogOverview { services: counts.services, production: counts.production, tier_zero: counts.tier_zero, teams, recently_changed })
}

/// One page of the catalog list.
#[tracing::instrument(name = "catalog.service.list", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(pool: &PgPool, principal: &Principal, q: &ListQuery) -> Result<EntityPage, CatalogError> {
    principal.require_read()?;
    let cursor = match &q.after {
        None => None,
        Some(a) => Some(Cursor::decode(a).ok_or_else(|| Refusal::invalid("after", "the page cursor is not one this list gave out"))?),
    };
    let mut conn = pool.acquire().await?;
    let mut items = repo::list(&mut conn, q, cursor.as_ref()).await?;
    let next = if items.len() > usize::from(q.limit) {
        items.truncate(usize::from(q.limit));
        items.last().map(|last| Cursor::after(q.sort, last, cursor.as_ref(), items.len()).encode())
    } else {
        None
    };
    Ok(EntityPage { items, next })
}

/// Counts per facet for the list's filters.
#[tracing::instrument(name = "catalog.service.facets", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn facets(pool: &PgPool, principal: &Principal, q: &ListQuery) -> Result<Facets, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let mut facets = repo::facets(&mut conn, q).await?;
    // owners by their teams' names (a person or an owner not here keeps its reference)
    let slugs: Vec<String> = facets.owner.iter().map(|c| c.value.clone()).chain(q.owner.clone()).collect();
    if !slugs.is_empty() {
        let names: std::collections::HashMap<String, String> = repo::team_names(&mut conn, &slugs).await?.into_iter().collect();
        for c in &mut facets.owner {
            c.label = names.get(&c.value).cloned();
        }
        facets.owner_label = q.owner.as_ref().and_then(|o| names.get(o).cloned());
    }
    Ok(facets)
}

/// The best matches for the search box.
#[tracing::instrument(name = "catalog.service.quick_search", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn quick_search(pool: &PgPool, principal: &Principal, text: &SearchText) -> Result<Vec<EntitySummary>, CatalogError> {
    principal.require_read()?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    Ok(repo::quick_search(pool, text.as_str(), SEARCH_LIMIT).await?)
}

#[tracing::instrument(level = "debug", name = "catalog.service.stored", skip_all)]
async fn stored(conn: &mut PgConnection, r: &EntityRef) -> Result<Stored, CatalogError> {
    Ok(repo::load_named(conn, r).await?.ok_or_else(|| entity_not_found(r))?)
}

/// An entity's owners as they resolve here: the primary one as declared (a team, a person, or
/// nobody here yet) and the co-owning teams.
pub(crate) struct Owners {
    pub primary: OwnerId,
    pub co: Vec<Uuid>,
}

impl Owners {
    /// Resolves declared owners: the first may be a team, a person or not here; co-owners
    /// (Switchyard's annotation) must be teams.
    #[tracing::instrument(level = "debug", name = "catalog.service.of", skip_all)]
    pub(crate) async fn of(conn: &mut PgConnection, declared: &[String]) -> Result<Owners, CatalogError> {
        let Some((first, rest)) = declared.split_first() else {
            return Err(Refusal::invalid("owner", "an entity needs an owner").into());
        };
        Ok(Owners { primary: repo::owner_id(&mut *conn, first).await?, co: owner_ids(conn, rest).await? })
    }

    fn teams(&self) -> impl Iterator<Item = Uuid> + '_ {
        self.primary.team().into_iter().chain(self.co.iter().copied())
    }

    /// Who approves a change of the entity: the owning team's leads, or admins when a person
    /// (or nobody here) owns it.
    fn approvers(&self) -> (Approvers, Option<TeamId>) {
        match self.primary {
            OwnerId::Team(t) => (Approvers::TeamLeadsOrAdmins, Some(TeamId(t))),
            _ => (Approvers::Admins, None),
        }
    }
}

/// Whether `p` may edit an entity with these owners: a member of an owning team, the person who
/// owns it, or an admin (the only ones for an owner not here).
fn may_edit(p: &Principal, owners: &Owners) -> bool {
    let person = owners.primary.person().is_some_and(|u| p.require_self_or_admin(UserId(u)).is_ok());
    p.is_admin() || person || owners.teams().any(|t| p.require_team_change(TeamId(t)).is_ok())
}

#[tracing::instrument(level = "debug", name = "catalog.service.owner_ids", skip_all)]
async fn owner_ids(conn: &mut PgConnection, owners: &[String]) -> Result<Vec<Uuid>, CatalogError> {
    let ids = repo::team_ids(&mut *conn, owners).await?;
    owners
        .iter()
        .map(|o| ids.get(o).copied().ok_or_else(|| Refusal::invalid("owner", format!("there is no team \"{o}\"")).into()))
        .collect()
}

/// People in an entity's owning teams (each counted once), and the person who owns it.
fn owner_people(owners: &[String], here: &HashMap<String, repo::OwnerHere>) -> usize {
    let mut people = BTreeSet::new();
    let mut person = false;
    for (i, o) in owners.iter().enumerate() {
        match here.get(o) {
            Some(h) if matches!(h.id, OwnerId::Team(_)) => people.extend(h.members.iter().map(|m| m.username.as_str())),
            Some(h) if i == 0 && matches!(h.id, OwnerId::Person(_)) => person = true,
            _ => {}
        }
    }
    people.len() + usize::from(person)
}

/// The scorecards of stored entities, their owners resolved in `here`: one statement (their
/// deprecated dependencies) whatever their number.
#[tracing::instrument(level = "debug", name = "catalog.service.scorecards", skip_all)]
async fn scorecards(
    conn: &mut PgConnection,
    stored: &[repo::Stored],
    here: &HashMap<String, repo::OwnerHere>,
) -> Result<Vec<Scorecard>, CatalogError> {
    let ids: Vec<EntityId> = stored.iter().map(|s| s.id).collect();
    let mut deprecated: HashMap<EntityId, Vec<String>> = HashMap::new();
    for (id, dep) in repo::deprecated_dependencies(&mut *conn, &ids).await? {
        deprecated.entry(id).or_default().push(dep.short());
    }
    Ok(stored
        .iter()
        .map(|s| {
            scorecard::evaluate(&Facts {
                entity: &s.desired,
                owner_members: owner_people(&s.desired.owners, here),
                deprecated_dependencies: deprecated.remove(&s.id).unwrap_or_default(),
            })
        })
        .collect())
}

/// Everything the entity page shows but its graph: five statements (the entity; then its owners
/// with their people, its relations both ways and the requests pending about it, beside its
/// history on a second connection).
#[tracing::instrument(name = "catalog.service.detail", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn detail(pool: &PgPool, principal: &Principal, r: &EntityRef) -> Result<EntityDetail, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let s = stored(&mut conn, r).await?;
    let subject = s.id.to_string();
    let (history, ours) = futures::join!(audit::history(pool, principal, "entity", &subject, 200), async {
        let here = repo::owners_here(&mut *conn, &s.desired.owners).await?;
        let relations = repo::relations(&mut *conn, s.id).await?;
        let pending = approvals::pending_about(&mut conn, ENTITY, &subject).await?;
        Ok::<_, CatalogError>((here, relations, pending))
    });
    let (mut here, (outgoing, incoming), pending_requests) = ours?;
    let history = history?;
    let who = |o: &String| here.get(o).map_or(OwnerId::NotHere, |h| h.id);
    let resolved = Owners {
        primary: s.desired.owners.first().map_or(OwnerId::NotHere, who),
        co: s.desired.owners.iter().skip(1).filter_map(|o| who(o).team()).collect(),
    };
    // what it depends on that is deprecated, from its relations as read
    let deprecated_dependencies = outgoing
        .iter()
        .filter(|r| r.relation == "depends_on" && r.lifecycle == Some(Lifecycle::Deprecated))
        .map(|r| r.entity.short())
        .collect();
    let scorecard = scorecard::evaluate(&Facts {
        entity: &s.desired,
        owner_members: owner_people(&s.desired.owners, &here),
        deprecated_dependencies,
    });
    let owners: Vec<Owner> = s
        .desired
        .owners
        .iter()
        .enumerate()
        .map(|(i, declared)| {
            let h = here.remove(declared);
            let kind = match h.as_ref().map(|h| h.id) {
                Some(OwnerId::Team(_)) => OwnerKind::Team,
                Some(OwnerId::Person(_)) if i == 0 => OwnerKind::Person,
                _ if i == 0 => OwnerKind::NotHere,
                _ => OwnerKind::Team,
            };
            let (name, members) = h.map_or_else(|| (declared.clone(), Vec::new()), |h| (h.name, h.members));
            let members = if kind == OwnerKind::Team { members } else { Vec::new() };
            Owner { slug: declared.clone(), name, primary: i == 0, kind, members }
        })
        .collect();
    let summary = s.summary(owners.first().map(|o| o.name.clone()).unwrap_or_default())?;
    let can_edit = may_edit(principal, &resolved);
    let d = s.desired;
    Ok(EntityDetail {
        summary,
        repository_url: d.repository_url,
        runbook_url: d.runbook_url,
        oncall_url: d.oncall_url,
        dashboards: d.dashboards,
        links: d.links,
        annotations: d.annotations.into_iter().collect(),
        definition: d.definition,
        definition_url: d.definition_url,
        owners,
        outgoing,
        incoming,
        scorecard,
        pending_requests,
        version: s.version,
        can_edit,
        created_at: s.created_at,
        history,
    })
}

/// The edit form of a component, filled in, and the version it shows.
#[tracing::instrument(name = "catalog.service.edit_form", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn edit_form(pool: &PgPool, principal: &Principal, r: &EntityRef) -> Result<(ServiceForm, i32), CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let s = stored(&mut conn, r).await?;
    Ok((form_of(&s.desired), s.version))
}

fn form_of(d: &Desired) -> ServiceForm {
    let rel = |t: &str| d.relations.iter().filter(|(x, _)| x == t).map(|(_, r)| r.short()).collect::<Vec<_>>();
    ServiceForm {
        name: d.entity.name.clone(),
        title: d.title.clone(),
        description: d.description.clone(),
        entity_type: d.entity_type.clone().unwrap_or_default(),
        lifecycle: d.lifecycle.as_ref().map(|l| l.as_str().to_owned()).unwrap_or_default(),
        tier: d.tier.map(|t| t.get().to_string()).unwrap_or_default(),
        owner: d.owners.first().cloned().unwrap_or_default(),
        co_owners: d.owners.iter().skip(1).cloned().collect::<Vec<_>>().join(", "),
        system: rel("part_of").join(", "),
        language: d.language.clone().unwrap_or_default(),
        repository_url: d.repository_url.clone().unwrap_or_default(),
        runbook_url: d.runbook_url.clone().unwrap_or_default(),
        oncall_url: d.oncall_url.clone().unwrap_or_default(),
        dashboards: d.dashboards.join("\n"),
        tags: d.tags.join(", "),
        classification: d.classification.as_str().into(),
        depends_on: rel("depends_on").join(", "),
        sites: crate::catalog::draft::sites_of(d.annotations.get(crate::catalog::draft::SITES_ANNOTATION)).join(", "),
    }
}

/// Applies a parsed form onto a component's desired state (keeping what the form does not show).
fn with_draft(base: Option<&Desired>, draft: &ServiceDraft) -> Desired {
    let mut relations: BTreeSet<(String, EntityRef)> = base
        .map(|b| b.relations.iter().filter(|(t, _)| t != "depends_on" && t != "part_of").cloned().collect())
        .unwrap_or_default();
    relations.extend(draft.depends_on.iter().map(|d| ("depends_on".to_owned(), d.clone())));
    relations.extend(draft.system.iter().map(|s| ("part_of".to_owned(), s.clone())));
    let mut owners = vec![draft.owner.clone()];
    owners.extend(draft.co_owners.iter().cloned());
    Desired {
        entity: EntityRef::new("component", "default", &draft.name),
        title: draft.title.clone(),
        description: draft.description.clone(),
        entity_type: Some(draft.entity_type.clone()),
        lifecycle: Some(draft.lifecycle.clone()),
        tier: Some(draft.tier),
        owners,
        language: draft.language.clone(),
        repository_url: draft.repository_url.clone(),
        runbook_url: draft.runbook_url.clone(),
        oncall_url: draft.oncall_url.clone(),
        dashboards: draft.dashboards.clone(),
        links: base.map(|b| b.links.clone()).unwrap_or_default(),
        tags: draft.tags.clone(),
        classification: draft.classification,
        annotations: {
            let mut a = base.map(|b| b.annotations.clone()).unwrap_or_default();
            if draft.sites.is_empty() {
                a.remove(crate::catalog::draft::SITES_ANNOTATION);
            } else {
                a.insert(crate::catalog::draft::SITES_ANNOTATION.to_owned(), draft.sites.join(", "));
            }
            a
        },
        definition: None,
        definition_url: None,
        relations,
    }
}

/// What `write_links` does with a reference to an entity that is not in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Switchyard's own form: refused by name, so a typo is caught.
    Refuse,
    /// An import: kept as declared, unresolved until that entity arrives (as Backstage does).
    Keep,
}

/// Writes co-owners and relations of `d` (stored as `id`), resolving every reference it can,
/// and resolves the relations that were waiting for `d` itself.
#[tracing::instrument(level = "debug", name = "catalog.service.write_links", skip_all)]
pub(crate) async fn write_links(
    conn: &mut PgConnection,
    id: EntityId,
    d: &Desired,
    co_owners: &[Uuid],
    on_missing: Missing,
) -> Result<(), CatalogError> {
    write_links_of(conn, &[(id, d, co_owners.to_vec())], on_missing).await
}

/// `write_links` for a batch of entities (an import's), in a fixed number of statements: a
/// reference to an entity of the batch resolves to it.
#[tracing::instrument(level = "debug", name = "catalog.service.write_links_of", skip_all)]
pub(crate) async fn write_links_of(
    conn: &mut PgConnection,
    batch: &[(EntityId, &Desired, Vec<Uuid>)],
    on_missing: Missing,
) -> Result<(), CatalogError> {
    let in_batch: HashMap<&EntityRef, EntityId> = batch.iter().map(|(id, d, _)| (&d.entity, *id)).collect();
    let wanted: Vec<EntityRef> =
        batch.iter().flat_map(|(_, d, _)| d.relations.iter().map(|(_, r)| r)).filter(|r| !in_batch.contains_key(r)).cloned().collect();
    let found = repo::resolve(&mut *conn, &wanted).await?;
    let mut links = Vec::with_capacity(batch.len());
    for (id, d, co_owners) in batch {
        let mut relations = Vec::new();
        let mut missing = Vec::new();
        for (t, r) in &d.relations {
            let target = in_batch.get(r).or_else(|| found.get(r)).copied();
            if target.is_none() {
                missing.push(r.short());
            }
            relations.push((t.clone(), r.clone(), target));
        }
        if on_missing == Missing::Refuse && !missing.is_empty() {
            let field = if d.relations.iter().any(|(t, r)| t == "part_of" && missing.contains(&r.short())) { "system" } else { "depends_on" };
            return Err(Refusal::invalid(field, format!("not in the catalog: {}", missing.join(", "))).into());
        }
        links.push(repo::Links { id: *id, co_owners: co_owners.clone(), relations });
    }
    repo::set_links(conn, &links).await?;
    let arrived: Vec<(EntityId, &EntityRef)> = batch.iter().map(|(id, d, _)| (*id, &d.entity)).collect();
    repo::resolve_waiting(conn, &arrived).await?;
    Ok(())
}

/// What a new registration answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Registered {
    pub entity: EntityRef,
    pub approval: ApprovalId,
}

/// References that wait for their target (admins): what was imported pointing at entities,
/// teams or people that are not here. The first 1,000, by target.
#[tracing::instrument(name = "catalog.service.unresolved", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn unresolved(pool: &PgPool, principal: &Principal) -> Result<Vec<UnresolvedRef>, CatalogError> {
    principal.require_admin()?;
    let rows = repo::unresolved(pool, 1000).await?;
    Ok(rows.into_iter().map(|(entity, relation, target)| UnresolvedRef { entity, relation, target }).collect())
}

/// Registers a service: stored as pending, with an approval request for an admin or a lead of
/// the owning team (two approvals for tier 0).
#[tracing::instrument(name = "catalog.service.register", skip(pool, principal, form), fields(user = %principal.username), err)]
pub async fn register(pool: &PgPool, principal: &Principal, form: &ServiceForm, meta: &RequestMeta) -> Result<Registered, CatalogError> {
    principal.require_read()?;
    let draft = ServiceDraft::parse(form).map_err(Refusal::InvalidFields)?;
    let mut tx = pool.begin().await?;
    let owners = owner_ids(&mut tx, &std::iter::once(draft.owner.clone()).chain(draft.co_owners.iter().cloned()).collect::<Vec<_>>()).await?;
    // a refusal for lack of permission is a 403 that says what it would take
    principal
        .require_team_change(TeamId(owners[0]))
        .map_err(|_| Refusal::NotAllowed(format!("only members of {} (or an admin) can register its services", draft.owner)))?;
    let desired = with_draft(None, &draft);
    if repo::find(&mut *tx, &desired.entity).await?.is_some() {
        return Err(Refusal::invalid("name", format!("a component called \"{}\" is in the catalog already", draft.name)).into());
    }
    let id = repo::upsert(&mut tx, &desired, OwnerId::Team(owners[0]), "pending").await?;
    write_links(&mut tx, id, &desired, &owners[1..], Missing::Refuse).await?;
    let tier = draft.tier.get();
    let ask = Ask {
        subject_kind: ENTITY,
        subject_id: id.to_string(),
        action: REGISTER,
        summary: format!("Register {} ({}, tier {tier}, owned by {})", draft.title, draft.name, draft.owner),
        payload: json!({ "entity": desired.entity.to_string(), "owner": draft.owner, "tier": tier }),
        required_approvals: approvals_needed([Some(draft.tier)]),
        approvers: Approvers::TeamLeadsOrAdmins,
        owning_team: Some(TeamId(owners[0])),
        reason: format!("New service {}", draft.name),
        valid_for: Duration::days(14),
    };
    let approval = approvals::open(&mut tx, principal, ask, meta).await?;
    let change = Change {
        action: "entity.registration_requested",
        subject_kind: SubjectKind::Entity,
        subject_id: id.to_string(),
        before: None,
        after: Some(serde_json::to_value(&desired).unwrap_or_default()),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(Registered { entity: desired.entity, approval })
}

/// What an edit did: the fields changed at once, and the request for owner or tier, if any.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Edited {
    pub applied: Vec<String>,
    pub approval: Option<ApprovalId>,
}

/// Names of the fields that differ.
pub fn changed_fields(a: &Desired, b: &Desired) -> Vec<String> {
    let mut out = Vec::new();
    let mut diff = |name: &str, same: bool| {
        if !same {
            out.push(name.to_owned());
        }
    };
    diff("title", a.title == b.title);
    diff("description", a.description == b.description);
    diff("type", a.entity_type == b.entity_type);
    diff("lifecycle", a.lifecycle == b.lifecycle);
    diff("tier", a.tier == b.tier);
    diff("owners", a.owners == b.owners);
    diff("language", a.language == b.language);
    diff("repository", a.repository_url == b.repository_url);
    diff("runbook", a.runbook_url == b.runbook_url);
    diff("on-call", a.oncall_url == b.oncall_url);
    diff("dashboards", a.dashboards == b.dashboards);
    diff("links", a.links == b.links);
    diff("tags", a.tags == b.tags);
    diff("classification", a.classification == b.classification);
    diff("annotations", a.annotations == b.annotations);
    diff("definition", a.definition == b.definition && a.definition_url == b.definition_url);
    diff("relations", a.relations == b.relations);
    out
}

/// Where a changed field (as [`changed_fields`] names it) sits in a [`Desired`].
fn desired_key(field: &str) -> &str {
    match field {
        "type" => "entity_type",
        "repository" => "repository_url",
        "runbook" => "runbook_url",
        "on-call" => "oncall_url",
        other => other,
    }
}

/// Only the changed fields of `d`, for an audit row's before or after.
fn fields_json(d: &Desired, fields: &[String]) -> serde_json::Value {
    let full = serde_json::to_value(d).unwrap_or_default();
    let map: serde_json::Map<String, serde_json::Value> =
        fields.iter().map(|f| (f.clone(), full.get(desired_key(f)).cloned().unwrap_or_default())).collect();
    serde_json::Value::Object(map)
}

/// How the catalog's audit rows rebuild an entity: an import or a registration holds the whole
/// of it, an edit the fields it changed.
const REPLAY: audit::Replay = audit::Replay {
    whole: &["entity.imported", "entity.registration_requested"],
    ends: &["entity.deleted", "entity.registration_withdrawn"],
    key: desired_key,
    hidden: &["entity"],
};

/// An entity as it was at `at`, from the audit log, beside how it is now (anyone who reads
/// the catalog).
#[tracing::instrument(name = "catalog.service.as_of", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn as_of(pool: &PgPool, principal: &Principal, r: &EntityRef, at: chrono::DateTime<chrono::Utc>) -> Result<crate::audit::types::AsOf, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let id = repo::find(&mut *conn, r).await?.ok_or_else(|| entity_not_found(r))?;
    Ok(audit::as_of(&mut conn, SubjectKind::Entity, &id.to_string(), at, &REPLAY).await?)
}

/// Edits a component. Plain fields apply at once (one audit row with before and after);
/// a change of owners or tier becomes an approval request. `version` is the one the editor
/// saw: a change made meanwhile is never overwritten.
#[tracing::instrument(name = "catalog.service.edit", skip(pool, principal, form), fields(user = %principal.username), err)]
pub async fn edit(
    pool: &PgPool,
    principal: &Principal,
    r: &EntityRef,
    version: i32,
    form: &ServiceForm,
    meta: &RequestMeta,
) -> Result<Edited, CatalogError> {
    principal.require_read()?;
    let draft = ServiceDraft::parse(form).map_err(Refusal::InvalidFields)?;
    let mut tx = pool.begin().await?;
    let id = repo::find(&mut *tx, r).await?.ok_or_else(|| entity_not_found(r))?;
    let current = repo::lock(&mut tx, id).await?;
    let s = repo::load(&mut tx, &[id]).await?.pop().ok_or_else(|| entity_not_found(r))?;
    let old_owners = Owners::of(&mut tx, &s.desired.owners).await?;
    if !may_edit(principal, &old_owners) {
        return Err(Refusal::Forbidden.into());
    }
    if r.kind != "component" {
        return Err(Refusal::invalid("kind", "only components are edited here; change other kinds by importing their descriptor").into());
    }
    if s.status == "pending" {
        return Err(Refusal::invalid("status", "this service waits for approval of its registration; edit it once approved").into());
    }
    if current != Some(version) {
        return Err(CatalogError::StaleVersion);
    }
    if draft.name != r.name {
        return Err(Refusal::invalid("name", "a service cannot be renamed; register the new name and deprecate this one").into());
    }
    let wanted = with_draft(Some(&s.desired), &draft);
    // the plain part: everything except owners and tier
    let plain = Desired { owners: s.desired.owners.clone(), tier: s.desired.tier, ..wanted.clone() };
    let applied = changed_fields(&s.desired, &plain);
    if !applied.is_empty() {
        repo::upsert(&mut tx, &plain, old_owners.primary, "active").await?;
        write_links(&mut tx, id, &plain, &old_owners.co, Missing::Refuse).await?;
        let change = Change {
            action: "entity.updated",
            subject_kind: SubjectKind::Entity,
            subject_id: id.to_string(),
            before: Some(fields_json(&s.desired, &applied)),
            after: Some(fields_json(&plain, &applied)),
        };
        audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    }
    let governed = changed_fields(&plain, &wanted);
    let approval = if governed.is_empty() {
        None
    } else {
        // the new owner may be a person, as Backstage allows; a new one must be here
        let owners = Owners::of(&mut tx, &wanted.owners).await?;
        if owners.primary == OwnerId::NotHere && wanted.owners.first() != s.desired.owners.first() {
            let owner = wanted.owners.first().cloned().unwrap_or_default();
            return Err(Refusal::invalid("owner", format!("there is no team or person \"{owner}\"")).into());
        }
        let new_owners: Vec<Uuid> = owners.teams().collect();
        let (approvers, owning_team) = old_owners.approvers();
        let ask = Ask {
            subject_kind: ENTITY,
            subject_id: id.to_string(),
            action: CHANGE_OWNER_TIER,
            summary: format!(
                "Change {} of {}: owners {} → {}, tier {} → {}",
                governed.join(" and "),
                r.name,
                s.desired.owners.join(", "),
                wanted.owners.join(", "),
                s.desired.tier.map(|t| t.get().to_string()).unwrap_or_else(|| "none".into()),
                draft.tier.get()
            ),
            payload: json!({ "owners": wanted.owners, "tier": draft.tier.get(), "owner_ids": new_owners }),
            required_approvals: approvals_needed([s.desired.tier, Some(draft.tier)]),
            approvers,
            owning_team,
            reason: format!("Edit of {} by {}", r.name, principal.username),
            valid_for: Duration::days(14),
        };
        Some(approvals::open(&mut tx, principal, ask, meta).await?)
    };
    tx.commit().await?;
    Ok(Edited { applied, approval })
}

/// Marks a component deprecated (owning team or admin; a plain edit).
#[tracing::instrument(name = "catalog.service.deprecate", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn deprecate(pool: &PgPool, principal: &Principal, r: &EntityRef, meta: &RequestMeta) -> Result<(), CatalogError> {
    principal.require_read()?;
    let mut tx = pool.begin().await?;
    let s = stored(&mut tx, r).await?;
    let owners = Owners::of(&mut tx, &s.desired.owners).await?;
    if !may_edit(principal, &owners) {
        return Err(Refusal::Forbidden.into());
    }
    if s.desired.lifecycle == Some(Lifecycle::Deprecated) {
        return Err(Refusal::invalid("lifecycle", format!("{} is deprecated already", r.short())).into());
    }
    if !Kind::parse(&r.kind).is_ok_and(|k| matches!(k, Kind::Component | Kind::Api | Kind::Resource)) {
        return Err(Refusal::invalid("kind", format!("a {} has no lifecycle", r.kind)).into());
    }
    repo::lock(&mut tx, s.id).await?;
    let after = Desired { lifecycle: Some(Lifecycle::Deprecated), ..s.desired.clone() };
    repo::upsert(&mut tx, &after, owners.primary, &s.status).await?;
    let change = Change {
        action: "entity.deprecated",
        subject_kind: SubjectKind::Entity,
        subject_id: s.id.to_string(),
        before: Some(json!({ "lifecycle": s.desired.lifecycle.as_ref().map(Lifecycle::as_str) })),
        after: Some(json!({ "lifecycle": "deprecated" })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes an entity nothing depends on; otherwise the error names the dependents.
#[tracing::instrument(name = "catalog.service.delete", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn delete(pool: &PgPool, principal: &Principal, r: &EntityRef, meta: &RequestMeta) -> Result<(), CatalogError> {
    principal.require_read()?;
    let mut tx = pool.begin().await?;
    let s = stored(&mut tx, r).await?;
    let owners = Owners::of(&mut tx, &s.desired.owners).await?;
    if !may_edit(principal, &owners) {
        return Err(Refusal::Forbidden.into());
    }
    repo::lock(&mut tx, s.id).await?;
    let (_, dependents) = repo::relations(&mut *tx, s.id).await?;
    if !dependents.is_empty() {
        let names: Vec<String> = dependents.iter().map(|d| d.entity.short()).collect();
        return Err(Refusal::invalid("entity", format!("{} cannot be deleted: {} still point at it", r.short(), names.join(", "))).into());
    }
    if !approvals::pending_about(&mut tx, ENTITY, &s.id.to_string()).await?.is_empty() {
        return Err(Refusal::invalid("entity", format!("{} has a change waiting for approval; decide it first", r.short())).into());
    }
    if let Err(e) = repo::delete(&mut tx, s.id).await {
        // deploys keep the service they went to: its history stays, so the service does too
        if matches!(&e, sqlx::Error::Database(d) if d.is_foreign_key_violation()) {
            return Err(Refusal::invalid(
                "entity",
                format!("{} has deploys, whose history is kept: deprecate it instead of deleting it", r.short()),
            ).into());
        }
        return Err(e.into());
    }
    let change = Change {
        action: "entity.deleted",
        subject_kind: SubjectKind::Entity,
        subject_id: s.id.to_string(),
        before: Some(serde_json::to_value(&s.desired).unwrap_or_default()),
        after: None,
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Performs an approved catalog request (called by the approval engine, inside its
/// transaction).
#[tracing::instrument(level = "debug", name = "catalog.service.perform", skip_all)]
pub async fn perform(
    conn: &mut PgConnection,
    subject_id: &str,
    action: &str,
    payload: &serde_json::Value,
    approver: &Principal,
    meta: &RequestMeta,
) -> Result<(), CatalogError> {
    let id = subject_id.parse().map(EntityId).map_err(|_| Refusal::invalid("subject", "not an entity id"))?;
    let s = repo::load(conn, &[id]).await?.pop().ok_or_else(|| Refusal::invalid("subject", "the entity is no longer in the catalog"))?;
    match action {
        REGISTER => {
            repo::set_status(conn, id, "active").await?;
            let change = Change {
                action: "entity.registered",
                subject_kind: SubjectKind::Entity,
                subject_id: id.to_string(),
                before: Some(json!({ "status": "pending" })),
                after: Some(json!({ "status": "active" })),
            };
            audit::record(conn, Actor::Person(approver), change, meta).await?;
        }
        CHANGE_OWNER_TIER => {
            let owners: Vec<String> = serde_json::from_value(payload["owners"].clone()).map_err(|_| Refusal::invalid("payload", "owners"))?;
            let tier = payload["tier"].as_i64().and_then(|t| super::types::Tier::parse(t).ok());
            let after = Desired { owners, tier, ..s.desired.clone() };
            let owners = Owners::of(conn, &after.owners).await?;
            repo::upsert(conn, &after, owners.primary, &s.status).await?;
            write_links(conn, id, &after, &owners.co, Missing::Refuse).await?;
            let fields = changed_fields(&s.desired, &after);
            let change = Change {
                action: "entity.updated",
                subject_kind: SubjectKind::Entity,
                subject_id: id.to_string(),
                before: Some(fields_json(&s.desired, &fields)),
                after: Some(fields_json(&after, &fields)),
            };
            audit::record(conn, Actor::Person(approver), change, meta).await?;
        }
        other => return Err(Refusal::invalid("action", format!("unknown catalog action {other}")).into()),
    }
    Ok(())
}

/// A request that ends without approval: a pending registration is withdrawn.
#[tracing::instrument(level = "debug", name = "catalog.service.abandon", skip_all)]
pub async fn abandon(conn: &mut PgConnection, subject_id: &str, action: &str, meta: &RequestMeta) -> Result<(), CatalogError> {
    if action != REGISTER {
        return Ok(());
    }
    let Ok(id) = subject_id.parse().map(EntityId) else { return Ok(()) };
    let Some(s) = repo::load(conn, &[id]).await?.pop() else { return Ok(()) };
    if s.status == "pending" {
        repo::delete(conn, id).await?;
        let change = Change {
            action: "entity.registration_withdrawn",
            subject_kind: SubjectKind::Entity,
            subject_id: id.to_string(),
            before: Some(json!({ "status": "pending", "entity": s.desired.entity.to_string() })),
            after: None,
        };
        audit::record(conn, Actor::System, change, meta).await?;
    }
    Ok(())
}

/// The services of each team the principal is in (the first `per_team` of each, by name), for
/// their home page: one statement for all their teams.
#[tracing::instrument(name = "catalog.service.my_services", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn my_services(pool: &PgPool, principal: &Principal, per_team: usize) -> Result<Vec<(String, String, Vec<EntitySummary>)>, CatalogError> {
    principal.require_read()?;
    let mut teams: Vec<(String, String, Vec<EntitySummary>)> =
        principal.teams.iter().map(|m| (m.slug.clone(), m.name.clone(), Vec::new())).collect();
    if teams.is_empty() {
        return Ok(teams);
    }
    let keys: Vec<(uuid::Uuid, String)> = principal.teams.iter().map(|m| (m.team_id.0, m.slug.clone())).collect();
    let per_team = i64::try_from(per_team).unwrap_or(i64::MAX);
    for (slug, service) in repo::components_of_teams(pool, &keys, per_team).await? {
        if let Some(team) = teams.iter_mut().find(|t| t.0 == slug) {
            team.2.push(service);
        }
    }
    Ok(teams)
}

/// A team's page: members, the first hundred entities it owns with the number it owns
/// in all, and the scorecard level of each component listed. Its cost is a page's whatever the
/// team owns: six statements.
#[tracing::instrument(name = "catalog.service.team_page", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn team_page(pool: &PgPool, principal: &Principal, slug: &str) -> Result<TeamPage, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let (team_id, team) = repo::team(&mut *conn, slug).await?.ok_or_else(|| Refusal::NotFound(format!("The team {slug}")))?;
    let owned = repo::owned_by(&mut *conn, team_id, slug).await?;
    let total = repo::owned_count(&mut *conn, team_id, slug).await?;
    let component_ids: Vec<EntityId> = owned.iter().filter(|e| e.kind == Kind::Component).map(|e| e.id).collect();
    let stored = repo::load(&mut conn, &component_ids).await?;
    // the team and every owner of what it lists, with their people, in one statement
    let declared: BTreeSet<String> = stored.iter().flat_map(|s| s.desired.owners.iter().cloned()).chain([team.slug.clone()]).collect();
    let mut here = repo::owners_here(&mut *conn, &declared.into_iter().collect::<Vec<_>>()).await?;
    let cards = scorecards(&mut conn, &stored, &here).await?;
    let levels = stored.iter().zip(cards).map(|(s, c)| (s.desired.entity.name.clone(), c.level)).collect();
    let members = here.remove(&team.slug).map(|h| h.members).unwrap_or_default();
    Ok(TeamPage { slug: team.slug, name: team.name, description: team.description, members, owned, total, levels })
}

/// A page of entities in Backstage's shape (`metadata.uid`, `relations` both ways), keeping only
/// the dotted paths in `fields` when any are named; and the next page's cursor.
#[tracing::instrument(name = "catalog.service.documents", skip(pool, principal, q, fields), fields(user = %principal.username), err)]
pub async fn documents(
    pool: &PgPool,
    principal: &Principal,
    q: &ListQuery,
    fields: &[String],
) -> Result<(Vec<serde_json::Value>, Option<String>), CatalogError> {
    let page = list(pool, principal, q).await?;
    let ids: Vec<EntityId> = page.items.iter().map(|e| e.id).collect();
    let mut conn = pool.acquire().await?;
    let stored = repo::load(&mut conn, &ids).await?;
    let by_id: HashMap<EntityId, &repo::Stored> = stored.iter().map(|s| (s.id, s)).collect();
    let docs = ids.iter().filter_map(|id| by_id.get(id)).map(|s| super::backstage::select(super::backstage::entity_json(s), fields)).collect();
    Ok((docs, page.next))
}

/// One entity in Backstage's shape.
#[tracing::instrument(name = "catalog.service.document", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn document(pool: &PgPool, principal: &Principal, r: &EntityRef) -> Result<serde_json::Value, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let s = stored(&mut conn, r).await?;
    Ok(super::backstage::entity_json(&s))
}

#[tracing::instrument(level = "debug", name = "catalog.service.export", skip_all)]
pub async fn export(pool: &PgPool, principal: &Principal, one: Option<&EntityRef>) -> Result<String, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let mut docs = Vec::new();
    let ids = match one {
        Some(r) => vec![stored(&mut conn, r).await?.id],
        None => {
            docs.extend(repo::teams_desired(&mut *conn).await?.iter().map(backstage::team_yaml));
            repo::all_ids(&mut *conn).await?
        }
    };
    for chunk in ids.chunks(1000) {
        docs.extend(repo::load(&mut conn, chunk).await?.iter().map(|s| backstage::to_yaml(&s.desired)));
    }
    Ok(docs.join("---\n"))
}

/// The dependency graph around an entity, up to `depth` steps up- and downstream, laid out.
#[tracing::instrument(name = "catalog.service.graph", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn graph(pool: &PgPool, principal: &Principal, r: &EntityRef, depth: u8) -> Result<DependencyGraph, CatalogError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let root = repo::find(&mut *conn, r).await?.ok_or_else(|| entity_not_found(r))?;
    let mut walk = Walk::new(root, 60);
    for _ in 1..=depth.clamp(1, 4) {
        if walk.frontier.is_empty() {
            break;
        }
        walk.step(repo::edges_touching(&mut *conn, &walk.frontier).await?);
    }
    let ids: Vec<EntityId> = walk.depth_of.keys().copied().collect();
    let labels = repo::labels(&mut *conn, &ids).await?;
    let mut ids: Vec<EntityId> = ids.into_iter().filter(|id| labels.contains_key(id)).collect();
    ids.sort_by_key(|id| (walk.depth_of[id], labels[id].0.name.clone(), *id != root));
    let index: HashMap<EntityId, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    // each box says the entity's title (shortened), a link to its page
    let nodes: Vec<NodeSpec> = ids
        .iter()
        .map(|id| {
            let (r, title) = &labels[id];
            let title = if title.trim().is_empty() { r.name.clone() } else { title.clone() };
            NodeSpec::one(shorten(&title, GRAPH_LABEL_CHARS), title, r.href(), walk.depth_of[id])
        })
        .collect();
    let edges = walk
        .edges
        .iter()
        .filter_map(|(s, relation, t)| {
            let (from, to) = (*index.get(s)?, *index.get(t)?);
            // depends_on is drawn solid; providing or consuming an API dashed
            Some(EdgeSpec { from, to, relation: relation.clone(), dashed: relation != "depends_on" })
        })
        .collect();
    // a crowd of neighbours becomes a count, linked to where they are all listed
    let (nodes, edges) = collapse(nodes, edges, GRAPH_FANOUT, |n| if n.depth == 0 { format!("{}#relations", n.href) } else { n.href.clone() });
    Ok(layout(nodes, edges, walk.truncated))
}

/// The most neighbours one entity shows one step further out in the graph; more collapse into
/// a count.
const GRAPH_FANOUT: usize = 8;

/// The longest label a box of the graph shows (its title, whole, is the link's).
const GRAPH_LABEL_CHARS: usize = 28;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>().trim_end())
    }
}
