//! Prometheus metrics: one recorder per process (the `metrics` facade's, rendered by
//! `metrics-exporter-prometheus`), every family described in [`FAMILIES`], the per-request
//! figures, and `/metrics` on a listener of its own, where the figures kept in Postgres (deploys
//! in flight, approvals waiting) are read at scrape time and reused for a few seconds.
use crate::startup::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics::{counter, gauge, histogram, Label, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// What kind of family, for its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// Every family Switchyard exports (beside the standard `process_*` ones), with its labels and
/// what it counts. The README's Operations section lists the same; a test checks that a scrape
/// holds each of them, and that the shipped dashboard and alert rules name only these.
pub const FAMILIES: &[(&str, Kind, Unit, &str)] = &[
    ("switchyard_build_info", Kind::Gauge, Unit::Count, "Always 1; labels version and commit name the build."),
    ("switchyard_http_requests_total", Kind::Counter, Unit::Count, "HTTP requests answered, by method, route template and status class."),
    ("switchyard_http_request_duration_seconds", Kind::Histogram, Unit::Seconds, "Time to answer an HTTP request (to its headers), by method, route template and status class."),
    ("switchyard_http_requests_in_flight", Kind::Gauge, Unit::Count, "HTTP requests being answered now."),
    ("switchyard_db_pool_connections", Kind::Gauge, Unit::Count, "Connections of the main pool, by state (idle, in_use)."),
    ("switchyard_db_pool_max_connections", Kind::Gauge, Unit::Count, "The main pool's size limit (database.max_connections)."),
    ("switchyard_db_pool_acquire_seconds", Kind::Histogram, Unit::Seconds, "Time waited for a pooled connection (sqlx's own measure; timeouts are counted as pool_timeout errors)."),
    ("switchyard_db_errors_total", Kind::Counter, Unit::Count, "Database errors met by a domain's service, by domain and kind."),
    ("switchyard_deploys", Kind::Gauge, Unit::Count, "Deploys not yet ended, by state (read from Postgres at scrape time)."),
    ("switchyard_deploy_queue_depth", Kind::Gauge, Unit::Count, "Deploys queued for a worker."),
    ("switchyard_deploy_queue_oldest_age_seconds", Kind::Gauge, Unit::Seconds, "Age of the oldest queued deploy; 0 when none is queued."),
    ("switchyard_deploy_running_overdue", Kind::Gauge, Unit::Count, "Running deploys past their executor's deadline (stuck)."),
    ("switchyard_deploy_kickoff_group_size", Kind::Histogram, Unit::Count, "Kick-offs written together in one group commit."),
    ("switchyard_deploy_jobs_started_total", Kind::Counter, Unit::Count, "Deploys a worker started, by executor."),
    ("switchyard_deploy_jobs_finished_total", Kind::Counter, Unit::Count, "Deploys a worker finished, by executor and outcome (succeeded, failed, handed over, abandoned)."),
    ("switchyard_deploy_executor_duration_seconds", Kind::Histogram, Unit::Seconds, "Time an executor ran a deploy, by executor and outcome."),
    ("switchyard_approvals_waiting", Kind::Gauge, Unit::Count, "Approval requests waiting for a decision (read from Postgres at scrape time)."),
    ("switchyard_approvals_oldest_waiting_age_seconds", Kind::Gauge, Unit::Seconds, "Age of the oldest approval request waiting; 0 when none waits."),
    ("switchyard_audit_rows_written_total", Kind::Counter, Unit::Count, "Rows appended to the audit log."),
    ("switchyard_signins_total", Kind::Counter, Unit::Count, "Sign-ins through the identity provider, by outcome (succeeded, refused) and reason."),
    ("switchyard_api_token_requests_total", Kind::Counter, Unit::Count, "Requests that presented an API token, by result (accepted, refused)."),
    ("switchyard_sse_streams_open", Kind::Gauge, Unit::Count, "Live deploy views (server-sent event streams) open now."),
    ("switchyard_metrics_db_read_errors_total", Kind::Counter, Unit::Count, "Scrapes whose figures could not be read from Postgres (the last ones read are served)."),
    ("switchyard_integration_events_total", Kind::Counter, Unit::Count, "OpenLineage run events received, by result (stored, duplicate, refused)."),
    ("switchyard_integration_runs_ended_total", Kind::Counter, Unit::Count, "Integration runs that ended, by state."),
    ("switchyard_integration_event_group_size", Kind::Histogram, Unit::Count, "Single run events written together in one group commit."),
];

/// Latency buckets, from a cached page to the request time limit.
const SECONDS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
const ACQUIRE_SECONDS: &[f64] = &[0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];
const GROUP_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
const EXECUTOR_SECONDS: &[f64] = &[0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// The process's recorder, installed on first use (several test servers share one process, so
/// their counters add up; a scrape reads them all). Err when another recorder was installed.
pub fn recorder() -> Result<&'static PrometheusHandle, String> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("switchyard_http_request_duration_seconds".into()), SECONDS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("switchyard_db_pool_acquire_seconds".into()), ACQUIRE_SECONDS))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("switchyard_deploy_kickoff_group_size".into()), GROUP_SIZES))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("switchyard_integration_event_group_size".into()), GROUP_SIZES))
                .and_then(|b| b.set_buckets_for_metric(Matcher::Full("switchyard_deploy_executor_duration_seconds".into()), EXECUTOR_SECONDS))
                .map_err(|e| e.to_string())?;
            let handle = builder.install_recorder().map_err(|e| e.to_string())?;
            for (name, kind, unit, help) in FAMILIES {
                match kind {
                    Kind::Counter => metrics::describe_counter!(*name, *unit, *help),
                    Kind::Gauge => metrics::describe_gauge!(*name, *unit, *help),
                    Kind::Histogram => metrics::describe_histogram!(*name, *unit, *help),
                }
            }
            metrics_process::Collector::default().describe();
            gauge!("switchyard_build_info", "version" => env!("CARGO_PKG_VERSION"), "commit" => option_env!("SWITCHYARD_GIT_COMMIT").unwrap_or("unknown")).set(1.0);
            // families that exist before their first event, so dashboards and alerts see zeros
            gauge!("switchyard_http_requests_in_flight").set(0.0);
            gauge!("switchyard_sse_streams_open").set(0.0);
            counter!("switchyard_metrics_db_read_errors_total").absolute(0);
            counter!("switchyard_signins_total", "outcome" => "succeeded", "reason" => "signed_in").increment(0);
            for result in ["accepted", "refused"] {
                counter!("switchyard_api_token_requests_total", "result" => result).increment(0);
            }
            for result in ["stored", "duplicate", "refused"] {
                counter!("switchyard_integration_events_total", "result" => result).increment(0);
            }
            counter!("switchyard_integration_runs_ended_total", "state" => "failed").increment(0);
            for domain in ["approvals", "audit", "catalog", "deploys", "iam", "integrations"] {
                counter!("switchyard_db_errors_total", "domain" => domain, "kind" => "pool_timeout").increment(0);
            }
            Ok(handle)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Folds the histograms' samples into their buckets every few seconds, scraped or not (unscraped,
/// they would pile up).
pub async fn upkeep() {
    let Ok(handle) = recorder() else { return };
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

/// Counts a request and times it, by method, route template and status class; and how many are
/// in flight. The route is the template the router matched (never the raw path: one series per
/// route, not per URL); [`route_of`] hands it out from inside the router.
pub async fn track(req: Request, next: Next) -> Response {
    let method: &'static str = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    // counted out however the request ends (a client gone mid-answer drops it)
    let in_flight = OpenGauge::open("switchyard_http_requests_in_flight");
    let response = next.run(req).await;
    drop(in_flight);
    let route = response.extensions().get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let labels = vec![Label::new("method", method), Label::new("route", route), Label::new("status", status)];
    counter!("switchyard_http_requests_total", labels.clone()).increment(1);
    histogram!("switchyard_http_request_duration_seconds", labels).record(started.elapsed().as_secs_f64());
    response
}

/// Inside the router (a route layer, outside the route groups' own layers): names the matched
/// route on the request's span (and, for traces, the span itself, whose ids it then records for
/// the log lines), and hands the route to [`track`] on the response.
pub async fn route_of(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    if let Some(m) = &matched {
        let span = crate::middleware::RequestSpan::of(&req);
        span.record("route", m.as_str());
        span.record("otel.name", tracing::field::display(format_args!("{} {}", req.method(), m.as_str())));
        crate::telemetry::record_ids(&span);
    }
    let mut response = next.run(req).await;
    if let Some(m) = matched {
        response.extensions_mut().insert(m);
    }
    response
}

/// A gauge that counts what is open while the value lives (a live view's stream).
pub struct OpenGauge(&'static str);

impl OpenGauge {
    pub fn open(name: &'static str) -> Self {
        gauge!(name).increment(1.0);
        OpenGauge(name)
    }
}

impl Drop for OpenGauge {
    fn drop(&mut self) {
        gauge!(self.0).decrement(1.0);
    }
}

/// Everything `/metrics` needs.
#[derive(Clone)]
pub struct Scrape {
    handle: &'static PrometheusHandle,
    pool: PgPool,
    cache_for: Duration,
    /// The figures last read from Postgres, and when.
    cached: Arc<Mutex<Option<(Instant, Figures)>>>,
    process: Arc<metrics_process::Collector>,
}

/// What a scrape reads from Postgres, each domain's own read.
#[derive(Debug, Clone, Default)]
struct Figures {
    deploys: app::deploys::service::Gauges,
    approvals: app::approvals::service::Gauges,
}

/// Gauges are the process's: two servers in one process (tests) take turns setting and rendering.
static RENDERING: Mutex<()> = Mutex::const_new(());

impl Scrape {
    pub fn new(state: &AppState) -> Result<Self, String> {
        Ok(Scrape {
            handle: recorder()?,
            pool: state.pool.clone(),
            cache_for: Duration::from_secs_f64(state.settings.telemetry.metrics_db_cache_secs.max(0.0)),
            cached: Arc::new(Mutex::new(None)),
            process: Arc::new(metrics_process::Collector::default()),
        })
    }

    /// The figures read from Postgres, read again when older than `cache_for`; on a failed read
    /// the last ones (or none).
    async fn figures(&self) -> Option<Figures> {
        let mut cached = self.cached.lock().await;
        if let Some((at, figures)) = cached.as_ref() {
            if at.elapsed() < self.cache_for {
                return Some(figures.clone());
            }
        }
        let (deploys, approvals) =
            futures::join!(app::deploys::service::gauges(&self.pool), app::approvals::service::gauges(&self.pool));
        match (deploys, approvals) {
            (Ok(deploys), Ok(approvals)) => {
                let figures = Figures { deploys, approvals };
                *cached = Some((Instant::now(), figures.clone()));
                Some(figures)
            }
            (d, a) => {
                let e = d.err().map(|e| e.to_string()).or(a.err().map(|e| e.to_string())).unwrap_or_default();
                tracing::warn!(error = %e, "metrics: could not read the deploy and approval figures");
                counter!("switchyard_metrics_db_read_errors_total").increment(1);
                cached.as_ref().map(|(_, f)| f.clone())
            }
        }
    }

    async fn render(&self) -> String {
        let figures = self.figures().await;
        let _turn = RENDERING.lock().await;
        if let Some(f) = figures {
            for (state, n) in &f.deploys.by_state {
                gauge!("switchyard_deploys", "state" => *state).set(*n as f64);
            }
            gauge!("switchyard_deploy_queue_depth").set(f.deploys.queued as f64);
            gauge!("switchyard_deploy_queue_oldest_age_seconds").set(f.deploys.oldest_queued_secs);
            gauge!("switchyard_deploy_running_overdue").set(f.deploys.running_overdue as f64);
            gauge!("switchyard_approvals_waiting").set(f.approvals.waiting as f64);
            gauge!("switchyard_approvals_oldest_waiting_age_seconds").set(f.approvals.oldest_waiting_secs);
        }
        let size = self.pool.size();
        let idle = self.pool.num_idle() as u32;
        gauge!("switchyard_db_pool_connections", "state" => "idle").set(f64::from(idle));
        gauge!("switchyard_db_pool_connections", "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
        gauge!("switchyard_db_pool_max_connections").set(f64::from(self.pool.options().get_max_connections()));
        self.process.collect();
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// `GET /metrics`: the Prometheus text format. Anything else on this listener is a 404.
async fn metrics(State(scrape): State<Scrape>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], scrape.render().await).into_response()
}

/// The metrics listener's router: `/metrics` and nothing else (no session, no app routes).
pub fn router(scrape: Scrape) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Only /metrics is served here.\n") })
        .with_state(scrape)
}

/// Turns sqlx's acquire events (`sqlx::pool::acquire`, field `aquired_after_secs` as sqlx spells
/// it) into `switchyard_db_pool_acquire_seconds`.
pub struct AcquireTimes;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AcquireTimes {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Waited(Option<f64>);
        impl tracing::field::Visit for Waited {
            fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
                if field.name() == "aquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(secs) = waited.0 {
            histogram!("switchyard_db_pool_acquire_seconds").record(secs);
        }
    }
}
