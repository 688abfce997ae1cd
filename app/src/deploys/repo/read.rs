//! Reading deploys, their transitions and their logs.
use crate::approvals::types::ApprovalId;
use crate::catalog::types::EntityId;
use crate::deploys::types::{DeployId, DeployState};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

pub struct DeployRow {
    pub id: DeployId,
    pub service_id: EntityId,
    pub service: String,
    pub service_title: String,
    pub environment: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub rollback_of: Option<DeployId>,
    pub reason: String,
    pub requester_id: uuid::Uuid,
    pub requester: String,
    pub state: DeployState,
    pub approval_id: Option<ApprovalId>,
    pub freeze_override: Option<String>,
    pub executor: Option<String>,
    pub attempts: i32,
    pub progress: Option<i16>,
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[tracing::instrument(level = "debug", name = "deploys.repo.get", skip_all)]
pub async fn get(db: impl PgExecutor<'_>, id: DeployId) -> Result<Option<DeployRow>, sqlx::Error> {
    let one = ListFilter { id: Some(id), service_id: None, environment: None, state: None, requester: None, since: None, until: None, limit: 1 };
    Ok(list(db, &one).await?.pop())
}

pub struct ListFilter<'a> {
    pub id: Option<DeployId>,
    pub service_id: Option<EntityId>,
    pub environment: Option<&'a str>,
    pub state: Option<&'a str>,
    pub requester: Option<&'a str>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// Deploys matching the filter, newest first.
#[tracing::instrument(level = "debug", name = "deploys.repo.list", skip_all)]
pub async fn list(db: impl PgExecutor<'_>, f: &ListFilter<'_>) -> Result<Vec<DeployRow>, sqlx::Error> {
    sqlx::query_as!(
        DeployRow,
        r#"SELECT d.id AS "id: DeployId", d.service_id AS "service_id: EntityId", e.name AS service, e.title AS service_title, d.environment, d.version,
                  d.previous_version, d.rollback_of AS "rollback_of: DeployId", d.reason, d.requester_id, u.username AS requester,
                  d.state AS "state: DeployState", d.approval_id AS "approval_id: ApprovalId", d.freeze_override, d.executor, d.attempts, d.progress,
                  d.outcome, d.created_at, d.updated_at, d.started_at, d.finished_at
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
        f.service_id.map(|s| s.0),
        f.environment,
        f.state,
        f.requester,
        f.since,
        f.until,
        f.limit,
        f.id.map(|d| d.0)
    )
    .fetch_all(db)
    .await
}

/// A service's newest `per_env` deploys in each environment, newest first: one statement for
/// every environment (each environment's list is one index range).
#[tracing::instrument(level = "debug", name = "deploys.repo.newest_per_environment", skip_all)]
pub async fn newest_per_environment(db: impl PgExecutor<'_>, service: EntityId, per_env: i64) -> Result<Vec<DeployRow>, sqlx::Error> {
    sqlx::query_as!(
        DeployRow,
        r#"SELECT d.id AS "id: DeployId", d.service_id AS "service_id: EntityId", e.name AS service, e.title AS service_title, d.environment, d.version,
                  d.previous_version, d.rollback_of AS "rollback_of: DeployId", d.reason, d.requester_id, u.username AS requester,
                  d.state AS "state: DeployState", d.approval_id AS "approval_id: ApprovalId", d.freeze_override, d.executor, d.attempts, d.progress,
                  d.outcome, d.created_at, d.updated_at, d.started_at, d.finished_at
           FROM deploys d JOIN entities e ON e.id = d.service_id JOIN users u ON u.id = d.requester_id
           WHERE d.id IN (SELECT x.id FROM environments v
                          CROSS JOIN LATERAL (SELECT x.id FROM deploys x WHERE x.service_id = $1 AND x.environment = v.name
                                              ORDER BY x.created_at DESC, x.id DESC LIMIT $2) x)
           ORDER BY d.created_at DESC, d.id DESC"#,
        service.0,
        per_env
    )
    .fetch_all(db)
    .await
}

/// What runs in each environment of a service: the deploy that succeeded last in each (none
/// for an environment it never reached). One statement.
#[tracing::instrument(level = "debug", name = "deploys.repo.current_per_environment", skip_all)]
pub async fn current_per_environment(db: impl PgExecutor<'_>, service: EntityId) -> Result<Vec<DeployRow>, sqlx::Error> {
    sqlx::query_as!(
        DeployRow,
        r#"SELECT d.id AS "id: DeployId", d.service_id AS "service_id: EntityId", e.name AS service, e.title AS service_title, d.environment, d.version,
                  d.previous_version, d.rollback_of AS "rollback_of: DeployId", d.reason, d.requester_id, u.username AS requester,
                  d.state AS "state: DeployState", d.approval_id AS "approval_id: ApprovalId", d.freeze_override, d.executor, d.attempts, d.progress,
                  d.outcome, d.created_at, d.updated_at, d.started_at, d.finished_at
           FROM deploys d JOIN entities e ON e.id = d.service_id JOIN users u ON u.id = d.requester_id
           WHERE d.id IN (SELECT (SELECT x.id FROM deploys x
                                  WHERE x.service_id = $1 AND x.environment = v.name AND x.state = 'succeeded'
                                  ORDER BY x.finished_at DESC, x.seq DESC LIMIT 1)
                          FROM environments v)"#,
        service.0
    )
    .fetch_all(db)
    .await
}

/// For each of `deploys`, the version that succeeded before it in its environment, other than
/// its own (what a rollback would deploy). One statement.
#[tracing::instrument(level = "debug", name = "deploys.repo.previous_successes", skip_all)]
pub async fn previous_successes(db: impl PgExecutor<'_>, deploys: &[DeployId]) -> Result<std::collections::HashMap<DeployId, String>, sqlx::Error> {
    let ids: Vec<uuid::Uuid> = deploys.iter().map(|d| d.0).collect();
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (d.id) d.id AS "id!: DeployId", p.version AS "version!"
           FROM deploys d
           JOIN deploys p ON p.service_id = d.service_id AND p.environment = d.environment
                         AND p.state = 'succeeded' AND p.finished_at < d.finished_at AND p.version <> d.version
           WHERE d.id = ANY($1)
           ORDER BY d.id, p.finished_at DESC"#,
        &ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.version)).collect())
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
#[tracing::instrument(level = "debug", name = "deploys.repo.transitions", skip_all)]
pub async fn transitions(db: impl PgExecutor<'_>, id: DeployId, after_id: i64) -> Result<Vec<TransitionRow>, sqlx::Error> {
    sqlx::query_as!(
        TransitionRow,
        r#"SELECT id, from_state AS "from_state: DeployState", to_state AS "to_state: DeployState", actor_name, note, at
           FROM deploy_transitions
           WHERE deploy_id = $1 AND id > $2 ORDER BY id"#,
        id.0,
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
#[tracing::instrument(level = "debug", name = "deploys.repo.log", skip_all)]
pub async fn log(db: impl PgExecutor<'_>, id: DeployId, after_id: i64, limit: i64) -> Result<Vec<LogRow>, sqlx::Error> {
    sqlx::query_as!(
        LogRow,
        "SELECT id, at, stream, line FROM deploy_logs WHERE deploy_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        id.0,
        after_id,
        limit
    )
    .fetch_all(db)
    .await
}

/// The deploys not yet ended, by state: how many, the longest a queued one has waited since it
/// was queued (its last change), and how many running ones are past their executor's deadline.
/// Reads only those rows (`deploys_open_idx`), however long the history.
#[tracing::instrument(level = "debug", name = "deploys.repo.open_counts", skip_all)]
pub async fn open_counts(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64, f64, i64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT state AS "state!", count(*) AS "n!",
                  coalesce(extract(epoch FROM now() - min(updated_at)), 0)::float8 AS "oldest_secs!",
                  count(*) FILTER (WHERE deadline_at < now()) AS "overdue!"
           FROM deploys
           WHERE state IN ('requested', 'awaiting_approval', 'queued', 'running')
           GROUP BY state"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.state, r.n, r.oldest_secs, r.overdue)).collect())
}
