//! What the domains tell operators: figures for Prometheus through the `metrics` facade (the
//! server installs the recorder, describes every family and serves them), and the W3C trace
//! context of the work in hand, for calls out and for work done later.
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The current span's trace context as W3C headers (`traceparent`, and `tracestate` when there
/// is one); empty when no trace is being recorded.
pub fn trace_headers() -> HashMap<String, String> {
    let cx = tracing::Span::current().context();
    let mut headers = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut headers));
    headers
}

/// The current trace's `traceparent`, kept with work that runs later (a queued deploy).
pub fn traceparent() -> Option<String> {
    trace_headers().remove("traceparent")
}

/// The span context a stored `traceparent` names; None for one that names none.
fn remote(traceparent: &str) -> Option<opentelemetry::trace::SpanContext> {
    use opentelemetry::trace::TraceContextExt;
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let sc = cx.span().span_context().clone();
    sc.is_valid().then_some(sc)
}

/// Links `span` to the span a stored `traceparent` names (a kick-off's, for the work it queued).
/// Call before the span is entered.
pub fn link(span: &tracing::Span, traceparent: &str) {
    if let Some(sc) = remote(traceparent) {
        span.add_link(sc);
    }
}

/// Makes `span` a child of the span a stored `traceparent` names, and links it there too, so the
/// work done later is in the same trace as the request that asked for it. Call before the span
/// is entered.
pub fn continue_from(span: &tracing::Span, traceparent: &str) {
    use opentelemetry::trace::TraceContextExt;
    if let Some(sc) = remote(traceparent) {
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(sc.clone()));
        span.add_link(sc);
    }
}

/// A database error met by `domain`'s service (`switchyard_db_errors_total`).
pub fn db_error(domain: &'static str, e: &sqlx::Error) {
    let kind = match e {
        sqlx::Error::PoolTimedOut => "pool_timeout",
        sqlx::Error::PoolClosed => "pool_closed",
        sqlx::Error::Database(d) if d.is_unique_violation() => "unique_violation",
        sqlx::Error::Database(d) if d.code().as_deref() == Some("40P01") => "deadlock",
        sqlx::Error::Database(d) if d.code().as_deref() == Some("40001") => "serialization",
        sqlx::Error::Database(_) => "database",
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => "connection",
        sqlx::Error::RowNotFound => "row_not_found",
        _ => "other",
    };
    metrics::counter!("switchyard_db_errors_total", "domain" => domain, "kind" => kind).increment(1);
}

/// Audit rows appended (`switchyard_audit_rows_written_total`).
pub fn audit_rows(n: usize) {
    metrics::counter!("switchyard_audit_rows_written_total").increment(n as u64);
}
