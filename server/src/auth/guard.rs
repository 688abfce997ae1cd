//! The checks a request passes, by its route's group (`startup::Access`): who is it
//! (authenticate), may an anonymous request go there at all (deny by default), and does a
//! state-changing request come from our own pages (CSRF, by Origin/Referer). Signed
//! machine-to-machine routes pass none of them: their handlers check the signature.
use super::{SignedIn, SIGNED_IN};
use crate::startup::AppState;
use app::context::REQUEST_ID_HEADER;
use app::iam::principal::Principal;
use app::iam::service as iam;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde_json::json;
use tower_sessions::Session;

fn request_id(req: &Request) -> String {
    req.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// The JSON error shape of every API and server-function refusal.
pub fn json_error(status: StatusCode, code: &str, message: &str, request_id: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message, "request_id": request_id } }))).into_response()
}

/// Puts the signed-in `Principal` into the request's extensions when the browser session is
/// live. A session that was ended elsewhere (or expired) is cleared here.
pub async fn authenticate(State(state): State<AppState>, session: Session, mut req: Request, next: Next) -> Response {
    // A bearer token, when present, is the only credential considered.
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let id = request_id(&req);
        let Some(secret) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")) else {
            metrics::counter!("switchyard_api_token_requests_total", "result" => "refused").increment(1);
            return json_error(StatusCode::UNAUTHORIZED, "invalid_token", "Use `Authorization: Bearer <token>`.", &id);
        };
        return match app::iam::tokens::authenticate(&state.pool, secret.trim(), state.settings.session.token_owner_idle_days).await {
            Ok(Some(principal)) => {
                metrics::counter!("switchyard_api_token_requests_total", "result" => "accepted").increment(1);
                crate::middleware::RequestSpan::of(&req).record("user", principal.username.as_str());
                req.extensions_mut().insert(principal);
                next.run(req).await
            }
            Ok(None) => {
                metrics::counter!("switchyard_api_token_requests_total", "result" => "refused").increment(1);
                json_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The API token is unknown, revoked or expired, or its owner has not signed in for too long (signing in again revives it).",
                &id,
            )
            }
            Err(e) => {
                tracing::error!(request_id = %id, error = %e, "token lookup failed");
                json_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Switchyard cannot check tokens right now.", &id)
            }
        };
    }
    let signed_in: Option<SignedIn> = match session.get(SIGNED_IN).await {
        Ok(s) => s,
        Err(e) => {
            // the session store is the database: if it cannot answer, neither can we
            let id = request_id(&req);
            tracing::error!(request_id = %id, error = %e, "session store unavailable");
            return crate::middleware::error_page(StatusCode::SERVICE_UNAVAILABLE, &id);
        }
    };
    if let Some(signed_in) = signed_in {
        match iam::session_principal(&state.pool, signed_in.session_id).await {
            Ok(Some((principal, first_this_minute))) => {
                // the idle timeout counts from the last request, not from sign-in: the session
                // layer saves (and renews the cookie's and the store's expiry) only a session
                // marked changed, so mark it, once a minute
                if first_this_minute {
                    let idle = time::Duration::minutes(state.settings.session.idle_timeout_mins);
                    session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(idle)));
                }
                crate::middleware::RequestSpan::of(&req).record("user", principal.username.as_str());
                req.extensions_mut().insert(principal);
            }
            Ok(None) => {
                let _ = session.flush().await;
            }
            Err(e) => {
                let id = request_id(&req);
                tracing::error!(request_id = %id, error = %e, "session lookup failed");
                return crate::middleware::error_page(StatusCode::SERVICE_UNAVAILABLE, &id);
            }
        }
    }
    next.run(req).await
}

/// Deny by default (every route of the `Access::Principal` group, and any path no route
/// matches): anonymous requests go to sign-in (pages) or get 401 (API, server functions).
pub async fn require_principal(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.extensions().get::<Principal>().is_some() {
        return next.run(req).await;
    }
    let id = request_id(&req);
    if path.starts_with("/api/") || req.method() != Method::GET {
        return json_error(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in, or send an API token, to use this.", &id);
    }
    let target = req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    Redirect::to(&format!("/auth/login?next={next_param}")).into_response()
}

/// A state-changing request must come from a page of ours: its Origin (or, without one, its
/// Referer) must be the public URL's origin. A request without cookies carries no ambient
/// credentials (a bearer token, or nothing: authentication answers it) and is exempt.
pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let headers = req.headers();
    if headers.get(header::COOKIE).is_none() {
        return next.run(req).await;
    }
    let expected = state.settings.server.public_origin();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
    let same_site = match (origin, referer) {
        (Some(o), _) => o == expected,
        (None, Some(r)) => r == expected || r.starts_with(&format!("{expected}/")),
        (None, None) => false,
    };
    if same_site {
        return next.run(req).await;
    }
    let id = request_id(&req);
    tracing::warn!(request_id = %id, ?origin, ?referer, path = %req.uri().path(), "cross-site request refused");
    json_error(
        StatusCode::FORBIDDEN,
        "cross_site_request",
        "This request did not come from a Switchyard page (its Origin does not match), so it was refused.",
        &id,
    )
}
