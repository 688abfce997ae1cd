//! Kicking off a deploy: check → build → write → answer.
//!
//! The checks read what they need in one query. A deploy that is simply queued is then one
//! statement (the deploy, its transitions and its audit row), shared with the other kick-offs
//! queued at the same moment (group commit, `deploys::queue`); one that waits for approval, or
//! overrides a freeze window, is one transaction that adds the approval request or the
//! override's audit row. The idempotency key is not looked up first: the insert claims it (the
//! unique key of requester and key), and a taken key, or a check that refuses, turns the call
//! into a replay of the deploy the key already names, if there is one.
use crate::error::Refusal;
use super::freeze::active_among;
use super::{code_hosts, load, may_deploy, to_view, DeployError, Kicked, APPROVAL_VALID_HOURS, DEPLOY, DEPLOY_ACTION};
use crate::approvals::service::{self as approvals, Ask};
use crate::approvals::types::{ApprovalId, Approvers};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::catalog::approval::approvals_needed;
use crate::context::RequestMeta;
use crate::deploys::queue::Queue;
use crate::deploys::repo::{self, DeployRow, Environment, KickOffFacts, NewDeployRow, Target};
use crate::deploys::types::{compare_url, DeployAsk, DeployForm, DeployId, DeployState, FreezeView, NewDeploy, TransitionView};
use crate::iam::principal::Principal;
use crate::iam::types::TeamId;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// Kicks off a deploy from its form (or the API's body).
#[tracing::instrument(name = "deploys.service.request_deploy", skip(pool, queue, principal, form), fields(user = %principal.username), err)]
pub async fn request_deploy(pool: &PgPool, queue: &Queue, principal: &Principal, form: &DeployForm, meta: &RequestMeta) -> Result<Kicked, DeployError> {
    principal.require_read()?;
    let new = form.parse().map_err(Refusal::InvalidFields)?;
    kick_off(pool, queue, principal, new, None, meta).await
}

/// A kick-off (or a rollback, which is a kick-off of an earlier version).
#[tracing::instrument(level = "debug", name = "deploys.service.kick_off", skip_all)]
pub(super) async fn kick_off(
    pool: &PgPool,
    queue: &Queue,
    principal: &Principal,
    new: NewDeploy,
    rollback_of: Option<DeployId>,
    meta: &RequestMeta,
) -> Result<Kicked, DeployError> {
    let key = Key::of(principal, &new, rollback_of);
    // check: a refusal may be a retry whose first call changed what the checks see
    let checked = match checks(pool, principal, &new).await {
        Ok(checked) => checked,
        Err(refused) => return replay(pool, &key).await?.ok_or(refused),
    };
    // build
    let draft = Draft { id: DeployId(Uuid::now_v7()), new, rollback_of, checked, fingerprint: key.fingerprint.clone() };
    // write
    let written = match draft.ask() {
        None if draft.checked.freeze_override.is_none() && draft.checked.maintenance_override.is_none() && draft.checked.run_override.is_none() => {
            let entry = audit::entry(Actor::Person(principal), draft.requested(None), meta);
            queue.write(draft.row(principal), entry).await?.map(|at| (at, None))
        }
        ask => write_governed(pool, principal, &draft, ask, meta).await?,
    };
    // answer
    let Some((created_at, approval)) = written else {
        // the key is taken: a retry, a concurrent call with the same key, or this very call when
        // its group's commit went through but its answer was lost and it was written again
        let first = replay(pool, &key).await?.ok_or(DeployError::Database(sqlx::Error::RowNotFound))?;
        return Ok(Kicked { created: first.deploy.id == draft.id, ..first });
    };
    if draft.state() == DeployState::Queued {
        queue.wake();
    }
    Ok(Kicked { deploy: draft.into_view(principal, created_at, approval), created: true })
}

/// The requester's idempotency key and what it stands for (the parameters' fingerprint).
pub(super) struct Key {
    requester: Uuid,
    key: String,
    fingerprint: Vec<u8>,
}

impl Key {
    pub(super) fn of(principal: &Principal, new: &NewDeploy, rollback_of: Option<DeployId>) -> Self {
        let mut h = Sha256::new();
        for part in [
            new.service.as_str(),
            new.environment.as_str(),
            new.version.as_str(),
            new.reason.as_str(),
            new.freeze_override.as_deref().unwrap_or(""),
            &rollback_of.map(|r| r.to_string()).unwrap_or_default(),
        ] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        Key { requester: principal.user_id.0, key: new.key.as_str().to_owned(), fingerprint: h.finalize().to_vec() }
    }
}

/// The deploy the key already names, if any: the same deploy again, or a refusal when the key
/// was used for another.
#[tracing::instrument(level = "debug", name = "deploys.service.replay", skip_all)]
pub(super) async fn replay(pool: &PgPool, key: &Key) -> Result<Option<Kicked>, DeployError> {
    let mut conn = pool.acquire().await?;
    let Some((id, stored)) = repo::by_key(&mut *conn, key.requester, &key.key).await? else { return Ok(None) };
    if stored != key.fingerprint {
        return Err(DeployError::KeyReused { key: key.key.clone(), deploy: id });
    }
    Ok(Some(Kicked { deploy: load(&mut conn, id).await?, created: false }))
}

/// What a kick-off's checks found: the service, its environment, what runs there now and,
/// inside a freeze window, the admin's override reason with the window.
struct Checked {
    target: Target,
    env: Environment,
    freeze_override: Option<(String, FreezeView)>,
    /// Under maintenance on the service's path where the environment blocks: the admin's
    /// override reason with the windows.
    maintenance_override: Option<(String, Vec<String>)>,
    /// A critical integration of the service running where the environment blocks: the
    /// admin's override reason with the runs.
    run_override: Option<(String, Vec<String>)>,
    running_version: Option<String>,
}

/// What a blocking policy found (`lines`, each said in a line): nothing to override when it found
/// nothing; else an admin's override reason with the lines, or the refusal (`refused`, with the
/// lines joined) when no reason came, and a refusal of anyone else's reason.
fn overridden(principal: &Principal, new: &NewDeploy, lines: Vec<String>, when: &str, refused: impl FnOnce(String) -> DeployError) -> Result<Option<(String, Vec<String>)>, DeployError> {
    match (lines.is_empty(), &new.freeze_override) {
        (true, _) => Ok(None),
        (false, Some(_)) if !principal.is_admin() => Err(Refusal::invalid("freeze_override", format!("only an admin may deploy {when}")).into()),
        (false, Some(text)) => Ok(Some((text.clone(), lines))),
        (false, None) => Err(refused(lines.join("; "))),
    }
}

/// The critical integrations of the component `service` running at `now`, each said in a line.
pub(super) async fn critical_runs_now(conn: &mut sqlx::PgConnection, service: Uuid, now: DateTime<Utc>) -> Result<Vec<String>, DeployError> {
    let runs = crate::integrations::service::critical_runs(conn, Some(service), now, now + Duration::seconds(1), 1)
        .await
        .map_err(|e| DeployError::Integrations(e.to_string()))?;
    let mut lines = Vec::new();
    for c in runs {
        for (start, end) in c.runs {
            lines.push(format!("{} ({}), its run from {} to {} UTC; critical: {}", c.title, c.name, start.format("%H:%M"), end.format("%H:%M"), c.why));
        }
    }
    Ok(lines)
}

/// The service exists, is active and the caller may deploy it; the environment exists and is
/// not frozen, where it blocks deploys during maintenance none is under way on the service's
/// network path, and where it blocks them during critical runs no critical integration of the
/// service is running (or an admin overrides with a reason).
#[tracing::instrument(level = "debug", name = "deploys.service.checks", skip_all)]
async fn checks(pool: &PgPool, principal: &Principal, new: &NewDeploy) -> Result<Checked, DeployError> {
    let KickOffFacts { target, environment: env, running_version } = repo::kick_off_facts(pool, &new.service, &new.environment, Utc::now()).await?;
    // read after the facts, so a window the read left out (ended before it) has ended by now too
    let now = Utc::now();
    let target = target.ok_or_else(|| Refusal::invalid("service", format!("no service named \"{}\" is in the catalog", new.service)))?;
    if target.status != "active" {
        return Err(Refusal::invalid("service", format!("{} is waiting for its registration to be approved", target.name)).into());
    }
    if !may_deploy(principal, &target) {
        return Err(Refusal::Forbidden.into());
    }
    let Some((env, windows)) = env else {
        let names: Vec<String> = repo::environments(pool).await?.into_iter().map(|e| e.name).collect();
        return Err(Refusal::invalid("environment", format!("unknown environment \"{}\": use {}", new.environment, names.join(", "))).into());
    };
    let freeze_override = match (active_among(windows, now), &new.freeze_override) {
        (None, _) => None,
        (Some(_), Some(_)) if !principal.is_admin() => {
            return Err(Refusal::invalid("freeze_override", "only an admin may deploy during a freeze window").into());
        }
        (Some(window), Some(text)) => Some((text.clone(), window)),
        (Some(window), None) => return Err(DeployError::Frozen { environment: env.name, window: window.describe() }),
    };
    // a connection only where a policy may refuse: most environments only warn
    let blocks = (env.maintenance_policy == "block", env.critical_run_policy == "block");
    let (maintenance, runs) = if blocks.0 || blocks.1 {
        let mut conn = pool.acquire().await?;
        let maintenance = if blocks.0 {
            crate::topology::service::preflight::clashes(&mut conn, target.id.0, &env.name, now).await.map_err(|e| DeployError::Path(e.to_string()))?
        } else {
            Vec::new()
        };
        let runs = if blocks.1 { critical_runs_now(&mut conn, target.id.0, now).await? } else { Vec::new() };
        (maintenance, runs)
    } else {
        (Vec::new(), Vec::new())
    };
    let maintenance_override = overridden(principal, new, maintenance, "during maintenance on the service's network path", |lines| DeployError::UnderMaintenance {
        service: target.title.clone(),
        environment: env.name.clone(),
        window: lines,
    })?;
    let run_override = overridden(principal, new, runs, "while a critical integration of the service runs", |lines| DeployError::DuringCriticalRun {
        service: target.title.clone(),
        environment: env.name.clone(),
        runs: lines,
    })?;
    Ok(Checked { target, env, freeze_override, maintenance_override, run_override, running_version })
}

/// A checked kick-off, built: the row to write, its audit row, its approval request, and the
/// view it answers with.
struct Draft {
    id: DeployId,
    new: NewDeploy,
    rollback_of: Option<DeployId>,
    checked: Checked,
    fingerprint: Vec<u8>,
}

impl Draft {
    fn state(&self) -> DeployState {
        if self.checked.env.requires_approval { DeployState::AwaitingApproval } else { DeployState::Queued }
    }

    fn note(&self) -> &'static str {
        if self.checked.env.requires_approval { "waiting for approval" } else { "queued" }
    }

    fn row(&self, principal: &Principal) -> NewDeployRow {
        NewDeployRow {
            id: self.id,
            service_id: self.checked.target.id,
            environment: self.checked.env.name.clone(),
            version: self.new.version.as_str().to_owned(),
            rollback_of: self.rollback_of,
            reason: self.new.reason.clone(),
            requester_id: principal.user_id.0,
            idempotency_key: self.new.key.as_str().to_owned(),
            fingerprint: self.fingerprint.clone(),
            state: self.state().as_str(),
            // the admin's reason for deploying in a freeze, during maintenance on the path or a critical run
            freeze_override: (self.checked.freeze_override.as_ref().map(|(t, _)| t))
                .or(self.checked.maintenance_override.as_ref().map(|(t, _)| t))
                .or(self.checked.run_override.as_ref().map(|(t, _)| t))
                .cloned(),
            previous_version: self.checked.running_version.clone(),
            actor_name: principal.username.clone(),
            note: self.note(),
            trace_context: crate::telemetry::traceparent(),
        }
    }

    /// The approval request, when the environment needs one.
    fn ask(&self) -> Option<Ask<'static>> {
        let Checked { target, env, running_version: previous, .. } = &self.checked;
        if !env.requires_approval {
            return None;
        }
        let version = self.new.version.as_str();
        let deploy = DeployAsk {
            deploy_id: self.id,
            service: target.name.clone(),
            environment: env.name.clone(),
            version: version.to_owned(),
            previous_version: previous.clone(),
            compare_url: match (&target.repository_url, previous) {
                (Some(repo), Some(prev)) => compare_url(repo, prev, version, &code_hosts()),
                _ => None,
            },
            rollback: self.rollback_of.is_some(),
        };
        let verb = if self.rollback_of.is_some() { "Roll back" } else { "Deploy" };
        Some(Ask {
            subject_kind: DEPLOY,
            subject_id: self.id.to_string(),
            action: DEPLOY_ACTION,
            summary: format!("{verb} {} {version} to {}", target.title, env.name),
            payload: serde_json::to_value(&deploy).unwrap_or_default(),
            required_approvals: approvals_needed([target.tier]),
            approvers: Approvers::TeamLeadsOrAdmins,
            owning_team: target.owner_team_id.map(TeamId),
            reason: self.new.reason.clone(),
            valid_for: Duration::hours(APPROVAL_VALID_HOURS),
        })
    }

    /// The audit row of the request itself.
    fn requested(&self, approval: Option<ApprovalId>) -> Change<'static> {
        let Checked { target, env, running_version, .. } = &self.checked;
        Change {
            action: "deploy.requested",
            subject_kind: SubjectKind::Deploy,
            subject_id: self.id.to_string(),
            before: None,
            after: Some(json!({
                "service": target.name, "environment": env.name, "version": self.new.version.as_str(),
                "previous_version": running_version, "reason": self.new.reason, "state": self.state().as_str(),
                "approval_id": approval, "rollback_of": self.rollback_of,
            })),
        }
    }

    /// The deploy as it was written, without reading it back.
    fn into_view(self, principal: &Principal, created_at: DateTime<Utc>, approval: Option<ApprovalId>) -> crate::deploys::types::DeployView {
        let (state, note) = (self.state(), self.note());
        let transition = |from: Option<DeployState>, to: DeployState, note: &str| TransitionView {
            from,
            to,
            actor: principal.username.clone(),
            note: note.to_owned(),
            at: created_at,
        };
        let transitions = vec![transition(None, DeployState::Requested, &self.new.reason), transition(Some(DeployState::Requested), state, note)];
        let Checked { target, env, freeze_override, running_version, .. } = self.checked;
        let row = DeployRow {
            id: self.id,
            service_id: target.id,
            service: target.name,
            service_title: target.title,
            environment: env.name,
            version: self.new.version.as_str().to_owned(),
            previous_version: running_version,
            rollback_of: self.rollback_of,
            reason: self.new.reason,
            requester_id: principal.user_id.0,
            requester: principal.username.clone(),
            state,
            approval_id: approval,
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
        to_view(row, transitions)
    }
}

/// Writes a kick-off that needs more than its own statement, in one transaction: the deploy,
/// its approval request, the freeze override's audit row, the request's audit row. None when
/// the requester's key is taken (nothing written).
#[tracing::instrument(level = "debug", name = "deploys.service.write_governed", skip_all)]
async fn write_governed(
    pool: &PgPool,
    principal: &Principal,
    draft: &Draft,
    ask: Option<Ask<'static>>,
    meta: &RequestMeta,
) -> Result<Option<(DateTime<Utc>, Option<ApprovalId>)>, DeployError> {
    // the transaction claims the key and locks its rows before it takes an audit lock (see
    // repo::insert): a retry with a taken key waits for nothing else, and no two kick-offs, or a
    // kick-off and a catalog edit, wait on each other in a circle
    let mut tx = pool.begin().await?;
    let Some(at) = repo::insert(&mut tx, &draft.row(principal), None).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let mut approval = None;
    if let Some(ask) = ask {
        let id = approvals::open(&mut tx, principal, ask, meta).await?;
        repo::set_approval(&mut tx, draft.id, id).await?;
        approval = Some(id);
    }
    // each override an admin gave, with what it overrode
    let c = &draft.checked;
    let overrides = [
        c.freeze_override.as_ref().map(|(text, w)| ("deploy.freeze_overridden", json!({ "freeze_window": w.id.0, "window_reason": w.reason, "override_reason": text }))),
        c.maintenance_override.as_ref().map(|(text, windows)| ("deploy.maintenance_overridden", json!({ "windows": windows, "override_reason": text }))),
        c.run_override.as_ref().map(|(text, runs)| ("deploy.critical_run_overridden", json!({ "runs": runs, "override_reason": text }))),
    ];
    for (action, after) in overrides.into_iter().flatten() {
        let change = Change { action, subject_kind: SubjectKind::Deploy, subject_id: draft.id.to_string(), before: None, after: Some(after) };
        audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    }
    audit::record(&mut tx, Actor::Person(principal), draft.requested(approval), meta).await?;
    tx.commit().await?;
    Ok(Some((at, approval)))
}
