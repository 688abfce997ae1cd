//! Deploy rules. Members of an owning team (or admins) deploy; a deploy to an environment that
//! needs approval waits for an admin or a lead of the owning team (tier 0: two), never the
//! requester; a freeze window refuses deploys unless an admin overrides with a reason. The same
//! idempotency key returns the first deploy. Every state change is one transaction with its
//! transition row, its audit row and the NOTIFY that wakes workers and live views.
//!
//! One file per action: `kick_off`, `rollback`, `cancel`, `freeze`, `read`, `worker` (the
//! worker's side of the queue) and `cd_events` (a CD system's reports); this module holds what
//! they share: the domain's error, the view of a stored deploy, and the one state transition.
mod cancel;
mod cd_events;
mod freeze;
mod kick_off;
mod read;
mod rollback;
mod worker;

pub use cancel::cancel;
pub use cd_events::{cd_event, CdEvent, CdReport};
pub use freeze::{calendar, create_freeze, delete_freeze, environment_policies, environments, freezes_between, frozen_now, set_environment_policies};
pub use kick_off::request_deploy;
pub use read::{asked_by_me, gauges, get, list, page, plan, service_history, updates, Gauges, PAGE_LOG_LINES};
pub use rollback::rollback;
pub use worker::{append_log, claim, dispatched, finish, hand_over, heartbeat, recover, set_progress, Recovered};
use super::repo::{self, DeployRow, Target, EVENTS_CHANNEL, QUEUE_CHANNEL};
use super::types::{DeployId, DeployState, DeployView, LogLine, TransitionView};
use crate::approvals::service::ApprovalError;
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::error::Refusal;
use crate::iam::principal::Principal;
use crate::iam::types::TeamId;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;


/// The code hosts (origins) whose compare links approvers are shown; set from configuration at
/// startup (`deploys.code_hosts`).
static CODE_HOSTS: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

pub fn set_code_hosts(hosts: Vec<String>) {
    if let Ok(mut h) = CODE_HOSTS.write() {
        *h = hosts;
    }
}

pub(crate) fn code_hosts() -> Vec<String> {
    CODE_HOSTS.read().map(|h| h.clone()).unwrap_or_default()
}

/// What went wrong with a deploy, in the deploy domain's words.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The environment is in a freeze window and no admin overrode it.
    #[error("{environment} is frozen: {window}. Deploys are refused until the window ends; an admin may override it with a reason.")]
    Frozen { environment: String, window: String },
    /// Maintenance is under way on the service's network path, the environment's policy blocks
    /// deploys then, and no admin overrode it.
    #[error("{service} cannot be deployed to {environment} now: maintenance is under way on its network path ({window}). Deploys are refused until it ends; an admin may override it with a reason.")]
    UnderMaintenance { service: String, environment: String, window: String },
    /// A critical integration of the service is running, the environment's policy blocks
    /// deploys then, and no admin overrode it.
    #[error("{service} cannot be deployed to {environment} now: a critical integration of it is running ({runs}). Deploys are refused until the run's time is over; an admin may override it with a reason.")]
    DuringCriticalRun { service: String, environment: String, runs: String },
    /// The idempotency key names another deploy.
    #[error("the idempotency key \"{key}\" was already used for a different deploy ({deploy}); use a new key for a new deploy")]
    KeyReused { key: String, deploy: DeployId },
    /// A CD system's event for a deploy no CD system runs.
    #[error("this deploy is not run by a CD system, so it takes no events")]
    NotWebhook,
    /// A CD system's event for another attempt than the current one.
    #[error("the event is for attempt {event} but the deploy is at attempt {current}")]
    WrongAttempt { event: i32, current: i32 },
    /// A CD system's event whose seq is not above the last accepted.
    #[error("event {0} of this deploy was accepted already, or a later one was: a replay is refused (send each event with a seq above the last)")]
    Replayed(i64),
    /// A CD system's event for a deploy that is not running.
    #[error("the deploy is {}: {what} was not applied", .state.label())]
    NotRunning { state: DeployState, what: &'static str },
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// The service's network path could not be read.
    #[error("the network path: {0}")]
    Path(String),
    /// The service's integrations could not be read.
    #[error("the service's integrations: {0}")]
    Integrations(String),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for DeployError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("deploys", &e);
        DeployError::Database(e)
    }
}

pub(crate) fn not_found(what: &str) -> Refusal {
    Refusal::not_found(what)
}

/// The subject kind of deploys in approvals and the audit log.
pub const DEPLOY: &str = "deploy";
/// The approval action of a deploy that needs one.
pub const DEPLOY_ACTION: &str = "deploy";
/// How long an approval request for a deploy stays open.
pub(crate) const APPROVAL_VALID_HOURS: i64 = 24;

/// What a kick-off answered: the deploy, and whether this call created it (false: the same
/// idempotency key and parameters returned the first one).
pub struct Kicked {
    pub deploy: DeployView,
    pub created: bool,
}

/// A deploy as a worker needs it to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: DeployId,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub reason: String,
    pub requester: String,
    pub attempt: i32,
    /// The kick-off's `traceparent`, when it was traced.
    pub trace_context: Option<String>,
}

pub(crate) fn may_deploy(p: &Principal, t: &Target) -> bool {
    let owners: Vec<TeamId> = t.owner_team_id.into_iter().chain(t.co_owners.iter().copied()).map(TeamId).collect();
    // a service a person owns: that person deploys it (with the deploy scope), as a team's members would
    let own = t.owner_user_id == Some(p.user_id.0) && p.require_scope(crate::iam::principal::Scope::Deploy).is_ok();
    own || p.require_deploy(&owners).is_ok()
}


pub(crate) fn to_view(r: DeployRow, transitions: Vec<TransitionView>) -> DeployView {
    DeployView {
        id: r.id,
        service: r.service,
        service_title: r.service_title,
        environment: r.environment,
        version: r.version,
        previous_version: r.previous_version,
        rollback_of: r.rollback_of,
        reason: r.reason,
        requester: r.requester,
        requester_id: r.requester_id,
        state: r.state,
        approval_id: r.approval_id,
        freeze_override: r.freeze_override,
        executor: r.executor,
        attempts: r.attempts,
        progress: r.progress,
        outcome: r.outcome,
        created_at: r.created_at,
        updated_at: r.updated_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        transitions,
    }
}

pub(crate) fn to_transition(t: repo::TransitionRow) -> TransitionView {
    TransitionView {
        from: t.from_state,
        to: t.to_state,
        actor: t.actor_name,
        note: t.note,
        at: t.at,
    }
}

pub(crate) fn to_line(l: repo::LogRow) -> LogLine {
    LogLine { id: l.id, at: l.at, stream: l.stream, line: l.line }
}

#[tracing::instrument(level = "debug", name = "deploys.service.load", skip_all)]
pub(crate) async fn load(conn: &mut PgConnection, id: DeployId) -> Result<DeployView, DeployError> {
    let row = repo::get(&mut *conn, id).await?.ok_or_else(|| not_found("That deploy"))?;
    let transitions = repo::transitions(&mut *conn, id, 0).await?.into_iter().map(to_transition).collect();
    Ok(to_view(row, transitions))
}

pub(crate) fn actor_of<'a>(actor: &Actor<'a>) -> (Option<Uuid>, String) {
    match actor {
        Actor::Person(p) => (Some(p.user_id.0), p.username.clone()),
        Actor::System => (None, "switchyard".to_owned()),
    }
}

/// Moves a deploy from `from` to `to` inside the caller's transaction: the row, its transition,
/// the audit row and the notifications.
#[tracing::instrument(level = "debug", name = "deploys.service.transition", skip_all)]
pub(crate) async fn transition(
    conn: &mut PgConnection,
    id: DeployId,
    from: DeployState,
    to: DeployState,
    actor: Actor<'_>,
    note: &str,
    meta: &RequestMeta,
) -> Result<(), DeployError> {
    let outcome = to.is_final().then_some(note);
    repo::set_state(&mut *conn, id, to.as_str(), to.is_final(), outcome).await?;
    let (actor_id, actor_name) = actor_of(&actor);
    repo::insert_transition(&mut *conn, id, Some(from.as_str()), to.as_str(), (actor_id, &actor_name), note).await?;
    let change = Change {
        action: match to {
            DeployState::Queued if from == DeployState::Running => "deploy.requeued",
            DeployState::Queued => "deploy.queued",
            DeployState::Running => "deploy.started",
            DeployState::Succeeded => "deploy.succeeded",
            DeployState::Failed => "deploy.failed",
            DeployState::Cancelled => "deploy.cancelled",
            DeployState::Rejected => "deploy.rejected",
            DeployState::Expired => "deploy.expired",
            DeployState::Requested | DeployState::AwaitingApproval => "deploy.requested",
        },
        subject_kind: SubjectKind::Deploy,
        subject_id: id.to_string(),
        before: Some(json!({ "state": from.as_str() })),
        after: Some(json!({ "state": to.as_str(), "note": note })),
    };
    audit::record(&mut *conn, actor, change, meta).await?;
    repo::notify(&mut *conn, EVENTS_CHANNEL, &id.to_string()).await?;
    if to == DeployState::Queued || to.is_final() {
        repo::notify(&mut *conn, QUEUE_CHANNEL, "").await?;
    }
    Ok(())
}

