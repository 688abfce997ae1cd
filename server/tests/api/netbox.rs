//! A sync from a real NetBox (4.7, its demo data: `../shared/peers/netbox/setup.sh`; the
//! netbox-bgp plugin and a bank peering: `server/tests/netbox/with-bgp.sh`), over the API as an
//! admin starts it. It needs that NetBox running, so it is a make target of its own: `make
//! test-netbox` starts the peer and runs the ignored test with `NETBOX_URL` and `NETBOX_TOKEN` set. `make test` applies what that NetBox served, recorded once, through the
//! same sync.
use crate::helpers::{spawn_app_with, Options, Persona, TestApp};
use serde_json::Value;

fn peer() -> (String, String) {
    let url = std::env::var("NETBOX_URL").expect("NETBOX_URL: run through make test-netbox, which starts the NetBox peer");
    let token = std::env::var("NETBOX_TOKEN").expect("NETBOX_TOKEN: run through make test-netbox");
    (url, token)
}

/// Starts a sync and follows it to its end (the job's own progress, not a sleep, says when).
async fn sync(app: &TestApp, dry_run: bool) -> Value {
    let alice = app.login_as(Persona::Admin).await;
    let start = alice
        .client
        .post(alice.url(&format!("/api/v1/topology/sync/netbox{}", if dry_run { "?dry_run=true" } else { "" })))
        .header("origin", alice.url(""))
        .send()
        .await
        .expect("start");
    assert_eq!(start.status(), 202);
    let location = start.headers().get("location").and_then(|l| l.to_str().ok()).expect("location").to_owned();
    // read the job until it says it ended, each read waiting on the server's answer (a NetBox
    // answers in seconds; two minutes is a hang)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let job: Value = alice.get(&location).await.json().await.expect("json");
        match job["state"].as_str() {
            Some("running") if std::time::Instant::now() < deadline => continue,
            Some("succeeded") => return job["report"].clone(),
            other => panic!("the sync ended {other:?} (or hung): {job}"),
        }
    }
}

fn counts(report: &Value, kind: &str) -> [u64; 4] {
    let k = report["kinds"].as_array().and_then(|k| k.iter().find(|k| k["kind"] == kind)).expect(kind);
    ["created", "updated", "unchanged", "removed"].map(|c| k["counts"][c].as_u64().unwrap_or(u64::MAX))
}

#[tokio::test]
#[ignore = "needs a live NetBox: make test-netbox"]
async fn a_netbox_sync_brings_in_the_network_a_second_reports_unchanged_a_change_shows_and_a_dry_run_writes_nothing() {
    let (url, token) = peer();
    let app = spawn_app_with(Options {
        migrate: true,
        settings: vec![("topology.netbox.url", url.clone().into()), ("topology.netbox.token", token.clone().into())],
        ..Options::default()
    })
    .await;
    let version = "SELECT version FROM topology_version";
    // a dry run reports everything as new, and writes nothing
    let before = app.count(version, &[]).await;
    let dry = sync(&app, true).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(counts(&dry, "devices"), [72, 0, 0, 0], "NetBox's demo data: 72 devices");
    assert_eq!(app.count(version, &[]).await, before, "a dry run writes nothing");
    assert_eq!(app.count("SELECT count(*) FROM topology_devices", &[]).await, 0);

    let first = sync(&app, false).await;
    assert_eq!(counts(&first, "sites"), [24, 0, 0, 0]);
    assert_eq!(counts(&first, "interfaces")[0], 1586);
    assert_eq!(counts(&first, "circuits"), [29, 0, 0, 0]);
    assert_eq!(counts(&first, "circuit_ends")[0], 45);
    // the netbox-bgp plugin's sessions (make test-netbox switches it on, with a bank peering)
    assert_eq!(counts(&first, "bgp_sessions"), [2, 0, 0, 0]);
    assert_eq!(counts(&first, "partners"), [1, 0, 0, 0]);
    assert_eq!(app.count("SELECT count(*) FROM topology_bgp_sessions s JOIN topology_partners p ON p.id = s.partner_id WHERE p.name = 'Example Bank'", &[]).await, 2);
    assert_eq!(app.count("SELECT count(*) FROM topology_partners WHERE contacts @> '[{\"name\": \"Example Bank NOC\", \"role\": \"NOC\"}]'", &[]).await, 1);
    let links = app.count("SELECT count(*) FROM topology_links WHERE source = 'netbox'", &[]).await;
    assert!(links > 0 && links <= 108, "cables between interfaces and circuits: {links}");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.sync'", &[]).await, 1);

    let again = sync(&app, false).await;
    assert_eq!(again["changed"], false, "a second sync changes nothing and says so: {again}");
    assert_eq!(counts(&again, "devices"), [0, 0, 72, 0]);

    // a change in NetBox shows as updated
    let client = reqwest::Client::new();
    let auth = if token.starts_with("nbt_") { format!("Bearer {token}") } else { format!("Token {token}") };
    let devices: Value = client.get(format!("{url}/api/dcim/devices/?limit=1&ordering=id")).header("authorization", &auth).send().await.expect("get").json().await.expect("json");
    let device = &devices["results"][0];
    let (id, serial) = (device["id"].as_i64().expect("id"), device["serial"].as_str().unwrap_or("").to_owned());
    let patch = |value: String| {
        let (client, auth) = (client.clone(), auth.clone());
        let url = format!("{url}/api/dcim/devices/{id}/");
        async move {
            let r = client.patch(url).header("authorization", auth).json(&serde_json::json!({ "serial": value })).send().await.expect("patch");
            assert!(r.status().is_success(), "NetBox took the change: {}", r.status());
        }
    };
    patch(format!("{serial}-switchyard-test")).await;
    let changed = sync(&app, false).await;
    patch(serial).await;
    assert_eq!(counts(&changed, "devices"), [0, 1, 71, 0], "{changed}");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.sync'", &[]).await, 2);

    // the schedule's sync, as Switchyard: NetBox is back as it was, so only the serial returns
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    let netbox = app::topology::netbox::NetBox::new(&url, &token).expect("a client");
    let id = app::topology::service::scheduled_netbox_sync(&app.pool(), &netbox, &meta).await.expect("scheduled").expect("it ran");
    let alice = app.login_as(Persona::Admin).await;
    let job: Value = alice.get(&format!("/api/v1/topology/sync/{id}")).await.json().await.expect("json");
    assert_eq!((job["state"].as_str(), job["started_by"].is_null()), (Some("succeeded"), true), "{job}");
    assert_eq!(counts(&job["report"], "devices"), [0, 1, 71, 0]);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.sync' AND actor_id IS NULL", &[]).await, 1);
}

/// What a real NetBox served, recorded once: `fixtures/netbox-4.7.3-demo.json.gz` is the
/// NetBox peer (NetBox 4.7.3 with NetBox's demo data) exported on 2026-12-06 with the peer's
/// `export.py` (every object exactly as NetBox's REST API shapes it, pages of 1,000) with the
/// netbox-bgp plugin on and a bank peering with two demo routers (`server/tests/netbox/record.sh`
/// made it: `make record-netbox`), keeping the kinds a sync reads.
fn recorded() -> std::collections::HashMap<String, Vec<Value>> {
    let gz = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/fixtures/netbox-4.7.3-demo.json.gz")).expect("the recording");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).expect("gzip");
    let mut file: serde_json::Map<String, Value> = serde_json::from_str(&text).expect("json");
    let kinds = [
        ("sites", "dcim/sites"),
        ("racks", "dcim/racks"),
        ("partners", "tenancy/tenants"),
        ("asns", "ipam/asns"),
        ("contacts", "tenancy/contacts"),
        ("contact_assignments", "tenancy/contact-assignments"),
        ("devices", "dcim/devices"),
        ("interfaces", "dcim/interfaces"),
        ("providers", "circuits/providers"),
        ("circuits", "circuits/circuits"),
        ("circuit_ends", "circuits/circuit-terminations"),
        ("links", "dcim/cables"),
        ("bgp_sessions", "plugins/bgp/session"),
    ];
    kinds.into_iter().map(|(kind, path)| (kind.to_owned(), file.remove(path).and_then(|v| v.as_array().cloned()).expect(path))).collect()
}

#[tokio::test]
async fn what_a_real_netbox_served_syncs_in_a_second_sync_changes_nothing_a_change_shows_and_a_dry_run_writes_nothing() {
    let app = crate::helpers::spawn_app().await;
    let pool = app.pool();
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    let mut export = recorded();
    let created = |r: &app::topology::types::SyncReport, kind: &str| r.kinds.iter().find(|k| k.kind == kind).map(|k| k.counts.clone()).expect(kind);

    // a dry run reports what it would make, and makes nothing
    let dry = app::topology::service::apply_netbox_export(&pool, &export, true, &meta).await.expect("dry run");
    assert!(dry.dry_run && dry.changed);
    assert_eq!(created(&dry, "devices").created, 72);
    assert_eq!(app.count("SELECT count(*) FROM topology_devices", &[]).await, 0, "a dry run writes nothing");

    let first = app::topology::service::apply_netbox_export(&pool, &export, false, &meta).await.expect("sync");
    let made: Vec<(&str, u32)> = first.kinds.iter().map(|k| (k.kind.as_str(), k.counts.created)).collect();
    assert_eq!(
        made,
        [("sites", 24), ("racks", 42), ("partners", 1), ("devices", 72), ("interfaces", 1586), ("providers", 9), ("circuits", 29), ("circuit_ends", 45), ("links", 52), ("bgp_sessions", 2)],
        "every kind (the 56 cables to console and power ports are no link; one tenant is in the group partners)"
    );
    // the plugin's sessions, each on its router, to the partner whose ASN answers
    assert_eq!(app.count("SELECT count(*) FROM topology_partners WHERE name = 'Example Bank' AND kind = 'bank' AND asns = '{64512}'", &[]).await, 1);
    let sessions = "SELECT count(*) FROM topology_bgp_sessions s JOIN topology_devices d ON d.id = s.device_id JOIN topology_partners p ON p.id = s.partner_id
                    WHERE p.name = 'Example Bank' AND d.name IN ('dmi01-akron-rtr01', 'dmi01-albany-rtr01') AND s.remote_asn = 64512 AND s.local_asn = 64999";
    assert_eq!(app.count(sessions, &[]).await, 2);
    let noc = "SELECT count(*) FROM topology_partners WHERE name = 'Example Bank' AND contacts @> '[{\"name\": \"Example Bank NOC\", \"role\": \"NOC\", \"email\": \"noc@examplebank.example\"}]'";
    assert_eq!(app.count(noc, &[]).await, 1, "its contact, as NetBox assigns it to the tenant");
    assert!(app.count("SELECT count(*) FROM topology_interfaces WHERE lag_id IS NOT NULL", &[]).await > 0, "LAG members keep their LAG");
    assert!(app.count("SELECT count(*) FROM topology_links WHERE a_end_id IS NOT NULL OR b_end_id IS NOT NULL", &[]).await > 0, "cables to circuits");

    // the same objects again change nothing
    let again = app::topology::service::apply_netbox_export(&pool, &export, false, &meta).await.expect("again");
    assert!(!again.changed, "{:?}", again.kinds);
    assert_eq!(created(&again, "interfaces").unchanged, 1586);

    // a device renamed in NetBox is updated here; a cable gone is removed
    let device = export.get_mut("devices").and_then(|d| d.first_mut()).expect("a device");
    let old = device["name"].as_str().expect("name").to_owned();
    device["name"] = Value::String(format!("{old}-renamed"));
    let cable = export.get_mut("links").expect("cables").iter().position(|c| c["a_terminations"][0]["object_type"] == "dcim.interface" && c["b_terminations"][0]["object_type"] == "dcim.interface").expect("a cable between interfaces");
    export.get_mut("links").expect("cables").remove(cable);
    let third = app::topology::service::apply_netbox_export(&pool, &export, false, &meta).await.expect("third");
    assert_eq!((created(&third, "devices").updated, created(&third, "links").removed), (1, 1));
    let renamed = format!("{old}-renamed");
    assert_eq!(app.count("SELECT count(*) FROM topology_devices WHERE name = $1", &[renamed.as_str()]).await, 1);
}

#[tokio::test]
async fn a_scheduled_sync_runs_as_switchyard_and_a_netbox_that_does_not_answer_is_a_failed_sync_that_writes_nothing() {
    // port 9 (discard) listens nowhere here: the NetBox does not answer
    let app = spawn_app_with(Options {
        migrate: true,
        settings: vec![
            ("topology.netbox.url", "http://127.0.0.1:9".into()),
            ("topology.netbox.token", "0123456789abcdef0123456789abcdef01234567".into()),
            ("topology.netbox.sync_every_secs", 0.2.into()),
        ],
        ..Options::default()
    })
    .await;
    let failed = "SELECT count(*) FROM topology_syncs WHERE requested_by IS NULL AND state = 'failed' AND error LIKE '%NetBox did not answer%'";
    crate::helpers::eventually("a scheduled sync that failed", || async { (app.count(failed, &[]).await > 0).then_some(()) }).await;
    assert_eq!(app.count("SELECT count(*) FROM topology_devices", &[]).await, 0);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.sync'", &[]).await, 0, "a failed sync applies nothing");
    // the admin's panel shows it, as the schedule's
    let alice = app.login_as(Persona::Admin).await;
    let panel = alice.server_fn("topology/netbox-panel", &[]).await;
    assert_eq!(panel.status(), 200);
    let panel: Value = panel.json().await.expect("json");
    assert_eq!(panel["url"], "http://127.0.0.1:9");
    assert_eq!(panel["every_secs"], 0.2);
    let latest = &panel["syncs"][0];
    assert_eq!((latest["state"].as_str(), latest["started_by"].is_null()), (Some("failed"), true), "{panel}");
    // and only admins see the panel: anyone else finds none (and the topology page reads)
    let dave = app.login_as(Persona::Viewer).await;
    let none = dave.server_fn("topology/netbox-panel", &[]).await;
    assert_eq!(none.status(), 200);
    assert!(none.json::<Value>().await.expect("json").is_null());
    assert_eq!(dave.server_fn("topology/netbox-sync", &[("dry_run", "yes")]).await.status(), 403);
    assert_eq!(dave.get("/topology").await.status(), 200);
}
