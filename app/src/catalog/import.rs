//! Importing Backstage descriptors: read every file, compare each entity with the catalog,
//! and apply every entity that is not refused in one transaction (or, `atomic`, nothing when
//! anything is refused). An admin's import applies at once; anyone else's becomes one approval
//! request for the whole batch.
use crate::error::Refusal;
use super::backstage::{self, Desired, DesiredTeam, Document, Parsed, SourceFile};
use super::repo::{self, OwnerId, Stored};
use super::service::{changed_fields, write_links_of, CatalogError, Missing};
use super::approval::approvals_needed;
use super::types::{EntityId, EntityRef, ImportItem, ImportJob, ImportReport, Outcome, Tier};
use crate::approvals::service::{self as approvals, Ask};
use crate::approvals::types::Approvers;
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::integrations::service::{self as integrations, Batch, By, DeclaredPlan, IntegrationError};
use crate::iam::principal::Principal;
use crate::untrusted::{self, Deadline, DESCRIPTORS};
use chrono::{Duration, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

pub const IMPORT: &str = "catalog_import";


/// What an import would do, worked out against the catalog.
struct Plan {
    items: Vec<ImportItem>,
    teams: Vec<(DesiredTeam, bool)>,
    /// Entities to write: desired state, the stored one if any.
    writes: Vec<(Desired, Option<Stored>)>,
    /// Systems and integrations declared beside them, written through their own domain.
    declared: DeclaredPlan,
}

impl Plan {
    fn changes_something(&self) -> bool {
        self.teams.iter().any(|(_, changed)| *changed) || !self.writes.is_empty() || !self.declared.is_empty()
    }

    /// The tiers (before and after) of the writes that are governed however they arrive (form
    /// or import, admin or not): a new service, or a change of owners or tier.
    fn governed_tiers(&self) -> Vec<Option<Tier>> {
        self.writes
            .iter()
            .flat_map(|(d, old)| match old {
                None => vec![d.tier],
                Some(o) if o.desired.owners != d.owners || o.desired.tier != d.tier => vec![o.desired.tier, d.tier],
                Some(_) => vec![],
            })
            .collect()
    }

    /// Whether a governed write touches tier 0: then two people must approve, admin or not.
    fn touches_tier_zero(&self) -> bool {
        approvals_needed(self.governed_tiers()) > 1
    }
}

async fn plan(conn: &mut PgConnection, parsed: Vec<Parsed>) -> Result<Plan, CatalogError> {
    let mut items = Vec::new();
    let mut teams = Vec::new();
    let mut entities: Vec<(String, Desired)> = Vec::new();
    let mut declared = Vec::new();
    for p in parsed {
        match p.document {
            Document::Entity(d) => entities.push((p.file, *d)),
            Document::Declared(d) => declared.push((p.file, *d)),
            Document::Team(t) => teams.push((p.file, t)),
            Document::Skipped { entity, why } => {
                items.push(ImportItem { entity, file: p.file, outcome: Outcome::Skipped, messages: vec![why] })
            }
            Document::Refused { entity, problems } => {
                items.push(ImportItem { entity, file: p.file, outcome: Outcome::Refused, messages: problems })
            }
        }
    }
    // teams: from the batch, or existing
    let existing_teams: HashMap<String, DesiredTeam> =
        repo::teams_desired(&mut *conn).await?.into_iter().map(|t| (t.slug.clone(), t)).collect();
    let batch_teams: BTreeSet<&str> = teams.iter().map(|(_, t)| t.slug.as_str()).collect();
    let mut team_plan = Vec::new();
    for (file, t) in &teams {
        let (outcome, changed) = match existing_teams.get(&t.slug) {
            None => (Outcome::Created, true),
            Some(old) if old == t => (Outcome::Unchanged, false),
            Some(_) => (Outcome::Updated, true),
        };
        items.push(ImportItem { entity: format!("group:default/{}", t.slug), file: file.clone(), outcome, messages: vec![] });
        team_plan.push((t.clone(), changed));
    }
    // entities: what exists, and what the references point at
    let refs: Vec<EntityRef> = entities
        .iter()
        .flat_map(|(_, d)| std::iter::once(d.entity.clone()).chain(d.relations.iter().map(|(_, r)| r.clone())))
        .collect();
    let found = repo::resolve(&mut *conn, &refs).await?;
    let own_ids: Vec<EntityId> = entities.iter().filter_map(|(_, d)| found.get(&d.entity).copied()).collect();
    let mut stored: HashMap<EntityRef, Stored> =
        repo::load(conn, &own_ids).await?.into_iter().map(|s| (s.desired.entity.clone(), s)).collect();
    // people who own entities, by whether they have signed in here
    let persons: Vec<String> =
        entities.iter().filter_map(|(_, d)| d.owners.first()).filter(|o| o.starts_with("user:")).cloned().collect();
    let people: HashMap<String, bool> =
        repo::owner_ids(&mut *conn, &persons).await?.into_iter().map(|(o, who)| (o, who != OwnerId::NotHere)).collect();
    let team_here = |slug: &str| existing_teams.contains_key(slug) || batch_teams.contains(slug);
    let problems_of = |d: &Desired| {
        let mut problems = Vec::new();
        for o in d.owners.iter().skip(1) {
            if !team_here(o) {
                problems.push(format!("co-owner group:default/{o} is not a team here, nor in the files"));
            }
        }
        if stored.get(&d.entity).is_some_and(|s| s.status == "pending") {
            problems.push("this entity waits for approval of its registration; import it once that is decided".into());
        }
        problems
    };
    let problems: Vec<Vec<String>> = entities.iter().map(|(_, d)| problems_of(d)).collect();
    let written: BTreeSet<&EntityRef> = entities.iter().zip(&problems).filter(|(_, p)| p.is_empty()).map(|((_, d), _)| &d.entity).collect();
    // a reference to what is neither in the catalog nor written now is kept, unresolved, and listed
    let unresolved = |d: &Desired| -> Vec<String> {
        d.relations
            .iter()
            .filter(|(_, target)| !found.contains_key(target) && !written.contains(target))
            .map(|(rel, target)| format!("{rel} {target} is not in the catalog: kept, and resolved when it arrives"))
            .collect()
    };
    let owner_note = |d: &Desired| -> Option<String> {
        let owner = d.owners.first()?;
        match people.get(owner.as_str()) {
            Some(true) => Some(format!("owned by a person ({owner}): they edit and deploy it as a team's members would")),
            Some(false) => Some(format!("owner {owner} has not signed in to Switchyard yet: kept; only admins may change it until they do")),
            None if owner.contains(':') || !team_here(owner) => {
                Some(format!("owner {owner} is not a team here: kept; only admins may change it until the team exists"))
            }
            None => None,
        }
    };
    let warnings: Vec<Vec<String>> = entities.iter().map(|(_, d)| owner_note(d).into_iter().chain(unresolved(d)).collect()).collect();
    let mut writes = Vec::new();
    for (((file, d), problems), warnings) in entities.into_iter().zip(problems).zip(warnings) {
        let old = stored.remove(&d.entity);
        let entity = d.entity.to_string();
        if !problems.is_empty() {
            items.push(ImportItem { entity, file, outcome: Outcome::Refused, messages: problems });
            continue;
        }
        match old {
            None => {
                items.push(ImportItem { entity, file, outcome: Outcome::Created, messages: warnings });
                writes.push((d, None));
            }
            Some(old) => {
                let changed = changed_fields(&old.desired, &d);
                if changed.is_empty() {
                    items.push(ImportItem { entity, file, outcome: Outcome::Unchanged, messages: warnings });
                } else {
                    items.push(ImportItem {
                        entity,
                        file,
                        outcome: Outcome::Updated,
                        messages: std::iter::once(format!("changed: {}", changed.join(", "))).chain(warnings).collect(),
                    });
                    writes.push((d, Some(old)));
                }
            }
        }
    }
    // systems and integrations, which may name the teams and components written above
    let declared_teams: BTreeSet<String> = team_plan.iter().map(|(t, _)| t.slug.clone()).collect();
    let components: BTreeSet<String> =
        writes.iter().filter(|(d, _)| d.entity.kind == "component" && d.entity.namespace == "default").map(|(d, _)| d.entity.name.clone()).collect();
    let (declared_items, declared) = integrations::plan_declared(&mut *conn, declared, Batch { teams: &declared_teams, components: &components }).await?;
    items.extend(declared_items);
    Ok(Plan { items, teams: team_plan, writes, declared })
}

/// Writes a plan: teams, then every entity's own fields, then relations and co-owners (once
/// every entity of the batch has an id), each with its audit row, then one row for the import.
async fn apply(
    conn: &mut PgConnection,
    plan: &Plan,
    actor: Actor<'_>,
    import_id: &str,
    meta: &RequestMeta,
    progress: Option<&Progress>,
) -> Result<Notes, CatalogError> {
    for (t, changed) in &plan.teams {
        if *changed && repo::upsert_team(conn, t).await? {
            let change = Change {
                action: "team.imported",
                subject_kind: SubjectKind::Team,
                subject_id: t.slug.clone(),
                before: None,
                after: Some(json!({ "name": t.name, "description": t.description })),
            };
            audit::record(conn, actor, change, meta).await?;
        }
    }
    // every owner the batch declares, resolved at once (its teams are written by now)
    let declared: Vec<String> = plan.writes.iter().flat_map(|(d, _)| d.owners.iter().cloned()).collect();
    let who = repo::owner_ids(&mut *conn, &declared).await?;
    let mut rows = Vec::with_capacity(plan.writes.len());
    let mut co_owners = Vec::with_capacity(plan.writes.len());
    for (d, _) in &plan.writes {
        let Some((first, rest)) = d.owners.split_first() else {
            return Err(Refusal::invalid("owner", format!("{} needs an owner", d.entity)).into());
        };
        rows.push((d, who.get(first).copied().unwrap_or(OwnerId::NotHere)));
        let co = rest.iter().map(|o| who.get(o).and_then(|w| w.team()).ok_or_else(|| Refusal::invalid("owner", format!("there is no team \"{o}\""))));
        co_owners.push(co.collect::<Result<Vec<Uuid>, Refusal>>()?);
    }
    let total = rows.len();
    let mut ids = HashMap::with_capacity(total);
    for chunk in rows.chunks(WRITE_CHUNK) {
        ids.extend(repo::upsert_many(conn, chunk, "active").await?);
        if let Some(p) = progress {
            p.report(&format!("writing entities: {} of {total}", ids.len()), total, ids.len()).await?;
        }
    }
    let id_of = |d: &Desired| ids.get(&d.entity).copied().ok_or_else(|| CatalogError::from(sqlx::Error::RowNotFound));
    let mut changes = Vec::with_capacity(plan.writes.len());
    for (d, old) in &plan.writes {
        changes.push(Change {
            action: "entity.imported",
            subject_kind: SubjectKind::Entity,
            subject_id: id_of(d)?.to_string(),
            before: old.as_ref().map(|old| json!({ "changed": changed_fields(&old.desired, d) })),
            after: Some(serde_json::to_value(d).unwrap_or_default()),
        });
    }
    while !changes.is_empty() {
        let rest = changes.split_off(changes.len().min(WRITE_CHUNK));
        audit::record_many(conn, actor, changes, meta).await?;
        changes = rest;
    }
    if let Some(p) = progress {
        p.report("writing relations and co-owners", total, total).await?;
    }
    let mut links = Vec::with_capacity(plan.writes.len());
    for ((d, _), co) in plan.writes.iter().zip(co_owners) {
        links.push((id_of(d)?, d, co));
    }
    // a reference to an entity of another chunk resolves: it is written, in this transaction
    for chunk in links.chunks(WRITE_CHUNK) {
        write_links_of(conn, chunk, Missing::Keep).await?;
    }
    // owners declared before their team (or person) was here resolve now
    repo::resolve_waiting_owners(conn).await?;
    let by = match actor {
        Actor::Person(p) => By::Person(p),
        Actor::System => By::Switchyard,
    };
    let notes = integrations::apply_declared(&mut *conn, by, &plan.declared, meta, Utc::now()).await?;
    let summary = json!({
        "created": plan.items.iter().filter(|i| i.outcome == Outcome::Created).count(),
        "updated": plan.items.iter().filter(|i| i.outcome == Outcome::Updated).count(),
        "unchanged": plan.items.iter().filter(|i| i.outcome == Outcome::Unchanged).count(),
        "skipped": plan.items.iter().filter(|i| i.outcome == Outcome::Skipped).count(),
        "items": plan.items,
    });
    let change = Change { action: "catalog.imported", subject_kind: SubjectKind::CatalogImport, subject_id: import_id.to_owned(), before: None, after: Some(summary) };
    audit::record(conn, actor, change, meta).await?;
    Ok(notes)
}

/// What applying adds to the report, per entity (an approval a declared integration waits for).
type Notes = Vec<(String, String)>;

fn add_notes(items: &mut [ImportItem], notes: Notes) {
    for (entity, note) in notes {
        if let Some(item) = items.iter_mut().find(|i| i.entity == entity) {
            item.messages.push(note);
        }
    }
}

/// A declared system's or integration's refusal, in the catalog's words.
impl From<IntegrationError> for CatalogError {
    fn from(e: IntegrationError) -> Self {
        match e {
            IntegrationError::Refused(r) => CatalogError::Refused(r),
            IntegrationError::BadEvent(r) => CatalogError::Refused(Refusal::invalid("files", r.to_string())),
            IntegrationError::StaleVersion => CatalogError::StaleVersion,
            IntegrationError::Approval(a) => CatalogError::Approval(a),
            IntegrationError::Database(d) => CatalogError::Database(d),
        }
    }
}

fn check_size(files: &[SourceFile]) -> Result<(), CatalogError> {
    if files.is_empty() {
        return Err(Refusal::invalid("files", "no file given: upload one or more catalog-info.yaml files").into());
    }
    Ok(untrusted::check_sizes(&DESCRIPTORS, "files", files.iter().map(|f| f.content.len()))?)
}

/// Reads the files within the descriptor limits, on a reader thread, before any connection is
/// taken: a hostile file costs a reader a few milliseconds and the database nothing.
async fn read(files: Vec<SourceFile>) -> Result<(Vec<SourceFile>, Vec<Parsed>), CatalogError> {
    check_size(&files)?;
    Ok(untrusted::off_thread(&DESCRIPTORS, "files", move |deadline| {
        let parsed = backstage::parse_files(&files, &DESCRIPTORS, &deadline)?;
        Ok((files, parsed))
    })
    .await?)
}

/// How an import applies.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Only report what it would do.
    pub dry_run: bool,
    /// Write nothing when any entity is refused (otherwise every other entity is written).
    pub atomic: bool,
}

/// Imports descriptor files: every entity that is not refused, in one transaction.
#[tracing::instrument(name = "catalog.service.import", skip(pool, principal, files), fields(user = %principal.username, files = files.len()), err)]
pub async fn import(
    pool: &PgPool,
    principal: &Principal,
    files: Vec<SourceFile>,
    options: Options,
    meta: &RequestMeta,
) -> Result<ImportReport, CatalogError> {
    allowed(principal, options)?;
    run(pool, principal, files, options, meta, None).await
}

fn allowed(principal: &Principal, options: Options) -> Result<(), CatalogError> {
    principal.require_read()?;
    if !options.dry_run {
        principal.require_write()?;
    }
    Ok(())
}

/// Entities written per statement, and between two reports of a background import's progress.
const WRITE_CHUNK: usize = 2_000;

/// Where a background import reports how far it is: on a connection of its own, since the
/// import's transaction shows nothing until it commits.
pub struct Progress {
    pool: PgPool,
    job: Uuid,
}

impl Progress {
    async fn report(&self, step: &str, entities: usize, written: usize) -> Result<(), CatalogError> {
        let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(repo::job_progress(&self.pool, self.job, step, count(entities), count(written)).await?)
    }
}

/// Starts an import in the background and returns its job's id at once: the caller's rights
/// and the files' sizes are checked now; reading, planning and writing (one transaction, as
/// `import`) then run on their own, reporting progress, and end with the job's report or error.
#[tracing::instrument(name = "catalog.service.start", skip(pool, principal, files), fields(user = %principal.username, files = files.len()), err)]
pub async fn start(pool: &PgPool, principal: &Principal, files: Vec<SourceFile>, options: Options, meta: &RequestMeta) -> Result<Uuid, CatalogError> {
    allowed(principal, options)?;
    check_size(&files)?;
    let id = Uuid::new_v4();
    repo::insert_job(pool, id, principal.user_id.0, "reading the files").await?;
    let (pool, principal, meta) = (pool.clone(), principal.clone(), meta.clone());
    tokio::spawn(async move {
        let progress = Progress { pool: pool.clone(), job: id };
        let outcome = run(&pool, &principal, files, options, &meta, Some(&progress)).await;
        let ended = match outcome {
            Ok(report) => repo::finish_job(&pool, id, Ok(&report)).await,
            Err(e) => {
                tracing::warn!(job = %id, error = %e, "background import failed");
                let error = match e {
                    CatalogError::Database(_) => format!(
                        "Something went wrong on our side; nothing was written. Quote request id {} if you report it.",
                        meta.request_id
                    ),
                    other => other.to_string(),
                };
                repo::finish_job(&pool, id, Err(&error)).await
            }
        };
        if let Err(e) = ended {
            tracing::error!(job = %id, error = %e, "could not record the end of a background import");
        }
    });
    Ok(id)
}

/// A background import, for whoever started it (or an admin); anyone else is told it is not there.
#[tracing::instrument(name = "catalog.service.job", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn job(pool: &PgPool, principal: &Principal, id: Uuid) -> Result<ImportJob, CatalogError> {
    principal.require_read()?;
    match repo::job(pool, id).await? {
        Some((job, by)) if by == principal.user_id.0 || principal.is_admin() => Ok(job),
        _ => Err(Refusal::NotFound(format!("The import job {id}")).into()),
    }
}

async fn run(
    pool: &PgPool,
    principal: &Principal,
    files: Vec<SourceFile>,
    options: Options,
    meta: &RequestMeta,
    progress: Option<&Progress>,
) -> Result<ImportReport, CatalogError> {
    let Options { dry_run, atomic } = options;
    let (files, parsed) = read(files).await?;
    if let Some(p) = progress {
        p.report("comparing with the catalog", parsed.len(), 0).await?;
    }
    let mut tx = pool.begin().await?;
    let plan = plan(&mut tx, parsed).await?;
    let refused = plan.items.iter().any(|i| i.outcome == Outcome::Refused);
    let mut report = ImportReport { dry_run, applied: false, approval_id: None, items: plan.items.clone() };
    if dry_run || (atomic && refused) || !plan.changes_something() {
        return Ok(report); // the transaction rolls back: nothing written
    }
    let import_id = Uuid::new_v4().to_string();
    let tier_zero = plan.touches_tier_zero();
    if principal.is_admin() && !tier_zero {
        let notes = apply(&mut tx, &plan, Actor::Person(principal), &import_id, meta, progress).await?;
        add_notes(&mut report.items, notes);
        report.applied = true;
    } else {
        let counts = |o: Outcome| plan.items.iter().filter(|i| i.outcome == o).count();
        let ask = Ask {
            subject_kind: IMPORT,
            subject_id: import_id,
            action: "import",
            summary: format!(
                "Import {} file(s): {} to create, {} to update{}",
                files.len(),
                counts(Outcome::Created),
                counts(Outcome::Updated),
                if tier_zero { " (tier 0 services among them: two approvals)" } else { "" }
            ),
            payload: json!({ "files": files, "report": plan.items, "tier_zero": tier_zero }),
            required_approvals: approvals_needed(plan.governed_tiers()),
            approvers: Approvers::Admins,
            owning_team: None,
            reason: format!("Catalog import by {}", principal.username),
            valid_for: Duration::days(7),
        };
        report.approval_id = Some(approvals::open(&mut tx, principal, ask, meta).await?.0);
    }
    tx.commit().await?;
    Ok(report)
}

/// Performs an approved import (inside the approval's transaction): the files are planned
/// again against today's catalog, and refused as a whole if anything no longer fits.
pub async fn perform(conn: &mut PgConnection, import_id: &str, payload: &serde_json::Value, approver: &Principal, meta: &RequestMeta) -> Result<(), CatalogError> {
    let files: Vec<SourceFile> = serde_json::from_value(payload["files"].clone())
        .map_err(|_| Refusal::invalid("payload", "the request holds no readable files"))?;
    // read when the request was filed, within the same limits: cheap to read again here
    let parsed = backstage::parse_files(&files, &DESCRIPTORS, &Deadline::from_now(&DESCRIPTORS))?;
    let plan = plan(conn, parsed).await?;
    if plan.touches_tier_zero() && payload["tier_zero"] != json!(true) {
        return Err(Refusal::invalid(
            "import",
            "the catalog changed since the request: it now changes a tier 0 service, which needs two approvals; import it again",
        ).into());
    }
    // the approvers saw which entities were refused: one more now, and the request no longer holds
    let refused_then: Vec<ImportItem> = serde_json::from_value(payload["report"].clone())
        .map_err(|_| Refusal::invalid("payload", "the request holds no readable report of what was refused"))?;
    let was_refused = |entity: &str| refused_then.iter().any(|i| i.entity == entity && i.outcome == Outcome::Refused);
    if let Some(bad) = plan.items.iter().find(|i| i.outcome == Outcome::Refused && !was_refused(&i.entity)) {
        return Err(Refusal::invalid(
            "import",
            format!("the catalog changed since the request: {} is refused ({})", bad.entity, bad.messages.join("; ")),
        ).into());
    }
    apply(conn, &plan, Actor::Person(approver), import_id, meta, None).await.map(|_| ())
}

/// Imports as Switchyard itself (the demo data loader): applies at once, audited as the system.
pub async fn import_as_system(pool: &PgPool, files: Vec<SourceFile>, meta: &RequestMeta) -> Result<ImportReport, CatalogError> {
    let (_, parsed) = read(files).await?;
    let mut tx = pool.begin().await?;
    let plan = plan(&mut tx, parsed).await?;
    let mut report = ImportReport { dry_run: false, applied: false, approval_id: None, items: plan.items.clone() };
    if report.refused() || !plan.changes_something() {
        return Ok(report);
    }
    let notes = apply(&mut tx, &plan, Actor::System, &Uuid::new_v4().to_string(), meta, None).await?;
    add_notes(&mut report.items, notes);
    tx.commit().await?;
    report.applied = true;
    Ok(report)
}
