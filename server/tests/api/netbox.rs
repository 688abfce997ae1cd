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

/// Starts a sync and follows it to its end (the job's own progress, not a sleep, says when): its
/// report.
async fn sync(app: &TestApp, dry_run: bool) -> Value {
    run(app, if dry_run { "?dry_run=true" } else { "" }).await["report"].clone()
}

/// Starts a sync with the query given, and follows it to its end: the job.
async fn run(app: &TestApp, query: &str) -> Value {
    let alice = app.login_as(Persona::Admin).await;
    let start = alice
        .client
        .post(alice.url(&format!("/api/v1/topology/sync/netbox{query}")))
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
            Some("succeeded") => return job,
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

    // the second reads, of interfaces and cables, only what changed since the first
    let job = run(&app, "").await;
    assert!(job["since"].is_string(), "{job}");
    let again = &job["report"];
    assert_eq!(again["changed"], false, "a second sync changes nothing and says so: {again}");
    assert_eq!(counts(again, "devices"), [0, 0, 72, 0]);
    assert_eq!(counts(again, "interfaces"), [0, 0, 1586, 0]);
    assert_eq!(counts(again, "links"), [0, 0, links as u64, 0]);

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

    // read incrementally, a cable NetBox gains shows as new, and one it loses as removed
    let free: Value = client
        .get(format!("{url}/api/dcim/interfaces/?cabled=false&kind=physical&mgmt_only=false&limit=100&ordering=id"))
        .header("authorization", &auth)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let free = free["results"].as_array().expect("results");
    let device = |i: &Value| i["device"]["id"].as_i64();
    let a = free.first().expect("a free interface");
    let b = free.iter().find(|i| device(i) != device(a)).expect("a free interface on another device");
    let ends = |i: &Value| serde_json::json!([{ "object_type": "dcim.interface", "object_id": i["id"] }]);
    let made = client
        .post(format!("{url}/api/dcim/cables/"))
        .header("authorization", &auth)
        .json(&serde_json::json!({ "a_terminations": ends(a), "b_terminations": ends(b), "label": "switchyard-test" }))
        .send()
        .await
        .expect("post");
    assert_eq!(made.status(), 201, "NetBox made the cable");
    let cable = made.json::<Value>().await.expect("json")["id"].as_i64().expect("its id");
    let added = run(&app, "").await;
    let deleted = client.delete(format!("{url}/api/dcim/cables/{cable}/")).header("authorization", &auth).send().await.expect("delete");
    assert!(deleted.status().is_success(), "NetBox removed the cable: {}", deleted.status());
    let gone = run(&app, "").await;
    assert!(added["since"].is_string() && gone["since"].is_string());
    assert_eq!(counts(&added["report"], "links"), [1, 0, links as u64, 0]);
    assert_eq!(counts(&gone["report"], "links"), [0, 0, links as u64, 1]);

    // asked to, a sync reads everything, and finds nothing else changed
    let full = run(&app, "?full=true").await;
    assert!(full["since"].is_null(), "{full}");
    assert_eq!(full["report"]["changed"], false, "{full}");
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

#[tokio::test]
async fn names_that_move_between_netbox_objects_in_one_sync_move_here_too() {
    let app = crate::helpers::spawn_app().await;
    let pool = app.pool();
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    let apply = |export: std::collections::HashMap<String, Vec<Value>>| {
        let (pool, meta) = (pool.clone(), meta.clone());
        async move { app::topology::service::apply_netbox_export(&pool, &export, false, &meta).await }
    };

    // the demo network is a NetBox's export too (ids 1, 2, …): another NetBox whose objects have
    // those ids under other names replaces it, names passing from one row to another
    apply(server::demo_network::export()).await.expect("the demo network");
    apply(recorded()).await.expect("the recorded NetBox over the demo network");
    assert_eq!(app.count("SELECT count(*) FROM topology_devices", &[]).await, 72);
    assert_eq!(app.count("SELECT count(*) FROM topology_providers", &[]).await, 9);
    assert_eq!(app.count("SELECT count(*) FROM topology_devices WHERE name = 'ldn-eq-core-1'", &[]).await, 0, "the demo's devices are gone");

    // then in NetBox two devices, two sites and two providers swap names, a device takes a third's
    // name as that one is renamed, two interfaces of a device swap names, and a circuit's ends swap sides
    let mut export = recorded();
    let name = |o: &Value| o["name"].as_str().expect("name").to_owned();
    let swap = |list: &mut Vec<Value>, a: usize, b: usize, field: &str| {
        let (x, y) = (list[a][field].clone(), list[b][field].clone());
        list[a][field] = y;
        list[b][field] = x;
    };
    let devices = export.get_mut("devices").expect("devices");
    let (d0, d1, d2) = (name(&devices[0]), name(&devices[1]), name(&devices[2]));
    swap(devices, 0, 1, "name");
    devices[2]["name"] = Value::String(d0.clone() + "-old");
    devices[3]["name"] = Value::String(d2.clone());
    let sites = export.get_mut("sites").expect("sites");
    let (s0, s1) = (name(&sites[0]), name(&sites[1]));
    swap(sites, 0, 1, "name");
    let providers = export.get_mut("providers").expect("providers");
    let (p0, p1) = (name(&providers[0]), name(&providers[1]));
    swap(providers, 0, 1, "name");
    let interfaces = export.get_mut("interfaces").expect("interfaces");
    let device_of = |i: &Value| i["device"]["id"].as_i64();
    let (i0, i1) = (0..interfaces.len())
        .flat_map(|a| (a + 1..interfaces.len()).map(move |b| (a, b)))
        .find(|(a, b)| device_of(&interfaces[*a]) == device_of(&interfaces[*b]))
        .expect("a device with two interfaces");
    let (n0, n1) = (name(&interfaces[i0]), name(&interfaces[i1]));
    swap(interfaces, i0, i1, "name");
    let ends = export.get_mut("circuit_ends").expect("circuit terminations");
    let circuit_of = |t: &Value| t["circuit"]["id"].as_i64();
    let (e0, e1) = (0..ends.len())
        .flat_map(|a| (a + 1..ends.len()).map(move |b| (a, b)))
        .find(|(a, b)| circuit_of(&ends[*a]) == circuit_of(&ends[*b]))
        .expect("a circuit with both ends");
    let (a_id, z_id) = (ends[e0]["id"].to_string(), ends[e1]["id"].to_string());
    swap(ends, e0, e1, "term_side");
    let (a_side, z_side) = (ends[e0]["term_side"].as_str().expect("side").to_owned(), ends[e1]["term_side"].as_str().expect("side").to_owned());

    let report = apply(export).await.expect("the names move in one sync");
    let updated = |kind: &str| report.kinds.iter().find(|k| k.kind == kind).map(|k| k.counts.updated).expect(kind);
    assert_eq!((updated("devices"), updated("sites"), updated("providers"), updated("interfaces"), updated("circuit_ends")), (4, 2, 2, 2, 2));
    // each name is now on the row it moved to (the row NetBox's id names)
    let recorded = recorded();
    let sid = |kind: &str, i: usize| recorded[kind][i]["id"].to_string();
    let holds = |table: &'static str, name: String, sid: String| {
        let app = &app;
        async move { app.count(&format!("SELECT count(*) FROM {table} WHERE name = $1 AND source = 'netbox' AND source_id = $2"), &[&name, &sid]).await }
    };
    assert_eq!((holds("topology_devices", d0.clone(), sid("devices", 1)).await, holds("topology_devices", d1, sid("devices", 0)).await), (1, 1));
    assert_eq!((holds("topology_devices", d2, sid("devices", 3)).await, holds("topology_devices", d0 + "-old", sid("devices", 2)).await), (1, 1));
    assert_eq!((holds("topology_sites", s0, sid("sites", 1)).await, holds("topology_sites", s1, sid("sites", 0)).await), (1, 1));
    assert_eq!((holds("topology_providers", p0, sid("providers", 1)).await, holds("topology_providers", p1, sid("providers", 0)).await), (1, 1));
    assert_eq!((holds("topology_interfaces", n0, sid("interfaces", i1)).await, holds("topology_interfaces", n1, sid("interfaces", i0)).await), (1, 1));
    let side = "SELECT count(*) FROM topology_circuit_ends WHERE source_id = $1 AND side = $2";
    assert_eq!((app.count(side, &[&a_id, &a_side]).await, app.count(side, &[&z_id, &z_side]).await), (1, 1));
}
