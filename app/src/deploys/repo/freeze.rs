//! Freeze windows.
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use crate::deploys::types::FreezeId;
use uuid::Uuid;

#[derive(Clone)]
pub struct FreezeRow {
    pub id: FreezeId,
    pub environment: String,
    pub reason: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    pub schedule: Option<String>,
    pub duration_mins: Option<i32>,
    pub created_by: String,
}

/// Freeze windows, of one environment or all, that may still apply after `from`.
#[tracing::instrument(level = "debug", name = "deploys.repo.freezes", skip_all)]
pub async fn freezes(db: impl PgExecutor<'_>, environment: Option<&str>, from: DateTime<Utc>) -> Result<Vec<FreezeRow>, sqlx::Error> {
    sqlx::query_as!(
        FreezeRow,
        r#"SELECT f.id AS "id: FreezeId", f.environment, f.reason, f.starts_at, f.ends_at, f.schedule, f.duration_mins,
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

#[tracing::instrument(level = "debug", name = "deploys.repo.insert_freeze", skip_all)]
pub async fn insert_freeze(db: impl PgExecutor<'_>, f: &NewFreeze<'_>) -> Result<FreezeId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO freeze_windows (environment, reason, starts_at, ends_at, schedule, duration_mins, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id AS "id: FreezeId""#,
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
#[tracing::instrument(level = "debug", name = "deploys.repo.delete_freeze", skip_all)]
pub async fn delete_freeze(db: impl PgExecutor<'_>, id: FreezeId) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query!("DELETE FROM freeze_windows WHERE id = $1 RETURNING environment, reason", id.0)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.environment, r.reason)))
}
