//! Liveness and readiness for load balancers and orchestrators.
use crate::db;
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// The process is up and serving HTTP.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The database answers and has every migration this build expects.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match db::migration_status(&state.pool).await {
        Ok(m) if m.is_current() => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": "ok", "migrations": m })),
        ),
        Ok(m) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not ready", "database": "ok", "migrations": m,
                         "reason": "database schema is behind this build: migrations pending" })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not ready", "database": "unreachable",
                             "reason": "the database did not answer" })),
            )
        }
    }
}
