//! What the benchmarks share: where the database server is, and percentiles.
use std::time::Duration;

#[allow(dead_code)] // the blast bench's
pub mod statements;

/// `DATABASE_URL`, or the local server; each bench makes a database of its own there.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/switchyard".into())
}

/// The same server, another database.
pub fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("DATABASE_URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// The `p` quantile of sorted durations, in milliseconds.
pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Every client's request times, once all are done, sorted; and the seconds since `started`.
#[allow(dead_code)] // the HTTP benches' (each bench compiles this module on its own)
pub async fn gather(started: std::time::Instant, clients: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> (Vec<Duration>, f64) {
    let mut times = Vec::new();
    for c in clients {
        times.extend(c.await.expect("client"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    (times, elapsed)
}

/// Deploy bots, one per client: each a member of every team, with a personal token (read +
/// deploy). One bot per client, because one person may have at most
/// `MAX_OPEN_PER_REQUESTER` requests waiting for approval.
#[allow(dead_code)] // the HTTP benches'
pub async fn deploy_bots(pool: &sqlx::PgPool, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let username = format!("deploy-bot-{i}");
        let user: uuid::Uuid = sqlx::query_scalar("INSERT INTO users (issuer, subject, username, name) VALUES ('bench', $1, $1, 'Deploy bot') RETURNING id")
            .bind(&username)
            .fetch_one(pool)
            .await
            .expect("user");
        sqlx::query("INSERT INTO team_members (team_id, user_id, role, source) SELECT id, $1, 'member', 'manual' FROM teams")
            .bind(user)
            .execute(pool)
            .await
            .expect("memberships");
        let me = app::iam::principal::Principal {
            user_id: app::iam::types::UserId(user),
            username,
            name: "Deploy bot".into(),
            email: String::new(),
            roles: vec![app::iam::types::Role::Viewer],
            teams: vec![],
            via: app::iam::principal::Via::Session { session_id: uuid::Uuid::nil() },
        };
        let scopes = vec!["read".to_owned(), "deploy".to_owned()];
        let req = app::iam::tokens::Request { name: "ci", team: None, scopes: &scopes, days: 30 };
        out.push(app::iam::tokens::create(pool, &me, req, &app::context::RequestMeta::default()).await.expect("token").secret);
    }
    out
}

/// The bench's admin (`bench-admin`), as a browser session would carry them.
#[allow(dead_code)] // not every bench's
pub fn admin_principal(user: uuid::Uuid) -> app::iam::principal::Principal {
    app::iam::principal::Principal {
        user_id: app::iam::types::UserId(user),
        username: "bench-admin".into(),
        name: "Bench admin".into(),
        email: String::new(),
        roles: vec![app::iam::types::Role::Admin],
        teams: vec![],
        via: app::iam::principal::Via::Session { session_id: uuid::Uuid::nil() },
    }
}

/// Makes the bench's admin user in a bench's database: as a principal.
#[allow(dead_code)] // not every bench's
pub async fn bench_admin(pool: &sqlx::PgPool) -> app::iam::principal::Principal {
    let user: uuid::Uuid = sqlx::query_scalar("INSERT INTO users (issuer, subject, username, name) VALUES ('bench', 'bench-admin', 'bench-admin', 'Bench admin') RETURNING id")
        .fetch_one(pool)
        .await
        .expect("user");
    admin_principal(user)
}

/// The connections of a bench server's pool.
#[allow(dead_code)] // the integrations bench's
pub const POOL_CONNECTIONS: u32 = 40;

/// The real server on `url` (its own database), holding the demo company with a day of
/// history, its deploy workers and periodic integration checks off: its pool and base URL.
#[allow(dead_code)] // the HTTP benches'
pub async fn demo_server(url: &str) -> (sqlx::PgPool, String) {
    let (pool, base) = server_on(url).await;
    server::db::load_demo_data(&pool, 1).await.expect("demo data");
    (pool, base)
}

/// [`demo_server`] on a database that holds its data already.
#[allow(dead_code)] // the HTTP benches'
pub async fn server_on(url: &str) -> (sqlx::PgPool, String) {
    let settings = server::config::Settings::from_figment(
        server::config::Settings::figment(None)
            .merge(("server.addr", "127.0.0.1:0"))
            .merge(("server.public_url", ""))
            .merge(("database.url", url))
            .merge(("database.max_connections", POOL_CONNECTIONS))
            .merge(("deploys.worker", false))
            .merge(("integrations.check_secs", 3600))
            .merge(("log.filter", "off"))
            // metrics on, as by default, on a port of its own: a bench may run two servers
            .merge(("telemetry.metrics_addr", "127.0.0.1:0")),
    )
    .expect("settings");
    let app = server::startup::Application::build(settings).await.expect("app");
    let pool = app.pool().clone();
    let base = format!("http://{}", app.local_addr().expect("addr"));
    tokio::spawn(app.run_until(std::future::pending()));
    (pool, base)
}
