//! Building the router and running the server, for `main` and for tests alike.
use crate::config::Settings;
use crate::auth::{self, oidc::Oidc};
use crate::{db, middleware, routes};
use axum::routing::post;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use app::{shell, App};
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// What every handler can reach: the Leptos options, the pool, the settings, the SSO client.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub pool: PgPool,
    pub settings: Arc<Settings>,
    pub oidc: Arc<Oidc>,
    /// Deploy ids named by NOTIFY, for live views.
    pub deploy_events: tokio::sync::broadcast::Sender<uuid::Uuid>,
    /// Writes queued kick-offs in groups and wakes the deploy workers after them.
    pub deploy_queue: app::deploys::queue::Queue,
    /// Writes single OpenLineage run events in groups (`integrations::service::Writer`).
    pub lineage_writer: app::integrations::service::Writer,
    /// The kinds of change that wait for approval, each its domain's (`app::approval_subjects`).
    pub approval_subjects: app::approvals::subject::Subjects,
    /// Fetches API definitions named by URL from the allowed hosts (`catalog.definition_hosts`).
    pub definitions: Arc<app::catalog::definitions::Definitions>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("single sign-on: {0}")]
    Oidc(#[from] crate::auth::oidc::OidcError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("HTTP client for API definitions: {0}")]
    Http(#[from] reqwest::Error),
    #[error("metrics: {0}")]
    Metrics(String),
}

/// How a route authenticates. The router is built from one group per kind, each with its own
/// layers, so a new route is one line in the right group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: probes, sign-in and out. A session or token is read when there is one; a
    /// state-changing request must still come from our own pages. (The build's static files
    /// are public too, in a group of their own that reads no session.)
    Public,
    /// A browser session or an API token (deny by default: anonymous pages go to sign-in,
    /// everything else gets 401); state-changing requests from a session are CSRF-checked.
    Principal,
    /// A machine that signs each request itself (a CD system's HMAC): no session, no token, no
    /// CSRF check; the handler checks the signature.
    Signed,
}

/// Routes outside the REST API and the Leptos app, with how each authenticates. This table
/// *is* their registration, so the permission matrix test sees every one of them.
pub const PLAIN_ROUTES: &[(Access, &str, &str)] = &[
    (Access::Public, "GET", "/healthz"),
    (Access::Public, "GET", "/readyz"),
    (Access::Public, "GET", "/auth/login"),
    (Access::Public, "GET", "/auth/callback"),
    (Access::Public, "POST", "/auth/logout"),
    (Access::Public, "GET", "/auth/signed-out"),
    (Access::Principal, "GET", "/api/openapi.json"),
    (Access::Principal, "GET", "/admin/audit.csv"),
    (Access::Principal, "GET", "/deploys/{id}/stream"),
    (Access::Principal, "GET", "/calendar.ics"),
];

fn plain_handler(
    method: &str,
    path: &str,
    openapi: &Arc<utoipa::openapi::OpenApi>,
) -> axum::routing::MethodRouter<AppState> {
    match (method, path) {
        ("GET", "/healthz") => get(routes::health::healthz),
        ("GET", "/readyz") => get(routes::health::readyz),
        ("GET", "/auth/login") => get(auth::routes::login),
        ("GET", "/auth/callback") => get(auth::routes::callback),
        ("POST", "/auth/logout") => post(auth::routes::logout),
        ("GET", "/auth/signed-out") => get(auth::routes::signed_out),
        ("GET", "/api/openapi.json") => {
            let doc = openapi.clone();
            get(move || async move { axum::Json(doc.as_ref().clone()) })
        }
        ("GET", "/admin/audit.csv") => get(routes::audit_csv::export),
        ("GET", "/deploys/{id}/stream") => get(routes::deploy_stream::stream),
        ("GET", "/calendar.ics") => get(crate::api::calendar_feed),
        (m, p) => panic!("PLAIN_ROUTES lists {m} {p} but nothing handles it"),
    }
}

/// The plain routes of one group.
fn plain_routes(access: Access, openapi: &Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    PLAIN_ROUTES
        .iter()
        .filter(|(a, _, _)| *a == access)
        .fold(Router::new(), |router, (_, method, path)| router.route(path, plain_handler(method, path, openapi)))
}

/// Every route the server answers: method and path pattern. Used by the permission matrix.
pub fn route_inventory() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> =
        PLAIN_ROUTES.iter().map(|(_, m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    let api = crate::api::router();
    for (path, item) in &api.doc.paths.paths {
        let methods = [
            ("GET", item.get.is_some()),
            ("POST", item.post.is_some()),
            ("PUT", item.put.is_some()),
            ("PATCH", item.patch.is_some()),
            ("DELETE", item.delete.is_some()),
        ];
        for (m, present) in methods {
            if present {
                all.push((m.to_owned(), path.clone()));
            }
        }
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        all.push((method.as_str().to_owned(), path.to_owned()));
    }
    for listing in generate_route_list(App) {
        all.push(("GET".to_owned(), listing.path().to_owned()));
    }
    all.sort();
    all.dedup();
    all
}

/// The whole HTTP surface, in three groups by how they authenticate (`Access`), and the
/// middleware every request passes through.
pub fn router(state: AppState) -> Router {
    let pool = state.pool.clone();
    let queue = state.deploy_queue.clone();
    let subjects = state.approval_subjects.clone();
    let definitions = state.definitions.clone();
    let api = crate::api::router();
    let reference = Arc::new(crate::api::reference::reference(&api.doc));
    let netbox = app::topology::netbox::Source { client: state.settings.topology.netbox.client(), every_secs: state.settings.topology.netbox.sync_every_secs };
    let context = move || {
        provide_context(netbox.clone());
        provide_context(pool.clone());
        provide_context(queue.clone());
        provide_context(subjects.clone());
        provide_context(reference.clone());
        provide_context(definitions.clone());
    };
    let settings = state.settings.clone();
    let openapi = Arc::new(api.doc);
    let options = state.leptos_options.clone();

    let secure = settings.server.is_https();
    let sessions = SessionManagerLayer::new(auth::store::PgSessionStore::new(state.pool.clone()))
        .with_name(if secure { "__Host-switchyard" } else { "switchyard_session" })
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(settings.session.idle_timeout_mins)));
    // Each layer wraps the ones above it: the last is the outermost.
    let authenticate = axum::middleware::from_fn_with_state(state.clone(), auth::guard::authenticate);
    let check_origin = axum::middleware::from_fn_with_state(state.clone(), auth::guard::check_origin);

    // the build's static files: public, and never a session read (a page's bundle requests
    // would each cost the database two statements)
    let statics = Router::new()
        .route_service(&leptos_axum::site_pkg_dir_service_route_path(&options), leptos_axum::site_pkg_dir_service(&options))
        .route_service("/favicon.svg", leptos_axum::site_pkg_dir_service(&options));
    let public = plain_routes(Access::Public, &openapi).layer(authenticate.clone()).layer(check_origin.clone());
    let signed = plain_routes(Access::Signed, &openapi).merge(api.signed);
    let principal = plain_routes(Access::Principal, &openapi)
        .merge(api.authenticated)
        .leptos_routes_with_context(&state, generate_route_list(App), context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell))
        .layer(axum::middleware::from_fn(auth::guard::require_principal))
        .layer(authenticate)
        .layer(check_origin);

    let metrics_on = matches!(settings.telemetry.metrics_addr(), Ok(Some(_)));
    Router::new()
        .merge(statics)
        .merge(public)
        .merge(signed)
        .merge(principal)
        .route_layer(axum::middleware::from_fn(crate::metrics::route_of))
        .layer(axum::middleware::from_fn(crate::assets::cache_control))
        .layer(axum::middleware::from_fn(middleware::catch_panic))
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::run_to_completion))
        .layer(axum::middleware::from_fn_with_state(settings.server.is_https(), middleware::security_headers))
        .layer(
            // Outermost first: the id exists before the span, the span before everything else.
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(middleware::plain_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(middleware::make_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                // counts and times every answer, the outer layers' own (408, 413) included
                .option_layer(metrics_on.then(|| axum::middleware::from_fn(crate::metrics::track)))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn_with_state(settings.server.body_limit_bytes, middleware::limits_explained))
                // what is made per request: gzip at level 4, from 1 KiB up (measured: brotli at the
                // library's default quality 11 and gzip on small answers cost the API a third of its
                // throughput); static files come compressed from the build, brotli included
                .layer(
                    CompressionLayer::new().no_br().quality(tower_http::CompressionLevel::Precise(4)).compress_when(
                        SizeAbove::new(1024).and(NotForContentType::GRPC).and(NotForContentType::IMAGES).and(NotForContentType::SSE),
                    ),
                )
                .layer(RequestBodyLimitLayer::new(settings.server.body_limit_bytes))
                // the limit above is the one: axum's own 2 MB default for extractors is off
                .layer(axum::extract::DefaultBodyLimit::disable())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    settings.server.request_timeout(),
                )),
        )
        .with_state(state)
}

/// Deletes expired sessions (and sign-ins never finished) every `every_secs`, for as long as the
/// server runs.
async fn purge_sessions(store: crate::auth::store::PgSessionStore, every_secs: f64) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(every_secs.max(0.05)));
    loop {
        tick.tick().await;
        match store.delete_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(deleted = n, "expired sessions purged"),
            Err(e) => tracing::warn!(error = %e, "expired sessions could not be purged"),
        }
    }
}

/// Records the heads of the audit chains every `every_secs` (the first after one interval), so
/// that a verify finds rows cut off a chain's end.
async fn checkpoint_audit(pool: PgPool, every_secs: f64) {
    let every = Duration::from_secs_f64(every_secs.max(0.05));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        if let Err(e) = app::audit::service::checkpoint(&pool).await {
            tracing::warn!(error = %e, "audit checkpoint failed");
        }
    }
}

/// Syncs from the configured NetBox every `every_secs` (the first after one interval), as
/// Switchyard, for as long as the server runs; a sync already running is left to finish.
async fn scheduled_netbox_syncs(pool: PgPool, netbox: app::topology::netbox::NetBox, every_secs: f64) {
    let every = Duration::from_secs_f64(every_secs.max(0.05));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let meta = app::context::RequestMeta { request_id: "netbox-schedule".into(), ip: "127.0.0.1".into() };
    loop {
        tick.tick().await;
        match app::topology::service::scheduled_netbox_sync(&pool, &netbox, &meta).await {
            Ok(Some(id)) => tracing::info!(sync = %id, "scheduled NetBox sync ran"),
            Ok(None) => tracing::debug!("a NetBox sync is running: the scheduled one waits for the next turn"),
            Err(e) => tracing::warn!(error = %e, "the scheduled NetBox sync could not start"),
        }
    }
}

/// Keeps the integrations current while the server runs: the next months' partitions exist,
/// schedule slots that came due are judged (late, missed) every `check_secs`, and once an hour
/// months past retention are dropped whole.
async fn integrations_upkeep(pool: PgPool, settings: crate::config::IntegrationSettings) {
    use app::integrations::service as integrations;
    let every = Duration::from_secs_f64(settings.check_secs.max(0.05));
    let mut tick = tokio::time::interval(every);
    let mut last_upkeep: Option<tokio::time::Instant> = None;
    loop {
        tick.tick().await;
        let now = chrono::Utc::now();
        if last_upkeep.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
            if let Err(e) = integrations::ensure_partitions(&pool, now).await {
                tracing::warn!(error = %e, "integration partitions could not be made");
            } else if let Err(e) = integrations::retention(&pool, now, settings.retention_months).await {
                tracing::warn!(error = %e, "integration retention failed");
            }
            last_upkeep = Some(tokio::time::Instant::now());
        }
        if let Err(e) = integrations::check_due(&pool, now, 500).await {
            tracing::warn!(error = %e, "integration schedule check failed");
        }
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// `/metrics`, on a listener of its own (`telemetry.metrics_addr`), when metrics are on.
    metrics: Option<(TcpListener, Router)>,
    pool: PgPool,
    grace: Duration,
}

impl Application {
    /// Connects to the database, applies migrations (unless disabled) and binds the address.
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        app::deploys::service::set_code_hosts(settings.deploys.code_hosts.clone());
        let pool = db::pool(&settings.database)?;
        if settings.database.migrate_on_start {
            db::MIGRATOR.run(&pool).await?;
        }
        let addr = settings.server.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;
        let hash_file = crate::assets::hash_file(&settings.site.root);
        let leptos_options = LeptosOptions::builder()
            .output_name("switchyard")
            .site_root(settings.site.root.as_str())
            .site_pkg_dir(settings.site.pkg_dir.as_str())
            .site_addr(local)
            .hash_files(hash_file.is_some())
            .hash_file(hash_file.unwrap_or_else(|| "hash.txt".into()).into())
            .build();
        // An empty public URL means "where we listen" (tests bind port 0).
        if settings.server.public_url.is_empty() {
            settings.server.public_url = format!("http://{local}");
        }
        let metrics_listener = match settings.telemetry.metrics_addr().map_err(StartupError::Metrics)? {
            Some(addr) => Some(TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })?),
            None => None,
        };
        let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
        let oidc = Arc::new(Oidc::new(settings.oidc.clone(), &settings.server.public_url)?);
        let deploy_events = crate::deploys::events::spawn(pool.clone());
        tokio::spawn(purge_sessions(crate::auth::store::PgSessionStore::new(pool.clone()), settings.session.purge_secs));
        tokio::spawn(checkpoint_audit(pool.clone(), settings.audit.checkpoint_secs));
        tokio::spawn(integrations_upkeep(pool.clone(), settings.integrations.clone()));
        let every = settings.topology.netbox.sync_every_secs;
        match (settings.topology.netbox.client(), every > 0.0) {
            (Ok(netbox), true) => {
                tokio::spawn(scheduled_netbox_syncs(pool.clone(), netbox, every));
            }
            (Err(why), true) => tracing::warn!(%why, "topology.netbox.sync_every_secs is set but no NetBox can be read: no scheduled syncs"),
            _ => {}
        }
        if settings.deploys.worker {
            let worker = crate::deploys::Worker::new(pool.clone(), Arc::new(settings.deploys.clone()), &settings.server.public_url);
            tokio::spawn(worker.run());
        }
        let deploy_queue = app::deploys::queue::Queue::start(pool.clone(), db::pool_of(&settings.database, app::deploys::queue::WRITERS)?);
        let lineage_writer = app::integrations::service::Writer::start(db::pool_of(&settings.database, app::integrations::service::EVENT_WRITERS)?);
        let catalog = &settings.catalog;
        let definitions = Arc::new(app::catalog::definitions::Definitions::new(
            &catalog.definition_hosts,
            Duration::from_secs_f64(catalog.definition_timeout_secs),
            catalog.definition_max_bytes,
        )?);
        let state = AppState {
            leptos_options,
            pool: pool.clone(),
            settings: Arc::new(settings),
            oidc,
            deploy_events,
            deploy_queue,
            lineage_writer,
            approval_subjects: app::approval_subjects(),
            definitions,
        };
        let metrics = match metrics_listener {
            Some(listener) => {
                let scrape = crate::metrics::Scrape::new(&state).map_err(StartupError::Metrics)?;
                tokio::spawn(crate::metrics::upkeep());
                Some((listener, crate::metrics::router(scrape)))
            }
            None => None,
        };
        Ok(Self { listener, router: router(state), metrics, pool, grace })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served, when metrics are on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|(l, _)| l.local_addr().ok())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish for up to the
    /// configured grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        if let Some((listener, router)) = self.metrics {
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
        }
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = tx.send(true);
        };
        use axum::serve::ListenerExt;
        // no Nagle: a page streams in several writes, and with Nagle each write after the first
        // waited for the client's delayed ACK (40 ms: every page took 44 ms, measured)
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "could not set TCP_NODELAY on a connection");
            }
        });
        let serve = axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(signal);
        let grace = self.grace;
        let deadline = async move {
            let _ = rx.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = serve => result,
            () = deadline => {
                tracing::warn!(grace_secs = grace.as_secs(), "grace period over: closing remaining connections");
                Ok(())
            }
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
