//! The worker's side of the queue: claim a deploy under a lease, hand it to an executor, keep
//! the lease, log, and finish it; and recovery of deploys whose worker went away.
use super::{actor_of, not_found, transition, DeployError, Job};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use serde_json::json;
use crate::context::RequestMeta;
use crate::deploys::repo::{self, EVENTS_CHANNEL, QUEUE_CHANNEL};
use crate::deploys::types::{DeployId, DeployState};
use sqlx::PgPool;
use uuid::Uuid;

/// Takes the next job for `worker`, leased for `lease_secs`, and marks it running (audited).
/// Deploys to a `frozen` environment wait, unless an admin overrode the freeze for them.
#[tracing::instrument(level = "debug", name = "deploys.service.claim", skip_all)]
pub async fn claim(pool: &PgPool, worker: Uuid, lease_secs: f64, frozen: &[String]) -> Result<Option<Job>, DeployError> {
    let mut tx = pool.begin().await?;
    let claimed = match repo::claim(&mut tx, worker, lease_secs, frozen).await {
        Ok(c) => c,
        // another worker started this service's deploy a moment earlier: nothing to take now
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let Some(claimed) = claimed else { return Ok(None) };
    let meta = RequestMeta { request_id: format!("worker-{worker}"), ip: String::new() };
    let note = format!("started by worker {} (attempt {})", &worker.to_string()[..8], claimed.attempts);
    let (actor_id, actor_name) = actor_of(&Actor::System);
    repo::insert_transition(&mut tx, claimed.id, Some("queued"), "running", (actor_id, &actor_name), &note).await?;
    let change = Change {
        action: "deploy.started",
        subject_kind: SubjectKind::Deploy,
        subject_id: claimed.id.to_string(),
        before: Some(json!({ "state": "queued" })),
        after: Some(json!({ "state": "running", "worker": worker, "attempt": claimed.attempts })),
    };
    audit::record(&mut tx, Actor::System, change, &meta).await?;
    repo::notify(&mut *tx, EVENTS_CHANNEL, &claimed.id.to_string()).await?;
    let row = repo::get(&mut *tx, claimed.id).await?.ok_or_else(|| not_found("That deploy"))?;
    tx.commit().await?;
    Ok(Some(Job {
        id: row.id,
        service: row.service,
        environment: row.environment,
        version: row.version,
        previous_version: row.previous_version,
        reason: row.reason,
        requester: row.requester,
        attempt: claimed.attempts,
        trace_context: claimed.trace_context,
    }))
}

/// Records that the executor is starting; false when the job is no longer this worker's.
#[tracing::instrument(level = "debug", name = "deploys.service.dispatched", skip_all)]
pub async fn dispatched(pool: &PgPool, id: DeployId, worker: Uuid, executor: &str, timeout_secs: f64) -> Result<bool, DeployError> {
    Ok(repo::mark_dispatched(pool, id, worker, executor, timeout_secs).await?)
}

/// Hands a running deploy to its CD system: the worker lets go; the deadline still applies.
#[tracing::instrument(level = "debug", name = "deploys.service.hand_over", skip_all)]
pub async fn hand_over(pool: &PgPool, id: DeployId, worker: Uuid) -> Result<bool, DeployError> {
    Ok(repo::release(pool, id, worker).await?)
}

/// Extends the worker's lease; false when the job was cancelled or taken from it.
#[tracing::instrument(level = "debug", name = "deploys.service.heartbeat", skip_all)]
pub async fn heartbeat(pool: &PgPool, id: DeployId, worker: Uuid, lease_secs: f64) -> Result<bool, DeployError> {
    Ok(repo::heartbeat(pool, id, worker, lease_secs).await?)
}

/// Appends log lines (and wakes live views).
#[tracing::instrument(level = "debug", name = "deploys.service.append_log", skip_all)]
pub async fn append_log(pool: &PgPool, id: DeployId, stream: &str, lines: &[String]) -> Result<(), DeployError> {
    if lines.is_empty() {
        return Ok(());
    }
    Ok(repo::append_log(pool, id, stream, lines).await?)
}

#[tracing::instrument(level = "debug", name = "deploys.service.set_progress", skip_all)]
pub async fn set_progress(pool: &PgPool, id: DeployId, percent: i16) -> Result<(), DeployError> {
    repo::set_progress(pool, id, percent.clamp(0, 100)).await?;
    let mut conn = pool.acquire().await?;
    repo::notify(&mut *conn, EVENTS_CHANNEL, &id.to_string()).await?;
    Ok(())
}

/// Ends a running deploy as succeeded or failed, once: false (and nothing written) when it is
/// not running any more, or, with `worker`, when that worker no longer holds it.
#[tracing::instrument(level = "debug", name = "deploys.service.finish", skip_all)]
pub async fn finish(pool: &PgPool, id: DeployId, worker: Option<Uuid>, to: DeployState, note: &str, meta: &RequestMeta) -> Result<bool, DeployError> {
    let mut tx = pool.begin().await?;
    let Some(state) = repo::lock(&mut tx, id).await? else { return Ok(false) };
    if state != DeployState::Running {
        return Ok(false);
    }
    if let Some(worker) = worker {
        if repo::lease_holder(&mut *tx, id).await? != Some(worker) {
            return Ok(false);
        }
    }
    transition(&mut tx, id, DeployState::Running, to, Actor::System, note, meta).await?;
    tx.commit().await?;
    Ok(true)
}

/// What a sweep found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    pub requeued: usize,
    pub failed: usize,
}

/// Deals with deploys whose worker died: one whose executor never started goes back to the
/// queue; one whose command had started is failed with the reason (never started twice); a
/// webhook deploy past its deadline with no result is failed.
#[tracing::instrument(level = "debug", name = "deploys.service.recover", skip_all)]
pub async fn recover(pool: &PgPool) -> Result<Recovered, DeployError> {
    let meta = RequestMeta { request_id: "recovery".into(), ip: String::new() };
    let mut tx = pool.begin().await?;
    let mut done = Recovered::default();
    for lost in repo::lost(&mut tx).await? {
        if lost.dispatched {
            let at = lost.lease_expires_at.map(|t| t.format("%H:%M:%S UTC").to_string()).unwrap_or_default();
            let note = format!(
                "the worker running it stopped mid-run (its lease expired at {at}); it was not started again, so it never runs twice — deploy again to retry"
            );
            transition(&mut tx, lost.id, DeployState::Running, DeployState::Failed, Actor::System, &note, &meta).await?;
            done.failed += 1;
        } else {
            repo::requeue(&mut tx, lost.id).await?;
            let (actor_id, actor_name) = actor_of(&Actor::System);
            let note = "the worker that took it stopped before starting it; queued again";
            repo::insert_transition(&mut tx, lost.id, Some("running"), "queued", (actor_id, &actor_name), note).await?;
            let change = Change {
                action: "deploy.requeued",
                subject_kind: SubjectKind::Deploy,
                subject_id: lost.id.to_string(),
                before: Some(json!({ "state": "running" })),
                after: Some(json!({ "state": "queued", "note": note })),
            };
            audit::record(&mut tx, Actor::System, change, &meta).await?;
            repo::notify(&mut *tx, EVENTS_CHANNEL, &lost.id.to_string()).await?;
            repo::notify(&mut *tx, QUEUE_CHANNEL, "").await?;
            done.requeued += 1;
        }
    }
    for id in repo::overdue(&mut tx).await? {
        let note = "no result from the CD system before the deploy's timeout";
        transition(&mut tx, id, DeployState::Running, DeployState::Failed, Actor::System, note, &meta).await?;
        done.failed += 1;
    }
    tx.commit().await?;
    Ok(done)
}

