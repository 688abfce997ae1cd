//! Side by side with NetBox: a real NetBox 4.7 with NetBox's demo data (the peer in
//! `../shared/peers/netbox`, at `NETBOX_URL` with `NETBOX_TOKEN`) is synced into a Switchyard of
//! its own, then the same closed-loop client (4 connections, `DURATION` seconds each) reads the
//! same data from both, one after the other in one run: a page of 50 devices, one device, and
//! 1,000 cables (NetBox's `dcim/cables`, Switchyard's links). Prints a markdown table with the
//! ratio per case; the target is Switchyard ≥ 100 × NetBox's requests per second.
//! Run with `make bench-netbox` (it starts the peer).
mod common;

use common::{bench_admin, database_url, pct, server_on, with_database};
use sqlx::{Connection, Executor, PgConnection};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 4;
const DB: &str = "switchyard_bench_netbox";

/// `CONNECTIONS` clients, each reading `url` again and again for `secs`: requests per second
/// and the sorted times.
async fn closed_loop(url: String, auth: String, secs: u64) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONNECTIONS).build().expect("client");
    // a warm-up read each
    let r = client.get(&url).header("authorization", &auth).header("accept", "application/json").send().await.expect("warm-up");
    assert!(r.status().is_success(), "{url} answered {}", r.status());
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
            tokio::spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < until {
                    let t = Instant::now();
                    let r = client.get(&url).header("authorization", &auth).header("accept", "application/json").send().await.expect("send");
                    assert!(r.status().is_success(), "{url} answered {}", r.status());
                    r.bytes().await.expect("body");
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.expect("client"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    (times.len() as f64 / elapsed, times)
}

#[tokio::main]
async fn main() {
    let netbox_url = std::env::var("NETBOX_URL").expect("NETBOX_URL: make bench-netbox starts the NetBox peer and sets it").trim_end_matches('/').to_owned();
    let netbox_token = std::env::var("NETBOX_TOKEN").expect("NETBOX_TOKEN");
    let secs: u64 = std::env::var("DURATION").ok().and_then(|d| d.parse().ok()).unwrap_or(10);
    let admin_url = database_url();
    let mut admin_conn = PgConnection::connect(&admin_url).await.expect("connect");
    admin_conn.execute(format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)").as_str()).await.expect("drop");
    admin_conn.execute(format!("CREATE DATABASE {DB}").as_str()).await.expect("create");
    let (pool, base) = server_on(&with_database(&admin_url, DB)).await;

    // an admin syncs the NetBox in
    let me = bench_admin(&pool).await;
    let user = me.user_id.0;
    let meta = app::context::RequestMeta::default();
    let netbox = app::topology::netbox::NetBox::new(&netbox_url, &netbox_token).expect("NetBox client");
    let id = app::topology::repo::start_sync(&mut pool.acquire().await.expect("conn"), user, false, 20).await.expect("sync row");
    let t = Instant::now();
    app::topology::service::run_netbox_sync(&pool, &me, &netbox, id, false, &meta).await;
    let synced = t.elapsed();
    let job = app::topology::service::netbox_sync(&pool, &me, id).await.expect("the sync");
    assert_eq!(job.state, "succeeded", "the sync failed: {:?}", job.error);
    let scopes = vec!["read".to_owned()];
    let req = app::iam::tokens::Request { name: "bench", team: None, scopes: &scopes, days: 1 };
    let token = app::iam::tokens::create(&pool, &me, req, &meta).await.expect("token").secret;

    // one device, the same in both: NetBox's first, by its id there and its name here
    let client = reqwest::Client::new();
    let nb_auth = if netbox_token.starts_with("nbt_") { format!("Bearer {netbox_token}") } else { format!("Token {netbox_token}") };
    let first: serde_json::Value = client.get(format!("{netbox_url}/api/dcim/devices/?limit=1")).header("authorization", &nb_auth).send().await.expect("NetBox").json().await.expect("json");
    let nb_id = first["results"][0]["id"].as_i64().expect("a device in NetBox");
    let name: String = sqlx::query_scalar("SELECT name FROM topology_devices WHERE source = 'netbox' AND source_id = $1")
        .bind(nb_id.to_string())
        .fetch_one(&pool)
        .await
        .expect("that device synced");
    let sy_auth = format!("Bearer {token}");
    let cases = [
        ("a page of 50 devices", format!("{netbox_url}/api/dcim/devices/?limit=50"), format!("{base}/api/v1/topology/devices?limit=50")),
        ("one device", format!("{netbox_url}/api/dcim/devices/{nb_id}/"), format!("{base}/api/v1/topology/devices/{}", name.replace(' ', "%20"))),
        ("1,000 cables (links)", format!("{netbox_url}/api/dcim/cables/?limit=1000"), format!("{base}/api/v1/topology/links?limit=1000")),
    ];
    let kinds = job.report.as_ref().map(|r| r.kinds.iter().map(|k| format!("{} {}", k.counts.created, k.kind)).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    println!("Side by side with NetBox — {} CPUs; {CONNECTIONS} connections, closed loop, {secs} s a case, the same client for both", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!();
    println!("Synced from {netbox_url} in {:.1} s: {kinds}", synced.as_secs_f64());
    println!();
    println!("| case | NetBox req/s | NetBox p50 ms | NetBox p99 ms | Switchyard req/s | Switchyard p50 ms | Switchyard p99 ms | Switchyard ÷ NetBox |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (what, nb, sy) in cases {
        let (nb_rate, nb_times) = closed_loop(nb, nb_auth.clone(), secs).await;
        let (sy_rate, sy_times) = closed_loop(sy, sy_auth.clone(), secs).await;
        println!(
            "| {what} | {nb_rate:.1} | {:.0} | {:.0} | {sy_rate:.0} | {:.2} | {:.2} | {:.0} × |",
            pct(&nb_times, 0.5),
            pct(&nb_times, 0.99),
            pct(&sy_times, 0.5),
            pct(&sy_times, 0.99),
            sy_rate / nb_rate
        );
    }
    pool.close().await;
    if std::env::var_os("BENCH_KEEP").is_none() {
        admin_conn.execute(format!("DROP DATABASE IF EXISTS {DB} WITH (FORCE)").as_str()).await.expect("drop");
    }
}
