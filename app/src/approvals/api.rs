//! Approval server functions.
use super::types::ApprovalView;
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
fn invalid(field: &str, message: String) -> AppError {
    crate::context::respond(AppError::Invalid { field: field.into(), message })
}

/// What an approval error is at the edge: refusals say which part of the request and why.
#[cfg(feature = "ssr")]
impl From<super::service::ApprovalError> for AppError {
    fn from(e: super::service::ApprovalError) -> Self {
        use super::service::ApprovalError as E;
        use super::subject::SubjectError;
        let field = |field: &str| AppError::Invalid { field: field.into(), message: e.to_string() };
        match &e {
            E::Refused(r) => r.clone().into(),
            E::AlreadyPending | E::TooManyOpen | E::Expired | E::Ended(_) => field("request"),
            E::OwnRequest | E::DecidedTwice => field("decision"),
            E::Subject(SubjectError::Refused { field, message }) => AppError::Invalid { field: field.clone(), message: message.clone() },
            E::UnknownKind(_) | E::Subject(SubjectError::Failed(_)) | E::Database(_) => AppError::internal(e),
        }
    }
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
    let subjects = crate::context::approval_subjects()?;
    super::service::list(&pool, &subjects, &principal, inbox, state, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

#[server(endpoint = "approvals/get")]
pub async fn get_approval(id: Uuid) -> Result<ApprovalView, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let subjects = crate::context::approval_subjects()?;
    super::service::get(&pool, &subjects, &principal, super::types::ApprovalId(id))
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// Approve or reject, with a comment.
#[server(endpoint = "approvals/decide")]
pub async fn decide_approval(id: Uuid, verdict: String, comment: String) -> Result<ApprovalView, AppError> {
    use super::types::Verdict;
    let verdict = Verdict::parse(&verdict).map_err(|m| invalid("verdict", m))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let subjects = crate::context::approval_subjects()?;
    let view = super::service::decide(&pool, &subjects, &principal, super::types::ApprovalId(id), verdict, &comment, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))?;
    // a form posted without JavaScript lands on the request, which confirms the decision
    if crate::context::accepts_html() {
        leptos_axum::redirect(&format!("/approvals/{id}?decided=1"));
    }
    Ok(view)
}

/// How many requests wait for the caller's decision (the navigation's badge).
#[server(endpoint = "approvals/waiting-count")]
pub async fn waiting_count() -> Result<usize, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let subjects = crate::context::approval_subjects()?;
    super::service::waiting(&pool, &subjects, &principal)
        .await
        .map(|w| w.len())
        .map_err(|e| crate::context::respond(e.into()))
}
