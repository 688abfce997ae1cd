//! The connection pool and the embedded migrations.
use crate::config::DatabaseSettings;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

/// Every migration in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A pool that connects lazily, so the server starts (and `/readyz` says why) when the
/// database is down.
pub fn pool(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .connect_lazy(settings.url())
}

/// How far the database's schema is from the one this build expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MigrationStatus {
    pub applied: usize,
    pub expected: usize,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.applied == self.expected
    }
}

/// Counts the embedded migrations that the database has applied successfully.
pub async fn migration_status(pool: &PgPool) -> Result<MigrationStatus, sqlx::Error> {
    let expected: Vec<i64> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| m.version)
        .collect();
    let applied: Vec<i64> = match sqlx::query_scalar!(
        "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version"
    )
    .fetch_all(pool)
    .await
    {
        Ok(applied) => applied,
        // no migration table yet: nothing applied
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P01") => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(MigrationStatus {
        applied: expected.iter().filter(|v| applied.contains(v)).count(),
        expected: expected.len(),
    })
}

/// Loads the demo company (teams and services). Safe to run again: existing rows are kept.
pub async fn load_demo_data(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::raw_sql(include_str!("../demo/seed.sql")).execute(&mut *tx).await?;
    tx.commit().await
}
