//! Approval SQL.
use super::types::{ApprovalId, ApprovalState, Approvers, DecisionView, Verdict};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use std::collections::HashMap;
use uuid::Uuid;

pub struct RequestRow {
    pub id: ApprovalId,
    pub subject_kind: String,
    pub subject_id: String,
    pub action: String,
    pub summary: String,
    pub payload: Value,
    pub required_approvals: i32,
    pub approvers: Approvers,
    pub owning_team_id: Option<Uuid>,
    pub owning_team: Option<String>,
    pub requester_id: Uuid,
    pub requester: String,
    pub reason: String,
    pub state: ApprovalState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub approvals: i32,
}

pub struct NewRequest<'a> {
    pub subject_kind: &'a str,
    pub subject_id: &'a str,
    pub action: &'a str,
    pub summary: &'a str,
    pub payload: &'a Value,
    pub required_approvals: i32,
    pub approvers: &'a str,
    pub owning_team_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub reason: &'a str,
    pub expires_at: DateTime<Utc>,
}

#[tracing::instrument(level = "debug", name = "approvals.repo.insert", skip_all)]
pub async fn insert(db: impl PgExecutor<'_>, r: &NewRequest<'_>) -> Result<ApprovalId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO approval_requests (subject_kind, subject_id, action, summary, payload,
              required_approvals, approvers, owning_team_id, requester_id, reason, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           RETURNING id AS "id: ApprovalId""#,
        r.subject_kind,
        r.subject_id,
        r.action,
        r.summary,
        r.payload,
        r.required_approvals,
        r.approvers,
        r.owning_team_id,
        r.requester_id,
        r.reason,
        r.expires_at
    )
    .fetch_one(db)
    .await
}

/// A pending request for the same subject and action, if one exists.
#[tracing::instrument(level = "debug", name = "approvals.repo.pending_for", skip_all)]
pub async fn pending_for(
    db: impl PgExecutor<'_>,
    subject_kind: &str,
    subject_id: &str,
    action: &str,
) -> Result<Option<ApprovalId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: ApprovalId" FROM approval_requests
           WHERE subject_kind = $1 AND subject_id = $2 AND action = $3 AND state = 'pending'
             AND expires_at > now()"#,
        subject_kind,
        subject_id,
        action
    )
    .fetch_optional(db)
    .await
}

/// The pending requests about one subject, oldest first: (id, summary).
#[tracing::instrument(level = "debug", name = "approvals.repo.pending_about", skip_all)]
pub async fn pending_about(db: impl PgExecutor<'_>, subject_kind: &str, subject_id: &str) -> Result<Vec<(ApprovalId, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: ApprovalId", summary FROM approval_requests WHERE subject_kind = $1 AND subject_id = $2 AND state = 'pending' ORDER BY created_at"#,
        subject_kind,
        subject_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.summary)).collect())
}

/// One request, locked for a decision when `lock` is set.
#[tracing::instrument(level = "debug", name = "approvals.repo.get", skip_all)]
pub async fn get(conn: &mut PgConnection, id: ApprovalId, lock: bool) -> Result<Option<RequestRow>, sqlx::Error> {
    if lock {
        sqlx::query!("SELECT id FROM approval_requests WHERE id = $1 FOR UPDATE", id.0)
            .fetch_optional(&mut *conn)
            .await?;
    }
    let filter = ListFilter { id: Some(id), requester: None, state: None, decider: None, limit: 1, whole_payload: true };
    Ok(list(conn, &filter).await?.pop())
}

pub struct ListFilter {
    pub id: Option<ApprovalId>,
    pub requester: Option<Uuid>,
    pub state: Option<String>,
    /// Only what this person could decide on: not their own, not expired, and (for someone who
    /// is not an admin) only requests team leads decide, about the teams they lead.
    pub decider: Option<Decider>,
    pub limit: i64,
    /// Payloads over `LIST_PAYLOAD_BYTES` come as `null` unless this is set.
    pub whole_payload: bool,
}

/// Who a list of requests is for, when it lists what they could decide.
pub struct Decider {
    pub user: Uuid,
    /// The teams they lead; `None` for an admin, who decides on anything.
    pub leads: Option<Vec<Uuid>>,
}

/// The largest payload a list of requests carries (a deploy's facts fit; an import's files do not).
pub const LIST_PAYLOAD_BYTES: i32 = 4096;

/// How many requests one person may have waiting at once.
pub const MAX_OPEN_PER_REQUESTER: i64 = 100;

/// How many requests `requester` has waiting (not yet expired).
#[tracing::instrument(level = "debug", name = "approvals.repo.open_count", skip_all)]
pub async fn open_count(db: impl PgExecutor<'_>, requester: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM approval_requests WHERE requester_id = $1 AND state = 'pending' AND expires_at > now()"#,
        requester
    )
    .fetch_one(db)
    .await
}

/// Requests, newest first.
#[tracing::instrument(level = "debug", name = "approvals.repo.list", skip_all)]
pub async fn list(conn: &mut PgConnection, f: &ListFilter) -> Result<Vec<RequestRow>, sqlx::Error> {
    sqlx::query_as!(
        RequestRow,
        r#"SELECT r.id AS "id: ApprovalId", r.subject_kind, r.subject_id, r.action, r.summary,
                  CASE WHEN $5 OR r.payload_bytes <= $6 THEN r.payload ELSE 'null'::jsonb END AS "payload!",
                  r.required_approvals, r.approvers AS "approvers: Approvers", r.owning_team_id, t.name AS "owning_team?",
                  r.requester_id, u.username AS requester, r.reason, r.state AS "state: ApprovalState", r.created_at,
                  r.expires_at, r.decided_at,
                  (SELECT count(*) FROM approval_decisions d
                    WHERE d.request_id = r.id AND d.decision = 'approve')::int AS "approvals!"
           FROM approval_requests r
           JOIN users u ON u.id = r.requester_id
           LEFT JOIN teams t ON t.id = r.owning_team_id
           WHERE ($1::uuid IS NULL OR r.requester_id = $1)
             AND ($2::text IS NULL OR r.state = $2)
             AND ($4::uuid IS NULL OR r.id = $4)
             AND ($7::uuid IS NULL OR (r.requester_id <> $7 AND r.expires_at > now()
                  AND ($8::uuid[] IS NULL OR (r.approvers = 'team_leads_or_admins' AND r.owning_team_id = ANY($8)))))
           ORDER BY r.created_at DESC
           LIMIT $3"#,
        f.requester,
        f.state,
        f.limit,
        f.id.map(|i| i.0),
        f.whole_payload,
        LIST_PAYLOAD_BYTES,
        f.decider.as_ref().map(|d| d.user),
        f.decider.as_ref().and_then(|d| d.leads.as_deref())
    )
    .fetch_all(conn)
    .await
}

/// The decisions on each of `ids`, oldest first, in one query.
#[tracing::instrument(level = "debug", name = "approvals.repo.decisions", skip_all)]
pub async fn decisions(
    db: impl PgExecutor<'_>,
    ids: &[ApprovalId],
) -> Result<HashMap<ApprovalId, Vec<DecisionView>>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT d.request_id AS "request_id: ApprovalId", d.approver_id, u.username, d.decision AS "decision: Verdict", d.comment, d.decided_at
           FROM approval_decisions d JOIN users u ON u.id = d.approver_id
           WHERE d.request_id = ANY($1) ORDER BY d.decided_at"#,
        ids as _
    )
    .fetch_all(db)
    .await?;
    let mut by_request: HashMap<ApprovalId, Vec<DecisionView>> = HashMap::new();
    for r in rows {
        by_request.entry(r.request_id).or_default().push(DecisionView {
            approver_id: Some(r.approver_id),
            approver: r.username,
            verdict: r.decision,
            comment: r.comment,
            decided_at: r.decided_at,
        });
    }
    Ok(by_request)
}

/// Records a decision; false when this person already decided on this request.
#[tracing::instrument(level = "debug", name = "approvals.repo.insert_decision", skip_all)]
pub async fn insert_decision(
    db: impl PgExecutor<'_>,
    id: ApprovalId,
    approver: Uuid,
    verdict: Verdict,
    comment: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        r#"INSERT INTO approval_decisions (request_id, approver_id, decision, comment)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"#,
        id.0,
        approver,
        verdict.as_str(),
        comment
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

#[tracing::instrument(level = "debug", name = "approvals.repo.set_state", skip_all)]
pub async fn set_state(db: impl PgExecutor<'_>, id: ApprovalId, state: ApprovalState) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE approval_requests SET state = $2, decided_at = now() WHERE id = $1",
        id.0,
        state.as_str()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Pending requests past their expiry, locked, for expiring.
#[tracing::instrument(level = "debug", name = "approvals.repo.lock_overdue", skip_all)]
pub async fn lock_overdue(conn: &mut PgConnection) -> Result<Vec<ApprovalId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: ApprovalId" FROM approval_requests WHERE state = 'pending' AND expires_at <= now()
           ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 500"#
    )
    .fetch_all(conn)
    .await
}

/// How many requests wait for a decision, and how long the oldest has waited (0 with none).
#[tracing::instrument(level = "debug", name = "approvals.repo.waiting", skip_all)]
pub async fn waiting(db: impl PgExecutor<'_>) -> Result<(i64, f64), sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) AS "n!", coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS "oldest_secs!"
           FROM approval_requests WHERE state = 'pending'"#
    )
    .fetch_one(db)
    .await?;
    Ok((r.n, r.oldest_secs))
}
