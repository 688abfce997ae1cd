//! Audit server functions (admins).
use super::types::{AuditEntry, AuditPage, ChainCheck};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
impl From<super::service::AuditError> for AppError {
    fn from(e: super::service::AuditError) -> Self {
        use super::service::AuditError as E;
        match e {
            E::Refused(r) => r.into(),
            e @ E::Database(_) => AppError::internal(e),
        }
    }
}

/// Every filter is optional (a form sends only what was filled in).
#[server(endpoint = "audit/search")]
pub async fn search_audit(
    actor: Option<String>,
    action: Option<String>,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    from: Option<String>,
    until: Option<String>,
    before_id: Option<i64>,
) -> Result<AuditPage, AppError> {
    let query = super::types::AuditQuery { actor, action, subject_kind, subject_id, from, until, before_id };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::search(&pool, &principal, &query, super::service::PAGE_SIZE)
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

#[server(endpoint = "audit/verify")]
pub async fn verify_audit_chain() -> Result<ChainCheck, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::verify_as(&pool, &principal)
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// One subject's history, newest first.
#[server(endpoint = "audit/history")]
pub async fn subject_history(subject_kind: String, subject_id: String) -> Result<Vec<AuditEntry>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::history(&pool, &principal, &subject_kind, &subject_id, 200)
        .await
        .map_err(|e| crate::context::respond(e.into()))
}
