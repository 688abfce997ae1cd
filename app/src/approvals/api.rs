//! Approval server functions.
use super::types::{ApprovalId, ApprovalView};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
fn invalid(field: &str, message: String) -> AppError {
    crate::context::respond(AppError::Invalid { field: field.into(), message })
}

/// The inbox: `waiting_for_me` (default), `asked_by_me` or `all`, optionally one state.
#[server(endpoint = "approvals/list")]
pub async fn list_approvals(inbox: String, state: Option<String>) -> Result<Vec<ApprovalView>, AppError> {
    use super::types::{ApprovalState, Inbox};
    let inbox = Inbox::parse(&inbox).map_err(|m| invalid("inbox", m))?;
    let state = match state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ApprovalState::parse(s).map_err(|m| invalid("state", m))?),
    };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::list(&pool, &principal, inbox, state, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into_app()))
}

#[server(endpoint = "approvals/get")]
pub async fn get_approval(id: Uuid) -> Result<ApprovalView, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::get(&pool, &principal, ApprovalId(id))
        .await
        .map_err(|e| crate::context::respond(e.into_app()))
}

/// Approve or reject, with a comment.
#[server(endpoint = "approvals/decide")]
pub async fn decide_approval(id: Uuid, verdict: String, comment: String) -> Result<ApprovalView, AppError> {
    use super::types::Verdict;
    let verdict = Verdict::parse(&verdict).map_err(|m| invalid("verdict", m))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::decide(&pool, &principal, ApprovalId(id), verdict, &comment, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into_app()))
}

/// Asks to be made an admin.
#[server(endpoint = "approvals/request-admin")]
pub async fn request_admin_role(reason: String) -> Result<ApprovalId, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::request_admin_role(&pool, &principal, &reason, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into_app()))
}
