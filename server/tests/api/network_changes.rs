//! The network team's changes over the API, on the demo network: maintenance windows, the
//! systems partners host (which the systems' owners say), interface states from a collector, device edits and removals, with
//! PCI-scope edits and removals towards partners waiting for approval.
use crate::helpers::{spawn_app, Browser, Persona, TestApp};
use serde_json::{json, Value};

async fn demo_network(app: &TestApp) {
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    app::topology::service::apply_netbox_export(&app.pool(), &server::demo_network::export(), false, &meta).await.expect("the demo network");
}

async fn send(b: &Browser, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut r = b.client.request(method, b.url(path)).header("origin", b.url(""));
    if let Some(body) = body {
        r = r.json(&body);
    }
    r.send().await.expect("request")
}

async fn refused(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    (status, body["error"]["field"].as_str().unwrap_or("").to_owned(), body["error"]["message"].as_str().unwrap_or("").to_owned())
}

fn soon(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339()
}

#[tokio::test]
async fn maintenance_goes_on_a_device_a_circuit_or_a_site_bad_input_is_named_and_only_the_network_team_plans_it() {
    let app = spawn_app().await;
    demo_network(&app).await;
    let nina = app.login_as(Persona::NetworkMember).await;
    let notice = json!({ "circuit": { "provider": "Colt", "cid": "COLT-DB-401" }, "kind": "carrier_notice", "title": "Fibre repair",
                         "reference": "COLT-PWIC-1", "starts_at": soon(24), "ends_at": soon(28) });
    let r = send(&nina, reqwest::Method::POST, "/api/v1/topology/maintenance", Some(notice)).await;
    assert_eq!(r.status(), 201);
    let w: Value = r.json().await.expect("json");
    assert_eq!((w["subject_kind"].as_str(), w["subject"].as_str(), w["created_by"].as_str()), (Some("circuit"), Some("Colt COLT-DB-401"), Some("nina")), "{w}");
    // a browser's date-and-time field, taken as UTC
    let site = json!({ "site": "fra1", "title": "UPS work, feed A", "starts_at": "2099-01-02T03:00", "ends_at": "2099-01-02T05:30" });
    assert_eq!(send(&nina, reqwest::Method::POST, "/api/v1/topology/maintenance", Some(site)).await.status(), 201);

    // every problem by its field, and nothing written
    let windows = "SELECT count(*) FROM topology_maintenance";
    for (body, field, says) in [
        (json!({ "device": "fra1-border-1", "site": "fra1", "title": "x", "starts_at": soon(1), "ends_at": soon(2) }), "device", ""),
        (json!({ "device": "nowhere-1", "title": "x", "starts_at": soon(1), "ends_at": soon(2) }), "device", "there is no device \"nowhere-1\""),
        (json!({ "device": "fra1-border-1", "title": " ", "starts_at": soon(1), "ends_at": soon(2) }), "title", ""),
        (json!({ "device": "fra1-border-1", "title": "x", "starts_at": "Tuesday", "ends_at": soon(2) }), "starts_at", ""),
        (json!({ "device": "fra1-border-1", "title": "x", "starts_at": soon(3), "ends_at": soon(2) }), "ends_at", ""),
        (json!({ "device": "fra1-border-1", "title": "x", "starts_at": soon(1), "ends_at": soon(24 * 40) }), "ends_at", "at most 31 days"),
        (json!({ "device": "fra1-border-1", "title": "x", "kind": "whim", "starts_at": soon(1), "ends_at": soon(2) }), "kind", "\"whim\" is not a kind"),
        (json!({ "circuit": { "provider": "Colt", "cid": "NOPE" }, "title": "x", "starts_at": soon(1), "ends_at": soon(2) }), "circuit", "there is no circuit"),
    ] {
        let (status, f, message) = refused(send(&nina, reqwest::Method::POST, "/api/v1/topology/maintenance", Some(body.clone())).await).await;
        assert_eq!((status, f.as_str()), (422, field), "{body}: {message}");
        assert!(message.contains(says), "{message}");
    }
    assert_eq!(app.count(windows, &[]).await, 2, "nothing written");
    let dave = app.login_as(Persona::Viewer).await;
    let theirs = json!({ "device": "fra1-border-1", "title": "Mine", "starts_at": soon(1), "ends_at": soon(2) });
    assert_eq!(send(&dave, reqwest::Method::POST, "/api/v1/topology/maintenance", Some(theirs)).await.status(), 403);
    assert_eq!(app.count(windows, &[]).await, 2);

    // on the calendar, and on the pages of what it touches
    let list: Value = dave.get("/api/v1/topology/maintenance").await.json().await.expect("json");
    let titles: Vec<&str> = list["items"].as_array().expect("items").iter().filter_map(|w| w["title"].as_str()).collect();
    assert_eq!(titles, ["Fibre repair"], "the next four weeks");
    let later: Value = dave.get("/api/v1/topology/maintenance?from=2099-01-01T00:00:00Z&until=2099-01-03T00:00:00Z").await.json().await.expect("json");
    assert_eq!(later["items"][0]["site"], "fra1");
    let circuit: Value = dave.get("/api/v1/topology/circuits/Colt/COLT-DB-401").await.json().await.expect("json");
    assert_eq!(circuit["maintenance"][0]["reference"], "COLT-PWIC-1");
    let device: Value = dave.get("/api/v1/topology/devices/fra1-border-1").await.json().await.expect("json");
    assert_eq!(device["maintenance"][0]["title"], "UPS work, feed A", "its site's work touches it");
    let elsewhere: Value = dave.get("/api/v1/topology/devices/iad1-border-1").await.json().await.expect("json");
    assert_eq!(elsewhere["maintenance"], json!([]));
    let r = dave.get("/api/v1/topology/maintenance?from=soon").await;
    assert_eq!(refused(r).await.1, "from");

    // cancelled by the network team, with the audit rows
    let id = w["id"].as_str().expect("id");
    assert_eq!(send(&dave, reqwest::Method::DELETE, &format!("/api/v1/topology/maintenance/{id}"), None).await.status(), 403);
    assert_eq!(send(&nina, reqwest::Method::DELETE, &format!("/api/v1/topology/maintenance/{id}"), None).await.status(), 204);
    assert_eq!(send(&nina, reqwest::Method::DELETE, &format!("/api/v1/topology/maintenance/{id}"), None).await.status(), 404);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.maintenance.plan' AND actor_name = 'nina'", &[]).await, 2);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.maintenance.cancel' AND subject_id = $1", &[id]).await, 1);
}

#[tokio::test]
async fn a_system_says_on_its_form_and_in_yaml_which_partner_hosts_it_or_carries_it_and_the_partner_lists_it() {
    let app = crate::helpers::spawn_app_with_demo_data().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    // the demo's bank and card-network systems say who hosts them, and Salesforce which cloud carries it
    let barclays: Value = carol.get("/api/v1/topology/partners/Barclays").await.json().await.expect("json");
    assert_eq!(barclays["systems"], json!([{ "name": "bank-sftp-barclays", "title": "Barclays SFTP", "kind": "bank", "relation": "hosted_by" }]));
    let aws: Value = carol.get("/api/v1/topology/partners/AWS").await.json().await.expect("json");
    assert_eq!(aws["systems"], json!([{ "name": "salesforce", "title": "Salesforce", "kind": "crm", "relation": "reached_via" }]));
    let sftp: Value = carol.get("/api/v1/integration-systems/bank-sftp-barclays").await.json().await.expect("json");
    assert_eq!((sftp["system"]["hosted_by"].as_str(), sftp["system"]["reached_via"].as_str()), (Some("Barclays"), None), "{sftp}");

    // the forms offer the partners' names
    let offered: Vec<String> = carol.server_fn("topology/partner-names", &[]).await.json().await.expect("json");
    assert_eq!(offered, vec!["AWS", "Barclays", "Deutsche Bank", "J.P. Morgan", "Mastercard", "Visa"]);
    // NetSuite (the ledger team's) says it is reached through AWS: a partner not there is named, and nothing written
    let form = |reached_via: &str| json!({ "title": "NetSuite", "kind": "erp", "vendor": "Oracle", "owner": "ledger", "classification": "confidential",
                                           "external": "yes", "environment": "production", "reached_via": reached_via });
    let written = "SELECT count(*) FROM audit_log WHERE action = 'integration_system.updated' AND subject_kind = 'integration_system'";
    let before = app.count(written, &[]).await;
    let (status, field, message) = refused(send(&carol, reqwest::Method::PUT, "/api/v1/integration-systems/netsuite", Some(form("Nowhere Bank"))).await).await;
    assert_eq!((status, field.as_str()), (422, "reached_via"));
    assert!(message.contains("no partner named \"Nowhere Bank\""), "{message}");
    assert_eq!(app.count(written, &[]).await, before);
    // only its owners (or an admin) say so: not the network team, nor a viewer
    for who in [Persona::NetworkMember, Persona::Viewer] {
        let r = send(&app.login_as(who).await, reqwest::Method::PUT, "/api/v1/integration-systems/netsuite", Some(form("AWS"))).await;
        assert_eq!(r.status(), 403);
    }
    let r = send(&carol, reqwest::Method::PUT, "/api/v1/integration-systems/netsuite", Some(form("AWS"))).await;
    assert_eq!(r.status(), 200);
    let netsuite: Value = r.json().await.expect("json");
    assert_eq!(netsuite["system"]["reached_via"], "AWS", "{netsuite}");
    let aws: Value = carol.get("/api/v1/topology/partners/AWS").await.json().await.expect("json");
    let names: Vec<&str> = aws["systems"].as_array().expect("systems").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, vec!["netsuite", "salesforce"]);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'integration_system.updated' AND actor_name = 'carol' AND after->>'reached_via' = 'AWS'", &[]).await, 1);
    // the partner's page: the integrations with the systems behind it, and the history of all of it
    let flows: Value = carol.get("/api/v1/integrations?partner=AWS").await.json().await.expect("json");
    let mut names: Vec<&str> = flows["items"].as_array().expect("items").iter().filter_map(|i| i["name"].as_str()).collect();
    names.sort_unstable();
    assert!(names.contains(&"workday-payroll-to-netsuite") && names.contains(&"sfdc-accounts-to-netsuite"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("camt053")), "no bank's flow: {names:?}");
    let history: Value = carol.server_fn("topology/partner-history", &[("name", "AWS")]).await.json().await.expect("json");
    let actions: Vec<(&str, &str)> = history["entries"].as_array().expect("rows").iter().map(|r| (r["action"].as_str().unwrap_or_default(), r["actor_name"].as_str().unwrap_or_default())).collect();
    assert_eq!(actions.first(), Some(&("integration_system.updated", "carol")), "newest first: {actions:?}");
    assert!(actions.iter().any(|a| a.0 == "integration.registered"), "the integrations to its systems too: {actions:?}");
    assert_eq!(history["entries"][0]["source_ip"], "", "where a change came from is for admins");
    // each subject by its name, with its page
    let netsuite_id = history["entries"][0]["subject_id"].as_str().unwrap_or_default();
    let label = history["labels"].as_array().expect("labels").iter().find(|l| l["id"] == netsuite_id).cloned().unwrap_or(Value::Null);
    assert_eq!((label["label"].as_str(), label["href"].as_str()), (Some("netsuite"), Some("/integrations/systems/netsuite")), "{label}");
    assert_eq!(carol.server_fn("topology/partner-history", &[("name", "Nobody")]).await.status(), 404);

    // maintenance on a partner's path in the coming weeks, with what it does to the partner
    let deutsche: Value = carol.get("/api/v1/topology/partners/Deutsche%20Bank").await.json().await.expect("json");
    let windows: Vec<(&str, &str)> = deutsche["maintenance"].as_array().expect("maintenance").iter()
        .map(|w| (w["window"]["reference"].as_str().unwrap_or_default(), w["effect"].as_str().unwrap_or_default())).collect();
    assert!(windows.contains(&("CHG-2304", "cut_off")), "the extranet router's line card swap cuts Deutsche Bank off: {windows:?}");
    let barclays: Value = carol.get("/api/v1/topology/partners/Barclays").await.json().await.expect("json");
    let windows: Vec<(&str, &str)> = barclays["maintenance"].as_array().expect("maintenance").iter()
        .map(|w| (w["window"]["reference"].as_str().unwrap_or_default(), w["effect"].as_str().unwrap_or_default())).collect();
    assert!(windows.contains(&("COLT-PWIC-58213", "single_path")), "the fibre repair leaves Barclays one path: {windows:?}");

    // in YAML, as spec.hostedBy and spec.reachedVia: a partner not there refuses that system alone, by its place
    let yaml = r#"apiVersion: switchyard.dev/v1alpha1
kind: IntegrationSystem
metadata: { name: bank-sftp-new, title: New bank SFTP }
spec: { kind: bank, owner: ledger, hostedBy: Deutsche Bank }
---
apiVersion: switchyard.dev/v1alpha1
kind: IntegrationSystem
metadata: { name: bank-sftp-odd, title: Odd bank SFTP }
spec: { kind: bank, owner: ledger, hostedBy: Odd Bank }
"#;
    let alice = app.login_as(Persona::Admin).await;
    let upload = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::text(yaml).file_name("systems.yaml"));
    let r = alice.client.post(alice.url("/api/v1/catalog/import")).header("origin", alice.url("")).multipart(upload).send().await.expect("import");
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.expect("report");
    let outcome = |entity: &str| report["items"].as_array().and_then(|i| i.iter().find(|i| i["entity"] == entity)).cloned().unwrap_or(Value::Null);
    assert_eq!(outcome("integrationsystem:bank-sftp-new")["outcome"], "created", "{report}");
    assert_eq!(outcome("integrationsystem:bank-sftp-odd")["outcome"], "refused", "{report}");
    assert!(outcome("integrationsystem:bank-sftp-odd")["messages"].to_string().contains("spec.hostedBy: no partner named \\\"Odd Bank\\\""), "{report}");
    let deutsche: Value = carol.get("/api/v1/topology/partners/Deutsche%20Bank").await.json().await.expect("json");
    let names: Vec<&str> = deutsche["systems"].as_array().expect("systems").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, vec!["bank-sftp-deutsche", "bank-sftp-new"]);

    // a second demo load changes nothing: no window twice
    let before = app.count("SELECT count(*) FROM topology_maintenance", &[]).await;
    assert_eq!(before, 4, "the demo's four windows");
    server::db::load_demo_data(&app.pool(), 1).await.expect("the demo again");
    assert_eq!(app.count("SELECT count(*) FROM topology_maintenance", &[]).await, before);
}

#[tokio::test]
async fn a_collector_reports_interface_states_each_change_kept_bad_input_named_and_scope_enforced() {
    let app = spawn_app().await;
    demo_network(&app).await;
    // the network team exists once one of its members has signed in
    let _nina = app.login_as(Persona::NetworkMember).await;
    let alice = app.login_as(Persona::Admin).await;
    let collector = alice.token("snmp-collector", &["network_state"], Some("network")).await;
    let reader = alice.token("reader", &["read"], None).await;
    let send = |token: &str, body: Value| {
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/topology/interfaces/state"), token.to_owned());
        async move { client.post(url).bearer_auth(token).json(&body).send().await.expect("post") }
    };
    let now = chrono::Utc::now();
    let t = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();
    let one = |state: &str, at: String| json!({ "device": "fra1-border-1", "interface": "et-0/0/0", "state": state, "at": at });

    assert_eq!(send(&reader, json!([one("up", t(1))])).await.status(), 403, "a token without the network-state scope");
    for (body, field) in [
        (json!([one("up", t(2)), one("sideways", t(1))]), "/1/state"),
        (json!([{ "device": "fra1-border-1", "state": "up" }]), "/0/interface"),
        (json!([one("down", (now + chrono::Duration::hours(1)).to_rfc3339())]), "/0/at"),
        (json!([]), "/"),
    ] {
        let (status, f, _) = refused(send(&collector, body).await).await;
        assert_eq!((status, f.as_str()), (422, field));
    }
    assert_eq!(app.count("SELECT count(*) FROM topology_interface_states", &[]).await, 0, "nothing written");

    let batch = json!([one("down", t(3)), one("up", t(5)), { "device": "fra1-border-1", "interface": "et-9/9/9", "state": "up" }, one("up", t(2))]);
    let outcome: Value = send(&collector, batch).await.json().await.expect("json");
    assert_eq!((outcome["received"].as_u64(), outcome["changed"].as_u64()), (Some(3), Some(3)), "{outcome}");
    assert_eq!(outcome["unknown"], json!([{ "index": 2, "device": "fra1-border-1", "interface": "et-9/9/9" }]));
    let stale: Value = send(&collector, json!([one("down", t(10))])).await.json().await.expect("json");
    assert_eq!(stale["stale"], 1);

    let history: Value = alice.get("/api/v1/topology/devices/fra1-border-1/interface-states?interface=et-0/0/0").await.json().await.expect("json");
    let seen: Vec<(bool, Option<bool>)> = history["changes"].as_array().expect("changes").iter().map(|c| (c["up"].as_bool().unwrap_or(false), c["previous"].as_bool())).collect();
    assert_eq!(seen, [(true, Some(false)), (false, Some(true)), (true, None)], "newest first, each with what it left");
    let device: Value = alice.get("/api/v1/topology/devices/fra1-border-1").await.json().await.expect("json");
    let iface = device["interfaces"].as_array().expect("interfaces").iter().find(|i| i["name"] == "et-0/0/0").expect("et-0/0/0");
    assert_eq!(iface["oper_up"], true);
    assert_eq!(device["interface_changes"].as_array().map(Vec::len), Some(3));
    assert_eq!(alice.get("/api/v1/topology/devices/nowhere/interface-states").await.status(), 404);
    assert_eq!(alice.get("/api/v1/topology/devices/fra1-border-1/interface-states?limit=0").await.status(), 422);
}

#[tokio::test]
async fn edits_of_pci_devices_and_removals_towards_partners_wait_for_approval_the_rest_is_made_at_once() {
    let app = spawn_app().await;
    demo_network(&app).await;
    let (nina, alice, dave) = (app.login_as(Persona::NetworkMember).await, app.login_as(Persona::Admin).await, app.login_as(Persona::Viewer).await);
    let status_of = |name: &str| format!("SELECT count(*) FROM topology_devices WHERE name = '{name}' AND status = 'offline'");

    // a device out of PCI scope: at once, with its audit row
    let r = send(&nina, reqwest::Method::PATCH, &format!("/api/v1/topology/devices/{}", "fra1-spine-1"), Some(json!({ "status": "offline" }))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count(&status_of("fra1-spine-1"), &[]).await, 1);
    assert_eq!(send(&dave, reqwest::Method::PATCH, &format!("/api/v1/topology/devices/{}", "fra1-spine-1"), Some(json!({ "status": "active" }))).await.status(), 403);
    let (status, field, _) = refused(send(&nina, reqwest::Method::PATCH, &format!("/api/v1/topology/devices/{}", "fra1-spine-1"), Some(json!({ "status": "melted" }))).await).await;
    assert_eq!((status, field.as_str()), (422, "status"));

    // a device in PCI scope: only with a reason, then only once approved
    let mut db = app.db().await;
    let hsm: String = sqlx::query_scalar("SELECT name FROM topology_devices WHERE pci_scope AND name LIKE '%-hsm-%' ORDER BY name LIMIT 1").fetch_one(&mut db).await.expect("an HSM");
    let (status, field, _) = refused(send(&nina, reqwest::Method::PATCH, &format!("/api/v1/topology/devices/{}", &hsm), Some(json!({ "status": "offline" }))).await).await;
    assert_eq!((status, field.as_str()), (422, "reason"));
    let r = send(&nina, reqwest::Method::PATCH, &format!("/api/v1/topology/devices/{}", &hsm), Some(json!({ "status": "offline", "reason": "Firmware replacement" }))).await;
    assert_eq!(r.status(), 202);
    let waiting: Value = r.json().await.expect("json");
    assert_eq!(waiting["applied"], false);
    assert_eq!(app.count(&status_of(&hsm), &[]).await, 0, "not changed before approval");
    let (status, field, _) = refused(send(&nina, reqwest::Method::PATCH, &format!("/api/v1/topology/devices/{}", &hsm), Some(json!({ "status": "offline", "reason": "again" }))).await).await;
    assert_eq!((status, field.as_str()), (422, "request"), "one request at a time");
    let approval = waiting["approval_id"].as_str().expect("approval");
    let card: Value = alice.get(&format!("/api/v1/approvals/{approval}")).await.json().await.expect("json");
    assert!(card.to_string().contains("A device in PCI scope"), "{card}");
    assert_eq!(alice.decide(approval, "approve", "ok").await.status(), 200);
    assert_eq!(app.count(&status_of(&hsm), &[]).await, 1, "made once approved");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.device.edit' AND subject_id = $1 AND actor_name = 'alice'", &[hsm.as_str()]).await, 1);

    // a link towards a partner waits; one between our own devices goes at once
    let device: Value = nina.get("/api/v1/topology/devices/ldn-eq-ext-1").await.json().await.expect("json");
    let links = device["links"].as_array().expect("links");
    let to_bank = links.iter().find(|l| l["partner"] == "Deutsche Bank").expect("the link to Deutsche Bank's circuit");
    let inside = links.iter().find(|l| l["partner"].is_null() && l["circuit"].is_null()).expect("a link inside");
    let bank_link = format!("/api/v1/topology/links/{}", to_bank["id"].as_str().expect("id"));
    assert_eq!(refused(send(&nina, reqwest::Method::DELETE, &bank_link, None).await).await.1, "reason");
    let r = send(&nina, reqwest::Method::DELETE, &format!("{bank_link}?reason=Circuit%20retired"), None).await;
    assert_eq!(r.status(), 202);
    let links_now = "SELECT count(*) FROM topology_links";
    let before = app.count(links_now, &[]).await;
    let waiting: Value = r.json().await.expect("json");
    assert_eq!(alice.decide(waiting["approval_id"].as_str().expect("approval"), "approve", "ok").await.status(), 200);
    assert_eq!(app.count(links_now, &[]).await, before - 1);
    let r = send(&nina, reqwest::Method::DELETE, &format!("/api/v1/topology/links/{}", inside["id"].as_str().expect("id")), None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count(links_now, &[]).await, before - 2);
    assert_eq!(send(&dave, reqwest::Method::DELETE, &format!("/api/v1/topology/links/{}", inside["id"].as_str().expect("id")), None).await.status(), 403);

    // a session to a partner waits; a rejected request changes nothing
    let session = device["sessions"].as_array().expect("sessions").iter().find(|s| s["partner"] == "Deutsche Bank").expect("a session").clone();
    let path = format!("/api/v1/topology/bgp-sessions/{}?reason=Peering%20moves", session["name"].as_str().expect("name"));
    let r = send(&nina, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(r.status(), 202);
    let waiting: Value = r.json().await.expect("json");
    assert_eq!(alice.decide(waiting["approval_id"].as_str().expect("approval"), "reject", "not yet").await.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM topology_bgp_sessions WHERE name = $1", &[session["name"].as_str().unwrap_or("")]).await, 1);
    assert_eq!(send(&nina, reqwest::Method::DELETE, "/api/v1/topology/bgp-sessions/nobody", None).await.status(), 404);
}
