//! Topology benchmark: what the topology view reads (`GET /api/v1/topology/graph`) at 500 and at
//! 5,000 devices (a generated mesh, about two links a device) over real HTTP from 4 clients, the
//! first read of a new version (the drawing laid out and kept) beside the kept one, and the single
//! points of failure over the whole network. Prints a table; the target is a ratio of one run:
//! p99 at 5,000 ≤ 4 × p99 at 500. Run with `make bench-topology` (and in `make bench`).
mod common;

use common::{bench_admin, database_url, gather, pct, server_on, with_database};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::time::{Duration, Instant};

const CLIENTS: usize = 4;
const PER_CLIENT: usize = 100;
/// (rows, columns) of the generated mesh: 500 and 5,000 devices.
const SIZES: [(usize, usize); 2] = [(20, 25), (50, 100)];

/// A mesh of `rows` × `columns` devices, each joined to its right and lower neighbours, as
/// GraphML (the view's tiers come from the roles).
fn mesh(rows: usize, columns: usize) -> String {
    let roles = ["spine", "leaf", "server", "server", "core"];
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n\
         <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n<key id=\"role\" for=\"node\" attr.name=\"role\" attr.type=\"string\"/>\n\
         <graph id=\"bench\" edgedefault=\"undirected\">\n",
    );
    for r in 0..rows {
        for c in 0..columns {
            out.push_str(&format!("<node id=\"n{}\"><data key=\"label\">bench-{r}-{c}</data><data key=\"role\">{}</data></node>\n", r * columns + c, roles[(r + c) % roles.len()]));
        }
    }
    for r in 0..rows {
        for c in 0..columns {
            let id = r * columns + c;
            if c + 1 < columns {
                out.push_str(&format!("<edge source=\"n{id}\" target=\"n{}\"/>\n", id + 1));
            }
            if r + 1 < rows {
                out.push_str(&format!("<edge source=\"n{id}\" target=\"n{}\"/>\n", id + columns));
            }
        }
    }
    out.push_str("</graph>\n</graphml>\n");
    out
}

/// A server on a new database holding the mesh: its pool, base URL and a read token.
async fn network(admin_conn: &mut PgConnection, admin_url: &str, rows: usize, columns: usize) -> (PgPool, String, String) {
    let name = format!("switchyard_bench_topology_{}", rows * columns);
    admin_conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.expect("drop");
    admin_conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create");
    let (pool, base) = server_on(&with_database(admin_url, &name)).await;
    let me = bench_admin(&pool).await;
    let meta = app::context::RequestMeta::default();
    let text = mesh(rows, columns);
    let file = app::topology::service::GraphmlImport { file_name: "bench.graphml", text: &text, site: Some("bench"), dry_run: false };
    let report = app::topology::service::import_graphml(&pool, &me, file, &meta).await.expect("the mesh imports");
    assert_eq!(report.devices.created as usize, rows * columns);
    let scopes = vec!["read".to_owned()];
    let req = app::iam::tokens::Request { name: "bench", team: None, scopes: &scopes, days: 1 };
    let token = app::iam::tokens::create(&pool, &me, req, &meta).await.expect("token").secret;
    (pool, base, token)
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> usize {
    let r = client.get(url).bearer_auth(token).send().await.expect("send");
    assert_eq!(r.status(), 200, "{url}");
    r.bytes().await.expect("body").len()
}

struct Measured {
    devices: usize,
    bytes: usize,
    first_ms: f64,
    kept: Vec<Duration>,
    per_second: f64,
    spof: Vec<Duration>,
    drawings: i64,
}

async fn measure(pool: &PgPool, base: &str, token: &str, devices: usize) -> Measured {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().expect("client");
    let graph = format!("{base}/api/v1/topology/graph");
    // the first read of this version lays the network out and keeps the drawing
    let t = Instant::now();
    let bytes = get(&client, &graph, token).await;
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    for _ in 0..10 {
        get(&client, &graph, token).await;
    }
    let started = Instant::now();
    let tasks = (0..CLIENTS)
        .map(|_| {
            let (client, graph, token) = (client.clone(), graph.clone(), token.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(PER_CLIENT);
                for _ in 0..PER_CLIENT {
                    let t = Instant::now();
                    get(&client, &graph, &token).await;
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let (kept, secs) = gather(started, tasks).await;
    let mut spof = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        get(&client, &format!("{base}/api/v1/topology/single-points-of-failure"), token).await;
        spof.push(t.elapsed());
    }
    spof.sort();
    let drawings: i64 = sqlx::query_scalar("SELECT count(*) FROM topology_layouts").fetch_one(pool).await.expect("layouts");
    Measured { devices, bytes, first_ms, per_second: kept.len() as f64 / secs, kept, spof, drawings }
}

#[tokio::main]
async fn main() {
    let admin_url = database_url();
    let mut admin_conn = PgConnection::connect(&admin_url).await.expect("connect");
    println!("Topology benchmark — {} CPUs; a generated mesh; {CLIENTS} HTTP clients × {PER_CLIENT} reads of the view's data", std::thread::available_parallelism().map_or(0, |n| n.get()));
    println!();
    let mut results = Vec::new();
    for (rows, columns) in SIZES {
        let (pool, base, token) = network(&mut admin_conn, &admin_url, rows, columns).await;
        results.push(measure(&pool, &base, &token, rows * columns).await);
        pool.close().await;
    }
    println!(
        "{:>8} | {:>9} | {:>16} | {:>10} | {:>10} | {:>8} | {:>12} | {:>12} | {:>8}",
        "devices", "JSON kB", "first view ms", "p50 ms", "p99 ms", "per s", "SPOF p50 ms", "SPOF p99 ms", "drawings"
    );
    println!("{}", "-".repeat(118));
    for m in &results {
        println!(
            "{:>8} | {:>9.0} | {:>16.1} | {:>10.2} | {:>10.2} | {:>8.0} | {:>12.1} | {:>12.1} | {:>8}",
            m.devices,
            m.bytes as f64 / 1024.0,
            m.first_ms,
            pct(&m.kept, 0.5),
            pct(&m.kept, 0.99),
            m.per_second,
            pct(&m.spof, 0.5),
            pct(&m.spof, 0.99),
            m.drawings
        );
    }
    let (small, large) = (&results[0], &results[1]);
    let ratio = pct(&large.kept, 0.99) / pct(&small.kept, 0.99);
    println!();
    println!("view's data, p99 at {} ÷ p99 at {}: {ratio:.2} (target ≤ 4); drawings made per network: {} and {} (kept, never redrawn on a view)", large.devices, small.devices, small.drawings, large.drawings);
    for n in SIZES.map(|(r, c)| r * c) {
        if std::env::var_os("BENCH_KEEP").is_none() {
            admin_conn.execute(format!("DROP DATABASE IF EXISTS switchyard_bench_topology_{n} WITH (FORCE)").as_str()).await.expect("drop");
        }
    }
}
