//! Deploy SQL. The deploys table is also the job queue: a job is a `queued` row, taken with
//! `FOR UPDATE SKIP LOCKED` and leased to one worker; `deploys_one_running_idx` keeps one
//! running per service and environment whatever the workers do.
use crate::audit::service as audit;
use crate::catalog::types::Tier;
use super::types::DeployState;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// The channel workers LISTEN on: a deploy was queued or a slot freed.
pub const QUEUE_CHANNEL: &str = "switchyard_deploy_queue";
/// The channel live views LISTEN on; the payload is the deploy's id.
pub const EVENTS_CHANNEL: &str = "switchyard_deploy_events";

/// A catalog component as a deploy target: read from the catalog's `catalog_ownership` view
/// (who owns it and who may change it), never from the catalog's own tables.
#[derive(Clone)]
pub struct Target {
    pub id: Uuid,
    pub name: String,
    pub title: String,
    pub tier: Option<Tier>,
    pub status: String,
    pub owner_team_id: Uuid,
    pub owner_name: String,
    pub repository_url: Option<String>,
    /// The teams that own it beside `owner_team_id`.
    pub co_owners: Vec<Uuid>,
}

/// A stored tier, which the catalog keeps within 0–3: anything else is an error, not a guess.
fn tier(stored: Option<i16>) -> Result<Option<Tier>, sqlx::Error> {
    stored.map(|t| Tier::parse(t.into()).map_err(|e| sqlx::Error::Decode(e.into()))).transpose()
}

pub async fn target(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Target>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT o.id AS "id!", o.name AS "name!", o.title AS "title!", o.tier, o.status AS "status!",
                  o.owner_team_id AS "owner_team_id!", o.owner_name AS "owner_name!", o.repository_url,
                  o.co_owner_ids AS "co_owners!"
           FROM catalog_ownership o
           WHERE o.kind = 'component' AND o.namespace = 'default' AND o.name = $1"#,
        name
    )
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(Target {
        id: r.id,
        name: r.name,
        title: r.title,
        tier: tier(r.tier)?,
        status: r.status,
        owner_team_id: r.owner_team_id,
        owner_name: r.owner_name,
        repository_url: r.repository_url,
        co_owners: r.co_owners,
        })
    })
    .transpose()
}

#[derive(Clone)]
pub struct Environment {
    pub name: String,
    pub title: String,
    pub requires_approval: bool,
}

pub async fn environments(db: impl PgExecutor<'_>) -> Result<Vec<Environment>, sqlx::Error> {
    sqlx::query_as!(Environment, "SELECT name, title, requires_approval FROM environments ORDER BY position")
        .fetch_all(db)
        .await
}

/// What a kick-off checks and records, read in one query.
#[derive(Clone)]
pub struct KickOffFacts {
    /// The service as a deploy target; None when no component has the name.
    pub target: Option<Target>,
    /// The environment with the freeze windows that may still apply; None when no environment
    /// has the name.
    pub environment: Option<(Environment, Vec<FreezeRow>)>,
    /// The version that runs in the environment now: the service's newest succeeded deploy there.
    pub running_version: Option<String>,
}

/// The facts kick-offs need, for each (service, environment) of `keys` in order, freeze windows
/// from `from` on: one query however many kick-offs ask (see `deploys::queue`).
pub async fn kick_off_facts(db: impl PgExecutor<'_>, keys: &[(String, String)], from: DateTime<Utc>) -> Result<Vec<KickOffFacts>, sqlx::Error> {
    let (services, environments): (Vec<String>, Vec<String>) = keys.iter().cloned().unzip();
    let rows = sqlx::query!(
        r#"SELECT k.n AS "n!", s.id AS "service_id?", s.name AS "service_name?", s.title AS "service_title?", s.tier AS "tier?",
                  s.status AS "status?", s.owner_team_id AS "owner_team_id?", s.owner_name AS "owner_name?",
                  s.repository_url AS "repository_url?", s.co_owners AS "co_owners?",
                  (SELECT p.version FROM deploys p WHERE p.service_id = s.id AND p.environment = e.name AND p.state = 'succeeded'
                   ORDER BY p.finished_at DESC, p.seq DESC LIMIT 1) AS "running_version?",
                  e.name AS "env_name?", e.title AS "env_title?", e.requires_approval AS "requires_approval?",
                  f.id AS "freeze_id?", f.reason AS "freeze_reason?", f.starts_at AS "starts_at?", f.ends_at AS "ends_at?",
                  f.schedule AS "schedule?", f.duration_mins AS "duration_mins?", coalesce(u.username, 'switchyard') AS "created_by!"
           FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k (service, environment, n)
           LEFT JOIN LATERAL (
               SELECT o.id, o.name, o.title, o.tier, o.status, o.owner_team_id, o.owner_name, o.repository_url,
                      o.co_owner_ids AS co_owners
               FROM catalog_ownership o
               WHERE o.kind = 'component' AND o.namespace = 'default' AND o.name = k.service) AS s ON true
           LEFT JOIN environments e ON e.name = k.environment
           LEFT JOIN freeze_windows f ON f.environment = e.name AND (f.ends_at IS NULL OR f.ends_at > $3)
           LEFT JOIN users u ON u.id = f.created_by
           ORDER BY k.n, f.starts_at"#,
        &services,
        &environments,
        from
    )
    .fetch_all(db)
    .await?;
    let mut facts: Vec<KickOffFacts> = Vec::with_capacity(keys.len());
    for r in rows {
        if facts.len() < r.n as usize {
            let target = match (r.service_id, r.service_name, r.service_title, r.status, r.owner_team_id, r.owner_name) {
                (Some(id), Some(name), Some(title), Some(status), Some(owner_team_id), Some(owner_name)) => Some(Target {
                    id,
                    name,
                    title,
                    tier: tier(r.tier)?,
                    status,
                    owner_team_id,
                    owner_name,
                    repository_url: r.repository_url,
                    co_owners: r.co_owners.unwrap_or_default(),
                }),
                _ => None,
            };
            let environment = match (r.env_name, r.env_title, r.requires_approval) {
                (Some(name), Some(title), Some(requires_approval)) => Some((Environment { name, title, requires_approval }, Vec::new())),
                _ => None,
            };
            facts.push(KickOffFacts { target, environment, running_version: r.running_version });
        }
        let Some(KickOffFacts { environment: Some((env, windows)), .. }) = facts.last_mut() else { continue };
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

#[derive(Clone)]
pub struct FreezeRow {
    pub id: Uuid,
    pub environment: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub schedule: Option<String>,
    pub duration_mins: Option<i32>,
    pub created_by: String,
}

/// Freeze windows, of one environment or all, that may still apply after `from`.
pub async fn freezes(db: impl PgExecutor<'_>, environment: Option<&str>, from: DateTime<Utc>) -> Result<Vec<FreezeRow>, sqlx::Error> {
    sqlx::query_as!(
        FreezeRow,
        r#"SELECT f.id, f.environment, f.reason, f.starts_at, f.ends_at, f.schedule, f.duration_mins,
                  coalesce(u.username, 'switchyard') AS "created_by!"
           FROM freeze_windows f LEFT JOIN users u ON u.id = f.created_by
           WHERE ($1::text IS NULL OR f.environment = $1) AND (f.ends_at IS NULL OR f.ends_at > $2)
           ORDER BY f.starts_at"#,
        environment,
        from
    )
    .fetch_all(db)
    .await
}

pub struct NewFreeze<'a> {
    pub environment: &'a str,
    pub reason: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub schedule: Option<&'a str>,
    pub duration_mins: Option<i32>,
    pub created_by: Uuid,
}

pub async fn insert_freeze(db: impl PgExecutor<'_>, f: &NewFreeze<'_>) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO freeze_windows (environment, reason, starts_at, ends_at, schedule, duration_mins, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"#,
        f.environment,
        f.reason,
        f.starts_at,
        f.ends_at,
        f.schedule,
        f.duration_mins,
        f.created_by
    )
    .fetch_one(db)
    .await
}

/// Deletes a window; returns its reason and environment when it existed.
pub async fn delete_freeze(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query!("DELETE FROM freeze_windows WHERE id = $1 RETURNING environment, reason", id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.environment, r.reason)))
}

/// The deploy a requester's key already names, with the fingerprint of its parameters.
pub async fn by_key(db: impl PgExecutor<'_>, requester: Uuid, key: &str) -> Result<Option<(Uuid, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        "SELECT id, fingerprint FROM deploys WHERE requester_id = $1 AND idempotency_key = $2",
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
    pub id: Uuid,
    pub service_id: Uuid,
    pub environment: String,
    pub version: String,
    pub rollback_of: Option<Uuid>,
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
pub async fn insert(conn: &mut PgConnection, d: &NewDeployRow, audit: Option<&audit::Entry>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let a = audit.map(|e| &e.row);
    sqlx::query_scalar!(
        r#"WITH added AS (
               INSERT INTO deploys (id, service_id, environment, version, previous_version, rollback_of, reason,
                                    requester_id, idempotency_key, fingerprint, state, freeze_override)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
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
        d.id,
        d.service_id,
        d.environment,
        d.version,
        d.previous_version,
        d.rollback_of,
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
pub async fn insert_group(conn: &mut PgConnection, group: &[(NewDeployRow, audit::Entry)]) -> Result<Vec<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    fn col<T>(group: &[(NewDeployRow, audit::Entry)], f: impl Fn(&(NewDeployRow, audit::Entry)) -> T) -> Vec<T> {
        group.iter().map(f).collect()
    }
    let rows = sqlx::query!(
        r#"WITH input AS (
               SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[],
                                    $8::uuid[], $9::text[], $10::bytea[], $11::text[], $12::text[], $13::text[], $14::text[],
                                    $15::timestamptz[], $16::uuid[], $17::text[], $18::text[], $19::text[], $20::text[],
                                    $21::jsonb[], $22::jsonb[], $23::text[], $24::text[], $25::text[])
                   AS i (id, service_id, environment, version, previous_version, rollback_of, reason, requester_id,
                         idempotency_key, fingerprint, state, freeze_override, actor_name, note,
                         a_at, a_actor_id, a_actor_name, a_action, a_subject_kind, a_subject_id, a_before, a_after,
                         a_request_id, a_source_ip, a_content)),
           added AS (
               INSERT INTO deploys (id, service_id, environment, version, previous_version, rollback_of, reason,
                                    requester_id, idempotency_key, fingerprint, state, freeze_override)
               SELECT id, service_id, environment, version, previous_version, rollback_of, reason,
                      requester_id, idempotency_key, fingerprint, state, freeze_override
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
           SELECT added.id AS "id!", added.created_at AS "created_at!"
           FROM added, (SELECT count(*) FROM audited) AS a"#,
        &col(group, |(d, _)| d.id),
        &col(group, |(d, _)| d.service_id),
        &col(group, |(d, _)| d.environment.clone()),
        &col(group, |(d, _)| d.version.clone()),
        &col(group, |(d, _)| d.previous_version.clone()) as _,
        &col(group, |(d, _)| d.rollback_of) as _,
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
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.created_at)).collect())
}

pub async fn set_approval(conn: &mut PgConnection, id: Uuid, approval: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE deploys SET approval_id = $2 WHERE id = $1", id, approval).execute(conn).await?;
    Ok(())
}

pub async fn insert_transition(
    conn: &mut PgConnection,
    id: Uuid,
    from: Option<&str>,
    to: &str,
    actor: (Option<Uuid>, &str),
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO deploy_transitions (deploy_id, from_state, to_state, actor_id, actor_name, note) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        from,
        to,
        actor.0,
        actor.1,
        note
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks a deploy's row and returns its state.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<DeployState>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT state AS "state: DeployState" FROM deploys WHERE id = $1 FOR UPDATE"#, id).fetch_optional(conn).await
}

/// Moves a deploy to `to`; a final state releases the lease and records the outcome.
pub async fn set_state(conn: &mut PgConnection, id: Uuid, to: &str, is_final: bool, outcome: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE deploys SET state = $2, updated_at = now(),
                  outcome = coalesce($4, outcome),
                  finished_at = CASE WHEN $3 THEN now() ELSE finished_at END,
                  lease_owner = CASE WHEN $3 THEN NULL ELSE lease_owner END,
                  lease_expires_at = CASE WHEN $3 THEN NULL ELSE lease_expires_at END
           WHERE id = $1"#,
        id,
        to,
        is_final,
        outcome
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Wakes whoever listens on `channel` when the transaction commits.
pub async fn notify(db: impl PgExecutor<'_>, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2)", channel, payload).execute(db).await?;
    Ok(())
}

/// What runs in an environment now: the newest succeeded deploy's version and id.
pub async fn current(db: impl PgExecutor<'_>, service: Uuid, environment: &str) -> Result<Option<(String, Uuid)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT version, id FROM deploys WHERE service_id = $1 AND environment = $2 AND state = 'succeeded'
           ORDER BY finished_at DESC, seq DESC LIMIT 1"#,
        service,
        environment
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.version, r.id)))
}

/// The version that succeeded before `deploy` in its environment, other than its own.
pub async fn previous_success(db: impl PgExecutor<'_>, deploy: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT p.version FROM deploys d
           JOIN deploys p ON p.service_id = d.service_id AND p.environment = d.environment
                         AND p.state = 'succeeded' AND p.finished_at < d.finished_at AND p.version <> d.version
           WHERE d.id = $1
           ORDER BY p.finished_at DESC LIMIT 1"#,
        deploy
    )
    .fetch_optional(db)
    .await
}

/// Deploys of a service to an environment that have not ended, oldest first.
pub async fn in_flight(db: impl PgExecutor<'_>, service: Uuid, environment: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id FROM deploys WHERE service_id = $1 AND environment = $2
             AND state IN ('requested', 'awaiting_approval', 'queued', 'running')
           ORDER BY seq LIMIT 1"#,
        service,
        environment
    )
    .fetch_optional(db)
    .await
}

pub struct DeployRow {
    pub id: Uuid,
    pub service_id: Uuid,
    pub service: String,
    pub service_title: String,
    pub environment: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub rollback_of: Option<Uuid>,
    pub reason: String,
    pub requester_id: Uuid,
    pub requester: String,
    pub state: DeployState,
    pub approval_id: Option<Uuid>,
    pub freeze_override: Option<String>,
    pub executor: Option<String>,
    pub attempts: i32,
    pub progress: Option<i16>,
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub seq: i64,
}

/// Records `seq` as the deploy's latest CD event when it is above the last; false for a replay.
pub async fn take_event_seq(db: impl PgExecutor<'_>, id: Uuid, seq: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("UPDATE deploys SET cd_event_seq = $2 WHERE id = $1 AND cd_event_seq < $2", id, seq).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<DeployRow>, sqlx::Error> {
    let one = ListFilter { id: Some(id), service_id: None, environment: None, state: None, requester: None, since: None, until: None, limit: 1 };
    Ok(list(db, &one).await?.pop())
}

pub struct ListFilter<'a> {
    pub id: Option<Uuid>,
    pub service_id: Option<Uuid>,
    pub environment: Option<&'a str>,
    pub state: Option<&'a str>,
    pub requester: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// Deploys matching the filter, newest first.
pub async fn list(db: impl PgExecutor<'_>, f: &ListFilter<'_>) -> Result<Vec<DeployRow>, sqlx::Error> {
    sqlx::query_as!(
        DeployRow,
        r#"SELECT d.id, d.service_id, e.name AS service, e.title AS service_title, d.environment, d.version,
                  d.previous_version, d.rollback_of, d.reason, d.requester_id, u.username AS requester,
                  d.state AS "state: DeployState", d.approval_id, d.freeze_override, d.executor, d.attempts, d.progress,
                  d.outcome, d.created_at, d.updated_at, d.started_at, d.finished_at, d.seq
           FROM deploys d JOIN entities e ON e.id = d.service_id JOIN users u ON u.id = d.requester_id
           WHERE ($1::uuid IS NULL OR d.service_id = $1)
             AND ($8::uuid IS NULL OR d.id = $8)
             AND ($2::text IS NULL OR d.environment = $2)
             AND ($3::text IS NULL OR d.state = $3)
             AND ($4::text IS NULL OR u.username = $4 OR lower(u.email) = lower($4) OR d.requester_id::text = $4)
             AND ($5::timestamptz IS NULL OR d.created_at >= $5)
             AND ($6::timestamptz IS NULL OR d.created_at < $6)
           ORDER BY d.created_at DESC, d.id DESC
           LIMIT $7"#,
        f.service_id,
        f.environment,
        f.state,
        f.requester,
        f.since,
        f.until,
        f.limit,
        f.id
    )
    .fetch_all(db)
    .await
}

pub struct TransitionRow {
    pub id: i64,
    pub from_state: Option<DeployState>,
    pub to_state: DeployState,
    pub actor_name: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A deploy's transitions after `after_id`, oldest first.
pub async fn transitions(db: impl PgExecutor<'_>, id: Uuid, after_id: i64) -> Result<Vec<TransitionRow>, sqlx::Error> {
    sqlx::query_as!(
        TransitionRow,
        r#"SELECT id, from_state AS "from_state: DeployState", to_state AS "to_state: DeployState", actor_name, note, at
           FROM deploy_transitions
           WHERE deploy_id = $1 AND id > $2 ORDER BY id"#,
        id,
        after_id
    )
    .fetch_all(db)
    .await
}

pub struct LogRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub stream: String,
    pub line: String,
}

/// A deploy's log lines after `after_id`, oldest first, at most `limit`.
pub async fn log(db: impl PgExecutor<'_>, id: Uuid, after_id: i64, limit: i64) -> Result<Vec<LogRow>, sqlx::Error> {
    sqlx::query_as!(
        LogRow,
        "SELECT id, at, stream, line FROM deploy_logs WHERE deploy_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        id,
        after_id,
        limit
    )
    .fetch_all(db)
    .await
}

pub async fn append_log(db: impl PgExecutor<'_>, id: Uuid, stream: &str, lines: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"WITH added AS (
               INSERT INTO deploy_logs (deploy_id, stream, line) SELECT $1::uuid, $2::text, unnest($3::text[]) RETURNING 1)
           SELECT pg_notify($4::text, $1::uuid::text) FROM (SELECT 1 FROM added LIMIT 1) AS any_line"#,
        id,
        stream,
        lines,
        EVENTS_CHANNEL
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_progress(db: impl PgExecutor<'_>, id: Uuid, progress: i16) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deploys SET progress = $2, updated_at = now() WHERE id = $1 AND state = 'running'",
        id,
        progress
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A job as a worker takes it.
pub struct Claimed {
    pub id: Uuid,
    pub attempts: i32,
}

/// Takes the oldest queued deploy whose service and environment has nothing running and no
/// older deploy queued, and whose environment is not `frozen` (or whose freeze was overridden),
/// leases it to `worker` and marks it running. A deploy that overrode a freeze does not wait
/// behind the ones the window holds. None when there is no work.
pub async fn claim(conn: &mut PgConnection, worker: Uuid, lease_secs: f64, frozen: &[String]) -> Result<Option<Claimed>, sqlx::Error> {
    sqlx::query_as!(
        Claimed,
        r#"WITH next AS (
               SELECT d.id FROM deploys d
               WHERE d.state = 'queued'
                 AND (d.freeze_override IS NOT NULL OR d.environment <> ALL($3::text[]))
                 AND NOT EXISTS (SELECT 1 FROM deploys r WHERE r.service_id = d.service_id
                                   AND r.environment = d.environment AND r.state = 'running')
                 AND NOT EXISTS (SELECT 1 FROM deploys o WHERE o.service_id = d.service_id
                                   AND o.environment = d.environment AND o.state = 'queued' AND o.seq < d.seq
                                   AND (o.freeze_override IS NOT NULL OR o.environment <> ALL($3::text[])))
               ORDER BY d.seq
               LIMIT 1
               FOR UPDATE SKIP LOCKED)
           UPDATE deploys SET state = 'running', lease_owner = $1,
                  lease_expires_at = now() + make_interval(secs => $2),
                  attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()
           FROM next WHERE deploys.id = next.id
           RETURNING deploys.id, deploys.attempts"#,
        worker,
        lease_secs,
        frozen
    )
    .fetch_optional(conn)
    .await
}

/// Extends the lease while the job is still this worker's and still running.
pub async fn heartbeat(db: impl PgExecutor<'_>, id: Uuid, worker: Uuid, lease_secs: f64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE deploys SET lease_expires_at = now() + make_interval(secs => $3)
           WHERE id = $1 AND lease_owner = $2 AND state = 'running'"#,
        id,
        worker,
        lease_secs
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that `executor` is being started, with the deadline it must finish by. From here a
/// lost worker means a failed deploy, never a second start.
pub async fn mark_dispatched(db: impl PgExecutor<'_>, id: Uuid, worker: Uuid, executor: &str, timeout_secs: f64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE deploys SET dispatched_at = now(), executor = $3, deadline_at = now() + make_interval(secs => $4)
           WHERE id = $1 AND lease_owner = $2 AND state = 'running'"#,
        id,
        worker,
        executor,
        timeout_secs
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up the worker's lease: the CD system owns the rollout now; the deadline still applies.
pub async fn release(db: impl PgExecutor<'_>, id: Uuid, worker: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE deploys SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        id,
        worker
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A running deploy whose worker stopped heartbeating: `dispatched` says whether its
/// executor had been started.
pub struct Lost {
    pub id: Uuid,
    pub dispatched: bool,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// Running deploys whose lease expired, locked for the caller's transaction.
pub async fn lost(conn: &mut PgConnection) -> Result<Vec<Lost>, sqlx::Error> {
    sqlx::query_as!(
        Lost,
        r#"SELECT id, dispatched_at IS NOT NULL AS "dispatched!", lease_expires_at FROM deploys
           WHERE state = 'running' AND lease_owner IS NOT NULL AND lease_expires_at < now()
           ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED"#
    )
    .fetch_all(conn)
    .await
}

/// Running deploys past their deadline with no worker holding them (the webhook's wait).
pub async fn overdue(conn: &mut PgConnection) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id FROM deploys
           WHERE state = 'running' AND lease_owner IS NULL AND deadline_at < now()
           ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED"#
    )
    .fetch_all(conn)
    .await
}

/// Back to the queue (a worker took it but died before starting its executor).
pub async fn requeue(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE deploys SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, deadline_at = NULL,
                  updated_at = now() WHERE id = $1"#,
        id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The worker holding a deploy's lease, if any.
pub async fn lease_holder(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT lease_owner FROM deploys WHERE id = $1", id).fetch_optional(db).await?.flatten())
}
