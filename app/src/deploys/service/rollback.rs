//! Rolling back: a new deploy of the version that succeeded before the one running now.
use crate::error::Refusal;
use super::kick_off::{kick_off, replay, Key};
use super::{may_deploy, not_found, DeployError, Kicked};
use crate::context::RequestMeta;
use crate::deploys::queue::Queue;
use crate::deploys::repo;
use crate::deploys::types::{DeployForm, DeployId};
use crate::iam::principal::Principal;
use sqlx::PgPool;

/// A new deploy of the version that succeeded before `id`, which must be what runs in its
/// environment now. The environment's policy applies as to any deploy.
#[tracing::instrument(name = "deploys.service.rollback", skip(pool, queue, principal), fields(user = %principal.username), err)]
pub async fn rollback(pool: &PgPool, queue: &Queue, principal: &Principal, id: DeployId, key: &str, why: &str, meta: &RequestMeta) -> Result<Kicked, DeployError> {
    principal.require_read()?;
    let why = why.trim();
    if why.is_empty() {
        return Err(Refusal::invalid("reason", "Say why you roll back: the reason goes on the deploy, its approval request and the audit log").into());
    }
    let current = repo::get(pool, id).await?.ok_or_else(|| not_found("That deploy"))?;
    let target = repo::target(pool, &current.service).await?.ok_or_else(|| not_found("That deploy's service"))?;
    if !may_deploy(principal, &target) {
        return Err(Refusal::Forbidden.into());
    }
    let to = repo::previous_success(pool, id)
        .await?
        .ok_or_else(|| Refusal::invalid("deploy", "no earlier version succeeded in this environment: there is nothing to roll back to"))?;
    let form = DeployForm {
        service: current.service.clone(),
        environment: current.environment.clone(),
        version: to.clone(),
        reason: format!("Roll back {} in {} from {} to {}: {why}", current.service, current.environment, current.version, to),
        idempotency_key: key.to_owned(),
        freeze_override: String::new(),
    };
    let new = form.parse().map_err(Refusal::InvalidFields)?;
    let running_now = repo::current(pool, current.service_id, &current.environment).await?;
    if running_now.as_ref().map(|(_, d)| *d) != Some(id) {
        // as in a kick-off, a refused check turns a retry into a replay: once the rollback a key
        // made runs, `id` no longer does, and the key answers that rollback
        let refused = Refusal::invalid("deploy", "only the deploy that runs in its environment now can be rolled back");
        return replay(pool, &Key::of(principal, &new, Some(id))).await?.ok_or(refused.into());
    }
    kick_off(pool, queue, principal, new, Some(id), meta).await
}
