//! Deploys over REST: kick off (idempotent), read, list, cancel, and the signed events a CD
//! system reports back with. Approvals go through the approvals API.
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, Caller, ErrorBody};
use crate::deploys::signature;
use crate::startup::AppState;
use app::context::RequestMeta;
use app::deploys::service::{self, CdReport};
use app::deploys::types::{DeployFilter, DeployForm, DeployId, DeployState, DeployView, EnvironmentPolicies};
use app::error::AppError;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({ "service": "refunds", "environment": "dev", "version": "v2.4.1", "reason": "Ship the rounding fix for partial refunds" }))]
pub struct KickOff {
    /// The service's catalog name (a component).
    #[schema(max_length = 63, pattern = r"^\s*[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*\s*$")]
    service: String,
    /// `dev`, `staging` or `production`.
    #[schema(max_length = 63, pattern = r"^\s*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\s*$")]
    environment: String,
    /// A git ref or an image tag: a letter or digit, then letters, digits and `._-/:@+`.
    #[schema(max_length = 200, pattern = r"^\s*[A-Za-z0-9][A-Za-z0-9._\-/:@+]*\s*$")]
    version: String,
    /// Why; required.
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    reason: String,
    /// An admin's reason to deploy inside a freeze window.
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    freeze_override: Option<String>,
}

/// Kicks off a deploy. Send a fresh `Idempotency-Key` per deploy: the same key with the same
/// body returns the first deploy (200); with a different body it is refused (409).
#[utoipa::path(
    post,
    path = "/deploys",
    tag = "deploys",
    request_body = KickOff,
    params(("Idempotency-Key" = String, Header, description = "The client's key for this deploy (1–200 visible ASCII)")),
    responses(
        (status = 201, description = "Created: awaiting approval or queued", body = DeployView),
        (status = 200, description = "The deploy this key created before", body = DeployView),
        (status = 403, description = "Not a member of an owning team (or a token without the deploy scope)", body = ErrorBody),
        (status = 409, description = "The key was used with different parameters", body = ErrorBody),
        (status = 422, description = "A field is wrong, or the environment is frozen (the window is named)", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn create_deploy(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<KickOff>,
) -> Result<(StatusCode, Json<DeployView>), ApiError> {
    let form = DeployForm {
        service: body.service,
        environment: body.environment,
        version: body.version,
        reason: body.reason,
        idempotency_key: headers.get("idempotency-key").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned(),
        freeze_override: body.freeze_override.unwrap_or_default(),
    };
    let kicked = service::request_deploy(&state.pool, &state.deploy_queue, &caller.principal, &form, &caller.meta)
        .await
        .map_err(|e| caller.fail(e))?;
    let status = if kicked.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(kicked.deploy)))
}

/// One deploy: its state, every transition, and `approval_id` when it needs approval.
#[utoipa::path(
    get,
    path = "/deploys/{id}",
    tag = "deploys",
    params(("id" = Uuid, Path, description = "The deploy's id")),
    responses((status = 200, body = DeployView), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn get_deploy(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<DeployView>, ApiError> {
    service::get(&state.pool, &caller.principal, DeployId(id)).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A service's catalog name.
    service: Option<String>,
    environment: Option<String>,
    /// One of the deploy states.
    state: Option<String>,
    /// A user name.
    requester: Option<String>,
    /// `YYYY-MM-DD`, inclusive (UTC).
    since: Option<String>,
    until: Option<String>,
}

/// Deploys, newest first (at most 200), without their transitions.
#[utoipa::path(
    get,
    path = "/deploys",
    tag = "deploys",
    params(ListQuery),
    responses((status = 200, body = Vec<DeployView>), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn list_deploys(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<ListQuery>) -> Result<Json<Vec<DeployView>>, ApiError> {
    let filter = DeployFilter {
        service: q.service.unwrap_or_default(),
        environment: q.environment.unwrap_or_default(),
        state: q.state.unwrap_or_default(),
        requester: q.requester.unwrap_or_default(),
        since: q.since.unwrap_or_default(),
        until: q.until.unwrap_or_default(),
    };
    service::list(&state.pool, &caller.principal, &filter).await.map(Json).map_err(|e| caller.fail(e))
}

/// Cancels a deploy that has not ended (its approval request with it; a running command is stopped).
#[utoipa::path(
    post,
    path = "/deploys/{id}/cancel",
    tag = "deploys",
    params(("id" = Uuid, Path, description = "The deploy's id")),
    responses((status = 200, body = DeployView), (status = 403, body = ErrorBody), (status = 422, description = "It ended already", body = ErrorBody)),
    security(("token" = []))
)]
pub async fn cancel_deploy(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<DeployView>, ApiError> {
    service::cancel(&state.pool, &caller.principal, DeployId(id), &caller.meta)
        .await
        .map(Json)
        .map_err(|e| caller.fail(e))
}

#[derive(Serialize, ToSchema)]
pub struct EventAccepted {
    state: DeployState,
}

/// A CD system reports on a deploy it took: `{"type": "log", "lines": [...]}`,
/// `{"type": "progress", "percent": 40, "message": "..."}`, `{"type": "succeeded"}` or
/// `{"type": "failed", "message": "..."}`, each with the deploy's `attempt` and a `seq` above
/// the last event's (1, 2, 3 …). Signed like the webhook it received:
/// `Switchyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<deploy id>.<body>">`;
/// a wrong or stale signature is refused with 401, a replayed event with 409.
#[utoipa::path(
    post,
    path = "/deploys/{id}/events",
    tag = "deploys",
    params(
        ("id" = Uuid, Path, description = "The deploy's id"),
        ("Switchyard-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex>"),
    ),
    request_body = CdReport,
    responses(
        (status = 200, description = "Applied (a repeated final event changes nothing)", body = EventAccepted),
        (status = 401, description = "Signature missing, wrong or stale", body = ErrorBody),
        (status = 409, description = "The deploy is not running, not a CD system's, at another attempt, or the event is a replay", body = ErrorBody),
        (status = 422, description = "The body is not an event", body = ErrorBody),
    )
)]
pub async fn deploy_event(State(state): State<AppState>, ApiPath(id): ApiPath<Uuid>, request: Request) -> Result<Json<EventAccepted>, ApiError> {
    let (parts, body) = request.into_parts();
    let meta = RequestMeta::from_parts(&parts);
    let fail = |e: AppError| ApiError::new(e, &meta);
    let bytes = axum::body::to_bytes(body, 1024 * 1024)
        .await
        .map_err(|_| fail(AppError::Invalid { field: "body".into(), message: "the body could not be read (at most 1 MiB)".into() }))?;
    let settings = &state.settings.deploys.webhook;
    let header = parts.headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
    if let Err(e) = signature::verify(
        settings.secret.expose_secret().as_bytes(),
        header,
        id,
        &bytes,
        chrono::Utc::now().timestamp(),
        settings.max_skew_secs,
    ) {
        tracing::warn!(request_id = %meta.request_id, deploy = %id, reason = %e, "deploy event refused");
        return Err(ApiError::unauthorized(&e.to_string(), &meta));
    }
    let event: CdReport = serde_json::from_slice(&bytes)
        .map_err(|e| fail(AppError::Invalid { field: "body".into(), message: format!("not a deploy event: {e}") }))?;
    let state_now = service::cd_event(&state.pool, DeployId(id), event, &meta).await.map_err(|e| {
        let e = AppError::from(e);
        fail(match e {
            AppError::Internal { .. } => AppError::Internal { request_id: meta.request_id.clone() },
            other => other,
        })
    })?;
    Ok(Json(EventAccepted { state: state_now }))
}

/// An environment's policies, as an admin sets them.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({ "maintenance_policy": "block", "critical_run_policy": "warn" }))]
pub struct PoliciesForm {
    /// What maintenance on a service's network path does to a deploy of it here: `warn` or `block`.
    #[schema(max_length = 5)]
    maintenance_policy: String,
    /// What a critical integration's run of a service does to a deploy of it here: `warn` or `block`.
    #[schema(max_length = 5)]
    critical_run_policy: String,
}

/// Every environment with its policies, in order.
#[utoipa::path(
    get,
    path = "/environments",
    tag = "deploys",
    responses((status = 200, body = Vec<EnvironmentPolicies>), (status = 403, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn environments(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<EnvironmentPolicies>>, ApiError> {
    service::environment_policies(&state.pool, &caller.principal).await.map(Json).map_err(|e| caller.fail(e))
}

/// Sets an environment's policies (admins; audited as `environment.policies_changed`): `block`
/// refuses a deploy during maintenance on the service's path, or during a critical run of it,
/// naming what is under way, unless an admin overrides with a reason; `warn` says so.
#[utoipa::path(
    put,
    path = "/environments/{name}/policies",
    tag = "deploys",
    params(("name" = String, Path, description = "The environment's name")),
    request_body = PoliciesForm,
    responses((status = 200, description = "The environments with their policies now", body = Vec<EnvironmentPolicies>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn set_policies(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<PoliciesForm>,
) -> Result<Json<Vec<EnvironmentPolicies>>, ApiError> {
    service::set_environment_policies(&state.pool, &caller.principal, &name, &form.maintenance_policy, &form.critical_run_policy, &caller.meta)
        .await
        .map_err(|e| caller.fail(e))?;
    service::environment_policies(&state.pool, &caller.principal).await.map(Json).map_err(|e| caller.fail(e))
}
