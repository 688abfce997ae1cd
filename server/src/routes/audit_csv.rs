//! `GET /admin/audit.csv`: the filtered audit log as CSV, for admins.
use crate::api::{ApiError, Caller};
use crate::startup::AppState;
use app::audit::service;
use app::audit::types::AuditQuery;
use app::error::AppError;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// At most this many rows in one export.
const MAX_ROWS: i64 = 100_000;

/// A cell a spreadsheet would read as a formula (OWASP's rule: it begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading `'`, so it is shown as the text it is.
fn cell(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

pub async fn export(State(state): State<AppState>, caller: Caller, Query(query): Query<AuditQuery>) -> Result<Response, ApiError> {
    let page = service::search(&state.pool, &caller.principal, &AuditQuery { before_id: None, ..query }, MAX_ROWS)
        .await
        .map_err(|e| caller.fail(e))?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let header_row = ["id", "at", "actor", "action", "subject_kind", "subject_id", "before", "after", "request_id", "source_ip"];
    let write = |out: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        out.write_record(header_row)?;
        for e in &page.entries {
            out.write_record(
                [
                    e.id.to_string(),
                    e.at.to_rfc3339(),
                    e.actor_name.clone(),
                    e.action.clone(),
                    e.subject_kind.clone(),
                    e.subject_id.clone(),
                    e.before.clone().unwrap_or_default(),
                    e.after.clone().unwrap_or_default(),
                    e.request_id.clone(),
                    e.source_ip.clone(),
                ]
                .map(cell),
            )?;
        }
        out.flush()?;
        Ok(())
    };
    write(&mut out).map_err(|e| caller.fail(AppError::Internal { request_id: caller.meta.request_id.clone() }).log(e))?;
    let body = out.into_inner().map_err(|e| caller.fail(AppError::Internal { request_id: caller.meta.request_id.clone() }).log(e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"switchyard-audit.csv\""),
        ],
        body,
    )
        .into_response())
}

trait LogWith {
    fn log(self, e: impl std::fmt::Display) -> Self;
}

impl LogWith for ApiError {
    fn log(self, e: impl std::fmt::Display) -> Self {
        tracing::error!(request_id = %self.request_id, error = %e, "CSV export failed");
        self
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_are_shown_as_text() {
        for bad in ["=HYPERLINK(\"https://evil\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(cell(bad.into()), format!("'{bad}"));
        }
        assert_eq!(cell("approval.approved".into()), "approval.approved");
        assert_eq!(cell("{\"a\":1}".into()), "{\"a\":1}");
    }
}
