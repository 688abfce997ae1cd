//! Catalog rules. Reading is open to everyone who reaches the portal; writes arrive with the
//! catalog issue, each through a permission check and an audit row.
use super::repo;
use super::types::{CatalogOverview, SearchText, ServiceSummary};
use sqlx::PgPool;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// At most this many rows in one search answer.
pub const SEARCH_LIMIT: i64 = 100;

/// Counts, teams and the latest changes, for the home page.
#[tracing::instrument(skip(pool), err)]
pub async fn overview(pool: &PgPool) -> Result<CatalogOverview, CatalogError> {
    let counts = repo::service_counts(pool).await?;
    Ok(CatalogOverview {
        services: counts.services,
        production: counts.production,
        tier_zero: counts.tier_zero,
        teams: repo::teams(pool).await?,
        recently_changed: repo::recently_changed(pool, 8).await?,
    })
}

/// Services matching the text (all services when it is empty), by name, at most `SEARCH_LIMIT`.
#[tracing::instrument(skip(pool), err)]
pub async fn search(pool: &PgPool, text: &SearchText) -> Result<Vec<ServiceSummary>, CatalogError> {
    Ok(repo::search_services(pool, text.as_str(), SEARCH_LIMIT).await?)
}
