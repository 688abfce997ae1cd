//! Blast-radius benchmark: "if this fails" for every device of a generated network of 500 and of
//! 5,000 devices (a mesh of two data centers, about two links a device), with 100 partners (half
//! reached by a session on one device, half on two), each hosting two systems, and 5,000
//! integrations from those systems. Calls the service as the API does (two statements an
//! answer: the version, the layers beyond); the first answer of a version reads its shape and
//! builds what is kept (the dominator tree and each partner's paths). Then 20 devices as of a
//! past moment, each answer reading and analysing that version anew. Prints a table: p50, p99 and the total over every device, and the ratio of
//! the p99s. Then the approver's pre-flight card of a production deploy of a tier 0 service at
//! the end of 50 of those integrations (50 partners on its path): the statements one card reads,
//! counted, and its p50 and p99. Run with `make bench-blast` (and in `make bench`).
mod common;

use common::statements::Statements;
use common::{bench_admin, database_url, pct, server_on, with_database};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use std::time::{Duration, Instant};

/// (rows, columns) of the generated mesh.
const SIZES: [(usize, usize); 2] = [(10, 50), (50, 100)];
const PARTNERS: usize = 100;
const INTEGRATIONS: usize = 5_000;

fn estate(rows: usize, columns: usize) -> String {
    let devices = rows * columns;
    format!(
        r#"
        INSERT INTO teams (slug, name) VALUES ('bench', 'Bench');
        INSERT INTO topology_sites (name, kind) VALUES ('dc1', 'data_center'), ('dc2', 'data_center');
        INSERT INTO topology_devices (name, role, site_id)
        SELECT 'bench-' || g, 'core', (SELECT id FROM topology_sites WHERE name = CASE WHEN g < {devices} / 2 THEN 'dc1' ELSE 'dc2' END)
        FROM generate_series(0, {devices} - 1) g;
        CREATE TEMP TABLE ids AS SELECT id, substr(name, 7)::int AS n FROM topology_devices;
        INSERT INTO topology_links (a_device_id, b_device_id)
        SELECT a.id, b.id FROM ids a JOIN ids b ON (b.n = a.n + 1 AND a.n % {columns} <> {columns} - 1) OR b.n = a.n + {columns};
        INSERT INTO topology_partners (name, kind, asns) SELECT 'partner-' || p, 'bank', ARRAY[65000 + p] FROM generate_series(1, {PARTNERS}) p;
        INSERT INTO topology_bgp_sessions (name, device_id, local_address, local_asn, remote_address, remote_asn, partner_id)
        SELECT 'partner-' || p || '-' || k, d.id, ('10.0.0.0'::inet + (p * 4 + k)), 64999, ('10.1.0.0'::inet + (p * 4 + k)), 65000 + p, pa.id
        FROM generate_series(1, {PARTNERS}) p CROSS JOIN generate_series(0, 1) k
        JOIN ids d ON d.n = (p * 37 + k * {devices} / 2) % {devices}
        JOIN topology_partners pa ON pa.name = 'partner-' || p
        WHERE k = 0 OR p % 2 = 0;
        INSERT INTO integration_systems (name, title, kind, environment, external, owner_team_id, classification)
        SELECT 'sys-' || g, 'System ' || g, CASE WHEN g <= {PARTNERS} * 2 THEN 'bank' ELSE 'internal-service' END, 'production', g <= {PARTNERS} * 2,
               (SELECT id FROM teams WHERE slug = 'bench'), 'internal'
        FROM generate_series(1, {PARTNERS} * 3) g;
        UPDATE integration_systems s SET hosted_by = p.id
        FROM topology_partners p WHERE s.name IN ('sys-' || (substr(p.name, 9)::int * 2 - 1), 'sys-' || (substr(p.name, 9)::int * 2));
        INSERT INTO integration_jobs (namespace, name) SELECT 'bench', 'flow-' || g FROM generate_series(1, {INTEGRATIONS}) g;
        INSERT INTO integrations (name, title, platform, trigger, schedule, time_zone, data_format, transport, auth, owner_team_id, classification, lifecycle, job_id, status)
        SELECT j.name, 'Flow ' || j.name, 'in-house', 'schedule', (g % 60) || ' * * * *', 'UTC', 'json', 'https', 'mtls',
               (SELECT id FROM teams WHERE slug = 'bench'), 'internal', 'stable', j.id, 'active'
        FROM generate_series(1, {INTEGRATIONS}) g JOIN integration_jobs j ON j.namespace = 'bench' AND j.name = 'flow-' || g;
        INSERT INTO integration_ends (integration_id, system_id, direction, position)
        SELECT i.id, s.id, x.direction, 0
        FROM integrations i, LATERAL (SELECT substr(i.name, 6)::int AS g) n,
             LATERAL (VALUES ('source', 'sys-' || (1 + n.g % ({PARTNERS} * 2))), ('target', 'sys-' || ({PARTNERS} * 2 + 1 + n.g % {PARTNERS}))) AS x(direction, system)
        JOIN integration_systems s ON s.name = x.system;
        "#
    )
}

struct Measured {
    devices: usize,
    first_ms: f64,
    times: Vec<Duration>,
    total: Duration,
    cut_off: usize,
    integrations: usize,
    /// Answers as of a past moment.
    then: Vec<Duration>,
}

/// How many devices are asked about as of a past moment.
const AS_OF_ANSWERS: usize = 20;

async fn measure(pool: &PgPool, devices: usize) -> Measured {
    let me = bench_admin(pool).await;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM topology_devices ORDER BY name").fetch_all(pool).await.expect("devices");
    let t = Instant::now();
    app::topology::service::blast::blast_radius(pool, &me, "device", &names[0], None).await.expect("the first answer");
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (mut times, mut cut_off, mut integrations) = (Vec::with_capacity(names.len()), 0, 0);
    let started = Instant::now();
    for name in &names {
        let t = Instant::now();
        let b = app::topology::service::blast::blast_radius(pool, &me, "device", name, None).await.expect("an answer");
        times.push(t.elapsed());
        cut_off += b.partners.iter().filter(|p| p.effect == "cut_off").count();
        integrations += b.integrations.len();
    }
    let total = started.elapsed();
    times.sort();
    // as of a past moment (the network then is this version, read and analysed anew each time)
    let moment = chrono::Utc::now().to_rfc3339();
    let mut then = Vec::with_capacity(AS_OF_ANSWERS);
    for name in names.iter().step_by(names.len() / AS_OF_ANSWERS).take(AS_OF_ANSWERS) {
        let t = Instant::now();
        let b = app::topology::service::blast::blast_radius(pool, &me, "device", name, Some(&moment)).await.expect("an answer as of");
        then.push(t.elapsed());
        assert!(b.as_of.is_some());
    }
    then.sort();
    Measured { devices, first_ms, times, total, cut_off, integrations, then }
}

struct Card {
    devices: usize,
    statements: Vec<usize>,
    times: Vec<Duration>,
    groups: usize,
    facts: usize,
}

/// The pre-flight card of a production deploy of `bench-service` (tier 0), the target of the 50
/// integrations into `sys-{2 × PARTNERS + 1}`: read 50 times once warm, each read's statements
/// counted.
async fn preflight_card(pool: &PgPool, devices: usize) -> Card {
    use app::approvals::subject::{Request, Subject};
    let yaml = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: bench-service, title: Bench service }\nspec: { type: service, lifecycle: production, owner: group:bench }\n";
    let meta = app::context::RequestMeta { request_id: "bench".into(), ip: "127.0.0.1".into() };
    let files = vec![app::catalog::backstage::SourceFile { path: "catalog-info.yaml".into(), content: yaml.into() }];
    let report = app::catalog::import::import_as_system(pool, files, &meta).await.expect("the service");
    assert!(!report.refused(), "{report:?}");
    let deploy: uuid::Uuid = sqlx::query_scalar(&format!(
        "WITH s AS (UPDATE entities SET tier = 0 WHERE name = 'bench-service' RETURNING id),
              y AS (UPDATE integration_systems SET entity_id = (SELECT id FROM s) WHERE name = 'sys-{}')
         INSERT INTO deploys (id, service_id, environment, version, reason, requester_id, idempotency_key, fingerprint, state)
         SELECT gen_random_uuid(), s.id, 'production', '2.0.0', 'release', u.id, 'bench-card', '\\x00', 'awaiting_approval'
         FROM s, users u WHERE u.username = 'bench-admin' RETURNING id",
        PARTNERS * 2 + 1
    ))
    .fetch_one(pool)
    .await
    .expect("a deploy waiting for approval");
    let request = Request {
        id: app::approvals::types::ApprovalId(uuid::Uuid::now_v7()),
        subject_id: deploy.to_string(),
        action: "deploy".into(),
        payload: serde_json::json!({ "deploy_id": deploy, "service": "bench-service", "environment": "production", "version": "2.0.0",
                                     "previous_version": null, "compare_url": null, "rollback": false }),
    };
    let subject = app::deploys::approval::DeployApproval;
    let mut conn = pool.acquire().await.expect("conn");
    let warm = subject.preflight(&mut conn, &request).await.expect("the card");
    let (groups, facts) = (warm.len(), warm.iter().map(|g| g.facts.len()).sum());
    let (mut statements, mut times) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        let counter = Statements::default();
        let t = Instant::now();
        {
            let _guard = tracing::subscriber::set_default(counter.clone());
            subject.preflight(&mut conn, &request).await.expect("the card");
        }
        times.push(t.elapsed());
        statements.push(counter.count());
    }
    times.sort();
    Card { devices, statements, times, groups, facts }
}

#[tokio::main]
async fn main() {
    let admin_url = database_url();
    let mut admin_conn = PgConnection::connect(&admin_url).await.expect("connect");
    println!(
        "Blast-radius benchmark — {} CPUs; a generated mesh in two data centers, {PARTNERS} partners, {INTEGRATIONS} integrations; every device asked once",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    let (mut results, mut cards) = (Vec::new(), Vec::new());
    for (rows, columns) in SIZES {
        let name = format!("switchyard_bench_blast_{}", rows * columns);
        admin_conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.expect("drop");
        admin_conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create");
        let (pool, _) = server_on(&with_database(&admin_url, &name)).await;
        sqlx::raw_sql(&estate(rows, columns)).execute(&pool).await.expect("the estate");
        results.push(measure(&pool, rows * columns).await);
        cards.push(preflight_card(&pool, rows * columns).await);
        pool.close().await;
        if std::env::var_os("BENCH_KEEP").is_none() {
            admin_conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.expect("drop");
        }
    }
    println!("{:>8} | {:>14} | {:>10} | {:>10} | {:>10} | {:>20} | {:>22}", "devices", "first ms", "p50 ms", "p99 ms", "total s", "partners cut off", "integrations reached");
    println!("{}", "-".repeat(112));
    for m in &results {
        println!(
            "{:>8} | {:>14.1} | {:>10.2} | {:>10.2} | {:>10.1} | {:>20} | {:>22}",
            m.devices,
            m.first_ms,
            pct(&m.times, 0.5),
            pct(&m.times, 0.99),
            m.total.as_secs_f64(),
            m.cut_off,
            m.integrations
        );
    }
    let (small, large) = (&results[0], &results[1]);
    println!();
    println!(
        "p99 at {} ÷ p99 at {}: {:.2} for {}× the devices (an answer reads the kept tree, not the network)",
        large.devices,
        small.devices,
        pct(&large.times, 0.99) / pct(&small.times, 0.99),
        large.devices / small.devices
    );
    println!();
    println!("As of a past moment ({AS_OF_ANSWERS} devices): the version then read and analysed for each answer");
    println!("{:>8} | {:>10} | {:>10} | {:>18}", "devices", "p50 ms", "p99 ms", "p50 ÷ p50 of now");
    println!("{}", "-".repeat(56));
    for m in &results {
        println!("{:>8} | {:>10.2} | {:>10.2} | {:>18.1}", m.devices, pct(&m.then, 0.5), pct(&m.then, 0.99), pct(&m.then, 0.5) / pct(&m.times, 0.5));
    }
    println!();
    println!("The pre-flight card of a production deploy of a tier 0 service at the end of 50 integrations (50 partners on its path), 50 reads once warm");
    println!("{:>8} | {:>18} | {:>8} | {:>7} | {:>10} | {:>10}", "devices", "statements a read", "groups", "facts", "p50 ms", "p99 ms");
    println!("{}", "-".repeat(76));
    for c in &cards {
        let (least, most) = (c.statements.iter().min().copied().unwrap_or_default(), c.statements.iter().max().copied().unwrap_or_default());
        let said = if least == most { format!("{least}") } else { format!("{least} to {most}") };
        println!("{:>8} | {:>18} | {:>8} | {:>7} | {:>10.2} | {:>10.2}", c.devices, said, c.groups, c.facts, pct(&c.times, 0.5), pct(&c.times, 0.99));
    }
}
