//! "If this fails", on a small hand-made estate whose answers are known: two data centers, four
//! devices; Bank A single-homed by a BGP session on `edge`; Bank B by sessions on `core1` and
//! `border`; Cloud C over one Colt circuit to `core2`; Bank A hosts an SFTP system that the
//! statement import reads, into the ledger's database (the component `ledger`, which `payments`
//! depends on).
use crate::helpers::{spawn_app, Persona, TestApp};
use serde_json::{json, Value};

const NETWORK: &str = r#"
INSERT INTO topology_sites (name, kind) VALUES ('dc1', 'data_center'), ('dc2', 'data_center');
INSERT INTO topology_devices (name, role, site_id)
SELECT d, r, (SELECT id FROM topology_sites WHERE name = s)
FROM (VALUES ('core1', 'core', 'dc1'), ('edge', 'border', 'dc1'), ('core2', 'core', 'dc2'), ('border', 'border', 'dc2')) AS x(d, r, s);
INSERT INTO topology_links (label, a_device_id, b_device_id)
SELECT a || ' – ' || b, (SELECT id FROM topology_devices WHERE name = a), (SELECT id FROM topology_devices WHERE name = b)
FROM (VALUES ('core1', 'core2'), ('core1', 'edge'), ('core2', 'edge'), ('core2', 'border')) AS x(a, b);
INSERT INTO topology_partners (name, kind, asns) VALUES ('Bank A', 'bank', '{65001}'), ('Bank B', 'bank', '{65002}'), ('Cloud C', 'cloud', '{65003}');
INSERT INTO topology_bgp_sessions (name, device_id, local_address, local_asn, remote_address, remote_asn, partner_id, state)
SELECT n, (SELECT id FROM topology_devices WHERE name = d), l::inet, 64999, r::inet, a, (SELECT id FROM topology_partners WHERE name = p), 'established'
FROM (VALUES ('edge-bank-a', 'edge', '10.0.0.0', '10.0.0.1', 65001, 'Bank A'),
             ('core1-bank-b', 'core1', '10.0.1.0', '10.0.1.1', 65002, 'Bank B'),
             ('border-bank-b', 'border', '10.0.2.0', '10.0.2.1', 65002, 'Bank B')) AS x(n, d, l, r, a, p);
INSERT INTO topology_providers (name) VALUES ('Colt');
INSERT INTO topology_circuits (cid, provider_id) SELECT 'C-1', id FROM topology_providers WHERE name = 'Colt';
INSERT INTO topology_circuit_ends (circuit_id, side, site_id, partner_id)
SELECT c.id, x.side, (SELECT id FROM topology_sites WHERE name = x.site), (SELECT id FROM topology_partners WHERE name = x.partner)
FROM topology_circuits c, (VALUES ('A', 'dc2', NULL), ('Z', NULL, 'Cloud C')) AS x(side, site, partner);
INSERT INTO topology_links (label, a_end_id, b_device_id)
SELECT 'Colt C-1 at dc2', e.id, (SELECT id FROM topology_devices WHERE name = 'core2') FROM topology_circuit_ends e WHERE e.side = 'A';
INSERT INTO topology_risk_groups (name, kind) VALUES ('Bank B routers', 'power_feed');
INSERT INTO topology_risk_members (group_id, device_id)
SELECT g.id, d.id FROM topology_risk_groups g, topology_devices d WHERE d.name IN ('core1', 'border');
"#;

const CATALOG: &str = r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger, title: Ledger }
spec: { type: service, lifecycle: production, owner: group:ledger }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments, title: Payments }
spec: { type: service, lifecycle: production, owner: group:ledger, dependsOn: [component:ledger] }
"#;

pub(crate) async fn estate(app: &TestApp) {
    sqlx::raw_sql(NETWORK).execute(&app.pool()).await.expect("the network");
    app.login_as(Persona::LedgerMember).await;
    let alice = app.login_as(Persona::Admin).await;
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    let files = vec![app::catalog::backstage::SourceFile { path: "catalog-info.yaml".into(), content: CATALOG.into() }];
    let report = app::catalog::import::import_as_system(&app.pool(), files, &meta).await.expect("the catalog");
    assert!(!report.refused(), "{report:?}");
    let post = |path: &'static str, body: Value| {
        let alice = &alice;
        async move {
            let r = alice.client.post(alice.url(path)).header("origin", alice.url("")).json(&body).send().await.expect("post");
            assert_eq!(r.status(), 201, "{path}: {}", r.text().await.unwrap_or_default());
        }
    };
    post("/api/v1/integration-systems", json!({ "name": "bank-a-sftp", "title": "Bank A SFTP", "kind": "file-transfer", "owner": "ledger", "external": "yes", "hosted_by": "Bank A" })).await;
    post("/api/v1/integration-systems", json!({ "name": "ledger-db", "title": "Ledger database", "kind": "internal-service", "owner": "ledger", "component": "ledger" })).await;
    post(
        "/api/v1/integrations",
        json!({ "name": "statement-import", "title": "Bank A statements", "sources": "bank-a-sftp", "targets": "ledger-db", "platform": "in-house",
                "trigger": "schedule", "schedule": "0 6 * * *", "data_format": "csv", "transport": "sftp", "auth": "sftp-key", "owner": "ledger",
                "on_call": "ledger-primary" }),
    )
    .await;
    // a production deploy of payments waits for approval (the worker leaves it alone)
    sqlx::raw_sql(
        "INSERT INTO deploys (id, service_id, environment, version, reason, requester_id, idempotency_key, fingerprint, state)
         SELECT gen_random_uuid(), e.id, 'production', '2.0.0', 'release', u.id, 'blast-test', '\\x00', 'awaiting_approval'
         FROM entities e, users u WHERE e.name = 'payments' AND u.username = 'carol'",
    )
    .execute(&app.pool())
    .await
    .expect("a deploy");
}

/// A deploy of the ledger to `env` at `version`, with the `extra` fields (an override, say).
pub(crate) fn ledger_deploy(env: &str, version: &str, extra: Value) -> Value {
    let mut body = json!({ "service": "ledger", "environment": env, "version": version, "reason": "journal fix" });
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    body
}

async fn blast(app: &TestApp, kind: &str, name: &str) -> Value {
    let dave = app.login_as(Persona::Viewer).await;
    let r = dave.get(&format!("/api/v1/blast-radius?kind={kind}&name={}", urlencoding(name))).await;
    assert_eq!(r.status(), 200, "{kind} {name}");
    r.json().await.expect("json")
}

fn urlencoding(s: &str) -> String {
    s.replace(' ', "%20").replace('/', "%2F")
}

fn names(v: &Value, field: &str) -> Vec<(String, String)> {
    v[field].as_array().expect(field).iter().map(|i| (i["name"].as_str().or(i["entity"].as_str()).unwrap_or_default().to_owned(), i["effect"].as_str().unwrap_or_default().to_owned())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test]
async fn a_device_a_circuit_and_a_risk_group_each_reach_what_they_cut_off_through_every_layer_with_why() {
    let app = spawn_app().await;
    estate(&app).await;

    // edge: Bank A's only way in, so its session, its SFTP system, the statement import, the
    // ledger at that import's other end, and payments, which depends on the ledger
    let edge = blast(&app, "device", "edge").await;
    assert_eq!(edge["devices_lost"], json!(["edge"]));
    assert_eq!(names(&edge, "partners"), pairs(&[("Bank A", "cut_off")]));
    assert_eq!(edge["partners"][0]["why"], "every path from the data centers to it goes through edge");
    assert_eq!(names(&edge, "sessions"), pairs(&[("edge-bank-a", "lost")]));
    assert_eq!(edge["sessions"][0]["why"], "on edge, which fails");
    assert_eq!(names(&edge, "systems"), pairs(&[("bank-a-sftp", "unreachable")]));
    let integration = &edge["integrations"][0];
    assert_eq!((integration["name"].as_str(), integration["why"].as_str(), integration["on_call"].as_str()), (Some("statement-import"), Some("reads from bank-a-sftp"), Some("ledger-primary")));
    let next = chrono::DateTime::parse_from_rfc3339(integration["next_run"].as_str().expect("its next run")).expect("a time");
    assert_eq!(next.format("%H:%M").to_string(), "06:00", "the 06:00 slot");
    let services: Vec<(&str, &str)> = edge["services"].as_array().expect("services").iter().map(|s| (s["entity"].as_str().unwrap_or_default(), s["why"].as_str().unwrap_or_default())).collect();
    assert_eq!(services, [("component:default/ledger", "an end of the integration statement-import"), ("component:default/payments", "depends on component:default/ledger")]);

    let deploys: Vec<(&str, &str, &str)> = edge["deploys"].as_array().expect("deploys").iter().map(|d| (d["service"].as_str().unwrap_or_default(), d["environment"].as_str().unwrap_or_default(), d["state"].as_str().unwrap_or_default())).collect();
    assert_eq!(deploys, [("component:default/payments", "production", "awaiting_approval")]);

    // border: Bank B keeps a path through core1, one where it had two; its session on border is lost
    let border = blast(&app, "device", "border").await;
    assert_eq!(names(&border, "partners"), pairs(&[("Bank B", "single_path")]));
    assert_eq!(names(&border, "sessions"), pairs(&[("border-bank-b", "lost")]));
    for layer in ["systems", "integrations", "services", "deploys"] {
        assert!(border[layer].as_array().expect(layer).is_empty(), "{layer}: {border}");
    }

    // the Colt circuit: Cloud C's only way in
    let circuit = blast(&app, "circuit", "Colt/C-1").await;
    assert_eq!(names(&circuit, "partners"), pairs(&[("Cloud C", "cut_off")]));
    assert_eq!(circuit["partners"][0]["why"], "every path from the data centers to it goes through the circuit Colt/C-1");

    // the risk group fails as one: core1 and border together cut Bank B off, where each alone does not
    let group = blast(&app, "risk-group", "Bank B routers").await;
    assert_eq!(names(&group, "partners"), pairs(&[("Bank B", "cut_off")]));
    assert_eq!(names(&group, "sessions"), pairs(&[("border-bank-b", "lost"), ("core1-bank-b", "lost")]));
    let core1 = blast(&app, "device", "core1").await;
    assert_eq!(names(&core1, "partners"), pairs(&[("Bank B", "single_path")]));

    // a session alone: Bank B keeps the other
    let session = blast(&app, "bgp-session", "core1-bank-b").await;
    assert_eq!(names(&session, "sessions"), pairs(&[("core1-bank-b", "lost")]));
    assert_eq!(names(&session, "partners"), pairs(&[("Bank B", "single_path")]));

    // what is not there, and what is not a kind, are named
    let dave = app.login_as(Persona::Viewer).await;
    assert_eq!(dave.get("/api/v1/blast-radius?kind=device&name=nowhere").await.status(), 404);
    let r = dave.get("/api/v1/blast-radius?kind=planet&name=earth").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap_or_default().contains("kind"));
    assert_eq!(app.browser().get("/api/v1/blast-radius?kind=device&name=edge").await.status(), 401, "signed out");
}

#[tokio::test]
async fn the_reverse_from_a_service_names_the_partners_its_integrations_need_their_paths_and_what_every_path_goes_through() {
    let app = spawn_app().await;
    estate(&app).await;
    let dave = app.login_as(Persona::Viewer).await;

    // the ledger is ledger-db, which the statement import writes to from Bank A's SFTP; Bank A is
    // reached one way: through edge, and its session there
    let r = dave.get("/api/v1/catalog/entities/by-name/component/default/ledger/network").await;
    assert_eq!(r.status(), 200);
    let ledger: Value = r.json().await.expect("json");
    assert_eq!(ledger["entity"], "component:default/ledger");
    assert_eq!(ledger["systems"], json!(["ledger-db"]));
    assert_eq!(
        ledger["integrations"],
        json!([{ "name": "statement-import", "title": "Bank A statements", "system": "bank-a-sftp", "direction": "from", "partner": "Bank A" }])
    );
    let partners = ledger["partners"].as_array().expect("partners");
    assert_eq!(partners.len(), 1, "{ledger}");
    assert_eq!((partners[0]["name"].as_str(), partners[0]["paths"].as_u64(), partners[0]["systems"].clone()), (Some("Bank A"), Some(1), json!(["bank-a-sftp"])));
    let points: Vec<(&str, &str)> = partners[0]["single_points"].as_array().expect("points").iter().map(|p| (p["kind"].as_str().unwrap_or_default(), p["name"].as_str().unwrap_or_default())).collect();
    assert_eq!(points.first(), Some(&("device", "edge")), "the device nearest the data centers first: {points:?}");
    assert_eq!(points.iter().filter(|p| p.0 == "link").count(), 1, "and the session to the bank: {points:?}");
    // the reverse agrees with "if this fails" on each single point
    let edge = blast(&app, "device", "edge").await;
    assert_eq!(names(&edge, "partners"), pairs(&[("Bank A", "cut_off")]));

    // once Bank B hosts the SFTP instead (its owners say so on its form), the ledger needs Bank B,
    // reached two ways: no single point
    let carol = app.login_as(Persona::LedgerMember).await;
    let form = json!({ "title": "Bank A SFTP", "kind": "file-transfer", "owner": "ledger", "external": "yes", "hosted_by": "Bank B" });
    let r = carol.client.put(carol.url("/api/v1/integration-systems/bank-a-sftp")).header("origin", carol.url("")).json(&form).send().await.expect("put");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let ledger: Value = dave.get("/api/v1/catalog/entities/by-name/component/default/ledger/network").await.json().await.expect("json");
    assert_eq!((ledger["partners"][0]["name"].as_str(), ledger["partners"][0]["paths"].as_u64()), (Some("Bank B"), Some(2)), "{ledger}");
    assert_eq!(ledger["partners"][0]["single_points"], json!([]));

    // payments is no system's service: it needs no partner; what is not there is named
    let payments: Value = dave.get("/api/v1/catalog/entities/by-name/component/default/payments/network").await.json().await.expect("json");
    assert_eq!((payments["systems"].clone(), payments["partners"].clone()), (json!([]), json!([])));
    assert_eq!(dave.get("/api/v1/catalog/entities/by-name/component/default/nowhere/network").await.status(), 404);
    assert_eq!(dave.get("/api/v1/catalog/entities/by-name/component/Not_A_Namespace/ledger/network").await.status(), 422);
    assert_eq!(app.browser().get("/api/v1/catalog/entities/by-name/component/default/ledger/network").await.status(), 401, "signed out");
}

/// A run of the statement import that failed, reported as OpenLineage events with the ledger
/// team's ingest token.
async fn failed_run(app: &TestApp) {
    let alice = app.login_as(Persona::Admin).await;
    let token = alice.token("ledger-poller", &["ingest"], Some("ledger")).await;
    let run = uuid::Uuid::now_v7();
    let at = chrono::Utc::now() - chrono::Duration::minutes(10);
    for (kind, t) in [("START", at), ("FAIL", at + chrono::Duration::minutes(1))] {
        let mut e = json!({
            "eventType": kind, "eventTime": t.to_rfc3339(), "run": { "runId": run, "facets": {} },
            "job": { "namespace": "switchyard", "name": "statement-import" },
            "producer": "https://example.com/test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        });
        if kind == "FAIL" {
            e["run"]["facets"]["errorMessage"] = json!({ "message": "SFTP: host key changed", "programmingLanguage": "java" });
        }
        let r = app.client.post(app.url("/api/v1/lineage")).bearer_auth(&token).json(&e).send().await.expect("post");
        assert_eq!(r.status(), 201, "{kind}");
    }
}

#[tokio::test]
async fn a_production_deploy_waiting_for_approval_carries_its_preflight_card_read_in_two_statements() {
    let app = spawn_app().await;
    estate(&app).await;
    failed_run(&app).await;
    let alice = app.login_as(Persona::Admin).await;
    let soon = |h: i64| (chrono::Utc::now() + chrono::Duration::hours(h)).to_rfc3339();
    let r = alice.client.post(alice.url("/api/v1/topology/maintenance")).header("origin", alice.url(""))
        .json(&json!({ "device": "edge", "title": "Line card swap", "reference": "CHG-1", "starts_at": soon(24), "ends_at": soon(26) })).send().await.expect("plan");
    assert_eq!(r.status(), 201);
    // work on a device off every path the ledger needs is not on the card
    let r = alice.client.post(alice.url("/api/v1/topology/maintenance")).header("origin", alice.url(""))
        .json(&json!({ "device": "core1", "title": "Fan tray", "starts_at": soon(30), "ends_at": soon(31) })).send().await.expect("plan");
    assert_eq!(r.status(), 201);

    let carol = app.login_as(Persona::LedgerMember).await;
    let r = carol.kick_off("preflight-1", &json!({ "service": "ledger", "environment": "production", "version": "2.0.0", "reason": "new journal format" })).await;
    assert_eq!(r.status(), 201);
    let deploy: Value = r.json().await.expect("json");
    let approval = deploy["approval_id"].as_str().expect("waits for approval").to_owned();
    let card: Value = alice.get(&format!("/api/v1/approvals/{approval}")).await.json().await.expect("json");
    let groups = card["preflight"].as_array().expect("a pre-flight card");
    let group = |title: &str| groups.iter().find(|g| g["title"].as_str().is_some_and(|t| t.starts_with(title))).unwrap_or_else(|| panic!("{title}: {card}")).clone();
    let fact = |g: &Value, i: usize| (g["facts"][i]["label"].as_str().unwrap_or_default().to_owned(), g["facts"][i]["value"].as_str().unwrap_or_default().to_owned(), g["facts"][i]["warn"].as_bool(), g["facts"][i]["href"].as_str().unwrap_or_default().to_owned());

    let (label, value, warn, href) = fact(&group("Its integrations"), 0);
    assert_eq!((label.as_str(), warn, href.as_str()), ("Bank A statements", Some(true), "/integrations/statement-import"));
    assert!(value.starts_with("failing") && value.contains("host key changed") && value.ends_with("1 of the last 1 runs failed"), "{value}");
    let (label, value, warn, _) = fact(&group("Partners on its path"), 0);
    assert_eq!((label.as_str(), value.as_str(), warn), ("Bank A", "1 of 1 BGP sessions established; 1 independent path from the data centers", Some(true)));
    let (_, value, _, _) = fact(&group("Single points of failure"), 0);
    assert!(value.starts_with("every path goes through edge → "), "{value}");
    let maintenance = group("Maintenance and freezes");
    assert_eq!(maintenance["facts"].as_array().map(Vec::len), Some(1), "only the work on its path: {maintenance}");
    let (label, value, warn, href) = fact(&maintenance, 0);
    assert_eq!((label.as_str(), warn, href.as_str()), ("Line card swap (CHG-1)", Some(true), "/topology/devices/edge"));
    assert!(value.ends_with("a single point of failure to Bank A"), "{value}");
    let last = group("Its last deploys to production");
    assert_eq!((last["facts"].clone(), last["empty"].as_str()), (json!([]), Some("None yet: this is its first.")));
    // the inbox shows the same card
    let inbox: Value = alice.get("/api/v1/approvals?inbox=waiting_for_me").await.json().await.expect("json");
    let listed = inbox.as_array().or(inbox["items"].as_array()).expect("list").iter().find(|a| a["id"] == approval.as_str()).expect("in the inbox").clone();
    assert_eq!(listed["preflight"], card["preflight"]);

    // two statements once the network's analysis is kept: the facts, and the network's version
    let id = uuid::Uuid::parse_str(deploy["id"].as_str().expect("id")).expect("uuid");
    let mut conn = app.pool().acquire().await.expect("conn");
    app::topology::service::preflight::deploy(&mut conn, id, chrono::Utc::now()).await.expect("warm");
    let counter = crate::topology::Statements::default();
    let again = {
        let _guard = tracing::subscriber::set_default(counter.clone());
        app::topology::service::preflight::deploy(&mut conn, id, chrono::Utc::now()).await.expect("card")
    };
    assert_eq!(counter.count(), 2);
    assert_eq!(again.len(), 5);

    // a staging deploy has no card
    let r = carol.kick_off("preflight-2", &json!({ "service": "ledger", "environment": "staging", "version": "2.0.0", "reason": "try it" })).await;
    let staged: Value = r.json().await.expect("json");
    assert!(staged["approval_id"].is_null(), "staging needs no approval: {staged}");
}

#[tokio::test]
async fn a_production_deploy_during_maintenance_on_its_path_is_refused_naming_the_window_unless_an_admin_overrides() {
    let app = spawn_app().await;
    estate(&app).await;
    let alice = app.login_as(Persona::Admin).await;
    let at = |h: i64| (chrono::Utc::now() + chrono::Duration::hours(h)).to_rfc3339();
    // under way now, on the one router to Bank A, whose SFTP the ledger's statement import reads
    let r = alice.client.post(alice.url("/api/v1/topology/maintenance")).header("origin", alice.url(""))
        .json(&json!({ "device": "edge", "title": "Emergency optics swap", "reference": "CHG-9", "starts_at": at(-1), "ends_at": at(2) })).send().await.expect("plan");
    assert_eq!(r.status(), 201);
    let carol = app.login_as(Persona::LedgerMember).await;
    let ask = |env: &str, extra: Value| ledger_deploy(env, "2.0.1", extra);
    let deploys = "SELECT count(*) FROM deploys d JOIN entities e ON e.id = d.service_id WHERE e.name = 'ledger'";

    // production blocks: refused, the window named, nothing written
    let r = carol.kick_off("m-1", &ask("production", json!({}))).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "environment");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("maintenance is under way on its network path (Emergency optics swap (CHG-9) on edge"), "{message}");
    assert!(message.contains("a single point of failure to Bank A"), "{message}");
    assert_eq!(app.count(deploys, &[]).await, 0);
    // a member may not override; staging only warns
    assert_eq!(carol.kick_off("m-2", &ask("production", json!({ "freeze_override": "please" }))).await.status(), 422);
    assert_eq!(carol.kick_off("m-3", &ask("staging", json!({}))).await.status(), 201);
    // a service whose path the work is not on deploys to production
    let r = carol.kick_off("m-4", &json!({ "service": "payments", "environment": "production", "version": "3.0.0", "reason": "r" })).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    // an admin overrides with a reason, and the audit log keeps it with the window
    let r = alice.kick_off("m-5", &ask("production", json!({ "freeze_override": "the fix the bank is waiting for" }))).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'deploy.maintenance_overridden' AND after->>'override_reason' = 'the fix the bank is waiting for' AND after->'windows'->>0 LIKE 'Emergency optics swap (CHG-9) on edge%'";
    assert_eq!(app.count(audited, &[]).await, 1);
    // once the window is over, production takes the deploy as usual (waiting for approval)
    sqlx::query("UPDATE topology_maintenance SET starts_at = now() - interval '3 hours', ends_at = now() - interval '1 hour'").execute(&app.pool()).await.expect("ended");
    assert_eq!(carol.kick_off("m-6", &ask("production", json!({}))).await.status(), 201);
}

/// An owner says on a component's form where it runs (as the `switchyard.dev/sites` annotation),
/// and a failure that loses every site it runs at takes it down, with its dependants.
async fn runs_at(app: &TestApp, component: &str, sites: &str) -> reqwest::Response {
    let carol = app.login_as(Persona::LedgerMember).await;
    let (form, version): (Value, i32) = carol.server_fn("catalog/edit-form", &[("name", component)]).await.json().await.expect("form");
    let mut fields: Vec<(String, String)> = form.as_object().expect("form").iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect();
    fields.retain(|(k, _)| k != "sites");
    fields.push(("sites".into(), sites.into()));
    // the form needs a tier and a lifecycle; the estate's components say none
    for (k, v) in [("tier", "2"), ("lifecycle", "production"), ("entity_type", "service")] {
        if let Some(f) = fields.iter_mut().find(|(key, val)| key == k && val.is_empty()) {
            f.1 = v.to_owned();
        }
    }
    let v = version.to_string();
    let mut post: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post.push(("version", &v));
    carol.server_fn("catalog/edit", &post).await
}

#[tokio::test]
async fn a_lost_site_takes_down_the_services_that_run_only_there_as_their_form_says() {
    let app = spawn_app().await;
    estate(&app).await;
    // a site's name that is none is refused by its field, and nothing is written
    let r = runs_at(&app, "payments", "dc2, dc#2").await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap_or_default();
    assert!(body.contains("sites") && body.contains("is not a site's name"), "{body}");
    let annotated = "SELECT count(*) FROM entities WHERE annotations ? 'switchyard.dev/sites'";
    assert_eq!(app.count(annotated, &[]).await, 0);
    // payments runs at dc2 only; the ledger at both data centers
    assert_eq!(runs_at(&app, "payments", "dc2").await.status(), 200);
    assert_eq!(runs_at(&app, "ledger", "dc2, dc1").await.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM entities WHERE annotations->>'switchyard.dev/sites' = 'dc1, dc2'", &[]).await, 1, "sorted");
    let (form, _): (Value, i32) = app.login_as(Persona::LedgerMember).await.server_fn("catalog/edit-form", &[("name", "payments")]).await.json().await.expect("form");
    assert_eq!(form["sites"], "dc2", "the form shows it again");

    // dc2 lost: payments runs only there; the ledger runs at dc1 too
    let dc2 = blast(&app, "site", "dc2").await;
    assert_eq!(dc2["sites_lost"], json!(["dc2"]));
    let services: Vec<(String, String)> = dc2["services"].as_array().expect("services").iter()
        .map(|s| (s["entity"].as_str().unwrap_or_default().to_owned(), s["why"].as_str().unwrap_or_default().to_owned())).collect();
    assert!(services.contains(&("component:default/payments".into(), "runs only at dc2, which is lost".into())), "{services:?}");
    assert!(!services.iter().any(|(e, _)| e == "component:default/ledger"), "{services:?}");
    // a device whose loss leaves dc2 standing takes nothing down for where it runs
    let border = blast(&app, "device", "border").await;
    assert_eq!(border["sites_lost"], json!([]));
    assert!(!border["services"].as_array().expect("services").iter().any(|s| s["entity"] == "component:default/payments"));
    // both data centers lost (a risk group of every device): the ledger too, and payments, which
    // depends on it, for either reason
    sqlx::raw_sql("INSERT INTO topology_risk_groups (name, kind) VALUES ('everything', 'power_feed');
                   INSERT INTO topology_risk_members (group_id, device_id) SELECT g.id, d.id FROM topology_risk_groups g, topology_devices d WHERE g.name = 'everything';")
        .execute(&app.pool()).await.expect("a risk group");
    let all = blast(&app, "risk-group", "everything").await;
    assert_eq!(all["sites_lost"], json!(["dc1", "dc2"]));
    let ledger = all["services"].as_array().expect("services").iter().find(|s| s["entity"] == "component:default/ledger").expect("the ledger").clone();
    assert!(ledger["why"] == "an end of the integration statement-import" || ledger["why"] == "runs only at dc1, dc2, which are lost", "{ledger}");
}

#[tokio::test]
async fn a_system_reached_through_a_partner_is_unreachable_when_the_partner_is_cut_off_and_says_how() {
    let app = spawn_app().await;
    estate(&app).await;
    let alice = app.login_as(Persona::Admin).await;
    let saas = json!({ "name": "saas-crm", "title": "SaaS CRM", "kind": "crm", "owner": "ledger", "reached_via": "Bank B" });
    let r = alice.client.post(alice.url("/api/v1/integration-systems")).header("origin", alice.url("")).json(&saas).send().await.expect("post");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let b = blast(&app, "partner", "Bank B").await;
    let systems = b["systems"].as_array().expect("systems");
    let crm = systems.iter().find(|s| s["name"] == "saas-crm").unwrap_or_else(|| panic!("{b}"));
    assert_eq!((crm["effect"].as_str(), crm["why"].as_str()), (Some("unreachable"), Some("SaaS CRM: reached through Bank B, which is cut off")));
    // the SFTP Bank A hosts is not Bank B's
    assert!(systems.iter().all(|s| s["name"] != "bank-a-sftp"), "{b}");
    let a = blast(&app, "partner", "Bank A").await;
    assert_eq!(a["systems"][0]["why"], "Bank A SFTP: hosted by Bank A, which is cut off");
}

/// The value of the field `name` of an "as of" answer, then and now.
fn field(v: &Value, name: &str) -> (String, String) {
    let f = v["fields"].as_array().expect("fields").iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no field {name}: {v}"));
    (f["then"].as_str().unwrap_or_default().to_owned(), f["now"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn asked_as_of_a_past_moment_the_blast_radius_the_single_points_and_the_pages_answer_for_the_network_then() {
    let app = spawn_app().await;
    estate(&app).await;
    let dave = app.login_as(Persona::Viewer).await;
    let before: Value = dave.get("/api/v1/topology/single-points-of-failure").await.json().await.expect("json");
    let moment = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let at = moment.replace('+', "%2B");

    // then, in one transaction: Bank A gets a second session, on core1, and Bank D arrives
    sqlx::raw_sql(
        "INSERT INTO topology_partners (name, kind, asns) VALUES ('Bank D', 'bank', '{65004}');
         INSERT INTO topology_bgp_sessions (name, device_id, local_address, local_asn, remote_address, remote_asn, partner_id, state)
         SELECT 'core1-bank-a', d.id, '10.0.3.0', 64999, '10.0.3.1', 65001, p.id, 'established'
         FROM topology_devices d, topology_partners p WHERE d.name = 'core1' AND p.name = 'Bank A'",
    )
    .execute(&app.pool())
    .await
    .expect("a second way to Bank A");

    // now edge cuts nothing off; as of the moment, it cut off Bank A and everything behind it
    let now = blast(&app, "device", "edge").await;
    assert_eq!(names(&now, "partners"), pairs(&[("Bank A", "single_path")]), "{now}");
    assert_eq!(now["as_of"], Value::Null);
    let r = dave.get(&format!("/api/v1/blast-radius?kind=device&name=edge&as_of={at}")).await;
    assert_eq!(r.status(), 200);
    let then: Value = r.json().await.expect("json");
    assert_eq!(names(&then, "partners"), pairs(&[("Bank A", "cut_off")]), "{then}");
    assert_eq!(names(&then, "sessions"), pairs(&[("edge-bank-a", "lost")]));
    assert_eq!(names(&then, "systems"), pairs(&[("bank-a-sftp", "unreachable")]));
    assert_eq!(then["integrations"][0]["name"], "statement-import");
    assert_eq!(chrono::DateTime::parse_from_rfc3339(then["as_of"]["at"].as_str().expect("the moment")).ok(), chrono::DateTime::parse_from_rfc3339(&moment).ok());
    assert_eq!(then["as_of"]["versions_since"], 1, "the transaction's two changes are one version: {then}");
    assert_eq!(then["version"], before["version"]);
    assert!(now["version"].as_i64() > then["version"].as_i64());

    // the single points then and now
    let spof: Value = dave.get(&format!("/api/v1/topology/single-points-of-failure?as_of={at}")).await.json().await.expect("json");
    assert_eq!(spof["devices"], before["devices"], "as it was: {spof}");
    let cuts_bank_a = |v: &Value| v["devices"].as_array().expect("devices").iter().any(|w| w["devices"] == json!(["edge"]) && w["partners"] == json!(["Bank A"]));
    assert!(cuts_bank_a(&spof));
    let current: Value = dave.get("/api/v1/topology/single-points-of-failure").await.json().await.expect("json");
    assert!(!cuts_bank_a(&current), "{current}");

    // the ledger's path to Bank A then and now
    let path = "/api/v1/catalog/entities/by-name/component/default/ledger/network";
    let then_path: Value = dave.get(&format!("{path}?as_of={at}")).await.json().await.expect("json");
    assert_eq!((then_path["partners"][0]["paths"].as_u64(), then_path["partners"][0]["single_points"][0]["name"].as_str()), (Some(1), Some("edge")), "{then_path}");
    let now_path: Value = dave.get(path).await.json().await.expect("json");
    assert_eq!(now_path["partners"][0]["paths"].as_u64(), Some(2));

    // the device's and the partner's pages as they were
    let r = dave.get(&format!("/api/v1/topology/devices/edge/as-of?at={at}")).await;
    assert_eq!(r.status(), 200);
    let edge: Value = r.json().await.expect("json");
    assert_eq!((edge["existed"].as_bool(), edge["changes_since"].as_i64()), (Some(true), Some(1)));
    assert_eq!(field(&edge, "partners it alone cuts off"), ("Bank A".into(), String::new()));
    assert_eq!(field(&edge, "site"), ("dc1".into(), "dc1".into()));
    let bank_a: Value = dave.get(&format!("/api/v1/topology/partners/Bank%20A/as-of?at={at}")).await.json().await.expect("json");
    assert_eq!(field(&bank_a, "independent paths from the data centers"), ("1".into(), "2".into()));
    assert_eq!(field(&bank_a, "BGP sessions"), ("edge-bank-a on edge".into(), "core1-bank-a on core1, edge-bank-a on edge".into()));
    let changed: Vec<&str> = bank_a["fields"].as_array().expect("fields").iter().filter(|f| f["changed"] == true).filter_map(|f| f["name"].as_str()).collect();
    assert!(!changed.contains(&"kind"), "{changed:?}");
    let bank_d: Value = dave.get(&format!("/api/v1/topology/partners/Bank%20D/as-of?at={at}")).await.json().await.expect("json");
    assert_eq!(bank_d["existed"], false, "it came later: {bank_d}");
    let r = dave.get(&format!("/api/v1/blast-radius?kind=partner&name=Bank%20D&as_of={at}")).await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap_or_default().contains("Bank D"));

    // a moment that is not one, one to come, one before the network's past was kept: each a 422 on its field
    for (q, field) in [("as_of=yesterday", "as_of"), ("as_of=2999-01-01T00:00", "as_of"), ("as_of=2001-01-01T00:00", "as_of")] {
        let r = dave.get(&format!("/api/v1/blast-radius?kind=device&name=edge&{q}")).await;
        assert_eq!(r.status(), 422, "{q}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["field"], field, "{q}: {body}");
    }
    let r = dave.get("/api/v1/topology/devices/edge/as-of?at=2001-01-01T00:00").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap_or_default().contains("the network's past is kept from"));
    assert_eq!(app.browser().get(&format!("/api/v1/topology/devices/edge/as-of?at={at}")).await.status(), 401, "signed out");
}
