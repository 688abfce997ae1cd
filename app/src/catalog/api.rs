//! Catalog server functions: context in, one service call, a DTO out.
use super::draft::ServiceForm;
use super::types::{CatalogOverview, DependencyGraph, EntityDetail, EntityPage, EntitySummary, Facets, ImportReport, TeamPage};
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a catalog error is at the edge.
#[cfg(feature = "ssr")]
impl From<super::service::CatalogError> for AppError {
    fn from(e: super::service::CatalogError) -> Self {
        use super::service::CatalogError as E;
        match e {
            E::Refused(r) => r.into(),
            e @ E::StaleVersion => AppError::Invalid { field: "version".into(), message: e.to_string() },
            E::Read(e) => e.into(),
            E::Approval(e) => e.into(),
            e @ E::Database(_) => AppError::internal(e),
        }
    }
}

#[cfg(feature = "ssr")]
fn fail(e: super::service::CatalogError) -> AppError {
    crate::context::respond(e.into())
}

#[cfg(feature = "ssr")]
fn entity_ref(kind: &str, namespace: &str, name: &str) -> Result<super::types::EntityRef, AppError> {
    let kinds = ["component", "api", "system", "domain", "resource"];
    super::types::EntityRef::parse(&format!("{kind}:{namespace}/{name}"), "component", "default", &kinds)
        .map_err(|message| crate::context::respond(AppError::Invalid { field: "entity".into(), message }))
}

#[server(endpoint = "catalog/overview")]
pub async fn get_overview() -> Result<CatalogOverview, AppError> {
    crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::overview(&pool).await.map_err(fail)
}

/// The search box's results as you type: the ten best matches.
#[server(endpoint = "catalog/search")]
pub async fn search_entities(text: String) -> Result<Vec<EntitySummary>, AppError> {
    let text = super::types::SearchText::parse(&text)
        .map_err(|message| crate::context::respond(AppError::Invalid { field: "search".into(), message }))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::quick_search(&pool, &principal, &text).await.map_err(fail)
}

/// A page of the catalog and the counts per facet, for the list page's query string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogView {
    pub page: EntityPage,
    pub facets: Facets,
}

/// `query` is the list page's query string (`kind=api&owner=ledger`).
#[server(endpoint = "catalog/list")]
pub async fn list_catalog(query: String) -> Result<CatalogView, AppError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let q = super::types::ListQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
        .map_err(|p| crate::context::respond(AppError::Invalid { field: p.field, message: p.message }))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let page = super::service::list(&pool, &principal, &q).await.map_err(fail)?;
    let facets = super::service::facets(&pool, &principal, &q).await.map_err(fail)?;
    Ok(CatalogView { page, facets })
}

#[server(endpoint = "catalog/entity")]
pub async fn get_entity(kind: String, namespace: String, name: String) -> Result<EntityDetail, AppError> {
    let r = entity_ref(&kind, &namespace, &name)?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::detail(&pool, &principal, &r).await.map_err(fail)
}

/// An entity as it was at a past moment, from the audit log, beside how it is now.
#[server(endpoint = "catalog/as-of")]
pub async fn entity_as_of(kind: String, namespace: String, name: String, at: String) -> Result<crate::audit::types::AsOf, AppError> {
    let r = entity_ref(&kind, &namespace, &name)?;
    let at = crate::audit::service::parse_moment("as_of", &at, chrono::Utc::now()).map_err(|e| crate::context::respond(e.into()))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::as_of(&pool, &principal, &r, at).await.map_err(fail)
}

#[server(endpoint = "catalog/graph")]
pub async fn get_graph(kind: String, namespace: String, name: String, depth: u8) -> Result<DependencyGraph, AppError> {
    let r = entity_ref(&kind, &namespace, &name)?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::graph(&pool, &principal, &r, depth).await.map_err(fail)
}

/// References kept unresolved (admins).
#[server(endpoint = "catalog/unresolved")]
pub async fn list_unresolved() -> Result<Vec<super::types::UnresolvedRef>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::unresolved(&pool, &principal).await.map_err(fail)
}

#[server(endpoint = "catalog/team")]
pub async fn get_team(slug: String) -> Result<TeamPage, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::team_page(&pool, &principal, &slug).await.map_err(fail)
}

/// The edit form of a component, filled in, and the version it was read at.
#[server(endpoint = "catalog/edit-form")]
pub async fn get_edit_form(name: String) -> Result<(ServiceForm, i32), AppError> {
    let r = entity_ref("component", "default", &name)?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::edit_form(&pool, &principal, &r).await.map_err(fail)
}

/// What a form post answers: where to go next, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub href: String,
    pub message: String,
}

/// What was typed into the service form, to send a refused post back with.
#[cfg(feature = "ssr")]
fn typed(form: &ServiceForm) -> Vec<(&'static str, &str)> {
    ServiceForm::FIELDS.iter().map(|f| (*f, form.get(f))).collect()
}

/// Registers a service (it waits for approval). Every field as the form posts it.
#[server(endpoint = "catalog/register")]
pub async fn register_service(#[server(flatten)] form: ServiceForm) -> Result<Saved, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    match super::service::register(&pool, &principal, &form, &meta).await {
        Ok(r) => {
            let href = r.entity.href();
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("{href}?registered=1"));
            }
            Ok(Saved { href, message: format!("{} is registered and waits for approval.", form.name) })
        }
        Err(e) => Err(crate::ui::form::send_back("/catalog/new", &typed(&form), e.into())),
    }
}

/// Saves an edit of a component: plain fields at once, owners and tier through approval.
#[server(endpoint = "catalog/edit")]
pub async fn edit_service(version: i32, #[server(flatten)] form: ServiceForm) -> Result<Saved, AppError> {
    let r = entity_ref("component", "default", &form.name)?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    match super::service::edit(&pool, &principal, &r, version, &form, &meta).await {
        Ok(e) => {
            let mut parts = Vec::new();
            if !e.applied.is_empty() {
                parts.push(format!("Saved: {}.", e.applied.join(", ")));
            }
            if e.approval.is_some() {
                parts.push("The change of owner or tier waits for approval.".to_owned());
            }
            if parts.is_empty() {
                parts.push("Nothing changed.".to_owned());
            }
            let href = r.href();
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("{href}?saved=1"));
            }
            Ok(Saved { href, message: parts.join(" ") })
        }
        Err(e) => {
            let version = version.to_string();
            let typed = [typed(&form), vec![("version", version.as_str())]].concat();
            Err(crate::ui::form::send_back(&format!("{}/edit", r.href()), &typed, e.into()))
        }
    }
}

#[server(endpoint = "catalog/deprecate")]
pub async fn deprecate_entity(kind: String, namespace: String, name: String) -> Result<(), AppError> {
    let r = entity_ref(&kind, &namespace, &name)?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::deprecate(&pool, &principal, &r, &crate::context::request_meta()).await.map_err(fail)
}

#[server(endpoint = "catalog/delete")]
pub async fn delete_entity(kind: String, namespace: String, name: String) -> Result<(), AppError> {
    let r = entity_ref(&kind, &namespace, &name)?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::delete(&pool, &principal, &r, &crate::context::request_meta()).await.map_err(fail)?;
    if crate::context::accepts_html() {
        leptos_axum::redirect("/catalog?deleted=1");
    }
    Ok(())
}

#[cfg(feature = "ssr")]
const IMPORT_RETURN: &str = "catalog-import";

/// What the last import posted without JavaScript came back with (once), for the import page.
#[server(endpoint = "catalog/import-returned")]
pub async fn import_returned() -> Result<Option<super::types::ImportReturn>, AppError> {
    crate::context::principal()?.require_read()?;
    Ok(crate::context::flash_take(IMPORT_RETURN).await)
}

/// Imports descriptor YAML: pasted text (`content`, one file of one or more documents), or the
/// files chosen in the browser (`files`, a JSON list of `{path, content}`, so Location targets
/// and `$text` resolve between them).
#[server(endpoint = "catalog/import")]
pub async fn import_yaml(content: String, files: Option<String>, dry_run: Option<String>) -> Result<ImportReport, AppError> {
    use super::backstage::SourceFile;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let chosen: Vec<SourceFile> = match files.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => Vec::new(),
        Some(json) => serde_json::from_str(json).map_err(|_| {
            crate::context::respond(AppError::Invalid { field: "files".into(), message: "the chosen files could not be read".into() })
        })?,
    };
    let pasted = chosen.is_empty();
    let mut files = if pasted { vec![SourceFile { path: "catalog-info.yaml".into(), content: content.clone() }] } else { chosen };
    if let Some(definitions) = use_context::<std::sync::Arc<super::definitions::Definitions>>() {
        definitions.fetch_into(&mut files, &crate::untrusted::DESCRIPTORS).await;
    }
    let options = super::import::Options { dry_run: dry_run.is_some(), atomic: false };
    let result = super::import::import(&pool, &principal, files, options, &crate::context::request_meta()).await;
    if crate::context::accepts_html() {
        // without JavaScript: back to the page, with the report (and what was pasted) kept in the
        // session for it, not in the address (where a link could plant a text to import)
        let returned = super::types::ImportReturn {
            content: if pasted { content } else { String::new() },
            dry_run: dry_run.is_some(),
            report: result.as_ref().ok().cloned(),
            error: result.as_ref().err().map(ToString::to_string),
        };
        crate::context::flash_put(IMPORT_RETURN, &returned).await;
        leptos_axum::redirect("/catalog/import");
        return Ok(result.unwrap_or(ImportReport { dry_run: true, applied: false, approval_id: None, items: vec![] }));
    }
    result.map_err(fail)
}
