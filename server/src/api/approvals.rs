use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, Caller, ErrorBody};
use crate::startup::AppState;
use app::approvals::service;
use app::approvals::types::{ApprovalId, ApprovalState, ApprovalView, Inbox, Verdict};
use app::error::AppError;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `waiting_for_me` (default), `asked_by_me` or `all`.
    inbox: Option<String>,
    /// `pending`, `approved`, `rejected`, `expired` or `cancelled`.
    state: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    /// Why; required: text with at least one visible character, no control characters but
    /// line breaks and tabs.
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    comment: String,
}

fn invalid(caller: &Caller, field: &str, message: String) -> ApiError {
    caller.fail(AppError::Invalid { field: field.into(), message })
}

/// Approval requests: waiting for the caller, asked by the caller, or all.
#[utoipa::path(
    get,
    path = "/approvals",
    tag = "approvals",
    params(ListQuery),
    responses(
        (status = 200, description = "Requests, newest first", body = Vec<ApprovalView>),
        (status = 422, description = "A filter is not understood", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn list_approvals(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ApprovalView>>, ApiError> {
    let inbox = Inbox::parse(q.inbox.as_deref().unwrap_or("")).map_err(|m| invalid(&caller, "inbox", m))?;
    let st = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ApprovalState::parse(s).map_err(|m| invalid(&caller, "state", m))?),
    };
    service::list(&state.pool, &state.approval_subjects, &caller.principal, inbox, st, &caller.meta)
        .await
        .map(Json)
        .map_err(|e| caller.fail(e))
}

/// One approval request with its decisions and progress.
#[utoipa::path(
    get,
    path = "/approvals/{id}",
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The request's id")),
    responses(
        (status = 200, body = ApprovalView),
        (status = 404, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn get_approval(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ApprovalView>, ApiError> {
    service::get(&state.pool, &state.approval_subjects, &caller.principal, ApprovalId(id))
        .await
        .map(Json)
        .map_err(|e| caller.fail(e))
}

async fn decide(state: AppState, caller: Caller, id: Uuid, verdict: Verdict, body: DecisionBody) -> Result<Json<ApprovalView>, ApiError> {
    service::decide(&state.pool, &state.approval_subjects, &caller.principal, ApprovalId(id), verdict, &body.comment, &caller.meta)
        .await
        .map(Json)
        .map_err(|e| caller.fail(e))
}

/// Approves. The requester cannot; each person counts once; the approval that completes the
/// policy performs the change.
#[utoipa::path(
    post,
    path = "/approvals/{id}/approve",
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The request after the decision", body = ApprovalView),
        (status = 403, description = "The policy does not name the caller", body = ErrorBody),
        (status = 422, description = "Own request, decided already, not pending, or no comment", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<ApprovalView>, ApiError> {
    decide(state, caller, id, Verdict::Approve, body).await
}

/// Rejects, which ends the request.
#[utoipa::path(
    post,
    path = "/approvals/{id}/reject",
    tag = "approvals",
    params(("id" = Uuid, Path, description = "The request's id")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The request after the decision", body = ApprovalView),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<ApprovalView>, ApiError> {
    decide(state, caller, id, Verdict::Reject, body).await
}
