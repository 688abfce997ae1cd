//! What telemetry costs: the release server (a child process, `SERVER_BIN`, default
//! `target/release/server`) under the same load three ways — telemetry off (no metrics listener,
//! no traces), metrics on (the default), and metrics plus every span exported over OTLP/HTTP to a
//! collector (this bench's own receiver, which decodes what it got after each run) at 100 %
//! sampling — alternated over six rounds, each on a fresh copy of the same database. Load: the catalog list and
//! deploy kick-offs over HTTP with API tokens, from this process. Prints a table; run with
//! `make bench-telemetry`.
mod common;

use common::{database_url, deploy_bots, gather, pct, with_database};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const LIST_CLIENTS: usize = 16;
const LIST_SECS: u64 = 8;
const KICK_CLIENTS: usize = 32;
const KICKS_PER_CLIENT: usize = 250;
const ROUNDS: usize = 6;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Off,
    Metrics,
    Traced,
}

impl Mode {
    fn label(self) -> &'static str {
        match self {
            Mode::Off => "telemetry off",
            Mode::Metrics => "metrics on, traces off (the default)",
            Mode::Traced => "metrics on, traces exported at 100 %",
        }
    }
}

/// An OTLP/HTTP receiver that keeps every export's body, to decode and count after the run (a
/// collector is not on the app's machine: its decoding is kept out of the measured window).
async fn collector() -> (String, Arc<Mutex<Vec<axum::body::Bytes>>>) {
    let bodies: Arc<Mutex<Vec<axum::body::Bytes>>> = Arc::default();
    let keep = bodies.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                keep.lock().expect("bodies").push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind collector");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("collector") });
    (url, bodies)
}

/// The spans in the exports received so far (which are taken): each decoded as a collector would.
fn spans_in(bodies: &Mutex<Vec<axum::body::Bytes>>) -> u64 {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    let taken = std::mem::take(&mut *bodies.lock().expect("bodies"));
    taken
        .into_iter()
        .map(|b| {
            let req = ExportTraceServiceRequest::decode(b).expect("an OTLP export");
            req.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len() as u64).sum::<u64>()
        })
        .sum()
}

/// The template database: migrated, the demo company, one deploy bot per kick-off client (a
/// member of every team) with a read+deploy token. Returns the tokens.
async fn template(url: &str) -> Vec<String> {
    let server = server_bin();
    let status = Command::new(&server).arg("demo-data").env("DATABASE_URL", url).env("SWITCHYARD_LOG__FILTER", "warn").status().expect("demo-data");
    assert!(status.success(), "server demo-data failed");
    let pool = PgPool::connect(url).await.expect("template pool");
    let tokens = deploy_bots(&pool, KICK_CLIENTS).await;
    pool.close().await;
    tokens
}

fn server_bin() -> String {
    std::env::var("SERVER_BIN").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/server").into())
}

/// The server on `port` and `db`, telemetry as `mode` says; answers once ready.
async fn start(mode: Mode, port: u16, db: &str, collector: &str) -> Child {
    let mut cmd = Command::new(server_bin());
    cmd.env("DATABASE_URL", db)
        .env("SWITCHYARD_SERVER__ADDR", format!("127.0.0.1:{port}"))
        .env("SWITCHYARD_SERVER__PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("SWITCHYARD_DATABASE__MAX_CONNECTIONS", "40")
        .env("SWITCHYARD_DEPLOYS__WORKER", "false")
        .env("SWITCHYARD_TELEMETRY__METRICS_ADDR", if mode == Mode::Off { String::new() } else { format!("127.0.0.1:{}", port + 1000) })
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if mode == Mode::Traced {
        cmd.env("SWITCHYARD_TELEMETRY__OTLP_ENDPOINT", collector).env("OTEL_TRACES_SAMPLER", "always_on");
    }
    let child = cmd.spawn().expect("start the server");
    let ready = format!("http://127.0.0.1:{port}/readyz");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success()) {
            return child;
        }
        assert!(Instant::now() < deadline, "the server did not get ready on port {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Closed loop: `LIST_CLIENTS` clients reading the first page of components for `LIST_SECS`.
async fn list(base: &str, token: &str) -> (f64, f64, usize) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(LIST_CLIENTS).build().expect("client");
    let until = Instant::now() + Duration::from_secs(LIST_SECS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..LIST_CLIENTS)
        .map(|_| {
            let (client, url, token) = (client.clone(), format!("{base}/api/v1/catalog/entities?kind=component&limit=50"), token.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < until {
                    let t = Instant::now();
                    let r = client.get(&url).bearer_auth(&token).send().await.expect("list");
                    assert_eq!(r.status(), 200);
                    r.bytes().await.expect("body");
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let (times, elapsed) = gather(started, tasks).await;
    (times.len() as f64 / elapsed, pct(&times, 0.99), times.len())
}

/// `KICK_CLIENTS` clients, each kicking off `KICKS_PER_CLIENT` deploys to dev one after another.
async fn kick_offs(base: &str, tokens: &[String], services: &[String]) -> (f64, f64, usize) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(KICK_CLIENTS).build().expect("client");
    let started = Instant::now();
    let tasks: Vec<_> = (0..KICK_CLIENTS)
        .map(|c| {
            let (client, url, token, services) = (client.clone(), format!("{base}/api/v1/deploys"), tokens[c].clone(), services.to_vec());
            tokio::spawn(async move {
                let mut times = Vec::new();
                for i in 0..KICKS_PER_CLIENT {
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("idempotency-key", Uuid::new_v4().to_string())
                        .json(&json!({ "service": services[(c * 7 + i) % services.len()], "environment": "dev", "version": format!("v{c}.{i}"), "reason": "bench" }))
                        .send()
                        .await
                        .expect("kick off");
                    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let (times, elapsed) = gather(started, tasks).await;
    (times.len() as f64 / elapsed, pct(&times, 0.99), times.len())
}

#[tokio::main]
async fn main() {
    let admin_url = database_url();
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
    let template_name = "switchyard_bench_telemetry";
    admin.execute(format!("DROP DATABASE IF EXISTS {template_name} WITH (FORCE)").as_str()).await.expect("drop");
    admin.execute(format!("CREATE DATABASE {template_name}").as_str()).await.expect("create");
    let template_url = with_database(&admin_url, template_name);
    let tokens = template(&template_url).await;
    let pool = PgPool::connect(&template_url).await.expect("pool");
    let services: Vec<String> = sqlx::query_scalar("SELECT name FROM entities WHERE kind = 'component' ORDER BY name").fetch_all(&pool).await.expect("services");
    pool.close().await;
    let (collector, spans) = collector().await;

    println!("Telemetry cost — release server {}; catalog list: {LIST_CLIENTS} clients for {LIST_SECS} s; kick-offs: {KICK_CLIENTS} clients × {KICKS_PER_CLIENT}; {ROUNDS} rounds, modes alternated", server_bin());
    println!();
    println!(
        "{:<38} | {:>5} | {:>10} | {:>7} | {:>9} | {:>11} | {:>7} | {:>9} | {:>9}",
        "mode", "round", "list req/s", "p99 ms", "CPU µs/req", "kick-offs/s", "p99 ms", "CPU µs/req", "spans"
    );
    println!("{}", "-".repeat(132));
    let modes = [Mode::Off, Mode::Metrics, Mode::Traced];
    // per mode, per round: list req/s, list CPU/request, kick-offs/s, kick-off CPU/request
    let mut figures: Vec<Vec<[f64; 4]>> = vec![Vec::new(); modes.len()];
    for round in 1..=ROUNDS {
        for (m, mode) in modes.into_iter().enumerate() {
            let db_name = "switchyard_bench_telemetry_run";
            admin.execute(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)").as_str()).await.expect("drop run");
            // a closed pool's backends may still be leaving: a template must have no sessions
            sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1").bind(template_name).execute(&mut admin).await.expect("sessions");
            admin.execute(format!("CREATE DATABASE {db_name} TEMPLATE {template_name}").as_str()).await.expect("copy");
            let db = with_database(&admin_url, db_name);
            let port = 3320 + m as u16;
            let mut child = start(mode, port, &db, &collector).await;
            let base = format!("http://127.0.0.1:{port}");
            // warm-up: connections, plans, caches
            kick_offs_warm(&base, &tokens, &services).await;
            spans_in(&spans);
            let t0 = cpu(child.id());
            let (list_rate, list_p99, lists) = list(&base, &tokens[0]).await;
            let t1 = cpu(child.id());
            let (kick_rate, kick_p99, kicks) = kick_offs(&base, &tokens, &services).await;
            let t2 = cpu(child.id());
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
            // the server flushes its spans at shutdown
            let exported = spans_in(&spans);
            if mode == Mode::Traced {
                assert!(exported > 1000, "only {exported} spans reached the collector");
            }
            let list_cpu = (t1 - t0).as_secs_f64() * 1e6 / lists as f64;
            let kick_cpu = (t2 - t1).as_secs_f64() * 1e6 / kicks as f64;
            figures[m].push([list_rate, list_cpu, kick_rate, kick_cpu]);
            println!(
                "{:<38} | {:>5} | {:>10.0} | {:>7.2} | {:>9.0} | {:>11.0} | {:>7.2} | {:>9.0} | {:>9}",
                mode.label(), round, list_rate, list_p99, list_cpu, kick_rate, kick_p99, kick_cpu, exported
            );
        }
    }
    // the machine's own noise (±10 % from one minute to the next) only ever slows a run down: each
    // mode's best round is its cost, and the median of the rounds' ratios is beside it
    println!();
    println!("each mode's best round ÷ telemetry off's best round (median of the rounds' own ratios in brackets):");
    println!("{:<38} | {:>16} | {:>16} | {:>16} | {:>16}", "mode", "list req/s", "list CPU/req", "kick-offs/s", "kick-off CPU/req");
    println!("{}", "-".repeat(118));
    let best = |m: usize, i: usize| {
        let values = figures[m].iter().map(|f| f[i]);
        // throughput: the highest; CPU per request: the lowest
        if i % 2 == 0 { values.fold(f64::MIN, f64::max) } else { values.fold(f64::MAX, f64::min) }
    };
    for (m, mode) in modes.into_iter().enumerate().skip(1) {
        let median = |i: usize| {
            let mut r: Vec<f64> = figures[m].iter().zip(&figures[0]).map(|(x, off)| x[i] / off[i]).collect();
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        };
        let cell = |i: usize| format!("{:.3} ({:.3})", best(m, i) / best(0, i), median(i));
        println!("{:<38} | {:>16} | {:>16} | {:>16} | {:>16}", mode.label(), cell(0), cell(1), cell(2), cell(3));
    }
    admin.execute("DROP DATABASE IF EXISTS switchyard_bench_telemetry_run WITH (FORCE)").await.expect("drop run");
    admin.execute(format!("DROP DATABASE IF EXISTS {template_name} WITH (FORCE)").as_str()).await.expect("drop");
}

/// The CPU time (user and system) process `pid` has used so far.
fn cpu(pid: u32) -> Duration {
    let stat = procfs::process::Process::new(pid as i32).expect("the server's process").stat().expect("its /proc stat");
    Duration::from_secs_f64((stat.utime + stat.stime) as f64 / procfs::ticks_per_second() as f64)
}

/// A few hundred requests of each kind before measuring.
async fn kick_offs_warm(base: &str, tokens: &[String], services: &[String]) {
    let client = reqwest::Client::new();
    for i in 0..200 {
        let r = client.get(format!("{base}/api/v1/catalog/entities?kind=component&limit=50")).bearer_auth(&tokens[i % tokens.len()]).send().await.expect("warm");
        assert_eq!(r.status(), 200);
        let r = client
            .post(format!("{base}/api/v1/deploys"))
            .bearer_auth(&tokens[i % tokens.len()])
            .header("idempotency-key", Uuid::new_v4().to_string())
            .json(&json!({ "service": services[i % services.len()], "environment": "staging", "version": format!("w{i}"), "reason": "warm" }))
            .send()
            .await
            .expect("warm kick-off");
        assert_eq!(r.status(), 201);
    }
}
