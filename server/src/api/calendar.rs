//! The change calendar over REST: as JSON, and as an iCalendar feed a calendar app subscribes
//! to (with a token) or a browser downloads (with its session).
use super::error::{ApiError, ApiQuery, Caller, ErrorBody};
use crate::startup::AppState;
use app::calendar::service;
use app::calendar::types::{CalendarQuery, ChangeCalendar};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Deploy freezes, maintenance windows (with the partners each cuts off) and the scheduled
/// runs of critical integrations (PCI, or an end that is tier 0 or 1) over a span, soonest
/// first; a window that cuts off a partner while a critical integration with it runs is flagged
/// on both (`clashes`).
#[utoipa::path(
    get,
    path = "/calendar",
    tag = "calendar",
    params(CalendarQuery),
    responses((status = 200, body = ChangeCalendar), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn calendar(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<CalendarQuery>) -> Result<Json<ChangeCalendar>, ApiError> {
    service::calendar(&state.pool, &caller.principal, &q, chrono::Utc::now()).await.map(Json).map_err(|e| caller.fail(e))
}

/// The same calendar as iCalendar (RFC 5545): one event per freeze occurrence, maintenance
/// window and critical run, each with its page as the URL; clashes start the summary.
#[utoipa::path(
    get,
    path = "/calendar.ics",
    tag = "calendar",
    params(CalendarQuery),
    responses((status = 200, description = "An iCalendar feed", content_type = "text/calendar", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = []))
)]
pub async fn calendar_ics(State(state): State<AppState>, caller: Caller, ApiQuery(q): ApiQuery<CalendarQuery>) -> Result<Response, ApiError> {
    let c = service::calendar(&state.pool, &caller.principal, &q, chrono::Utc::now()).await.map_err(|e| caller.fail(e))?;
    let body = service::ics(&c, &state.settings.server.public_url);
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CONTENT_DISPOSITION, "inline; filename=\"switchyard-changes.ics\"")],
        body,
    )
        .into_response())
}
