//! Catalog SQL.
use super::types::{Lifecycle, ServiceId, ServiceSummary, TeamSummary, Tier};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

struct ServiceRow {
    id: Uuid,
    name: String,
    title: String,
    description: String,
    owner_slug: String,
    owner_name: String,
    tier: i16,
    lifecycle: String,
    language: Option<String>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ServiceRow> for ServiceSummary {
    type Error = String;

    fn try_from(r: ServiceRow) -> Result<Self, String> {
        Ok(ServiceSummary {
            id: ServiceId(r.id),
            name: r.name,
            title: r.title,
            description: r.description,
            owner_slug: r.owner_slug,
            owner_name: r.owner_name,
            tier: Tier::parse(r.tier.into())?,
            lifecycle: Lifecycle::parse(&r.lifecycle)?,
            language: r.language,
            updated_at: r.updated_at,
        })
    }
}

fn convert(rows: Vec<ServiceRow>) -> Result<Vec<ServiceSummary>, sqlx::Error> {
    rows.into_iter()
        .map(|r| ServiceSummary::try_from(r).map_err(|e| sqlx::Error::Decode(e.into())))
        .collect()
}

/// Services whose name, title or description contains `text` (all when empty), by name.
pub async fn search_services(
    db: impl PgExecutor<'_>,
    text: &str,
    limit: i64,
) -> Result<Vec<ServiceSummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ServiceRow,
        r#"SELECT s.id, s.name, s.title, s.description, t.slug AS owner_slug, t.name AS owner_name,
                  s.tier, s.lifecycle, s.language, s.updated_at
           FROM services s JOIN teams t ON t.id = s.owner_team_id
           WHERE $1 = '' OR s.name ILIKE '%' || $1 || '%' OR s.title ILIKE '%' || $1 || '%'
                 OR s.description ILIKE '%' || $1 || '%'
           ORDER BY s.name
           LIMIT $2"#,
        text,
        limit
    )
    .fetch_all(db)
    .await?;
    convert(rows)
}

/// The most recently changed services.
pub async fn recently_changed(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<ServiceSummary>, sqlx::Error> {
    let rows = sqlx::query_as!(
        ServiceRow,
        r#"SELECT s.id, s.name, s.title, s.description, t.slug AS owner_slug, t.name AS owner_name,
                  s.tier, s.lifecycle, s.language, s.updated_at
           FROM services s JOIN teams t ON t.id = s.owner_team_id
           ORDER BY s.updated_at DESC, s.name
           LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await?;
    convert(rows)
}

pub struct ServiceCounts {
    pub services: i64,
    pub production: i64,
    pub tier_zero: i64,
}

pub async fn service_counts(db: impl PgExecutor<'_>) -> Result<ServiceCounts, sqlx::Error> {
    sqlx::query_as!(
        ServiceCounts,
        r#"SELECT count(*) AS "services!",
                  count(*) FILTER (WHERE lifecycle = 'production') AS "production!",
                  count(*) FILTER (WHERE tier = 0) AS "tier_zero!"
           FROM services"#
    )
    .fetch_one(db)
    .await
}

/// Every team with the number of services it owns, by name.
pub async fn teams(db: impl PgExecutor<'_>) -> Result<Vec<TeamSummary>, sqlx::Error> {
    sqlx::query_as!(
        TeamSummary,
        r#"SELECT t.slug, t.name, t.description, count(s.id) AS "services!"
           FROM teams t LEFT JOIN services s ON s.owner_team_id = t.id
           GROUP BY t.id
           ORDER BY t.name"#
    )
    .fetch_all(db)
    .await
}
