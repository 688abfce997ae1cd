//! Being made an admin waits for approval: iam's subject for the approval engine.
use crate::error::Refusal;
use super::principal::{Principal, Scope};
use super::repo;
use super::service::IamError;
use super::types::{Role, UserId};
use crate::approvals::service::{self as approvals, Ask};
use crate::approvals::subject::{Request, Subject, SubjectError};
use crate::approvals::types::{ApprovalId, Approvers};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use chrono::Duration;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// A request to grant the admin role; any admin may approve.
pub struct AdminRole;

impl AdminRole {
    pub const KIND: &'static str = "role_grant";
}

/// Asks for the admin role for oneself (from a browser session).
#[tracing::instrument(name = "iam.service.request_admin_role", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn request_admin_role(pool: &PgPool, principal: &Principal, reason: &str, meta: &RequestMeta) -> Result<ApprovalId, IamError> {
    principal.require_session()?;
    let reason = crate::approvals::types::parse_reason(reason).map_err(|m| Refusal::invalid("reason", m))?;
    if principal.roles.contains(&Role::Admin) {
        return Err(Refusal::invalid("role", "you are an admin already").into());
    }
    let mut tx = pool.begin().await?;
    let ask = Ask {
        subject_kind: AdminRole::KIND,
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
    let id = approvals::open(&mut tx, principal, ask, meta).await?;
    tx.commit().await?;
    Ok(id)
}

#[async_trait::async_trait]
impl Subject for AdminRole {
    fn kind(&self) -> &'static str {
        Self::KIND
    }

    fn scope_to_decide(&self) -> Scope {
        Scope::Admin
    }

    async fn perform(&self, conn: &mut PgConnection, request: &Request, approver: &Principal, meta: &RequestMeta) -> Result<(), SubjectError> {
        let user: Uuid = request.subject_id.parse().map_err(|_| SubjectError::refused("subject", "not a user id"))?;
        repo::grant_role(&mut *conn, UserId(user), Role::Admin, "approval").await?;
        let change = Change {
            action: "role.granted",
            subject_kind: SubjectKind::User,
            subject_id: user.to_string(),
            before: None,
            after: Some(json!({ "role": "admin", "approval_id": request.id })),
        };
        audit::record(conn, Actor::Person(approver), change, meta).await?;
        Ok(())
    }
}
