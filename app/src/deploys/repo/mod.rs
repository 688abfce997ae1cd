//! Deploy SQL. The deploys table is also the job queue: a job is a `queued` row, taken with
//! `FOR UPDATE SKIP LOCKED` and leased to one worker; `deploys_one_running_idx` keeps one
//! running per service and environment whatever the workers do.
//!
//! One file per action, as the service is split: `kick_off`, `freeze`, `read`, `worker`; this
//! module holds the channels, the deploy target and environments (read from the catalog's
//! `catalog_ownership` view and the environments table) and the one state change.
mod freeze;
mod kick_off;
mod read;
mod worker;

pub use freeze::*;
pub use kick_off::*;
pub use read::*;
pub use worker::*;

use crate::catalog::types::{EntityId, Tier};
use super::types::{DeployId, DeployState};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// The channel workers LISTEN on: a deploy was queued or a slot freed.
pub const QUEUE_CHANNEL: &str = "switchyard_deploy_queue";
/// The channel live views LISTEN on; the payload is the deploy's id.
pub const EVENTS_CHANNEL: &str = "switchyard_deploy_events";

/// A catalog component as a deploy target: read from the catalog's `catalog_ownership` view
/// (who owns it and who may change it), never from the catalog's own tables.
#[derive(Clone)]
pub struct Target {
    pub id: EntityId,
    pub name: String,
    pub title: String,
    pub tier: Option<Tier>,
    pub status: String,
    /// The owning team; None when a person owns it (`owner_user_id`) or its owner is not here.
    pub owner_team_id: Option<Uuid>,
    pub owner_user_id: Option<Uuid>,
    pub owner_name: String,
    pub repository_url: Option<String>,
    /// The teams that own it beside `owner_team_id`.
    pub co_owners: Vec<Uuid>,
}

/// A stored tier, which the catalog keeps within 0–3: anything else is an error, not a guess.
pub(super) fn tier(stored: Option<i16>) -> Result<Option<Tier>, sqlx::Error> {
    stored.map(|t| Tier::parse(t.into()).map_err(|e| sqlx::Error::Decode(e.into()))).transpose()
}

#[tracing::instrument(level = "debug", name = "deploys.repo.target", skip_all)]
pub async fn target(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Target>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT o.id AS "id!: EntityId", o.name AS "name!", o.title AS "title!", o.tier, o.status AS "status!",
                  o.owner_team_id, o.owner_user_id, o.owner_name AS "owner_name!", o.repository_url,
                  o.co_owner_ids AS "co_owners!"
           FROM catalog_ownership o
           WHERE o.kind = 'component' AND o.namespace = 'default' AND o.name = $1"#,
        name
    )
    .fetch_optional(db)
    .await?;
    row.map(|r| {
        Ok(Target {
        id: r.id,
        name: r.name,
        title: r.title,
        tier: tier(r.tier)?,
        status: r.status,
        owner_team_id: r.owner_team_id,
        owner_user_id: r.owner_user_id,
        owner_name: r.owner_name,
        repository_url: r.repository_url,
        co_owners: r.co_owners,
        })
    })
    .transpose()
}

#[derive(Clone)]
pub struct Environment {
    pub name: String,
    pub title: String,
    pub requires_approval: bool,
    /// `warn` or `block`: what maintenance on a service's path does to a deploy here.
    pub maintenance_policy: String,
    /// `warn` or `block`: what a critical integration's run of a service does to a deploy of it here.
    pub critical_run_policy: String,
}

/// Sets an environment's two policies, answering what they were (none when there is no such
/// environment); the row stays locked until the transaction ends.
#[tracing::instrument(level = "debug", name = "deploys.repo.set_policies", skip_all)]
pub async fn set_policies(conn: &mut sqlx::PgConnection, name: &str, maintenance: &str, critical_runs: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"WITH old AS (SELECT name, maintenance_policy, critical_run_policy FROM environments WHERE name = $1 FOR UPDATE)
           UPDATE environments e SET maintenance_policy = $2, critical_run_policy = $3 FROM old WHERE e.name = old.name
           RETURNING old.maintenance_policy AS "maintenance!", old.critical_run_policy AS "critical_runs!""#,
        name,
        maintenance,
        critical_runs
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.maintenance, r.critical_runs)))
}

#[tracing::instrument(level = "debug", name = "deploys.repo.environments", skip_all)]
pub async fn environments(db: impl PgExecutor<'_>) -> Result<Vec<Environment>, sqlx::Error> {
    sqlx::query_as!(Environment, "SELECT name, title, requires_approval, maintenance_policy, critical_run_policy FROM environments ORDER BY position")
        .fetch_all(db)
        .await
}

#[tracing::instrument(level = "debug", name = "deploys.repo.insert_transition", skip_all)]
pub async fn insert_transition(
    conn: &mut PgConnection,
    id: DeployId,
    from: Option<&str>,
    to: &str,
    actor: (Option<Uuid>, &str),
    note: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO deploy_transitions (deploy_id, from_state, to_state, actor_id, actor_name, note) VALUES ($1, $2, $3, $4, $5, $6)",
        id.0,
        from,
        to,
        actor.0,
        actor.1,
        note
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Locks a deploy's row and returns its state.
#[tracing::instrument(level = "debug", name = "deploys.repo.lock", skip_all)]
pub async fn lock(conn: &mut PgConnection, id: DeployId) -> Result<Option<DeployState>, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT state AS "state: DeployState" FROM deploys WHERE id = $1 FOR UPDATE"#, id.0).fetch_optional(conn).await
}

/// Moves a deploy to `to`; a final state releases the lease and records the outcome.
#[tracing::instrument(level = "debug", name = "deploys.repo.set_state", skip_all)]
pub async fn set_state(conn: &mut PgConnection, id: DeployId, to: &str, is_final: bool, outcome: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"UPDATE deploys SET state = $2, updated_at = now(),
                  outcome = coalesce($4, outcome),
                  finished_at = CASE WHEN $3 THEN now() ELSE finished_at END,
                  lease_owner = CASE WHEN $3 THEN NULL ELSE lease_owner END,
                  lease_expires_at = CASE WHEN $3 THEN NULL ELSE lease_expires_at END
           WHERE id = $1"#,
        id.0,
        to,
        is_final,
        outcome
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Wakes whoever listens on `channel` when the transaction commits.
#[tracing::instrument(level = "debug", name = "deploys.repo.notify", skip_all)]
pub async fn notify(db: impl PgExecutor<'_>, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT pg_notify($1, $2)", channel, payload).execute(db).await?;
    Ok(())
}

/// What runs in an environment now: the newest succeeded deploy's version and id.
#[tracing::instrument(level = "debug", name = "deploys.repo.current", skip_all)]
pub async fn current(db: impl PgExecutor<'_>, service: EntityId, environment: &str) -> Result<Option<(String, DeployId)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT version, id AS "id: DeployId" FROM deploys WHERE service_id = $1 AND environment = $2 AND state = 'succeeded'
           ORDER BY finished_at DESC, seq DESC LIMIT 1"#,
        service.0,
        environment
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.version, r.id)))
}

/// The version that succeeded before `deploy` in its environment, other than its own.
#[tracing::instrument(level = "debug", name = "deploys.repo.previous_success", skip_all)]
pub async fn previous_success(db: impl PgExecutor<'_>, deploy: DeployId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT p.version FROM deploys d
           JOIN deploys p ON p.service_id = d.service_id AND p.environment = d.environment
                         AND p.state = 'succeeded' AND p.finished_at < d.finished_at AND p.version <> d.version
           WHERE d.id = $1
           ORDER BY p.finished_at DESC LIMIT 1"#,
        deploy.0
    )
    .fetch_optional(db)
    .await
}

/// Deploys of a service to an environment that have not ended, oldest first.
#[tracing::instrument(level = "debug", name = "deploys.repo.in_flight", skip_all)]
pub async fn in_flight(db: impl PgExecutor<'_>, service: EntityId, environment: &str) -> Result<Option<DeployId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: DeployId" FROM deploys WHERE service_id = $1 AND environment = $2
             AND state IN ('requested', 'awaiting_approval', 'queued', 'running')
           ORDER BY seq LIMIT 1"#,
        service.0,
        environment
    )
    .fetch_optional(db)
    .await
}
