//! Reading deploys: one, a page of one, a list, a service's history, the form's plan, and the
//! live view's updates.
use crate::error::Refusal;
use super::freeze::active_freeze;
use super::{code_hosts, load, may_deploy, not_found, to_line, to_transition, to_view, DeployError};
use crate::deploys::types::compare_url;
use crate::catalog::approval::approvals_needed;
use crate::deploys::repo;
use crate::deploys::types::{
    DeployFilter, DeployId, DeployPage, DeployPlan, DeployState, DeployUpdate, DeployView, EnvironmentHistory, EnvironmentPolicy,
    ServiceDeploys,
};
use crate::iam::principal::Principal;
use chrono::Utc;
use sqlx::PgPool;

/// One deploy with its transitions.
#[tracing::instrument(name = "deploys.service.get", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn get(pool: &PgPool, principal: &Principal, id: DeployId) -> Result<DeployView, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await
}

/// At most this many log lines on a page; the live stream sends the rest.
pub const PAGE_LOG_LINES: i64 = 5000;

/// A deploy's page: the deploy, its log, and what the viewer may do with it.
#[tracing::instrument(name = "deploys.service.page", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn page(pool: &PgPool, principal: &Principal, id: DeployId) -> Result<DeployPage, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let deploy = load(&mut conn, id).await?;
    let last_transition_id = repo::transitions(&mut *conn, id, 0).await?.last().map(|t| t.id).unwrap_or(0);
    let log = repo::log(&mut *conn, id, 0, PAGE_LOG_LINES).await?.into_iter().map(to_line).collect();
    let target = repo::target(&mut *conn, &deploy.service).await?.ok_or_else(|| not_found("That deploy's service"))?;
    let may = may_deploy(principal, &target);
    // by id: user names are not unique
    let own = deploy.requester_id == principal.user_id.0 && principal.require_scope(crate::iam::principal::Scope::Deploy).is_ok();
    let current = repo::current(&mut *conn, target.id, &deploy.environment).await?;
    let rollback_to = if current.map(|(_, d)| d) == Some(id) { repo::previous_success(&mut *conn, id).await? } else { None };
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
#[tracing::instrument(name = "deploys.service.list", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(pool: &PgPool, principal: &Principal, filter: &DeployFilter) -> Result<Vec<DeployView>, DeployError> {
    principal.require_read()?;
    let state = filter.state().map_err(|p| Refusal::invalid(&p.field, p.message))?;
    let since = DeployFilter::day("since", &filter.since, false).map_err(|p| Refusal::invalid(&p.field, p.message))?;
    let until = DeployFilter::day("until", &filter.until, true).map_err(|p| Refusal::invalid(&p.field, p.message))?;
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

/// The deploys this person asked for, newest first (at most `limit`): for the home page.
#[tracing::instrument(name = "deploys.service.asked_by_me", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn asked_by_me(pool: &PgPool, principal: &Principal, limit: i64) -> Result<Vec<DeployView>, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let f = repo::ListFilter {
        id: None,
        service_id: None,
        environment: None,
        state: None,
        requester: Some(&principal.username),
        since: None,
        until: None,
        limit,
    };
    Ok(repo::list(&mut *conn, &f).await?.into_iter().map(|r| to_view(r, Vec::new())).collect())
}

/// What would apply to a deploy of `service` in each environment, for the deploy form.
#[tracing::instrument(name = "deploys.service.plan", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn plan(pool: &PgPool, principal: &Principal, service: &str) -> Result<DeployPlan, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let target = repo::target(&mut *conn, service)
        .await?
        .ok_or_else(|| not_found(&format!("A service named \"{service}\"")))?;
    let now = Utc::now();
    // the maintenance under way on the service's network path (the same in every environment)
    let maintenance_now = crate::topology::service::preflight::clashes(&mut conn, target.id.0, "", now).await.map_err(|e| DeployError::Path(e.to_string()))?;
    let critical_now = super::kick_off::critical_runs_now(&mut conn, target.id.0, now).await?;
    let mut environments = Vec::new();
    for env in repo::environments(&mut *conn).await? {
        let freeze = active_freeze(&mut conn, &env.name, now).await?;
        environments.push(EnvironmentPolicy {
            required_approvals: if env.requires_approval { approvals_needed([target.tier]) } else { 0 },
            approvers: match (env.requires_approval, target.owner_team_id) {
                (false, _) => "none".into(),
                (true, Some(_)) => format!("a lead of {}, or an admin (not you)", target.owner_name),
                (true, None) => "an admin (not you)".into(),
            },
            current_version: repo::current(&mut *conn, target.id, &env.name).await?.map(|(v, _)| v),
            active_freeze: freeze.map(|f| f.describe()),
            in_flight: repo::in_flight(&mut *conn, target.id, &env.name).await?,
            requires_approval: env.requires_approval,
            blocks_during_maintenance: env.maintenance_policy == "block",
            maintenance_now: maintenance_now.clone(),
            blocks_during_critical_runs: env.critical_run_policy == "block",
            critical_runs_now: critical_now.clone(),
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

/// A service's deploys per environment, with what runs there now and what a rollback would
/// deploy: five statements whatever the number of environments (the current deploys come
/// without their transitions; the history page and the service's "runs where" card show none).
#[tracing::instrument(name = "deploys.service.service_history", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn service_history(pool: &PgPool, principal: &Principal, service: &str) -> Result<ServiceDeploys, DeployError> {
    /// How many of each environment's deploys the history lists.
    const HISTORY: i64 = 20;
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let target = repo::target(&mut *conn, service)
        .await?
        .ok_or_else(|| not_found(&format!("A service named \"{service}\"")))?;
    let envs = repo::environments(&mut *conn).await?;
    let newest = repo::newest_per_environment(&mut *conn, target.id, HISTORY).await?;
    let current = repo::current_per_environment(&mut *conn, target.id).await?;
    let current_ids: Vec<DeployId> = current.iter().map(|r| r.id).collect();
    let mut rollback_to = repo::previous_successes(&mut *conn, &current_ids).await?;
    let mut current: std::collections::HashMap<String, DeployView> =
        current.into_iter().map(|r| (r.environment.clone(), to_view(r, Vec::new()))).collect();
    let mut histories: std::collections::HashMap<String, Vec<DeployView>> = std::collections::HashMap::new();
    for r in newest {
        histories.entry(r.environment.clone()).or_default().push(to_view(r, Vec::new()));
    }
    let environments = envs
        .into_iter()
        .map(|env| {
            let current = current.remove(&env.name);
            let rollback_to = current.as_ref().and_then(|c| rollback_to.remove(&c.id));
            let history = histories.remove(&env.name).unwrap_or_default();
            EnvironmentHistory { environment: env.name, title: env.title, current, rollback_to, history }
        })
        .collect();
    Ok(ServiceDeploys { may_deploy: may_deploy(principal, &target), service: target.name, service_title: target.title, environments })
}

/// Transitions and log lines after the given ids, and the deploy's state now.
#[tracing::instrument(level = "debug", name = "deploys.service.updates", skip_all)]
pub async fn updates(pool: &PgPool, principal: &Principal, id: DeployId, after_transition: i64, after_log: i64) -> Result<DeployUpdate, DeployError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let row = repo::get(&mut *conn, id).await?.ok_or_else(|| not_found("That deploy"))?;
    let rows = repo::transitions(&mut *conn, id, after_transition).await?;
    let last_transition = rows.last().map(|t| t.id).unwrap_or(after_transition);
    let log = repo::log(&mut *conn, id, after_log, 1000).await?.into_iter().map(to_line).collect();
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


/// What `/metrics` shows of the deploys in flight (see [`gauges`]).
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    /// Every state a deploy is in before it ends, with how many are in it (0 included).
    pub by_state: Vec<(&'static str, i64)>,
    pub queued: i64,
    /// How long the oldest queued deploy has waited; 0 with none queued.
    pub oldest_queued_secs: f64,
    /// Running deploys past their executor's deadline.
    pub running_overdue: i64,
}

/// The deploys in flight, for the operators' metrics listener (no principal: that listener is
/// not the app's and shows counts only). One statement over the deploys not yet ended.
#[tracing::instrument(level = "debug", name = "deploys.service.gauges", skip_all)]
pub async fn gauges(pool: &PgPool) -> Result<Gauges, DeployError> {
    let rows = repo::open_counts(pool).await?;
    let mut g = Gauges::default();
    for state in DeployState::ALL.into_iter().filter(|s| !s.is_final()) {
        let row = rows.iter().find(|r| r.0 == state.as_str());
        g.by_state.push((state.as_str(), row.map_or(0, |r| r.1)));
        match state {
            DeployState::Queued => {
                g.queued = row.map_or(0, |r| r.1);
                g.oldest_queued_secs = row.map_or(0.0, |r| r.2);
            }
            DeployState::Running => g.running_overdue = row.map_or(0, |r| r.3),
            _ => {}
        }
    }
    Ok(g)
}
