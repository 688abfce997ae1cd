//! Integrations server functions: context in, one service call, a DTO out; and what an
//! integrations error is at the edge.
use super::types::{IntegrationDetail, IntegrationForm, IntegrationPage, RunDetail, RunPage, SystemDetail, SystemForm, SystemView, UnregisteredJob};
use crate::error::AppError;
use crate::graph::LaidOut;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
impl From<super::service::IntegrationError> for AppError {
    fn from(e: super::service::IntegrationError) -> Self {
        use super::service::IntegrationError as E;
        match e {
            E::Refused(r) => r.into(),
            E::BadEvent(r) => AppError::Invalid { field: r.pointer, message: r.message },
            e @ E::StaleVersion => AppError::Conflict(e.to_string()),
            E::Approval(e) => e.into(),
            e @ E::Database(_) => AppError::internal(e),
        }
    }
}

#[cfg(feature = "ssr")]
fn fail(e: super::service::IntegrationError) -> AppError {
    crate::context::respond(e.into())
}

#[cfg(feature = "ssr")]
fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// One page of integrations for the list page's query string.
#[server(endpoint = "integrations/list")]
pub async fn list_integrations(query: String) -> Result<IntegrationPage, AppError> {
    let pairs = pairs(&query);
    let q = super::types::IntegrationQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
        .map_err(|p| crate::context::respond(p.into()))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::list(&pool, &principal, &q, chrono::Utc::now()).await.map_err(fail)
}

/// What an integration's page shows: the integration, a page of its runs, its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationView {
    pub detail: IntegrationDetail,
    pub runs: RunPage,
    pub history: Vec<crate::audit::types::AuditEntry>,
}

/// An integration's page: the integration, the first page of its runs, and its history.
#[server(endpoint = "integrations/get")]
pub async fn get_integration(name: String, runs: String) -> Result<IntegrationView, AppError> {
    let pairs = pairs(&runs);
    let q = super::types::RunQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
        .map_err(|p| crate::context::respond(p.into()))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let detail = super::service::get(&pool, &principal, &name, chrono::Utc::now()).await.map_err(fail)?;
    let runs = super::service::list_runs(&pool, &principal, &name, &q).await.map_err(fail)?;
    let history = crate::audit::service::history(&pool, &principal, "integration", &detail.summary.id.to_string(), 50)
        .await
        .map_err(|e| crate::context::respond(e.into()))?;
    Ok(IntegrationView { detail, runs, history })
}

/// An integration (or, with `system`, a system) as it was at a past moment, from the audit log,
/// beside how it is now.
#[server(endpoint = "integrations/as-of")]
pub async fn as_of(system: bool, name: String, at: String) -> Result<crate::audit::types::AsOf, AppError> {
    let at = crate::audit::service::parse_moment("as_of", &at, chrono::Utc::now()).map_err(|e| crate::context::respond(e.into()))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::as_of(&pool, &principal, system, &name, at).await.map_err(fail)
}

/// The edit form of an integration, filled in, and the version it was read at.
#[server(endpoint = "integrations/edit-form")]
pub async fn get_edit_form(name: String) -> Result<(IntegrationForm, i32), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let detail = super::service::get(&pool, &principal, &name, chrono::Utc::now()).await.map_err(fail)?;
    Ok((super::types::form_of(&detail), detail.version))
}

/// Saves an edit: at once, or (raising the classification) through approval.
#[server(endpoint = "integrations/edit")]
pub async fn edit_integration(version: i32, #[server(flatten)] form: IntegrationForm) -> Result<Saved, AppError> {
    let typed = form_pairs(&form);
    let typed: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let path = format!("/integrations/{}/edit", url::form_urlencoded::byte_serialize(form.name.as_bytes()).collect::<String>());
    let back = |e: AppError| crate::ui::form::send_back(&path, &typed, e);
    let draft = form.parse().map_err(|p| back(AppError::InvalidFields(p)))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    let approval = super::service::edit_integration(&pool, &principal, &draft, version, &meta, chrono::Utc::now()).await.map_err(|e| back(e.into()))?;
    let href = format!("/integrations/{}", draft.name);
    if crate::context::accepts_html() {
        leptos_axum::redirect(&format!("{href}?saved=1"));
    }
    let message = if approval.is_some() { "Saved; the new classification waits for approval." } else { "Saved." };
    Ok(Saved { href, message: message.into() })
}

/// The newest runs of an integration (the page polls this for live updates).
#[server(endpoint = "integrations/runs")]
pub async fn recent_runs(name: String) -> Result<RunPage, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let q = super::types::RunQuery { limit: 20, ..Default::default() };
    super::service::list_runs(&pool, &principal, &name, &q).await.map_err(fail)
}

#[server(endpoint = "integrations/run")]
pub async fn get_run(id: String) -> Result<RunDetail, AppError> {
    let run_id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| crate::context::respond(AppError::Invalid { field: "run".into(), message: format!("\"{id}\" is not a run id") }))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::get_run(&pool, &principal, run_id).await.map_err(fail)
}

/// The systems page: every system, and the map of every integration drawn.
#[server(endpoint = "integrations/systems")]
pub async fn list_systems() -> Result<(Vec<SystemView>, LaidOut), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let systems = super::service::list_systems(&pool, &principal).await.map_err(fail)?;
    let map = super::service::map_drawing(&pool, &principal, None).await.map_err(fail)?;
    Ok((systems, map))
}

/// A system's page: the system, its integrations in and out, its neighbourhood drawn, and its
/// history.
#[server(endpoint = "integrations/system")]
pub async fn get_system(name: String) -> Result<(SystemDetail, LaidOut, Vec<crate::audit::types::AuditEntry>), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let detail = super::service::get_system(&pool, &principal, &name, chrono::Utc::now()).await.map_err(fail)?;
    let map = super::service::map_drawing(&pool, &principal, Some(&name)).await.map_err(fail)?;
    let history = crate::audit::service::history(&pool, &principal, "integration_system", &detail.system.id.to_string(), 50)
        .await
        .map_err(|e| crate::context::respond(e.into()))?;
    Ok((detail, map, history))
}

#[server(endpoint = "integrations/unregistered")]
pub async fn unregistered_jobs() -> Result<Vec<UnregisteredJob>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::unregistered_jobs(&pool, &principal).await.map_err(fail)
}

/// What a form post answers: where to go next, and what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub href: String,
    pub message: String,
}

/// Registers an integration (or claims an unregistered job). Every field as the form posts it.
#[server(endpoint = "integrations/register")]
pub async fn register_integration(#[server(flatten)] form: IntegrationForm) -> Result<Saved, AppError> {
    let typed = form_pairs(&form);
    let typed: Vec<(&str, &str)> = typed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let back = |e: AppError| crate::ui::form::send_back("/integrations/new", &typed, e);
    let draft = form.parse().map_err(|p| back(AppError::InvalidFields(p)))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    let r = super::service::register_integration(&pool, &principal, &draft, &meta, chrono::Utc::now()).await.map_err(|e| back(e.into()))?;
    let href = format!("/integrations/{}", draft.name);
    let message = match r.approval {
        Some(_) => format!("{} is registered and waits for approval.", draft.name),
        None => format!("{} is registered.", draft.name),
    };
    if crate::context::accepts_html() {
        leptos_axum::redirect(&format!("{href}?registered=1"));
    }
    Ok(Saved { href, message })
}

/// The system form's fields and values, in order.
#[cfg(feature = "ssr")]
fn system_pairs(form: &SystemForm) -> [(&'static str, &str); 13] {
    [
        ("name", form.name.as_str()), ("title", form.title.as_str()), ("description", form.description.as_str()), ("kind", form.kind.as_str()),
        ("vendor", form.vendor.as_str()), ("environment", form.environment.as_str()), ("external", form.external.as_str()),
        ("owner", form.owner.as_str()), ("classification", form.classification.as_str()), ("contacts", form.contacts.as_str()),
        ("component", form.component.as_str()), ("hosted_by", form.hosted_by.as_str()), ("reached_via", form.reached_via.as_str()),
    ]
}

/// Changes a system: every field as the form states it (its owning team, or an admin).
#[server(endpoint = "integrations/edit-system")]
pub async fn edit_system(#[server(flatten)] form: SystemForm) -> Result<Saved, AppError> {
    let mut typed = system_pairs(&form).to_vec();
    // the form is shown again with what was typed, empty fields included
    typed.push(("edit", "1"));
    // the name as typed, encoded: it goes into the redirect's Location
    let path = format!("/integrations/systems/{}", url::form_urlencoded::byte_serialize(form.name.as_bytes()).collect::<String>());
    let back = |e: AppError| crate::ui::form::send_back(&path, &typed, e);
    let draft = form.parse().map_err(|p| back(AppError::InvalidFields(p)))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    super::service::edit_system(&pool, &principal, &draft, &meta).await.map_err(|e| back(e.into()))?;
    let href = format!("/integrations/systems/{}", draft.name);
    if crate::context::accepts_html() {
        leptos_axum::redirect(&format!("{href}?saved=1"));
    }
    Ok(Saved { href, message: "Saved.".into() })
}

/// Registers a system.
#[server(endpoint = "integrations/create-system")]
pub async fn create_system(#[server(flatten)] form: SystemForm) -> Result<Saved, AppError> {
    let typed = system_pairs(&form);
    let back = |e: AppError| crate::ui::form::send_back("/integrations/systems", &typed, e);
    let draft = form.parse().map_err(|p| back(AppError::InvalidFields(p)))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    super::service::create_system(&pool, &principal, &draft, &meta).await.map_err(|e| back(e.into()))?;
    let href = format!("/integrations/systems/{}", draft.name);
    if crate::context::accepts_html() {
        leptos_axum::redirect(&href);
    }
    Ok(Saved { href, message: format!("{} is registered.", draft.name) })
}

/// The integration form's fields and values, in order.
pub fn form_pairs(f: &IntegrationForm) -> Vec<(&'static str, String)> {
    super::types::IntegrationForm::FIELDS.iter().map(|k| (*k, f.get(k).to_owned())).collect()
}
