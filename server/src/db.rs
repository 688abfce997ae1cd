//! The connection pool and the embedded migrations.
use crate::config::DatabaseSettings;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;

/// Every migration in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A connection that sat in the pool this long is pinged before it is handed out: long enough
/// for the database or a firewall between to have dropped it.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

/// A pool that connects lazily, so the server starts (and `/readyz` says why) when the
/// database is down.
///
/// sqlx pings every connection on every acquire by default: a round trip per acquire that, on a
/// busy pool whose connections were in use a moment ago, learns nothing (a kick-off acquires
/// twice). Only a connection idle for [`PING_WHEN_IDLE_FOR`] is pinged; one that fails the ping
/// is closed and another is taken.
pub fn pool(settings: &DatabaseSettings) -> Result<PgPool, sqlx::Error> {
    pool_of(settings, settings.max_connections)
}

/// [`pool`] with room for `max_connections` (the deploy queue's writers have a pool of their own).
pub fn pool_of(settings: &DatabaseSettings, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(settings.acquire_timeout_secs))
        .test_before_acquire(false)
        // sqlx reports every acquire's wait as an event (target `sqlx::pool::acquire`), which
        // `metrics::AcquireTimes` turns into `switchyard_db_pool_acquire_seconds`
        .acquire_time_level(log::LevelFilter::Debug)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
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

/// The demo catalog's descriptor files, by their path relative to each other.
const DEMO_CATALOG: &[(&str, &str)] = &[
    ("catalog-info.yaml", include_str!("../demo/catalog/catalog-info.yaml")),
    ("domains.yaml", include_str!("../demo/catalog/domains.yaml")),
    ("components.yaml", include_str!("../demo/catalog/components.yaml")),
    ("apis/apis.yaml", include_str!("../demo/catalog/apis/apis.yaml")),
    ("apis/payments-api.openapi.yaml", include_str!("../demo/catalog/apis/payments-api.openapi.yaml")),
    ("apis/ledger-api.openapi.yaml", include_str!("../demo/catalog/apis/ledger-api.openapi.yaml")),
    ("apis/auth-api.openapi.yaml", include_str!("../demo/catalog/apis/auth-api.openapi.yaml")),
    ("apis/ledger-events-api.asyncapi.yaml", include_str!("../demo/catalog/apis/ledger-events-api.asyncapi.yaml")),
    ("apis/fraud-score-api.proto", include_str!("../demo/catalog/apis/fraud-score-api.proto")),
    ("apis/merchant-graph.graphql", include_str!("../demo/catalog/apis/merchant-graph.graphql")),
];

/// Days of integration runs `server demo-data` loads.
pub const DEMO_HISTORY_DAYS: i64 = 30;

/// Loads the demo company: its teams, then its catalog through the importer (as Switchyard
/// itself), then its integrations with `history_days` of runs. Safe to run again: a second load
/// changes nothing.
pub async fn load_demo_data(pool: &PgPool, history_days: i64) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::raw_sql(include_str!("../demo/seed.sql")).execute(&mut *tx).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let files = DEMO_CATALOG
        .iter()
        .map(|(path, content)| app::catalog::backstage::SourceFile { path: (*path).into(), content: (*content).into() })
        .collect();
    let meta = app::context::RequestMeta { request_id: "demo-data".into(), ip: "127.0.0.1".into() };
    let report = app::catalog::import::import_as_system(pool, files, &meta).await.map_err(|e| e.to_string())?;
    if report.refused() {
        let problems: Vec<String> = report
            .items
            .iter()
            .filter(|i| i.outcome == app::catalog::types::Outcome::Refused)
            .map(|i| format!("{} ({}): {}", i.entity, i.file, i.messages.join("; ")))
            .collect();
        return Err(format!("the demo catalog does not import: {}", problems.join(" | ")));
    }
    // the network first: the demo's systems name the partners that host them
    crate::demo_network::load(pool).await?;
    crate::demo_integrations::load(pool, history_days).await
}
