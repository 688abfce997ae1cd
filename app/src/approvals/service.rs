//! Approval rules: who may decide, one person counts once, never one's own request, a
//! rejection ends it, expiry ends it, and the final approval performs the subject's action in
//! the same transaction as the decision and both audit rows.
use super::repo::{self, NewRequest, RequestRow, MAX_OPEN_PER_REQUESTER};
use super::subject::{Request, SubjectError, Subjects};
use super::types::{ApprovalId, ApprovalState, ApprovalView, Approvers, Comment, Inbox, Verdict};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::error::Refusal;
use crate::iam::principal::Principal;
use crate::iam::types::TeamId;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};

/// What went wrong with an approval request, in the engine's own words.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the same change already waits for approval")]
    AlreadyPending,
    #[error("you have {MAX_OPEN_PER_REQUESTER} requests waiting for approval, the most one person may have; wait for decisions on them first")]
    TooManyOpen,
    #[error("this request expired before a decision")]
    Expired,
    #[error("this request is {} already", .0.as_str())]
    Ended(ApprovalState),
    #[error("you cannot decide on your own request")]
    OwnRequest,
    #[error("you have decided on this request already; one person counts once")]
    DecidedTwice,
    /// A stored request of a kind no registered subject claims: it cannot be decided.
    #[error("approval request of unknown kind {0:?}")]
    UnknownKind(String),
    #[error(transparent)]
    Subject(#[from] SubjectError),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for ApprovalError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("approvals", &e);
        ApprovalError::Database(e)
    }
}

/// What a new request asks for, and who must agree.
pub struct Ask<'a> {
    /// The kind of the subject (`Subject::kind`) that performs the change once approved.
    pub subject_kind: &'static str,
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
#[tracing::instrument(level = "debug", name = "approvals.service.open", skip_all)]
pub async fn open(
    conn: &mut PgConnection,
    requester: &Principal,
    ask: Ask<'_>,
    meta: &RequestMeta,
) -> Result<ApprovalId, ApprovalError> {
    if repo::pending_for(&mut *conn, ask.subject_kind, &ask.subject_id, ask.action).await?.is_some() {
        return Err(ApprovalError::AlreadyPending);
    }
    if repo::open_count(&mut *conn, requester.user_id.0).await? >= MAX_OPEN_PER_REQUESTER {
        return Err(ApprovalError::TooManyOpen);
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
        subject_kind: SubjectKind::Approval,
        subject_id: id.to_string(),
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

/// The pending requests about one subject, oldest first: (id, summary).
#[tracing::instrument(level = "debug", name = "approvals.service.pending_about", skip_all)]
pub async fn pending_about(conn: &mut PgConnection, subject_kind: &str, subject_id: &str) -> Result<Vec<(ApprovalId, String)>, ApprovalError> {
    Ok(repo::pending_about(conn, subject_kind, subject_id).await?)
}

/// Cancels a pending request because its subject went away (a deploy cancelled while it
/// waited), inside the caller's transaction, with its audit row. A request that is not
/// pending is left as it is.
#[tracing::instrument(level = "debug", name = "approvals.service.cancel", skip_all)]
pub async fn cancel(
    conn: &mut PgConnection,
    id: ApprovalId,
    actor: Actor<'_>,
    because: &str,
    meta: &RequestMeta,
) -> Result<(), ApprovalError> {
    let Some(request) = repo::get(&mut *conn, id, true).await? else { return Ok(()) };
    if request.state != ApprovalState::Pending {
        return Ok(());
    }
    repo::set_state(&mut *conn, id, ApprovalState::Cancelled).await?;
    let change = Change {
        action: "approval.cancelled",
        subject_kind: SubjectKind::Approval,
        subject_id: id.to_string(),
        before: Some(json!({ "state": "pending" })),
        after: Some(json!({ "state": "cancelled", "because": because })),
    };
    audit::record(conn, actor, change, meta).await?;
    Ok(())
}

fn request_of(r: &RequestRow) -> Request {
    Request { id: r.id, subject_id: r.subject_id.clone(), action: r.action.clone(), payload: r.payload.clone() }
}

/// Performs an approved request's change, through its subject.
#[tracing::instrument(level = "debug", name = "approvals.service.perform", skip_all)]
async fn perform(subjects: &Subjects, conn: &mut PgConnection, r: &RequestRow, approver: &Principal, meta: &RequestMeta) -> Result<(), ApprovalError> {
    let subject = subjects.get(&r.subject_kind).ok_or_else(|| ApprovalError::UnknownKind(r.subject_kind.clone()))?;
    Ok(subject.perform(conn, &request_of(r), approver, meta).await?)
}

/// Lets the subject undo what it set up for a request that ended without approval.
#[tracing::instrument(level = "debug", name = "approvals.service.abandon", skip_all)]
async fn abandon(subjects: &Subjects, conn: &mut PgConnection, r: &RequestRow, outcome: ApprovalState, meta: &RequestMeta) -> Result<(), ApprovalError> {
    match subjects.get(&r.subject_kind) {
        Some(subject) => Ok(subject.abandon(conn, &request_of(r), outcome, meta).await?),
        None => Ok(()),
    }
}

/// Whether `p` may decide on `r`: never the requester; a token needs the scope the change
/// itself needs; a kind no subject claims cannot be decided (deny by default).
fn may_decide(subjects: &Subjects, p: &Principal, r: &RequestRow) -> bool {
    let Some(subject) = subjects.get(&r.subject_kind) else { return false };
    if p.user_id.0 == r.requester_id || p.require_scope(subject.scope_to_decide()).is_err() {
        return false;
    }
    match r.approvers {
        Approvers::Admins => p.is_admin(),
        Approvers::TeamLeadsOrAdmins => p.is_admin() || r.owning_team_id.is_some_and(|t| p.is_lead_of(TeamId(t))),
    }
}

#[tracing::instrument(level = "debug", name = "approvals.service.expire", skip_all)]
async fn expire(subjects: &Subjects, conn: &mut PgConnection, id: ApprovalId, meta: &RequestMeta) -> Result<(), ApprovalError> {
    repo::set_state(&mut *conn, id, ApprovalState::Expired).await?;
    if let Some(request) = repo::get(&mut *conn, id, false).await? {
        abandon(subjects, conn, &request, ApprovalState::Expired, meta).await?;
    }
    let change = Change {
        action: "approval.expired",
        subject_kind: SubjectKind::Approval,
        subject_id: id.to_string(),
        before: Some(json!({ "state": "pending" })),
        after: Some(json!({ "state": "expired" })),
    };
    audit::record(conn, Actor::System, change, meta).await?;
    Ok(())
}

/// Ends every pending request past its expiry. Returns how many.
#[tracing::instrument(level = "debug", name = "approvals.service.expire_overdue", skip_all)]
pub async fn expire_overdue(pool: &PgPool, subjects: &Subjects, meta: &RequestMeta) -> Result<usize, ApprovalError> {
    let mut tx = pool.begin().await?;
    let due = repo::lock_overdue(&mut tx).await?;
    for id in &due {
        expire(subjects, &mut tx, *id, meta).await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// Approves or rejects. The requester is refused; so is anyone the policy does not name, and
/// anyone deciding twice. A rejection ends the request; the approval that reaches the policy's
/// count performs the action — all in one transaction.
#[tracing::instrument(name = "approvals.service.decide", skip(pool, principal, comment), fields(user = %principal.username), err)]
pub async fn decide(
    pool: &PgPool,
    subjects: &Subjects,
    principal: &Principal,
    id: ApprovalId,
    verdict: Verdict,
    comment: &str,
    meta: &RequestMeta,
) -> Result<ApprovalView, ApprovalError> {
    let comment = Comment::parse(comment).map_err(|m| Refusal::invalid("comment", m))?;
    let mut tx = pool.begin().await?;
    let request = repo::get(&mut tx, id, true).await?.ok_or(Refusal::not_found("That approval request"))?;
    let state = request.state;
    if state == ApprovalState::Pending && request.expires_at <= Utc::now() {
        expire(subjects, &mut tx, request.id, meta).await?;
        tx.commit().await?;
        return Err(ApprovalError::Expired);
    }
    if state != ApprovalState::Pending {
        return Err(ApprovalError::Ended(state));
    }
    if principal.user_id.0 == request.requester_id {
        return Err(ApprovalError::OwnRequest);
    }
    if !may_decide(subjects, principal, &request) {
        return Err(Refusal::Forbidden.into());
    }
    if !repo::insert_decision(&mut *tx, request.id, principal.user_id.0, verdict, comment.as_str()).await? {
        return Err(ApprovalError::DecidedTwice);
    }
    let change = Change {
        action: match verdict {
            Verdict::Approve => "approval.approved_by",
            Verdict::Reject => "approval.rejected_by",
        },
        subject_kind: SubjectKind::Approval,
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
        repo::set_state(&mut *tx, request.id, state).await?;
        let change = Change {
            action: if state == ApprovalState::Approved { "approval.approved" } else { "approval.rejected" },
            subject_kind: SubjectKind::Approval,
            subject_id: request.id.to_string(),
            before: Some(json!({ "state": "pending" })),
            after: Some(json!({ "state": state.as_str() })),
        };
        audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
        if state == ApprovalState::Approved {
            perform(subjects, &mut tx, &request, principal, meta).await?;
        } else {
            abandon(subjects, &mut tx, &request, ApprovalState::Rejected, meta).await?;
        }
    }
    let view = view_of(subjects, &mut tx, principal, id).await?;
    tx.commit().await?;
    Ok(view)
}

#[tracing::instrument(level = "debug", name = "approvals.service.view_of", skip_all)]
async fn view_of(subjects: &Subjects, conn: &mut PgConnection, viewer: &Principal, id: ApprovalId) -> Result<ApprovalView, ApprovalError> {
    let row = repo::get(conn, id, false).await?.ok_or(Refusal::not_found("That approval request"))?;
    let decisions = repo::decisions(&mut *conn, &[id]).await?.remove(&id).unwrap_or_default();
    let request = request_of(&row);
    let mut view = to_view(subjects, row, decisions, viewer)?;
    preflight(subjects, conn, &mut view, &request).await?;
    Ok(view)
}

/// A waiting request's pre-flight facts, from its subject.
async fn preflight(subjects: &Subjects, conn: &mut PgConnection, view: &mut ApprovalView, request: &Request) -> Result<(), ApprovalError> {
    if view.state != ApprovalState::Pending || request.payload.is_null() {
        return Ok(());
    }
    if let Some(subject) = subjects.get(&view.subject_kind) {
        view.preflight = subject.preflight(conn, request).await?;
    }
    Ok(())
}

fn to_view(subjects: &Subjects, r: RequestRow, decisions: Vec<super::types::DecisionView>, viewer: &Principal) -> Result<ApprovalView, ApprovalError> {
    let state = r.state;
    let already = decisions.iter().any(|d| d.approver_id == Some(viewer.user_id.0));
    let pending = state == ApprovalState::Pending && r.expires_at > Utc::now();
    let can_decide = pending && !already && may_decide(subjects, viewer, &r);
    let facts = subjects.get(&r.subject_kind).map(|s| s.facts(&request_of(&r))).unwrap_or_default();
    Ok(ApprovalView {
        id: r.id,
        payload: if r.payload.is_null() { String::new() } else { serde_json::to_string_pretty(&r.payload).unwrap_or_default() },
        facts,
        preflight: Vec::new(),
        state,
        approvers: r.approvers,
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
    })
}

/// One request, for anyone signed in (everyone may read).
#[tracing::instrument(name = "approvals.service.get", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn get(pool: &PgPool, subjects: &Subjects, principal: &Principal, id: ApprovalId) -> Result<ApprovalView, ApprovalError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    view_of(subjects, &mut conn, principal, id).await
}

/// The inbox: waiting for me (pending, and I may decide), asked by me, or all; optionally one state.
#[tracing::instrument(name = "approvals.service.list", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(
    pool: &PgPool,
    subjects: &Subjects,
    principal: &Principal,
    inbox: Inbox,
    state: Option<ApprovalState>,
    meta: &RequestMeta,
) -> Result<Vec<ApprovalView>, ApprovalError> {
    principal.require_read()?;
    expire_overdue(pool, subjects, meta).await?;
    let mut conn = pool.acquire().await?;
    let filter = repo::ListFilter {
        id: None,
        requester: (inbox == Inbox::AskedByMe).then_some(principal.user_id.0),
        state: match inbox {
            Inbox::WaitingForMe => Some("pending".to_owned()),
            _ => state.map(|s| s.as_str().to_owned()),
        },
        decider: (inbox == Inbox::WaitingForMe).then(|| decider(principal)),
        limit: 200,
        whole_payload: false,
    };
    let rows = repo::list(&mut conn, &filter).await?;
    let ids: Vec<ApprovalId> = rows.iter().map(|r| r.id).collect();
    let mut decisions = repo::decisions(&mut *conn, &ids).await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let d = decisions.remove(&row.id).unwrap_or_default();
        let request = request_of(&row);
        let mut view = to_view(subjects, row, d, principal)?;
        if inbox != Inbox::WaitingForMe || view.can_decide {
            preflight(subjects, &mut conn, &mut view, &request).await?;
            views.push(view);
        }
    }
    Ok(views)
}

/// Who `p` may decide for: an admin on anything, a team lead on what their teams' leads decide.
fn decider(p: &Principal) -> repo::Decider {
    let leads = (!p.is_admin()).then(|| p.teams.iter().filter(|m| p.is_lead_of(m.team_id)).map(|m| m.team_id.0).collect());
    repo::Decider { user: p.user_id.0, leads }
}

/// What waits for this person's decision, newest first, without the pre-flight checks: for the
/// home page and the navigation's count. Nothing is read for someone who may decide on nothing
/// (neither an admin nor a team's lead); two statements otherwise (the requests they could
/// decide on, and their decisions).
#[tracing::instrument(name = "approvals.service.waiting", skip(pool, subjects, principal), fields(user = %principal.username), err)]
pub async fn waiting(pool: &PgPool, subjects: &Subjects, principal: &Principal) -> Result<Vec<ApprovalView>, ApprovalError> {
    principal.require_read()?;
    let decider = decider(principal);
    if decider.leads.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let mut conn = pool.acquire().await?;
    let filter = repo::ListFilter { id: None, requester: None, state: Some("pending".to_owned()), decider: Some(decider), limit: 200, whole_payload: false };
    let rows = repo::list(&mut conn, &filter).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<ApprovalId> = rows.iter().map(|r| r.id).collect();
    let mut decisions = repo::decisions(&mut *conn, &ids).await?;
    let mut views = Vec::new();
    for row in rows {
        let d = decisions.remove(&row.id).unwrap_or_default();
        let view = to_view(subjects, row, d, principal)?;
        if view.can_decide {
            views.push(view);
        }
    }
    Ok(views)
}

/// What `/metrics` shows of the approvals waiting.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    pub waiting: i64,
    /// How long the oldest request has waited; 0 with none waiting.
    pub oldest_waiting_secs: f64,
}

/// The approvals waiting, for the operators' metrics listener (no principal: that listener is
/// not the app's and shows counts only). One statement over the pending requests' index.
#[tracing::instrument(level = "debug", name = "approvals.service.gauges", skip_all)]
pub async fn gauges(pool: &PgPool) -> Result<Gauges, ApprovalError> {
    let (waiting, oldest_waiting_secs) = repo::waiting(pool).await?;
    Ok(Gauges { waiting, oldest_waiting_secs })
}
