//! Cross-cutting request handling: request ids, tracing spans, panics.
use app::context::REQUEST_ID_HEADER;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use tracing::{Instrument, Span};

fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned()
}

/// A client's own `X-Request-Id` is kept only when it is a plain token (1 to 64 of
/// `A-Z a-z 0-9 . _ -`); anything else is dropped, and the request gets a fresh id. The id goes
/// into logs, error pages and the audit log (and its CSV export), so it must not carry markup,
/// formulas or line breaks.
pub async fn plain_request_id(mut req: Request, next: Next) -> Response {
    let plain = |v: &axum::http::HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len()) && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
    };
    if req.headers().get(REQUEST_ID_HEADER).is_some_and(|v| !plain(v)) {
        req.headers_mut().remove(REQUEST_ID_HEADER);
    }
    next.run(req).await
}

/// Headers every response carries: no MIME sniffing, no referrer beyond our own origin, never
/// framed, HSTS when served over https, and — where the page did not set its own (pages set one
/// with their script nonce) — a Content-Security-Policy that allows nothing to run.
pub async fn security_headers(axum::extract::State(https): axum::extract::State<bool>, req: Request, next: Next) -> Response {
    use axum::http::{header, HeaderValue};
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src-attr 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"),
        );
    }
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    response
}

/// The span every request's log lines carry: request id, method, path, and — named once the
/// router has matched (`metrics::route_of`, which also records the trace and span ids when traces
/// are exported) — the route. A W3C `traceparent` on the request makes the span its caller's
/// child. The OpenTelemetry span is not started here: its name, the route's template, is known
/// only after routing.
pub fn make_span(req: &Request<Body>) -> Span {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let span = tracing::info_span!(
        "request",
        otel.name = %req.method(),
        otel.kind = "server",
        request_id = %request_id(req),
        method = %req.method(),
        path = %req.uri().path(),
        route = tracing::field::Empty,
        user = tracing::field::Empty,
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty,
    );
    if !span.is_disabled() && req.headers().contains_key("traceparent") {
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&opentelemetry_http::HeaderExtractor(req.headers())));
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
    }
    span
}

/// The request's own span (`make_span`'s), for what is known only later: its route, its user,
/// its trace ids. Inside the router `Span::current()` is the session layer's span, not this one.
#[derive(Clone)]
pub struct RequestSpan(pub Span);

impl RequestSpan {
    /// The request's span, or the current one for a request that came another way (a test).
    pub fn of<B>(req: &axum::http::Request<B>) -> Span {
        req.extensions().get::<RequestSpan>().map_or_else(Span::current, |s| s.0.clone())
    }
}

/// Runs the rest of the request in a task of its own, so that a request the client gives up on
/// (it disconnects, or the timeout answers 408) still finishes what it began: a future dropped
/// mid-transaction is how a connection goes back to the pool inside a transaction nothing will
/// end (sqlx 0.8.6 rolls back nothing for a future dropped while its BEGIN is in flight,
/// sqlx issue 4393), and the next request on that connection would then write inside it,
/// uncommitted, holding its locks. A kick-off the client stopped waiting for is a retry with
/// the same key away from its answer.
pub async fn run_to_completion(mut req: Request, next: Next) -> Response {
    let id = request_id(&req);
    // outside the session layer, the current span is still the request's own
    req.extensions_mut().insert(RequestSpan(Span::current()));
    match tokio::spawn(next.run(req).instrument(Span::current())).await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(request_id = %id, error = %e, "request task failed");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, &id)
        }
    }
}

/// Turns a panic in a handler into a plain 500 page that shows the request id and nothing of
/// the panic; the panic message is logged with the same id.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    let id = request_id(&req);
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            tracing::error!(request_id = %id, panic = %message, "handler panicked");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, &id)
        }
    }
}

/// The page a panic or an unexpected failure shows: the request id and nothing else.
pub fn error_page(status: StatusCode, request_id: &str) -> Response {
    crate::plain::page(
        status,
        "Something went wrong",
        &["Switchyard could not answer this request. Try again in a moment; if it keeps happening, report it with the request id below."],
        request_id,
        &[("Back to the home page", "/")],
    )
}

/// The refusals the outer layers answer with a bare body (over the body limit: 413; over the
/// time limit: 408) in the shape the caller reads: the API's JSON error body, or a page.
pub async fn limits_explained(axum::extract::State(limit): axum::extract::State<usize>, req: Request, next: Next) -> Response {
    let id = request_id(&req);
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let status = response.status();
    // the layers' own answers: no body, or tower-http's text/plain one; ours are JSON or HTML
    let bare = response.headers().get(axum::http::header::CONTENT_TYPE).is_none_or(|t| t.as_bytes().starts_with(b"text/plain"));
    if !matches!(status, StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT) || !bare {
        return response;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", format!("The request body is over this server's limit of {limit} bytes (server.body_limit_bytes).")),
        _ => ("timeout", "The request took longer than this server's time limit (server.request_timeout_secs).".to_owned()),
    };
    if api {
        crate::auth::guard::json_error(status, code, &message, &id)
    } else {
        crate::plain::page(status, if code == "too_large" { "Too large" } else { "Too slow" }, &[message.as_str()], &id, &[("Back to the home page", "/")])
    }
}
