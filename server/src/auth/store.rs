//! Sessions in Postgres (`tower_sessions.session`, created by our migrations).
//!
//! Why not `tower-sessions-sqlx-store`: it turns on sqlx's `time` feature, and with it sqlx's
//! compile-time checks map every `timestamptz` to `time::OffsetDateTime` instead of the
//! `chrono` types the rest of Switchyard uses. This store is the same four queries.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
}

impl PgSessionStore {
    pub fn new(pool: PgPool) -> Self {
        PgSessionStore { pool }
    }

    /// Removes sessions past their expiry; returns how many.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query!("DELETE FROM tower_sessions.session WHERE expiry_date < now()")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry(record: &Record) -> Result<DateTime<Utc>, session_store::Error> {
    let nanos = record.expiry_date.unix_timestamp_nanos();
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    DateTime::from_timestamp(secs, sub).ok_or_else(|| session_store::Error::Encode("expiry out of range".into()))
}

fn encode(record: &Record) -> Result<Vec<u8>, session_store::Error> {
    serde_json::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let (data, expires) = (encode(record)?, expiry(record)?);
        // A new random id until one is free (a clash is astronomically rare, never silent).
        loop {
            let inserted = sqlx::query!(
                r#"INSERT INTO tower_sessions.session (id, data, expiry_date) VALUES ($1, $2, $3)
                   ON CONFLICT (id) DO NOTHING"#,
                record.id.to_string(),
                data,
                expires
            )
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query!(
            r#"INSERT INTO tower_sessions.session (id, data, expiry_date) VALUES ($1, $2, $3)
               ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expiry_date = EXCLUDED.expiry_date"#,
            record.id.to_string(),
            encode(record)?,
            expiry(record)?
        )
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let data = sqlx::query_scalar!(
            "SELECT data FROM tower_sessions.session WHERE id = $1 AND expiry_date > now()",
            id.to_string()
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        data.map(|d| serde_json::from_slice(&d).map_err(|e| session_store::Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query!("DELETE FROM tower_sessions.session WHERE id = $1", id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
