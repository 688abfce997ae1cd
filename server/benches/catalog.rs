//! Catalog list benchmark: generates a catalog of 10,000 and then 50,000 entities with
//! realistic relations on a database of its own, and measures the list (first page, a deep
//! keyset page, filtered, searched), its facet counts and the search box, through the same
//! service functions the pages and the API call (SQL and mapping; no HTTP). Prints tables.
//! Run with `make bench`; `DATABASE_URL` names the server (the database is its own).
mod common;

use common::{database_url, pct, with_database};
use app::catalog::service;
use app::catalog::types::{EntityPage, ListQuery, SearchText};
use app::iam::principal::{Principal, Via};
use app::iam::types::{Role, UserId};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::time::Instant;

const SAMPLES: usize = 200;
const CONCURRENCY: usize = 8;

/// Adds entities until the catalog holds `total`: components in systems, an API for every
/// tenth, a resource for every twentieth, about three dependencies each, 50 owning teams.
async fn grow(pool: &PgPool, total: i64) {
    let have: i64 = sqlx::query_scalar("SELECT count(*) FROM entities").fetch_one(pool).await.expect("count");
    if have >= total {
        return;
    }
    let (from, to) = (have + 1, total);
    let mut tx = pool.begin().await.expect("tx");
    tx.execute("INSERT INTO teams (slug, name, description) SELECT 'team-' || g, 'Team ' || g, 'generated' FROM generate_series(0, 49) g ON CONFLICT DO NOTHING")
        .await
        .expect("teams");
    sqlx::query(
        r#"WITH t AS (SELECT id, slug, (row_number() OVER (ORDER BY slug)) - 1 AS n FROM teams WHERE slug LIKE 'team-%')
           INSERT INTO entities (kind, name, title, description, type, lifecycle, tier, owner_team_id, owner_ref, language,
                                 tags, classification, runbook_url, oncall_url, dashboards)
           SELECT CASE WHEN g % 20 = 0 THEN 'resource' WHEN g % 10 = 0 THEN 'api' WHEN g % 100 = 1 THEN 'system' ELSE 'component' END,
                  'svc-' || g,
                  (ARRAY['Payments', 'Refunds', 'Ledger', 'Fraud', 'Payouts', 'Settlement', 'Onboarding'])[1 + g % 7] || ' ' ||
                  (ARRAY['Gateway', 'Worker', 'Engine', 'Service', 'Exporter', 'Bridge'])[1 + g % 6] || ' ' || g,
                  'Handles ' || (ARRAY['card payments', 'refunds', 'ledger postings', 'fraud checks', 'payouts', 'settlement files'])[1 + g % 6]
                      || ' for region ' || (g % 17),
                  CASE WHEN g % 20 = 0 THEN 'database' WHEN g % 10 = 0 THEN 'openapi' WHEN g % 100 = 1 THEN NULL ELSE 'service' END,
                  CASE WHEN g % 100 = 1 OR g % 20 = 0 THEN NULL ELSE (ARRAY['production', 'production', 'production', 'experimental', 'deprecated'])[1 + g % 5] END,
                  CASE WHEN g % 10 = 0 OR g % 100 = 1 THEN NULL ELSE g % 4 END,
                  t.id, t.slug,
                  (ARRAY['Rust', 'Go', 'Java', 'Kotlin', 'Python', 'TypeScript'])[1 + g % 6],
                  ARRAY[(ARRAY['pci', 'cards', 'money', 'fraud', 'internal-tools'])[1 + g % 5], 'region-' || (g % 17)],
                  (ARRAY['public', 'internal', 'confidential', 'pci'])[1 + g % 4],
                  CASE WHEN g % 3 = 0 THEN NULL ELSE 'https://runbooks.example.com/svc-' || g END,
                  CASE WHEN g % 4 = 0 THEN NULL ELSE 'https://oncall.example.com/svc-' || g END,
                  CASE WHEN g % 5 = 0 THEN '{}'::text[] ELSE ARRAY['https://grafana.example.com/d/svc-' || g] END
           FROM generate_series($1::bigint, $2::bigint) g JOIN t ON t.n = g % 50"#,
    )
    .bind(from)
    .bind(to)
    .execute(&mut *tx)
    .await
    .expect("entities");
    sqlx::query(
        r#"INSERT INTO entity_relations (source_id, type, target_id, target_kind, target_namespace, target_name)
           SELECT s.id, 'depends_on', d.id, d.kind, d.namespace, d.name
           FROM generate_series($1::bigint, $2::bigint) g
           CROSS JOIN generate_series(1, 3) k
           JOIN entities s ON s.name = 'svc-' || g AND s.kind = 'component'
           JOIN entities d ON d.name = 'svc-' || (1 + (g * 7919 + k * 104729) % $2) AND d.kind IN ('component', 'resource')
           WHERE s.id <> d.id
           ON CONFLICT DO NOTHING"#,
    )
    .bind(from)
    .bind(to)
    .execute(&mut *tx)
    .await
    .expect("relations");
    tx.commit().await.expect("commit");
    pool.execute("ANALYZE entities; ANALYZE entity_relations").await.expect("analyze");
}

fn admin() -> Principal {
    Principal {
        user_id: UserId(uuid::Uuid::nil()),
        username: "bench".into(),
        name: "Bench".into(),
        email: "bench@example.com".into(),
        roles: vec![Role::Admin],
        teams: vec![],
        via: Via::Session { session_id: uuid::Uuid::nil() },
    }
}

fn query(pairs: &[(&str, &str)]) -> ListQuery {
    ListQuery::parse(|k| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| (*v).to_owned())).expect("query")
}

struct Row {
    what: String,
    p50: f64,
    p99: f64,
    per_second: f64,
}

/// Times `SAMPLES` sequential calls (latency), then `CONCURRENCY` callers for a while
/// (throughput).
async fn measure<F, Fut>(what: &str, pool: &PgPool, call: F) -> Row
where
    F: Fn(PgPool) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    for _ in 0..10 {
        call(pool.clone()).await; // warm the cache and the pool
    }
    let mut times = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        call(pool.clone()).await;
        times.push(start.elapsed());
    }
    times.sort();
    let started = Instant::now();
    let per_task = SAMPLES / 2;
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let call = call.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    call(pool.clone()).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let per_second = (CONCURRENCY * per_task) as f64 / started.elapsed().as_secs_f64();
    Row { what: what.to_owned(), p50: pct(&times, 0.5), p99: pct(&times, 0.99), per_second }
}

async fn run_at(pool: &PgPool, size: i64) -> Vec<Row> {
    grow(pool, size).await;
    let p = admin();
    let list = |pairs: &'static [(&'static str, &'static str)]| {
        let p = p.clone();
        move |pool: PgPool| {
            let p = p.clone();
            async move {
                let page: EntityPage = service::list(&pool, &p, &query(pairs)).await.expect("list");
                assert!(!page.items.is_empty() || pairs.iter().any(|(k, _)| *k == "q"));
            }
        }
    };
    // a cursor from the middle of the catalog, for a deep page
    let deep_cursor = {
        let mut q = query(&[("limit", "200")]);
        let mut cursor = None;
        for _ in 0..(size / 400) {
            q.after = cursor.clone();
            cursor = service::list(pool, &p, &q).await.expect("page").next;
        }
        cursor.unwrap_or_default()
    };
    let deep = {
        let p = p.clone();
        move |pool: PgPool| {
            let p = p.clone();
            let cursor = deep_cursor.clone();
            async move {
                let mut q = query(&[]);
                q.after = Some(cursor);
                service::list(&pool, &p, &q).await.expect("deep page");
            }
        }
    };
    let facets = {
        let p = p.clone();
        move |pool: PgPool| {
            let p = p.clone();
            async move {
                service::facets(&pool, &p, &query(&[("kind", "component"), ("lifecycle", "production")])).await.expect("facets");
            }
        }
    };
    let search = {
        let p = p.clone();
        move |pool: PgPool| {
            let p = p.clone();
            async move {
                let text = SearchText::parse("refund engine").expect("text");
                service::quick_search(&pool, &p, &text).await.expect("search");
            }
        }
    };
    let mut rows = vec![
        measure("list: first page (50, by name)", pool, list(&[])).await,
        measure("list: deep page (keyset cursor, middle)", pool, deep).await,
        measure("list: owner + lifecycle filter", pool, list(&[("owner", "team-7"), ("lifecycle", "production")])).await,
        measure("list: sorted by tier", pool, list(&[("sort", "tier")])).await,
        measure("list: full-text \"refunds\"", pool, list(&[("q", "refunds")])).await,
        measure("facet counts (components, production)", pool, facets).await,
        measure("search box (ranked, 10)", pool, search).await,
    ];
    for r in &mut rows {
        r.what = format!("{size:>6} | {}", r.what);
    }
    rows
}

#[tokio::main]
async fn main() {
    let admin_url = database_url();
    let bench_url = with_database(&admin_url, "switchyard_bench");
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
    admin.execute("DROP DATABASE IF EXISTS switchyard_bench WITH (FORCE)").await.expect("drop");
    admin.execute("CREATE DATABASE switchyard_bench").await.expect("create");
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(10).connect(&bench_url).await.expect("pool");
    server::db::MIGRATOR.run(&pool).await.expect("migrate");

    println!("Catalog benchmark — {SAMPLES} sequential calls for latency, {CONCURRENCY} concurrent callers for throughput");
    println!();
    println!("{:>6} | {:<42} | {:>8} | {:>8} | {:>9}", "size", "what", "p50 ms", "p99 ms", "calls/s");
    println!("{}", "-".repeat(86));
    for size in [10_000, 50_000] {
        let started = Instant::now();
        let rows = run_at(&pool, size).await;
        for r in rows {
            println!("{:<51} | {:>8.2} | {:>8.2} | {:>9.0}", r.what, r.p50, r.p99, r.per_second);
        }
        println!("{:>6} | (generated and measured in {:.0} s)", size, started.elapsed().as_secs_f64());
    }
    pool.close().await;
    admin.execute("DROP DATABASE IF EXISTS switchyard_bench WITH (FORCE)").await.expect("drop");
}
