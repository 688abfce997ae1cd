//! Audit SQL. The chain is extended under a transaction-scoped advisory lock, so concurrent
//! writers line up and the chain never forks.
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

pub struct Row {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: String,
    pub source_ip: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Any constant works; it names "the audit chain" among advisory locks.
const CHAIN_LOCK: i64 = 0x5357_4155_4449_54; // "SWAUDIT"

/// Appends `row` to the chain: waits for the chain's transaction-scoped advisory lock, then in
/// one statement (whose snapshot is taken after the lock, so it sees every earlier link) sets the
/// row's `prev_hash` to the newest row's hash and its `hash` to SHA-256(prev_hash ‖ `content`),
/// and inserts it. Returns the row's id.
pub async fn append(conn: &mut PgConnection, row: &Row, content: &str) -> Result<i64, sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", CHAIN_LOCK).execute(&mut *conn).await?;
    sqlx::query_scalar!(
        r#"WITH head AS (
               SELECT coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), decode(repeat('00', 32), 'hex')) AS prev)
           INSERT INTO audit_log (at, actor_id, actor_name, action, subject_kind, subject_id,
                                  before, after, request_id, source_ip, prev_hash, hash)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, head.prev, sha256(head.prev || convert_to($11::text, 'UTF8'))
           FROM head
           RETURNING id"#,
        row.at,
        row.actor_id,
        row.actor_name,
        row.action,
        row.subject_kind,
        row.subject_id,
        row.before,
        row.after,
        row.request_id,
        row.source_ip,
        content,
    )
    .fetch_one(conn)
    .await
}

/// Rows after `after_id`, oldest first, at most `limit`.
pub async fn chain_page(
    conn: &mut PgConnection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, at, actor_id, actor_name, action, subject_kind, subject_id,
                  before, after, request_id, source_ip, prev_hash, hash
           FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2"#,
        after_id,
        limit
    )
    .fetch_all(conn)
    .await
}

pub struct Filter<'a> {
    pub actor: Option<&'a str>,
    pub action: Option<&'a str>,
    pub subject_kind: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only rows older than this id (keyset pagination, newest first).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Newest first, filtered.
pub async fn search(conn: &mut PgConnection, f: &Filter<'_>) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, at, actor_id, actor_name, action, subject_kind, subject_id,
                  before, after, request_id, source_ip, prev_hash, hash
           FROM audit_log
           WHERE ($1::text IS NULL OR actor_name = $1)
             AND ($2::text IS NULL OR action = $2)
             AND ($3::text IS NULL OR subject_kind = $3)
             AND ($4::text IS NULL OR subject_id = $4)
             AND ($5::timestamptz IS NULL OR at >= $5)
             AND ($6::timestamptz IS NULL OR at < $6)
             AND ($7::bigint IS NULL OR id < $7)
           ORDER BY id DESC
           LIMIT $8"#,
        f.actor,
        f.action,
        f.subject_kind,
        f.subject_id,
        f.from,
        f.until,
        f.before_id,
        f.limit
    )
    .fetch_all(conn)
    .await
}
