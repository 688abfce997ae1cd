//! `/metrics`: every family after real work, counted exactly; promtool's lint on a real scrape;
//! the shipped alert rules through `promtool check rules`; and every metric the shipped dashboard
//! and rules name, found in a real scrape.
use crate::helpers::{eventually, Persona, TestApp};
use crate::{spawn, turn};
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use promql_parser::parser::{self, Expr};
use promql_parser::util::{walk_expr, ExprVisitor};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// One scrape, parsed by openmetrics-parser (its Prometheus text grammar).
struct Scrape {
    text: String,
    parsed: MetricsExposition<PrometheusType, PrometheusValue>,
}

async fn scrape(app: &TestApp) -> Scrape {
    assert!(!app.metrics.is_empty(), "the test server has a metrics listener");
    let r = reqwest::get(format!("{}/metrics", app.metrics)).await.expect("scrape");
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().expect("content type").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = r.text().await.expect("body");
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("the scrape does not parse: {e:?}\n{text}"));
    Scrape { text, parsed }
}

impl Scrape {
    /// The value of the series `name` whose labels include `labels` (summed over the rest); a
    /// histogram's count; 0 when there is none.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let Some(family) = self.parsed.families.get(name) else { return 0.0 };
        family
            .iter_samples()
            .filter(|s| {
                let set = s.get_labelset().expect("labels");
                labels.iter().all(|(k, v)| set.get_label_value(k) == Some(*v))
            })
            .map(|s| match &s.value {
                PrometheusValue::Unknown(n) | PrometheusValue::Gauge(n) => n.as_f64(),
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                PrometheusValue::Summary(_) => f64::NAN,
            })
            .sum()
    }

    /// Every family the scrape holds.
    fn families(&self) -> BTreeSet<String> {
        self.parsed.families.keys().cloned().collect()
    }

    /// Every sample name as the text has it (`x_bucket`, `x_sum`, `x_count` for a histogram).
    fn sample_names(&self) -> BTreeSet<String> {
        self.text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| l.split(['{', ' ']).next().map(str::to_owned))
            .collect()
    }

    fn labels_of(&self, name: &str, label: &str) -> BTreeSet<String> {
        let Some(family) = self.parsed.families.get(name) else { return BTreeSet::new() };
        family.iter_samples().filter_map(|s| s.get_labelset().ok()?.get_label_value(label).map(str::to_owned)).collect()
    }
}

/// promtool from the Makefile (`target/tools/bin/promtool`, Debian's prometheus package unpacked).
fn promtool() -> PathBuf {
    let path = std::env::var_os("PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/bin/promtool"));
    assert!(path.exists(), "promtool is not at {} (make tools installs it)", path.display());
    path
}

fn monitoring(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("monitoring").join(file)
}

#[tokio::test]
async fn a_scrape_after_a_sign_in_a_catalog_list_and_a_kick_off_counts_each_in_its_family() {
    let _turn = turn().await;
    let app = spawn(vec![]).await;
    // a production deploy waits for approval, so its live view stays open while the figures are
    // read (a finished deploy's stream ends once it has said so, racing the scrape)
    let bob = app.login_as(Persona::PaymentsLead).await;
    let waiting = bob
        .kick_off(&Uuid::new_v4().to_string(), &json!({ "service": "refunds", "environment": "production", "version": "v9.9.8", "reason": "metrics test, live view" }))
        .await;
    assert_eq!(waiting.status(), 201);
    let waiting: Value = waiting.json().await.expect("json");
    let live = waiting["id"].as_str().expect("id").to_owned();
    let before = scrape(&app).await;

    let listed = bob.get("/api/v1/catalog/entities?kind=component&limit=5").await;
    assert_eq!(listed.status(), 200);
    let token = bob.token("metrics-probe", &["read"], None).await;
    let by_token = app.client.get(app.url("/api/v1/catalog/entities?kind=component&limit=1")).bearer_auth(&token).send().await.expect("token request");
    assert_eq!(by_token.status(), 200);
    let refused = app.client.get(app.url("/api/v1/catalog/entities")).bearer_auth("not-a-token").send().await.expect("bad token");
    assert_eq!(refused.status(), 401);
    let kicked = bob
        .kick_off(&Uuid::new_v4().to_string(), &json!({ "service": "refunds", "environment": "dev", "version": "v9.9.9", "reason": "metrics test" }))
        .await;
    let status = kicked.status();
    let body: Value = kicked.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    eventually("the deploy to succeed", || async {
        let state = app.count("SELECT count(*) FROM deploys WHERE id = $1::uuid AND state = 'succeeded'", &[&id]).await;
        (state == 1).then_some(())
    })
    .await;
    // a run event, written through the group-commit writer
    let ingest = app.login_as(Persona::Admin).await.token("metrics-ingest", &["ingest"], Some("payments")).await;
    let event = json!({
        "eventType": "START", "eventTime": "2026-12-06T01:00:00Z", "run": { "runId": Uuid::now_v7() },
        "job": { "namespace": "metrics", "name": "probe" }, "producer": "https://example.com/metrics-test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    });
    let pushed = app.client.post(app.url("/api/v1/lineage")).bearer_auth(&ingest).json(&event).send().await.expect("event");
    assert_eq!(pushed.status(), 201);
    // a live view open while the figures are read
    let stream = bob.get(&format!("/deploys/{live}/stream")).await;
    assert_eq!(stream.status(), 200);

    let after = scrape(&app).await;
    let delta = |name: &str, labels: &[(&str, &str)]| after.value(name, labels) - before.value(name, labels);

    // every family, with its labels
    let families = after.families();
    for (name, ..) in server::metrics::FAMILIES {
        assert!(families.contains(*name), "{name} is not in the scrape");
    }
    for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"] {
        assert!(families.contains(name), "{name} is not in the scrape");
    }
    assert_eq!(after.value("switchyard_build_info", &[("version", env!("CARGO_PKG_VERSION"))]), 1.0);
    assert!(after.value("process_resident_memory_bytes", &[]) > 1e6);
    assert!(after.value("process_start_time_seconds", &[]) > 1.7e9);

    // requests: by method, route template (never the raw path) and status class
    assert_eq!(delta("switchyard_http_requests_total", &[("method", "GET"), ("route", "/api/v1/catalog/entities"), ("status", "2xx")]), 2.0);
    assert_eq!(delta("switchyard_http_requests_total", &[("method", "GET"), ("route", "/api/v1/catalog/entities"), ("status", "4xx")]), 1.0);
    assert_eq!(delta("switchyard_http_request_duration_seconds", &[("method", "GET"), ("route", "/api/v1/catalog/entities"), ("status", "2xx")]), 2.0);
    assert_eq!(delta("switchyard_http_requests_total", &[("method", "POST"), ("route", "/api/v1/deploys"), ("status", "2xx")]), 1.0);
    let routes = after.labels_of("switchyard_http_requests_total", "route");
    assert!(routes.contains("/deploys/{id}/stream") && routes.contains("/auth/callback"), "{routes:?}");
    assert!(routes.iter().all(|r| !r.contains(&id) && !r.contains(&live)), "a raw path became a label: {routes:?}");
    assert_eq!(after.value("switchyard_http_requests_in_flight", &[]), 0.0, "the scrape is not the app's request");
    assert_eq!(after.value("switchyard_sse_streams_open", &[]), 1.0);

    // sign-in, tokens, the deploy's path through the queue and the worker, the audit log
    assert_eq!(delta("switchyard_signins_total", &[("outcome", "succeeded"), ("reason", "signed_in")]), 1.0, "the admin's (bob's came before)");
    assert_eq!(delta("switchyard_api_token_requests_total", &[("result", "accepted")]), 2.0);
    assert_eq!(delta("switchyard_api_token_requests_total", &[("result", "refused")]), 1.0);
    assert_eq!(delta("switchyard_deploy_kickoff_group_size", &[]), 1.0, "one group commit");
    assert_eq!(delta("switchyard_integration_event_group_size", &[]), 1.0, "one run event's group");
    assert_eq!(delta("switchyard_integration_events_total", &[("result", "stored")]), 1.0);
    assert_eq!(delta("switchyard_deploy_jobs_started_total", &[("executor", "command")]), 1.0);
    assert_eq!(delta("switchyard_deploy_jobs_finished_total", &[("executor", "command"), ("outcome", "succeeded")]), 1.0);
    assert_eq!(delta("switchyard_deploy_executor_duration_seconds", &[("executor", "command"), ("outcome", "succeeded")]), 1.0);
    // sign-in (1), tokens (2), kick-off (1), started (1), succeeded (1)
    assert!(delta("switchyard_audit_rows_written_total", &[]) >= 5.0, "audit rows: {}", delta("switchyard_audit_rows_written_total", &[]));

    assert_eq!(after.value("switchyard_db_pool_max_connections", &[]), 10.0);
    assert!(after.value("switchyard_db_pool_connections", &[("state", "idle")]) >= 1.0);
    assert!(delta("switchyard_db_pool_acquire_seconds", &[]) >= 5.0, "sqlx's acquire times are recorded");

    // the live view closed: its gauge goes back
    drop(stream);
    eventually("the closed stream to be counted out", || async { (scrape(&app).await.value("switchyard_sse_streams_open", &[]) == 0.0).then_some(()) }).await;

    // what Postgres holds, read at scrape time (and reused for a few seconds): a production
    // kick-off waits for approval, and the figures come to say what the database says
    let prod = bob
        .kick_off(&Uuid::new_v4().to_string(), &json!({ "service": "refunds", "environment": "production", "version": "v9.9.9", "reason": "metrics test" }))
        .await;
    assert_eq!(prod.status(), 201);
    let waiting = app.count("SELECT count(*) FROM approval_requests WHERE state = 'pending'", &[]).await;
    let awaiting = app.count("SELECT count(*) FROM deploys WHERE state = 'awaiting_approval'", &[]).await;
    let queued = app.count("SELECT count(*) FROM deploys WHERE state = 'queued'", &[]).await;
    assert!(waiting >= 1 && awaiting >= 1);
    eventually("the scrape to show the approval waiting", || async {
        let s = scrape(&app).await;
        (s.value("switchyard_approvals_waiting", &[]) == waiting as f64
            && s.value("switchyard_deploys", &[("state", "awaiting_approval")]) == awaiting as f64
            && s.value("switchyard_deploy_queue_depth", &[]) == queued as f64
            && s.value("switchyard_approvals_oldest_waiting_age_seconds", &[]) >= 0.0)
            .then_some(())
    })
    .await;

    // promtool's own lint of the exposition
    let mut check = std::process::Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    std::io::Write::write_all(&mut check.stdin.take().expect("stdin"), after.text.as_bytes()).expect("write scrape");
    let out = check.wait_with_output().expect("promtool ran");
    assert!(out.status.success(), "promtool check metrics:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_shipped_alert_rules_pass_promtool() {
    let out = std::process::Command::new(promtool()).args(["check", "rules"]).arg(monitoring("alerts.yml")).output().expect("promtool ran");
    assert!(out.status.success(), "promtool check rules:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SUCCESS: 7 rules found"));
}

/// The metric names a PromQL expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    struct Names(BTreeSet<String>);
    impl ExprVisitor for Names {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
            let selector = match e {
                Expr::VectorSelector(vs) => Some(vs),
                Expr::MatrixSelector(ms) => Some(&ms.vs),
                _ => None,
            };
            if let Some(name) = selector.and_then(|vs| vs.name.clone()) {
                self.0.insert(name);
            }
            Ok(true)
        }
    }
    // Grafana's variables are not PromQL: the values they take
    let promql = expr.replace("$__rate_interval", "5m").replace("$instance", ".*");
    let ast = parser::parse(&promql).unwrap_or_else(|e| panic!("{expr:?} does not parse: {e}"));
    let mut names = Names(BTreeSet::new());
    let _ = walk_expr(&mut names, &ast);
    names.0
}

/// Every query in the shipped dashboard and alert rules.
fn shipped_queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(monitoring("dashboard.json")).expect("dashboard")).expect("dashboard JSON");
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push((format!("dashboard panel {:?}", panel["title"]), target["expr"].as_str().expect("expr").to_owned()));
        }
    }
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(&std::fs::read_to_string(monitoring("alerts.yml")).expect("rules")).expect("rules YAML");
    for group in rules["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            queries.push((format!("alert {:?}", rule["alert"].as_str()), rule["expr"].as_str().expect("expr").to_owned()));
        }
    }
    queries
}

#[tokio::test]
async fn every_metric_the_dashboard_and_the_alert_rules_name_is_in_a_scrape() {
    let _turn = turn().await;
    let app = spawn(vec![]).await;
    // one request and a deploy's worth of work, so the families with labels have series
    let bob = app.login_as(Persona::PaymentsLead).await;
    assert_eq!(bob.get("/api/v1/catalog/entities?limit=1").await.status(), 200);
    let kicked = bob.kick_off(&Uuid::new_v4().to_string(), &json!({ "service": "refunds", "environment": "dev", "version": "v1.0.1", "reason": "names" })).await;
    assert_eq!(kicked.status(), 201);
    let id = kicked.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    eventually("the deploy to end", || async {
        (app.count("SELECT count(*) FROM deploys WHERE id = $1::uuid AND state = 'succeeded'", &[&id]).await == 1).then_some(())
    })
    .await;
    let exported = scrape(&app).await.sample_names();

    let queries = shipped_queries();
    assert!(queries.len() > 30, "{} queries", queries.len());
    let mut missing = Vec::new();
    for (where_, expr) in &queries {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{where_}: {expr} reads no metric");
        missing.extend(names.into_iter().filter(|n| !exported.contains(n)).map(|n| format!("{where_}: {n}")));
    }
    assert!(missing.is_empty(), "named but not exported:\n{}", missing.join("\n"));
    // the check can fail
    assert!(!exported.contains("switchyard_http_requests"), "a misspelt name is not exported");
}
