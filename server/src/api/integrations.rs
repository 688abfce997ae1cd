//! Integrations over REST: run events in as OpenLineage (`/lineage`, `/lineage/batch`, with a
//! team's `ingest` token, gzip or not), integrations, runs and systems out, and registering and
//! changing them through the same services as the forms.
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery, Caller, ErrorBody};
use crate::startup::AppState;
use app::error::AppError;
use app::integrations::lineage::MAX_BATCH;
use app::integrations::service::{self, Stored};
use app::integrations::types::{
    IntegrationDetail, IntegrationForm, IntegrationPage, IntegrationQuery, RunDetail, RunPage, RunQuery, SystemDetail, SystemForm, SystemMap,
    SystemView, UnregisteredJob,
};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn bad_request(caller: &Caller, field: &str, message: impl Into<String>) -> ApiError {
    ApiError { error: AppError::Invalid { field: field.into(), message: message.into() }, request_id: caller.meta.request_id.clone(), status: Some(StatusCode::BAD_REQUEST) }
}

/// The body, decompressed (gzip is undone by the route's layer), within the server's body limit.
async fn body(state: &AppState, caller: &Caller, request: Request) -> Result<Bytes, ApiError> {
    let limit = state.settings.server.body_limit_bytes;
    axum::body::to_bytes(request.into_body(), limit).await.map_err(|_| ApiError {
        error: AppError::TooLarge { field: "body".into(), message: format!("the body (decompressed) is over the limit of {limit} bytes") },
        request_id: caller.meta.request_id.clone(),
        status: None,
    })
}

fn json_text<'a>(caller: &Caller, bytes: &'a [u8]) -> Result<&'a str, ApiError> {
    std::str::from_utf8(bytes).map_err(|e| bad_request(caller, "body", format!("not UTF-8 text ({e})")))
}

/// An OpenLineage `RunEvent` (schema 1.x or 2.x), as far as Switchyard reads it; every other
/// field (inputs, outputs, job facets …) is kept as it came. Run facets Switchyard reads:
/// `nominalTime`, `parent`, `errorMessage` and its own `switchyard_run` (see the README).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // the document's shape: the handler reads the JSON itself, field by field
pub struct RunEventDoc {
    /// Absent means OTHER.
    event_type: Option<EventTypeDoc>,
    /// ISO 8601, with an offset (or without one, read as UTC).
    #[schema(format = DateTime, max_length = 64)]
    event_time: String,
    run: RunDoc,
    job: JobDoc,
    #[schema(max_length = 2000, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    producer: String,
    #[serde(rename = "schemaURL")]
    #[schema(max_length = 2000, pattern = r"^https://openlineage\.io/spec/[12]-[^\u0000-\u001F\u007F-\u009F]*$")]
    schema_url: String,
}

#[derive(Deserialize, ToSchema)]
#[allow(clippy::upper_case_acronyms)]
pub enum EventTypeDoc {
    START,
    RUNNING,
    COMPLETE,
    ABORT,
    FAIL,
    OTHER,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct RunDoc {
    run_id: Uuid,
    /// Facets by name; later events' facets merge into the run's.
    facets: Option<HashMap<String, serde_json::Value>>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct JobDoc {
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    namespace: String,
    #[schema(max_length = 300, pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$")]
    name: String,
}

/// What storing an event answered.
#[derive(Serialize, ToSchema)]
pub struct Ingested {
    /// False when the same event was stored before (a retry): nothing changed.
    stored: bool,
}

/// Takes one OpenLineage `RunEvent` (schema 1.x or 2.x), as the OpenLineage HTTP transport sends
/// it (`Content-Encoding: gzip` allowed). 201 when stored; a retry of a stored event is 200 and
/// changes nothing. A 2xx means the event is committed. Needs a team's token with the `ingest`
/// scope.
#[utoipa::path(
    post,
    path = "/lineage",
    tag = "integrations",
    request_body(content = RunEventDoc, description = "An OpenLineage RunEvent", content_type = "application/json"),
    responses(
        (status = 201, description = "Stored", body = Ingested),
        (status = 200, description = "The same event was stored before", body = Ingested),
        (status = 403, description = "Not a token with the ingest scope", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn lineage_event(State(state): State<AppState>, caller: Caller, request: Request) -> Result<(StatusCode, Json<Ingested>), ApiError> {
    let bytes = body(&state, &caller, request).await?;
    let text = json_text(&caller, &bytes)?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        service::count_refused();
        bad_request(&caller, "", format!("the body is not JSON ({e})"))
    })?;
    match service::ingest(&state.lineage_writer, &caller.principal, &value, text, Utc::now()).await {
        Ok(Stored::Created) => Ok((StatusCode::CREATED, Json(Ingested { stored: true }))),
        Ok(Stored::Duplicate) => Ok((StatusCode::OK, Json(Ingested { stored: false }))),
        Err(e @ service::IntegrationError::BadEvent(_)) => {
            service::count_refused();
            let mut err = caller.fail(e);
            err.status = Some(StatusCode::BAD_REQUEST);
            Err(err)
        }
        Err(e) => Err(caller.fail(e)),
    }
}

/// An event of a batch that was refused.
#[derive(Serialize, ToSchema)]
pub struct FailedEvent {
    /// Its index in the batch.
    index: usize,
    /// The JSON pointer of the wrong field, within the event.
    field: String,
    reason: String,
}

/// What a batch did.
#[derive(Serialize, ToSchema)]
pub struct BatchAnswer {
    /// `success` or `partial_success`.
    status: String,
    received: usize,
    stored: usize,
    /// Events stored before (retries): unchanged.
    duplicates: usize,
    failed: Vec<FailedEvent>,
}

/// Takes an array of OpenLineage `RunEvent`s (at most 1,000). Every event that reads is stored,
/// in one transaction; each one that does not is listed with its index and why: 200 when all
/// were taken, 207 when any was refused (however many were stored). Each item is a `RunEvent`
/// (see `POST /lineage`); the batch takes any JSON values and judges each on its own.
#[utoipa::path(
    post,
    path = "/lineage/batch",
    tag = "integrations",
    request_body(content = Vec<serde_json::Value>, description = "OpenLineage RunEvents (at most 1,000), each judged on its own", content_type = "application/json"),
    responses(
        (status = 200, description = "Every event stored (or stored before)", body = BatchAnswer),
        (status = 207, description = "Some events refused (listed); the others stored", body = BatchAnswer),
        (status = 400, description = "Not a JSON array, or over 1,000 events", body = ErrorBody),
        (status = 403, description = "Not a token with the ingest scope", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn lineage_batch(State(state): State<AppState>, caller: Caller, request: Request) -> Result<(StatusCode, Json<BatchAnswer>), ApiError> {
    let bytes = body(&state, &caller, request).await?;
    let text = json_text(&caller, &bytes)?;
    let raw: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| bad_request(&caller, "", format!("the body is not a JSON array of events ({e})")))?;
    if raw.len() > MAX_BATCH {
        return Err(bad_request(&caller, "", format!("{} events in one batch; at most {MAX_BATCH}", raw.len())));
    }
    let mut events = Vec::with_capacity(raw.len());
    let mut unreadable = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match serde_json::from_str::<serde_json::Value>(r.get()) {
            Ok(v) => events.push((v, r.get())),
            Err(e) => unreadable.push(FailedEvent { index: i, field: String::new(), reason: e.to_string() }),
        }
    }
    let outcome = service::ingest_batch(&state.pool, &caller.principal, &events, Utc::now()).await.map_err(|e| caller.fail(e))?;
    let mut failed: Vec<FailedEvent> = outcome
        .failed
        .into_iter()
        .map(|(i, r)| FailedEvent { index: i, field: r.pointer, reason: r.message })
        .chain(unreadable)
        .collect();
    failed.sort_by_key(|f| f.index);
    let (status, word) = if failed.is_empty() { (StatusCode::OK, "success") } else { (StatusCode::MULTI_STATUS, "partial_success") };
    Ok((status, Json(BatchAnswer { status: word.into(), received: raw.len(), stored: outcome.stored, duplicates: outcome.duplicates, failed })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read through `IntegrationQuery::parse`; declared for the document
pub struct ListParams {
    /// Words of the name or title.
    q: Option<String>,
    /// mulesoft, workato, boomi, in-house, airflow or other.
    platform: Option<String>,
    /// A system's name: integrations from or to it.
    system: Option<String>,
    /// A team: integrations it owns or co-owns.
    owner: Option<String>,
    /// healthy, degraded, failing, late, unknown or paused.
    health: Option<String>,
    classification: Option<String>,
    trigger: Option<String>,
    lifecycle: Option<String>,
    /// A catalog component's name: integrations to or from a system that is it.
    component: Option<String>,
    /// A partner's name: integrations to or from a system it hosts or is reached through.
    #[param(max_length = 100)]
    partner: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// 1 to 200 (50).
    limit: Option<String>,
}

/// Integrations by name, with their health and last 30 days; filtered, a page at a time.
#[utoipa::path(
    get,
    path = "/integrations",
    tag = "integrations",
    params(ListParams),
    responses((status = 200, body = IntegrationPage), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn list_integrations(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<IntegrationPage>, ApiError> {
    let query = IntegrationQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    service::list(&state.pool, &caller.principal, &query, Utc::now()).await.map(Json).map_err(|e| caller.fail(e))
}

/// One integration: its flow, health, service levels, error budget and 13 months of days.
#[utoipa::path(
    get,
    path = "/integrations/{name}",
    tag = "integrations",
    params(("name" = String, Path, description = "The integration's name")),
    responses((status = 200, body = IntegrationDetail), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn get_integration(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<IntegrationDetail>, ApiError> {
    service::get(&state.pool, &caller.principal, &name, Utc::now()).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read through `RunQuery::parse`; declared for the document
pub struct RunParams {
    /// One of the run states.
    state: Option<String>,
    /// `YYYY-MM-DD` or an RFC 3339 time: runs from then.
    since: Option<String>,
    /// Runs before then.
    until: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// 1 to 200 (50).
    limit: Option<String>,
}

/// An integration's runs, newest first, a page at a time: by start, or (before a START is seen) by end
/// or arrival, and never later than a day after the run's first event arrived (a clock far ahead
/// does not pin a run to the top).
#[utoipa::path(
    get,
    path = "/integrations/{name}/runs",
    tag = "integrations",
    params(("name" = String, Path, description = "The integration's name"), RunParams),
    responses((status = 200, body = RunPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<Json<RunPage>, ApiError> {
    let query = RunQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    service::list_runs(&state.pool, &caller.principal, &name, &query).await.map(Json).map_err(|e| caller.fail(e))
}

/// One run with every event as it came, its merged facets and its retry chain.
#[utoipa::path(
    get,
    path = "/integration-runs/{run_id}",
    tag = "integrations",
    params(("run_id" = Uuid, Path, description = "The OpenLineage run id")),
    responses((status = 200, body = RunDetail), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn get_run(State(state): State<AppState>, caller: Caller, ApiPath(run_id): ApiPath<Uuid>) -> Result<Json<RunDetail>, ApiError> {
    service::get_run(&state.pool, &caller.principal, run_id).await.map(Json).map_err(|e| caller.fail(e))
}

/// Jobs that sent events but match no integration: claim one by registering an integration with
/// its `job_namespace` and `job_name`.
#[utoipa::path(
    get,
    path = "/integrations/unregistered-jobs",
    tag = "integrations",
    responses((status = 200, body = Vec<UnregisteredJob>)),
    security(("token" = []))
)]
pub async fn unregistered_jobs(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<UnregisteredJob>>, ApiError> {
    service::unregistered_jobs(&state.pool, &caller.principal).await.map(Json).map_err(|e| caller.fail(e))
}

/// Every system, by name.
#[utoipa::path(
    get,
    path = "/integration-systems",
    tag = "integrations",
    responses((status = 200, body = Vec<SystemView>)),
    security(("token" = []))
)]
pub async fn list_systems(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<SystemView>>, ApiError> {
    service::list_systems(&state.pool, &caller.principal).await.map(Json).map_err(|e| caller.fail(e))
}

/// One system and the integrations into and out of it.
#[utoipa::path(
    get,
    path = "/integration-systems/{name}",
    tag = "integrations",
    params(("name" = String, Path, description = "The system's name")),
    responses((status = 200, body = SystemDetail), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn get_system(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<SystemDetail>, ApiError> {
    service::get_system(&state.pool, &caller.principal, &name, Utc::now()).await.map(Json).map_err(|e| caller.fail(e))
}

/// A system as it was at a past moment, rebuilt from the audit log, beside how it is now.
#[utoipa::path(
    get,
    path = "/integration-systems/{name}/as-of",
    tag = "integrations",
    params(("name" = String, Path, description = "The system's name"), app::audit::types::AsOfQuery),
    responses((status = 200, body = app::audit::types::AsOf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn system_as_of(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>, ApiQuery(q): ApiQuery<app::audit::types::AsOfQuery>) -> Result<Json<app::audit::types::AsOf>, ApiError> {
    as_of(&state, &caller, true, &name, &q).await
}

/// A system's (`system`) or an integration's answer as of `q.at`.
async fn as_of(state: &AppState, caller: &Caller, system: bool, name: &str, q: &app::audit::types::AsOfQuery) -> Result<Json<app::audit::types::AsOf>, ApiError> {
    let at = app::audit::service::parse_moment("at", &q.at, Utc::now()).map_err(|e| caller.fail(AppError::from(e)))?;
    service::as_of(&state.pool, &caller.principal, system, name, at).await.map(Json).map_err(|e| caller.fail(e))
}

/// An integration as it was at a past moment, rebuilt from the audit log, beside how it is now.
#[utoipa::path(
    get,
    path = "/integrations/{name}/as-of",
    tag = "integrations",
    params(("name" = String, Path, description = "The integration's name"), app::audit::types::AsOfQuery),
    responses((status = 200, body = app::audit::types::AsOf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn integration_as_of(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>, ApiQuery(q): ApiQuery<app::audit::types::AsOfQuery>) -> Result<Json<app::audit::types::AsOf>, ApiError> {
    as_of(&state, &caller, false, &name, &q).await
}

/// The map of every integration: systems as nodes, integrations as edges.
#[utoipa::path(
    get,
    path = "/integration-map",
    tag = "integrations",
    responses((status = 200, body = SystemMap)),
    security(("token" = []))
)]
pub async fn system_map(State(state): State<AppState>, caller: Caller) -> Result<Json<SystemMap>, ApiError> {
    service::system_map(&state.pool, &caller.principal).await.map(Json).map_err(|e| caller.fail(e))
}

/// Registers a system (a member of its owning team, or an admin).
#[utoipa::path(
    post,
    path = "/integration-systems",
    tag = "integrations",
    request_body = SystemForm,
    responses((status = 201, body = SystemDetail), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn create_system(State(state): State<AppState>, caller: Caller, ApiJson(form): ApiJson<SystemForm>) -> Result<(StatusCode, Json<SystemDetail>), ApiError> {
    let draft = form.parse().map_err(|p| caller.fail(AppError::InvalidFields(p)))?;
    service::create_system(&state.pool, &caller.principal, &draft, &caller.meta).await.map_err(|e| caller.fail(e))?;
    let detail = service::get_system(&state.pool, &caller.principal, &draft.name, Utc::now()).await.map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// Changes a system (a member of its owning team, or an admin): every field as its form states
/// them, the name from the path. Here its owners say which partner hosts it, or which it is
/// reached through (`hosted_by`, `reached_via`: a partner's name, or empty for none).
#[utoipa::path(
    put,
    path = "/integration-systems/{name}",
    tag = "integrations",
    params(("name" = String, Path, description = "The system's name")),
    request_body = SystemForm,
    responses((status = 200, body = SystemDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn edit_system(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>, ApiJson(form): ApiJson<SystemForm>) -> Result<Json<SystemDetail>, ApiError> {
    let form = SystemForm { name, ..form };
    let draft = form.parse().map_err(|p| caller.fail(AppError::InvalidFields(p)))?;
    service::edit_system(&state.pool, &caller.principal, &draft, &caller.meta).await.map_err(|e| caller.fail(e))?;
    service::get_system(&state.pool, &caller.principal, &draft.name, Utc::now()).await.map(Json).map_err(|e| caller.fail(e))
}

/// Registers an integration (a member of its owning team, or an admin). One that carries
/// confidential or PCI data, or whose target is outside the company, waits for approval
/// (`summary.status` is `pending`, `pending_approval` names the request). Naming the
/// `job_namespace`/`job_name` of an unregistered job claims it, with its runs.
#[utoipa::path(
    post,
    path = "/integrations",
    tag = "integrations",
    request_body = IntegrationForm,
    responses((status = 201, body = IntegrationDetail), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn register_integration(State(state): State<AppState>, caller: Caller, ApiJson(form): ApiJson<IntegrationForm>) -> Result<(StatusCode, Json<IntegrationDetail>), ApiError> {
    let draft = form.parse().map_err(|p| caller.fail(AppError::InvalidFields(p)))?;
    let now = Utc::now();
    service::register_integration(&state.pool, &caller.principal, &draft, &caller.meta, now).await.map_err(|e| caller.fail(e))?;
    let detail = service::get(&state.pool, &caller.principal, &draft.name, now).await.map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(detail)))
}

/// A change to an integration: the fields to change (the rest stay) and the `version` read.
#[derive(Deserialize, ToSchema)]
pub struct IntegrationPatch {
    /// The `version` of the integration as read; a change made meanwhile refuses this one (409).
    version: i32,
    #[serde(flatten)]
    #[schema(inline)]
    fields: HashMap<String, String>,
}

/// Changes an integration (members of an owning team, or admins): the fields given replace
/// theirs. Raising the classification waits for approval (`pending_approval`).
#[utoipa::path(
    patch,
    path = "/integrations/{name}",
    tag = "integrations",
    params(("name" = String, Path, description = "The integration's name")),
    request_body = IntegrationPatch,
    responses((status = 200, body = IntegrationDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn edit_integration(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(patch): ApiJson<IntegrationPatch>,
) -> Result<Json<IntegrationDetail>, ApiError> {
    let now = Utc::now();
    let current = service::get(&state.pool, &caller.principal, &name, now).await.map_err(|e| caller.fail(e))?;
    let mut form = app::integrations::types::form_of(&current);
    for (field, value) in &patch.fields {
        if !form.set(field, value) {
            return Err(caller.fail(AppError::Invalid { field: field.clone(), message: "no such field of an integration".into() }));
        }
    }
    let draft = form.parse().map_err(|p| caller.fail(AppError::InvalidFields(p)))?;
    if draft.name != name {
        return Err(caller.fail(AppError::Invalid { field: "name".into(), message: "an integration's name does not change".into() }));
    }
    service::edit_integration(&state.pool, &caller.principal, &draft, patch.version, &caller.meta, now).await.map_err(|e| caller.fail(e))?;
    service::get(&state.pool, &caller.principal, &name, now).await.map(Json).map_err(|e| caller.fail(e))
}
