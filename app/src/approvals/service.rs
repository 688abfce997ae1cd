//! Approval rules: who may decide, one person counts once, never one's own request, a
//! rejection ends it, expiry ends it, and the final approval performs the subject's action in
//! the same transaction as the decision and both audit rows.
use super::repo::{self, NewRequest, RequestRow};
use super::types::{ApprovalId, ApprovalState, ApprovalView, Approvers, Comment, Inbox, Verdict};
use crate::audit::service::{self as audit, Actor, Change};
use crate::context::RequestMeta;
use crate::error::AppError;
use crate::iam::principal::{Principal, Scope};
use crate::iam::types::{Role, TeamId, UserId};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Denied(#[from] AppError),
    #[error("approval request of unknown kind {0:?}")]
    UnknownKind(String),
}

impl ApprovalError {
    pub fn into_app(self) -> AppError {
        match self {
            ApprovalError::Denied(e) => e,
            other => AppError::internal(other),
        }
    }
}

fn refuse(field: &str, message: impl Into<String>) -> ApprovalError {
    ApprovalError::Denied(AppError::Invalid { field: field.into(), message: message.into() })
}

/// What a new request asks for, and who must agree.
pub struct Ask<'a> {
    pub subject_kind: &'a str,
    pub subject_id: String,
    pub action: &'a str,
    pub summary: String,
    pub payload: Value,
    pub required_approvals: i32,
    pub approvers: Approvers,
    pub owning_team: Option<TeamId>,
    pub reason: String,
    pub valid_for: Duration,
}

/// Opens a request inside the caller's transaction (the subject's change and the request
/// commit together), with its audit row. At most one pending request per subject and action.
pub async fn open(
    conn: &mut PgConnection,
    requester: &Principal,
    ask: Ask<'_>,
    meta: &RequestMeta,
) -> Result<ApprovalId, ApprovalError> {
    if repo::pending_for(&mut *conn, ask.subject_kind, &ask.subject_id, ask.action).await?.is_some() {
        return Err(refuse("request", "the same change already waits for approval"));
    }
    if repo::open_count(&mut *conn, requester.user_id.0).await? >= repo::MAX_OPEN_PER_REQUESTER {
        return Err(refuse(
            "request",
            format!("you have {} requests waiting for approval, the most one person may have; wait for decisions on them first", repo::MAX_OPEN_PER_REQUESTER),
        ));
    }
    let id = repo::insert(
        &mut *conn,
        &NewRequest {
            subject_kind: ask.subject_kind,
            subject_id: &ask.subject_id,
            action: ask.action,
            summary: &ask.summary,
            payload: &ask.payload,
            required_approvals: ask.required_approvals,
            approvers: ask.approvers.as_str(),
            owning_team_id: ask.owning_team.map(|t| t.0),
            requester_id: requester.user_id.0,
            reason: &ask.reason,
            expires_at: Utc::now() + ask.valid_for,
        },
    )
    .await?;
    let change = Change {
        action: "approval.requested",
        subject_kind: "approval",
        subject_id: id.0.to_string(),
        before: None,
        after: Some(json!({
            "subject_kind": ask.subject_kind, "subject_id": ask.subject_id, "action": ask.action,
            "summary": ask.summary, "required_approvals": ask.required_approvals,
            "approvers": ask.approvers.as_str(), "reason": ask.reason,
        })),
    };
    audit::record(conn, Actor::Person(requester), change, meta).await?;
    Ok(id)
}

/// The one real kind this engine starts with: being granted the admin role.
pub const ROLE_GRANT: &str = "role_grant";

/// Asks for the admin role for oneself; any admin may approve.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn request_admin_role(
    pool: &PgPool,
    principal: &Principal,
    reason: &str,
    meta: &RequestMeta,
) -> Result<ApprovalId, ApprovalError> {
    principal.require_session()?;
    let reason = super::types::parse_reason(reason).map_err(|m| refuse("reason", m))?;
    if principal.roles.contains(&Role::Admin) {
        return Err(refuse("role", "you are an admin already"));
    }
    let mut tx = pool.begin().await?;
    let ask = Ask {
        subject_kind: ROLE_GRANT,
        subject_id: principal.user_id.0.to_string(),
        action: "grant_admin",
        summary: format!("Make {} an admin", principal.username),
        payload: json!({ "user_id": principal.user_id.0, "username": principal.username, "role": "admin" }),
        required_approvals: 1,
        approvers: Approvers::Admins,
        owning_team: None,
        reason,
        valid_for: Duration::days(7),
    };
    let id = open(&mut tx, principal, ask, meta).await?;
    tx.commit().await?;
    Ok(id)
}

/// Performs an approved request's action. Each kind adds its arm here.
async fn perform(
    conn: &mut PgConnection,
    request: &RequestRow,
    approver: &Principal,
    meta: &RequestMeta,
) -> Result<(), ApprovalError> {
    match request.subject_kind.as_str() {
        ROLE_GRANT => {
            let user: Uuid = request.subject_id.parse().map_err(|_| ApprovalError::UnknownKind(request.subject_id.clone()))?;
            crate::iam::repo::grant_role(conn, UserId(user), Role::Admin, "approval").await?;
            let change = Change {
                action: "role.granted",
                subject_kind: "user",
                subject_id: user.to_string(),
                before: None,
                after: Some(json!({ "role": "admin", "approval_id": request.id })),
            };
            audit::record(conn, Actor::Person(approver), change, meta).await?;
            Ok(())
        }
        crate::catalog::service::ENTITY => crate::catalog::service::perform(conn, &request.subject_id, &request.action, &request.payload, approver, meta)
            .await
            .map_err(catalog_error),
        crate::catalog::import::IMPORT => crate::catalog::import::perform(conn, &request.subject_id, &request.payload, approver, meta)
            .await
            .map_err(catalog_error),
        crate::deploys::service::DEPLOY => crate::deploys::service::perform(conn, &request.subject_id, approver, meta)
            .await
            .map_err(deploy_error),
        other => Err(ApprovalError::UnknownKind(other.to_owned())),
    }
}

fn catalog_error(e: crate::catalog::service::CatalogError) -> ApprovalError {
    use crate::catalog::service::CatalogError;
    match e {
        CatalogError::Database(e) => ApprovalError::Database(e),
        CatalogError::Denied(e) => ApprovalError::Denied(e),
        CatalogError::Approval(e) => e,
    }
}

fn deploy_error(e: crate::deploys::service::DeployError) -> ApprovalError {
    use crate::deploys::service::DeployError;
    match e {
        DeployError::Database(e) => ApprovalError::Database(e),
        DeployError::Denied(e) => ApprovalError::Denied(e),
        DeployError::Approval(e) => e,
    }
}

/// Undoes what a request set up for itself when it ends without approval (`outcome`: rejected
/// or expired): a pending registration is withdrawn, a deploy rejected or expired. Each kind
/// that needs it adds its arm here.
async fn abandon(conn: &mut PgConnection, request: &RequestRow, outcome: ApprovalState, meta: &RequestMeta) -> Result<(), ApprovalError> {
    match request.subject_kind.as_str() {
        crate::catalog::service::ENTITY => crate::catalog::service::abandon(conn, &request.subject_id, &request.action, meta)
            .await
            .map_err(catalog_error),
        crate::deploys::service::DEPLOY => crate::deploys::service::abandon(conn, &request.subject_id, outcome, meta)
            .await
            .map_err(deploy_error),
        _ => Ok(()),
    }
}

/// The scope a token needs to decide on a request: the one the change itself needs (deny by
/// default: a kind not named here needs the admin scope).
fn scope_to_decide(subject_kind: &str) -> Scope {
    match subject_kind {
        crate::catalog::service::ENTITY | crate::catalog::import::IMPORT => Scope::Write,
        crate::deploys::service::DEPLOY => Scope::Deploy,
        _ => Scope::Admin,
    }
}

fn may_decide(p: &Principal, r: &RequestRow) -> bool {
    if p.user_id.0 == r.requester_id || p.require_scope(scope_to_decide(&r.subject_kind)).is_err() {
        return false;
    }
    match Approvers::parse(&r.approvers) {
        Ok(Approvers::Admins) => p.is_admin(),
        Ok(Approvers::TeamLeadsOrAdmins) => {
            p.is_admin() || r.owning_team_id.is_some_and(|t| p.is_lead_of(TeamId(t)))
        }
        Err(_) => false,
    }
}

async fn expire(conn: &mut PgConnection, id: Uuid, meta: &RequestMeta) -> Result<(), ApprovalError> {
    repo::set_state(&mut *conn, id, ApprovalState::Expired.as_str()).await?;
    if let Some(request) = repo::get(&mut *conn, id, false).await? {
        abandon(conn, &request, ApprovalState::Expired, meta).await?;
    }
    let change = Change {
        action: "approval.expired",
        subject_kind: "approval",
        subject_id: id.to_string(),
        before: Some(json!({ "state": "pending" })),
        after: Some(json!({ "state": "expired" })),
    };
    audit::record(conn, Actor::System, change, meta).await?;
    Ok(())
}

/// Ends every pending request past its expiry. Returns how many.
pub async fn expire_overdue(pool: &PgPool, meta: &RequestMeta) -> Result<usize, ApprovalError> {
    let mut tx = pool.begin().await?;
    let due = repo::lock_overdue(&mut tx).await?;
    for id in &due {
        expire(&mut tx, *id, meta).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// Approves or rejects. The requester is refused; so is anyone the policy does not name, and
/// anyone deciding twice. A rejection ends the request; the approval that reaches the policy's
/// count performs the action — all in one transaction.
#[tracing::instrument(skip(pool, principal, comment), fields(user = %principal.username), err)]
pub async fn decide(
    pool: &PgPool,
    principal: &Principal,
    id: ApprovalId,
    verdict: Verdict,
    comment: &str,
    meta: &RequestMeta,
) -> Result<ApprovalView, ApprovalError> {
    let comment = Comment::parse(comment).map_err(|m| refuse("comment", m))?;
    let mut tx = pool.begin().await?;
    let request = repo::get(&mut tx, id.0, true)
        .await?
        .ok_or(ApprovalError::Denied(AppError::NotFound("That approval request".into())))?;
    if request.state == "pending" && request.expires_at <= Utc::now() {
        expire(&mut tx, request.id, meta).await?;
        tx.commit().await?;
        return Err(refuse("request", "this request expired before a decision"));
    }
    if request.state != "pending" {
        return Err(refuse("request", format!("this request is {} already", request.state)));
    }
    if principal.user_id.0 == request.requester_id {
        return Err(refuse("decision", "you cannot decide on your own request"));
    }
    if !may_decide(principal, &request) {
        return Err(ApprovalError::Denied(AppError::Forbidden));
    }
    if !repo::insert_decision(&mut *tx, request.id, principal.user_id.0, verdict, comment.as_str()).await? {
        return Err(refuse("decision", "you have decided on this request already; one person counts once"));
    }
    let change = Change {
        action: match verdict {
            Verdict::Approve => "approval.approved_by",
            Verdict::Reject => "approval.rejected_by",
        },
        subject_kind: "approval",
        subject_id: request.id.to_string(),
        before: None,
        after: Some(json!({ "verdict": verdict.as_str(), "comment": comment.as_str() })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;

    let approvals = request.approvals + i32::from(verdict == Verdict::Approve);
    let outcome = match verdict {
        Verdict::Reject => Some(ApprovalState::Rejected),
        Verdict::Approve if approvals >= request.required_approvals => Some(ApprovalState::Approved),
        Verdict::Approve => None,
    };
    if let Some(state) = outcome {
        repo::set_state(&mut *tx, request.id, state.as_str()).await?;
        let change = Change {
            action: if state == ApprovalState::Approved { "approval.approved" } else { "approval.rejected" },
            subject_kind: "approval",
            subject_id: request.id.to_string(),
            before: Some(json!({ "state": "pending" })),
            after: Some(json!({ "state": state.as_str() })),
        };
        audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
        if state == ApprovalState::Approved {
            perform(&mut tx, &request, principal, meta).await?;
        } else {
            abandon(&mut tx, &request, ApprovalState::Rejected, meta).await?;
        }
    }
    let view = view_of(&mut tx, principal, id.0).await?;
    tx.commit().await?;
    Ok(view)
}

async fn view_of(conn: &mut PgConnection, viewer: &Principal, id: Uuid) -> Result<ApprovalView, ApprovalError> {
    let row = repo::get(conn, id, false)
        .await?
        .ok_or(ApprovalError::Denied(AppError::NotFound("That approval request".into())))?;
    let decisions = repo::decisions(&mut *conn, &[id]).await?.remove(&id).unwrap_or_default();
    Ok(to_view(row, decisions, viewer))
}

fn to_view(r: RequestRow, decisions: Vec<super::types::DecisionView>, viewer: &Principal) -> ApprovalView {
    let already = decisions.iter().any(|d| d.approver_id == Some(viewer.user_id.0));
    let pending = r.state == "pending" && r.expires_at > Utc::now();
    let can_decide = pending && !already && may_decide(viewer, &r);
    ApprovalView {
        id: ApprovalId(r.id),
        payload: if r.payload.is_null() { String::new() } else { serde_json::to_string_pretty(&r.payload).unwrap_or_default() },
        state: ApprovalState::parse(&r.state).unwrap_or(ApprovalState::Cancelled),
        approvers: Approvers::parse(&r.approvers).unwrap_or(Approvers::Admins),
        subject_kind: r.subject_kind,
        subject_id: r.subject_id,
        action: r.action,
        summary: r.summary,
        requester: r.requester,
        reason: r.reason,
        owning_team: r.owning_team,
        required_approvals: r.required_approvals,
        approvals: r.approvals,
        created_at: r.created_at,
        expires_at: r.expires_at,
        decided_at: r.decided_at,
        decisions,
        can_decide,
    }
}

/// One request, for anyone signed in (everyone may read).
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn get(pool: &PgPool, principal: &Principal, id: ApprovalId) -> Result<ApprovalView, ApprovalError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    view_of(&mut conn, principal, id.0).await
}

/// The inbox: waiting for me (pending, and I may decide), asked by me, or all; optionally one state.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(
    pool: &PgPool,
    principal: &Principal,
    inbox: Inbox,
    state: Option<ApprovalState>,
    meta: &RequestMeta,
) -> Result<Vec<ApprovalView>, ApprovalError> {
    principal.require_read()?;
    expire_overdue(pool, meta).await?;
    let mut conn = pool.acquire().await?;
    let filter = repo::ListFilter {
        id: None,
        requester: (inbox == Inbox::AskedByMe).then_some(principal.user_id.0),
        state: match inbox {
            Inbox::WaitingForMe => Some("pending".to_owned()),
            _ => state.map(|s| s.as_str().to_owned()),
        },
        limit: 200,
        whole_payload: false,
    };
    let rows = repo::list(&mut conn, &filter).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut decisions = repo::decisions(&mut *conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let d = decisions.remove(&row.id).unwrap_or_default();
            to_view(row, d, principal)
        })
        .filter(|view| inbox != Inbox::WaitingForMe || view.can_decide)
        .collect())
}
