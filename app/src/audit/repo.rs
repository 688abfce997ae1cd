//! Audit SQL. The log is sixteen hash chains (stripes); each is extended under its own
//! transaction-scoped advisory lock, so writers to one stripe line up and no chain forks.
use super::types::SubjectLabel;
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

/// Appends `row` to the audit chain in one round trip: `audit_append` (migration 5) takes the
/// transaction-scoped lock of the connection's stripe, links the row onto the stripe's newest row
/// with hash = SHA-256(prev_hash ‖ `content`) and inserts it. Returns the row's id.
#[tracing::instrument(level = "debug", name = "audit.repo.append", skip_all)]
pub async fn append(conn: &mut PgConnection, row: &Row, content: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS "id!""#,
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

/// Appends rows to the audit chain in order, in one round trip (`audit_append_many`, migration
/// 11: the links and hashes `append` makes, under one lock). Returns their ids.
#[tracing::instrument(level = "debug", name = "audit.repo.append_many", skip_all)]
pub async fn append_many(conn: &mut PgConnection, entries: &[super::service::Entry]) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let r = &e.row;
            serde_json::json!({
                "at": r.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), "actor_id": r.actor_id,
                "actor_name": r.actor_name, "action": r.action, "subject_kind": r.subject_kind,
                "subject_id": r.subject_id, "before": r.before, "after": r.after, "request_id": r.request_id,
                "source_ip": r.source_ip, "content": e.content,
            })
        })
        .collect();
    sqlx::query_scalar!(r#"SELECT audit_append_many($1) AS "id!""#, Value::Array(rows)).fetch_all(conn).await
}

/// A row as the chain walk reads it: its stripe and the row.
pub struct Link {
    pub chain: i16,
    pub row: Row,
}

/// The rows after (`after_chain`, `after_id`) in chain order (stripe, then id), at most `limit`.
#[tracing::instrument(level = "debug", name = "audit.repo.chain_page", skip_all)]
pub async fn chain_page(
    conn: &mut PgConnection,
    after: (i16, i64),
    limit: i64,
) -> Result<Vec<Link>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT chain, id, at, actor_id, actor_name, action, subject_kind, subject_id,
                  before, after, request_id, source_ip, prev_hash, hash
           FROM audit_log WHERE (chain, id) > ($1, $2) ORDER BY chain, id LIMIT $3"#,
        after.0,
        after.1,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Link {
            chain: r.chain,
            row: Row {
                id: r.id,
                at: r.at,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                action: r.action,
                subject_kind: r.subject_kind,
                subject_id: r.subject_id,
                before: r.before,
                after: r.after,
                request_id: r.request_id,
                source_ip: r.source_ip,
                prev_hash: r.prev_hash,
                hash: r.hash,
            },
        })
        .collect())
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
#[tracing::instrument(level = "debug", name = "audit.repo.search", skip_all)]
pub async fn search(conn: &mut PgConnection, f: &Filter<'_>) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, at, actor_id, actor_name, action, subject_kind, subject_id,
                  before, after, request_id, source_ip, prev_hash, hash
           FROM audit_log
           WHERE ($1::text IS NULL OR actor_name = $1 OR actor_id::text = $1)
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

/// One subject's rows, newest first: one index range. (The search's optional filters made
/// Postgres plan that statement anew on every call, 2–3 ms for a subject's history.)
#[tracing::instrument(level = "debug", name = "audit.repo.of_subject", skip_all)]
pub async fn of_subject(conn: &mut PgConnection, kind: &str, id: &str, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT id, at, actor_id, actor_name, action, subject_kind, subject_id,
                  before, after, request_id, source_ip, prev_hash, hash
           FROM audit_log
           WHERE subject_kind = $1 AND subject_id = $2
           ORDER BY id DESC
           LIMIT $3"#,
        kind,
        id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The rows of any of these subjects (`kinds[i]`, `ids[i]`), newest first.
#[tracing::instrument(level = "debug", name = "audit.repo.subjects", skip_all)]
pub async fn subjects(conn: &mut PgConnection, kinds: &[String], ids: &[String], limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"SELECT a.id AS "id!", a.at AS "at!", a.actor_id AS "actor_id?", a.actor_name AS "actor_name!", a.action AS "action!",
                  a.subject_kind AS "subject_kind!", a.subject_id AS "subject_id!", a.before AS "before?", a.after AS "after?",
                  a.request_id AS "request_id!", a.source_ip AS "source_ip!", a.prev_hash AS "prev_hash!", a.hash AS "hash!"
           FROM unnest($1::text[], $2::text[]) AS s(kind, id)
           CROSS JOIN LATERAL (SELECT * FROM audit_log l WHERE l.subject_kind = s.kind AND l.subject_id = s.id ORDER BY l.id DESC LIMIT $3) a
           ORDER BY a.id DESC
           LIMIT $3"#,
        kinds,
        ids,
        limit
    )
    .fetch_all(conn)
    .await
}

/// One change of a subject, as a replay reads it.
pub struct Step {
    pub at: DateTime<Utc>,
    pub actor_name: String,
    pub action: String,
    pub after: Option<Value>,
}

/// Every change of one subject, oldest first (at most `limit`).
#[tracing::instrument(level = "debug", name = "audit.repo.steps", skip_all)]
pub async fn steps(conn: &mut PgConnection, subject_kind: &str, subject_id: &str, limit: i64) -> Result<Vec<Step>, sqlx::Error> {
    sqlx::query_as!(
        Step,
        r#"SELECT at, actor_name, action, after FROM audit_log
           WHERE subject_kind = $1 AND subject_id = $2 ORDER BY at, id LIMIT $3"#,
        subject_kind,
        subject_id,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The newest row of each stripe: (stripe, id, hash), by stripe.
#[tracing::instrument(level = "debug", name = "audit.repo.stripe_heads", skip_all)]
pub async fn stripe_heads(conn: &mut PgConnection) -> Result<Vec<(i16, i64, Vec<u8>)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT DISTINCT ON (chain) chain, id, hash FROM audit_log ORDER BY chain, id DESC"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.chain, r.id, r.hash)).collect())
}

pub struct Checkpoint {
    pub id: i64,
    pub heads: Value,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Every checkpoint, oldest first.
#[tracing::instrument(level = "debug", name = "audit.repo.checkpoints", skip_all)]
pub async fn checkpoints(conn: &mut PgConnection) -> Result<Vec<Checkpoint>, sqlx::Error> {
    sqlx::query_as!(Checkpoint, "SELECT id, heads, prev_hash, hash FROM audit_checkpoints ORDER BY id").fetch_all(conn).await
}

/// The newest checkpoint, taking the lock that orders checkpoint writers.
#[tracing::instrument(level = "debug", name = "audit.repo.last_checkpoint_locked", skip_all)]
pub async fn last_checkpoint_locked(conn: &mut PgConnection) -> Result<Option<Checkpoint>, sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock(x'53574350'::int) AS locked").fetch_one(&mut *conn).await?;
    sqlx::query_as!(Checkpoint, "SELECT id, heads, prev_hash, hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", name = "audit.repo.insert_checkpoint", skip_all)]
pub async fn insert_checkpoint(conn: &mut PgConnection, heads: &Value, prev_hash: &[u8], hash: &[u8]) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!("INSERT INTO audit_checkpoints (heads, prev_hash, hash) VALUES ($1, $2, $3) RETURNING id", heads, prev_hash, hash)
        .fetch_one(conn)
        .await
}

/// The stripe and hash of row `id`, if it exists.
#[tracing::instrument(level = "debug", name = "audit.repo.row_link", skip_all)]
pub async fn row_link(conn: &mut PgConnection, id: i64) -> Result<Option<(i16, Vec<u8>)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT chain, hash FROM audit_log WHERE id = $1", id).fetch_optional(conn).await?.map(|r| (r.chain, r.hash)))
}

/// What people call each of these subjects (`kinds[i]`, `ids[i]`), and its page: one statement,
/// an index lookup per subject. A subject that is gone (or has no name of its own) is left out.
#[tracing::instrument(level = "debug", name = "audit.repo.labels", skip_all)]
pub async fn labels(conn: &mut PgConnection, kinds: &[String], ids: &[String]) -> Result<Vec<SubjectLabel>, sqlx::Error> {
    sqlx::query_as!(
        SubjectLabel,
        r#"WITH s AS (SELECT DISTINCT kind, id, CASE WHEN id ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN id::uuid END AS uid
                      FROM unnest($1::text[], $2::text[]) AS s(kind, id))
           SELECT s.kind AS "kind!", s.id AS "id!", e.title AS "label!", '/catalog/' || e.kind || '/' || e.namespace || '/' || e.name AS "href!"
             FROM s JOIN entities e ON e.id = s.uid WHERE s.kind = 'entity'
           UNION ALL SELECT s.kind, s.id, t.name, '/teams/' || t.slug FROM s JOIN teams t ON t.slug = s.id WHERE s.kind = 'team'
           UNION ALL SELECT s.kind, s.id, coalesce(nullif(u.name, ''), u.username), '' FROM s JOIN users u ON u.id = s.uid WHERE s.kind = 'user'
           UNION ALL SELECT s.kind, s.id, r.summary, '/approvals/' || r.id FROM s JOIN approval_requests r ON r.id = s.uid WHERE s.kind = 'approval'
           UNION ALL SELECT s.kind, s.id, e.name || ' ' || d.version || ' to ' || d.environment, '/deploys/' || d.id
             FROM s JOIN deploys d ON d.id = s.uid JOIN entities e ON e.id = d.service_id WHERE s.kind = 'deploy'
           UNION ALL SELECT s.kind, s.id, i.name, '/integrations/' || i.name FROM s JOIN integrations i ON i.id = s.uid WHERE s.kind = 'integration'
           UNION ALL SELECT s.kind, s.id, y.name, '/integrations/systems/' || y.name FROM s JOIN integration_systems y ON y.id = s.uid WHERE s.kind = 'integration_system'
           UNION ALL SELECT s.kind, s.id, m.title, '/calendar' FROM s JOIN topology_maintenance m ON m.id = s.uid WHERE s.kind = 'maintenance_window'
           UNION ALL SELECT s.kind, s.id, f.environment || ': ' || f.reason, '/calendar' FROM s JOIN freeze_windows f ON f.id = s.uid WHERE s.kind = 'freeze_window'
           UNION ALL SELECT s.kind, s.id, s.id, '/topology/devices/' || s.id FROM s JOIN topology_devices d ON d.name = s.id WHERE s.kind = 'device'
           UNION ALL SELECT s.kind, s.id, s.id, '/topology/partners/' || s.id FROM s JOIN topology_partners p ON p.name = s.id WHERE s.kind = 'partner'"#,
        kinds,
        ids
    )
    .fetch_all(conn)
    .await
}
