//! Writing kick-offs: the facts their checks read, the idempotency key, the deploy with its
//! first transitions and audit row (alone or in a group).
use super::{tier, Environment, FreezeRow, Target};
use crate::approvals::types::ApprovalId;
use crate::audit::service as audit;
use crate::catalog::types::EntityId;
use crate::deploys::types::{DeployId, FreezeId};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// What a kick-off checks and records, read in one query.
#[derive(Clone, Default)]
pub struct KickOffFacts {
    /// The service as a deploy target; None when no component has the name.
    pub target: Option<Target>,
    /// The environment with the freeze windows that may still apply; None when no environment
    /// has the name.
    pub environment: Option<(Environment, Vec<FreezeRow>)>,
    /// The version that runs in the environment now: the service's newest succeeded deploy there.
    pub running_version: Option<String>,
}

/// The facts a kick-off of `service` to `environment` checks, freeze windows from `from` on:
/// one query.
#[tracing::instrument(level = "debug", name = "deploys.repo.kick_off_facts", skip_all)]
pub async fn kick_off_facts(db: impl PgExecutor<'_>, service: &str, environment: &str, from: DateTime<Utc>) -> Result<KickOffFacts, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT s.id AS "service_id?: EntityId", s.name AS "service_name?", s.title AS "service_title?", s.tier AS "tier?",
                  s.status AS "status?", s.owner_team_id AS "owner_team_id?", s.owner_user_id AS "owner_user_id?", s.owner_name AS "owner_name?",
                  s.repository_url AS "repository_url?", s.co_owners AS "co_owners?",
                  (SELECT p.version FROM deploys p WHERE p.service_id = s.id AND p.environment = e.name AND p.state = 'succeeded'
                   ORDER BY p.finished_at DESC, p.seq DESC LIMIT 1) AS "running_version?",
                  e.name AS "env_name?", e.title AS "env_title?", e.requires_approval AS "requires_approval?", e.maintenance_policy AS "maintenance_policy?",
                  e.critical_run_policy AS "critical_run_policy?",
                  f.id AS "freeze_id?: FreezeId", f.reason AS "freeze_reason?", f.starts_at AS "starts_at?", f.ends_at AS "ends_at?",
                  f.schedule AS "schedule?", f.duration_mins AS "duration_mins?", coalesce(u.username, 'switchyard') AS "created_by!"
           FROM (SELECT $1::text AS service, $2::text AS environment) AS k
           LEFT JOIN LATERAL (
               SELECT o.id, o.name, o.title, o.tier, o.status, o.owner_team_id, o.owner_user_id, o.owner_name, o.repository_url,
                      o.co_owner_ids AS co_owners
               FROM catalog_ownership o
               WHERE o.kind = 'component' AND o.namespace = 'default' AND o.name = k.service) AS s ON true
           LEFT JOIN environments e ON e.name = k.environment
           LEFT JOIN freeze_windows f ON f.environment = e.name AND (f.ends_at IS NULL OR f.ends_at > $3)
           LEFT JOIN users u ON u.id = f.created_by
           ORDER BY f.starts_at"#,
        service,
        environment,
        from
    )
    .fetch_all(db)
    .await?;
    // a row per freeze window, each with the service and environment (left joins: at least one row)
    let mut facts = KickOffFacts::default();
    for (i, r) in rows.into_iter().enumerate() {
        if i == 0 {
            facts.target = match (r.service_id, r.service_name, r.service_title, r.status, r.owner_name) {
                (Some(id), Some(name), Some(title), Some(status), Some(owner_name)) => Some(Target {
                    id,
                    name,
                    title,
                    tier: tier(r.tier)?,
                    status,
                    owner_team_id: r.owner_team_id,
                    owner_user_id: r.owner_user_id,
                    owner_name,
                    repository_url: r.repository_url,
                    co_owners: r.co_owners.unwrap_or_default(),
                }),
                _ => None,
            };
            facts.environment = match (r.env_name, r.env_title, r.requires_approval, r.maintenance_policy, r.critical_run_policy) {
                (Some(name), Some(title), Some(requires_approval), Some(maintenance_policy), Some(critical_run_policy)) => {
                    Some((Environment { name, title, requires_approval, maintenance_policy, critical_run_policy }, Vec::new()))
                }
                _ => None,
            };
            facts.running_version = r.running_version;
        }
        let Some((env, windows)) = &mut facts.environment else { continue };
        if let (Some(id), Some(reason), Some(starts_at)) = (r.freeze_id, r.freeze_reason, r.starts_at) {
            windows.push(FreezeRow {
                id,
                environment: env.name.clone(),
                reason,
                starts_at,
                ends_at: r.ends_at,
                schedule: r.schedule,
                duration_mins: r.duration_mins,
                created_by: r.created_by,
            });
        }
    }
    Ok(facts)
}

/// The deploy a requester's key already names, with the fingerprint of its parameters.
#[tracing::instrument(level = "debug", name = "deploys.repo.by_key", skip_all)]
pub async fn by_key(db: impl PgExecutor<'_>, requester: Uuid, key: &str) -> Result<Option<(DeployId, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id AS "id: DeployId", fingerprint FROM deploys WHERE requester_id = $1 AND idempotency_key = $2"#,
        requester,
        key
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.fingerprint)))
}

/// A deploy to insert with its first two transitions (`requested`, then `state`), made by
/// `actor_name`, the second noting `note`.
pub struct NewDeployRow {
    pub id: DeployId,
    pub service_id: EntityId,
    pub environment: String,
    pub version: String,
    pub rollback_of: Option<DeployId>,
    pub reason: String,
    pub requester_id: Uuid,
    pub idempotency_key: String,
    pub fingerprint: Vec<u8>,
    pub state: &'static str,
    pub freeze_override: Option<String>,
    /// The version that runs in the environment now (its newest succeeded deploy).
    pub previous_version: Option<String>,
    pub actor_name: String,
    pub note: &'static str,
    /// The kick-off's `traceparent`, for the worker's span to link to.
    pub trace_context: Option<String>,
}

/// Inserts a deploy with its first two transitions, and with `audit` appends its audit row too —
/// one statement, so on its own (no BEGIN, no COMMIT) it is one transaction: a kick-off that
/// needs nothing else in its transaction is a single round trip. Returns when the deploy was
/// created; None when the requester's idempotency key is taken (nothing written, not even the
/// audit row).
///
/// Lock order: every audited transaction takes its row locks before its audit stripe's lock
/// (which it holds until it commits), so no transaction waits for a row while holding a stripe
/// that the row's holder waits for. The foreign keys lock the parent rows only at the end of the
/// statement, after the audit link; `locked` takes the same locks (`FOR KEY SHARE`) before it.
#[tracing::instrument(level = "debug", name = "deploys.repo.insert", skip_all)]
pub async fn insert(conn: &mut PgConnection, d: &NewDeployRow, audit: Option<&audit::Entry>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let a = audit.map(|e| &e.row);
    sqlx::query_scalar!(
        r#"WITH added AS (
               INSERT INTO deploys (id, service_id, environment, version, previous_version, rollback_of, reason,
                                    requester_id, idempotency_key, fingerprint, state, freeze_override, trace_context)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $26)
               ON CONFLICT (requester_id, idempotency_key) DO NOTHING
               RETURNING id, created_at),
           steps AS (
               INSERT INTO deploy_transitions (deploy_id, from_state, to_state, actor_id, actor_name, note, at)
               SELECT added.id, s.from_state, s.to_state, $8, $13, s.note, added.created_at
               FROM added, (VALUES (NULL::text, 'requested'::text, $7::text), ('requested', $11::text, $14::text)) AS s (from_state, to_state, note)),
           locked AS (
               SELECT (SELECT count(*) FROM (SELECT 1 FROM entities s, environments e, users u
                                             WHERE s.id = $2 AND e.name = $3 AND u.id = $8 FOR KEY SHARE) AS p)
                    + (SELECT count(*) FROM (SELECT 1 FROM deploys r WHERE r.id = $6 FOR KEY SHARE) AS r) AS n),
           audited AS (
               SELECT audit_append($15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25) AS id
               FROM added, locked WHERE $25::text IS NOT NULL)
           SELECT added.created_at AS "created_at!" FROM added LEFT JOIN audited ON true"#,
        d.id.0,
        d.service_id.0,
        d.environment,
        d.version,
        d.previous_version,
        d.rollback_of.map(|r| r.0),
        d.reason,
        d.requester_id,
        d.idempotency_key,
        d.fingerprint,
        d.state,
        d.freeze_override,
        d.actor_name,
        d.note,
        a.map(|r| r.at),
        a.and_then(|r| r.actor_id),
        a.map(|r| r.actor_name.as_str()),
        a.map(|r| r.action.as_str()),
        a.map(|r| r.subject_kind.as_str()),
        a.map(|r| r.subject_id.as_str()),
        a.and_then(|r| r.before.clone()),
        a.and_then(|r| r.after.clone()),
        a.map(|r| r.request_id.as_str()),
        a.map(|r| r.source_ip.as_str()),
        audit.map(|e| e.content.as_str()),
        d.trace_context,
    )
    .fetch_optional(conn)
    .await
}

/// [`insert`] for a group of deploys, each with its audit row, in one statement and so one
/// transaction: one commit for the group instead of one each (see `deploys::queue`). Returns the
/// deploys created with their time; a deploy whose requester's key is taken (before, or by an
/// earlier one of the group) is left out, with nothing written for it. Any other failure writes
/// nothing for the whole group. Every key is claimed (a key another transaction is claiming is
/// waited for) and the parent rows are locked, in key order, before the first audit link, so the
/// group waits for nothing while it holds its audit stripe (as [`insert`]).
#[tracing::instrument(level = "debug", name = "deploys.repo.insert_group", skip_all)]
pub async fn insert_group(conn: &mut PgConnection, group: &[(NewDeployRow, audit::Entry)]) -> Result<Vec<(DeployId, DateTime<Utc>)>, sqlx::Error> {
    fn col<T>(group: &[(NewDeployRow, audit::Entry)], f: impl Fn(&(NewDeployRow, audit::Entry)) -> T) -> Vec<T> {
        group.iter().map(f).collect()
    }
    let rows = sqlx::query!(
        r#"WITH input AS (
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[],
                                    $8::uuid[], $9::text[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[],
                                    $15::timestamptz[], $16::uuid[], $17::text[], $18::text[], $19::text[], $20::text[],
                                    $21::jsonb[], $22::jsonb[], $23::text[], $24::text[], $25::text[], $26::text[])
                   AS i (id, service_id, environment, version, previous_version, rollback_of, reason, requester_id,
                         idempotency_key, fingerprint, state, freeze_override, actor_name, note,
                         a_at, a_actor_id, a_actor_name, a_action, a_subject_kind, a_subject_id, a_before, a_after,
                         a_request_id, a_source_ip, a_content, trace_context)),
           added AS (
               INSERT INTO deploys (id, service_id, environment, version, previous_version, rollback_of, reason,
                                    requester_id, idempotency_key, fingerprint, state, freeze_override, trace_context)
               SELECT id, service_id, environment, version, previous_version, rollback_of, reason,
                      requester_id, idempotency_key, fingerprint, state, freeze_override, trace_context
               FROM input
               ON CONFLICT (requester_id, idempotency_key) DO NOTHING
               RETURNING id, created_at),
           steps AS (
               INSERT INTO deploy_transitions (deploy_id, from_state, to_state, actor_id, actor_name, note, at)
               SELECT i.id, s.from_state, s.to_state, i.requester_id, i.actor_name, s.note, added.created_at
               FROM added JOIN input i ON i.id = added.id,
                    LATERAL (VALUES (NULL::text, 'requested'::text, i.reason), ('requested', i.state, i.note)) AS s (from_state, to_state, note)),
           locked AS MATERIALIZED (
               SELECT (SELECT count(*) FROM added)
                    + (SELECT count(*) FROM (SELECT 1 FROM entities s WHERE s.id IN (SELECT service_id FROM input) ORDER BY s.id FOR KEY SHARE) AS p)
                    + (SELECT count(*) FROM (SELECT 1 FROM environments e WHERE e.name IN (SELECT environment FROM input) ORDER BY e.name FOR KEY SHARE) AS p)
                    + (SELECT count(*) FROM (SELECT 1 FROM users u WHERE u.id IN (SELECT requester_id FROM input) ORDER BY u.id FOR KEY SHARE) AS p)
                    + (SELECT count(*) FROM (SELECT 1 FROM deploys r WHERE r.id IN (SELECT rollback_of FROM input) ORDER BY r.id FOR KEY SHARE) AS p) AS n),
           audited AS (
               SELECT audit_append(i.a_at, i.a_actor_id, i.a_actor_name, i.a_action, i.a_subject_kind, i.a_subject_id,
                                   i.a_before, i.a_after, i.a_request_id, i.a_source_ip, i.a_content) AS id
               FROM locked, added JOIN input i ON i.id = added.id
               WHERE locked.n >= 0)
           SELECT added.id AS "id!: DeployId", added.created_at AS "created_at!"
           FROM added, (SELECT count(*) FROM audited) AS a"#,
        &col(group, |(d, _)| d.id.0),
        &col(group, |(d, _)| d.service_id.0),
        &col(group, |(d, _)| d.environment.clone()),
        &col(group, |(d, _)| d.version.clone()),
        &col(group, |(d, _)| d.previous_version.clone()) as _,
        &col(group, |(d, _)| d.rollback_of.map(|r| r.0)) as _,
        &col(group, |(d, _)| d.reason.clone()),
        &col(group, |(d, _)| d.requester_id),
        &col(group, |(d, _)| d.idempotency_key.clone()),
        &col(group, |(d, _)| d.fingerprint.clone()),
        &col(group, |(d, _)| d.state.to_owned()),
        &col(group, |(d, _)| d.freeze_override.clone()) as _,
        &col(group, |(d, _)| d.actor_name.clone()),
        &col(group, |(d, _)| d.note.to_owned()),
        &col(group, |(_, a)| a.row.at),
        &col(group, |(_, a)| a.row.actor_id) as _,
        &col(group, |(_, a)| a.row.actor_name.clone()),
        &col(group, |(_, a)| a.row.action.clone()),
        &col(group, |(_, a)| a.row.subject_kind.clone()),
        &col(group, |(_, a)| a.row.subject_id.clone()),
        &col(group, |(_, a)| a.row.before.clone()) as _,
        &col(group, |(_, a)| a.row.after.clone()) as _,
        &col(group, |(_, a)| a.row.request_id.clone()),
        &col(group, |(_, a)| a.row.source_ip.clone()),
        &col(group, |(_, a)| a.content.clone()),
        &col(group, |(d, _)| d.trace_context.clone()) as _,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.created_at)).collect())
}

#[tracing::instrument(level = "debug", name = "deploys.repo.set_approval", skip_all)]
pub async fn set_approval(conn: &mut PgConnection, id: DeployId, approval: ApprovalId) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE deploys SET approval_id = $2 WHERE id = $1", id.0, approval.0).execute(conn).await?;
    Ok(())
}
