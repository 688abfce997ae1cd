//! The worker's side: claims, leases, logs, progress, CD events, recovery.
use super::EVENTS_CHANNEL;
use crate::deploys::types::DeployId;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Records `seq` as the deploy's latest CD event when it is above the last; false for a replay.
#[tracing::instrument(level = "debug", name = "deploys.repo.take_event_seq", skip_all)]
pub async fn take_event_seq(db: impl PgExecutor<'_>, id: DeployId, seq: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("UPDATE deploys SET cd_event_seq = $2 WHERE id = $1 AND cd_event_seq < $2", id.0, seq).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", name = "deploys.repo.append_log", skip_all)]
pub async fn append_log(db: impl PgExecutor<'_>, id: DeployId, stream: &str, lines: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"WITH added AS (
               INSERT INTO deploy_logs (deploy_id, stream, line) SELECT $1::uuid, $2::text, unnest($3::text[]) RETURNING 1)
           SELECT pg_notify($4::text, $1::uuid::text) FROM (SELECT 1 FROM added LIMIT 1) AS any_line"#,
        id.0,
        stream,
        lines,
        EVENTS_CHANNEL
    )
    .execute(db)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", name = "deploys.repo.set_progress", skip_all)]
pub async fn set_progress(db: impl PgExecutor<'_>, id: DeployId, progress: i16) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE deploys SET progress = $2, updated_at = now() WHERE id = $1 AND state = 'running'",
        id.0,
        progress
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A job as a worker takes it.
pub struct Claimed {
    pub id: DeployId,
    pub attempts: i32,
    pub trace_context: Option<String>,
}

/// Takes the oldest queued deploy whose service and environment has nothing running and no
/// older deploy queued, and whose environment is not `frozen` (or whose freeze was overridden),
/// leases it to `worker` and marks it running. A deploy that overrode a freeze does not wait
/// behind the ones the window holds. None when there is no work.
#[tracing::instrument(level = "debug", name = "deploys.repo.claim", skip_all)]
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
           RETURNING deploys.id AS "id: DeployId", deploys.attempts, deploys.trace_context"#,
        worker,
        lease_secs,
        frozen
    )
    .fetch_optional(conn)
    .await
}

/// Extends the lease while the job is still this worker's and still running.
#[tracing::instrument(level = "debug", name = "deploys.repo.heartbeat", skip_all)]
pub async fn heartbeat(db: impl PgExecutor<'_>, id: DeployId, worker: Uuid, lease_secs: f64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE deploys SET lease_expires_at = now() + make_interval(secs => $3)
           WHERE id = $1 AND lease_owner = $2 AND state = 'running'"#,
        id.0,
        worker,
        lease_secs
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that `executor` is being started, with the deadline it must finish by. From here a
/// lost worker means a failed deploy, never a second start.
#[tracing::instrument(level = "debug", name = "deploys.repo.mark_dispatched", skip_all)]
pub async fn mark_dispatched(db: impl PgExecutor<'_>, id: DeployId, worker: Uuid, executor: &str, timeout_secs: f64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        r#"UPDATE deploys SET dispatched_at = now(), executor = $3, deadline_at = now() + make_interval(secs => $4)
           WHERE id = $1 AND lease_owner = $2 AND state = 'running'"#,
        id.0,
        worker,
        executor,
        timeout_secs
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up the worker's lease: the CD system owns the rollout now; the deadline still applies.
#[tracing::instrument(level = "debug", name = "deploys.repo.release", skip_all)]
pub async fn release(db: impl PgExecutor<'_>, id: DeployId, worker: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE deploys SET lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
        id.0,
        worker
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A running deploy whose worker stopped heartbeating: `dispatched` says whether its
/// executor had been started.
pub struct Lost {
    pub id: DeployId,
    pub dispatched: bool,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// Running deploys whose lease expired, locked for the caller's transaction.
#[tracing::instrument(level = "debug", name = "deploys.repo.lost", skip_all)]
pub async fn lost(conn: &mut PgConnection) -> Result<Vec<Lost>, sqlx::Error> {
    sqlx::query_as!(
        Lost,
        r#"SELECT id AS "id: DeployId", dispatched_at IS NOT NULL AS "dispatched!", lease_expires_at FROM deploys
           WHERE state = 'running' AND lease_owner IS NOT NULL AND lease_expires_at < now()
           ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED"#
    )
    .fetch_all(conn)
    .await
}

/// Running deploys past their deadline with no worker holding them (the webhook's wait).
#[tracing::instrument(level = "debug", name = "deploys.repo.overdue", skip_all)]
pub async fn overdue(conn: &mut PgConnection) -> Result<Vec<DeployId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: DeployId" FROM deploys
           WHERE state = 'running' AND lease_owner IS NULL AND deadline_at < now()
           ORDER BY seq LIMIT 100 FOR UPDATE SKIP LOCKED"#
    )
    .fetch_all(conn)
    .await
}

/// Back to the queue (a worker took it but died before starting its executor).
#[tracing::instrument(level = "debug", name = "deploys.repo.requeue", skip_all)]
pub async fn requeue(conn: &mut PgConnection, id: DeployId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE deploys SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, deadline_at = NULL,
                  updated_at = now() WHERE id = $1"#,
        id.0
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The worker holding a deploy's lease, if any.
#[tracing::instrument(level = "debug", name = "deploys.repo.lease_holder", skip_all)]
pub async fn lease_holder(db: impl PgExecutor<'_>, id: DeployId) -> Result<Option<Uuid>, sqlx::Error> {
    Ok(sqlx::query_scalar!("SELECT lease_owner FROM deploys WHERE id = $1", id.0).fetch_optional(db).await?.flatten())
}
