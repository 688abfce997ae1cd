//! What a server function takes from its request's context: the pool, the caller, the
//! request id and address.
use crate::error::AppError;
use crate::iam::principal::Principal;
use leptos::prelude::use_context;
use sqlx::PgPool;
use std::net::SocketAddr;

/// The request header that carries the id every log line and error page shows.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Where a change came from, for its audit row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub ip: String,
}

impl RequestMeta {
    /// Reads the request id header and the peer address (the server's connect info).
    pub fn from_parts(parts: &http::request::Parts) -> Self {
        RequestMeta {
            request_id: parts
                .headers
                .get(REQUEST_ID_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_owned(),
            ip: parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
        }
    }
}

/// The database pool the server put into the Leptos context.
pub fn pool() -> Result<PgPool, AppError> {
    use_context::<PgPool>().ok_or_else(|| AppError::internal("no database pool in context"))
}

/// The deploy queue (its writer and the workers' waker) the server put into the Leptos context.
pub fn deploy_queue() -> Result<crate::deploys::queue::Queue, AppError> {
    use_context::<crate::deploys::queue::Queue>().ok_or_else(|| AppError::internal("no deploy queue in context"))
}

/// The registered approval subjects (`crate::approval_subjects`) the server put into the Leptos context.
pub fn approval_subjects() -> Result<crate::approvals::subject::Subjects, AppError> {
    use_context::<crate::approvals::subject::Subjects>().ok_or_else(|| AppError::internal("no approval subjects in context"))
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

/// Keeps `value` in the browser's session for the next page it opens: what a form post without
/// JavaScript typed and what came of it, carried across its redirect in the session, never in
/// the address, where a link could plant it for someone else to submit.
pub async fn flash_put(key: &str, value: &impl serde::Serialize) {
    if let Some(session) = parts().and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned()) {
        if let Err(e) = session.insert(&format!("flash:{key}"), value).await {
            tracing::warn!(error = %e, "flash not kept");
        }
    }
}

/// Takes what `flash_put` kept under `key`, once. Saved at once: a page streams after its
/// headers, when the session layer has already written the session.
pub async fn flash_take<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    let session = parts().and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned())?;
    let value = session.remove::<T>(&format!("flash:{key}")).await.ok().flatten()?;
    if let Err(e) = session.save().await {
        tracing::warn!(error = %e, "flash not cleared");
    }
    Some(value)
}

/// The signed-in caller (the server's authentication layer put them in the request).
pub fn principal() -> Result<Principal, AppError> {
    parts()
        .and_then(|p| p.extensions.get::<Principal>().cloned())
        .ok_or(AppError::Unauthenticated)
}

/// The caller when signed in, without failing otherwise.
pub fn maybe_principal() -> Option<Principal> {
    parts().and_then(|p| p.extensions.get::<Principal>().cloned())
}

/// True when the request came from the browser itself (a form post or a navigation, which
/// accept HTML), not from the app's own fetch: then a server function answers with a redirect.
pub fn accepts_html() -> bool {
    parts()
        .and_then(|p| p.headers.get(http::header::ACCEPT)?.to_str().ok().map(|a| a.contains("text/html")))
        .unwrap_or(false)
}

pub fn request_meta() -> RequestMeta {
    parts().map(|p| RequestMeta::from_parts(&p)).unwrap_or_default()
}

/// The id of the request being served (set by the server's request-id layer), or "-".
pub fn request_id() -> String {
    request_meta().request_id
}

/// Sets the HTTP status of the server function's response to the error's, and returns it.
/// For pages, which only readers see: a caller who may not read (a token with only the ingest
/// scope, say) is answered 403 while the shell renders, before anything streams, so the status
/// never depends on which of the page's reads finished first.
pub fn deny_unless_reader() {
    if maybe_principal().is_some_and(|p| p.require_read().is_err()) {
        respond(AppError::Forbidden);
    }
}

pub fn respond(error: AppError) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.status()) {
            response.set_status(status);
        }
    }
    error
}
