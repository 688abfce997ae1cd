//! The network's subject for the approval engine: an edit of a device in PCI scope, and the
//! removal of a link or a BGP session to a partner.
use super::service::changes::{self, NETWORK_CHANGE};
use super::service::TopologyError;
use crate::approvals::subject::{Request, Subject, SubjectError};
use crate::approvals::types::Fact;
use crate::context::RequestMeta;
use crate::error::Refusal;
use crate::iam::principal::{Principal, Scope};
use sqlx::PgConnection;

impl From<TopologyError> for SubjectError {
    fn from(e: TopologyError) -> Self {
        match e {
            TopologyError::Refused(Refusal::Invalid(p)) => SubjectError::Refused { field: p.field, message: p.message },
            e @ TopologyError::Refused(Refusal::NotFound(_)) => SubjectError::refused("subject", e.to_string()),
            other => SubjectError::failed(other),
        }
    }
}

pub struct NetworkChange;

#[async_trait::async_trait]
impl Subject for NetworkChange {
    fn kind(&self) -> &'static str {
        NETWORK_CHANGE
    }

    fn scope_to_decide(&self) -> Scope {
        Scope::Write
    }

    /// What changes, from the stored request.
    fn facts(&self, request: &Request) -> Vec<Fact> {
        let p = &request.payload;
        let text = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        match request.action.as_str() {
            changes::EDIT_DEVICE => {
                let side = |k: &str| {
                    let d = &p[k];
                    format!(
                        "{} · {} · PCI scope {}",
                        d["status"].as_str().unwrap_or("?"),
                        d["role"].as_str().unwrap_or("?"),
                        if d["pci_scope"].as_bool().unwrap_or(false) { "yes" } else { "no" }
                    )
                };
                vec![Fact::new("Device", text("device")), Fact::new("Now", side("before")), Fact::new("After", side("after")), Fact::warning("A device in PCI scope")]
            }
            changes::REMOVE_LINK => vec![Fact::new("Link", text("label")), Fact::warning(&format!("Reaches the partner {}", text("partner")))],
            changes::REMOVE_SESSION => vec![
                Fact::new("Device", text("device")),
                Fact::new("Remote", text("remote_address")),
                Fact::warning(&format!("A BGP session to the partner {}", text("partner"))),
            ],
            _ => Vec::new(),
        }
    }

    async fn perform(&self, conn: &mut PgConnection, request: &Request, approver: &Principal, meta: &RequestMeta) -> Result<(), SubjectError> {
        Ok(changes::perform(conn, &request.subject_id, &request.action, &request.payload, approver, meta).await?)
    }
}
