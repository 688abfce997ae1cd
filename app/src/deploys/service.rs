//! Deploy rules. Members of an owning team (or admins) deploy; a deploy to an environment that
//! needs approval waits for an admin or a lead of the owning team (tier 0: two), never the
//! requester; a freeze window refuses deploys unless an admin overrides with a reason. The same
//! idempotency key returns the first deploy. Every state change is one transaction with its
//! transition row, its audit row and the NOTIFY that wakes workers and live views.
use super::queue::Queue;
use super::repo::{self, DeployRow, FreezeRow, Target, EVENTS_CHANNEL, QUEUE_CHANNEL};
use super::types::{
    compare_url, DeployAsk, DeployFilter, DeployForm, DeployId, DeployPage, DeployPlan, DeployState, DeployUpdate, DeployView,
    EnvironmentHistory, EnvironmentPolicy, FreezeForm, FreezeId, FreezeView, FreezeWhen, LogLine, NewDeploy,
    ServiceDeploys, TransitionView,
};
use crate::approvals::service::{self as approvals, ApprovalError, Ask};
use crate::approvals::types::{ApprovalId, ApprovalState, Approvers};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::catalog::approval::approvals_needed;
use crate::context::RequestMeta;
use crate::error::FieldProblem;
use crate::iam::principal::{Denied, Principal};
use crate::iam::types::TeamId;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use std::str::FromStr;
use uuid::Uuid;


/// The code hosts (origins) whose compare links approvers are shown; set from configuration at
/// startup (`deploys.code_hosts`).
static CODE_HOSTS: std::sync::RwLock<Vec<String>> = std::sync::RwLock::new(Vec::new());

pub fn set_code_hosts(hosts: Vec<String>) {
    if let Ok(mut h) = CODE_HOSTS.write() {
        *h = hosts;
    }
}

fn code_hosts() -> Vec<String> {
    CODE_HOSTS.read().map(|h| h.clone()).unwrap_or_default()
}

/// What went wrong with a deploy, in the deploy domain's words.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Invalid(#[from] FieldProblem),
    /// A whole form's problems, each with its field.
    #[error("{} problem(s) in the form", .0.len())]
    InvalidFields(Vec<FieldProblem>),
    /// What was not found, as a person would name it ("That deploy").
    #[error("{0} was not found")]
    NotFound(String),
    /// The environment is in a freeze window and no admin overrode it.
    #[error("{environment} is frozen: {window}. Deploys are refused until the window ends; an admin may override it with a reason.")]
    Frozen { environment: String, window: String },
    /// The idempotency key names another deploy.
    #[error("the idempotency key \"{key}\" was already used for a different deploy ({deploy}); use a new key for a new deploy")]
    KeyReused { key: String, deploy: Uuid },
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
    Database(#[from] sqlx::Error),
}

impl DeployError {
    /// Input that is refused: which field, and why.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        FieldProblem::new(field, message).into()
    }
}

fn not_found(what: &str) -> DeployError {
    DeployError::NotFound(what.into())
}

/// The subject kind of deploys in approvals and the audit log.
pub const DEPLOY: &str = "deploy";
/// The approval action of a deploy that needs one.
pub const DEPLOY_ACTION: &str = "deploy";
/// How long an approval request for a deploy stays open.
const APPROVAL_VALID_HOURS: i64 = 24;

/// What a kick-off answered: the deploy, and whether this call created it (false: the same
/// idempotency key and parameters returned the first one).
pub struct Kicked {
    pub deploy: DeployView,
    pub created: bool,
}

/// A deploy as a worker needs it to run.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub previous_version: Option<String>,
    pub reason: String,
    pub requester: String,
    pub attempt: i32,
}

fn fingerprint(d: &NewDeploy, rollback_of: Option<Uuid>) -> Vec<u8> {
    let mut h = Sha256::new();
    for part in [
        d.service.as_str(),
        d.environment.as_str(),
        d.version.as_str(),
        d.reason.as_str(),
        d.freeze_override.as_deref().unwrap_or(""),
        &rollback_of.map(|r| r.to_string()).unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().to_vec()
}

fn may_deploy(p: &Principal, t: &Target) -> bool {
    let owners: Vec<TeamId> = std::iter::once(t.owner_team_id).chain(t.co_owners.iter().copied()).map(TeamId).collect();
    p.require_deploy(&owners).is_ok()
}


fn to_view(r: DeployRow, transitions: Vec<TransitionView>) -> DeployView {
    DeployView {
        id: DeployId(r.id),
        service: r.service,
        service_title: r.service_title,
        environment: r.environment,
        version: r.version,
        previous_version: r.previous_version,
        rollback_of: r.rollback_of.map(DeployId),
        reason: r.reason,
        requester: r.requester,
        requester_id: r.requester_id,
        state: r.state,
        approval_id: r.approval_id.map(ApprovalId),
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

fn to_transition(t: repo::TransitionRow) -> TransitionView {
    TransitionView {
        from: t.from_state,
        to: t.to_state,
        actor: t.actor_name,
        note: t.note,
        at: t.at,
    }
}

fn to_line(l: repo::LogRow) -> LogLine {
    LogLine { id: l.id, at: l.at, stream: l.stream, line: l.line }
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<DeployView, DeployError> {
    let row = repo::get(&mut *conn, id).await?.ok_or_else(|| not_found("That deploy"))?;
    let transitions = repo::transitions(&mut *conn, id, 0).await?.into_iter().map(to_transition).collect();
    Ok(to_view(row, transitions))
}

fn actor_of<'a>(actor: &Actor<'a>) -> (Option<Uuid>, String) {
    match actor {
        Actor::Person(p) => (Some(p.user_id.0), p.username.clone()),
        Actor::System => (None, "switchyard".to_owned()),
    }
}

/// Moves a deploy from `from` to `to` inside the caller's transaction: the row, its transition,
/// the audit row and the notifications.
async fn transition(
    conn: &mut PgConnection,
    id: Uuid,
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

// ------------------------------------------------------------------ freeze windows

fn schedule_of(raw: &str) -> Result<cron::Schedule, String> {
    cron::Schedule::from_str(raw).map_err(|e| {
        format!("\"{raw}\" is not a schedule ({e}): use six fields, sec min hour day month weekday, e.g. 0 0 18 * * Fri")
    })
}

/// The occurrences of a window that overlap `[from, until)`, at most `max`.
fn occurrences(f: &FreezeRow, from: DateTime<Utc>, until: DateTime<Utc>, max: usize) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    match (&f.schedule, f.duration_mins, f.ends_at) {
        (None, _, Some(end)) => {
            if end > from && f.starts_at < until {
                vec![(f.starts_at, end)]
            } else {
                Vec::new()
            }
        }
        (Some(raw), Some(mins), _) => {
            let Ok(schedule) = schedule_of(raw) else { return Vec::new() };
            let length = Duration::minutes(i64::from(mins));
            // an occurrence that began up to `length` ago still covers `from`
            let begin = std::cmp::max(from - length, f.starts_at - Duration::seconds(1));
            schedule
                .after(&begin)
                .take_while(|start| *start < until)
                .filter(|start| *start + length > from && *start >= f.starts_at)
                .take(max)
                .map(|start| (start, start + length))
                .collect()
        }
        _ => Vec::new(),
    }
}

fn freeze_view(f: FreezeRow, now: DateTime<Utc>, until: DateTime<Utc>) -> FreezeView {
    let occ = occurrences(&f, now, until, 60);
    let active_now = occ.first().is_some_and(|(s, e)| *s <= now && now < *e);
    FreezeView {
        id: FreezeId(f.id),
        environment: f.environment,
        reason: f.reason,
        starts_at: f.starts_at,
        ends_at: f.ends_at,
        schedule: f.schedule,
        duration_mins: f.duration_mins,
        created_by: f.created_by,
        occurrences: occ,
        active_now,
    }
}

/// The windows among `rows` that freeze their environment at `at`.
fn active_at(rows: Vec<FreezeRow>, at: DateTime<Utc>) -> impl Iterator<Item = FreezeView> {
    rows.into_iter().map(move |f| freeze_view(f, at, at + Duration::seconds(1))).filter(|v| v.active_now)
}

/// The window among `rows` that freezes its environment at `at`, if any.
fn active_among(rows: Vec<FreezeRow>, at: DateTime<Utc>) -> Option<FreezeView> {
    active_at(rows, at).next()
}

/// The window that freezes `environment` at `at`, if any.
async fn active_freeze(conn: &mut PgConnection, environment: &str, at: DateTime<Utc>) -> Result<Option<FreezeView>, DeployError> {
    Ok(active_among(repo::freezes(&mut *conn, Some(environment), at).await?, at))
}

/// The environments frozen now, for the worker: a queued deploy there waits for the window to
/// end unless an admin overrode it.
pub async fn frozen_now(pool: &PgPool) -> Result<Vec<String>, DeployError> {
    let now = Utc::now();
    let mut frozen: Vec<String> = active_at(repo::freezes(pool, None, now).await?, now).map(|v| v.environment).collect();
    frozen.sort();
    frozen.dedup();
    Ok(frozen)
}

/// Every environment as (name, title), in order.
pub async fn environments(pool: &PgPool, principal: &Principal) -> Result<Vec<(String, String)>, DeployError> {
    principal.require_read()?;
    Ok(repo::environments(pool).await?.into_iter().map(|e| (e.name, e.title)).collect())
}

/// Every window with its occurrences over the next `days` days, for the calendar.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn calendar(pool: &PgPool, principal: &Principal, days: i64) -> Result<Vec<FreezeView>, DeployError> {
    principal.require_read()?;
    let now = Utc::now();
    let rows = repo::freezes(pool, None, now).await?;
    Ok(rows.into_iter().map(|f| freeze_view(f, now, now + Duration::days(days.clamp(1, 366)))).collect())
}

/// Admins add a freeze window (audited).
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn create_freeze(pool: &PgPool, principal: &Principal, form: &FreezeForm, meta: &RequestMeta) -> Result<FreezeId, DeployError> {
    principal.require_admin()?;
    let (environment, reason, when) = form.parse().map_err(DeployError::InvalidFields)?;
    let envs = repo::environments(pool).await?;
    if !envs.iter().any(|e| e.name == environment) {
        return Err(DeployError::invalid("environment", format!("unknown environment \"{environment}\"")));
    }
    let (starts_at, ends_at, schedule, duration_mins) = match &when {
        FreezeWhen::Once { starts_at, ends_at } => (*starts_at, Some(*ends_at), None, None),
        FreezeWhen::Recurring { starts_at, schedule, duration_mins } => {
            schedule_of(schedule).map_err(|m| DeployError::invalid("schedule", m))?;
            (*starts_at, None, Some(schedule.as_str()), Some(*duration_mins))
        }
    };
    let mut tx = pool.begin().await?;
    let id = repo::insert_freeze(
        &mut *tx,
        &repo::NewFreeze { environment: &environment, reason: &reason, starts_at, ends_at, schedule, duration_mins, created_by: principal.user_id.0 },
    )
    .await?;
    let change = Change {
        action: "freeze.created",
        subject_kind: SubjectKind::FreezeWindow,
        subject_id: id.to_string(),
        before: None,
        after: Some(json!({
            "environment": environment, "reason": reason, "starts_at": starts_at, "ends_at": ends_at,
            "schedule": schedule, "duration_mins": duration_mins,
        })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(FreezeId(id))
}

/// Admins remove a freeze window (audited).
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn delete_freeze(pool: &PgPool, principal: &Principal, id: FreezeId, meta: &RequestMeta) -> Result<(), DeployError> {
    principal.require_admin()?;
    let mut tx = pool.begin().await?;
    let (environment, reason) = repo::delete_freeze(&mut *tx, id.0).await?.ok_or_else(|| not_found("That freeze window"))?;
    let change = Change {
        action: "freeze.deleted",
        subject_kind: SubjectKind::FreezeWindow,
        subject_id: id.0.to_string(),
        before: Some(json!({ "environment": environment, "reason": reason })),
        after: None,
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------ kick-off

/// Kicks off a deploy: checks the caller may deploy the service, the environment's freeze
/// windows and the idempotency key, then stores it with its first transitions and audit row and
/// either opens its approval request or queues it — one transaction.
#[tracing::instrument(skip(pool, queue, principal, form), fields(user = %principal.username), err)]
pub async fn request_deploy(pool: &PgPool, queue: &Queue, principal: &Principal, form: &DeployForm, meta: &RequestMeta) -> Result<Kicked, DeployError> {
    principal.require_read()?;
    let new = form.parse().map_err(DeployError::InvalidFields)?;
    kick_off(pool, queue, principal, new, None, meta).await
}

async fn replay(conn: &mut PgConnection, id: Uuid, stored: &[u8], wanted: &[u8], key: &str) -> Result<Kicked, DeployError> {
    if stored != wanted {
        return Err(DeployError::KeyReused { key: key.to_owned(), deploy: id });
    }
    Ok(Kicked { deploy: load(conn, id).await?, created: false })
}

/// What a kick-off's checks found: the service, its environment and, inside a freeze window,
/// the admin's override reason with the window.
struct Checked {
    target: Target,
    env: repo::Environment,
    freeze_override: Option<(String, FreezeView)>,
    /// What runs in the environment now: the new deploy's previous version.
    running_version: Option<String>,
}

/// The service exists, is active and the caller may deploy it; the environment exists and is
/// not frozen (or an admin overrides the window with a reason).
async fn checks(pool: &PgPool, queue: &Queue, principal: &Principal, new: &NewDeploy) -> Result<Checked, DeployError> {
    let repo::KickOffFacts { target, environment: env, running_version } = queue.facts(&new.service, &new.environment).await?;
    // read after the facts, so a window the read left out (ended before it) has ended by now too
    let now = Utc::now();
    let target = target.ok_or_else(|| DeployError::invalid("service", format!("no service named \"{}\" is in the catalog", new.service)))?;
    if target.status != "active" {
        return Err(DeployError::invalid("service", format!("{} is waiting for its registration to be approved", target.name)));
    }
    if !may_deploy(principal, &target) {
        return Err(Denied::Forbidden.into());
    }
    let Some((env, windows)) = env else {
        let names: Vec<String> = repo::environments(pool).await?.into_iter().map(|e| e.name).collect();
        return Err(DeployError::invalid("environment", format!("unknown environment \"{}\": use {}", new.environment, names.join(", "))));
    };
    let freeze_override = match active_among(windows, now) {
        Some(window) => match &new.freeze_override {
            Some(_) if !principal.is_admin() => {
                return Err(DeployError::invalid("freeze_override", "only an admin may deploy during a freeze window"));
            }
            Some(text) => Some((text.clone(), window)),
            None => {
                return Err(DeployError::Frozen { environment: env.name, window: window.describe() });
            }
        },
        None => None,
    };
    Ok(Checked { target, env, freeze_override, running_version })
}

/// The happy path reads what the checks need in one query, then writes: a deploy that is simply
/// queued is one statement (the deploy, its transitions and its audit row), shared with the other
/// kick-offs queued at the same moment (group commit, `deploys::queue`); one that waits for
/// approval, or overrides a freeze window, is one transaction that adds the approval request or
/// the override's audit row. The idempotency key is not looked up first: the insert claims it (the
/// unique key of requester and key), and a taken key, or a check that refuses, turns the call
/// into a replay of the deploy the key already names, if there is one.
async fn kick_off(
    pool: &PgPool,
    queue: &Queue,
    principal: &Principal,
    new: NewDeploy,
    rollback_of: Option<Uuid>,
    meta: &RequestMeta,
) -> Result<Kicked, DeployError> {
    let wanted = fingerprint(&new, rollback_of);
    let checked = match checks(pool, queue, principal, &new).await {
        Ok(checked) => checked,
        Err(refused) => {
            let mut conn = pool.acquire().await?;
            return match repo::by_key(&mut *conn, principal.user_id.0, new.key.as_str()).await? {
                Some((id, stored)) => replay(&mut conn, id, &stored, &wanted, new.key.as_str()).await,
                None => Err(refused),
            };
        }
    };
    let Checked { target, env, freeze_override, running_version: previous } = checked;
    let id = Uuid::now_v7();
    let first_state = if env.requires_approval { DeployState::AwaitingApproval } else { DeployState::Queued };
    let note = if env.requires_approval { "waiting for approval" } else { "queued" };
    let ask = env.requires_approval.then(|| {
        let deploy = DeployAsk {
            deploy_id: DeployId(id),
            service: target.name.clone(),
            environment: env.name.clone(),
            version: new.version.as_str().to_owned(),
            previous_version: previous.clone(),
            compare_url: match (&target.repository_url, &previous) {
                (Some(repo), Some(prev)) => compare_url(repo, prev, new.version.as_str(), &code_hosts()),
                _ => None,
            },
            rollback: rollback_of.is_some(),
        };
        Ask {
            subject_kind: DEPLOY,
            subject_id: id.to_string(),
            action: DEPLOY_ACTION,
            summary: format!(
                "{} {} {} to {}",
                if rollback_of.is_some() { "Roll back" } else { "Deploy" },
                target.title,
                new.version.as_str(),
                env.name
            ),
            payload: serde_json::to_value(&deploy).unwrap_or_default(),
            required_approvals: approvals_needed([target.tier]),
            approvers: Approvers::TeamLeadsOrAdmins,
            owning_team: Some(TeamId(target.owner_team_id)),
            reason: new.reason.clone(),
            valid_for: Duration::hours(APPROVAL_VALID_HOURS),
        }
    });
    let row = repo::NewDeployRow {
        id,
        service_id: target.id,
        environment: env.name.clone(),
        version: new.version.as_str().to_owned(),
        rollback_of,
        reason: new.reason.clone(),
        requester_id: principal.user_id.0,
        idempotency_key: new.key.as_str().to_owned(),
        fingerprint: wanted.clone(),
        state: first_state.as_str(),
        freeze_override: freeze_override.as_ref().map(|(t, _)| t.clone()),
        previous_version: previous.clone(),
        actor_name: principal.username.clone(),
        note,
    };
    let requested = |approval: Option<Uuid>| Change {
        action: "deploy.requested",
        subject_kind: SubjectKind::Deploy,
        subject_id: id.to_string(),
        before: None,
        after: Some(json!({
            "service": target.name, "environment": env.name, "version": new.version.as_str(),
            "previous_version": previous, "reason": new.reason, "state": first_state.as_str(),
            "approval_id": approval, "rollback_of": rollback_of,
        })),
    };
    // Each transaction below claims the key and locks its rows before it takes an audit lock
    // (see repo::insert): a retry with a taken key waits for nothing else, and no two kick-offs,
    // or a kick-off and a catalog edit, wait on each other in a circle.
    let stored = if ask.is_none() && freeze_override.is_none() {
        // one statement with the kick-offs queued at the same moment (see deploys::queue)
        let entry = audit::entry(Actor::Person(principal), requested(None), meta);
        queue.write(row, entry).await?.map(|at| (at, None))
    } else {
        let mut tx = pool.begin().await?;
        match repo::insert(&mut tx, &row, None).await? {
            Some(at) => {
                let mut approval = None;
                if let Some(ask) = ask {
                    let approval_id = approvals::open(&mut tx, principal, ask, meta).await?.0;
                    repo::set_approval(&mut tx, id, approval_id).await?;
                    approval = Some(approval_id);
                }
                if let Some((text, window)) = &freeze_override {
                    let change = Change {
                        action: "deploy.freeze_overridden",
                        subject_kind: SubjectKind::Deploy,
                        subject_id: id.to_string(),
                        before: None,
                        after: Some(json!({ "freeze_window": window.id.0, "window_reason": window.reason, "override_reason": text })),
                    };
                    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
                }
                audit::record(&mut tx, Actor::Person(principal), requested(approval), meta).await?;
                tx.commit().await?;
                Some((at, approval))
            }
            None => {
                tx.rollback().await?;
                None
            }
        }
    };
    let Some((created_at, approval)) = stored else {
        // the key is taken: a retry, a concurrent call with the same key, or this very call when
        // its group's commit went through but its answer was lost and it was written again
        let mut conn = pool.acquire().await?;
        let (other, stored) = repo::by_key(&mut *conn, principal.user_id.0, new.key.as_str())
            .await?
            .ok_or_else(|| DeployError::Database(sqlx::Error::RowNotFound))?; // the key was just taken: it cannot vanish
        if other == id {
            return Ok(Kicked { deploy: load(&mut conn, id).await?, created: true });
        }
        return replay(&mut conn, other, &stored, &wanted, new.key.as_str()).await;
    };
    if first_state == DeployState::Queued {
        queue.wake();
    }
    // the answer is what was just written; no second read
    let transition = |from: Option<DeployState>, to: DeployState, note: &str| TransitionView {
        from,
        to,
        actor: principal.username.clone(),
        note: note.to_owned(),
        at: created_at,
    };
    let deploy = DeployView {
        id: DeployId(id),
        service: target.name,
        service_title: target.title,
        environment: env.name.clone(),
        version: new.version.as_str().to_owned(),
        previous_version: previous,
        rollback_of: rollback_of.map(DeployId),
        transitions: vec![
            transition(None, DeployState::Requested, &new.reason),
            transition(Some(DeployState::Requested), first_state, note),
        ],
        reason: new.reason,
        requester: principal.username.clone(),
        requester_id: principal.user_id.0,
        state: first_state,
        approval_id: approval.map(ApprovalId),
        freeze_override: freeze_override.map(|(t, _)| t),
        executor: None,
        attempts: 0,
        progress: None,
        outcome: None,
        created_at,
        updated_at: created_at,
        started_at: None,
        finished_at: None,
    };
    Ok(Kicked { deploy, created: true })
}

/// A new deploy of the version that succeeded before `id`, which must be what runs in its
/// environment now. The environment's policy applies as to any deploy.
#[tracing::instrument(skip(pool, queue, principal), fields(user = %principal.username), err)]
pub async fn rollback(pool: &PgPool, queue: &Queue, principal: &Principal, id: DeployId, key: &str, meta: &RequestMeta) -> Result<Kicked, DeployError> {
    principal.require_read()?;
    let current = repo::get(pool, id.0).await?.ok_or_else(|| not_found("That deploy"))?;
    let target = repo::target(pool, &current.service).await?.ok_or_else(|| not_found("That deploy's service"))?;
    if !may_deploy(principal, &target) {
        return Err(Denied::Forbidden.into());
    }
    let to = repo::previous_success(pool, id.0)
        .await?
        .ok_or_else(|| DeployError::invalid("deploy", "no earlier version succeeded in this environment: there is nothing to roll back to"))?;
    let form = DeployForm {
        service: current.service.clone(),
        environment: current.environment.clone(),
        version: to.clone(),
        reason: format!("Roll back {} in {} from {} to {}", current.service, current.environment, current.version, to),
        idempotency_key: key.to_owned(),
        freeze_override: String::new(),
    };
    let new = form.parse().map_err(DeployError::InvalidFields)?;
    let running_now = repo::current(pool, current.service_id, &current.environment).await?;
    if running_now.as_ref().map(|(_, d)| *d) != Some(id.0) {
        // as in `kick_off`, a refused check turns a retry into a replay: once the rollback a key
        // made runs, `id` no longer does, and the key answers that rollback
        return match repo::by_key(pool, principal.user_id.0, new.key.as_str()).await? {
            Some((made, stored)) => {
                let mut conn = pool.acquire().await?;
                replay(&mut conn, made, &stored, &fingerprint(&new, Some(id.0)), new.key.as_str()).await
            }
            None => Err(DeployError::invalid("deploy", "only the deploy that runs in its environment now can be rolled back")),
        };
    }
    kick_off(pool, queue, principal, new, Some(id.0), meta).await
}

/// Cancels a deploy that has not ended: its requester, a member of an owning team, or an admin.
/// A pending approval request is cancelled with it; a running command is stopped by its worker.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn cancel(pool: &PgPool, principal: &Principal, id: DeployId, meta: &RequestMeta) -> Result<DeployView, DeployError> {
    principal.require_read()?;
    let row = repo::get(pool, id.0).await?.ok_or_else(|| not_found("That deploy"))?;
    let target = repo::target(pool, &row.service).await?.ok_or_else(|| not_found("That deploy's service"))?;
    // the requester may cancel their own deploy (a token needs the deploy scope)
    let own = row.requester_id == principal.user_id.0 && principal.require_scope(crate::iam::principal::Scope::Deploy).is_ok();
    if !own && !may_deploy(principal, &target) {
        return Err(Denied::Forbidden.into());
    }
    let mut tx = pool.begin().await?;
    let state = repo::lock(&mut tx, id.0).await?.ok_or_else(|| not_found("That deploy"))?;
    if !state.is_cancellable() {
        return Err(DeployError::invalid("deploy", format!("this deploy is {} already and cannot be cancelled", state.label())));
    }
    let note = format!("cancelled by {}", principal.username);
    transition(&mut tx, id.0, state, DeployState::Cancelled, Actor::Person(principal), &note, meta).await?;
    if let (DeployState::AwaitingApproval, Some(approval)) = (state, row.approval_id) {
        approvals::cancel(&mut tx, ApprovalId(approval), Actor::Person(principal), "the deploy was cancelled", meta).await?;
    }
    let view = load(&mut tx, id.0).await?;
    tx.commit().await?;
    Ok(view)
}

/// The approval engine's hook: the approval that completes the policy queues the deploy.
pub async fn perform(conn: &mut PgConnection, subject_id: &str, approver: &Principal, meta: &RequestMeta) -> Result<(), DeployError> {
    let id: Uuid = subject_id.parse().map_err(|_| not_found("That deploy"))?;
    let state = repo::lock(&mut *conn, id).await?.ok_or_else(|| not_found("That deploy"))?;
    if state != DeployState::AwaitingApproval {
        return Err(DeployError::invalid("deploy", format!("the deploy is {}, not waiting for approval", state.label())));
    }
    let note = format!("approved; queued by {}", approver.username);
    transition(conn, id, DeployState::AwaitingApproval, DeployState::Queued, Actor::Person(approver), &note, meta).await
}

/// The approval engine's hook when a request ends without approval: the deploy is rejected or
/// expired with it.
pub async fn abandon(conn: &mut PgConnection, subject_id: &str, outcome: ApprovalState, meta: &RequestMeta) -> Result<(), DeployError> {
    let id: Uuid = subject_id.parse().map_err(|_| not_found("That deploy"))?;
    let Some(state) = repo::lock(&mut *conn, id).await? else { return Ok(()) };
    if state != DeployState::AwaitingApproval {
        return Ok(());
    }
    let (to, note) = match outcome {
        ApprovalState::Expired => (DeployState::Expired, "the approval request expired"),
        _ => (DeployState::Rejected, "the approval request was rejected"),
    };
    transition(conn, id, DeployState::AwaitingApproval, to, Actor::System, note, meta).await
}

// ------------------------------------------------------------------ reading

/// One deploy with its transitions.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn get(pool: &PgPool, principal: &Principal, id: DeployId) -> Result<DeployView, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    load(&mut conn, id.0).await
}

/// At most this many log lines on a page; the live stream sends the rest.
pub const PAGE_LOG_LINES: i64 = 5000;

/// A deploy's page: the deploy, its log, and what the viewer may do with it.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn page(pool: &PgPool, principal: &Principal, id: DeployId) -> Result<DeployPage, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let deploy = load(&mut conn, id.0).await?;
    let last_transition_id = repo::transitions(&mut *conn, id.0, 0).await?.last().map(|t| t.id).unwrap_or(0);
    let log = repo::log(&mut *conn, id.0, 0, PAGE_LOG_LINES).await?.into_iter().map(to_line).collect();
    let target = repo::target(&mut *conn, &deploy.service).await?.ok_or_else(|| not_found("That deploy's service"))?;
    let may = may_deploy(principal, &target);
    // by id: user names are not unique
    let own = deploy.requester_id == principal.user_id.0 && principal.require_scope(crate::iam::principal::Scope::Deploy).is_ok();
    let current = repo::current(&mut *conn, target.id, &deploy.environment).await?;
    let rollback_to = if current.map(|(_, d)| d) == Some(id.0) { repo::previous_success(&mut *conn, id.0).await? } else { None };
    let held_by_freeze = match (deploy.state, &deploy.freeze_override) {
        (DeployState::Queued, None) => active_freeze(&mut conn, &deploy.environment, Utc::now()).await?.map(|w| w.describe()),
        _ => None,
    };
    let compare_url = match (&target.repository_url, &deploy.previous_version) {
        (Some(repo), Some(prev)) => compare_url(repo, prev, &deploy.version, &code_hosts()),
        _ => None,
    };
    Ok(DeployPage {
        compare_url,
        held_by_freeze,
        can_cancel: deploy.state.is_cancellable() && (may || own),
        rollback_to,
        may_deploy: may,
        repository_url: target.repository_url,
        deploy,
        log,
        last_transition_id,
    })
}

/// Deploys matching the filter, newest first (at most 200).
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(pool: &PgPool, principal: &Principal, filter: &DeployFilter) -> Result<Vec<DeployView>, DeployError> {
    principal.require_read()?;
    let state = filter.state().map_err(|p| DeployError::invalid(&p.field, p.message))?;
    let since = DeployFilter::day("since", &filter.since, false).map_err(|p| DeployError::invalid(&p.field, p.message))?;
    let until = DeployFilter::day("until", &filter.until, true).map_err(|p| DeployError::invalid(&p.field, p.message))?;
    let mut conn = pool.acquire().await?;
    let service_id = match filter.service.trim() {
        "" => None,
        name => match repo::target(&mut *conn, name).await? {
            Some(t) => Some(t.id),
            None => return Ok(Vec::new()),
        },
    };
    let non_empty = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
    let (environment, requester) = (non_empty(&filter.environment), non_empty(&filter.requester));
    let f = repo::ListFilter {
        id: None,
        service_id,
        environment: environment.as_deref(),
        state: state.map(DeployState::as_str),
        requester: requester.as_deref(),
        since,
        until,
        limit: 200,
    };
    Ok(repo::list(&mut *conn, &f).await?.into_iter().map(|r| to_view(r, Vec::new())).collect())
}

/// What would apply to a deploy of `service` in each environment, for the deploy form.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn plan(pool: &PgPool, principal: &Principal, service: &str) -> Result<DeployPlan, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let target = repo::target(&mut *conn, service)
        .await?
        .ok_or_else(|| not_found(&format!("A service named \"{service}\"")))?;
    let now = Utc::now();
    let mut environments = Vec::new();
    for env in repo::environments(&mut *conn).await? {
        let freeze = active_freeze(&mut conn, &env.name, now).await?;
        environments.push(EnvironmentPolicy {
            required_approvals: if env.requires_approval { approvals_needed([target.tier]) } else { 0 },
            approvers: if env.requires_approval { format!("a lead of {}, or an admin (not you)", target.owner_name) } else { "none".into() },
            current_version: repo::current(&mut *conn, target.id, &env.name).await?.map(|(v, _)| v),
            active_freeze: freeze.map(|f| f.describe()),
            in_flight: repo::in_flight(&mut *conn, target.id, &env.name).await?.map(DeployId),
            requires_approval: env.requires_approval,
            environment: env.name,
            title: env.title,
        });
    }
    Ok(DeployPlan {
        may_deploy: may_deploy(principal, &target) && target.status == "active",
        is_admin: principal.is_admin(),
        service: target.name,
        service_title: target.title,
        tier: target.tier.map(|t| i16::from(t.get())),
        owner: target.owner_name,
        environments,
    })
}

/// A service's deploys per environment, with what runs there now and what a rollback would deploy.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn service_history(pool: &PgPool, principal: &Principal, service: &str) -> Result<ServiceDeploys, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let target = repo::target(&mut *conn, service)
        .await?
        .ok_or_else(|| not_found(&format!("A service named \"{service}\"")))?;
    let mut environments = Vec::new();
    for env in repo::environments(&mut *conn).await? {
        let f = repo::ListFilter {
            id: None,
            service_id: Some(target.id),
            environment: Some(&env.name),
            state: None,
            requester: None,
            since: None,
            until: None,
            limit: 20,
        };
        let history: Vec<DeployView> = repo::list(&mut *conn, &f).await?.into_iter().map(|r| to_view(r, Vec::new())).collect();
        let current_id = repo::current(&mut *conn, target.id, &env.name).await?.map(|(_, id)| id);
        let current = match current_id {
            Some(id) => Some(load(&mut conn, id).await?),
            None => None,
        };
        let rollback_to = match current_id {
            Some(id) => repo::previous_success(&mut *conn, id).await?,
            None => None,
        };
        environments.push(EnvironmentHistory { environment: env.name, title: env.title, current, rollback_to, history });
    }
    Ok(ServiceDeploys { may_deploy: may_deploy(principal, &target), service: target.name, service_title: target.title, environments })
}

/// Transitions and log lines after the given ids, and the deploy's state now.
pub async fn updates(pool: &PgPool, principal: &Principal, id: DeployId, after_transition: i64, after_log: i64) -> Result<DeployUpdate, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let row = repo::get(&mut *conn, id.0).await?.ok_or_else(|| not_found("That deploy"))?;
    let rows = repo::transitions(&mut *conn, id.0, after_transition).await?;
    let last_transition = rows.last().map(|t| t.id).unwrap_or(after_transition);
    let log = repo::log(&mut *conn, id.0, after_log, 1000).await?.into_iter().map(to_line).collect();
    Ok(DeployUpdate {
        state: row.state,
        executor: row.executor,
        progress: row.progress,
        outcome: row.outcome,
        transitions: rows.into_iter().map(to_transition).collect(),
        last_transition,
        log,
    })
}

// ------------------------------------------------------------------ the worker's side

/// Takes the next job for `worker`, leased for `lease_secs`, and marks it running (audited).
/// Deploys to a `frozen` environment wait, unless an admin overrode the freeze for them.
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
    }))
}

/// Records that the executor is starting; false when the job is no longer this worker's.
pub async fn dispatched(pool: &PgPool, id: Uuid, worker: Uuid, executor: &str, timeout_secs: f64) -> Result<bool, DeployError> {
    Ok(repo::mark_dispatched(pool, id, worker, executor, timeout_secs).await?)
}

/// Hands a running deploy to its CD system: the worker lets go; the deadline still applies.
pub async fn hand_over(pool: &PgPool, id: Uuid, worker: Uuid) -> Result<bool, DeployError> {
    Ok(repo::release(pool, id, worker).await?)
}

/// Extends the worker's lease; false when the job was cancelled or taken from it.
pub async fn heartbeat(pool: &PgPool, id: Uuid, worker: Uuid, lease_secs: f64) -> Result<bool, DeployError> {
    Ok(repo::heartbeat(pool, id, worker, lease_secs).await?)
}

/// Appends log lines (and wakes live views).
pub async fn append_log(pool: &PgPool, id: Uuid, stream: &str, lines: &[String]) -> Result<(), DeployError> {
    if lines.is_empty() {
        return Ok(());
    }
    Ok(repo::append_log(pool, id, stream, lines).await?)
}

pub async fn set_progress(pool: &PgPool, id: Uuid, percent: i16) -> Result<(), DeployError> {
    repo::set_progress(pool, id, percent.clamp(0, 100)).await?;
    let mut conn = pool.acquire().await?;
    repo::notify(&mut *conn, EVENTS_CHANNEL, &id.to_string()).await?;
    Ok(())
}

/// Ends a running deploy as succeeded or failed, once: false (and nothing written) when it is
/// not running any more, or, with `worker`, when that worker no longer holds it.
pub async fn finish(pool: &PgPool, id: Uuid, worker: Option<Uuid>, to: DeployState, note: &str, meta: &RequestMeta) -> Result<bool, DeployError> {
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

/// What a CD system reports about a deploy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum CdEvent {
    /// Lines for the deploy's log.
    Log { lines: Vec<String> },
    /// How far the rollout is (0–100), with an optional line for the log.
    Progress { percent: i16, #[serde(default)] message: Option<String> },
    Succeeded { #[serde(default)] message: Option<String> },
    Failed { message: String },
}

/// One event as a CD system sends it: for which attempt of the deploy, its place in the
/// attempt's sequence (above the last one accepted), and what happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct CdReport {
    /// The `attempt` of the request the CD system received.
    pub attempt: i32,
    /// 1, 2, 3 … for each event of the deploy: one not above the last accepted is a replay.
    pub seq: i64,
    #[serde(flatten)]
    pub event: CdEvent,
}

/// Applies a CD system's report (its signature was checked by the caller): only for a deploy a
/// CD system runs (the webhook executor), at its current attempt, and only once (by `seq`). A
/// final report for a deploy that already ended the same way is accepted again and changes
/// nothing.
#[tracing::instrument(skip(pool, report), err)]
pub async fn cd_event(pool: &PgPool, id: DeployId, report: CdReport, meta: &RequestMeta) -> Result<DeployState, DeployError> {
    let row = repo::get(pool, id.0).await?.ok_or_else(|| not_found("That deploy"))?;
    let state = row.state;
    if row.executor.as_deref() != Some("webhook") {
        return Err(DeployError::NotWebhook);
    }
    if report.attempt != row.attempts {
        return Err(DeployError::WrongAttempt { event: report.attempt, current: row.attempts });
    }
    let event = report.event;
    match event {
        CdEvent::Succeeded { .. } if state == DeployState::Succeeded => return Ok(state),
        CdEvent::Failed { .. } if state == DeployState::Failed => return Ok(state),
        _ if state != DeployState::Running => return Err(DeployError::NotRunning { state, what: "the event" }),
        _ => {}
    }
    if !repo::take_event_seq(pool, id.0, report.seq).await? {
        return Err(DeployError::Replayed(report.seq));
    }
    match event {
        CdEvent::Log { lines } => {
            let lines: Vec<String> = lines.into_iter().take(1000).collect();
            append_log(pool, id.0, "cd", &lines).await?;
            Ok(state)
        }
        CdEvent::Progress { percent, message } => {
            if let Some(m) = message {
                append_log(pool, id.0, "cd", &[m]).await?;
            }
            set_progress(pool, id.0, percent).await?;
            Ok(state)
        }
        CdEvent::Succeeded { message } => {
            let note = message.unwrap_or_else(|| "the CD system reported success".into());
            if !finish(pool, id.0, None, DeployState::Succeeded, &note, meta).await? {
                return Err(DeployError::NotRunning { state, what: "the result" });
            }
            Ok(DeployState::Succeeded)
        }
        CdEvent::Failed { message } => {
            if !finish(pool, id.0, None, DeployState::Failed, &format!("the CD system reported failure: {message}"), meta).await? {
                return Err(DeployError::NotRunning { state, what: "the result" });
            }
            Ok(DeployState::Failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn window(schedule: Option<&str>, mins: Option<i32>, ends: Option<DateTime<Utc>>) -> FreezeRow {
        FreezeRow {
            id: Uuid::nil(),
            environment: "production".into(),
            reason: "r".into(),
            starts_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default(),
            ends_at: ends,
            schedule: schedule.map(str::to_owned),
            duration_mins: mins,
            created_by: "alice".into(),
        }
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn a_weekly_window_covers_its_hours_and_no_others() {
        // Fridays 18:00 for 62 hours: through Monday 08:00. 2026-12-04 is a Friday.
        let w = window(Some("0 0 18 * * Fri"), Some(62 * 60), None);
        let covers = |t: DateTime<Utc>| !occurrences(&w, t, t + Duration::seconds(1), 1).is_empty();
        assert!(covers(at(5, 12)), "Saturday noon is frozen");
        assert!(covers(at(7, 7)), "Monday 07:00 is still frozen");
        assert!(!covers(at(7, 9)), "Monday 09:00 is open");
        assert!(!covers(at(4, 17)), "Friday 17:00 is open");
    }

    #[test]
    fn a_one_off_window_ends_when_it_says() {
        let w = window(None, None, Some(at(2, 0)));
        assert_eq!(occurrences(&w, at(1, 12), at(1, 13), 5).len(), 1);
        assert!(occurrences(&w, at(2, 0), at(2, 1), 5).is_empty());
    }
}
