//! Deploys end to end: kick-off over HTTP (idempotency, permissions, freezes, approvals), the
//! worker on the real queue (one at a time, crash recovery, timeouts), the command and webhook
//! executors, and the signed events a CD system reports with.
use crate::helpers::{Browser, Options, Persona, TestApp, eventually, spawn_app_with};
use app::deploys::service as deploys;
use figment::value::Value as Setting;
use serde_json::{json, Value};
use server::config::{DeploySettings, Settings};
use server::deploys::{signature, Worker};
use sqlx::Row;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const ROLLOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/rollout.sh");
const SECRET: &str = "switchyard-dev-webhook-secret";

/// The demo company, with the worker in the app when `worker`, fast rollouts, and `extra`.
async fn app_with(worker: bool, extra: Vec<(&'static str, Setting)>) -> TestApp {
    let mut settings = vec![
        ("deploys.worker", Setting::from(worker)),
        ("deploys.command.program", ROLLOUT.into()),
        ("deploys.command.args", Setting::from(vec!["0.02"])),
        ("deploys.lease_secs", Setting::from(2.0)),
        ("deploys.sweep_secs", Setting::from(0.2)),
    ];
    settings.extend(extra);
    spawn_app_with(Options { migrate: true, demo_data: true, settings }).await
}

/// Deploy settings as the app would read them, with `overrides`.
fn deploy_settings(overrides: &[(&str, Setting)]) -> DeploySettings {
    let mut f = Settings::figment(None)
        .merge(("deploys.command.program", ROLLOUT))
        .merge(("deploys.command.args", vec!["0.02"]))
        .merge(("deploys.sweep_secs", 0.1));
    for (k, v) in overrides {
        f = f.merge((*k, v.clone()));
    }
    Settings::from_figment(f).expect("settings").deploys
}

/// Starts a worker of the test's own on the app's database; abort the handle to kill it.
fn start_worker(app: &TestApp, settings: DeploySettings) -> tokio::task::JoinHandle<()> {
    let worker = Worker::new(app.pool(), Arc::new(settings), &app.address);
    tokio::spawn(worker.run())
}

async fn kick_off(b: &Browser, key: &str, body: Value) -> reqwest::Response {
    b.kick_off(key, &body).await
}

fn body(service: &str, environment: &str, version: &str) -> Value {
    json!({ "service": service, "environment": environment, "version": version, "reason": "ship the fix for the refunds rounding bug" })
}

/// Kicks off and returns the new deploy's id (asserting it was created).
async fn deploy(b: &Browser, service: &str, environment: &str, version: &str) -> String {
    let r = kick_off(b, &Uuid::new_v4().to_string(), body(service, environment, version)).await;
    let status = r.status();
    let v: Value = r.json().await.expect("json");
    assert_eq!(status, 201, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

async fn state_of(app: &TestApp, id: &str) -> (String, Option<String>) {
    let mut db = app.db().await;
    let row = sqlx::query("SELECT state, outcome FROM deploys WHERE id = $1::uuid").bind(id).fetch_one(&mut db).await.expect("deploy");
    (row.get(0), row.get(1))
}

/// Waits until the deploy reaches `state` (the worker runs on its own timeline); its outcome.
async fn wait_for(app: &TestApp, id: &str, state: &str) -> Option<String> {
    eventually(&format!("deploy {id} to be {state}"), || async {
        let (now, outcome) = state_of(app, id).await;
        (now == state).then_some(outcome)
    })
    .await
}

#[tokio::test]
async fn the_same_key_returns_the_first_deploy_and_refuses_other_parameters() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let first = kick_off(&bob, "key-1", body("refunds", "dev", "v1.0.0")).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    assert_eq!(first["state"], "queued");

    let again = kick_off(&bob, "key-1", body("refunds", "dev", "v1.0.0")).await;
    assert_eq!(again.status(), 200, "a retry answers with the first deploy");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);

    let other = kick_off(&bob, "key-1", body("refunds", "dev", "v2.0.0")).await;
    assert_eq!(other.status(), 409);
    let other: Value = other.json().await.expect("json");
    assert_eq!(other["error"]["code"], "conflict");
    assert!(other["error"]["message"].as_str().unwrap_or("").contains("key-1"), "{other}");

    let id = first["id"].as_str().expect("id");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE requester_id = (SELECT requester_id FROM deploys WHERE id = $1::uuid)", &[&id]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'deploy.requested' AND subject_id = $1", &[&id]).await, 1);
}

#[tokio::test]
async fn bad_input_is_named_and_writes_nothing() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let r = kick_off(&bob, "k", json!({ "service": "refunds", "environment": "moon", "version": "v1", "reason": "x" })).await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["field"], "environment");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("dev, staging, production"), "{v}");
    let r = kick_off(&bob, "k", json!({ "service": "refunds", "environment": "dev", "version": "v 1", "reason": "" })).await;
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["field"], "version", "{v}");
    let no_key = kick_off(&bob, "", body("refunds", "dev", "v1")).await;
    assert_eq!(no_key.status(), 422);
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE $1 = $1", &[""]).await, 0);
}

/// Kick-offs checked at the same moment are read together; each still gets its own answer.
#[tokio::test]
async fn kick_offs_checked_together_each_get_their_own_answer() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let asks = [
        ("refunds", "dev", 201, None),
        ("no-such-service", "dev", 422, Some("service")),
        ("payouts", "moon", 422, Some("environment")),
        ("payouts", "staging", 201, None),
        ("refunds", "dev", 201, None),
    ];
    let kicks = asks.iter().enumerate().map(|(i, (service, environment, _, _))| {
        let bob = &bob;
        async move { kick_off(bob, &format!("mixed-{i}"), body(service, environment, "v9")).await }
    });
    let answers = futures::future::join_all(kicks).await;
    for ((service, environment, status, field), r) in asks.iter().zip(answers) {
        assert_eq!(r.status().as_u16(), *status, "{service} to {environment}");
        let v: Value = r.json().await.expect("json");
        match field {
            Some(field) => assert_eq!(v["error"]["field"], *field, "{v}"),
            None => assert_eq!((v["service"].as_str(), v["environment"].as_str()), (Some(*service), Some(*environment)), "{v}"),
        }
    }
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE version = $1", &["v9"]).await, 3);
}

#[tokio::test]
async fn only_an_owning_team_or_an_admin_deploys() {
    let app = app_with(false, vec![]).await;
    for user in ["dave", "carol"] {
        let b = app.login_as(user).await;
        assert_eq!(kick_off(&b, "k", body("refunds", "dev", "v1")).await.status(), 403, "{user} is not in payments");
    }
    let alice = app.login_as(Persona::Admin).await;
    assert_eq!(kick_off(&alice, "k", body("refunds", "dev", "v1")).await.status(), 201, "admins deploy anything");
}

#[tokio::test]
async fn a_production_deploy_waits_for_someone_else_and_then_runs() {
    let app = app_with(true, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let alice = app.login_as(Persona::Admin).await;
    let id = deploy(&bob, "refunds", "production", "v3.1.0").await;
    let d: Value = bob.get(&format!("/api/v1/deploys/{id}")).await.json().await.expect("json");
    assert_eq!(d["state"], "awaiting_approval");
    let approval = d["approval_id"].as_str().expect("an approval request").to_owned();

    let decide = |b: &Browser, verdict: &str| {
        b.client
            .post(b.url(&format!("/api/v1/approvals/{approval}/{verdict}")))
            .header("origin", b.url(""))
            .json(&json!({ "comment": "checked the change" }))
            .send()
    };
    let own = decide(&bob, "approve").await.expect("approve");
    assert_eq!(own.status(), 422, "the requester never approves (bob leads payments, still no)");
    assert_eq!(state_of(&app, &id).await.0, "awaiting_approval");
    assert_eq!(decide(&alice, "approve").await.expect("approve").status(), 200);
    let outcome = wait_for(&app, &id, "succeeded").await;
    assert_eq!(outcome.as_deref(), Some("the command exited with 0"));

    let d: Value = bob.get(&format!("/api/v1/deploys/{id}")).await.json().await.expect("json");
    let states: Vec<&str> = d["transitions"].as_array().expect("transitions").iter().filter_map(|t| t["to"].as_str()).collect();
    assert_eq!(states, ["requested", "awaiting_approval", "queued", "running", "succeeded"]);
    let log: String = {
        let mut db = app.db().await;
        sqlx::query_scalar::<_, String>("SELECT string_agg(line, '\n' ORDER BY id) FROM deploy_logs WHERE deploy_id = $1::uuid")
            .bind(&id)
            .fetch_one(&mut db)
            .await
            .expect("log")
    };
    assert!(log.contains("refunds v3.1.0 is live in production"), "{log}");
}

#[tokio::test]
async fn a_tier_zero_service_needs_two_approvals() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let id = deploy(&bob, "payment-gateway", "production", "v9").await;
    let d: Value = bob.get(&format!("/api/v1/deploys/{id}")).await.json().await.expect("json");
    let a: Value = bob.get(&format!("/api/v1/approvals/{}", d["approval_id"].as_str().expect("approval"))).await.json().await.expect("json");
    assert_eq!(a["required_approvals"], 2);
    assert_eq!(a["approvers"], "team_leads_or_admins");
}

#[tokio::test]
async fn a_retried_production_kick_off_opens_one_approval_request() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let first = kick_off(&bob, "prod-key", body("refunds", "production", "v4.0.0")).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.expect("json");
    let again = kick_off(&bob, "prod-key", body("refunds", "production", "v4.0.0")).await;
    assert_eq!(again.status(), 200, "a retry answers with the first deploy");
    let again: Value = again.json().await.expect("json");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["approval_id"], first["approval_id"]);

    // the retry found its key taken before it asked for anything: one approval request, one audit row each
    let id = first["id"].as_str().expect("id");
    assert_eq!(app.count("SELECT count(*) FROM approval_requests WHERE subject_kind = $1", &["deploy"]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM approval_requests WHERE subject_id = $1", &[&id]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'approval.requested' AND after->>'subject_kind' = $1", &["deploy"]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'deploy.requested' AND subject_id = $1", &[&id]).await, 1);
}
#[tokio::test]
async fn deploys_of_one_service_and_environment_run_one_at_a_time_in_order() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let mut ids = Vec::new();
    for v in ["v1", "v2", "v3"] {
        ids.push(deploy(&bob, "refunds", "dev", v).await);
    }
    let other = deploy(&bob, "payouts", "dev", "v1").await;
    let worker = start_worker(&app, deploy_settings(&[("deploys.concurrency", Setting::from(4))]));
    for id in ids.iter().chain([&other]) {
        wait_for(&app, id, "succeeded").await;
    }
    worker.abort();
    // each run of refunds in dev started after the one before it ended, in the order asked
    let mut db = app.db().await;
    let runs = sqlx::query(
        r#"SELECT d.version,
                  (SELECT at FROM deploy_transitions t WHERE t.deploy_id = d.id AND t.to_state = 'running') AS started,
                  (SELECT at FROM deploy_transitions t WHERE t.deploy_id = d.id AND t.to_state = 'succeeded') AS ended
           FROM deploys d JOIN entities e ON e.id = d.service_id
           WHERE e.name = 'refunds' AND d.environment = 'dev' ORDER BY started"#,
    )
    .fetch_all(&mut db)
    .await
    .expect("runs");
    let versions: Vec<String> = runs.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, ["v1", "v2", "v3"]);
    for pair in runs.windows(2) {
        let ended: chrono::DateTime<chrono::Utc> = pair[0].get(2);
        let next_started: chrono::DateTime<chrono::Utc> = pair[1].get(1);
        assert!(next_started >= ended, "a deploy started before the previous one ended");
    }
    // and the database itself refuses a second running deploy
    let second = sqlx::query("UPDATE deploys SET state = 'running' WHERE environment = 'dev' AND service_id = (SELECT id FROM entities WHERE name = 'refunds')")
        .execute(&mut db)
        .await;
    assert!(second.is_err(), "two running deploys of one service and environment were accepted");
}

/// A command that notes each start in `marker`, then takes `secs`.
fn marking_command(marker: &std::path::Path, secs: &str) -> (std::path::PathBuf, Vec<(&'static str, Setting)>) {
    let script = marker.with_extension("sh");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$SWITCHYARD_DEPLOY_ID\" >> {}\nsleep {secs}\necho done\n", marker.display()))
        .expect("script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let settings = vec![
        ("deploys.command.program", Setting::from(script.display().to_string())),
        ("deploys.command.args", Setting::from(Vec::<String>::new())),
        ("deploys.lease_secs", Setting::from(0.6)),
    ];
    (script, settings)
}

fn starts(marker: &std::path::Path) -> usize {
    std::fs::read_to_string(marker).map(|s| s.lines().count()).unwrap_or(0)
}

#[tokio::test]
async fn a_worker_that_dies_after_taking_a_deploy_loses_nothing() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let marker = std::env::temp_dir().join(format!("switchyard-marker-{}", Uuid::new_v4()));
    let (_script, settings) = marking_command(&marker, "0");
    let id = deploy(&bob, "refunds", "dev", "v7").await;
    // a worker takes the job and dies before starting it
    let taken = deploys::claim(&app.pool(), Uuid::new_v4(), 0.3, &[]).await.expect("claim").expect("a job");
    assert_eq!(taken.id.to_string(), id);
    assert_eq!(state_of(&app, &id).await.0, "running");
    // another worker finds the lapsed lease and runs it: once
    let worker = start_worker(&app, deploy_settings(&settings));
    wait_for(&app, &id, "succeeded").await;
    worker.abort();
    assert_eq!(starts(&marker), 1, "the command ran {} times", starts(&marker));
    assert_eq!(app.count("SELECT count(*) FROM deploy_transitions WHERE deploy_id = $1::uuid AND to_state = 'succeeded'", &[&id]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'deploy.requeued'", &[&id]).await, 1);
    let _ = std::fs::remove_file(&marker);
}

#[tokio::test]
async fn a_worker_killed_mid_run_never_starts_the_deploy_twice() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let marker = std::env::temp_dir().join(format!("switchyard-marker-{}", Uuid::new_v4()));
    let (_script, settings) = marking_command(&marker, "3");
    let id = deploy(&bob, "refunds", "dev", "v8").await;
    let first = start_worker(&app, deploy_settings(&settings));
    eventually("the first worker to start the command", || async { (starts(&marker) == 1).then_some(()) }).await;
    first.abort(); // the crash: its process (and the command with it) is gone
    let _ = first.await;
    let second = start_worker(&app, deploy_settings(&settings));
    let outcome = wait_for(&app, &id, "failed").await.unwrap_or_default();
    assert!(outcome.contains("stopped mid-run"), "{outcome}");
    assert!(outcome.contains("never runs twice"), "{outcome}");
    second.abort();
    // more rounds of sweeping and claiming, driven step by step: nothing starts the command again
    let third = Worker::new(app.pool(), Arc::new(deploy_settings(&settings)), &app.address);
    for _ in 0..3 {
        third.run_once().await;
    }
    assert_eq!(starts(&marker), 1);
    assert_eq!(app.count("SELECT count(*) FROM deploy_transitions WHERE deploy_id = $1::uuid AND to_state IN ('succeeded', 'failed')", &[&id]).await, 1);
    let _ = std::fs::remove_file(&marker);
}

#[tokio::test]
async fn a_command_past_its_timeout_is_killed_and_the_deploy_fails() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let marker = std::env::temp_dir().join(format!("switchyard-marker-{}", Uuid::new_v4()));
    let (_script, mut settings) = marking_command(&marker, "30");
    settings.push(("deploys.command.timeout_secs", Setting::from(0.5)));
    let id = deploy(&bob, "refunds", "dev", "v9").await;
    let worker = start_worker(&app, deploy_settings(&settings));
    let outcome = wait_for(&app, &id, "failed").await.unwrap_or_default();
    worker.abort();
    assert_eq!(outcome, "timed out after 0.5 s; the command was killed");
    let _ = std::fs::remove_file(&marker);
}

/// A CD system: accepts deploy requests whose signature verifies, and keeps them.
async fn cd_system() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/deploy",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let header = headers.get(signature::HEADER).and_then(|v| v.to_str().ok());
                let Ok(v) = serde_json::from_slice::<Value>(&body) else { return axum::http::StatusCode::BAD_REQUEST };
                let deploy = v["deploy_id"].as_str().and_then(|d| Uuid::parse_str(d).ok()).unwrap_or_default();
                if signature::verify(SECRET.as_bytes(), header, deploy, &body, chrono::Utc::now().timestamp(), 300).is_err() {
                    return axum::http::StatusCode::UNAUTHORIZED;
                }
                {
                    store.lock().expect("lock").push(v);
                }
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/deploy", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn event(app: &TestApp, id: &str, body: &str, header: Option<String>) -> reqwest::Response {
    let mut r = app.client.post(app.url(&format!("/api/v1/deploys/{id}/events"))).header("content-type", "application/json").body(body.to_owned());
    if let Some(h) = header {
        r = r.header(signature::HEADER, h);
    }
    r.send().await.expect("event")
}

fn signed(id: &str, body: &str, at: i64) -> Option<String> {
    Some(signature::sign(SECRET.as_bytes(), at, Uuid::parse_str(id).expect("deploy id"), body.as_bytes()))
}

#[tokio::test]
async fn a_webhook_deploy_is_signed_out_and_only_signed_fresh_events_come_in() {
    let (url, seen) = cd_system().await;
    let app = app_with(true, vec![("deploys.default_executor", "webhook".into()), ("deploys.webhook.url", url.into())]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let id = deploy(&bob, "refunds", "staging", "v2.0.0").await;
    // the CD system got the signed request, and the deploy waits on it
    let request = eventually("the CD system to be called", || async { seen.lock().expect("lock").first().cloned() }).await;
    assert_eq!(request["deploy_id"], id.as_str());
    assert_eq!(request["version"], "v2.0.0");
    assert!(request["callback_url"].as_str().unwrap_or("").ends_with(&format!("/api/v1/deploys/{id}/events")));
    assert_eq!(state_of(&app, &id).await.0, "running");

    let now = chrono::Utc::now().timestamp();
    let done = r#"{"attempt":1,"seq":2,"type":"succeeded","message":"synced by argo"}"#;
    let tampered = event(&app, &id, done, signed(&id, r#"{"attempt":1,"seq":2,"type":"log","lines":["hi"]}"#, now)).await;
    assert_eq!(tampered.status(), 401);
    let stale = event(&app, &id, done, signed(&id, done, now - 3600)).await;
    assert_eq!(stale.status(), 401);
    let body: Value = stale.json().await.expect("json");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("stale"), "{body}");
    assert_eq!(event(&app, &id, done, None).await.status(), 401);
    assert_eq!(state_of(&app, &id).await.0, "running", "a refused event changed the deploy");

    let progress = r#"{"attempt":1,"seq":1,"type":"progress","percent":60,"message":"3 of 5 pods updated"}"#;
    assert_eq!(event(&app, &id, progress, signed(&id, progress, now)).await.status(), 200);
    let replayed = event(&app, &id, progress, signed(&id, progress, now)).await;
    assert_eq!(replayed.status(), 409, "a replayed event is refused");
    assert!(replayed.json::<Value>().await.expect("json")["error"]["message"].as_str().unwrap_or("").contains("replay"));
    assert_eq!(app.count("SELECT count(*) FROM deploy_logs WHERE deploy_id = $1::uuid AND line = '3 of 5 pods updated'", &[&id]).await, 1);
    let other_attempt = r#"{"attempt":2,"seq":5,"type":"log","lines":["from elsewhere"]}"#;
    assert_eq!(event(&app, &id, other_attempt, signed(&id, other_attempt, now)).await.status(), 409, "another attempt's event");
    assert_eq!(event(&app, &id, done, signed(&id, done, now)).await.status(), 200);
    assert_eq!(state_of(&app, &id).await, ("succeeded".into(), Some("synced by argo".into())));
    assert_eq!(event(&app, &id, done, signed(&id, done, now)).await.status(), 200, "a repeated result is accepted and changes nothing");
    let late = r#"{"attempt":1,"seq":3,"type":"failed","message":"too late"}"#;
    assert_eq!(event(&app, &id, late, signed(&id, late, now)).await.status(), 409);
    assert_eq!(app.count("SELECT count(*) FROM deploy_transitions WHERE deploy_id = $1::uuid AND to_state = 'succeeded'", &[&id]).await, 1);

    // a signature made for this deploy is worth nothing for another, running one
    let second = deploy(&bob, "payouts", "staging", "v2.0.0").await;
    wait_for(&app, &second, "running").await;
    let captured = r#"{"attempt":1,"seq":9,"type":"succeeded"}"#;
    assert_eq!(event(&app, &second, captured, signed(&id, captured, now)).await.status(), 401);
    assert_eq!(state_of(&app, &second).await.0, "running");
}

#[tokio::test]
async fn a_command_deploy_takes_no_cd_events() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let marker = std::env::temp_dir().join(format!("switchyard-marker-{}", Uuid::new_v4()));
    let (_script, settings) = marking_command(&marker, "30");
    let id = deploy(&bob, "refunds", "dev", "v9").await;
    let worker = start_worker(&app, deploy_settings(&settings));
    wait_for(&app, &id, "running").await;
    let done = r#"{"attempt":1,"seq":1,"type":"succeeded"}"#;
    let now = chrono::Utc::now().timestamp();
    let refused = event(&app, &id, done, signed(&id, done, now)).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(state_of(&app, &id).await.0, "running", "a signed event finished a command deploy");
    worker.abort();
    let _ = std::fs::remove_file(&marker);
}

#[tokio::test]
async fn a_webhook_deploy_that_hears_nothing_fails_at_its_timeout() {
    let (url, _seen) = cd_system().await;
    let app = app_with(
        true,
        vec![("deploys.default_executor", "webhook".into()), ("deploys.webhook.url", url.into()), ("deploys.webhook.timeout_secs", Setting::from(0.5))],
    )
    .await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let id = deploy(&bob, "refunds", "dev", "v2.0.1").await;
    let outcome = wait_for(&app, &id, "failed").await.unwrap_or_default();
    assert_eq!(outcome, "no result from the CD system before the deploy's timeout");
}

/// Asks, as `b`, for a one-off window on `environment` from an hour ago to an hour from now;
/// returns the answer's status.
async fn freeze_now(b: &Browser, environment: &str, reason: &str) -> u16 {
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    let now = chrono::Utc::now();
    let (start, end) = (fmt(now - chrono::Duration::hours(1)), fmt(now + chrono::Duration::hours(1)));
    let form = [
        ("environment", environment), ("reason", reason), ("kind", "once"), ("starts_at", start.as_str()),
        ("ends_at", end.as_str()), ("schedule", ""), ("duration_mins", ""),
    ];
    b.server_fn("deploys/freeze-create", &form).await.status().as_u16()
}

#[tokio::test]
async fn a_freeze_refuses_deploys_naming_the_window_unless_an_admin_overrides() {
    let app = app_with(false, vec![]).await;
    let alice = app.login_as(Persona::Admin).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    assert_eq!(freeze_now(&bob, "dev", "Card network certification").await, 403, "only admins add windows");
    assert_eq!(freeze_now(&alice, "dev", "Card network certification").await, 200);

    let refused = kick_off(&bob, "k1", body("refunds", "dev", "v1")).await;
    assert_eq!(refused.status(), 422);
    let v: Value = refused.json().await.expect("json");
    assert!(v["error"]["message"].as_str().unwrap_or("").contains("Card network certification"), "{v}");
    let sneaky = kick_off(&bob, "k2", json!({ "service": "refunds", "environment": "dev", "version": "v1", "reason": "r", "freeze_override": "please" })).await;
    assert_eq!(sneaky.status(), 422, "an engineer cannot override a freeze");

    let r = kick_off(&alice, "k3", json!({ "service": "refunds", "environment": "dev", "version": "v1", "reason": "hotfix", "freeze_override": "incident 4711" })).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE subject_id = $1 AND action = 'deploy.freeze_overridden'", &[&id]).await, 1);
    assert_eq!(kick_off(&bob, "k4", body("refunds", "staging", "v1")).await.status(), 201, "other environments are open");
}

#[tokio::test]
async fn a_queued_deploy_waits_out_a_freeze_that_began_after_it_was_asked_for() {
    let app = app_with(false, vec![]).await;
    let alice = app.login_as(Persona::Admin).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let first = kick_off(&bob, "before-the-window", body("refunds", "dev", "v3")).await;
    assert_eq!(first.status(), 201);
    let held = first.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    assert_eq!(freeze_now(&alice, "dev", "Quarter-end close").await, 200);
    let retry = kick_off(&bob, "before-the-window", body("refunds", "dev", "v3")).await;
    assert_eq!(retry.status(), 200, "a retry answers with the first deploy, window or not");
    assert_eq!(retry.json::<Value>().await.expect("json")["id"], held.as_str());

    let worker = start_worker(&app, deploy_settings(&[]));
    // the worker is at work: a deploy to an open environment runs to its end ...
    let open = deploy(&bob, "refunds", "staging", "v3").await;
    wait_for(&app, &open, "succeeded").await;
    // ... while the one in the frozen environment waits in the queue
    assert_eq!(state_of(&app, &held).await.0, "queued", "nothing starts inside a freeze window");
    let window: Uuid = sqlx::query_scalar("SELECT id FROM freeze_windows WHERE environment = 'dev'").fetch_one(&mut app.db().await).await.expect("window");
    // an admin's hotfix that overrides the window does not wait behind the held deploy
    let hotfix = kick_off(&alice, "hotfix", json!({ "service": "refunds", "environment": "dev", "version": "v3.0.1", "reason": "hotfix", "freeze_override": "incident 4711" })).await;
    assert_eq!(hotfix.status(), 201);
    let hotfix = hotfix.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    wait_for(&app, &hotfix, "succeeded").await;
    assert_eq!(state_of(&app, &held).await.0, "queued");
    assert_eq!(alice.server_fn("deploys/freeze-delete", &[("id", window.to_string().as_str())]).await.status(), 200);
    wait_for(&app, &held, "succeeded").await;
    worker.abort();
}

#[tokio::test]
async fn concurrent_kick_offs_spread_over_audit_stripes_and_every_row_stays_chained() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    // to production: each kick-off is a transaction of its own on its request's connection (queued
    // ones are written by the deploy queue's two connections, whose stripes may be one)
    let kicks = (0..48).map(|i| {
        let bob = &bob;
        async move { kick_off(bob, &format!("burst-{i}"), body(["refunds", "payouts"][i % 2], "production", &format!("v{i}"))).await.status() }
    });
    let statuses = futures::future::join_all(kicks).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let stripes: i64 = sqlx::query_scalar("SELECT count(DISTINCT chain) FROM audit_log").fetch_one(&mut app.db().await).await.expect("stripes");
    assert!(stripes > 1, "the writers used {stripes} stripe(s)");
    assert_every_row_chained(&app).await;
}

#[tokio::test]
async fn concurrent_retries_with_one_key_make_one_deploy() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let tries = (0..12).map(|_| async { kick_off(&bob, "one-key", body("refunds", "dev", "v3")).await });
    let mut created = 0;
    let mut ids = Vec::new();
    for r in futures::future::join_all(tries).await {
        match r.status().as_u16() {
            201 => created += 1,
            200 => {}
            other => panic!("a retry answered {other}"),
        }
        ids.push(r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned());
    }
    assert_eq!(created, 1, "one of the twelve created it, the others answered it");
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE idempotency_key = $1", &["one-key"]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'deploy.requested' AND subject_id = $1", &[&ids[0]]).await, 1);
}

/// A queued deploy for bob as a kick-off hands it to the queue, with its audit row.
async fn queued(app: &TestApp, service: Uuid, key: &str) -> (app::deploys::repo::NewDeployRow, app::audit::service::Entry) {
    let mut db = app.db().await;
    let bob: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE username = 'bob'").fetch_one(&mut db).await.expect("bob");
    let id = Uuid::now_v7();
    let row = app::deploys::repo::NewDeployRow {
        id: app::deploys::types::DeployId(id),
        service_id: app::catalog::types::EntityId(service),
        environment: "dev".into(),
        version: "v1".into(),
        rollback_of: None,
        reason: "a group".into(),
        requester_id: bob,
        idempotency_key: key.into(),
        fingerprint: vec![1],
        state: "queued",
        freeze_override: None,
        previous_version: None,
        actor_name: "bob".into(),
        note: "queued",
        trace_context: None,
    };
    let change = app::audit::service::Change { action: "deploy.requested", subject_kind: app::audit::service::SubjectKind::Deploy, subject_id: id.to_string(), before: None, after: Some(json!({ "key": key })) };
    (row, app::audit::service::entry(app::audit::service::Actor::System, change, &app::context::RequestMeta::default()))
}

async fn refunds_id(app: &TestApp) -> Uuid {
    sqlx::query_scalar("SELECT id FROM entities WHERE kind = 'component' AND name = 'refunds'").fetch_one(&mut app.db().await).await.expect("refunds")
}

/// Every audit row is on an intact chain.
async fn assert_every_row_chained(app: &TestApp) {
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&mut app.db().await).await.expect("count");
    match app::audit::service::verify(&app.pool()).await.expect("verify") {
        app::audit::types::ChainCheck::Intact { rows: walked } => assert_eq!(walked, rows, "every row is on a chain"),
        broken => panic!("the audit chains forked: {broken:?}"),
    }
}

/// Hands bob's queued deploys of (key, service) to a queue of the test's own at one moment (the
/// test runtime polls every write before the queue's task runs, so they make one group).
async fn write_together(app: &TestApp, deploys: &[(&str, Uuid)]) -> Vec<Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error>> {
    let queue = app::deploys::queue::Queue::start(app.pool(), app.pool());
    let mut writes = Vec::new();
    for (key, service) in deploys {
        writes.push(queued(app, *service, key).await);
    }
    futures::future::join_all(writes.into_iter().map(|(row, audit)| queue.write(row, audit))).await
}

/// Kick-offs handed to the queue at one moment are one transaction: one creation time; a key
/// taken by an earlier one of the group is answered as taken, with nothing written for it.
#[tokio::test]
async fn kick_offs_queued_at_one_moment_commit_together() {
    let app = app_with(false, vec![]).await;
    app.login_as(Persona::PaymentsLead).await;
    let refunds = refunds_id(&app).await;
    let answers = write_together(&app, &[("g-1", refunds), ("g-2", refunds), ("g-3", refunds), ("g-3", refunds), ("g-4", refunds)]).await;
    let times: Vec<_> = answers.into_iter().map(|a| a.expect("written")).collect();
    assert_eq!(times[3], None, "the second g-3 finds its key taken: {times:?}");
    let created: Vec<_> = times.iter().flatten().collect();
    assert_eq!(created.len(), 4);
    assert!(created.iter().all(|at| *at == created[0]), "one transaction, one time: {times:?}");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE reason = $1", &["a group"]).await, 4);
    assert_eq!(app.count("SELECT count(*) FROM deploy_transitions t JOIN deploys d ON d.id = t.deploy_id WHERE d.reason = $1", &["a group"]).await, 8);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE after->>'key' LIKE $1", &["g-%"]).await, 4);
    assert_every_row_chained(&app).await;
}

/// One kick-off that cannot be written (its service is gone) fails the group's statement; the
/// group is written again one by one, so it fails alone and the others are written.
#[tokio::test]
async fn a_kick_off_that_fails_in_its_group_fails_alone() {
    let app = app_with(false, vec![]).await;
    app.login_as(Persona::PaymentsLead).await;
    let refunds = refunds_id(&app).await;
    let answers = write_together(&app, &[("f-1", refunds), ("f-2", Uuid::new_v4()), ("f-3", refunds)]).await;
    assert!(matches!(answers[1], Err(sqlx::Error::Database(_))), "the one without a service fails: {answers:?}");
    assert!(answers[0].as_ref().is_ok_and(|a| a.is_some()) && answers[2].as_ref().is_ok_and(|a| a.is_some()), "{answers:?}");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE reason = $1", &["a group"]).await, 2);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE after->>'key' LIKE $1", &["f-%"]).await, 2);
    assert_every_row_chained(&app).await;
}

/// A catalog edit locks the service's row, then takes its audit stripe's lock; a kick-off must
/// take its row locks before its own stripe's, or the two wait on each other in a circle. The
/// "edit" here holds the row, waits until the kick-off waits for it, then takes every stripe.
#[tokio::test]
async fn a_kick_off_waiting_for_a_catalog_edit_holds_no_audit_lock() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let mut edit = app.db().await;
    sqlx::query("BEGIN").execute(&mut edit).await.expect("begin");
    sqlx::query("SELECT 1 FROM entities WHERE kind = 'component' AND name = 'refunds' FOR UPDATE")
        .execute(&mut edit)
        .await
        .expect("the service's row");
    let edit_then_audit = async {
        let waiting = eventually("the kick-off to wait on a lock", || async {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .fetch_one(&mut app.db().await)
                .await
                .expect("activity");
            (n > 0).then_some(n)
        })
        .await;
        assert_eq!(waiting, 1, "the kick-off waits for the edit's row lock");
        // every stripe: whichever one the kick-off's connection uses
        sqlx::query("SELECT pg_advisory_xact_lock(x'53574155'::int, s) FROM generate_series(0, 15) AS s")
            .execute(&mut edit)
            .await
            .expect("the edit gets every audit stripe: the waiting kick-off holds none");
        sqlx::query("COMMIT").execute(&mut edit).await.expect("commit");
    };
    let (kicked, ()) = tokio::join!(kick_off(&bob, "while-editing", body("refunds", "dev", "v7")), edit_then_audit);
    assert_eq!(kicked.status(), 201, "the kick-off goes on once the edit commits");
}

#[tokio::test]
async fn a_kick_off_wakes_an_idle_worker_without_waiting_for_its_sweep() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    // a sweep a minute apart: only the wake-up can start a deploy within wait_for's 30 s
    let worker = start_worker(&app, deploy_settings(&[("deploys.sweep_secs", Setting::from(60.0))]));
    let first = deploy(&bob, "refunds", "dev", "v1").await;
    wait_for(&app, &first, "succeeded").await;
    // the next kick-off's NOTIFY wakes it: idle by now, or finishing its round (then the
    // notification waits in its LISTEN connection's queue until it looks)
    let second = deploy(&bob, "payouts", "staging", "v1").await;
    wait_for(&app, &second, "succeeded").await;
    worker.abort();
}

#[tokio::test]
async fn rollback_deploys_the_version_that_succeeded_before() {
    let app = app_with(true, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let v1 = deploy(&bob, "payouts", "dev", "v1.0").await;
    wait_for(&app, &v1, "succeeded").await;
    let v2 = deploy(&bob, "payouts", "dev", "v2.0").await;
    wait_for(&app, &v2, "succeeded").await;
    let early = bob.server_fn("deploys/rollback", &[("id", v1.as_str()), ("idempotency_key", "rb-0"), ("reason", "v2 breaks refunds")]).await;
    assert_eq!(early.status(), 422, "only what runs now is rolled back");
    // a rollback says why, and one that does not is refused on that field, making nothing
    let blank = bob.server_fn("deploys/rollback", &[("id", v2.as_str()), ("idempotency_key", "rb-blank"), ("reason", "  ")]).await;
    assert_eq!(blank.status(), 422, "a rollback needs a reason");
    assert!(blank.text().await.expect("body").contains("reason"), "the refusal names the reason field");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE rollback_of = $1::uuid", &[&v2]).await, 0);
    let r = bob.server_fn("deploys/rollback", &[("id", v2.as_str()), ("idempotency_key", "rb-1"), ("reason", "v2 breaks refunds")]).await;
    assert_eq!(r.status(), 200);
    let rb: Value = r.json().await.expect("json");
    let rb = rb.as_str().expect("new deploy id").to_owned();
    wait_for(&app, &rb, "succeeded").await;
    // a retry of the click after the rollback ran answers the same deploy, and makes none
    let again = bob.server_fn("deploys/rollback", &[("id", v2.as_str()), ("idempotency_key", "rb-1"), ("reason", "v2 breaks refunds")]).await;
    assert_eq!(again.status(), 200, "a retried rollback replays");
    assert_eq!(again.json::<Value>().await.expect("json").as_str(), Some(rb.as_str()));
    let other = bob.server_fn("deploys/rollback", &[("id", rb.as_str()), ("idempotency_key", "rb-1"), ("reason", "v2 breaks refunds")]).await;
    assert_eq!(other.status(), 409, "the key names another rollback");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE rollback_of = $1::uuid", &[&v2]).await, 1);
    let d: Value = bob.get(&format!("/api/v1/deploys/{rb}")).await.json().await.expect("json");
    assert_eq!(d["version"], "v1.0");
    assert_eq!(d["rollback_of"], v2.as_str());
    assert_eq!(d["previous_version"], "v2.0");
    assert!(d["reason"].as_str().is_some_and(|r| r.ends_with("v2 breaks refunds")), "the rollback carries its reason");
}

#[tokio::test]
async fn cancelling_a_running_deploy_stops_its_command() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let dave = app.login_as(Persona::Viewer).await;
    let marker = std::env::temp_dir().join(format!("switchyard-marker-{}", Uuid::new_v4()));
    let (_script, settings) = marking_command(&marker, "30");
    let id = deploy(&bob, "refunds", "dev", "v10").await;
    let worker = start_worker(&app, deploy_settings(&settings));
    wait_for(&app, &id, "running").await;
    let cancel = |b: &Browser| b.client.post(b.url(&format!("/api/v1/deploys/{id}/cancel"))).header("origin", b.url("")).send();
    assert_eq!(cancel(&dave).await.expect("cancel").status(), 403);
    assert_eq!(cancel(&bob).await.expect("cancel").status(), 200);
    assert_eq!(state_of(&app, &id).await.0, "cancelled");
    // the worker notices at its next heartbeat and stops the command; nothing overwrites the state
    let stopped = "SELECT count(*) FROM deploy_logs WHERE deploy_id = $1::uuid AND line LIKE 'stopped: the deploy was cancelled%'";
    eventually("the worker to stop the command", || async { (app.count(stopped, &[&id]).await == 1).then_some(()) }).await;
    worker.abort();
    assert_eq!(state_of(&app, &id).await.0, "cancelled");
    let again = cancel(&bob).await.expect("cancel");
    assert_eq!(again.status(), 422);
    let _ = std::fs::remove_file(&marker);
}

#[tokio::test]
async fn a_reason_never_reaches_the_log_as_lines_or_progress() {
    let app = app_with(true, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let reason = "hotfix\n::progress 100\n[6/6] health checks: ok (forged)";
    let r = kick_off(&bob, "forge-1", json!({ "service": "refunds", "environment": "dev", "version": "v5", "reason": reason })).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    wait_for(&app, &id, "succeeded").await;
    let forged = app.count("SELECT count(*) FROM deploy_logs WHERE deploy_id = $1::uuid AND (line LIKE '%forged%' OR line LIKE '%hotfix%')", &[&id]).await;
    assert_eq!(forged, 0, "the reason was echoed into the log");
}

#[tokio::test]
async fn a_services_history_says_what_runs_in_each_environment_and_what_a_rollback_would_deploy() {
    let app = app_with(true, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    for (env, version) in [("dev", "v7.0"), ("dev", "v8.0"), ("staging", "v7.0")] {
        let id = deploy(&bob, "payouts", env, version).await;
        wait_for(&app, &id, "succeeded").await;
    }
    // one waiting for approval in production: the newest there, but not what runs
    let waiting = deploy(&bob, "payouts", "production", "v8.0").await;
    let r = bob.server_fn("deploys/service", &[("service", "payouts")]).await;
    assert_eq!(r.status(), 200);
    let s: Value = r.json().await.expect("json");
    let env = |name: &str| s["environments"].as_array().expect("environments").iter().find(|e| e["environment"] == name).cloned().expect(name);
    let names: Vec<&str> = s["environments"].as_array().expect("environments").iter().filter_map(|e| e["environment"].as_str()).collect();
    assert_eq!(names, ["dev", "staging", "production"], "every environment, in their order");
    let (dev, staging, production) = (env("dev"), env("staging"), env("production"));
    assert_eq!(dev["current"]["version"], "v8.0");
    assert_eq!(dev["rollback_to"], "v7.0", "a rollback in dev deploys the version before");
    let dev_history: Vec<&str> = dev["history"].as_array().expect("history").iter().filter_map(|d| d["version"].as_str()).collect();
    assert!(dev_history.starts_with(&["v8.0", "v7.0"]), "the history is newest first: {dev_history:?}");
    assert!(dev["history"].as_array().expect("history").iter().all(|d| d["environment"] == "dev"), "each list holds its own environment's deploys");
    assert_eq!(staging["current"]["version"], "v7.0");
    assert_eq!(production["history"][0]["id"], waiting.as_str(), "the newest deploy heads the history");
    let running = &production["current"];
    assert!(running.is_null() || running["state"] == "succeeded", "what runs is what succeeded: {running}");
    assert_ne!(running["id"], waiting.as_str(), "not the newest asked for");
}

#[tokio::test]
async fn what_waits_for_a_decision_is_what_each_person_may_decide() {
    let app = app_with(false, vec![]).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let people = [app.login_as(Persona::Admin).await, app.login_as(Persona::PaymentsLead).await, app.login_as("erin").await, app.login_as(Persona::Viewer).await];
    let counts = || async {
        let mut n = Vec::new();
        for b in &people {
            let r = b.server_fn("approvals/waiting-count", &[]).await;
            assert_eq!(r.status(), 200);
            n.push(r.json::<i64>().await.expect("a count"));
        }
        n
    };
    let before = counts().await;
    // a production deploy of payments' refunds, then one of ledger's ledger-core
    deploy(&bob, "refunds", "production", "v9.1").await;
    deploy(&carol, "ledger-core", "production", "v4.2").await;
    let after = counts().await;
    let grew: Vec<i64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    // alice (an admin) may decide both; bob neither (his own; another team's); erin (ledger's
    // lead) the ledger one; dave (a viewer) nothing, ever
    assert_eq!(grew, [2, 0, 1, 0], "what waits for alice, bob, erin and dave (before: {before:?})");
    assert_eq!(after[3], 0, "nothing waits for a viewer");
}
