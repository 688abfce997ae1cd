//! The network over REST: a GraphML drawing in (the network team or an admin), and what the
//! network's shape says out: single points of failure, paths, each partner's redundancy; BGP
//! session states in from a collector.
use super::error::{ApiError, ApiJson, ApiMultipart, ApiPath, ApiQuery, Caller, ErrorBody};
use crate::startup::AppState;
use app::error::AppError;
use app::topology::service::{self, changes, GraphmlImport};
use app::topology::types::{
    CircuitDetail, CircuitPage, RiskGroup, RiskGroupForm, RiskGroups, LinkPage, ProviderPage, SessionPage, MAX_LINK_PAGE, DeviceDetail, DevicePage, DeviceQuery, Drawing, DrawingImport, PageQuery, PartnerDetail, PartnerPage, Paths, Redundancy, SessionView, SiteDetail,
    SitePage, StateOutcome, SyncJob, WeakPoints, ChangeOutcome, DeviceEdit, InterfaceHistory, InterfaceOutcome, MaintenanceForm, MaintenanceList, MaintenanceWindow,
    BlastRadius, ServiceNetwork,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The most a GraphML file may weigh.
const MAX_GRAPHML_BYTES: usize = 20 * 1024 * 1024;

fn invalid(caller: &Caller, field: &str, message: impl Into<String>) -> ApiError {
    caller.fail(AppError::Invalid { field: field.into(), message: message.into() })
}

fn flag(caller: &Caller, q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(invalid(caller, name, format!("{name} is true or false"))),
    }
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct GraphmlFile {
    /// One GraphML file (as the Internet Topology Zoo, yEd or Gephi write it).
    file: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ImportParams {
    /// Only report what would change.
    dry_run: Option<bool>,
    /// The site the nodes go in (else the graph's `Network` attribute, else the file's name).
    site: Option<String>,
}

/// Imports a GraphML drawing: nodes become devices of one site, edges links (parallel edges
/// kept), attributes taken by their declared names. Importing the same file again changes
/// nothing and says so; a changed file updates and removes what changed. Elements that cannot
/// be taken are listed by their id in the file.
#[utoipa::path(
    post,
    path = "/topology/import/graphml",
    tag = "topology",
    params(ImportParams),
    request_body(content = GraphmlFile, content_type = "multipart/form-data", description = "One part: the GraphML file"),
    responses(
        (status = 200, description = "What was (or, dry, would be) created, updated, unchanged and removed, and the elements left out", body = DrawingImport),
        (status = 403, description = "Only the network team or an admin changes the network", body = ErrorBody),
        (status = 413, description = "Over 20 MiB, or over the server's body limit", body = ErrorBody),
        (status = 422, description = "Not one GraphML file: which part and why", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn import_graphml(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
    ApiMultipart(mut body): ApiMultipart,
) -> Result<Json<DrawingImport>, ApiError> {
    let dry_run = flag(&caller, &q, "dry_run")?;
    // who may is decided before the file is read
    service::require_change(&caller.principal).map_err(|e| caller.fail(e))?;
    let too_large = |limit: usize| {
        caller.fail(AppError::TooLarge { field: "file".into(), message: format!("a GraphML file is at most {limit} bytes") })
    };
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            too_large(state.settings.server.body_limit_bytes.min(MAX_GRAPHML_BYTES))
        } else {
            invalid(&caller, "file", format!("could not be read: {e}"))
        }
    };
    let Some(part) = body.next_field().await.map_err(unreadable)? else {
        return Err(invalid(&caller, "file", "send one GraphML file as a multipart part"));
    };
    let file_name = part.file_name().or(part.name()).unwrap_or("drawing.graphml").chars().take(200).collect::<String>();
    let bytes = part.bytes().await.map_err(unreadable)?;
    if bytes.len() > MAX_GRAPHML_BYTES {
        return Err(too_large(MAX_GRAPHML_BYTES));
    }
    if body.next_field().await.map_err(unreadable)?.is_some() {
        return Err(invalid(&caller, "file", "send one file at a time"));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid(&caller, &file_name, "is not UTF-8 text"))?;
    let file = GraphmlImport { file_name: &file_name, text, site: q.get("site").map(String::as_str), dry_run };
    service::import_graphml(&state.pool, &caller.principal, file, &caller.meta).await.map(Json).map_err(|e| caller.fail(e))
}

/// The devices and links (or circuits) whose loss alone splits the network, each with what it
/// cuts off (partners by name), those that cut off most first. Parallel links and LAG members
/// are one path, not two bridges.
#[utoipa::path(
    get,
    path = "/topology/single-points-of-failure",
    tag = "topology",
    params(AsOfParam),
    responses((status = 200, body = WeakPoints), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn single_points_of_failure(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<WeakPoints>, ApiError> {
    service::weak_points(&state.pool, &caller.principal, q.get("as_of").map(String::as_str)).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PathParams {
    /// A device's name.
    from: String,
    /// A device's or a partner's name.
    to: String,
    /// How many paths, 1 to 20 (5).
    k: Option<u32>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct BlastParams {
    /// device, link, circuit, bgp-session, site, provider, partner or risk-group.
    kind: String,
    /// Its name: a circuit as `provider/cid`, a link by its id.
    name: String,
    /// A past moment (RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC): the network as it was then; the
    /// systems, integrations, services and deploys beyond it are as they are now.
    #[param(max_length = 40)]
    as_of: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AsOfParam {
    /// A past moment (RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC): the network as it was then.
    #[param(max_length = 40)]
    as_of: Option<String>,
}

/// "If this fails": the partners cut off or left with a single path, the BGP sessions lost, the
/// integration systems those partners host, the integrations to them (owner, on-call, next run),
/// the services at their ends and those that depend on them, and the deploys waiting or running
/// for those — in that order, each with why.
#[utoipa::path(
    get,
    path = "/blast-radius",
    tag = "topology",
    params(BlastParams),
    responses((status = 200, body = BlastRadius), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn blast_radius(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<BlastRadius>, ApiError> {
    let need = |field: &str, what: &str| q.get(field).map(String::as_str).ok_or_else(|| invalid(&caller, field, format!("{field} is required: {what}")));
    let (kind, name) = (need("kind", "what kind of thing fails")?, need("name", "what fails")?);
    service::blast::blast_radius(&state.pool, &caller.principal, kind, name, q.get("as_of").map(String::as_str)).await.map(Json).map_err(|e| caller.fail(e))
}

/// What a service needs from the network (the reverse of a blast radius): the integrations of
/// the systems it is, the systems at their other ends, the partners hosting those, and each
/// partner's independent paths from the data centers with the single points of failure on them.
#[utoipa::path(
    get,
    path = "/catalog/entities/by-name/component/{namespace}/{name}/network",
    tag = "topology",
    params(
        ("namespace" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"),
        ("name" = String, Path, max_length = 63, pattern = r"^[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*$"),
        AsOfParam,
    ),
    responses((status = 200, body = ServiceNetwork), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn service_network(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((namespace, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<Json<ServiceNetwork>, ApiError> {
    let r = app::catalog::types::EntityRef::parse(&format!("component:{namespace}/{name}"), "component", "default", &["component"])
        .map_err(|m| invalid(&caller, "entity", m))?;
    service::blast::service_network(&state.pool, &caller.principal, &r.namespace, &r.name, q.get("as_of").map(String::as_str)).await.map(Json).map_err(|e| caller.fail(e))
}

/// The paths between two devices, or a device and a partner, fewest hops first, with the links
/// (or circuits) of each hop.
#[utoipa::path(
    get,
    path = "/topology/paths",
    tag = "topology",
    params(PathParams),
    responses((status = 200, body = Paths), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn paths(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<Paths>, ApiError> {
    let need = |name: &str| q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()).ok_or_else(|| invalid(&caller, name, format!("name a device as {name}")));
    let (from, to) = (need("from")?, need("to")?);
    let k = match q.get("k") {
        None => 5,
        Some(k) => k.parse::<usize>().map_err(|_| invalid(&caller, "k", format!("k is a number of paths, 1 to {}", service::MAX_PATHS)))?,
    };
    service::paths(&state.pool, &caller.principal, from, to, k).await.map(Json).map_err(|e| caller.fail(e))
}

/// How many paths with no device and no link in common reach a partner from each data center
/// and colocation: `none`, `single` (a finding) or `redundant`.
#[utoipa::path(
    get,
    path = "/topology/partners/{name}/redundancy",
    tag = "topology",
    params(("name" = String, Path, description = "The partner's name")),
    responses((status = 200, body = Redundancy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn partner_redundancy(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<Redundancy>, ApiError> {
    service::redundancy(&state.pool, &caller.principal, &name).await.map(Json).map_err(|e| caller.fail(e))
}

/// One session's state as a collector saw it (for the document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SessionStateReport {
    /// The device the session is on.
    device: String,
    /// The session's remote address.
    remote_address: String,
    /// idle, connect, active, opensent, openconfirm or established.
    state: String,
    /// When the collector saw it (RFC 3339; now when left out); at most five minutes ahead.
    at: Option<String>,
    prefixes_received: Option<u32>,
    prefixes_sent: Option<u32>,
}

/// Takes a collector's BGP session states, 1 to 1,000 at a time (a token with the
/// `network-state` scope). Each change of state is kept with its time; sessions Switchyard does
/// not know are named back; a bad report refuses the batch, named by its JSON pointer.
#[utoipa::path(
    post,
    path = "/topology/bgp-sessions/state",
    tag = "topology",
    request_body(content = Vec<SessionStateReport>, description = "The states, in any order"),
    responses(
        (status = 200, body = StateOutcome),
        (status = 403, description = "Not a token with the network-state scope", body = ErrorBody),
        (status = 422, description = "A report that does not read: its pointer (`/3/state`) and why; nothing written", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn report_session_states(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<Json<StateOutcome>, ApiError> {
    service::report_session_states(&state.pool, &caller.principal, &body).await.map(Json).map_err(|e| caller.fail(e))
}

/// A BGP session, with its last 50 changes of state, newest first.
#[utoipa::path(
    get,
    path = "/topology/bgp-sessions/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The session's name")),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn bgp_session(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<SessionView>, ApiError> {
    service::session(&state.pool, &caller.principal, &name).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GraphParams {
    /// Only this site's devices, and the partners they reach.
    site: Option<String>,
    /// Only devices of this role.
    role: Option<String>,
}

/// The network as the topology view draws it: devices and partners placed (sites by their
/// coordinates or a grid, devices in tiers by role), single points of failure marked, and what
/// joins them. Made once per version of the network, never on a page view.
#[utoipa::path(
    get,
    path = "/topology/graph",
    tag = "topology",
    params(GraphParams),
    responses((status = 200, body = Drawing), (status = 403, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn graph(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let pick = |name: &str| q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    if pick("site").is_none() && pick("role").is_none() {
        // the whole network: the kept JSON as it is
        let json = service::drawing_json(&state.pool, &caller.principal).await.map_err(|e| caller.fail(e))?;
        return Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], json).into_response());
    }
    service::drawing(&state.pool, &caller.principal, pick("site"), pick("role")).await.map(|d| Json(d).into_response()).map_err(|e| caller.fail(e))
}

/// Starts a sync from the NetBox in the configuration (`topology.netbox.url`, `.token`; admins)
/// and answers 202 with the job at once: it reads sites, racks, devices, interfaces, providers,
/// circuits, their ends and cables, then applies them in one transaction (nothing if it fails
/// half-way). Follow it at `/topology/sync/{id}`.
#[utoipa::path(
    post,
    path = "/topology/sync/netbox",
    tag = "topology",
    params(
        ("dry_run" = Option<bool>, Query, description = "Only report what would change"),
        ("full" = Option<bool>, Query, description = "Read every object, not only the interfaces and cables changed since this NetBox's last sync (a sync reads everything anyway when its last full read is a day old)"),
    ),
    responses(
        (status = 202, description = "Started: the job, to follow at its `Location`", body = SyncJob,
         headers(("location" = String, description = "/api/v1/topology/sync/{id}"))),
        (status = 403, description = "Admins only", body = ErrorBody),
        (status = 409, description = "No NetBox is configured, or a sync is running", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn start_netbox_sync(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<(StatusCode, [(axum::http::HeaderName, String); 1], Json<SyncJob>), ApiError> {
    let (dry_run, full) = (flag(&caller, &q, "dry_run")?, flag(&caller, &q, "full")?);
    caller.principal.require_admin().map_err(|e| caller.fail(e))?;
    let netbox = state.settings.topology.netbox.client().map_err(|m| caller.fail(AppError::Conflict(m)))?;
    let id = service::start_netbox_sync(&state.pool, &caller.principal, netbox, dry_run, full, &caller.meta).await.map_err(|e| caller.fail(e))?;
    let job = service::netbox_sync(&state.pool, &caller.principal, id).await.map_err(|e| caller.fail(e))?;
    Ok((StatusCode::ACCEPTED, [(axum::http::header::LOCATION, format!("/api/v1/topology/sync/{id}"))], Json(job)))
}

/// A NetBox sync: its progress while it runs, then its report (created, updated, unchanged and
/// removed, kind by kind), or why it failed having applied nothing.
#[utoipa::path(
    get,
    path = "/topology/sync/{id}",
    tag = "topology",
    params(("id" = Uuid, Path, description = "The sync's id, from its start")),
    responses((status = 200, body = SyncJob), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn netbox_sync(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<SyncJob>, ApiError> {
    service::netbox_sync(&state.pool, &caller.principal, id).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DeviceParams {
    /// A site's name.
    site: Option<String>,
    /// A role (`border`, `core`, `leaf` …).
    role: Option<String>,
    /// A part of the name.
    q: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// 1 to 500 (50).
    limit: Option<String>,
}

/// Devices in name order, a page at a time, with filters.
#[utoipa::path(
    get,
    path = "/topology/devices",
    tag = "topology",
    params(DeviceParams),
    responses((status = 200, body = DevicePage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn devices(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<DevicePage>, ApiError> {
    let query = DeviceQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    service::devices(&state.pool, &caller.principal, &query).await.map(Json).map_err(|e| caller.fail(e))
}

/// A device: its interfaces (each with what its cable reaches), links, BGP sessions, and, when
/// its loss alone splits the network, what it would cut off.
#[utoipa::path(
    get,
    path = "/topology/devices/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The device's name")),
    responses((status = 200, body = DeviceDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn device(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<DeviceDetail>, ApiError> {
    service::device(&state.pool, &caller.principal, &name).await.map(Json).map_err(|e| caller.fail(e))
}

/// A device as the network held it at a past moment, beside now: its site, role, status, PCI
/// scope, links and circuits, BGP sessions, and the partners it alone cut off.
#[utoipa::path(
    get,
    path = "/topology/devices/{name}/as-of",
    tag = "topology",
    params(("name" = String, Path, description = "The device's name"), app::audit::types::AsOfQuery),
    responses((status = 200, body = app::audit::types::AsOf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn device_as_of(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>, ApiQuery(q): ApiQuery<app::audit::types::AsOfQuery>) -> Result<Json<app::audit::types::AsOf>, ApiError> {
    service::as_of(&state.pool, &caller.principal, "device", &name, &q.at).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// The `next` of the previous page.
    after: Option<String>,
    /// 1 to 500 (50).
    limit: Option<String>,
}

/// Sites in name order, a page at a time, each with how many devices it holds.
#[utoipa::path(
    get,
    path = "/topology/sites",
    tag = "topology",
    params(PageParams),
    responses((status = 200, body = SitePage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn sites(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<SitePage>, ApiError> {
    let page = PageQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    service::sites(&state.pool, &caller.principal, &page).await.map(Json).map_err(|e| caller.fail(e))
}

/// A site: its racks, devices, the links that leave it and the circuits that end there.
#[utoipa::path(
    get,
    path = "/topology/sites/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The site's name")),
    responses((status = 200, body = SiteDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn site(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<SiteDetail>, ApiError> {
    service::site(&state.pool, &caller.principal, &name).await.map(Json).map_err(|e| caller.fail(e))
}

/// Partners (banks, card networks, clouds, carriers) in name order, a page at a time, with how
/// many of their BGP sessions are established.
#[utoipa::path(
    get,
    path = "/topology/partners",
    tag = "topology",
    params(PageParams),
    responses((status = 200, body = PartnerPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn partners(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<PartnerPage>, ApiError> {
    let page = PageQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    service::partners(&state.pool, &caller.principal, &page).await.map(Json).map_err(|e| caller.fail(e))
}

/// A partner: its sessions and their states, the circuits that reach it, the sites where it
/// peers, and its independent paths from each data center, with a finding for one path or none.
#[utoipa::path(
    get,
    path = "/topology/partners/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The partner's name")),
    responses((status = 200, body = PartnerDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn partner(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<Json<PartnerDetail>, ApiError> {
    service::partner(&state.pool, &caller.principal, &name).await.map(Json).map_err(|e| caller.fail(e))
}

/// A partner as the network held it at a past moment, beside now: its kind, BGP sessions,
/// circuits, independent paths from the data centers with the single points of failure on them,
/// and its paths from each site.
#[utoipa::path(
    get,
    path = "/topology/partners/{name}/as-of",
    tag = "topology",
    params(("name" = String, Path, description = "The partner's name"), app::audit::types::AsOfQuery),
    responses((status = 200, body = app::audit::types::AsOf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn partner_as_of(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>, ApiQuery(q): ApiQuery<app::audit::types::AsOfQuery>) -> Result<Json<app::audit::types::AsOf>, ApiError> {
    service::as_of(&state.pool, &caller.principal, "partner", &name, &q.at).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CircuitParams {
    /// Only this provider's circuits.
    provider: Option<String>,
    /// The `next` of the previous page ("provider cid").
    after: Option<String>,
    /// 1 to 500 (50).
    limit: Option<String>,
}

/// Circuits by provider and circuit id, a page at a time, each with where its ends are.
#[utoipa::path(
    get,
    path = "/topology/circuits",
    tag = "topology",
    params(CircuitParams),
    responses((status = 200, body = CircuitPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn circuits(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<CircuitPage>, ApiError> {
    let page = PageQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    let provider = q.get("provider").map(|p| p.trim()).filter(|p| !p.is_empty());
    service::circuits(&state.pool, &caller.principal, provider, &page).await.map(Json).map_err(|e| caller.fail(e))
}

/// A circuit with its two ends: where each is, and the device and interface cabled to it.
#[utoipa::path(
    get,
    path = "/topology/circuits/{provider}/{cid}",
    tag = "topology",
    params(("provider" = String, Path, description = "The provider's name"), ("cid" = String, Path, description = "The circuit's id at the provider")),
    responses((status = 200, body = CircuitDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn circuit(State(state): State<AppState>, caller: Caller, ApiPath((provider, cid)): ApiPath<(String, String)>) -> Result<Json<CircuitDetail>, ApiError> {
    service::circuit(&state.pool, &caller.principal, &provider, &cid).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LinkParams {
    /// Only links with an end at this site's devices.
    site: Option<String>,
    /// The `next` of the previous page (a link's id).
    after: Option<String>,
    /// 1 to 1,000 (50).
    limit: Option<String>,
}

/// Links (cables, and links drawings declare) by id, a page at a time, each with its two ends:
/// a device and interface, or a circuit's end.
#[utoipa::path(
    get,
    path = "/topology/links",
    tag = "topology",
    params(LinkParams),
    responses((status = 200, body = LinkPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn links(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<LinkPage>, ApiError> {
    let page = PageQuery::parse_up_to(|k| q.get(k).cloned(), MAX_LINK_PAGE).map_err(|p| caller.fail(AppError::from(p)))?;
    let site = q.get("site").map(|s| s.trim()).filter(|s| !s.is_empty());
    service::links(&state.pool, &caller.principal, site, &page).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ProviderParams {
    /// The `next` of the previous page.
    after: Option<String>,
    /// 1 to 500 (50).
    limit: Option<String>,
}

/// Providers (carriers, clouds) in name order, with their circuits counted.
#[utoipa::path(
    get,
    path = "/topology/providers",
    tag = "topology",
    params(ProviderParams),
    responses((status = 200, body = ProviderPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn providers(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<ProviderPage>, ApiError> {
    let page = PageQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    service::providers(&state.pool, &caller.principal, &page).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SessionParams {
    /// Only this device's sessions.
    device: Option<String>,
    /// Only the sessions to this partner.
    partner: Option<String>,
    /// Only sessions in this state (idle, connect, active, opensent, openconfirm, established).
    state: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// 1 to 500 (50).
    limit: Option<String>,
}

/// BGP sessions in name order, a page at a time, with their state as last reported.
#[utoipa::path(
    get,
    path = "/topology/bgp-sessions",
    tag = "topology",
    params(SessionParams),
    responses((status = 200, body = SessionPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn bgp_sessions(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<SessionPage>, ApiError> {
    let page = PageQuery::parse(|k| q.get(k).cloned()).map_err(|p| caller.fail(AppError::from(p)))?;
    let text = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    for k in ["device", "partner", "state"] {
        if text(k).is_some_and(|v| v.chars().count() > 100) {
            return Err(invalid(&caller, k, format!("{k} is at most 100 characters")));
        }
    }
    let filter = service::SessionFilter { device: text("device"), partner: text("partner"), state: text("state") };
    service::sessions(&state.pool, &caller.principal, filter, &page).await.map(Json).map_err(|e| caller.fail(e))
}

/// Every risk group (things that fail together: one carrier's circuits, one building entry, one
/// power feed), each checked as one: what losing all of it at once would cut off.
#[utoipa::path(
    get,
    path = "/topology/risk-groups",
    tag = "topology",
    responses((status = 200, body = RiskGroups), (status = 403, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn risk_groups(State(state): State<AppState>, caller: Caller) -> Result<Json<RiskGroups>, ApiError> {
    service::risk_groups(&state.pool, &caller.principal).await.map(Json).map_err(|e| caller.fail(e))
}

/// Declares a risk group, or replaces what it holds (the network team or an admin): its kind and
/// its devices (by name), links (by id) and circuits (by provider and id). A member the network
/// does not have is named and nothing is written. Answers the group, checked.
#[utoipa::path(
    put,
    path = "/topology/risk-groups/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The group's name")),
    request_body = RiskGroupForm,
    responses(
        (status = 200, description = "Replaced", body = RiskGroup),
        (status = 201, description = "Declared", body = RiskGroup),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn save_risk_group(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(form): ApiJson<RiskGroupForm>,
) -> Result<(StatusCode, Json<RiskGroup>), ApiError> {
    let created = service::save_risk_group(&state.pool, &caller.principal, &name, &form, &caller.meta).await.map_err(|e| caller.fail(e))?;
    let all = service::risk_groups(&state.pool, &caller.principal).await.map_err(|e| caller.fail(e))?;
    let group = all.groups.into_iter().find(|g| g.name == name.trim()).ok_or_else(|| caller.fail(AppError::NotFound("That risk group".into())))?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(group)))
}

/// Removes a risk group (the network team or an admin).
#[utoipa::path(
    delete,
    path = "/topology/risk-groups/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The group's name")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn remove_risk_group(State(state): State<AppState>, caller: Caller, ApiPath(name): ApiPath<String>) -> Result<StatusCode, ApiError> {
    service::remove_risk_group(&state.pool, &caller.principal, &name, &caller.meta).await.map_err(|e| caller.fail(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// One interface's state as a collector saw it (for the document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InterfaceStateReport {
    /// The device the interface is on.
    device: String,
    /// The interface's name on it (`xe-0/0/1`).
    interface: String,
    /// up or down.
    state: String,
    /// When the collector saw it (RFC 3339; now when left out); at most five minutes ahead.
    at: Option<String>,
}

/// Takes a collector's interface states (up or down), 1 to 1,000 at a time (a token with the
/// `network-state` scope). Each change of state is kept with its time; interfaces Switchyard
/// does not know are named back; a bad report refuses the batch, named by its JSON pointer.
#[utoipa::path(
    post,
    path = "/topology/interfaces/state",
    tag = "topology",
    request_body(content = Vec<InterfaceStateReport>, description = "The states, in any order"),
    responses(
        (status = 200, body = InterfaceOutcome),
        (status = 403, description = "Not a token with the network-state scope", body = ErrorBody),
        (status = 422, description = "A report that does not read: its pointer (`/3/state`) and why; nothing written", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn report_interface_states(State(state): State<AppState>, caller: Caller, ApiJson(body): ApiJson<Value>) -> Result<Json<InterfaceOutcome>, ApiError> {
    changes::report_interface_states(&state.pool, &caller.principal, &body).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InterfaceHistoryParams {
    /// Only this interface's changes.
    interface: Option<String>,
    /// 1 to 500 (50).
    limit: Option<u32>,
}

/// A device's interface changes of state (up, down), newest first, as collectors reported them.
#[utoipa::path(
    get,
    path = "/topology/devices/{name}/interface-states",
    tag = "topology",
    params(("name" = String, Path, description = "The device's name"), InterfaceHistoryParams),
    responses((status = 200, body = InterfaceHistory), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn interface_states(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<Json<InterfaceHistory>, ApiError> {
    let limit = match q.get("limit") {
        None => 50,
        Some(l) => l.parse::<i64>().ok().filter(|l| (1..=500).contains(l)).ok_or_else(|| invalid(&caller, "limit", "limit is a number, 1 to 500"))?,
    };
    let interface = q.get("interface").map(|i| i.trim()).filter(|i| !i.is_empty());
    if interface.is_some_and(|i| i.chars().count() > 100) {
        return Err(invalid(&caller, "interface", "interface is at most 100 characters"));
    }
    changes::interface_history(&state.pool, &caller.principal, &name, interface, limit).await.map(Json).map_err(|e| caller.fail(e))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MaintenanceParams {
    /// From when (RFC 3339; now).
    from: Option<String>,
    /// Until when (RFC 3339; 28 days after `from`; at most 366 days after it).
    until: Option<String>,
}

/// Maintenance windows (planned work, carriers' notices) on devices, circuits and sites that
/// overlap a span of time, soonest first: the network's side of the change calendar.
#[utoipa::path(
    get,
    path = "/topology/maintenance",
    tag = "topology",
    params(MaintenanceParams),
    responses((status = 200, body = MaintenanceList), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn maintenance(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<HashMap<String, String>>) -> Result<Json<MaintenanceList>, ApiError> {
    let time = |name: &str| q.get(name).map(|raw| changes::parse_time(name, raw)).transpose().map_err(|e| caller.fail(e));
    let from = time("from")?.unwrap_or_else(chrono::Utc::now);
    let until = time("until")?.unwrap_or(from + chrono::Duration::days(28));
    if until - from > chrono::Duration::days(366) {
        return Err(invalid(&caller, "until", "ask for at most 366 days at a time"));
    }
    changes::maintenance(&state.pool, &caller.principal, from, until).await.map(Json).map_err(|e| caller.fail(e))
}

/// Puts planned work, or a carrier's notice, on one device, circuit or site (the network team or
/// an admin). Every problem in the form is named by its field; nothing is written then.
#[utoipa::path(
    post,
    path = "/topology/maintenance",
    tag = "topology",
    request_body = MaintenanceForm,
    responses(
        (status = 201, description = "On the calendar", body = MaintenanceWindow),
        (status = 403, body = ErrorBody),
        (status = 422, description = "Each problem by its field", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn plan_maintenance(State(state): State<AppState>, caller: Caller, ApiJson(form): ApiJson<MaintenanceForm>) -> Result<(StatusCode, Json<MaintenanceWindow>), ApiError> {
    let window = changes::plan_maintenance(&state.pool, &caller.principal, &form, &caller.meta).await.map_err(|e| caller.fail(e))?;
    Ok((StatusCode::CREATED, Json(window)))
}

/// Takes a maintenance window off the calendar (the network team or an admin).
#[utoipa::path(
    delete,
    path = "/topology/maintenance/{id}",
    tag = "topology",
    params(("id" = Uuid, Path, description = "The window's id")),
    responses((status = 204, description = "Removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn cancel_maintenance(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<StatusCode, ApiError> {
    changes::cancel_maintenance(&state.pool, &caller.principal, id, &caller.meta).await.map_err(|e| caller.fail(e))?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a change did, as HTTP: 200 when made, 202 when it waits for approval.
fn outcome(o: ChangeOutcome) -> (StatusCode, Json<ChangeOutcome>) {
    (if o.applied { StatusCode::OK } else { StatusCode::ACCEPTED }, Json(o))
}

/// Edits a device's status, role, platform or PCI scope (the network team or an admin). A device
/// in PCI scope (before or after the edit) changes only once approved: the answer is then 202
/// with the approval request, and `reason` is required.
#[utoipa::path(
    patch,
    path = "/topology/devices/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The device's name")),
    request_body = DeviceEdit,
    responses(
        (status = 200, description = "Changed", body = ChangeOutcome),
        (status = 202, description = "Waits for approval", body = ChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Bad input, a missing reason, or a request for it waits already (`request`)", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn edit_device(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(edit): ApiJson<DeviceEdit>,
) -> Result<(StatusCode, Json<ChangeOutcome>), ApiError> {
    changes::edit_device(&state.pool, &caller.principal, &name, &edit, &caller.meta).await.map(outcome).map_err(|e| caller.fail(e))
}

fn reason(caller: &Caller, q: &HashMap<String, String>) -> Result<Option<String>, ApiError> {
    match q.get("reason") {
        Some(r) if r.chars().count() > 1000 => Err(invalid(caller, "reason", "a reason is at most 1,000 characters")),
        r => Ok(r.cloned()),
    }
}

/// Removes a link (the network team or an admin). A link whose circuit reaches a partner is
/// removed only once approved: the answer is then 202 with the request, and `reason` is required.
#[utoipa::path(
    delete,
    path = "/topology/links/{id}",
    tag = "topology",
    params(("id" = Uuid, Path, description = "The link's id"), ("reason" = Option<String>, Query, description = "Why (required for a link to a partner)")),
    responses(
        (status = 200, description = "Removed", body = ChangeOutcome),
        (status = 202, description = "Waits for approval", body = ChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Bad input, a missing reason, or a request for it waits already (`request`)", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn remove_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<(StatusCode, Json<ChangeOutcome>), ApiError> {
    let why = reason(&caller, &q)?;
    changes::remove_link(&state.pool, &caller.principal, id, why, &caller.meta).await.map(outcome).map_err(|e| caller.fail(e))
}

/// Removes a BGP session (the network team or an admin). A session to a partner is removed only
/// once approved: the answer is then 202 with the request, and `reason` is required.
#[utoipa::path(
    delete,
    path = "/topology/bgp-sessions/{name}",
    tag = "topology",
    params(("name" = String, Path, description = "The session's name"), ("reason" = Option<String>, Query, description = "Why (required for a session to a partner)")),
    responses(
        (status = 200, description = "Removed", body = ChangeOutcome),
        (status = 202, description = "Waits for approval", body = ChangeOutcome),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Bad input, a missing reason, or a request for it waits already (`request`)", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn remove_session(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<(StatusCode, Json<ChangeOutcome>), ApiError> {
    let why = reason(&caller, &q)?;
    changes::remove_session(&state.pool, &caller.principal, &name, why, &caller.meta).await.map(outcome).map_err(|e| caller.fail(e))
}
