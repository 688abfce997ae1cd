//! Integrations over real HTTP: run events in as OpenLineage (stored once, out of order, in
//! batches with bad events, gzip), the ingest scope, registration with approval, health from
//! runs and from the schedule, and retention by whole months.
use crate::helpers::{spawn_app, Persona, TestApp};
use chrono::{Datelike, Duration, Timelike, Utc};
use serde_json::{json, Value};
use std::io::Write;
use uuid::Uuid;

const SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

fn event(kind: &str, run: Uuid, job: &str, at: chrono::DateTime<Utc>) -> Value {
    json!({
        "eventType": kind,
        "eventTime": at.to_rfc3339(),
        "run": { "runId": run, "facets": {} },
        "job": { "namespace": "switchyard", "name": job },
        "producer": "https://github.com/switchyard/tests",
        "schemaURL": SCHEMA,
    })
}

async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).json(body).send().await.expect("post")
}

/// A ledger service token that may push run events (carol signs in first: her sign-in makes
/// the team).
async fn ingest_token(app: &TestApp) -> String {
    app.login_as(Persona::LedgerMember).await;
    app.login_as(Persona::Admin).await.token("ledger-poller", &["ingest"], Some("ledger")).await
}

/// Two systems and, with `classification`, an integration between them owned by ledger, as carol.
async fn register(app: &TestApp, name: &str, classification: &str, extra: Value) -> reqwest::Response {
    let carol = app.login_as(Persona::LedgerMember).await;
    for (system, kind) in [("salesforce", "crm"), ("netsuite", "erp")] {
        let r = carol
            .client
            .post(carol.url("/api/v1/integration-systems"))
            .header("origin", carol.url(""))
            .json(&json!({ "name": system, "title": system, "kind": kind, "owner": "ledger", "external": "no" }))
            .send()
            .await
            .expect("system");
        assert!(r.status() == 201 || r.status() == 422, "system {system}: {}", r.status());
    }
    let mut body = json!({
        "name": name, "title": "Opportunities to sales orders", "sources": "salesforce", "targets": "netsuite",
        "platform": "mulesoft", "trigger": "schedule", "schedule": "0 6 * * *", "data_format": "json",
        "transport": "https", "auth": "oauth2-client-credentials", "owner": "ledger", "classification": classification,
        "grace_mins": "10", "max_duration_mins": "60", "reason": "Closed-won deals must become sales orders",
    });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    carol.client.post(carol.url("/api/v1/integrations")).header("origin", carol.url("")).json(&body).send().await.expect("register")
}

#[tokio::test]
async fn only_a_team_token_with_the_ingest_scope_pushes_events() {
    let app = spawn_app().await;
    let e = event("START", Uuid::now_v7(), "opportunities", Utc::now());
    let carol = app.login_as(Persona::LedgerMember).await;
    let from_session = carol.client.post(carol.url("/api/v1/lineage")).header("origin", carol.url("")).json(&e).send().await.expect("post");
    assert_eq!(from_session.status(), 403, "a browser session may not push events");
    let read_only = carol.token("reader", &["read"], None).await;
    assert_eq!(post(&app, &read_only, "/api/v1/lineage", &e).await.status(), 403);
    let personal = carol.server_fn("iam/create-token", &[("name", "mine"), ("days", "30"), ("ingest", "on")]).await;
    assert_eq!(personal.status(), 422, "the ingest scope is for a team's service token");
    let token = ingest_token(&app).await;
    assert_eq!(post(&app, &token, "/api/v1/lineage", &e).await.status(), 201);
    assert_eq!(app.count("SELECT count(*) FROM integration_events", &[]).await, 1);
}

#[tokio::test]
async fn a_retried_event_is_stored_once_and_a_late_start_does_not_reopen_its_run() {
    let app = spawn_app().await;
    let token = ingest_token(&app).await;
    let run = Uuid::now_v7();
    let t0 = Utc::now() - Duration::minutes(5);
    let mut fail = event("FAIL", run, "statements", t0 + Duration::minutes(2));
    fail["run"]["facets"]["errorMessage"] = json!({ "message": "SFTP: permission denied", "programmingLanguage": "java" });
    let first = post(&app, &token, "/api/v1/lineage", &fail).await;
    assert_eq!(first.status(), 201);
    assert_eq!(first.json::<Value>().await.expect("json")["stored"], true);
    let again = post(&app, &token, "/api/v1/lineage", &fail).await;
    assert_eq!(again.status(), 200, "a retry is answered 2xx");
    assert_eq!(again.json::<Value>().await.expect("json")["stored"], false);
    let late_start = post(&app, &token, "/api/v1/lineage", &event("START", run, "statements", t0)).await;
    assert_eq!(late_start.status(), 201);
    let late_complete = post(&app, &token, "/api/v1/lineage", &event("COMPLETE", run, "statements", t0 + Duration::minutes(3))).await;
    assert_eq!(late_complete.status(), 201);
    assert_eq!(app.count("SELECT count(*) FROM integration_events WHERE run_id = $1::uuid", &[&run.to_string()]).await, 3);

    let reader = app.login_as(Persona::Viewer).await;
    let r: Value = reader.get(&format!("/api/v1/integration-runs/{run}")).await.json().await.expect("json");
    assert_eq!(r["run"]["state"], "failed", "the first terminal event decides");
    assert_eq!(r["run"]["error_message"], "SFTP: permission denied");
    assert_eq!(r["run"]["duration_secs"], 120.0, "the late START gives the run its start");
    assert_eq!(r["events"].as_array().map(Vec::len), Some(3));
    assert_eq!(r["events"][0]["event_type"], "START", "events read in time order");
    let jobs: Value = reader.get("/api/v1/integrations/unregistered-jobs").await.json().await.expect("json");
    assert_eq!(jobs[0]["name"], "statements", "an unregistered job is listed, not refused");
}

#[tokio::test]
async fn a_bad_event_names_its_field_and_writes_nothing() {
    let app = spawn_app().await;
    let token = ingest_token(&app).await;
    let mut no_run_id = event("START", Uuid::now_v7(), "x", Utc::now());
    no_run_id["run"].as_object_mut().expect("run").remove("runId");
    let mut bad_time = event("START", Uuid::now_v7(), "x", Utc::now());
    bad_time["eventTime"] = json!("last tuesday");
    for (body, field) in [(no_run_id, "/run/runId"), (bad_time, "/eventTime")] {
        let r = post(&app, &token, "/api/v1/lineage", &body).await;
        assert_eq!(r.status(), 400);
        let error = &r.json::<Value>().await.expect("json")["error"];
        assert_eq!(error["field"], field, "{error}");
    }
    let not_json = app.client.post(app.url("/api/v1/lineage")).bearer_auth(&token).header("content-type", "application/json").body("{").send().await.expect("post");
    assert_eq!(not_json.status(), 400);
    assert_eq!(app.count("SELECT count(*) FROM integration_events", &[]).await, 0);
    assert_eq!(app.count("SELECT count(*) FROM integration_runs", &[]).await, 0);
}

#[tokio::test]
async fn a_batch_stores_its_good_events_and_lists_the_bad_ones() {
    let app = spawn_app().await;
    let token = ingest_token(&app).await;
    let run = Uuid::now_v7();
    let mut bad = event("COMPLETE", Uuid::now_v7(), "x", Utc::now());
    bad["eventType"] = json!("FINISHED");
    let batch = json!([
        event("START", run, "payroll-export", Utc::now() - Duration::minutes(1)),
        bad,
        event("COMPLETE", run, "payroll-export", Utc::now()),
        json!("not an event"),
    ]);
    let r = post(&app, &token, "/api/v1/lineage/batch", &batch).await;
    assert_eq!(r.status(), 207);
    let answer: Value = r.json().await.expect("json");
    assert_eq!(answer["status"], "partial_success");
    assert_eq!(answer["stored"], 2);
    let failed: Vec<(u64, String)> = answer["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|f| (f["index"].as_u64().unwrap_or(99), f["field"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(failed, [(1, "/eventType".to_owned()), (3, String::new())]);
    assert_eq!(app.count("SELECT count(*) FROM integration_events", &[]).await, 2);
    let again = post(&app, &token, "/api/v1/lineage/batch", &json!([batch[0].clone()])).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.expect("json")["duplicates"], 1);
}

#[tokio::test]
async fn a_gzipped_event_is_taken_as_the_http_transport_sends_it() {
    let app = spawn_app().await;
    let token = ingest_token(&app).await;
    let body = serde_json::to_vec(&event("START", Uuid::now_v7(), "zipped", Utc::now())).expect("json");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&body).expect("gzip");
    let r = app
        .client
        .post(app.url("/api/v1/lineage"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gz.finish().expect("gzip"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn a_confidential_integration_waits_for_a_lead_and_runs_then_show_its_health() {
    let app = spawn_app().await;
    let r = register(&app, "sfdc-opportunities-to-netsuite", "confidential", json!({})).await;
    assert_eq!(r.status(), 201);
    let detail: Value = r.json().await.expect("json");
    assert_eq!(detail["summary"]["status"], "pending");
    let approval = detail["pending_approval"].as_str().expect("an approval is named").to_owned();
    let carol = app.login_as(Persona::LedgerMember).await;
    assert_eq!(carol.decide(&approval, "approve", "mine").await.status(), 422, "the requester never approves");
    let alice = app.login_as(Persona::Admin).await;
    assert_eq!(alice.decide(&approval, "approve", "Checked the data map").await.status(), 200);
    let active: Value = alice.get("/api/v1/integrations/sfdc-opportunities-to-netsuite").await.json().await.expect("json");
    assert_eq!(active["summary"]["status"], "active");
    assert_eq!(active["summary"]["health"], "unknown");

    let token = ingest_token(&app).await;
    let run = Uuid::now_v7();
    let t0 = Utc::now() - Duration::minutes(3);
    let mut start = event("START", run, "sfdc-opportunities-to-netsuite", t0);
    start["run"]["facets"]["switchyard_run"] = json!({ "trigger": "scheduled" });
    assert_eq!(post(&app, &token, "/api/v1/lineage", &start).await.status(), 201);
    let mut fail = event("FAIL", run, "sfdc-opportunities-to-netsuite", t0 + Duration::minutes(1));
    fail["run"]["facets"]["errorMessage"] = json!({ "message": "NetSuite answered 401: token expired", "programmingLanguage": "java" });
    fail["run"]["facets"]["switchyard_run"] = json!({ "errorClass": "auth", "recordsFailed": 12 });
    assert_eq!(post(&app, &token, "/api/v1/lineage", &fail).await.status(), 201);
    let failing: Value = alice.get("/api/v1/integrations/sfdc-opportunities-to-netsuite").await.json().await.expect("json");
    assert_eq!(failing["summary"]["health"], "failing");
    assert!(failing["summary"]["health_reason"].as_str().unwrap_or("").contains("token expired"), "{failing}");
    assert_eq!(failing["top_errors"][0]["error_class"], "auth");
    assert_eq!(failing["records_failed_30d"], 12);
    let runs: Value = alice.get("/api/v1/integrations/sfdc-opportunities-to-netsuite/runs?state=failed").await.json().await.expect("json");
    assert_eq!(runs["items"][0]["run_id"], run.to_string());
    let listed: Value = alice.get("/api/v1/integrations?health=failing").await.json().await.expect("json");
    assert_eq!(listed["items"][0]["name"], "sfdc-opportunities-to-netsuite");
    let failing_count = listed["health_counts"].as_array().and_then(|c| c.iter().find(|c| c["health"] == "failing")).map(|c| c["count"].clone());
    assert_eq!(failing_count, Some(json!(1)));
}

#[tokio::test]
async fn ended_runs_count_on_their_day_in_the_history_the_sparkline_the_rates_and_the_budget() {
    // the days are kept a month a row (integration_rollup_monthly): each run lands on its own day
    let app = spawn_app().await;
    assert_eq!(register(&app, "gl-export", "internal", json!({ "trigger": "event", "schedule": "" })).await.status(), 201);
    let token = ingest_token(&app).await;
    let now = Utc::now();
    // (start, failed): each ends 40 s after it starts; a failure two days ago, three successes now
    let runs = [(now - Duration::days(2), true), (now - Duration::minutes(5), false), (now - Duration::minutes(4), false), (now - Duration::minutes(3), false)];
    let mut expected: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for (start, failed) in runs {
        let run = Uuid::now_v7();
        assert_eq!(post(&app, &token, "/api/v1/lineage", &event("START", run, "gl-export", start)).await.status(), 201);
        let end = start + Duration::seconds(40);
        let kind = if failed { "FAIL" } else { "COMPLETE" };
        assert_eq!(post(&app, &token, "/api/v1/lineage", &event(kind, run, "gl-export", end)).await.status(), 201);
        let day = expected.entry(end.date_naive().to_string()).or_default();
        if failed { day.1 += 1 } else { day.0 += 1 }
    }
    let reader = app.login_as(Persona::Viewer).await;
    let detail: Value = reader.get("/api/v1/integrations/gl-export").await.json().await.expect("json");
    let listed: Value = reader.get("/api/v1/integrations?q=gl-export").await.json().await.expect("json");
    let history = detail["history"].as_array().expect("13 months of days");
    let sparkline = listed["items"][0]["days"].as_array().expect("30 days");
    assert_eq!(sparkline.len(), 30);
    assert_eq!(history.last().map(|d| d["day"].clone()), Some(json!(now.date_naive().to_string())));
    for days in [history, sparkline] {
        let counted: std::collections::BTreeMap<String, (i64, i64)> = days
            .iter()
            .filter(|d| d["counts"]["succeeded"] != 0 || d["counts"]["failed"] != 0)
            .map(|d| (d["day"].as_str().unwrap_or("").to_owned(), (d["counts"]["succeeded"].as_i64().unwrap_or(0), d["counts"]["failed"].as_i64().unwrap_or(0))))
            .collect();
        assert_eq!(counted, expected, "the days with runs, and nothing else");
    }
    let today = |days: &[Value]| days.iter().find(|d| d["day"] == now.date_naive().to_string()).cloned().expect("today");
    assert_eq!(today(history)["p95_secs"], 60.0, "40 s runs fall in the bucket up to a minute");
    assert_eq!(today(sparkline)["p95_secs"], Value::Null, "a list's days carry their counts only");
    assert_eq!(detail["success_30d"], 0.75);
    assert_eq!(detail["p95_30d_secs"], 60.0);
    // the last day's runs all succeeded; one failure in four over 30 days spends a 99 % budget
    assert_eq!(detail["summary"]["health"], "degraded", "{}", detail["summary"]);
    assert!(detail["summary"]["health_reason"].as_str().unwrap_or("").contains("error budget"), "{}", detail["summary"]);
}

#[tokio::test]
async fn the_runs_page_is_newest_first_across_months_and_a_clock_ahead_sits_a_day_after_it_arrived() {
    // A run's partition is the month its first event arrived. The page reads this month's and
    // last month's, and older ones only when those do not hold a full page; paging through
    // must give every run once, newest first, whichever partitions each page read.
    let app = spawn_app().await;
    assert_eq!(register(&app, "gl-export", "internal", json!({ "trigger": "event", "schedule": "" })).await.status(), 201);
    let token = ingest_token(&app).await;
    let now = Utc::now();
    // through the API: three runs now, a backfill of a year ago and a clock a month ahead, all received now
    let [a, b, c, backfill, ahead] = [(); 5].map(|_| Uuid::now_v7());
    for (run, start) in [(a, now - Duration::minutes(3)), (b, now - Duration::minutes(2)), (c, now - Duration::minutes(1)),
                         (backfill, now - Duration::days(365)), (ahead, now + Duration::days(30))] {
        assert_eq!(post(&app, &token, "/api/v1/lineage", &event("START", run, "gl-export", start)).await.status(), 201);
    }
    // runs that arrived two and five months ago, stored as a system that has run for months holds them
    let pool = app.pool();
    let mut older = Vec::new();
    for back in [2, 5] {
        let month = now.date_naive().with_day(1).and_then(|d| d.checked_sub_months(chrono::Months::new(back))).expect("month");
        sqlx::query("SELECT integration_partition_create($1)").bind(month).execute(&pool).await.expect("partition");
        let mut ids: Vec<(Uuid, chrono::DateTime<Utc>)> = sqlx::query_as(
            "INSERT INTO integration_runs (month, run_id, job_id, state, trigger, started_at, facets, event_count, first_received, updated_at)
             SELECT $1, gen_random_uuid(), j.id, 'succeeded', 'scheduled', t, '{}', 1, t, t
             FROM integration_jobs j, generate_series(1, 8) g, LATERAL (SELECT ($1 + g)::timestamp AT TIME ZONE 'UTC' AS t) x
             WHERE j.namespace = 'switchyard' AND j.name = 'gl-export'
             RETURNING run_id, started_at",
        )
        .bind(month)
        .fetch_all(&pool)
        .await
        .expect("older runs");
        ids.sort_by(|x, y| y.1.cmp(&x.1));
        older.extend(ids.into_iter().map(|(id, _)| id));
    }
    // the clock ahead sits a day after it arrived, its start kept as sent
    let sits: (bool, chrono::DateTime<Utc>) =
        sqlx::query_as("SELECT at = first_received + interval '24 hours', started_at FROM integration_runs WHERE run_id = $1")
            .bind(ahead)
            .fetch_one(&pool)
            .await
            .expect("ahead");
    assert!(sits.0, "a run's place is at most a day after it arrived");
    assert_eq!(sits.1.timestamp(), (now + Duration::days(30)).timestamp());

    let reader = app.login_as(Persona::Viewer).await;
    let mut seen = Vec::new();
    let mut after = String::new();
    for _ in 0..20 {
        let page: Value = reader.get(&format!("/api/v1/integrations/gl-export/runs?limit=2{after}")).await.json().await.expect("json");
        seen.extend(page["items"].as_array().expect("items").iter().map(|r| r["run_id"].as_str().and_then(|id| Uuid::parse_str(id).ok()).expect("id")));
        match page["next"].as_str() {
            Some(cursor) => after = format!("&after={cursor}"),
            None => break,
        }
    }
    let mut expected = vec![ahead, c, b, a];
    expected.extend(older);
    expected.push(backfill);
    assert_eq!(seen, expected, "every run once, newest first");
}

#[tokio::test]
async fn a_schedule_slot_without_a_run_turns_the_health_late_then_missed() {
    let app = spawn_app().await;
    assert_eq!(register(&app, "payroll-to-gl", "internal", json!({ "schedule": "0 * * * *" })).await.status(), 201);
    let pool = app.pool();
    // as if the check ran at half past the hour two hours after the next: three slots came due,
    // none ran: the first two are past their maximum duration (60 min), the last only its grace
    let now = Utc::now();
    let next_hour = now.with_minute(0).and_then(|t| t.with_second(0)).expect("an hour") + Duration::hours(1);
    let later = next_hour + Duration::minutes(150);
    app::integrations::service::check_due(&pool, later, 100).await.expect("check");
    let reader = app.login_as(Persona::Viewer).await;
    let detail: Value = reader.get("/api/v1/integrations/payroll-to-gl").await.json().await.expect("json");
    assert_eq!(detail["summary"]["health"], "late", "{}", detail["summary"]);
    let states: Vec<&str> = detail["late_slots"].as_array().expect("slots").iter().filter_map(|s| s["state"].as_str()).collect();
    assert!(states.contains(&"missed"), "a slot past its maximum duration is missed: {states:?}");
    assert!(states.contains(&"late"), "a slot past its grace only is late: {states:?}");
}

#[tokio::test]
async fn retention_drops_a_whole_month() {
    let app = spawn_app().await;
    let token = ingest_token(&app).await;
    assert_eq!(post(&app, &token, "/api/v1/lineage", &event("START", Uuid::now_v7(), "old", Utc::now())).await.status(), 201);
    let pool = app.pool();
    let partitions = "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'integration_events'";
    let before = app.count(partitions, &[]).await;
    // fourteen months on, with thirteen kept: this month's partitions go, rows and all
    let dropped = app::integrations::service::retention(&pool, Utc::now() + Duration::days(425), 13).await.expect("retention");
    assert!(dropped.contains(&Utc::now().date_naive().with_day(1).expect("first")), "{dropped:?}");
    assert!(app.count(partitions, &[]).await < before);
    assert_eq!(app.count("SELECT count(*) FROM integration_events", &[]).await, 0);
}


/// The stock OpenLineage Python client (`make test-rust` installs it and says where).
fn openlineage_python() -> String {
    std::env::var("OPENLINEAGE_PYTHON").expect("OPENLINEAGE_PYTHON names the Python with openlineage-python installed (make test-rust sets it)")
}

/// Runs the stock client: the events of `kinds` for one run of `namespace/name`.
/// The first event is sent for the minute the run's id was made (so the same call again is a
/// retry of the same events).
async fn emit(app: &TestApp, token: &str, namespace: &str, name: &str, run: Uuid, kinds: &[&str]) -> std::process::Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/lineage/emit.py");
    let (secs, _) = run.get_timestamp().expect("a v7 id").to_unix();
    let first = chrono::DateTime::from_timestamp((secs as i64 / 60 - 5) * 60, 0).expect("a time").to_rfc3339();
    let mut args = vec![script.to_owned(), app.address.clone(), token.to_owned(), namespace.to_owned(), name.to_owned(), run.to_string(), first];
    args.extend(kinds.iter().map(|k| (*k).to_owned()));
    tokio::process::Command::new(openlineage_python()).args(&args).output().await.expect("run the OpenLineage client")
}

#[tokio::test]
async fn the_openlineage_python_client_reports_runs_of_registered_and_unregistered_jobs() {
    let app = spawn_app().await;
    assert_eq!(register(&app, "bank-statements", "internal", json!({ "trigger": "file", "schedule": "" })).await.status(), 201);
    let token = ingest_token(&app).await;
    let (registered, unregistered) = (Uuid::now_v7(), Uuid::now_v7());
    let out = emit(&app, &token, "switchyard", "bank-statements", registered, &["START", "COMPLETE"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = emit(&app, &token, "boomi", "camt053-import", unregistered, &["START", "COMPLETE"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let reader = app.login_as(Persona::Viewer).await;
    let detail: Value = reader.get("/api/v1/integrations/bank-statements").await.json().await.expect("json");
    assert_eq!(detail["summary"]["last_run"]["state"], "succeeded", "{}", detail["summary"]);
    assert_eq!(detail["summary"]["health"], "healthy");
    let run: Value = reader.get(&format!("/api/v1/integration-runs/{unregistered}")).await.json().await.expect("json");
    assert_eq!((run["run"]["state"].as_str(), run["run"]["integration"].as_str()), (Some("succeeded"), None));
    let jobs: Value = reader.get("/api/v1/integrations/unregistered-jobs").await.json().await.expect("json");
    let names: Vec<&str> = jobs.as_array().expect("jobs").iter().filter_map(|j| j["name"].as_str()).collect();
    assert_eq!(names, ["camt053-import"]);
    // the client sends again what it sent (a retry): stored once
    let out = emit(&app, &token, "boomi", "camt053-import", unregistered, &["START", "COMPLETE"]).await;
    assert!(out.status.success());
    assert_eq!(app.count("SELECT count(*) FROM integration_events WHERE run_id = $1::uuid", &[&unregistered.to_string()]).await, 2);
}

#[tokio::test]
async fn a_components_integrations_are_those_of_the_systems_it_is() {
    let app = crate::helpers::spawn_app_with_demo_data().await;
    let reader = app.login_as(Persona::Viewer).await;
    let page: Value = reader.get("/api/v1/integrations?component=ledger-core&limit=200").await.json().await.expect("json");
    let names: Vec<&str> = page["items"].as_array().expect("items").iter().filter_map(|i| i["name"].as_str()).collect();
    assert!(names.contains(&"barclays-camt053-to-ledger") && names.contains(&"ledger-to-warehouse"), "{names:?}");
    assert!(!names.contains(&"workday-workers-to-okta"), "an integration between other systems is not the ledger's: {names:?}");
    let none: Value = reader.get("/api/v1/integrations?component=refunds").await.json().await.expect("json");
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn an_edit_applies_at_once_a_stale_one_is_refused_and_a_higher_classification_waits() {
    let app = spawn_app().await;
    assert_eq!(register(&app, "payroll-journal", "internal", json!({ "schedule": "0 2 * * *" })).await.status(), 201);
    let carol = app.login_as(Persona::LedgerMember).await;
    let patch = |body: Value| {
        let carol = &carol;
        async move {
            carol.client.patch(carol.url("/api/v1/integrations/payroll-journal")).header("origin", carol.url("")).json(&body).send().await.expect("patch")
        }
    };
    let r = patch(json!({ "version": 1, "title": "Payroll journal to the GL", "lifecycle": "stable" })).await;
    assert_eq!(r.status(), 200);
    let saved: Value = r.json().await.expect("json");
    assert_eq!((saved["summary"]["title"].as_str(), saved["summary"]["lifecycle"].as_str(), saved["version"].as_i64()), (Some("Payroll journal to the GL"), Some("stable"), Some(2)));
    assert_eq!(patch(json!({ "version": 1, "title": "Someone else's" })).await.status(), 409, "a change made meanwhile refuses this one");
    let r = patch(json!({ "version": 2, "classification": "pci", "reason": "it carries card numbers after all" })).await;
    assert_eq!(r.status(), 200);
    let waiting: Value = r.json().await.expect("json");
    assert_eq!(waiting["summary"]["classification"], "internal", "raising the classification waits for approval");
    assert!(waiting["pending_approval"].is_string(), "{waiting}");
    let bob = app.login_as(Persona::PaymentsLead).await;
    let r = bob.client.patch(bob.url("/api/v1/integrations/payroll-journal")).header("origin", bob.url("")).json(&json!({ "version": 2, "title": "Not mine" })).send().await.expect("patch");
    assert_eq!(r.status(), 403, "another team's member may not change it");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'integration.updated'", &[]).await, 1);
}

/// Systems and integrations declared in YAML beside catalog descriptors, as the catalog's
/// importer takes them.
fn declarations(schedule: &str) -> String {
    format!(
        r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{ name: treasury }}
spec: {{ type: team, children: [] }}
---
apiVersion: switchyard.dev/v1alpha1
kind: IntegrationSystem
metadata: {{ name: bank-sftp, title: Bank statements over SFTP }}
spec: {{ kind: bank, vendor: Barclays, owner: treasury, classification: confidential, contacts: [ops@bank.example] }}
---
apiVersion: switchyard.dev/v1alpha1
kind: IntegrationSystem
metadata: {{ name: ledger-db, title: The ledger }}
spec: {{ kind: internal-service, owner: ledger }}
---
apiVersion: switchyard.dev/v1alpha1
kind: Integration
metadata: {{ name: statements-in, title: Bank statements into the ledger, tags: [treasury, camt] }}
spec:
  sources: [bank-sftp]
  targets: [ledger-db]
  platform: in-house
  trigger: schedule
  schedule: "{schedule}"
  timeZone: Europe/London
  dataFormat: iso20022-camt
  transport: sftp
  auth: sftp-key
  owner: ledger
  lifecycle: stable
  serviceLevels: {{ graceMinutes: 10, maxDurationMinutes: 30, successTarget: 99.5 }}
  job: {{ namespace: cron, name: statements-in }}
---
apiVersion: switchyard.dev/v1alpha1
kind: Integration
metadata: {{ name: payments-out, title: Payment files to the bank }}
spec: {{ sources: [ledger-db], targets: [bank-sftp], platform: boomi, trigger: manual, dataFormat: iso20022-pain,
        transport: sftp, auth: sftp-key, owner: ledger, classification: confidential }}
---
apiVersion: switchyard.dev/v1alpha1
kind: Integration
metadata: {{ name: broken-flow, title: Broken }}
spec: {{ sources: [nowhere], targets: [ledger-db], platform: workato, trigger: schedule, schedule: "every day",
        dataFormat: json, transport: https, auth: api-key, owner: ledger, colour: blue }}
"#
    )
}

async fn import_declarations(app: &TestApp, schedule: &str) -> Value {
    let alice = app.login_as(Persona::Admin).await;
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::text(declarations(schedule)).file_name("integrations.yaml"));
    let r = alice.client.post(alice.url("/api/v1/catalog/import")).header("origin", alice.url("")).multipart(form).send().await.expect("import");
    assert_eq!(r.status(), 200);
    r.json().await.expect("report")
}

fn item<'a>(report: &'a Value, entity: &str) -> &'a Value {
    report["items"].as_array().and_then(|items| items.iter().find(|i| i["entity"] == entity)).unwrap_or_else(|| panic!("{entity} not in {report}"))
}

#[tokio::test]
async fn systems_and_integrations_declared_in_yaml_import_once_each_refusal_named() {
    let app = spawn_app().await;
    app.login_as(Persona::LedgerMember).await; // makes the ledger team
    let report = import_declarations(&app, "0 7 * * 1-5").await;
    assert_eq!(report["applied"], true, "{report}");
    for (entity, outcome) in [
        ("group:default/treasury", "created"),
        ("integrationsystem:bank-sftp", "created"),
        ("integrationsystem:ledger-db", "created"),
        ("integration:statements-in", "created"),
        ("integration:payments-out", "created"),
        ("integration:broken-flow", "refused"),
    ] {
        assert_eq!(item(&report, entity)["outcome"], outcome, "{entity}: {report}");
    }
    let broken = item(&report, "integration:broken-flow")["messages"].to_string();
    for place in ["spec.schedule:", "spec.colour is not a field"] {
        assert!(broken.contains(place), "{place} not named in {broken}");
    }
    let waiting = item(&report, "integration:payments-out")["messages"].to_string();
    assert!(waiting.contains("waits for approval"), "a confidential flow to a bank waits: {waiting}");
    assert_eq!(app.count("SELECT count(*) FROM integrations WHERE name = 'statements-in' AND status = 'active' AND schedule = '0 7 * * 1-5'", &[]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM integrations WHERE name = 'payments-out' AND status = 'pending'", &[]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM integration_systems s JOIN teams t ON t.id = s.owner_team_id WHERE s.name = 'bank-sftp' AND t.slug = 'treasury' AND s.external", &[]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM integrations WHERE name = 'broken-flow'", &[]).await, 0, "a refused declaration writes nothing");
    let audited = "SELECT count(*) FROM audit_log WHERE action IN ('integration_system.created', 'integration.registered', 'integration.requested', 'integration_system.updated', 'integration.updated')";
    assert_eq!(app.count(audited, &[]).await, 4);

    // the same files again: nothing changes but the one waiting, which is named
    let again = import_declarations(&app, "0 7 * * 1-5").await;
    for entity in ["integrationsystem:bank-sftp", "integrationsystem:ledger-db", "integration:statements-in"] {
        assert_eq!(item(&again, entity)["outcome"], "unchanged", "{entity}: {again}");
    }
    assert_eq!(item(&again, "integration:payments-out")["outcome"], "refused");
    assert_eq!(app.count(audited, &[]).await, 4, "an unchanged declaration writes no audit row");

    // a changed schedule is an update, with the field named
    let changed = import_declarations(&app, "30 7 * * 1-5").await;
    let statements = item(&changed, "integration:statements-in");
    assert_eq!(statements["outcome"], "updated", "{changed}");
    assert!(statements["messages"].to_string().contains("schedule"), "{statements}");
    assert_eq!(app.count("SELECT count(*) FROM integrations WHERE name = 'statements-in' AND schedule = '30 7 * * 1-5' AND version = 2", &[]).await, 1);
    assert_eq!(app.count(audited, &[]).await, 5);
}

#[tokio::test]
async fn concurrent_retries_of_one_event_are_stored_once_whatever_group_they_are_written_in() {
    let app = spawn_app().await;
    let token = ingest_token(&app).await;
    let run = Uuid::now_v7();
    let start = event("START", run, "concurrent", Utc::now());
    let sends = (0..16).map(|_| post(&app, &token, "/api/v1/lineage", &start));
    let statuses: Vec<u16> = futures::future::join_all(sends).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 15, "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM integration_events WHERE run_id = $1::uuid", &[&run.to_string()]).await, 1);
    assert_eq!(app.count("SELECT event_count::bigint FROM integration_runs WHERE run_id = $1::uuid", &[&run.to_string()]).await, 1);
}
