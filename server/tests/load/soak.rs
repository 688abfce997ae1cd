//! The soak (`make soak`): one server on a Postgres of its own, offered a fixed rate of mixed
//! traffic for ten minutes (`SOAK_MINUTES`) — pages viewed as each demo user, catalog API reads,
//! deploy kick-offs and OpenLineage run events — whatever its answers' speed (each request is
//! sent at its time, not after the one before: an open loop). Each minute it samples p50 and
//! p99 per kind of request, errors, the server's resident memory and Postgres's connections.
//! It passes when no request errs, memory grows no more than 10 % from minute 2 to the last,
//! and p99 drifts no more than 25 % (minutes 2–4 against the last three, all requests pooled).
use crate::harness::Stack;
use crate::helpers::Browser;
use serde_json::json;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The kinds of request, in the table's order.
const KINDS: [&str; 4] = ["page", "catalog API", "kick-off", "run event"];
/// Requests offered per second, per kind.
const RATES: [u32; 4] = [4, 8, 1, 4];
const PAGES: [&str; 7] = [
    "/",
    "/catalog?kind=component",
    "/catalog/component/default/refunds",
    "/deploys",
    "/integrations",
    "/topology",
    "/approvals",
];

/// One request as it went: (minute from the start, kind, latency, ok).
type Sample = (usize, usize, Duration, bool);

struct Minute {
    rss_kib: u64,
    connections: i64,
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's /proc status");
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("the server's resident memory (VmRSS)")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

/// Who sends: a browser per demo user (its session's cookies), and a client with no cookies
/// for the API's tokens (a request carrying a session cookie is a browser's, and needs its
/// Origin).
struct Clients {
    browsers: Vec<Browser>,
    api: reqwest::Client,
    deploy_token: String,
    ingest_token: String,
    services: Vec<String>,
}

/// Sends one request of `kind` (the `n`th of its kind) and records how it went.
async fn one(kind: usize, n: usize, base: Arc<String>, ctx: Arc<Clients>, started: Instant, samples: Arc<Mutex<Vec<Sample>>>) {
    let Clients { browsers, api: client, deploy_token, ingest_token, services } = &*ctx;
    let sent = Instant::now();
    let answer = match kind {
        0 => {
            let b = &browsers[n % browsers.len()];
            b.client.get(b.url(PAGES[n % PAGES.len()])).send().await
        }
        1 => {
            let path = if n % 2 == 0 {
                "/api/v1/catalog/entities?kind=component&limit=20".to_owned()
            } else {
                format!("/api/v1/catalog/entities/by-name/component/default/{}", services[n % services.len()])
            };
            client.get(format!("{base}{path}")).bearer_auth(deploy_token).send().await
        }
        2 => {
            let body = json!({ "service": services[n % services.len()], "environment": if n % 2 == 0 { "dev" } else { "staging" }, "version": format!("v{n}"), "reason": "the soak" });
            client.post(format!("{base}/api/v1/deploys")).bearer_auth(deploy_token).header("idempotency-key", Uuid::new_v4().to_string()).json(&body).send().await
        }
        _ => {
            let event = json!({
                "eventType": if n % 2 == 0 { "START" } else { "COMPLETE" }, "eventTime": chrono::Utc::now().to_rfc3339(),
                "run": { "runId": Uuid::from_u128(n as u128 / 2 + 1), "facets": {} },
                "job": { "namespace": "soak", "name": format!("flow-{}", n % 8) },
                "producer": "https://github.com/switchyard/soak", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            });
            client.post(format!("{base}/api/v1/lineage")).bearer_auth(ingest_token).json(&event).send().await
        }
    };
    // the whole answer, body included
    let ok = match answer {
        Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
        Err(_) => false,
    };
    let minute = (sent - started).as_secs() as usize / 60;
    samples.lock().expect("samples").push((minute, kind, sent.elapsed(), ok));
}

/// The soak: its tables, and what failed (nothing when it passed).
async fn soak(minutes: usize) -> (String, Vec<String>) {
    assert!(minutes >= 7, "a soak of {minutes} minutes cannot compare its early and late minutes: give SOAK_MINUTES 7 or more");
    let stack = Stack::new("soak", 1, 1).await;
    let base = Arc::new(stack.procs[0].base());
    let pid = stack.procs[0].child.as_ref().and_then(|c| c.id()).expect("the server's pid");
    let mut browsers = Vec::new();
    for user in ["alice", "bob", "carol", "dave"] {
        let b = Browser::at(&base);
        assert_eq!(b.sign_in(user, user).await.status(), 200, "{user} signs in");
        browsers.push(b);
    }
    let ctx = Arc::new(Clients {
        browsers,
        api: stack.client.clone(),
        deploy_token: stack.fx.deploy_tokens[0].clone(),
        ingest_token: stack.fx.ingest_token.clone(),
        services: stack.services.clone(),
    });
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let started = Instant::now();
    let end = started + Duration::from_secs(60 * minutes as u64);
    let mut senders = Vec::new();
    for (kind, rate) in RATES.iter().enumerate() {
        let (base, ctx, samples) = (base.clone(), ctx.clone(), samples.clone());
        senders.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1) / *rate);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut sent = Vec::new();
            let mut n = 0;
            while Instant::now() < end {
                tick.tick().await;
                n += 1;
                sent.push(tokio::spawn(one(kind, n, base.clone(), ctx.clone(), started, samples.clone())));
            }
            for s in sent {
                let _ = s.await;
            }
        }));
    }
    // once a minute, at its end: memory and connections
    let mut per_minute = Vec::new();
    for m in 1..=minutes {
        tokio::time::sleep_until((started + Duration::from_secs(60 * m as u64)).into()).await;
        let connections: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = 'switchyard'")
            .fetch_one(&stack.pool)
            .await
            .expect("connections");
        per_minute.push(Minute { rss_kib: rss_kib(pid), connections });
    }
    for s in senders {
        s.await.expect("a sender");
    }
    let samples = std::mem::take(&mut *samples.lock().expect("samples"));

    let mut table = String::new();
    let mut failed = Vec::new();
    let _ = writeln!(
        table,
        "Soak: {minutes} minutes at {} requests/s offered ({}), one server (worker on), p50/p99 in ms\n",
        RATES.iter().sum::<u32>(),
        KINDS.iter().zip(RATES).map(|(k, r)| format!("{r}/s {k}")).collect::<Vec<_>>().join(", ")
    );
    let _ = write!(table, "| minute | requests | errors |");
    for k in KINDS {
        let _ = write!(table, " {k} p50 | {k} p99 |");
    }
    let _ = writeln!(table, " all p99 | server RSS MiB | Postgres connections |");
    let _ = writeln!(table, "|---:|---:|---:|{}---:|---:|---:|", "---:|".repeat(2 * KINDS.len()));
    let latencies = |from: usize, to: usize, kind: Option<usize>| {
        let mut l: Vec<Duration> = samples.iter().filter(|s| s.0 >= from && s.0 < to && kind.is_none_or(|k| s.1 == k)).map(|s| s.2).collect();
        l.sort();
        l
    };
    for (m, sample) in per_minute.iter().enumerate() {
        let in_minute: Vec<&Sample> = samples.iter().filter(|s| s.0 == m).collect();
        let errors = in_minute.iter().filter(|s| !s.3).count();
        let _ = write!(table, "| {} | {} | {errors} |", m + 1, in_minute.len());
        for k in 0..KINDS.len() {
            let l = latencies(m, m + 1, Some(k));
            let _ = write!(table, " {:.1} | {:.1} |", percentile(&l, 0.5), percentile(&l, 0.99));
        }
        let _ = writeln!(table, " {:.1} | {:.1} | {} |", percentile(&latencies(m, m + 1, None), 0.99), sample.rss_kib as f64 / 1024.0, sample.connections);
    }
    let errors = samples.iter().filter(|s| !s.3).count();
    if errors > 0 {
        failed.push(format!("{errors} requests failed"));
    }
    // minute 2 against the last, and minutes 2–4 against the last three (apart from 7 minutes on)
    {
        let (early, late) = (per_minute[1].rss_kib as f64, per_minute[minutes - 1].rss_kib as f64);
        let growth = late / early - 1.0;
        let _ = writeln!(table, "\nMemory from minute 2 to minute {minutes}: {:+.1} % (limit +10 %)", growth * 100.0);
        if growth > 0.10 {
            failed.push(format!("memory grew {:.1} % from minute 2 to minute {minutes}", growth * 100.0));
        }
        let (p_early, p_late) = (percentile(&latencies(1, 4, None), 0.99), percentile(&latencies(minutes - 3, minutes, None), 0.99));
        let drift = p_late / p_early - 1.0;
        let _ = writeln!(table, "p99 of all requests, minutes 2–4 against minutes {}–{minutes}: {p_early:.1} → {p_late:.1} ms, {:+.1} % (limit +25 %)", minutes - 2, drift * 100.0);
        if drift > 0.25 {
            failed.push(format!("p99 drifted {:.1} %", drift * 100.0));
        }
    }
    stack.end(!failed.is_empty()).await;
    (table, failed)
}

/// `make soak`: ten minutes (`SOAK_MINUTES`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "ten minutes: make soak"]
async fn a_steady_load_for_ten_minutes_keeps_memory_and_latency_flat_without_errors() {
    let minutes = std::env::var("SOAK_MINUTES").ok().and_then(|m| m.parse().ok()).unwrap_or(10);
    let (table, failed) = soak(minutes).await;
    println!("{table}");
    assert!(failed.is_empty(), "{table}\n{}", failed.join("\n"));
}
