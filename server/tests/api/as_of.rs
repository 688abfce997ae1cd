//! "As of" a past moment: a service, a system and an integration rebuilt from the audit log
//! match what the API said they were at that moment, each field beside how it is now.
use crate::helpers::{spawn_app_with_demo_data, Browser, Persona, TestApp};
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

fn moment() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn as_of(b: &Browser, path: &str, at: &str) -> Value {
    let r = b.get(&format!("{path}/as-of?at={at}")).await;
    assert_eq!(r.status(), 200, "{path} as of {at}");
    r.json().await.expect("json")
}

/// A field of an answer: (then, now, changed).
fn field(a: &Value, name: &str) -> (String, String, bool) {
    let f = a["fields"].as_array().and_then(|fs| fs.iter().find(|f| f["name"] == name)).unwrap_or_else(|| panic!("no field {name} in {a}"));
    (f["then"].as_str().unwrap_or_default().to_owned(), f["now"].as_str().unwrap_or_default().to_owned(), f["changed"].as_bool().unwrap_or_default())
}

/// The page's details of a service, as the catalog shows them now.
async fn service(b: &Browser, name: &str) -> Value {
    let r = b.server_fn("catalog/entity", &[("kind", "component"), ("namespace", "default"), ("name", name)]).await;
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

/// An owner's edit of a service through its form, these fields changed.
async fn edit(b: &Browser, name: &str, changes: &[(&str, &str)]) {
    let (form, version): (Value, i32) = b.server_fn("catalog/edit-form", &[("name", name)]).await.json().await.expect("form");
    let mut fields: Vec<(String, String)> = form.as_object().expect("form").iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect();
    for (k, v) in changes {
        fields.retain(|(key, _)| key != k);
        fields.push(((*k).to_owned(), (*v).to_owned()));
    }
    let v = version.to_string();
    let mut post: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post.push(("version", &v));
    let r = b.server_fn("catalog/edit", &post).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

/// What the service's page said at a moment: its description, runbook and the sites it runs at.
fn seen(s: &Value) -> (String, String, String) {
    (
        s["summary"]["description"].as_str().unwrap_or_default().to_owned(),
        s["runbook_url"].as_str().unwrap_or_default().to_owned(),
        s["annotations"]
            .as_array()
            .and_then(|a| a.iter().find(|kv| kv[0] == "switchyard.dev/sites"))
            .and_then(|kv| kv[1].as_str())
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn a_service_as_of_a_past_moment_is_what_it_was_then_beside_now() {
    let app = spawn_app_with_demo_data().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let dave = app.login_as(Persona::Viewer).await;
    let path = "/api/v1/catalog/entities/by-name/component/default/refunds";
    // three moments: as imported, after one edit, after another
    let first = seen(&service(&dave, "refunds").await);
    let t0 = moment();
    edit(&bob, "refunds", &[("description", "Refunds, posted to the ledger the same second"), ("runbook_url", "https://runbooks.example.com/refunds-v2")]).await;
    let second = seen(&service(&dave, "refunds").await);
    let t1 = moment();
    edit(&bob, "refunds", &[("sites", "fra1, iad1")]).await;
    let third = seen(&service(&dave, "refunds").await);
    assert_ne!(first, second);
    assert_ne!(second, third);

    for (at, was, since) in [(&t0, &first, 2), (&t1, &second, 1), (&moment(), &third, 0)] {
        let a = as_of(&dave, path, at).await;
        assert_eq!((a["existed"].as_bool(), a["changes_since"].as_i64()), (Some(true), Some(since)), "{a}");
        assert_eq!((field(&a, "description").0, field(&a, "runbook_url").0), (was.0.clone(), was.1.clone()), "as of {at}: {a}");
        // annotations read as key=value pairs
        let annotations = field(&a, "annotations").0;
        let sites_then = if was.2.is_empty() { !annotations.contains("switchyard.dev/sites=") } else { annotations.contains(&format!("switchyard.dev/sites={}", was.2)) };
        assert!(sites_then, "as of {at} it ran at \"{}\": {annotations}", was.2);
    }
    // each field says how it is now, and whether it moved
    let a = as_of(&dave, path, &t0).await;
    assert_eq!(field(&a, "description"), (first.0.clone(), third.0.clone(), true));
    assert!(!field(&a, "title").2, "the title never changed: {a}");
    assert_eq!(a["last_change"]["action"], "entity.imported", "{a}");
    let a = as_of(&dave, path, &t1).await;
    assert_eq!((a["last_change"]["action"].as_str(), a["last_change"]["actor"].as_str()), (Some("entity.updated"), Some("bob")));

    // before it was imported it was not there; a moment to come, or not a time, is named
    assert_eq!(as_of(&dave, path, "2001-01-01T00:00:00Z").await["existed"], false);
    for bad in ["2999-01-01T00:00:00Z", "last-tuesday"] {
        let r = dave.get(&format!("{path}/as-of?at={bad}")).await;
        assert_eq!(r.status(), 422, "{bad}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"]["field"], "at", "{body}");
    }
    assert_eq!(dave.get("/api/v1/catalog/entities/by-name/component/default/nowhere/as-of?at=2026-01-01T00:00:00Z").await.status(), 404);
    assert_eq!(app.browser().get(&format!("{path}/as-of?at={t0}")).await.status(), 401, "signed out");
    // the page's server function answers the same
    let r = dave.server_fn("catalog/as-of", &[("kind", "component"), ("namespace", "default"), ("name", "refunds"), ("at", &t0)]).await;
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.expect("json");
    assert_eq!(field(&page, "description").0, first.0);
}

/// The demo's `workday-payroll-to-netsuite` (the ledger team's) and NetSuite, edited by carol.
async fn edit_integrations(app: &TestApp, carol: &Browser) {
    let version: i32 = sqlx::query_scalar("SELECT version FROM integrations WHERE name = 'workday-payroll-to-netsuite'").fetch_one(&app.pool()).await.expect("version");
    let r = carol
        .client
        .patch(carol.url("/api/v1/integrations/workday-payroll-to-netsuite"))
        .header("origin", carol.url(""))
        .json(&json!({ "version": version, "title": "Payroll journal to the general ledger" }))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let form = json!({ "title": "NetSuite", "kind": "erp", "vendor": "Oracle", "owner": "ledger", "classification": "confidential", "external": "yes", "reached_via": "AWS" });
    let r = carol.client.put(carol.url("/api/v1/integration-systems/netsuite")).header("origin", carol.url("")).json(&form).send().await.expect("put");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
}

#[tokio::test]
async fn an_integration_and_a_system_as_of_a_past_moment_are_what_they_were_then() {
    let app = spawn_app_with_demo_data().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let dave = app.login_as(Persona::Viewer).await;
    let before = moment();
    edit_integrations(&app, &carol).await;
    let after = moment();

    let flow = "/api/v1/integrations/workday-payroll-to-netsuite";
    let a = as_of(&dave, flow, &before).await;
    assert_eq!(field(&a, "title"), ("Payroll journal to the GL".into(), "Payroll journal to the general ledger".into(), true), "{a}");
    assert!(!field(&a, "schedule").2, "{a}");
    assert!(a["fields"].as_array().expect("fields").iter().all(|f| f["name"] != "reason"), "an edit's reason is not the integration's: {a}");
    assert_eq!(field(&as_of(&dave, flow, &after).await, "title").0, "Payroll journal to the general ledger");

    let system = "/api/v1/integration-systems/netsuite";
    let a = as_of(&dave, system, &before).await;
    assert_eq!(field(&a, "reached_via"), (String::new(), "AWS".into(), true), "{a}");
    assert_eq!(field(&a, "owner"), ("ledger".into(), "ledger".into(), false));
    let a = as_of(&dave, system, &after).await;
    assert_eq!((field(&a, "reached_via").0.as_str(), a["changes_since"].as_i64()), ("AWS", Some(0)));
    assert_eq!(dave.get("/api/v1/integration-systems/nowhere/as-of?at=2026-01-01T00:00:00Z").await.status(), 404);
}
