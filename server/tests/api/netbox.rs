//! A sync from a real NetBox (4.7, its demo data: `../shared/peers/netbox/setup.sh`), over the
//! API as an admin starts it. It needs that NetBox running, so it is a make target of its own:
//! `make test-netbox` starts the peer and runs these with `NETBOX_URL` and `NETBOX_TOKEN` set.
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
}
