//! `/auth/login`, `/auth/callback`, `/auth/logout`, `/auth/signed-out`.
use super::oidc::{OidcError, PendingLogin};
use super::{safe_return_path, SignedIn, PENDING_LOGIN, SIGNED_IN};
use crate::plain;
use crate::startup::AppState;
use app::context::RequestMeta;
use app::iam::principal::Principal;
use app::iam::service as iam;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use std::net::SocketAddr;
use tower_sessions::Session;

fn meta(headers: &HeaderMap, peer: SocketAddr) -> RequestMeta {
    RequestMeta {
        request_id: headers
            .get(app::context::REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned(),
        ip: peer.ip().to_string(),
    }
}

fn failure(status: StatusCode, title: &str, message: &str, meta: &RequestMeta) -> Response {
    plain::page(status, title, &[message], &meta.request_id, &[("Try signing in again", "/auth/login")])
}

fn session_failure(e: impl std::fmt::Display, meta: &RequestMeta) -> Response {
    tracing::error!(request_id = %meta.request_id, error = %e, "session store failed");
    crate::middleware::error_page(StatusCode::INTERNAL_SERVER_ERROR, &meta.request_id)
}

/// How long a started sign-in waits for the provider's answer.
pub const PENDING_LOGIN_MINUTES: i64 = 10;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Starts the authorization-code flow and sends the browser to the provider.
pub async fn login(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let meta = meta(&headers, peer);
    let return_to = safe_return_path(q.next.as_deref());
    match state.oidc.begin(return_to).await {
        // a sign-in not finished in ten minutes is gone (anyone may start one: it must cost little)
        Ok((url, pending)) => match {
            session.set_expiry(Some(tower_sessions::Expiry::OnInactivity(time::Duration::minutes(PENDING_LOGIN_MINUTES))));
            session.insert(PENDING_LOGIN, pending).await
        } {
            Ok(()) => Redirect::to(url.as_str()).into_response(),
            Err(e) => session_failure(e, &meta),
        },
        Err(e) => {
            tracing::warn!(request_id = %meta.request_id, error = %e, "sign-in could not start");
            failure(
                StatusCode::SERVICE_UNAVAILABLE,
                "The company sign-in is not answering",
                "Switchyard could not reach the identity provider. It may be restarting; try again in a minute.",
                &meta,
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// A sign-in that did not happen, counted by why (`switchyard_signins_total`).
fn refused(reason: &'static str) {
    metrics::counter!("switchyard_signins_total", "outcome" => "refused", "reason" => reason).increment(1);
}

/// Checks state, exchanges the code, verifies the ID token, signs the user in on a new
/// session id, and returns them where they were going.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let meta = meta(&headers, peer);
    // One use only: taken out before anything else, so a replayed callback finds nothing.
    let pending: Option<PendingLogin> = match session.remove(PENDING_LOGIN).await {
        Ok(p) => p,
        Err(e) => return session_failure(e, &meta),
    };
    let Some(pending) = pending else {
        tracing::warn!(request_id = %meta.request_id, "callback without a sign-in in progress (replayed or expired)");
        refused("no_sign_in_in_progress");
        return failure(
            StatusCode::BAD_REQUEST,
            "This sign-in link has already been used",
            "The answer from the identity provider does not belong to a sign-in in progress in this browser. It may have been used already, or it expired.",
            &meta,
        );
    };
    if q.state.as_deref() != Some(pending.state.as_str()) {
        tracing::warn!(request_id = %meta.request_id, "callback state mismatch");
        refused("state_mismatch");
        return failure(
            StatusCode::BAD_REQUEST,
            "Sign-in could not be verified",
            "The answer from the identity provider does not match the sign-in this browser started (state mismatch).",
            &meta,
        );
    }
    if let Some(error) = q.error.as_deref() {
        tracing::info!(request_id = %meta.request_id, %error, "the provider ended the sign-in");
        refused(if error == "access_denied" { "cancelled" } else { "provider_refused" });
        let (title, message) = if error == "access_denied" {
            ("Sign-in cancelled", "You cancelled the sign-in at the company SSO. Nothing was changed.")
        } else {
            ("Sign-in refused", "The identity provider refused the sign-in.")
        };
        return failure(StatusCode::UNAUTHORIZED, title, message, &meta);
    }
    let Some(code) = q.code else {
        refused("no_code");
        return failure(StatusCode::BAD_REQUEST, "Sign-in could not be verified", "The identity provider sent no authorization code.", &meta);
    };
    let (claims, id_token) = match state.oidc.finish(&pending, code).await {
        Ok(ok) => ok,
        Err(OidcError::Unreachable(e)) => {
            tracing::warn!(request_id = %meta.request_id, error = %e, "identity provider unreachable at callback");
            refused("provider_unreachable");
            return failure(StatusCode::SERVICE_UNAVAILABLE, "The company sign-in is not answering", "Switchyard could not reach the identity provider to finish signing you in.", &meta);
        }
        Err(e) => {
            tracing::warn!(request_id = %meta.request_id, error = %e, "sign-in refused");
            refused("not_verified");
            return failure(StatusCode::UNAUTHORIZED, "Sign-in could not be verified", "The identity provider's answer did not pass verification, so you were not signed in.", &meta);
        }
    };
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let absolute = chrono::Duration::hours(state.settings.session.absolute_timeout_hours);
    let principal = match iam::sign_in(&state.pool, &claims, &state.settings.iam, absolute, user_agent, &meta).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(request_id = %meta.request_id, error = %e, "sign-in failed");
            refused("error");
            return crate::middleware::error_page(StatusCode::INTERNAL_SERVER_ERROR, &meta.request_id);
        }
    };
    let Some(session_id) = principal.session_id() else {
        return crate::middleware::error_page(StatusCode::INTERNAL_SERVER_ERROR, &meta.request_id);
    };
    // A new session id at the privilege change: a fixated id from before sign-in is worthless.
    if let Err(e) = session.cycle_id().await {
        return session_failure(e, &meta);
    }
    if let Err(e) = session.insert(SIGNED_IN, SignedIn { session_id, id_token }).await {
        return session_failure(e, &meta);
    }
    tracing::info!(request_id = %meta.request_id, user = %principal.username, "signed in");
    metrics::counter!("switchyard_signins_total", "outcome" => "succeeded", "reason" => "signed_in").increment(1);
    Redirect::to(&pending.return_to).into_response()
}

/// Ends the local session, then the provider's (RP-initiated logout) when it offers one.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    principal: Option<Extension<Principal>>,
) -> Response {
    let meta = meta(&headers, peer);
    let signed_in: Option<SignedIn> = session.get(SIGNED_IN).await.ok().flatten();
    if let Some(Extension(p)) = principal {
        if let Err(e) = iam::sign_out(&state.pool, &p, &meta).await {
            tracing::error!(request_id = %meta.request_id, error = %e, "sign-out failed");
            return crate::middleware::error_page(StatusCode::INTERNAL_SERVER_ERROR, &meta.request_id);
        }
    }
    if let Err(e) = session.flush().await {
        return session_failure(e, &meta);
    }
    let after = format!("{}/auth/signed-out", state.settings.server.public_url.trim_end_matches('/'));
    match state.oidc.logout_url(signed_in.as_ref().map(|s| s.id_token.as_str()), &after).await {
        Some(url) => Redirect::to(url.as_str()).into_response(),
        None => Redirect::to("/auth/signed-out").into_response(),
    }
}

pub async fn signed_out(headers: HeaderMap, ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Response {
    let meta = meta(&headers, peer);
    plain::page(StatusCode::OK, "You are signed out", &["Your Switchyard session has ended."], &meta.request_id, &[("Sign in again", "/auth/login")])
}
