//! Logs and traces. Logs: structured JSON lines (or pretty for a terminal), filtered by
//! `log.filter`. Traces: OpenTelemetry spans over OTLP/HTTP (protobuf) when a collector is
//! configured (`telemetry.otlp_endpoint` or `OTEL_EXPORTER_OTLP_ENDPOINT`), batched on the SDK's
//! own thread so no request waits for an export, and flushed on shutdown; with none configured
//! there is no exporter and no OpenTelemetry layer at all.
use crate::config::{LogFormat, LogSettings, TelemetrySettings};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{filter_fn, EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, Layer, Registry};

/// What must outlive the server: the trace exporter, flushed by [`Telemetry::shutdown`].
#[derive(Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are being exported.
    pub fn tracing(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends the spans still queued and stops the exporter (it blocks: the SDK's exporter is
    /// synchronous, on its own thread).
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let done = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = done {
                eprintln!("traces: the last spans could not be sent: {e}");
            }
        }
    }
}

/// Which spans go to the collector: the request and the worker's (info), and the domains'
/// service and repo calls (debug, so they cost nothing when traces are off); not the session
/// layer's.
fn traced() -> Targets {
    Targets::new()
        .with_default(tracing::Level::INFO)
        .with_target("app", tracing::Level::DEBUG)
        .with_target("server", tracing::Level::DEBUG)
        .with_target("sqlx", tracing::Level::WARN)
        // the session layer's own spans (it runs before routing: a child span would start the
        // request's, whose name is the route's, before the route is known)
        .with_target("tower_sessions", tracing::Level::WARN)
        .with_target("tower_sessions_core", tracing::Level::WARN)
}

/// Installs the global subscriber (logs, the pool's acquire times for metrics, and traces when a
/// collector is configured) and the W3C trace-context propagator. JSON lines carry every
/// enclosing span, so each line of a request has its `request_id`, `user`, `trace_id` and
/// `span_id`. `RUST_LOG`, when set, overrides the configured log filter. A second call (several
/// test servers in one process) keeps the first subscriber and exports nothing.
pub fn init(log: &LogSettings, telemetry: &TelemetrySettings) -> Telemetry {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.filter));
    let lines = match log.format {
        LogFormat::Json => fmt::layer()
            .with_target(true)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer().with_target(true).with_filter(filter).boxed(),
    };
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![
        lines,
        crate::metrics::AcquireTimes.with_filter(filter_fn(|m| m.target() == "sqlx::pool::acquire")).boxed(),
    ];
    let provider = telemetry.otlp_traces_url().and_then(|url| match exporter(&url, telemetry) {
        Ok(provider) => Some(provider),
        Err(e) => {
            eprintln!("traces: no exporter to {url}: {e}");
            None
        }
    });
    if let Some(provider) = &provider {
        let tracer = provider.tracer("switchyard");
        // no context activation: entering a span would start it, and a request's span gets its
        // name (its route) only after routing. No thread attributes (a task moves between
        // threads), no busy/idle timings (a clock read at every poll) and no source locations (a
        // span's name says where it is): a span's name, fields, start and end are what a trace
        // shows, at the least cost per span (measured: `make bench-telemetry`)
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_context_activation(false)
            .with_threads(false)
            .with_location(false)
            .with_tracked_inactivity(false);
        layers.push(layer.with_filter(traced()).boxed());
    }
    match tracing_subscriber::registry().with(layers).try_init() {
        Ok(()) => Telemetry { provider },
        // not ours to flush: the first subscriber's layers hold no exporter of this call's
        Err(_) => Telemetry::default(),
    }
}

/// The OTLP/HTTP exporter and its batching provider. The sampler is the SDK's: parent-based
/// always-on unless `OTEL_TRACES_SAMPLER` (and `_ARG`) say otherwise.
fn exporter(url: &str, telemetry: &TelemetrySettings) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_protocol(Protocol::HttpBinary).with_endpoint(url).build()?;
    let mut resource = Resource::builder().with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(telemetry.service_name.clone());
    }
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource.build()).build())
}

/// Records the trace and span ids of `span` (the request's) as its `trace_id` and `span_id`
/// fields, so its log lines carry them; nothing when no trace is recorded. It starts the
/// OpenTelemetry span: its name is final from here on.
pub fn record_ids(span: &tracing::Span) {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    if span.is_disabled() {
        return;
    }
    let cx = span.context();
    let ids = cx.span().span_context().clone();
    if ids.is_valid() {
        span.record("trace_id", tracing::field::display(ids.trace_id()));
        span.record("span_id", tracing::field::display(ids.span_id()));
    }
}

/// The current trace's context as headers for a call out (`traceparent`, `tracestate`).
pub fn outgoing_headers() -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in app::telemetry::trace_headers() {
        if let (Ok(name), Ok(value)) = (reqwest::header::HeaderName::from_bytes(name.as_bytes()), reqwest::header::HeaderValue::from_str(&value)) {
            headers.insert(name, value);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_field_recorded_on_a_span_after_it_began_is_on_its_log_lines() {
        let out = Buffer::default();
        let writer = out.clone();
        let lines = fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(move || writer.clone())
            .with_filter(EnvFilter::new("info"));
        let subscriber = tracing_subscriber::registry().with(lines);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", method = "GET", route = tracing::field::Empty, trace_id = tracing::field::Empty);
            let _in = span.enter();
            tracing::Span::current().record("route", "/readyz");
            tracing::Span::current().record("trace_id", "0af7651916cd43dd8448eb211c80319c");
            tracing::info!("finished");
        });
        let text = String::from_utf8(out.0.lock().expect("buffer").clone()).expect("utf-8");
        assert!(text.contains(r#""route":"/readyz""#), "{text}");
        assert!(text.contains(r#""trace_id":"0af7651916cd43dd8448eb211c80319c""#), "{text}");
    }
}
