//! Deploy SQL. The deploys table is also the job queue: a job is a `queued` row, taken with
//! `FOR UPDATE SKIP LOCKED` and leased to one worker; `deploys_one_running_idx` keeps one
//! running per service and environment whatever the workers do.
use crate::audit::service as audit;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// The channel workers LISTEN on: a deploy was queued or a slot freed.
pub const QUEUE_CHANNEL: &str = "switchyard_deploy_queue";
/// The channel live views LISTEN on; the payload is the deploy's id.
pub const EVENTS_CHANNEL: &str = "switchyard_deploy_events";

/// A catalog component as a deploy target.
pub struct Target {
    pub id: Uuid,
    pub name: String,
    pub title: String,
    pub tier: Option<i16>,
    pub status: String,
    pub owner_team_id: Uuid,
    pub owner_name: String,
    pub repository_url: Option<String>,
    /// The teams that own it beside `owner_team_id`.
    pub co_owners: Vec<Uuid>,
}

pub async fn target(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Target>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT e.id, e.name, e.title, e.tier, e.status, e.owner_team_id, t.name AS owner_name, e.repository_url,
                  array(SELECT c.team_id FROM entity_co_owners c WHERE c.entity_id = e.id) AS "co_owners!"
           FROM entities e JOIN teams t ON t.id = e.owner_team_id
           WHERE e.kind = 'component' AND e.namespace = 'default' AND e.name = $1"#,
        name
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Target {
        id: r.id,
        name: r.name,
        title: r.title,
        tier: r.tier,
        status: r.status,
        owner_team_id: r.owner_team_id,
        owner_name: r.owner_name,
        repository_url: r.repository_url,
        co_owners: r.co_owners,
    }))
}

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
pub struct KickOffFacts {
    /// The service as a deploy target; None when no component has the name.
    pub target: Option<Target>,
    /// The environment with the freeze windows that may still apply; None when no environment
    /// has the name.
    pub environment: Option<(Environment, Vec<FreezeRow>)>,
    /// The version that runs in the environment now: the service's newest succeeded deploy there.
    pub running_version: Option<String>,
}

/// The facts a kick-off of `service` to `environment` needs, freeze windows from `from` on.
pub async fn kick_off_facts(db: impl PgExecutor<'_>, service: &str, environment: &str, from: DateTime<Utc>) -> Result<KickOffFacts, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT s.id AS "service_id?", s.name AS "service_name?", s.title AS "service_title?", s.tier AS "tier?",
                  s.status AS "status?", s.owner_team_id AS "owner_team_id?", s.owner_name AS "owner_name?",
                  s.repository_url AS "repository_url?", s.co_owners AS "co_owners?",
                  (SELECT p.version FROM deploys p WHERE p.service_id = s.id AND p.environment = e.name AND p.state = 'succeeded'
                   ORDER BY p.finished_at DESC, p.seq DESC LIMIT 1) AS "running_version?",
                  e.name AS "env_name?", e.title AS "env_title?", e.requires_approval AS "requires_approval?",
                  f.id AS "freeze_id?", f.reason AS "freeze_reason?", f.starts_at AS "starts_at?", f.ends_at AS "ends_at?",
                  f.schedule AS "schedule?", f.duration_mins AS "duration_mins?", coalesce(u.username, 'switchyard') AS "created_by!"
           FROM (SELECT 1) AS one
           LEFT JOIN (SELECT e.id, e.name, e.title, e.tier, e.status, e.owner_team_id, t.name AS owner_name, e.repository_url,
                             array(SELECT c.team_id FROM entity_co_owners c WHERE c.entity_id = e.id) AS co_owners
                      FROM entities e JOIN teams t ON t.id = e.owner_team_id
                      WHERE e.kind = 'component' AND e.namespace = 'default' AND e.name = $1) AS s ON true
           LEFT JOIN environments e ON e.name = $2
           LEFT JOIN freeze_windows f ON f.environment = e.name AND (f.ends_at IS NULL OR f.ends_at > $3)
           LEFT JOIN users u ON u.id = f.created_by
           ORDER BY f.starts_at"#,
        service,
        environment,
        from
    )
    .fetch_all(db)
    .await?;
    let Some(first) = rows.first() else { return Ok(KickOffFacts { target: None, environment: None, running_version: None }) };
    let running_version = first.running_version.clone();
    let target = match (&first.service_id, &first.service_name, &first.service_title, &first.status, &first.owner_team_id, &first.owner_name) {
        (Some(id), Some(name), Some(title), Some(status), Some(owner), Some(owner_name)) => Some(Target {
            id: *id,
            name: name.clone(),
            title: title.clone(),
            tier: first.tier,
            status: status.clone(),
            owner_team_id: *owner,
            owner_name: owner_name.clone(),
            repository_url: first.repository_url.clone(),
            co_owners: first.co_owners.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    let env = match (&first.env_name, &first.env_title, first.requires_approval) {
        (Some(name), Some(title), Some(requires_approval)) => Some(Environment { name: name.clone(), title: title.clone(), requires_approval }),
        _ => None,
    };
    let Some(env) = env else { return Ok(KickOffFacts { target, environment: None, running_version }) };
    let windows = rows
        .into_iter()
        .filter_map(|r| {
            Some(FreezeRow {
                id: r.freeze_id?,
                environment: env.name.clone(),
                reason: r.freeze_reason?,
                starts_at: r.starts_at?,
                ends_at: r.ends_at,
                schedule: r.schedule,
                duration_mins: r.duration_mins,
                created_by: r.created_by,
            })
        })
        .collect();
    Ok(KickOffFacts { target, environment: Some((env, windows)), running_version })
}

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

pub struct NewDeployRow<'a> {
    pub id: Uuid,
    pub service_id: Uuid,
    pub environment: &'a str,
    pub version: &'a str,
    pub rollback_of: Option<Uuid>,
    pub reason: &'a str,
    pub requester_id: Uuid,
    pub idempotency_key: &'a str,
    pub fingerprint: &'a [u8],
    pub state: &'a str,
    pub freeze_override: Option<&'a str>,
    /// The version that runs in the environment now (its newest succeeded deploy).
    pub previous_version: Option<&'a str>,
}

/// Inserts a deploy with its first two transitions (requested, then `state`), and with `audit`
/// appends its audit row too — one statement, so on its own (no BEGIN, no COMMIT) it is one
/// transaction: a kick-off that needs nothing else in its transaction is a single round trip.
/// Returns when the deploy was created; None when the requester's idempotency key is taken
/// (nothing written, not even the audit row).
///
/// Lock order: every audited transaction takes its row locks before its audit stripe's lock
/// (which it holds until it commits), so no transaction waits for a row while holding a stripe
/// that the row's holder waits for. The foreign keys lock the parent rows only at the end of the
/// statement, after the audit link; `locked` takes the same locks (`FOR KEY SHARE`) before it.
pub async fn insert(
    conn: &mut PgConnection,
    d: &NewDeployRow<'_>,
    actor_name: &str,
    note: &str,
    audit: Option<&audit::Entry>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
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
        actor_name,
        note,
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
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT state FROM deploys WHERE id = $1 FOR UPDATE", id).fetch_optional(conn).await
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
    pub state: String,
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

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<DeployRow>, sqlx::Error> {
    sqlx::query_as!(
        DeployRow,
        r#"SELECT d.id, d.service_id, e.name AS service, e.title AS service_title, d.environment, d.version,
                  d.previous_version, d.rollback_of, d.reason, d.requester_id, u.username AS requester, d.state,
                  d.approval_id, d.freeze_override, d.executor, d.attempts, d.progress, d.outcome, d.created_at,
                  d.updated_at, d.started_at, d.finished_at, d.seq
           FROM deploys d JOIN entities e ON e.id = d.service_id JOIN users u ON u.id = d.requester_id
           WHERE d.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

pub struct ListFilter<'a> {
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
                  d.previous_version, d.rollback_of, d.reason, d.requester_id, u.username AS requester, d.state,
                  d.approval_id, d.freeze_override, d.executor, d.attempts, d.progress, d.outcome, d.created_at,
                  d.updated_at, d.started_at, d.finished_at, d.seq
           FROM deploys d JOIN entities e ON e.id = d.service_id JOIN users u ON u.id = d.requester_id
           WHERE ($1::uuid IS NULL OR d.service_id = $1)
             AND ($2::text IS NULL OR d.environment = $2)
             AND ($3::text IS NULL OR d.state = $3)
             AND ($4::text IS NULL OR u.username = $4)
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
        f.limit
    )
    .fetch_all(db)
    .await
}

pub struct TransitionRow {
    pub id: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_name: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

/// A deploy's transitions after `after_id`, oldest first.
pub async fn transitions(db: impl PgExecutor<'_>, id: Uuid, after_id: i64) -> Result<Vec<TransitionRow>, sqlx::Error> {
    sqlx::query_as!(
        TransitionRow,
        r#"SELECT id, from_state, to_state, actor_name, note, at FROM deploy_transitions
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
