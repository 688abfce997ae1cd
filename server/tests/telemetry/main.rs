//! Metrics and traces, end to end: the real server (port 0, a database of its own), scraped on
//! its metrics listener and exporting its spans over OTLP/HTTP to a receiver of this test's own.
//! A binary of its own: the process's tracing subscriber (which exports to that receiver) and its
//! metrics recorder are global, and the tests here take turns so that counts are exact.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod metrics;
mod traces;

use helpers::{spawn_app_with, Options, TestApp};
use opentelemetry_proto::tonic::trace::v1::Span;
use std::sync::{Arc, Mutex, OnceLock};

/// Spans the receiver was sent, as they came.
#[derive(Clone, Default)]
pub struct Received(Arc<Mutex<Vec<Span>>>);

impl Received {
    pub fn spans(&self) -> Vec<Span> {
        self.0.lock().expect("spans").clone()
    }
}

/// An OTLP/HTTP receiver on 127.0.0.1 (protobuf, `POST /v1/traces`), on a thread and runtime of its
/// own so that it outlives each test's runtime; started once.
pub fn receiver() -> &'static (String, Received) {
    static RECEIVER: OnceLock<(String, Received)> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        let received = Received::default();
        let store = received.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("receiver runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
                tx.send(listener.local_addr().expect("receiver addr")).expect("send addr");
                let app = axum::Router::new().route(
                    "/v1/traces",
                    axum::routing::post(move |body: axum::body::Bytes| {
                        let store = store.clone();
                        async move {
                            use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
                            use prost::Message;
                            let Ok(request) = ExportTraceServiceRequest::decode(body) else {
                                return axum::http::StatusCode::BAD_REQUEST;
                            };
                            let mut spans = store.0.lock().expect("spans");
                            for resource in request.resource_spans {
                                for scope in resource.scope_spans {
                                    spans.extend(scope.spans);
                                }
                            }
                            axum::http::StatusCode::OK
                        }
                    }),
                );
                axum::serve(listener, app).await.expect("receiver");
            });
        });
        let addr = rx.recv().expect("receiver address");
        (format!("http://{addr}"), received)
    })
}

/// The tests' turns: one at a time, so each counts only its own requests.
pub async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// A server with the demo company, exporting its spans to [`receiver`] (the first server of the
/// process installs the subscriber that does), with `settings` on top.
pub async fn spawn(settings: Vec<(&'static str, figment::value::Value)>) -> TestApp {
    let (endpoint, _) = receiver();
    let mut all = vec![
        ("telemetry.otlp_endpoint", endpoint.clone().into()),
        // logs as production has them in one respect: the session layer's span is on (it wraps
        // the router, so inside it the current span is not the request's), and nothing prints
        ("log.filter", "off,tower_sessions=info".into()),
    ];
    all.extend(settings);
    spawn_app_with(Options { migrate: true, demo_data: true, settings: all }).await
}

/// Lowercase hex, as W3C trace context writes ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
