//! The catalog over REST, in Backstage's shapes (shaped by the catalog domain) so existing
//! tooling can point at it:
//! entities (filters, keyset cursor, fields), one entity by name (JSON or YAML), facets,
//! import of descriptor files (multipart, with a dry run) and export of the whole catalog.
use super::error::{ApiError, ApiMultipart, ApiPath, ApiQuery, Caller, ErrorBody};
use crate::startup::AppState;
use app::catalog::backstage::SourceFile;
use app::catalog::types::{EntityRef, FacetCount, ImportJob, ImportReport, ListQuery};
use uuid::Uuid;
use app::catalog::{import, service};
use app::error::AppError;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

fn pairs(raw: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn invalid(caller: &Caller, field: &str, message: impl Into<String>) -> ApiError {
    caller.fail(AppError::Invalid { field: field.into(), message: message.into() })
}

#[derive(Serialize, ToSchema)]
pub struct EntityList {
    /// Entities in Backstage's shape (`apiVersion`, `kind`, `metadata`, `spec`, `relations`).
    #[schema(value_type = Vec<Object>)]
    items: Vec<Value>,
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
}

#[derive(Serialize, ToSchema)]
pub struct PageInfo {
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// The kinds of entity the catalog keeps (for the document).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum KindName {
    Component,
    Api,
    System,
    Domain,
    Resource,
}

/// The list's orders (for the document).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum SortName {
    /// Best match first (the default with `q`; by name without it).
    Relevance,
    Name,
    Updated,
    Tier,
}

/// Data classifications (for the document).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ClassificationName {
    Public,
    Internal,
    Confidential,
    Pci,
}

/// The files of an import (for the document): one part per file.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportFiles {
    /// Descriptor files (YAML text), one part each; a part's filename is its path relative to the
    /// others (so `Location` targets and `$text` resolve).
    #[schema(min_items = 1)]
    file: Vec<String>,
}

/// The facets `entity-facets` counts (for the document).
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum FacetName {
    #[schema(rename = "kind")]
    Kind,
    #[schema(rename = "spec.type")]
    Type,
    #[schema(rename = "spec.owner")]
    Owner,
    #[schema(rename = "spec.lifecycle")]
    Lifecycle,
    #[schema(rename = "metadata.tags")]
    Tags,
    #[schema(rename = "switchyard.dev/tier")]
    Tier,
    #[schema(rename = "switchyard.dev/data-classification")]
    Classification,
}

/// Entities, a page at a time (keyset cursor), with the catalog list's filters.
#[utoipa::path(
    get,
    path = "/catalog/entities",
    tag = "catalog",
    params(
        ("q" = Option<String>, Query, max_length = 200, description = "Full-text and fuzzy search"),
        ("kind" = inline(Option<KindName>), Query),
        ("type" = Option<String>, Query), ("owner" = Option<String>, Query, description = "A team slug, or user:<name>"),
        ("lifecycle" = Option<String>, Query, pattern = r"^\S{0,63}$", description = "Empty: any"), ("tier" = Option<u8>, Query, minimum = 0, maximum = 3),
        ("tag" = Option<String>, Query),
        ("classification" = inline(Option<ClassificationName>), Query), ("sort" = inline(Option<SortName>), Query),
        ("limit" = Option<u16>, Query, minimum = 1, maximum = 200, description = "Default 50"),
        ("cursor" = Option<String>, Query, description = "`pageInfo.nextCursor` of the previous page"),
        ("fields" = Option<String>, Query, description = "Comma-separated dotted paths to keep, like metadata.name,kind"),
    ),
    responses((status = 200, body = EntityList), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn list_entities(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Json<EntityList>, ApiError> {
    let pairs = pairs(&raw);
    let get = |k: &str| {
        let k = if k == "after" { "cursor" } else { k };
        pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
    };
    let q = ListQuery::parse(get).map_err(|p| invalid(&caller, &p.field, p.message))?;
    let fields: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "fields")
        .flat_map(|(_, v)| v.split(',').map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()).collect::<Vec<_>>())
        .collect();
    let (items, next_cursor) =
        service::documents(&state.pool, &caller.principal, &q, &fields).await.map_err(|e| caller.fail(e))?;
    Ok(Json(EntityList { items, page_info: PageInfo { next_cursor } }))
}

/// An entity as it was at a past moment, rebuilt from the audit log, beside how it is now: each
/// field then and now, whether it differs, the last change before that moment and how many
/// came after.
#[utoipa::path(
    get,
    path = "/catalog/entities/by-name/{kind}/{namespace}/{name}/as-of",
    tag = "catalog",
    params(
        ("kind" = inline(KindName), Path),
        ("namespace" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"),
        ("name" = String, Path, max_length = 63, pattern = r"^[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*$"),
        app::audit::types::AsOfQuery,
    ),
    responses((status = 200, body = app::audit::types::AsOf), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn entity_as_of(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((kind, namespace, name)): ApiPath<(String, String, String)>,
    ApiQuery(q): ApiQuery<app::audit::types::AsOfQuery>,
) -> Result<Json<app::audit::types::AsOf>, ApiError> {
    let kinds = ["component", "api", "system", "domain", "resource"];
    let r = EntityRef::parse(&format!("{kind}:{namespace}/{name}"), "component", "default", &kinds).map_err(|m| invalid(&caller, "entity", m))?;
    let at = app::audit::service::parse_moment("at", &q.at, chrono::Utc::now()).map_err(|e| caller.fail(AppError::from(e)))?;
    service::as_of(&state.pool, &caller.principal, &r, at).await.map(Json).map_err(|e| caller.fail(e))
}

/// One entity by kind, namespace and name; `?format=yaml` for its descriptor.
#[utoipa::path(
    get,
    path = "/catalog/entities/by-name/{kind}/{namespace}/{name}",
    tag = "catalog",
    params(
        ("kind" = inline(KindName), Path),
        ("namespace" = String, Path, pattern = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"),
        ("name" = String, Path, max_length = 63, pattern = r"^[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*$"),
        ("format" = Option<String>, Query, pattern = "^(json|yaml)$", description = "json (default) or yaml"),
    ),
    responses(
        (status = 200, body = Object),
        (status = 404, body = ErrorBody),
        (status = 422, description = "A kind, namespace or name that cannot name an entity", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn entity_by_name(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((kind, namespace, name)): ApiPath<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let kinds = ["component", "api", "system", "domain", "resource"];
    let r = EntityRef::parse(&format!("{kind}:{namespace}/{name}"), "component", "default", &kinds)
        .map_err(|m| invalid(&caller, "entity", m))?;
    let yaml = pairs(&raw).iter().any(|(k, v)| k == "format" && v == "yaml");
    if yaml {
        let text = service::export(&state.pool, &caller.principal, Some(&r)).await.map_err(|e| caller.fail(e))?;
        return Ok(([(header::CONTENT_TYPE, "application/yaml; charset=utf-8")], text).into_response());
    }
    let doc = service::document(&state.pool, &caller.principal, &r).await.map_err(|e| caller.fail(e))?;
    Ok(Json(doc).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct FacetsResponse {
    /// Counts per value, per facet asked for.
    facets: BTreeMap<String, Vec<FacetCount>>,
}

/// Counts per value of the asked facets (`facet=kind&facet=spec.type`), with the list's filters.
#[utoipa::path(
    get,
    path = "/catalog/entity-facets",
    tag = "catalog",
    params(("facet" = inline(Vec<FacetName>), Query, min_items = 1, description = "Repeatable")),
    responses((status = 200, body = FacetsResponse), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn entity_facets(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Json<FacetsResponse>, ApiError> {
    let pairs = pairs(&raw);
    let q = ListQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
        .map_err(|p| invalid(&caller, &p.field, p.message))?;
    let f = service::facets(&state.pool, &caller.principal, &q).await.map_err(|e| caller.fail(e))?;
    let mut facets = BTreeMap::new();
    for name in pairs.iter().filter(|(k, _)| k == "facet").map(|(_, v)| v.as_str()) {
        let values = match name {
            "kind" => f.kind.clone(),
            "spec.type" => f.entity_type.clone(),
            "spec.owner" => f.owner.clone(),
            "spec.lifecycle" => f.lifecycle.clone(),
            "metadata.tags" => f.tag.clone(),
            "switchyard.dev/tier" | "metadata.annotations.switchyard.dev/tier" => f.tier.clone(),
            "switchyard.dev/data-classification" | "metadata.annotations.switchyard.dev/data-classification" => f.classification.clone(),
            other => return Err(invalid(&caller, "facet", format!("unknown facet \"{other}\": use kind, spec.type, spec.owner, spec.lifecycle, metadata.tags, switchyard.dev/tier or switchyard.dev/data-classification"))),
        };
        facets.insert(name.to_owned(), values);
    }
    if facets.is_empty() {
        return Err(invalid(&caller, "facet", "name at least one facet, like ?facet=kind"));
    }
    Ok(Json(FacetsResponse { facets }))
}

/// Imports descriptor files: a multipart body, one part per file, each part's filename its
/// path relative to the others (so `Location` targets and `$text` resolve). With
/// `?dry_run=true` it only reports. Every entity that is not refused is written, in one
/// transaction; with `?atomic=true` one refused entity refuses all. With `?background=true`
/// (for a large catalog) it answers 202 at once with a job to follow at
/// `/catalog/imports/{id}`, which ends with the same report.
#[utoipa::path(
    post,
    path = "/catalog/import",
    tag = "catalog",
    params(
        ("dry_run" = Option<bool>, Query, description = "Only report what would change"),
        ("atomic" = Option<bool>, Query, description = "Write nothing when any entity is refused"),
        ("background" = Option<bool>, Query, description = "Answer 202 at once with a job that reports progress, then the report"),
    ),
    request_body(content = ImportFiles, content_type = "multipart/form-data", description = "One part per descriptor file; the filename is its relative path"),
    responses(
        (status = 200, description = "The report: each entity created, updated, unchanged, skipped or refused, and whether it was applied or sent for approval", body = ImportReport),
        (status = 202, description = "With `background=true`: the job, to follow at its `Location`", body = ImportJob,
         headers(("location" = String, description = "/api/v1/catalog/imports/{id}"))),
        (status = 413, description = "Over the server's body limit (`server.body_limit_bytes`), 20 MiB of files or 5,000 files", body = ErrorBody),
        (status = 422, description = "A file over a reading limit (nesting, documents, values, aliases), or not multipart", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn import_files(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery, ApiMultipart(mut body): ApiMultipart) -> Result<Response, ApiError> {
    let query = pairs(&raw);
    let flag = |name: &str| -> Result<bool, ApiError> {
        let values: Vec<&str> = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        match values.as_slice() {
            [] => Ok(false),
            ["true" | "1"] => Ok(true),
            ["false" | "0"] => Ok(false),
            _ => Err(invalid(&caller, name, format!("{name} is true or false, given once"))),
        }
    };
    let options = import::Options { dry_run: flag("dry_run")?, atomic: flag("atomic")? };
    let background = flag("background")?;
    let mut files = Vec::new();
    let mut total = 0usize;
    let unreadable = |field: &str, e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            let limit = state.settings.server.body_limit_bytes;
            caller.fail(AppError::TooLarge {
                field: "body".into(),
                message: format!("the request is over this server's limit of {limit} bytes (server.body_limit_bytes): send the files in several imports"),
            })
        } else {
            invalid(&caller, field, format!("could not be read: {e}"))
        }
    };
    while let Some(part) = body.next_field().await.map_err(|e| unreadable("body", e))? {
        let path = part
            .file_name()
            .or(part.name())
            .map(str::to_owned)
            .ok_or_else(|| invalid(&caller, "body", "every part needs a filename: its path relative to the others"))?;
        let bytes = part.bytes().await.map_err(|e| unreadable(&path, e))?;
        total += bytes.len();
        let limits = &app::untrusted::DESCRIPTORS;
        if total > limits.max_bytes || files.len() >= limits.max_files {
            let sizes = files.iter().map(|f: &SourceFile| f.content.len()).chain([bytes.len()]);
            app::untrusted::check_sizes(limits, "body", sizes).map_err(|e| caller.fail(e))?;
        }
        let content = String::from_utf8(bytes.to_vec()).map_err(|_| invalid(&caller, &path, "is not UTF-8 text"))?;
        files.push(SourceFile { path, content });
    }
    state.definitions.fetch_into(&mut files, &app::untrusted::DESCRIPTORS).await;
    if background {
        let id = import::start(&state.pool, &caller.principal, files, options, &caller.meta).await.map_err(|e| caller.fail(e))?;
        let job = import::job(&state.pool, &caller.principal, id).await.map_err(|e| caller.fail(e))?;
        let location = format!("/api/v1/catalog/imports/{id}");
        return Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(job)).into_response());
    }
    import::import(&state.pool, &caller.principal, files, options, &caller.meta)
        .await
        .map(|report| Json(report).into_response())
        .map_err(|e| caller.fail(e))
}

/// A background import: its progress while it runs, then its report (or why it failed, having
/// written nothing). Only whoever started it, or an admin, sees it.
#[utoipa::path(
    get,
    path = "/catalog/imports/{id}",
    tag = "catalog",
    params(("id" = Uuid, Path, description = "The job's id, from the import's answer")),
    responses((status = 200, body = ImportJob), (status = 404, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn import_job(State(state): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> Result<Json<ImportJob>, ApiError> {
    import::job(&state.pool, &caller.principal, id).await.map(Json).map_err(|e| caller.fail(e))
}

/// The whole catalog as Backstage YAML (teams as Groups first), ready to import elsewhere.
#[utoipa::path(
    get,
    path = "/catalog/export",
    tag = "catalog",
    responses((status = 200, description = "Multi-document YAML", content_type = "application/yaml", body = String)),
    security(("token" = []))
)]
pub async fn export_catalog(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let text = service::export(&state.pool, &caller.principal, None).await.map_err(|e| caller.fail(e))?;
    Ok((
        [(header::CONTENT_TYPE, "application/yaml; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"catalog-info.yaml\"")],
        text,
    )
        .into_response())
}
