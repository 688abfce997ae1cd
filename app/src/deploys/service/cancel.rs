//! Cancelling a deploy that has not ended.
use crate::error::Refusal;
use super::{load, may_deploy, not_found, transition, DeployError};
use crate::approvals::service as approvals;
use crate::audit::service::Actor;
use crate::context::RequestMeta;
use crate::deploys::repo;
use crate::deploys::types::{DeployId, DeployState, DeployView};
use crate::iam::principal::Principal;
use sqlx::PgPool;

/// Cancels a deploy that has not ended: its requester, a member of an owning team, or an admin.
/// A pending approval request is cancelled with it; a running command is stopped by its worker.
#[tracing::instrument(name = "deploys.service.cancel", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn cancel(pool: &PgPool, principal: &Principal, id: DeployId, meta: &RequestMeta) -> Result<DeployView, DeployError> {
    principal.require_read()?;
    let row = repo::get(pool, id).await?.ok_or_else(|| not_found("That deploy"))?;
    let target = repo::target(pool, &row.service).await?.ok_or_else(|| not_found("That deploy's service"))?;
    // the requester may cancel their own deploy (a token needs the deploy scope)
    let own = row.requester_id == principal.user_id.0 && principal.require_scope(crate::iam::principal::Scope::Deploy).is_ok();
    if !own && !may_deploy(principal, &target) {
        return Err(Refusal::Forbidden.into());
    }
    let mut tx = pool.begin().await?;
    let state = repo::lock(&mut tx, id).await?.ok_or_else(|| not_found("That deploy"))?;
    if !state.is_cancellable() {
        return Err(Refusal::invalid("deploy", format!("this deploy is {} already and cannot be cancelled", state.label())).into());
    }
    let note = format!("cancelled by {}", principal.username);
    transition(&mut tx, id, state, DeployState::Cancelled, Actor::Person(principal), &note, meta).await?;
    if let (DeployState::AwaitingApproval, Some(approval)) = (state, row.approval_id) {
        approvals::cancel(&mut tx, approval, Actor::Person(principal), "the deploy was cancelled", meta).await?;
    }
    let view = load(&mut tx, id).await?;
    tx.commit().await?;
    Ok(view)
}

