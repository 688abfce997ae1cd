//! The integrations' subject for the approval engine: registering an integration whose data or
//! target needs approval, and raising an integration's classification.
use super::service::{self, IntegrationError, INTEGRATION};
use crate::approvals::subject::{Request, Subject, SubjectError};
use crate::approvals::types::{ApprovalState, Fact};
use crate::context::RequestMeta;
use crate::error::Refusal;
use crate::iam::principal::{Principal, Scope};
use sqlx::PgConnection;

impl From<IntegrationError> for SubjectError {
    fn from(e: IntegrationError) -> Self {
        match e {
            IntegrationError::Refused(Refusal::Invalid(p)) => SubjectError::Refused { field: p.field, message: p.message },
            IntegrationError::Refused(Refusal::InvalidFields(list)) => match list.into_iter().next() {
                Some(p) => SubjectError::Refused { field: p.field, message: p.message },
                None => SubjectError::refused("subject", "the change no longer fits"),
            },
            e @ (IntegrationError::StaleVersion | IntegrationError::Refused(Refusal::NotFound(_))) => SubjectError::refused("subject", e.to_string()),
            other => SubjectError::failed(other),
        }
    }
}

pub struct IntegrationChange;

#[async_trait::async_trait]
impl Subject for IntegrationChange {
    fn kind(&self) -> &'static str {
        INTEGRATION
    }

    fn scope_to_decide(&self) -> Scope {
        Scope::Write
    }

    /// The flow, its data classification and its service levels, from the stored draft.
    fn facts(&self, request: &Request) -> Vec<Fact> {
        let d = request.payload.get("draft").unwrap_or(&request.payload);
        let text = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let list = |k: &str| d.get(k).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
        let mut facts = vec![
            Fact::new("Integration", text("name")),
            Fact::new("Flow", format!("{} → {}", list("sources"), list("targets"))),
            Fact::new("Platform", text("platform")),
            Fact::new("Owner", text("owner")),
            Fact::new("Data", text("classification")),
        ];
        if text("classification") == "pci" {
            facts.push(Fact::warning("PCI data: two approvals are needed"));
        }
        facts
    }

    async fn perform(&self, conn: &mut PgConnection, request: &Request, approver: &Principal, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(service::perform(conn, &request.subject_id, &request.action, &request.payload, approver, meta).await?)
    }

    async fn abandon(&self, conn: &mut PgConnection, request: &Request, _outcome: ApprovalState, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(service::abandon(conn, &request.subject_id, &request.action, meta).await?)
    }
}
