//! The catalog's subjects for the approval engine: a registration or an owner or tier change
//! of one entity, and an import of descriptor files.
use crate::error::Refusal;
use super::service::{self, CatalogError};
use super::{import, types::Tier};
use crate::approvals::subject::{Request, Subject, SubjectError};
use crate::approvals::types::ApprovalState;
use crate::context::RequestMeta;
use crate::iam::principal::{Principal, Scope};
use crate::untrusted::ReadError;
use sqlx::PgConnection;

/// How many approvals a change to an entity of this tier needs: two for tier 0 (the services
/// money moves through), one otherwise. Every domain that asks about an entity asks this.
pub fn approvals_needed(tiers: impl IntoIterator<Item = Option<Tier>>) -> i32 {
    if tiers.into_iter().any(|t| t.is_some_and(Tier::is_zero)) {
        2
    } else {
        1
    }
}

impl From<CatalogError> for SubjectError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Refused(Refusal::Invalid(p)) | CatalogError::Read(ReadError::OverLimit(p) | ReadError::TooLarge(p)) => {
                SubjectError::Refused { field: p.field, message: p.message }
            }
            e @ (CatalogError::StaleVersion | CatalogError::Refused(Refusal::NotFound(_))) => SubjectError::refused("subject", e.to_string()),
            other => SubjectError::failed(other),
        }
    }
}

/// Registering an entity, or changing its owners or tier.
pub struct EntityChange;

#[async_trait::async_trait]
impl Subject for EntityChange {
    fn kind(&self) -> &'static str {
        service::ENTITY
    }

    fn scope_to_decide(&self) -> Scope {
        Scope::Write
    }

    async fn perform(&self, conn: &mut PgConnection, request: &Request, approver: &Principal, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(service::perform(conn, &request.subject_id, &request.action, &request.payload, approver, meta).await?)
    }

    async fn abandon(&self, conn: &mut PgConnection, request: &Request, _outcome: ApprovalState, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(service::abandon(conn, &request.subject_id, &request.action, meta).await?)
    }
}

/// Importing descriptor files (all of them, or nothing).
pub struct Import;

#[async_trait::async_trait]
impl Subject for Import {
    fn kind(&self) -> &'static str {
        import::IMPORT
    }

    fn scope_to_decide(&self) -> Scope {
        Scope::Write
    }

    async fn perform(&self, conn: &mut PgConnection, request: &Request, approver: &Principal, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(import::perform(conn, &request.subject_id, &request.payload, approver, meta).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tier_zero_needs_two_approvals() {
        let tier = |n| Tier::parse(n).ok();
        assert_eq!(approvals_needed([tier(0)]), 2);
        assert_eq!(approvals_needed([tier(1)]), 1);
        assert_eq!(approvals_needed([None]), 1);
        // a change from or to tier 0 is a tier-0 change
        assert_eq!(approvals_needed([tier(2), tier(0)]), 2);
        assert_eq!(approvals_needed([tier(0), None]), 2);
        assert_eq!(approvals_needed([]), 1);
    }
}
