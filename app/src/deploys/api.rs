//! Deploy server functions: context in, one service call, a DTO out. Form posts without
//! JavaScript are answered with a redirect: to the result, or back to the form with what was
//! typed and what is wrong.
use super::types::{DeployId, DeployPage, DeployPlan, DeployView, FreezeId, FreezeView, ServiceDeploys};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a deploy error is at the edge: a refused form is a 422, a clash with what is there
/// already (a reused key, an event the deploy cannot take) a 409.
#[cfg(feature = "ssr")]
impl From<super::service::DeployError> for AppError {
    fn from(e: super::service::DeployError) -> Self {
        use super::service::DeployError as E;
        match e {
            E::Refused(r) => r.into(),
            e @ (E::Frozen { .. } | E::UnderMaintenance { .. } | E::DuringCriticalRun { .. }) => AppError::Invalid { field: "environment".into(), message: e.to_string() },
            e @ (E::KeyReused { .. } | E::NotWebhook | E::WrongAttempt { .. } | E::Replayed(_) | E::NotRunning { .. }) => {
                AppError::Conflict(e.to_string())
            }
            E::Approval(e) => e.into(),
            e @ (E::Database(_) | E::Path(_) | E::Integrations(_)) => AppError::internal(e),
        }
    }
}

#[cfg(feature = "ssr")]
fn fail(e: super::service::DeployError) -> AppError {
    crate::context::respond(e.into())
}

#[cfg(feature = "ssr")]
use crate::ui::form::send_back as back_to;

#[cfg(feature = "ssr")]
const OVERRIDE_RETURN: &str = "deploy-freeze-override";

/// The deploy form's context for `service`, a fresh idempotency key for this form, and the
/// freeze override typed in a post that came back (kept in the session, never in the address:
/// a link must not fill in an override for an admin to submit).
#[server(endpoint = "deploys/plan")]
pub async fn get_plan(service: String) -> Result<(DeployPlan, String, String), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let plan = super::service::plan(&pool, &principal, &service).await.map_err(fail)?;
    let typed_override = crate::context::flash_take::<String>(OVERRIDE_RETURN).await.unwrap_or_default();
    Ok((plan, Uuid::new_v4().to_string(), typed_override))
}

/// Kicks off a deploy. The same `idempotency_key` (the form's) returns the first deploy.
#[server(endpoint = "deploys/request")]
pub async fn request_deploy(
    service: String,
    environment: String,
    version: String,
    reason: String,
    idempotency_key: String,
    freeze_override: Option<String>,
) -> Result<DeployId, AppError> {
    use super::types::DeployForm;
    let form = DeployForm {
        service,
        environment,
        version,
        reason,
        idempotency_key,
        freeze_override: freeze_override.unwrap_or_default(),
    };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let queue = crate::context::deploy_queue()?;
    match super::service::request_deploy(&pool, &queue, &principal, &form, &crate::context::request_meta()).await {
        Ok(k) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("/deploys/{}", k.deploy.id.0));
            }
            Ok(k.deploy.id)
        }
        Err(e) => {
            let values = [
                ("service", form.service.as_str()),
                ("environment", form.environment.as_str()),
                ("version", form.version.as_str()),
                ("reason", form.reason.as_str()),
                ("key", form.idempotency_key.as_str()),
            ];
            if crate::context::accepts_html() && !form.freeze_override.is_empty() {
                crate::context::flash_put(OVERRIDE_RETURN, &form.freeze_override).await;
            }
            Err(back_to("/deploys/new", &values, e.into()))
        }
    }
}

#[server(endpoint = "deploys/page")]
pub async fn get_deploy_page(id: Uuid) -> Result<DeployPage, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::page(&pool, &principal, DeployId(id)).await.map_err(fail)
}

/// `query` is the list page's query string (`service=…&environment=…&state=…`).
#[server(endpoint = "deploys/list")]
pub async fn list_deploys(query: String) -> Result<Vec<DeployView>, AppError> {
    use super::types::DeployFilter;
    let get = |k: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let filter = DeployFilter {
        service: get("service"),
        environment: get("environment"),
        state: get("state"),
        requester: get("requester"),
        since: get("since"),
        until: get("until"),
    };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::list(&pool, &principal, &filter).await.map_err(fail)
}

#[server(endpoint = "deploys/service")]
pub async fn get_service_deploys(service: String) -> Result<ServiceDeploys, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::service_history(&pool, &principal, &service).await.map_err(fail)
}

#[server(endpoint = "deploys/cancel")]
pub async fn cancel_deploy(id: Uuid) -> Result<DeployView, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let result = super::service::cancel(&pool, &principal, DeployId(id), &crate::context::request_meta()).await;
    match result {
        Ok(view) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("/deploys/{id}"));
            }
            Ok(view)
        }
        Err(e) => Err(back_to(&format!("/deploys/{id}"), &[], e.into())),
    }
}

/// Deploys again the version that succeeded before `id`, saying why (confirmed on the service's
/// page and its history).
#[server(endpoint = "deploys/rollback")]
pub async fn rollback_deploy(id: Uuid, idempotency_key: String, reason: String) -> Result<DeployId, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let queue = crate::context::deploy_queue()?;
    let result = super::service::rollback(&pool, &queue, &principal, DeployId(id), &idempotency_key, &reason, &crate::context::request_meta()).await;
    match result {
        Ok(k) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("/deploys/{}", k.deploy.id.0));
            }
            Ok(k.deploy.id)
        }
        Err(e) => Err(back_to(&format!("/deploys/{id}"), &[], e.into())),
    }
}

/// The freeze calendar: every window with its occurrences in the next weeks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub windows: Vec<FreezeView>,
    /// The network's maintenance windows over the same days (planned work, carriers' notices).
    pub maintenance: Vec<crate::topology::types::MaintenanceWindow>,
    /// (name, title) of every environment.
    pub environments: Vec<(String, String)>,
    /// Each environment's policies for maintenance on a service's path and critical runs.
    pub policies: Vec<super::types::EnvironmentPolicies>,
    pub is_admin: bool,
    pub today: chrono::NaiveDate,
}

/// Days the calendar shows.
pub const CALENDAR_DAYS: i64 = 28;

#[server(endpoint = "deploys/calendar")]
pub async fn get_calendar() -> Result<Calendar, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let windows = super::service::calendar(&pool, &principal, CALENDAR_DAYS).await.map_err(fail)?;
    let plan_envs = super::service::environments(&pool, &principal).await.map_err(fail)?;
    let now = chrono::Utc::now();
    let maintenance = crate::topology::service::changes::maintenance(&pool, &principal, now, now + chrono::Duration::days(CALENDAR_DAYS))
        .await
        .map_err(|e| crate::context::respond(e.into()))?
        .items;
    let policies = super::service::environment_policies(&pool, &principal).await.map_err(fail)?;
    Ok(Calendar { windows, maintenance, environments: plan_envs, policies, is_admin: principal.is_admin(), today: chrono::Utc::now().date_naive() })
}

/// Admins set an environment's policies: what maintenance on a service's network path, and a
/// critical integration's run of it, do to a deploy there (`warn` or `block`).
#[server(endpoint = "deploys/environment-policies")]
pub async fn set_environment_policies(environment: String, maintenance_policy: String, critical_run_policy: String) -> Result<(), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    match super::service::set_environment_policies(&pool, &principal, &environment, &maintenance_policy, &critical_run_policy, &crate::context::request_meta()).await {
        Ok(()) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect("/deploys/freezes?policies=1");
            }
            Ok(())
        }
        Err(e) => Err(back_to("/deploys/freezes", &[("environment", environment.as_str())], e.into())),
    }
}

/// Admins add a freeze window.
#[server(endpoint = "deploys/freeze-create")]
#[allow(clippy::too_many_arguments)]
pub async fn create_freeze(
    environment: String,
    reason: String,
    kind: String,
    starts_at: String,
    ends_at: String,
    schedule: String,
    duration_mins: String,
) -> Result<FreezeId, AppError> {
    use super::types::FreezeForm;
    let form = FreezeForm { environment, reason, kind, starts_at, ends_at, schedule, duration_mins };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    match super::service::create_freeze(&pool, &principal, &form, &crate::context::request_meta()).await {
        Ok(id) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect("/deploys/freezes?added=1");
            }
            Ok(id)
        }
        Err(e) => {
            let values = [
                ("environment", form.environment.as_str()),
                ("reason", form.reason.as_str()),
                ("kind", form.kind.as_str()),
                ("starts_at", form.starts_at.as_str()),
                ("ends_at", form.ends_at.as_str()),
                ("schedule", form.schedule.as_str()),
                ("duration_mins", form.duration_mins.as_str()),
            ];
            Err(back_to("/deploys/freezes", &values, e.into()))
        }
    }
}

/// Admins end (delete) a freeze window.
#[server(endpoint = "deploys/freeze-delete")]
pub async fn delete_freeze(id: Uuid) -> Result<(), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    match super::service::delete_freeze(&pool, &principal, FreezeId(id), &crate::context::request_meta()).await {
        Ok(()) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect("/deploys/freezes?deleted=1");
            }
            Ok(())
        }
        Err(e) => Err(back_to("/deploys/freezes", &[], e.into())),
    }
}
