//! The change calendar on the hand-made estate of `blast` (Bank A single-homed on `edge`, its
//! SFTP read by the statement import into the ledger): freezes, maintenance and critical runs on
//! one timeline, the window that cuts off Bank A during the import's run flagged on both, the
//! filters, the refusals, the .ics feed read by the icalendar package from PyPI, and a deploy
//! refused while a critical integration of it runs where the environment says so.
use crate::blast::estate;
use crate::helpers::{spawn_app, Persona, TestApp};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

/// The icalendar package's Python (`make test-rust` installs it and says where).
fn icalendar_python() -> String {
    std::env::var("ICALENDAR_PYTHON").expect("ICALENDAR_PYTHON names the Python with icalendar installed (make test-rust sets it)")
}

/// Midnight UTC, `days` from today.
fn midnight(days: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::days(days)).date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

/// The estate, its statement import made critical (the ledger is tier 1), a freeze once and one
/// every Friday evening, and two windows tomorrow morning: on `edge` (which cuts off Bank A while
/// the 06:00 import runs) and on `core1` (which cuts off nobody).
async fn planned(app: &TestApp) {
    estate(app).await;
    sqlx::raw_sql(&format!(
        "UPDATE entities SET tier = 1 WHERE name = 'ledger';
         INSERT INTO freeze_windows (environment, reason, starts_at, ends_at, created_by)
         SELECT 'production', 'Quarter-end close', '{}', '{}', id FROM users WHERE username = 'alice';
         INSERT INTO freeze_windows (environment, reason, starts_at, schedule, duration_mins, created_by)
         SELECT 'production', 'Friday evenings', '{}', '0 0 18 * * Fri', 120, id FROM users WHERE username = 'alice';",
        midnight(2).to_rfc3339(),
        midnight(3).to_rfc3339(),
        midnight(-30).to_rfc3339()
    ))
    .execute(&app.pool())
    .await
    .expect("the freezes");
    let alice = app.login_as(Persona::Admin).await;
    let tomorrow = |h: i64| (midnight(1) + Duration::hours(h)).to_rfc3339();
    for (device, title) in [("edge", "Line card swap"), ("core1", "Fan tray")] {
        let r = alice.client.post(alice.url("/api/v1/topology/maintenance")).header("origin", alice.url(""))
            .json(&json!({ "device": device, "title": title, "reference": format!("CHG-{device}"), "starts_at": tomorrow(5), "ends_at": tomorrow(7) }))
            .send().await.expect("plan");
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
}

fn week() -> String {
    format!("from={}&to={}", midnight(1).format("%Y-%m-%d"), midnight(7).format("%Y-%m-%d"))
}

async fn calendar(app: &TestApp, query: &str) -> Value {
    let dave = app.login_as(Persona::Viewer).await;
    let r = dave.get(&format!("/api/v1/calendar?{query}")).await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.expect("json")
}

fn kinds(c: &Value) -> Vec<(String, String)> {
    c["events"].as_array().expect("events").iter().map(|e| (e["kind"].as_str().unwrap_or_default().to_owned(), e["on"].as_str().unwrap_or_default().to_owned())).collect()
}

fn count(c: &Value, kind: &str) -> usize {
    kinds(c).iter().filter(|(k, _)| k == kind).count()
}

fn find<'a>(c: &'a Value, kind: &str, on: &str, starts: DateTime<Utc>) -> &'a Value {
    c["events"].as_array().expect("events").iter()
        .find(|e| e["kind"] == kind && e["on"] == on && e["starts_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_some_and(|t| t == starts))
        .unwrap_or_else(|| panic!("{kind} on {on} at {starts}: {c}"))
}

#[tokio::test]
async fn freezes_maintenance_and_critical_runs_share_one_timeline_and_a_window_cutting_off_a_partner_during_a_run_is_flagged_on_both() {
    let app = spawn_app().await;
    planned(&app).await;
    let c = calendar(&app, &week()).await;
    // the one-off freeze and one Friday evening; both windows; the import every morning at 06:00
    assert_eq!((count(&c, "freeze"), count(&c, "maintenance"), count(&c, "integration")), (2, 2, 7), "{c}");
    let starts: Vec<&str> = c["events"].as_array().expect("events").iter().filter_map(|e| e["starts_at"].as_str()).collect();
    assert!(starts.windows(2).all(|w| DateTime::parse_from_rfc3339(w[0]).ok() <= DateTime::parse_from_rfc3339(w[1]).ok()), "soonest first");

    let six = midnight(1) + Duration::hours(6);
    let edge = find(&c, "maintenance", "edge", midnight(1) + Duration::hours(5));
    assert_eq!(edge["cuts_off"], json!(["Bank A"]));
    assert_eq!(edge["clashes"], json!([format!("cuts off Bank A during the critical run of Bank A statements at {} UTC", six.format("%Y-%m-%d %H:%M"))]));
    assert_eq!(edge["href"], "/topology/devices/edge");
    assert_eq!(edge["services"], json!(["component:default/ledger", "component:default/payments"]), "the ledger at the import's end, and payments, which depends on it");
    let run = find(&c, "integration", "statement-import", six);
    assert_eq!(run["ends_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()), Some((six + Duration::minutes(60)).into()), "a run lasts the longest it may take");
    assert_eq!(run["clashes"].as_array().map(Vec::len), Some(1));
    assert!(run["clashes"][0].as_str().unwrap_or_default().starts_with("Line card swap on edge ("), "{run}");
    assert!(run["detail"].as_str().unwrap_or_default().starts_with("Critical (Ledger is tier 1)"), "{run}");
    assert_eq!((run["partners"].clone(), run["sites"].clone(), run["services"].clone()), (json!(["Bank A"]), json!(["dc1"]), json!(["component:default/ledger"])));
    // the work on core1 cuts off nobody; the next morning's run is after both windows
    assert_eq!(find(&c, "maintenance", "core1", midnight(1) + Duration::hours(5))["clashes"], json!([]));
    assert_eq!(find(&c, "integration", "statement-import", six + Duration::days(1))["clashes"], json!([]));
    let freeze = find(&c, "freeze", "production", midnight(2));
    assert_eq!((freeze["title"].as_str(), freeze["href"].as_str()), (Some("Freeze of production: Quarter-end close"), Some("/deploys/freezes")));

    // filters: a partner or a site leaves the freezes out; a service or a team keeps them
    let by_partner = calendar(&app, &format!("{}&partner=Bank%20A", week())).await;
    assert_eq!((count(&by_partner, "freeze"), count(&by_partner, "maintenance"), count(&by_partner, "integration")), (0, 1, 7));
    let by_site = calendar(&app, &format!("{}&site=dc2", week())).await;
    assert_eq!(kinds(&by_site), Vec::<(String, String)>::new(), "nothing touches dc2");
    let by_service = calendar(&app, &format!("{}&service=payments", week())).await;
    assert_eq!((count(&by_service, "freeze"), count(&by_service, "maintenance"), count(&by_service, "integration")), (2, 1, 0));
    let team = c["teams"].as_array().and_then(|t| t.first()).and_then(Value::as_str).expect("a team on the calendar").to_owned();
    let by_team = calendar(&app, &format!("{}&team={}", week(), team.replace(' ', "%20"))).await;
    assert_eq!((count(&by_team, "freeze"), count(&by_team, "maintenance"), count(&by_team, "integration")), (2, 1, 7));
    assert_eq!(by_team["partners"], json!(["Bank A", "Bank B"]), "the filters offer what the whole span touches");
}

#[tokio::test]
async fn the_calendar_refuses_what_it_cannot_read_with_the_field_named() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    for (query, field, says) in [
        ("from=next%20week", "from", "is not a day or a time"),
        ("from=2026-12-10&to=2026-12-09", "to", "ends after it starts"),
        ("from=2026-01-01&to=2026-12-31", "to", "at most 92 days"),
    ] {
        let r = dave.get(&format!("/api/v1/calendar?{query}")).await;
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
        assert!(body["error"]["message"].as_str().unwrap_or_default().contains(says), "{query}: {body}");
    }
    let long = "x".repeat(201);
    assert_eq!(dave.get(&format!("/api/v1/calendar?team={long}")).await.status(), 422);
    assert_eq!(app.browser().get("/api/v1/calendar").await.status(), 401, "signed out");
    assert_eq!(app.browser().get("/api/v1/calendar.ics").await.status(), 401, "signed out");
}

#[tokio::test]
async fn the_ics_feed_parses_with_the_icalendar_package_and_carries_every_event_with_its_clash() {
    let app = spawn_app().await;
    planned(&app).await;
    let json = calendar(&app, &week()).await;
    // a calendar app subscribes with a read token
    let dave = app.login_as(Persona::Viewer).await;
    let token = dave.token("my-calendar", &["read"], None).await;
    let r = app.client.get(app.url(&format!("/calendar.ics?{}", week()))).bearer_auth(&token).send().await.expect("get");
    assert_eq!(r.status(), 200);
    assert!(r.headers()[reqwest::header::CONTENT_TYPE].to_str().unwrap_or_default().starts_with("text/calendar"));
    let feed = r.bytes().await.expect("body");
    let mut child = std::process::Command::new(icalendar_python())
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/calendar_feed/read_ics.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), &feed).expect("write the feed");
    let out = child.wait_with_output().expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read: Value = serde_json::from_slice(&out.stdout).expect("the reader's JSON");
    assert_eq!(read["name"], "Switchyard change calendar");
    let events = read["events"].as_array().expect("events");
    let expected = json["events"].as_array().expect("events");
    assert_eq!(events.len(), expected.len());
    let mut uids: Vec<&str> = events.iter().filter_map(|e| e["uid"].as_str()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), events.len(), "each event's UID is its own");
    for (got, want) in events.iter().zip(expected) {
        assert_eq!(got["uid"].as_str(), want["uid"].as_str().map(|u| format!("{u}@switchyard")).as_deref());
        let at = |v: &Value| v.as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        assert_eq!((at(&got["start"]), at(&got["end"])), (at(&want["starts_at"]), at(&want["ends_at"])), "{got}");
        assert!(got["url"].as_str().unwrap_or_default().ends_with(want["href"].as_str().unwrap_or("?")), "{got}");
        assert_eq!(got["stamped"], true, "DTSTAMP, as RFC 5545 asks");
        let flagged = !want["clashes"].as_array().is_none_or(Vec::is_empty);
        assert_eq!(got["summary"].as_str().unwrap_or_default().starts_with("Clash: "), flagged, "{got}");
    }
    assert_eq!(events.iter().filter(|e| e["summary"].as_str().unwrap_or_default().starts_with("Clash: ")).count(), 2, "the window and the run");
    // the same feed under the API, for a browser with its session
    let r = dave.get(&format!("/api/v1/calendar.ics?{}&partner=Bank%20A", week())).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("text");
    assert_eq!(text.matches("BEGIN:VEVENT").count(), 8, "the window on edge and seven runs");
}

#[tokio::test]
async fn a_deploy_while_a_critical_integration_of_the_service_runs_is_refused_where_the_environment_blocks_unless_an_admin_overrides() {
    let app = spawn_app().await;
    estate(&app).await;
    // the import runs every minute for up to an hour: always under way
    sqlx::raw_sql(
        "UPDATE entities SET tier = 1 WHERE name = 'ledger';
         UPDATE integrations SET schedule = '* * * * *' WHERE name = 'statement-import';",
    )
    .execute(&app.pool())
    .await
    .expect("a critical run under way");
    // an admin makes production refuse a deploy during a critical run; a member may not, and a
    // policy that is none is named by its field, with nothing written
    let alice = app.login_as(Persona::Admin).await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let policies = |b: &crate::helpers::Browser, maintenance: &str, critical: &str| {
        b.client
            .put(b.url("/api/v1/environments/production/policies"))
            .header("origin", b.url(""))
            .json(&json!({ "maintenance_policy": maintenance, "critical_run_policy": critical }))
    };
    assert_eq!(policies(&carol, "block", "block").send().await.expect("put").status(), 403);
    let r = policies(&alice, "block", "sometimes").send().await.expect("put");
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert!(body.to_string().contains("critical_run_policy") && body.to_string().contains("is not a policy: choose warn or block"), "{body}");
    let r = policies(&alice, "block", "block").send().await.expect("put");
    assert_eq!(r.status(), 200);
    let set: Value = r.json().await.expect("json");
    let production = set.as_array().expect("environments").iter().find(|e| e["environment"] == "production").expect("production").clone();
    assert_eq!((production["maintenance_policy"].as_str(), production["critical_run_policy"].as_str()), (Some("block"), Some("block")));
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'environment.policies_changed' AND subject_id = 'production' AND before->>'critical_run_policy' = 'warn' AND after->>'critical_run_policy' = 'block'";
    assert_eq!(app.count(audited, &[]).await, 1);
    let ask = |env: &str, extra: Value| crate::blast::ledger_deploy(env, "2.0.2", extra);
    let deploys = "SELECT count(*) FROM deploys d JOIN entities e ON e.id = d.service_id WHERE e.name = 'ledger'";
    let r = carol.kick_off("c-1", &ask("production", json!({}))).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "environment");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("a critical integration of it is running (Bank A statements (statement-import), its run from"), "{message}");
    assert!(message.contains("critical: Ledger is tier 1"), "{message}");
    assert_eq!(app.count(deploys, &[]).await, 0, "nothing written");
    // a member may not override; staging only warns; payments has no critical integration
    assert_eq!(carol.kick_off("c-2", &ask("production", json!({ "freeze_override": "please" }))).await.status(), 422);
    assert_eq!(carol.kick_off("c-3", &ask("staging", json!({}))).await.status(), 201);
    let r = carol.kick_off("c-4", &json!({ "service": "payments", "environment": "production", "version": "3.0.0", "reason": "r" })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    // an admin overrides with a reason, audited with the run
    let r = alice.kick_off("c-5", &ask("production", json!({ "freeze_override": "the import is stuck until this ships" }))).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'deploy.critical_run_overridden' AND after->>'override_reason' = 'the import is stuck until this ships' AND after->'runs'->>0 LIKE 'Bank A statements (statement-import)%'";
    assert_eq!(app.count(audited, &[]).await, 1);
    // where the environment warns (the default), the same deploy is taken
    assert_eq!(policies(&alice, "block", "warn").send().await.expect("put").status(), 200);
    let r = carol.kick_off("c-6", &json!({ "service": "ledger", "environment": "production", "version": "2.0.3", "reason": "journal fix" })).await;
    assert_eq!(r.status(), 201);
    // and the approver's card lists the run as under way
    let waiting: Value = alice.get("/api/v1/approvals?inbox=waiting_for_me").await.json().await.expect("json");
    let item = waiting.as_array().or(waiting["items"].as_array()).expect("list").iter()
        .find(|a| a["summary"].as_str().is_some_and(|t| t.contains("2.0.3"))).unwrap_or_else(|| panic!("{waiting}")).clone();
    let group = item["preflight"].as_array().expect("card").iter().find(|g| g["title"] == "Its critical integrations' runs, the next 24 hours").expect("the group").clone();
    assert_eq!(group["facts"][0]["label"], "Bank A statements");
    assert_eq!(group["facts"][0]["warn"], true);
    assert!(group["facts"][0]["value"].as_str().unwrap_or_default().starts_with("running now; runs at "), "{group}");
}
