//! What the benchmarks share: where the database server is, and percentiles.
use std::time::Duration;

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
