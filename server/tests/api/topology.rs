//! The network over real HTTP: GraphML drawings in (the Internet Topology Zoo's, read where they
//! lie, and small hand-made ones), who may import, and what the shape says: single points of
//! failure, paths, each partner's redundancy, each read in a fixed number of statements.
use crate::helpers::{spawn_app, Browser, Persona, TestApp};
use app::iam::principal::{Principal, Via};
use app::iam::types::{Role, UserId};
use serde_json::Value;
use std::sync::atomic::Ordering;
use uuid::Uuid;

async fn import(b: &Browser, name: &str, text: String, query: &str) -> reqwest::Response {
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::text(text).file_name(name.to_owned()));
    b.client
        .post(b.url(&format!("/api/v1/topology/import/graphml{query}")))
        .header("origin", b.url(""))
        .multipart(form)
        .send()
        .await
        .expect("import")
}

fn zoo(file: &str) -> String {
    let dir = std::env::var("PEER_DATA").expect("PEER_DATA names the shared peer-data folder (the Makefile sets it)");
    std::fs::read_to_string(format!("{dir}/topology-zoo/{file}")).expect("a Topology Zoo file")
}

fn counts(report: &Value, kind: &str) -> [u64; 4] {
    ["created", "updated", "unchanged", "removed"].map(|c| report[kind][c].as_u64().unwrap_or(u64::MAX))
}

async fn version(app: &TestApp) -> i64 {
    app.count("SELECT version FROM topology_version", &[]).await
}

#[tokio::test]
async fn a_zoo_network_imports_once_a_second_import_changes_nothing_and_a_dry_run_writes_nothing() {
    let app = spawn_app().await;
    let nina = app.login_as(Persona::NetworkMember).await;
    let arnes = zoo("Arnes.graphml");
    // a dry run reports what would be made, and makes nothing
    let before = version(&app).await;
    let dry: Value = import(&nina, "Arnes.graphml", arnes.clone(), "?dry_run=true").await.json().await.expect("json");
    assert_eq!((dry["dry_run"].as_bool(), dry["site"].as_str()), (Some(true), Some("ARNES")), "the graph's Network names the site");
    assert_eq!(counts(&dry, "devices"), [34, 0, 0, 0]);
    assert_eq!(counts(&dry, "links"), [47, 0, 0, 0], "the one pair joined twice is two links");
    assert_eq!(version(&app).await, before, "a dry run writes nothing");
    assert_eq!(app.count("SELECT count(*) FROM topology_devices", &[]).await, 0);

    let r = import(&nina, "Arnes.graphml", arnes.clone(), "").await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.expect("json");
    assert_eq!((counts(&first, "devices"), counts(&first, "links")), ([34, 0, 0, 0], [47, 0, 0, 0]));
    assert!(first["problems"].as_array().is_some_and(Vec::is_empty), "{}", first["problems"]);
    assert_eq!(app.count("SELECT count(*) FROM topology_links WHERE source = 'graphml:ARNES'", &[]).await, 47);
    let audited = "SELECT count(*) FROM audit_log WHERE action = 'topology.import'";
    assert_eq!(app.count(audited, &[]).await, 1);

    let after_first = version(&app).await;
    let again: Value = import(&nina, "Arnes.graphml", arnes.clone(), "").await.json().await.expect("json");
    assert_eq!((counts(&again, "devices"), counts(&again, "links")), ([0, 0, 34, 0], [0, 0, 47, 0]), "the same file changes nothing");
    assert_eq!(version(&app).await, after_first);
    assert_eq!(app.count(audited, &[]).await, 1, "and writes no audit row");

    // the file changed: one node renamed, one edge gone
    let changed = arnes.replacen("<edge id=\"e0\"", "<edge id=\"gone\"", 1).replacen(">Ljubljana<", ">Ljubljana DC<", 1);
    assert_ne!(changed, arnes, "the edit applies to the file");
    let third: Value = import(&nina, "Arnes.graphml", changed, "").await.json().await.expect("json");
    assert_eq!(counts(&third, "devices")[1], 1, "one device renamed: {}", third["devices"]);
    assert_eq!(counts(&third, "links"), [1, 0, 46, 1], "an edge with a new id is a new link, the old one removed");
    assert_eq!(app.count(audited, &[]).await, 2);
}

#[tokio::test]
async fn only_the_network_team_or_an_admin_imports_a_drawing_and_bad_files_are_named() {
    let app = spawn_app().await;
    let small = SQUARE.to_owned();
    for persona in [Persona::LedgerMember, Persona::Viewer] {
        let b = app.login_as(persona).await;
        assert_eq!(import(&b, "square.graphml", small.clone(), "").await.status(), 403, "{persona:?}");
    }
    let alice = app.login_as(Persona::Admin).await;
    assert_eq!(import(&alice, "square.graphml", small, "?site=lab").await.status(), 200);
    let nina = app.login_as(Persona::NetworkMember).await;
    let bad = import(&nina, "broken.graphml", "<graphml><graph><node id=\"a\"></graph>".into(), "").await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error"]["field"], "broken.graphml", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("not GraphML: expected")), "where it stops reading: {body}");
    let flag = import(&nina, "square.graphml", SQUARE.into(), "?dry_run=maybe").await;
    assert_eq!(flag.status(), 422);
}

/// Two data-center routers (r1, r2) joined by a LAG (two edges), both up to a core switch, and a
/// leaf behind the core; the core–leaf edge has no id (it is `e4`, its place) and the leaf no
/// place.
const SQUARE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="label" attr.type="string" for="node" id="l"/>
  <key attr.name="role" attr.type="string" for="node" id="r"/>
  <key attr.name="x" attr.type="double" for="node" id="x"/>
  <key attr.name="y" attr.type="double" for="node" id="y"/>
  <graph edgedefault="undirected">
    <node id="a"><data key="l">r1</data><data key="r">border</data><data key="x">0</data><data key="y">0</data></node>
    <node id="b"><data key="l">r2</data><data key="r">border</data><data key="x">10</data><data key="y">0</data></node>
    <node id="c"><data key="l">core</data><data key="r">core</data><data key="x">0</data><data key="y">10</data></node>
    <node id="d"><data key="l">leaf</data><data key="r">leaf</data></node>
    <edge id="lag1" source="a" target="b"/>
    <edge id="lag2" source="a" target="b"/>
    <edge id="ac" source="a" target="c"/>
    <edge id="bc" source="b" target="c"/>
    <edge source="c" target="d"/>
  </graph>
</graphml>"#;

pub(crate) use crate::statements::Statements;

fn reader(id: Uuid) -> Principal {
    Principal {
        user_id: UserId(id),
        username: "dave".into(),
        name: "Dave Viewer".into(),
        email: String::new(),
        roles: vec![Role::Viewer],
        teams: vec![],
        via: Via::Session { session_id: Uuid::nil() },
    }
}

#[tokio::test]
async fn weak_points_paths_redundancy_and_the_drawing_read_the_network_in_a_few_statements() {
    let app = spawn_app().await;
    let nina = app.login_as(Persona::NetworkMember).await;
    let report: Value = import(&nina, "square.graphml", SQUARE.into(), "?site=fra1").await.json().await.expect("json");
    assert_eq!(counts(&report, "links"), [5, 0, 0, 0]);
    // fra1 is a data center; a bank peers with both routers, a card network with r1 only
    let mut db = app.db().await;
    sqlx::raw_sql(
        "UPDATE topology_sites SET kind = 'data_center' WHERE name = 'fra1';
         INSERT INTO topology_partners (name, kind) VALUES ('Bank A', 'bank'), ('Cards B', 'card_network');
         INSERT INTO topology_bgp_sessions (name, device_id, local_address, local_asn, remote_address, remote_asn, partner_id)
         SELECT s.name, d.id, s.local::inet, 65000, s.remote::inet, s.asn, p.id
         FROM (VALUES ('r1-bank', 'r1', '10.0.0.1', '10.0.0.2', 64601, 'Bank A'),
                      ('r2-bank', 'r2', '10.0.1.1', '10.0.1.2', 64601, 'Bank A'),
                      ('r1-cards', 'r1', '10.0.2.1', '10.0.2.2', 64602, 'Cards B')) AS s(name, device, local, remote, asn, partner)
         JOIN topology_devices d ON d.name = s.device JOIN topology_partners p ON p.name = s.partner;",
    )
    .execute(&mut db)
    .await
    .expect("partners and sessions");

    let weak: Value = nina.get("/api/v1/topology/single-points-of-failure").await.json().await.expect("json");
    let names = |list: &Value, field: &str| -> Vec<Vec<String>> {
        list.as_array().expect("list").iter().map(|w| w[field].as_array().expect("names").iter().filter_map(|n| n.as_str().map(str::to_owned)).collect()).collect()
    };
    assert_eq!(names(&weak["devices"], "devices"), vec![vec!["core".to_owned()], vec!["r1".to_owned()]], "{weak}");
    let (core, r1) = (&weak["devices"][0], &weak["devices"][1]);
    assert_eq!((core["cuts_off"].as_u64(), core["devices_cut_off"].clone()), (Some(1), serde_json::json!(["leaf"])), "{core}");
    assert_eq!((r1["cuts_off"].as_u64(), r1["partners"].clone()), (Some(1), serde_json::json!(["Cards B"])), "{r1}");
    assert_eq!(r1["summary"], "the only path to Cards B");
    // the LAG's two members are one path: neither is a bridge; the leaf's link and Cards B's session are
    let mut bridges: Vec<Vec<String>> = names(&weak["links"], "links");
    bridges.sort();
    assert_eq!(bridges, vec![vec!["core – leaf".to_owned()], vec!["r1-cards".to_owned()]], "{weak}");

    let paths: Value = nina.get("/api/v1/topology/paths?from=leaf&to=Bank%20A").await.json().await.expect("json");
    let through: Vec<Value> = paths["paths"].as_array().expect("paths").iter().map(|p| p["through"].clone()).collect();
    assert_eq!(through, vec![
        serde_json::json!(["leaf", "core", "r1", "Bank A"]),
        serde_json::json!(["leaf", "core", "r2", "Bank A"]),
        serde_json::json!(["leaf", "core", "r1", "r2", "Bank A"]),
        serde_json::json!(["leaf", "core", "r2", "r1", "Bank A"]),
    ]);
    assert_eq!(paths["paths"][2]["hops"][2]["links"], serde_json::json!(["r1 – r2", "r1 – r2"]), "the LAG's hop is both members");
    let unknown = nina.get("/api/v1/topology/paths?from=leaf&to=nowhere").await;
    assert_eq!(unknown.status(), 422);

    let bank: Value = nina.get("/api/v1/topology/partners/Bank%20A/redundancy").await.json().await.expect("json");
    assert_eq!(bank["sites"], serde_json::json!([{ "site": "fra1", "paths": 2, "level": "redundant" }]));
    let cards: Value = nina.get("/api/v1/topology/partners/Cards%20B/redundancy").await.json().await.expect("json");
    assert_eq!(cards["sites"][0]["level"], "single");
    assert_eq!(nina.get("/api/v1/topology/partners/Nobody/redundancy").await.status(), 404);

    // the drawing: every device and partner placed, the weak ones marked, made once per version
    let drawn: Value = nina.get("/api/v1/topology/graph").await.json().await.expect("json");
    let mut weak: Vec<&str> = drawn["nodes"].as_array().expect("nodes").iter().filter(|n| n["weak"] == true).filter_map(|n| n["name"].as_str()).collect();
    weak.sort();
    assert_eq!(weak, vec!["core", "r1"], "{drawn}");
    assert_eq!((drawn["nodes"].as_array().map(Vec::len), drawn["links"].as_array().map(Vec::len)), (Some(6), Some(8)), "4 devices, 2 partners; 5 links, 3 sessions");
    let leaves: Value = nina.get("/api/v1/topology/graph?role=leaf").await.json().await.expect("json");
    assert_eq!(leaves["nodes"].as_array().map(Vec::len), Some(1));

    // a device's page lists its interfaces, links, sessions, and its finding
    let core: Value = nina.get("/api/v1/topology/devices/core").await.json().await.expect("json");
    assert_eq!(core["weak_point"]["summary"], "the only path to 1 device", "{core}");
    assert_eq!(core["weak_point"]["devices_cut_off"], serde_json::json!(["leaf"]));
    assert_eq!(core["links"].as_array().map(Vec::len), Some(3), "to r1, r2 and leaf");
    let r2: Value = nina.get("/api/v1/topology/devices/r2").await.json().await.expect("json");
    assert_eq!(r2["weak_point"], Value::Null, "r2's loss splits nothing");
    assert_eq!(r2["sessions"][0]["partner"], "Bank A");
    let page: Value = nina.get("/api/v1/topology/devices?site=fra1&limit=3").await.json().await.expect("json");
    let names: Vec<&str> = page["items"].as_array().expect("items").iter().filter_map(|d| d["name"].as_str()).collect();
    assert_eq!((names, page["next"].as_str()), (vec!["core", "leaf", "r1"], Some("r1")));
    let rest: Value = nina.get("/api/v1/topology/devices?site=fra1&limit=3&after=r1").await.json().await.expect("json");
    assert_eq!((rest["items"][0]["name"].as_str(), rest["next"].as_str()), (Some("r2"), None));
    assert_eq!(nina.get("/api/v1/topology/devices?limit=0").await.status(), 422);
    assert_eq!(nina.get("/api/v1/topology/devices/nobody").await.status(), 404);

    // a site's page and a partner's: what it holds, and the partner's findings
    let fra1: Value = nina.get("/api/v1/topology/sites/fra1").await.json().await.expect("json");
    assert_eq!((fra1["kind"].as_str(), fra1["devices"].as_array().map(Vec::len)), (Some("data_center"), Some(4)), "{fra1}");
    let sites: Value = nina.get("/api/v1/topology/sites").await.json().await.expect("json");
    assert_eq!(sites["items"][0]["devices"], 4);
    let cards: Value = nina.get("/api/v1/topology/partners/Cards%20B").await.json().await.expect("json");
    assert_eq!(cards["sessions"][0]["device"], "r1", "{cards}");
    assert_eq!(cards["findings"], serde_json::json!(["One path from fra1: a single point of failure"]));
    let bank: Value = nina.get("/api/v1/topology/partners/Bank%20A").await.json().await.expect("json");
    assert_eq!((bank["findings"].as_array().map(Vec::len), bank["sites"].clone()), (Some(0), serde_json::json!(["fra1"])));
    let partners: Value = nina.get("/api/v1/topology/partners?limit=1").await.json().await.expect("json");
    assert_eq!((partners["items"][0]["name"].as_str(), partners["next"].as_str()), (Some("Bank A"), Some("Bank A")));
    assert_eq!(partners["items"][0]["sessions"], 2);


    // each view reads the network in one statement (its version and shape)
    let id: Uuid = sqlx::query_scalar("SELECT id FROM users WHERE username = 'nina'").fetch_one(&mut db).await.expect("user");
    let who = reader(id);
    let pool = app.pool();
    let statements = Statements::default();
    let _guard = tracing::subscriber::set_default(statements.clone());
    for view in ["weak points", "paths", "redundancy"] {
        statements.0.store(0, Ordering::SeqCst);
        match view {
            "weak points" => drop(app::topology::service::weak_points(&pool, &who, None).await.expect("weak points")),
            "paths" => drop(app::topology::service::paths(&pool, &who, "leaf", "Bank A", 5).await.expect("paths")),
            _ => drop(app::topology::service::redundancy(&pool, &who, "Bank A").await.expect("redundancy")),
        }
        assert_eq!(statements.0.load(Ordering::SeqCst), 1, "{view}");
    }
    // the drawing: the kept one in one statement; a new version's first view makes it (three)
    statements.0.store(0, Ordering::SeqCst);
    drop(app::topology::service::drawing(&pool, &who, None, None).await.expect("drawing"));
    assert_eq!(statements.0.load(Ordering::SeqCst), 1, "kept");
    // a device's page: the kept drawing (its finding) and the device
    statements.0.store(0, Ordering::SeqCst);
    let r1 = app::topology::service::device(&pool, &who, "r1").await.expect("device");
    assert_eq!(statements.0.load(Ordering::SeqCst), 2, "a device");
    assert_eq!(r1.weak_point.map(|w| w.summary), Some("the only path to Cards B".to_owned()));
    // a site's page, a partner's (its redundancy reads the network; the maintenance of the
    // coming weeks, none here, one more), and the lists
    let page = app::topology::types::PageQuery { after: None, limit: 50 };
    for (view, expected) in [("site", 1), ("partner", 3), ("sites", 1), ("partners", 1), ("devices", 1)] {
        statements.0.store(0, Ordering::SeqCst);
        match view {
            "site" => drop(app::topology::service::site(&pool, &who, "fra1").await.expect("site")),
            "partner" => drop(app::topology::service::partner(&pool, &who, "Bank A").await.expect("partner")),
            "sites" => drop(app::topology::service::sites(&pool, &who, &page).await.expect("sites")),
            "partners" => drop(app::topology::service::partners(&pool, &who, &page).await.expect("partners")),
            _ => drop(app::topology::service::devices(&pool, &who, &app::topology::types::DeviceQuery { limit: 50, ..Default::default() }).await.expect("devices")),
        }
        assert_eq!(statements.0.load(Ordering::SeqCst), expected, "{view}");
    }
    drop(_guard);
    sqlx::query("UPDATE topology_devices SET status = 'planned' WHERE name = 'leaf'").execute(&mut db).await.expect("a change");
    let _guard = tracing::subscriber::set_default(statements.clone());
    statements.0.store(0, Ordering::SeqCst);
    let redrawn = app::topology::service::drawing(&pool, &who, None, None).await.expect("drawing");
    assert_eq!(statements.0.load(Ordering::SeqCst), 3, "made anew: the kept drawing missing, the shape, the new drawing kept");
    assert!(redrawn.nodes.iter().any(|n| n.name == "leaf" && n.status == "planned"));

    // a circuit from fra1 to Cards B's network, cabled to r2: listed, and its ends say so
    sqlx::raw_sql(
        "INSERT INTO topology_providers (name) VALUES ('Carrier C');
         INSERT INTO topology_circuits (cid, provider_id) SELECT 'CC-1', id FROM topology_providers WHERE name = 'Carrier C';
         INSERT INTO topology_interfaces (device_id, name) SELECT id, 'et-0/0/9' FROM topology_devices WHERE name = 'r2';
         INSERT INTO topology_circuit_ends (circuit_id, side, site_id)
           SELECT c.id, 'A', s.id FROM topology_circuits c, topology_sites s WHERE c.cid = 'CC-1' AND s.name = 'fra1';
         INSERT INTO topology_circuit_ends (circuit_id, side, partner_id)
           SELECT c.id, 'Z', p.id FROM topology_circuits c, topology_partners p WHERE c.cid = 'CC-1' AND p.name = 'Cards B';
         INSERT INTO topology_links (a_device_id, a_interface_id, b_end_id)
           SELECT d.id, i.id, e.id FROM topology_devices d JOIN topology_interfaces i ON i.device_id = d.id, topology_circuit_ends e
           WHERE d.name = 'r2' AND i.name = 'et-0/0/9' AND e.side = 'A';",
    )
    .execute(&mut db)
    .await
    .expect("a circuit");
    let circuits: Value = nina.get("/api/v1/topology/circuits?provider=Carrier%20C").await.json().await.expect("json");
    assert_eq!((circuits["items"][0]["a"].as_str(), circuits["items"][0]["z"].as_str()), (Some("fra1"), Some("Cards B")), "{circuits}");
    let cc1: Value = nina.get("/api/v1/topology/circuits/Carrier%20C/CC-1").await.json().await.expect("json");
    assert_eq!((cc1["ends"][0]["device"].as_str(), cc1["ends"][0]["interface"].as_str()), (Some("r2"), Some("et-0/0/9")), "{cc1}");
    assert_eq!(nina.get("/api/v1/topology/circuits/Carrier%20C/none").await.status(), 404);
}

#[tokio::test]
async fn a_collector_reports_session_states_each_change_kept_in_time_order_bad_input_named_and_scope_enforced() {
    let app = spawn_app().await;
    let nina = app.login_as(Persona::NetworkMember).await;
    assert_eq!(import(&nina, "square.graphml", SQUARE.into(), "?site=fra1").await.status(), 200);
    let mut db = app.db().await;
    sqlx::raw_sql(
        "INSERT INTO topology_partners (name, kind) VALUES ('Bank A', 'bank');
         INSERT INTO topology_bgp_sessions (name, device_id, local_address, local_asn, remote_address, remote_asn, partner_id)
         SELECT 'r1-bank', d.id, '10.0.0.1', 65000, '10.0.0.2', 64601, p.id FROM topology_devices d, topology_partners p
         WHERE d.name = 'r1' AND p.name = 'Bank A';",
    )
    .execute(&mut db)
    .await
    .expect("a session");
    let alice = app.login_as(Persona::Admin).await;
    let collector = alice.token("bgp-collector", &["network_state"], Some("network")).await;
    let writer = alice.token("writer", &["read", "write"], None).await;
    let send = |token: String, body: Value| {
        let (client, url) = (app.client.clone(), app.url("/api/v1/topology/bgp-sessions/state"));
        async move { client.post(url).bearer_auth(token).json(&body).send().await.expect("post") }
    };
    let history = "SELECT count(*) FROM topology_bgp_states";
    let one = |state: &str, at: String| serde_json::json!({ "device": "r1", "remote_address": "10.0.0.2", "state": state, "at": at });
    let now = chrono::Utc::now();
    let t = |minutes: i64| (now - chrono::Duration::minutes(minutes)).to_rfc3339();

    // only a token with the network-state scope: not another token, not a browser session
    assert_eq!(send(writer, serde_json::json!([one("established", t(1))])).await.status(), 403);
    let from_browser = nina.client.post(nina.url("/api/v1/topology/bgp-sessions/state")).header("origin", nina.url("")).json(&serde_json::json!([one("established", t(1))])).send().await.expect("post");
    assert_eq!(from_browser.status(), 403);

    // a bad report is named by its pointer and the batch writes nothing
    for (body, field) in [
        (serde_json::json!([one("established", t(3)), one("up", t(2))]), "/1/state"),
        (serde_json::json!([{ "device": "r1", "remote_address": "not-an-address", "state": "idle" }]), "/0/remote_address"),
        (serde_json::json!([one("active", (now + chrono::Duration::hours(1)).to_rfc3339())]), "/0/at"),
        (serde_json::json!({ "device": "r1" }), "/"),
    ] {
        let r = send(collector.clone(), body).await;
        assert_eq!(r.status(), 422, "{field}");
        let e: Value = r.json().await.expect("json");
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    assert_eq!(app.count(history, &[]).await, 0, "nothing written");

    // out of order within the batch: kept in the order they happened; an unknown session named back
    let batch = serde_json::json!([
        one("established", t(3)),
        one("connect", t(5)),
        { "device": "r9", "remote_address": "10.9.9.9", "state": "idle" },
        one("active", t(4)),
    ]);
    let outcome: Value = send(collector.clone(), batch).await.json().await.expect("json");
    assert_eq!((outcome["received"].as_u64(), outcome["changed"].as_u64()), (Some(3), Some(3)), "{outcome}");
    assert_eq!(outcome["unknown"], serde_json::json!([{ "index": 2, "device": "r9", "remote_address": "10.9.9.9" }]));
    // older than the last change: left out; the same state again: no change
    let late: Value = send(collector.clone(), serde_json::json!([one("idle", t(10)), one("established", t(1))])).await.json().await.expect("json");
    assert_eq!((late["stale"].as_u64(), late["changed"].as_u64()), (Some(1), Some(0)), "{late}");

    let session: Value = nina.get("/api/v1/topology/bgp-sessions/r1-bank").await.json().await.expect("json");
    assert_eq!((session["state"].as_str(), session["partner"].as_str()), (Some("established"), Some("Bank A")));
    let changes: Vec<(String, String)> = session["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| (c["state"].as_str().unwrap_or("").to_owned(), c["previous"].as_str().unwrap_or("").to_owned()))
        .collect();
    let expected = [("established", "active"), ("active", "connect"), ("connect", "idle")].map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(changes, expected.to_vec(), "newest first, each with the state it left");
    assert_eq!(nina.get("/api/v1/topology/bgp-sessions/nobody").await.status(), 404);
    // the partner's page holds the same history, across its sessions
    let partner: Value = nina.get("/api/v1/topology/partners/Bank%20A").await.json().await.expect("json");
    let on_page: Vec<(String, String)> = partner["state_history"]
        .as_array()
        .expect("state history")
        .iter()
        .map(|c| (c["state"].as_str().unwrap_or("").to_owned(), c["previous"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert_eq!(on_page, expected.to_vec(), "{partner}");
    assert_eq!(partner["state_history"][0]["session"], "r1-bank");
}

#[tokio::test]
async fn the_demo_network_loads_as_a_netbox_export_once_with_partners_sessions_and_the_findings_built_into_it() {
    let app = spawn_app().await;
    let pool = app.pool();
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    let export = server::demo_network::export();
    let first = app::topology::service::apply_netbox_export(&pool, &export, false, &meta).await.expect("the demo network applies");
    assert!(first.changed);
    let created = |kind: &str| first.kinds.iter().find(|k| k.kind == kind).map(|k| k.counts.created).unwrap_or(u32::MAX);
    assert_eq!((created("sites"), created("partners"), created("providers")), (6, 6, 6));
    assert_eq!(created("devices") as usize, export["devices"].len());
    assert_eq!(created("bgp_sessions"), 13, "nine sessions over partners' circuits, four to the cloud");
    // partners carry their tenants' ASNs; a circuit to a partner's network reaches that partner
    assert_eq!(app.count("SELECT count(*) FROM topology_partners WHERE asns = '{64502}' AND name = 'Deutsche Bank'", &[]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM topology_circuit_ends WHERE partner_id IS NOT NULL", &[]).await, 9);
    assert_eq!(app.count("SELECT count(*) FROM topology_bgp_sessions WHERE partner_id IS NULL", &[]).await, 0, "each session's remote ASN is a partner's");
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.sync' AND actor_id IS NULL AND actor_name = 'switchyard'", &[]).await, 1);

    // a second load changes nothing and says so
    let again = app::topology::service::apply_netbox_export(&pool, &export, false, &meta).await.expect("again");
    assert!(!again.changed, "{:?}", again.kinds);
    assert!(again.kinds.iter().all(|k| k.counts.created == 0 && k.counts.updated == 0 && k.counts.removed == 0));

    // the findings the demo is built to show
    let dave = app.login_as(Persona::Viewer).await;
    let weak: Value = dave.client.get(dave.url("/api/v1/topology/single-points-of-failure")).send().await.expect("spof").json().await.expect("json");
    let devices: Vec<&str> = weak["devices"].as_array().expect("devices").iter().flat_map(|w| w["devices"].as_array().into_iter().flatten()).filter_map(Value::as_str).collect();
    assert_eq!(devices, ["ldn-eq-core-1", "ldn-eq-ext-1"], "the colocation's one core switch, and behind it the one router to the single-homed bank");
    let single: Value = dave.client.get(dave.url("/api/v1/topology/partners/Deutsche%20Bank/redundancy")).send().await.expect("r").json().await.expect("json");
    let paths: Vec<(String, u64)> = single["sites"].as_array().expect("sites").iter().map(|s| (s["site"].as_str().unwrap_or("").to_owned(), s["paths"].as_u64().unwrap_or(9))).collect();
    assert_eq!(paths, [("fra1".into(), 1), ("iad1".into(), 1), ("ldn-eq".into(), 1), ("nyc-eq".into(), 1)]);
    let visa: Value = dave.client.get(dave.url("/api/v1/topology/partners/Visa/redundancy")).send().await.expect("r").json().await.expect("json");
    assert!(visa["sites"].as_array().expect("sites").iter().all(|s| s["paths"].as_u64() == Some(2)), "{visa}");

    // the topology page's overview: sites and partners, what joins them, the findings; three
    // statements once the drawing is kept
    let principal = reader(dave_id(&app).await);
    let _ = app::topology::service::overview(&pool, &principal).await.expect("overview (draws and keeps)");
    let counter = Statements::default();
    let overview = {
        let _guard = tracing::subscriber::set_default(counter.clone());
        app::topology::service::overview(&pool, &principal).await.expect("overview")
    };
    assert_eq!(counter.0.load(Ordering::SeqCst), 3, "the kept drawing, the sites, the partners");
    assert_eq!(overview.places.iter().filter(|p| p.kind == "partner").count(), 6);
    assert_eq!(overview.places.iter().filter(|p| p.kind != "partner").count(), 6);
    let named = |name: &str| overview.places.iter().position(|p| p.name == name).expect("a place") as u32;
    let (fra1, ldn) = (named("fra1"), named("ldn-eq"));
    let between = overview.joins.iter().find(|j| (j.a, j.b) == (fra1.min(ldn), fra1.max(ldn))).expect("fra1 and ldn-eq are joined");
    assert_eq!(between.circuits, 2);
    let findings: Vec<(&str, &str)> = overview.partner_findings.iter().map(|f| (f.partner.as_str(), f.site.as_str())).collect();
    assert_eq!(findings, [("Deutsche Bank", "fra1"), ("Deutsche Bank", "iad1"), ("Deutsche Bank", "ldn-eq"), ("Deutsche Bank", "nyc-eq")]);

    // the lists: every cable on one page of 1,000 with its ends, the carriers, the sessions
    let links: Value = dave.get("/api/v1/topology/links?limit=1000").await.json().await.expect("links");
    assert_eq!(links["items"].as_array().map(Vec::len), Some(export["links"].len()), "every cable");
    assert!(links["next"].is_null());
    let to_circuit = links["items"].as_array().expect("items").iter().filter(|l| l["b"]["circuit"].is_string()).count();
    assert_eq!(to_circuit, export["circuit_ends"].len() - 9, "a cable to each circuit end at a site (a partner's network has none)");
    let page: Value = dave.get("/api/v1/topology/links?limit=100").await.json().await.expect("links");
    let rest: Value = dave.get(&format!("/api/v1/topology/links?limit=1000&after={}", page["next"].as_str().expect("next"))).await.json().await.expect("links");
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(export["links"].len() - 100), "the next page starts after the last");
    let r = dave.get("/api/v1/topology/links?limit=1001").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.expect("body").contains("limit must be 1 to 1000"));
    let providers: Value = dave.get("/api/v1/topology/providers").await.json().await.expect("providers");
    let colt = providers["items"].as_array().expect("items").iter().find(|p| p["name"] == "Colt").expect("Colt");
    assert_eq!(colt["circuits"], 4);
    let sessions: Value = dave.get("/api/v1/topology/bgp-sessions?partner=Deutsche%20Bank").await.json().await.expect("sessions");
    let devices: Vec<&str> = sessions["items"].as_array().expect("items").iter().filter_map(|s| s["device"].as_str()).collect();
    assert_eq!(devices, ["ldn-eq-ext-1"]);
    let r = dave.get("/api/v1/topology/bgp-sessions?state=down").await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("\"down\" is not a BGP state")), "{body}");
}

async fn dave_id(app: &TestApp) -> Uuid {
    let mut db = app.db().await;
    sqlx::query_scalar("SELECT id FROM users WHERE username = 'dave'").fetch_one(&mut db).await.expect("dave")
}

#[tokio::test]
async fn a_risk_group_is_checked_as_one_only_the_network_team_declares_it_and_what_the_network_lacks_is_named() {
    let app = spawn_app().await;
    let meta = app::context::RequestMeta { request_id: "test".into(), ip: "127.0.0.1".into() };
    app::topology::service::apply_netbox_export(&app.pool(), &server::demo_network::export(), false, &meta).await.expect("the demo network");
    let nina = app.login_as(Persona::NetworkMember).await;
    let put = |b: &crate::helpers::Browser, name: &str, body: Value| {
        b.client.put(b.url(&format!("/api/v1/topology/risk-groups/{name}"))).header("origin", b.url("")).json(&body).send()
    };
    // every Colt circuit at once: Deutsche Bank's only one is among them
    let circuit = |cid: &str| serde_json::json!({ "provider": "Colt", "cid": cid });
    let colt = serde_json::json!({ "kind": "carrier", "description": "One carrier's ducts",
        "circuits": [circuit("COLT-FRA-LDN-101"), circuit("COLT-BARC-201"), circuit("COLT-DB-401"), circuit("COLT-VISA-501")] });
    let r = put(&nina, "Colt", colt.clone()).await.expect("put");
    assert_eq!(r.status(), 201);
    let group: Value = r.json().await.expect("json");
    assert_eq!((group["cut"]["partners"].clone(), group["cut"]["cuts_off"].as_u64()), (serde_json::json!(["Deutsche Bank"]), Some(1)), "{group}");
    assert_eq!(put(&nina, "Colt", colt).await.expect("put").status(), 200, "declared again: replaced");
    // one core switch of a pair: the network stays whole
    let r = put(&nina, "fra1 power feed A", serde_json::json!({ "kind": "power_feed", "devices": ["fra1-core-1", "fra1-core-1"] })).await.expect("put");
    assert_eq!(r.status(), 201);
    let group: Value = r.json().await.expect("json");
    assert!(group["cut"].is_null(), "{group}");
    assert_eq!(group["devices"], serde_json::json!(["fra1-core-1"]), "named once");

    // what the network lacks is named, and nothing is written
    let r = put(&nina, "Ghosts", serde_json::json!({ "devices": ["fra1-core-1", "nowhere-1"] })).await.expect("put");
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("there is no device \"nowhere-1\"")), "{body}");
    let r = put(&nina, "Odd", serde_json::json!({ "kind": "weather", "devices": ["fra1-core-1"] })).await.expect("put");
    assert_eq!(r.status(), 422);
    assert_eq!(put(&nina, "Empty", serde_json::json!({})).await.expect("put").status(), 422);
    // only the network team (or an admin) declares
    let dave = app.login_as(Persona::Viewer).await;
    assert_eq!(put(&dave, "Mine", serde_json::json!({ "devices": ["fra1-core-1"] })).await.expect("put").status(), 403);

    let all: Value = dave.get("/api/v1/topology/risk-groups").await.json().await.expect("json");
    let names: Vec<&str> = all["groups"].as_array().expect("groups").iter().filter_map(|g| g["name"].as_str()).collect();
    assert_eq!(names, ["Colt", "fra1 power feed A"]);
    assert_eq!(app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.risk_group.save'", &[]).await, 3);

    let gone = nina.client.delete(nina.url("/api/v1/topology/risk-groups/Colt")).header("origin", nina.url("")).send().await.expect("delete");
    assert_eq!(gone.status(), 204);
    let again = nina.client.delete(nina.url("/api/v1/topology/risk-groups/Colt")).header("origin", nina.url("")).send().await.expect("delete");
    assert_eq!(again.status(), 404);
}

const MUTATED_DRAWING: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key attr.name="label" attr.type="string" for="node" id="d1"/>
  <key attr.name="role" attr.type="string" for="node" id="d2"/>
  <graph edgedefault="undirected">
    <node id="fra"><data key="d1">fra-core-1</data><data key="d2">router</data></node>
    <node id="ams"><data key="d1">ams-core-1</data><data key="d2">router</data></node>
    <node id="lon"><data key="d1">lon-edge-1</data></node>
    <node id="par"><data key="d1">par-edge-1</data></node>
    <edge id="e1" source="fra" target="ams"/>
    <edge id="e2" source="ams" target="lon"/>
    <edge id="e3" source="lon" target="par"/>
    <edge id="e4" source="par" target="fra"/>
  </graph>
</graphml>"#;

#[tokio::test]
async fn a_mutated_drawing_leaves_its_site_holding_exactly_what_the_report_says_or_nothing_changed() {
    use proptest::strategy::{Strategy, ValueTree};
    let app = spawn_app().await;
    let nina = app.login_as(Persona::NetworkMember).await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let source = "graphml:Mutated";
    let state = || async {
        let d = app.count("SELECT count(*) FROM topology_devices WHERE source = $1", &[source]).await;
        let l = app.count("SELECT count(*) FROM topology_links WHERE source = $1", &[source]).await;
        let a = app.count("SELECT count(*) FROM audit_log WHERE action = 'topology.import'", &[]).await;
        (d, l, a)
    };
    let (mut taken, mut refused) = (0, 0);
    for case in 0..16 {
        // one case in three is valid with a change (most mutants are refused somewhere)
        let text = if case % 3 == 0 {
            MUTATED_DRAWING.replace("par-edge-1", &format!("par-edge-{case}"))
        } else {
            crate::mutate::mutated(MUTATED_DRAWING).new_tree(&mut runner).expect("a case").current()
        };
        let before = state().await;
        let r = import(&nina, "mutated.graphml", text.clone(), "?site=Mutated").await;
        let status = r.status().as_u16();
        let report: Value = r.json().await.expect("a JSON answer");
        let after = state().await;
        if status != 200 {
            assert_eq!(after, before, "case {case}: a refused drawing ({status}) changed the network:\n{text}\n{report}");
            assert!(report["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "case {case}: the refusal says why: {report}");
            refused += 1;
            continue;
        }
        taken += 1;
        let (devices, links) = (counts(&report, "devices"), counts(&report, "links"));
        assert_eq!(after.0 as u64, devices[0] + devices[1] + devices[2], "case {case}: the site holds exactly the devices reported:\n{text}\n{report}");
        assert_eq!(after.1 as u64, links[0] + links[1] + links[2], "case {case}: the site holds exactly the links reported:\n{text}\n{report}");
        let changed = [devices, links].iter().any(|c| c[0] + c[1] + c[3] > 0);
        assert_eq!(after.2, before.2 + i64::from(changed), "case {case}: one audit row for an import that changed something, none otherwise");
    }
    assert!(taken > 0 && refused > 0, "the cases cover drawings taken ({taken}) and refused ({refused})");
}
