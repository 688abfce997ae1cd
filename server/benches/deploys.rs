//! Deploy benchmark: kick-off requests over real HTTP against the real server (token auth,
//! idempotency key, permission check, freeze check, the deploy row, its transitions and its audit
//! row — one durable transaction each — then the workers' wake-up) from 32 concurrent clients, then the
//! worker draining the queue. Prints tables. Run with `make bench`; `DATABASE_URL` names the
//! server (the database is its own, made anew).
mod common;

use common::{demo_server, database_url, deploy_bots, gather, pct, with_database};
use app::approvals::repo::MAX_OPEN_PER_REQUESTER;
use serde_json::json;
use server::config::Settings;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const CLIENTS: usize = 32;
const PER_CLIENT: usize = 250;

struct Row {
    what: &'static str,
    requests: usize,
    per_second: f64,
    p50: f64,
    p99: f64,
}

/// `CLIENTS` clients, each sending `per_client` kick-offs one after another.
async fn kick_offs(what: &'static str, per_client: usize, base: &str, tokens: &[String], services: &[String], environment: &'static str, replay: bool) -> Row {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().expect("client");
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let client = client.clone();
            let url = format!("{base}/api/v1/deploys");
            let token = tokens[c].clone();
            let services = services.to_vec();
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(per_client);
                let fixed_key = format!("replay-{c}");
                for i in 0..per_client {
                    let service = &services[(c * 7 + i) % services.len()];
                    let key = if replay { fixed_key.clone() } else { Uuid::new_v4().to_string() };
                    let version = if replay { "v1".to_owned() } else { format!("v{c}.{i}") };
                    let t = Instant::now();
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("idempotency-key", key)
                        .json(&json!({ "service": if replay { &services[c % services.len()] } else { service }, "environment": environment, "version": version, "reason": "bench" }))
                        .send()
                        .await
                        .expect("send");
                    let status = r.status().as_u16();
                    assert!(status == 201 || status == 200, "kick-off answered {status}: {}", r.text().await.unwrap_or_default());
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let (times, elapsed) = gather(started, tasks).await;
    Row { what, requests: times.len(), per_second: times.len() as f64 / elapsed, p50: pct(&times, 0.5), p99: pct(&times, 0.99) }
}

/// Starts `workers` workers (each `concurrency` slots, each with a pool of its own, as a server
/// process has) on the queue and times until it is empty. The workers are then aborted and their
/// pools closed: an aborted task may leave its connection inside a transaction, which only
/// closing it ends.
async fn drain(pool: &PgPool, url: &str, base: &str, workers: usize, concurrency: usize) -> (i64, f64) {
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM deploys WHERE state IN ('queued', 'running')").fetch_one(pool).await.expect("count");
    let settings = Settings::from_figment(
        Settings::figment(None)
            .merge(("deploys.command.program", "true"))
            .merge(("deploys.concurrency", concurrency))
            .merge(("deploys.sweep_secs", 0.5)),
    )
    .expect("settings")
    .deploys;
    let settings = Arc::new(settings);
    let started = Instant::now();
    let mut pools = Vec::new();
    for _ in 0..workers {
        pools.push(PgPoolOptions::new().max_connections(concurrency as u32 + 4).connect(url).await.expect("worker pool"));
    }
    let handles: Vec<_> = pools.iter().map(|p| tokio::spawn(server::deploys::Worker::new(p.clone(), settings.clone(), base).run())).collect();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM deploys WHERE state IN ('queued', 'running')").fetch_one(pool).await.expect("count");
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    for h in handles {
        h.abort();
    }
    for p in pools {
        p.close().await;
    }
    (queued, queued as f64 / elapsed)
}

#[tokio::main]
async fn main() {
    let admin_url = database_url();
    let bench_url = with_database(&admin_url, "switchyard_bench_deploys");
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
    admin.execute("DROP DATABASE IF EXISTS switchyard_bench_deploys WITH (FORCE)").await.expect("drop");
    admin.execute("CREATE DATABASE switchyard_bench_deploys").await.expect("create");

    let (pool, base) = demo_server(&bench_url).await;
    let tokens = deploy_bots(&pool, CLIENTS).await;
    let services: Vec<String> = sqlx::query_scalar("SELECT name FROM entities WHERE kind = 'component' ORDER BY name").fetch_all(&pool).await.expect("services");

    println!("Deploy benchmark — {CLIENTS} concurrent HTTP clients × {PER_CLIENT} requests, {} services", services.len());
    println!();
    println!("{:<58} | {:>8} | {:>9} | {:>7} | {:>7}", "kick-off (POST /api/v1/deploys)", "requests", "req/s", "p50 ms", "p99 ms");
    println!("{}", "-".repeat(101));
    // warm the server's pool and caches
    kick_offs("warm-up", PER_CLIENT, &base, &tokens, &services, "staging", false).await;
    let rows = [
        kick_offs("new deploy to dev (queued, wakes the workers)", PER_CLIENT, &base, &tokens, &services, "dev", false).await,
        // a requester may have at most this many requests waiting for approval
        kick_offs("new deploy to production (+ approval request)", MAX_OPEN_PER_REQUESTER as usize, &base, &tokens, &services, "production", false).await,
        kick_offs("retry with the same key (answers the first deploy)", PER_CLIENT, &base, &tokens, &services, "dev", true).await,
    ];
    for r in rows {
        println!("{:<58} | {:>8} | {:>9.0} | {:>7.2} | {:>7.2}", r.what, r.requests, r.per_second, r.p50, r.p99);
    }
    println!();
    println!("{:<58} | {:>8} | {:>9}", "worker (command executor running `true`)", "jobs", "jobs/s");
    println!("{}", "-".repeat(81));
    let (jobs, rate) = drain(&pool, &bench_url, &base, 1, 8).await;
    println!("{:<58} | {:>8} | {:>9.0}", "1 worker, 8 slots", jobs, rate);
    kick_offs("refill", PER_CLIENT, &base, &tokens, &services, "dev", false).await;
    let (jobs, rate) = drain(&pool, &bench_url, &base, 2, 8).await;
    println!("{:<58} | {:>8} | {:>9.0}", "2 workers, 8 slots each (two processes' worth)", jobs, rate);
    let audit: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&pool).await.expect("audit");
    let chain = app::audit::service::verify(&pool).await.expect("verify");
    println!();
    println!("audit rows written: {audit}; chain: {chain:?}");
    pool.close().await;
    admin.execute("DROP DATABASE IF EXISTS switchyard_bench_deploys WITH (FORCE)").await.expect("drop");
}
