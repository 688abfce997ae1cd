//! The permission matrix: every route the server answers, called by every kind of caller.
//! The table of statuses is a snapshot (tests/api/snapshots); a route missing from `probe`
//! fails the test, so no route can be added without deciding who may call it.
use crate::helpers::{spawn_app_with_demo_data, Browser, TestApp};
use app::approvals::service::{self as approvals, Ask};
use app::approvals::types::Approvers;
use app::context::RequestMeta;
use app::iam::principal::{Principal, Via};
use app::iam::types::{Role, UserId};
use serde_json::json;
use sqlx::{Connection, Row};
use std::fmt::Write;
use uuid::Uuid;

/// Who calls: nobody, a viewer (dave), a team member (carol, ledger), another team's member
/// (bob, payments' lead), an admin (alice).
const ACTORS: [(&str, Option<&str>); 5] =
    [("anonymous", None), ("viewer", Some("dave")), ("member", Some("carol")), ("other_team", Some("bob")), ("admin", Some("alice"))];

/// Callers with a bearer token: bob's personal tokens (payments' lead), alice's (an admin), and
/// service tokens of payments, each with its scopes.
const TOKENS: [(&str, &str, Option<&str>, &[&str]); 9] = [
    ("lead:read", "other_team", None, &["read"]),
    ("lead:write", "other_team", None, &["read", "write"]),
    ("lead:deploy", "other_team", None, &["read", "deploy"]),
    ("admin:read", "admin", None, &["read"]),
    ("admin:admin", "admin", None, &["admin"]),
    ("svc:read", "admin", Some("payments"), &["read"]),
    ("svc:write", "admin", Some("payments"), &["read", "write"]),
    ("svc:deploy", "admin", Some("payments"), &["read", "deploy"]),
    ("svc:ingest", "admin", Some("payments"), &["ingest"]),
];

/// Deciding on a production deploy of a payments service (which payments' lead may decide on),
/// by every route that decides: rows of their own beside the inventory's.
const DEPLOY_DECISIONS: [(&str, &str); 3] = [
    ("POST", "/api/v1/approvals/{payments deploy}/approve"),
    ("POST", "/api/v1/approvals/{payments deploy}/reject"),
    ("POST", "/api/approvals/decide {payments deploy}"),
];

struct World {
    app: TestApp,
    browsers: Vec<(&'static str, Browser)>,
    tokens: Vec<(&'static str, String)>,
    /// A payments service token that asks for the deploys the decision rows decide on.
    requester: String,
    /// An approval request, for reading.
    approval: String,
    /// A deploy of a ledger service by carol, for reading.
    deploy: String,
    /// A run of ledger's matrix integration, for reading.
    run: String,
}

/// A new deploy of fees-engine (ledger's) to production by carol (a ledger member): it waits for
/// approval, so it stays cancellable whatever the worker does.
async fn fresh_deploy(app: &TestApp, browsers: &[(&'static str, Browser)]) -> String {
    let carol = &browsers.iter().find(|(n, _)| *n == "member").expect("member").1;
    let r = carol
        .client
        .post(carol.url("/api/v1/deploys"))
        .header("origin", carol.url(""))
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({ "service": "fees-engine", "environment": "production", "version": "v1", "reason": "matrix" }))
        .send()
        .await
        .expect("deploy");
    assert_eq!(r.status(), 201, "{:?}", app.address);
    r.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_owned()
}

async fn new_user(db: &mut sqlx::PgConnection, name: &str) -> Uuid {
    sqlx::query("INSERT INTO users (issuer, subject, username) VALUES ('matrix', $1, $2) RETURNING id")
        .bind(Uuid::new_v4().to_string())
        .bind(name)
        .fetch_one(db)
        .await
        .expect("user")
        .get(0)
}

/// A fresh pending request, by a new user, to make an admin of another new user who is none of
/// the actors (so approving it changes no caller's rights, and no one's open requests pile up).
async fn fresh_request(app: &TestApp) -> String {
    let mut db = app.db().await;
    let requester = new_user(&mut db, "asker").await;
    let subject = new_user(&mut db, "subject").await;
    let who = Principal {
        user_id: UserId(requester),
        username: "asker".into(),
        name: "Asker".into(),
        email: String::new(),
        roles: vec![Role::Viewer],
        teams: vec![],
        via: Via::Session { session_id: Uuid::nil() },
    };
    let mut tx = db.begin().await.expect("tx");
    let ask = Ask {
        subject_kind: app::iam::approval::AdminRole::KIND,
        subject_id: subject.to_string(),
        action: "grant_admin",
        summary: "matrix".into(),
        payload: json!({}),
        required_approvals: 1,
        approvers: Approvers::Admins,
        owning_team: None,
        reason: "matrix".into(),
        valid_for: chrono::Duration::days(1),
    };
    let id = approvals::open(&mut tx, &who, ask, &RequestMeta::default()).await.expect("open");
    tx.commit().await.expect("commit");
    id.0.to_string()
}

/// A valid service form for a ledger component (tier added by the caller).
fn matrix_form(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("name", name.to_owned()), ("title", "Matrix".into()), ("description", "matrix".into()), ("entity_type", "service".into()),
        ("lifecycle", "production".into()), ("owner", "ledger".into()), ("co_owners", String::new()), ("system", String::new()),
        ("language", String::new()), ("repository_url", String::new()), ("runbook_url", String::new()), ("oncall_url", String::new()),
        ("dashboards", String::new()), ("tags", String::new()), ("classification", "internal".into()), ("depends_on", String::new()),
    ]
}

/// A new production deploy of refunds (payments') asked for by the requester token; its approval.
/// The requester's earlier requests are withdrawn first (one person has only so many open).
async fn fresh_deploy_approval(w: &World) -> String {
    sqlx::query("UPDATE approval_requests SET state = 'cancelled' WHERE state = 'pending' AND requester_id = (SELECT id FROM users WHERE username = 'token:payments/matrix-requester')")
        .execute(&mut w.app.db().await)
        .await
        .expect("withdraw");
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/deploys"))
        .bearer_auth(&w.requester)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({ "service": "refunds", "environment": "production", "version": "v1", "reason": "matrix" }))
        .send()
        .await
        .expect("deploy");
    let v: serde_json::Value = r.json().await.expect("json");
    v["approval_id"].as_str().expect("waits for approval").to_owned()
}

/// A run event of a fresh run (of ledger's matrix integration's job).
fn matrix_event() -> serde_json::Value {
    json!({
        "eventType": "START", "eventTime": chrono::Utc::now().to_rfc3339(),
        "run": { "runId": Uuid::now_v7() }, "job": { "namespace": "switchyard", "name": "matrix-flow" },
        "producer": "https://example.com/matrix", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    })
}

/// An integration form of ledger's, between the matrix systems.
fn matrix_integration(name: &str) -> serde_json::Value {
    json!({
        "name": name, "title": "Matrix", "sources": "matrix-source", "targets": "matrix-target", "platform": "in-house",
        "trigger": "manual", "data_format": "json", "transport": "https", "auth": "mtls", "owner": "ledger",
    })
}

/// Ledger's matrix systems and integration (`matrix-flow`) with one run: made once, by alice.
async fn integrations_world(app: &TestApp, alice: &Browser, ingest: &str) -> String {
    for name in ["matrix-source", "matrix-target"] {
        let r = alice.client.post(alice.url("/api/v1/integration-systems")).header("origin", alice.url(""))
            .json(&json!({ "name": name, "title": name, "kind": "internal-service", "owner": "ledger" })).send().await.expect("system");
        assert_eq!(r.status(), 201);
    }
    let r = alice.client.post(alice.url("/api/v1/integrations")).header("origin", alice.url("")).json(&matrix_integration("matrix-flow")).send().await.expect("integration");
    assert_eq!(r.status(), 201);
    let event = matrix_event();
    let r = app.client.post(app.url("/api/v1/lineage")).bearer_auth(ingest).json(&event).send().await.expect("event");
    assert_eq!(r.status(), 201);
    event["run"]["runId"].as_str().expect("run id").to_owned()
}

/// Calls `method path` as one actor and returns the status.
async fn probe(w: &World, actor: &str, method: &str, path: &str) -> Option<u16> {
    let token = w.tokens.iter().find(|(name, _)| *name == actor).map(|(_, secret)| secret);
    let b = match w.browsers.iter().find(|(name, _)| *name == actor) {
        Some((_, b)) => b,
        None => &w.app.browser(),
    };
    let actor = &actor.replace([':', '_'], "-");
    let origin = w.app.url("");
    let sf = |endpoint: &str, form: Vec<(&str, String)>| {
        b.client
            .post(b.url(&format!("/api/{endpoint}")))
            .header("origin", &origin)
            .header("accept", "application/json")
            .form(&form)
    };
    let request = match (method, path) {
        ("GET", "/approvals/{id}") => b.client.get(b.url(&format!("/approvals/{}", w.approval))),
        ("GET", "/catalog/{kind}/{namespace}/{name}") => b.client.get(b.url("/catalog/component/default/ledger-core")),
        ("GET", "/catalog/component/default/{name}/edit") => b.client.get(b.url("/catalog/component/default/ledger-core/edit")),
        ("GET", "/teams/{slug}") => b.client.get(b.url("/teams/ledger")),
        ("GET", "/deploys/{id}") => b.client.get(b.url(&format!("/deploys/{}", w.deploy))),
        ("GET", "/deploys/{id}/stream") => b.client.get(b.url(&format!("/deploys/{}/stream", w.deploy))),
        ("GET", "/deploys/service/{name}") => b.client.get(b.url("/deploys/service/fees-engine")),
        ("GET", "/api/v1/deploys/{id}") => b.client.get(b.url(&format!("/api/v1/deploys/{}", w.deploy))),
        ("POST", "/api/v1/deploys") => b
            .client
            .post(b.url("/api/v1/deploys"))
            .header("origin", &origin)
            .header("idempotency-key", format!("matrix-{actor}"))
            .json(&json!({ "service": "fees-engine", "environment": "dev", "version": "v2", "reason": "matrix" })),
        ("POST", "/api/v1/deploys/{id}/cancel") => {
            let id = fresh_deploy(&w.app, &w.browsers).await;
            b.client.post(b.url(&format!("/api/v1/deploys/{id}/cancel"))).header("origin", &origin)
        }
        // unsigned: refused for everyone, signed in or not (the signature is its only credential)
        ("POST", "/api/v1/deploys/{id}/events") => b
            .client
            .post(b.url(&format!("/api/v1/deploys/{}/events", w.deploy)))
            .json(&json!({ "type": "succeeded" })),
        ("POST", "/api/deploys/plan") => sf("deploys/plan", vec![("service", "fees-engine".into())]),
        ("POST", "/api/deploys/request") => sf(
            "deploys/request",
            vec![
                ("service", "fees-engine".into()), ("environment", "staging".into()), ("version", "v3".into()),
                ("reason", "matrix".into()), ("idempotency_key", format!("matrix-sf-{actor}")),
            ],
        ),
        ("POST", "/api/deploys/page") => sf("deploys/page", vec![("id", w.deploy.clone())]),
        ("POST", "/api/deploys/list") => sf("deploys/list", vec![("query", "environment=dev".into())]),
        ("POST", "/api/deploys/service") => sf("deploys/service", vec![("service", "fees-engine".into())]),
        ("POST", "/api/deploys/cancel") => {
            let id = fresh_deploy(&w.app, &w.browsers).await;
            sf("deploys/cancel", vec![("id", id)])
        }
        // nothing succeeded yet: allowed callers hear there is nothing to roll back
        ("POST", "/api/deploys/rollback") => sf("deploys/rollback", vec![("id", w.deploy.clone()), ("idempotency_key", format!("matrix-rb-{actor}")), ("reason", "matrix".into())]),
        ("POST", "/api/deploys/calendar") => sf("deploys/calendar", vec![]),
        ("POST", "/api/deploys/environment-policies") => sf(
            "deploys/environment-policies",
            vec![("environment", "dev".into()), ("maintenance_policy", "warn".into()), ("critical_run_policy", "warn".into())],
        ),
        ("POST", "/api/calendar") => sf(
            "calendar",
            vec![("from", String::new()), ("to", String::new()), ("team", String::new()), ("service", String::new()), ("site", String::new()), ("partner", String::new())],
        ),
        ("POST", "/api/deploys/freeze-create") => sf(
            "deploys/freeze-create",
            vec![
                ("environment", "staging".into()), ("reason", format!("matrix {actor}")), ("kind", "once".into()),
                ("starts_at", "2099-01-01T00:00".into()), ("ends_at", "2099-01-02T00:00".into()),
                ("schedule", String::new()), ("duration_mins", String::new()),
            ],
        ),
        ("POST", "/api/deploys/freeze-delete") => {
            // a window of its own for each caller (a random id would be 404 for everyone)
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO freeze_windows (environment, reason, starts_at, ends_at) VALUES ('dev', 'matrix', now() + interval '1 day', now() + interval '2 days') RETURNING id",
            )
            .fetch_one(&mut w.app.db().await)
            .await
            .expect("a window");
            sf("deploys/freeze-delete", vec![("id", id.to_string())])
        }
        ("GET", "/api/v1/catalog/entities/by-name/{kind}/{namespace}/{name}") => {
            b.client.get(b.url("/api/v1/catalog/entities/by-name/component/default/ledger-core"))
        }
        ("GET", "/api/v1/catalog/entities/by-name/{kind}/{namespace}/{name}/as-of") => {
            b.client.get(b.url("/api/v1/catalog/entities/by-name/component/default/ledger-core/as-of?at=2026-01-01T00:00:00Z"))
        }
        ("GET", "/api/v1/catalog/entity-facets") => b.client.get(b.url("/api/v1/catalog/entity-facets?facet=kind")),
        ("GET", "/api/v1/catalog/imports/{id}") => {
            // a job of alice's (an admin): hers to read, and every admin's; anyone else's 404
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO catalog_import_jobs (id, requested_by, state, step) SELECT gen_random_uuid(), id, 'running', 'matrix'
                 FROM users WHERE username = 'alice' RETURNING id",
            )
            .fetch_one(&mut w.app.db().await)
            .await
            .expect("a job");
            b.client.get(b.url(&format!("/api/v1/catalog/imports/{id}")))
        }
        ("POST", "/api/v1/catalog/import") => {
            let doc = "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: matrix}\nspec: {owner: ledger}\n";
            let form = reqwest::multipart::Form::new().part("f", reqwest::multipart::Part::text(doc).file_name("catalog-info.yaml"));
            b.client.post(b.url("/api/v1/catalog/import?dry_run=true")).header("origin", &origin).multipart(form)
        }
        ("POST", "/api/v1/topology/import/graphml") => {
            let drawing = r#"<graphml><graph><node id="a"/><node id="b"/><edge source="a" target="b"/></graph></graphml>"#;
            let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::text(drawing).file_name("matrix.graphml"));
            b.client.post(b.url("/api/v1/topology/import/graphml?dry_run=true")).header("origin", &origin).multipart(form)
        }
        ("POST", "/api/v1/topology/bgp-sessions/state") => b
            .client
            .post(b.url("/api/v1/topology/bgp-sessions/state"))
            .header("origin", &origin)
            .json(&json!([{ "device": "matrix-r1", "remote_address": "192.0.2.1", "state": "established" }])),
        ("GET", "/api/v1/topology/bgp-sessions/{name}") => b.client.get(b.url("/api/v1/topology/bgp-sessions/nobody")),
        // no NetBox is configured here: an admin hears so (409), after the permission check
        ("POST", "/api/v1/topology/sync/netbox") => b.client.post(b.url("/api/v1/topology/sync/netbox?dry_run=true")).header("origin", &origin),
        ("GET", "/api/v1/topology/sync/{id}") => b.client.get(b.url(&format!("/api/v1/topology/sync/{}", Uuid::new_v4()))),
        ("GET", "/api/v1/topology/devices/{name}") => b.client.get(b.url("/api/v1/topology/devices/nobody")),
        ("GET", "/api/v1/topology/devices/{name}/as-of") => b.client.get(b.url("/api/v1/topology/devices/nobody/as-of?at=2026-01-01T00:00:00Z")),
        ("GET", "/api/v1/topology/sites/{name}") => b.client.get(b.url("/api/v1/topology/sites/nowhere")),
        ("GET", "/api/v1/topology/partners/{name}") => b.client.get(b.url("/api/v1/topology/partners/Nobody")),
        ("GET", "/api/v1/topology/partners/{name}/as-of") => b.client.get(b.url("/api/v1/topology/partners/Nobody/as-of?at=2026-01-01T00:00:00Z")),
        ("GET", "/api/v1/topology/circuits/{provider}/{cid}") => b.client.get(b.url("/api/v1/topology/circuits/Nobody/none")),
        ("GET", "/api/v1/topology/links") => b.client.get(b.url("/api/v1/topology/links?limit=5")),
        ("GET", "/api/v1/topology/bgp-sessions") => b.client.get(b.url("/api/v1/topology/bgp-sessions?state=established")),
        ("PUT", "/api/v1/topology/risk-groups/{name}") => b
            .client
            .put(b.url(&format!("/api/v1/topology/risk-groups/matrix-{actor}")))
            .header("origin", &origin)
            .json(&json!({ "kind": "power_feed", "devices": ["fra1-core-1"] })),
        ("DELETE", "/api/v1/topology/risk-groups/{name}") => {
            b.client.delete(b.url("/api/v1/topology/risk-groups/nothing")).header("origin", &origin)
        }
        ("GET", "/api/v1/topology/graph") => b.client.get(b.url("/api/v1/topology/graph?role=leaf")),
        ("POST", "/api/v1/topology/interfaces/state") => b
            .client
            .post(b.url("/api/v1/topology/interfaces/state"))
            .header("origin", &origin)
            .json(&json!([{ "device": "nobody", "interface": "et-0/0/0", "state": "up" }])),
        ("GET", "/api/v1/topology/devices/{name}/interface-states") => b.client.get(b.url("/api/v1/topology/devices/ldn-eq-core-1/interface-states")),
        ("GET", "/api/v1/topology/maintenance") => b.client.get(b.url("/api/v1/topology/maintenance")),
        ("POST", "/api/v1/topology/maintenance") => b.client.post(b.url("/api/v1/topology/maintenance")).header("origin", &origin).json(&json!({
            "site": "fra1", "title": format!("matrix-{actor}"), "starts_at": "2099-01-01T00:00:00Z", "ends_at": "2099-01-01T01:00:00Z",
        })),
        ("DELETE", "/api/v1/topology/maintenance/{id}") => {
            b.client.delete(b.url(&format!("/api/v1/topology/maintenance/{}", Uuid::new_v4()))).header("origin", &origin)
        }
        // the policies dev has already: an admin's call changes nothing
        ("PUT", "/api/v1/environments/{name}/policies") => b
            .client
            .put(b.url("/api/v1/environments/dev/policies"))
            .header("origin", &origin)
            .json(&json!({ "maintenance_policy": "warn", "critical_run_policy": "warn" })),
        ("PATCH", "/api/v1/topology/devices/{name}") => {
            b.client.patch(b.url("/api/v1/topology/devices/nobody")).header("origin", &origin).json(&json!({ "status": "active" }))
        }
        ("DELETE", "/api/v1/topology/links/{id}") => b.client.delete(b.url(&format!("/api/v1/topology/links/{}", Uuid::new_v4()))).header("origin", &origin),
        ("DELETE", "/api/v1/topology/bgp-sessions/{name}") => b.client.delete(b.url("/api/v1/topology/bgp-sessions/nobody")).header("origin", &origin),
        ("GET", "/api/v1/topology/paths") => b.client.get(b.url("/api/v1/topology/paths?from=a&to=b")),
        ("GET", "/api/v1/blast-radius") => b.client.get(b.url("/api/v1/blast-radius?kind=device&name=ldn-eq-core-1")),
        ("GET", "/api/v1/catalog/entities/by-name/component/{namespace}/{name}/network") => b.client.get(b.url("/api/v1/catalog/entities/by-name/component/default/ledger-core/network")),
        ("GET", "/api/v1/topology/partners/{name}/redundancy") => b.client.get(b.url("/api/v1/topology/partners/Nobody/redundancy")),
        ("POST", "/api/v1/approvals/{payments deploy}/approve") | ("POST", "/api/v1/approvals/{payments deploy}/reject") => {
            let id = fresh_deploy_approval(w).await;
            let verb = path.rsplit('/').next().unwrap_or("reject");
            b.client.post(b.url(&format!("/api/v1/approvals/{id}/{verb}"))).header("origin", &origin).json(&json!({ "comment": "matrix" }))
        }
        ("POST", "/api/approvals/decide {payments deploy}") => {
            let id = fresh_deploy_approval(w).await;
            sf("approvals/decide", vec![("id", id), ("verdict", "approve".into()), ("comment", "matrix".into())])
        }
        ("GET", "/integrations/{name}") => b.client.get(b.url("/integrations/matrix-flow")),
        ("GET", "/integrations/{name}/edit") => b.client.get(b.url("/integrations/matrix-flow/edit")),
        ("GET", "/integrations/systems/{name}") => b.client.get(b.url("/integrations/systems/matrix-source")),
        ("GET", "/integrations/runs/{id}") => b.client.get(b.url(&format!("/integrations/runs/{}", w.run))),
        ("GET", "/topology/devices/{name}") => b.client.get(b.url("/topology/devices/ldn-eq-core-1")),
        ("GET", "/topology/sites/{name}") => b.client.get(b.url("/topology/sites/fra1")),
        ("GET", "/topology/partners/{name}") => b.client.get(b.url("/topology/partners/Deutsche%20Bank")),
        ("GET", "/topology/circuits/{provider}/{cid}") => b.client.get(b.url("/topology/circuits/Colt/COLT-FRA-LDN-101")),
        ("GET", p) if !p.starts_with("/api/") => b.client.get(b.url(p)),
        ("POST", "/auth/logout") => return None, // signs the actor out: covered in auth tests
        ("GET", "/api/v1/me") | ("GET", "/api/v1/approvals") => b.client.get(b.url(path)),
        ("GET", "/api/v1/approvals/{id}") => b.client.get(b.url(&format!("/api/v1/approvals/{}", w.approval))),
        ("POST", "/api/v1/approvals/{id}/approve") | ("POST", "/api/v1/approvals/{id}/reject") => {
            let id = fresh_request(&w.app).await;
            let verb = path.rsplit('/').next().unwrap_or("reject");
            b.client
                .post(b.url(&format!("/api/v1/approvals/{id}/{verb}")))
                .header("origin", &origin)
                .json(&json!({ "comment": "matrix" }))
        }
        ("GET", "/api/v1/integrations/{name}") => b.client.get(b.url("/api/v1/integrations/matrix-flow")),
        ("GET", "/api/v1/integrations/{name}/runs") => b.client.get(b.url("/api/v1/integrations/matrix-flow/runs")),
        ("GET", "/api/v1/integration-runs/{run_id}") => b.client.get(b.url(&format!("/api/v1/integration-runs/{}", w.run))),
        ("GET", "/api/v1/integration-systems/{name}") => b.client.get(b.url("/api/v1/integration-systems/matrix-source")),
        ("GET", "/api/v1/integration-systems/{name}/as-of") => b.client.get(b.url("/api/v1/integration-systems/matrix-source/as-of?at=2026-01-01T00:00:00Z")),
        ("GET", "/api/v1/integrations/{name}/as-of") => b.client.get(b.url("/api/v1/integrations/matrix-flow/as-of?at=2026-01-01T00:00:00Z")),
        // matrix-source as it is: an edit that changes nothing but its version
        ("PUT", "/api/v1/integration-systems/{name}") => b.client.put(b.url("/api/v1/integration-systems/matrix-source")).header("origin", &origin)
            .json(&json!({ "title": "matrix-source", "kind": "internal-service", "owner": "ledger" })),
        ("POST", "/api/v1/integration-systems") => b.client.post(b.url("/api/v1/integration-systems")).header("origin", &origin)
            .json(&json!({ "name": format!("matrix-{actor}"), "title": "Matrix", "kind": "saas", "owner": "ledger" })),
        ("POST", "/api/v1/integrations") => {
            b.client.post(b.url("/api/v1/integrations")).header("origin", &origin).json(&matrix_integration(&format!("matrix-{actor}")))
        }
        ("PATCH", "/api/v1/integrations/{name}") => {
            let version: i32 = sqlx::query("SELECT version FROM integrations WHERE name = 'matrix-flow'").fetch_one(&mut w.app.db().await).await.expect("version").get(0);
            b.client.patch(b.url("/api/v1/integrations/matrix-flow")).header("origin", &origin).json(&json!({ "version": version, "title": format!("Matrix, as {actor} left it") }))
        }
        ("POST", "/api/v1/lineage") => b.client.post(b.url("/api/v1/lineage")).header("origin", &origin).json(&matrix_event()),
        ("POST", "/api/v1/lineage/batch") => b.client.post(b.url("/api/v1/lineage/batch")).header("origin", &origin).json(&json!([matrix_event()])),
        ("GET", p) if p.starts_with("/api/v1/") || p == "/api/openapi.json" => b.client.get(b.url(p)),
        ("POST", "/api/catalog/search") => sf("catalog/search", vec![("text", "ledger".into())]),
        ("POST", "/api/catalog/list") => sf("catalog/list", vec![("query", "kind=api".into())]),
        ("POST", "/api/catalog/entity") | ("POST", "/api/catalog/graph") | ("POST", "/api/catalog/deprecate") | ("POST", "/api/catalog/delete") => {
            // delete: ledger-core has dependents (refused after the permission check);
            // deprecate: each caller finds the service in production again, whoever came before
            let name = if path.ends_with("deprecate") { "statement-generator" } else { "ledger-core" };
            if path.ends_with("deprecate") {
                sqlx::query("UPDATE entities SET lifecycle = 'production' WHERE name = 'statement-generator'")
                    .execute(&mut w.app.db().await)
                    .await
                    .expect("back in production");
            }
            let endpoint = path.trim_start_matches("/api/");
            sf(endpoint, vec![("kind", "component".into()), ("namespace", "default".into()), ("name", name.into()), ("depth", "2".into())])
        }
        ("POST", "/api/catalog/as-of") => sf(
            "catalog/as-of",
            vec![("kind", "component".into()), ("namespace", "default".into()), ("name", "ledger-core".into()), ("at", "2026-01-01T00:00".into())],
        ),
        ("POST", "/api/catalog/team") => sf("catalog/team", vec![("slug", "ledger".into())]),
        ("POST", "/api/catalog/unresolved") => sf("catalog/unresolved", vec![]),
        ("POST", "/api/catalog/edit-form") => sf("catalog/edit-form", vec![("name", "reconciliation".into())]),
        ("POST", "/api/catalog/register") => {
            let name = format!("matrix-{actor}");
            let mut form = matrix_form(&name);
            form.push(("tier", "3".into()));
            sf("catalog/register", form)
        }
        ("POST", "/api/catalog/edit") => {
            // the current form and version of a ledger service, saved back with a new title
            let mut db = w.app.db().await;
            let version: i32 = sqlx::query("SELECT version FROM entities WHERE name = 'reconciliation'").fetch_one(&mut db).await.expect("version").get(0);
            let mut form = matrix_form("reconciliation");
            form.push(("tier", "1".into()));
            form.push(("version", version.to_string()));
            sf("catalog/edit", form)
        }
        ("POST", "/api/catalog/import") => sf(
            "catalog/import",
            vec![("content", "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: matrix}\nspec: {owner: ledger}\n".into()), ("dry_run", "on".into())],
        ),
        ("POST", "/api/catalog/overview") => sf("catalog/overview", vec![]),
        ("POST", "/api/home") => sf("home", vec![]),
        ("POST", "/api/catalog/import-returned") => sf("catalog/import-returned", vec![]),
        ("POST", "/api/iam/me") => sf("iam/me", vec![]),
        ("POST", "/api/iam/sessions") => sf("iam/sessions", vec![("everyone", "true".into())]),
        ("POST", "/api/iam/end-session") => {
            // someone else's live session, new for each caller
            let mut db = w.app.db().await;
            let owner = new_user(&mut db, "session-owner").await;
            let id: Uuid = sqlx::query_scalar("INSERT INTO user_sessions (id, user_id, expires_at) VALUES (gen_random_uuid(), $1, now() + interval '1 hour') RETURNING id")
                .bind(owner)
                .fetch_one(&mut db)
                .await
                .expect("a session");
            sf("iam/end-session", vec![("id", id.to_string())])
        }
        ("POST", "/api/iam/create-token") => sf("iam/create-token", vec![("name", "matrix".into()), ("read", "on".into()), ("days", "30".into())]),
        ("POST", "/api/iam/tokens") => sf("iam/tokens", vec![("everyone", "true".into())]),
        ("POST", "/api/iam/revoke-token") => {
            // someone else's live token, new for each caller
            let mut db = w.app.db().await;
            let owner = new_user(&mut db, "token-owner").await;
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO api_tokens (name, kind, user_id, scopes, token_hash, token_prefix, created_by, expires_at)
                 VALUES ('matrix', 'personal', $1, '{read}', decode(md5(random()::text), 'hex'), 'sy_matrix', $1, now() + interval '1 day') RETURNING id",
            )
            .bind(owner)
            .fetch_one(&mut db)
            .await
            .expect("a token");
            sf("iam/revoke-token", vec![("id", id.to_string())])
        }
        ("POST", "/api/iam/teams") => sf("iam/teams", vec![]),
        ("POST", "/api/iam/create-team") => {
            sf("iam/create-team", vec![("slug", format!("matrix-{actor}")), ("name", "Matrix".into()), ("description", String::new())])
        }
        ("POST", "/api/iam/set-member") => {
            sf("iam/set-member", vec![("team", "data".into()), ("username", "dave".into()), ("role", "member".into())])
        }
        ("POST", "/api/iam/remove-member") => {
            sf("iam/remove-member", vec![("team", "ledger".into()), ("username", "nobody".into())])
        }
        ("POST", "/api/topology/overview") => sf("topology/overview", vec![]),
        ("POST", "/api/topology/device") => sf("topology/device", vec![("name", "nobody".into())]),
        ("POST", "/api/topology/blast-radius") => sf("topology/blast-radius", vec![("kind", "device".into()), ("name", "ldn-eq-core-1".into())]),
        ("POST", "/api/topology/service-network") => sf("topology/service-network", vec![("namespace", "default".into()), ("name", "ledger-core".into())]),
        ("POST", "/api/topology/site") => sf("topology/site", vec![("name", "nowhere".into())]),
        ("POST", "/api/topology/partner") => sf("topology/partner", vec![("name", "Nobody".into())]),
        ("POST", "/api/topology/as-of") => sf("topology/as-of", vec![("kind", "partner".into()), ("name", "Nobody".into()), ("at", "2026-01-01T00:00".into())]),
        ("POST", "/api/topology/partner-names") => sf("topology/partner-names", vec![]),
        ("POST", "/api/topology/partner-history") => sf("topology/partner-history", vec![("name", "Nobody".into())]),
        ("POST", "/api/topology/circuit") => sf("topology/circuit", vec![("provider", "Nobody".into()), ("cid", "none".into())]),
        ("POST", "/api/topology/paths") => sf("topology/paths", vec![("from", "a".into()), ("to", "b".into())]),
        ("POST", "/api/topology/devices") => sf("topology/devices", vec![("query", "role=leaf".into())]),
        ("POST", "/api/topology/may-change") => sf("topology/may-change", vec![]),
        ("POST", "/api/topology/netbox-panel") => sf("topology/netbox-panel", vec![]),
        ("POST", "/api/topology/netbox-sync") => sf("topology/netbox-sync", vec![("dry_run", "yes".into())]),
        ("POST", "/api/topology/maintenance-plan") => sf(
            "topology/maintenance-plan",
            vec![
                ("back", "/topology/sites/fra1".into()),
                ("device", String::new()),
                ("site", "fra1".into()),
                ("provider", String::new()),
                ("cid", String::new()),
                ("kind", "planned".into()),
                ("title", format!("matrix-sf-{actor}")),
                ("reference", String::new()),
                ("starts_at", "2099-01-01T00:00".into()),
                ("ends_at", "2099-01-01T01:00".into()),
            ],
        ),
        ("POST", "/api/topology/maintenance-cancel") => {
            sf("topology/maintenance-cancel", vec![("back", "/topology/sites/fra1".into()), ("id", Uuid::new_v4().to_string())])
        }
        ("POST", "/api/topology/device-edit") => sf(
            "topology/device-edit",
            vec![("name", "nobody".into()), ("status", "active".into()), ("role", "leaf".into()), ("pci_scope", "no".into()), ("reason", String::new())],
        ),
        ("POST", "/api/topology/link-remove") => {
            sf("topology/link-remove", vec![("device", "nobody".into()), ("id", Uuid::new_v4().to_string()), ("reason", String::new())])
        }
        ("POST", "/api/topology/session-remove") => {
            sf("topology/session-remove", vec![("device", "nobody".into()), ("name", "nobody".into()), ("reason", String::new())])
        }
        ("POST", "/api/integrations/list") => sf("integrations/list", vec![("query", "health=unknown".into())]),
        ("POST", "/api/integrations/get") => sf("integrations/get", vec![("name", "matrix-flow".into()), ("runs", String::new())]),
        ("POST", "/api/integrations/runs") => sf("integrations/runs", vec![("name", "matrix-flow".into())]),
        ("POST", "/api/integrations/run") => sf("integrations/run", vec![("id", w.run.clone())]),
        ("POST", "/api/integrations/systems") => sf("integrations/systems", vec![]),
        ("POST", "/api/integrations/as-of") => sf("integrations/as-of", vec![("system", "false".into()), ("name", "matrix-flow".into()), ("at", "2026-01-01T00:00".into())]),
        ("POST", "/api/integrations/system") => sf("integrations/system", vec![("name", "matrix-source".into())]),
        ("POST", "/api/integrations/unregistered") => sf("integrations/unregistered", vec![]),
        ("POST", "/api/integrations/register") => {
            let form = matrix_integration(&format!("matrix-sf-{actor}"));
            let pairs: Vec<(&str, String)> = form.as_object().expect("a form").iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("").to_owned())).collect();
            sf("integrations/register", pairs)
        }
        ("POST", "/api/integrations/edit-form") => sf("integrations/edit-form", vec![("name", "matrix-flow".into())]),
        ("POST", "/api/integrations/edit") => {
            let version: i32 = sqlx::query("SELECT version FROM integrations WHERE name = 'matrix-flow'").fetch_one(&mut w.app.db().await).await.expect("version").get(0);
            let form = matrix_integration("matrix-flow");
            let mut pairs: Vec<(&str, String)> = form.as_object().expect("a form").iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("").to_owned())).collect();
            pairs.retain(|(k, _)| *k != "title");
            pairs.push(("title", format!("Matrix, saved by {actor}")));
            pairs.push(("version", version.to_string()));
            sf("integrations/edit", pairs)
        }
        ("POST", "/api/integrations/create-system") => sf(
            "integrations/create-system",
            vec![("name", format!("matrix-sfs-{actor}")), ("title", "Matrix".into()), ("kind", "saas".into()), ("owner", "ledger".into())],
        ),
        ("POST", "/api/integrations/edit-system") => sf(
            "integrations/edit-system",
            vec![("name", "matrix-source".into()), ("title", "matrix-source".into()), ("kind", "internal-service".into()), ("owner", "ledger".into())],
        ),
        ("POST", "/api/docs/api") => sf("docs/api", vec![]),
        ("POST", "/api/audit/history") => sf("audit/history", vec![("subject_kind", "approval".into()), ("subject_id", w.approval.clone())]),
        ("POST", "/api/approvals/list") => sf("approvals/list", vec![("inbox", "all".into())]),
        ("POST", "/api/approvals/waiting-count") => sf("approvals/waiting-count", vec![]),
        ("POST", "/api/approvals/get") => sf("approvals/get", vec![("id", w.approval.clone())]),
        ("POST", "/api/approvals/decide") => {
            let id = fresh_request(&w.app).await;
            sf("approvals/decide", vec![("id", id), ("verdict", "approve".into()), ("comment", "matrix".into())])
        }
        ("POST", "/api/approvals/request-admin") => sf("approvals/request-admin", vec![("reason", "matrix".into())]),
        ("POST", "/api/audit/search") => sf("audit/search", vec![]),
        ("POST", "/api/audit/verify") => sf("audit/verify", vec![]),
        (m, p) => panic!("the permission matrix has no entry for {m} {p}: add one to `probe`"),
    };
    let request = match token {
        Some(secret) => request.bearer_auth(secret),
        None => request,
    };
    Some(request.send().await.expect("probe").status().as_u16())
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_snapshot_says() {
    let app = spawn_app_with_demo_data().await;
    let mut browsers = Vec::new();
    for (name, user) in ACTORS {
        if let Some(user) = user {
            browsers.push((name, app.login_as(user).await));
        }
    }
    let mut tokens = Vec::new();
    for (name, owner, team, scopes) in TOKENS {
        let browser = &browsers.iter().find(|(n, _)| *n == owner).expect("owner").1;
        tokens.push((name, browser.token(name, scopes, team).await));
    }
    let alice = &browsers.iter().find(|(n, _)| *n == "admin").expect("admin").1;
    let requester = alice.token("matrix-requester", &["read", "deploy"], Some("payments")).await;
    let approval = fresh_request(&app).await;
    let deploy = fresh_deploy(&app, &browsers).await;
    let ingest = &tokens.iter().find(|(n, _)| *n == "svc:ingest").expect("ingest token").1;
    let run = integrations_world(&app, alice, ingest).await;
    let world = World { app, browsers, tokens, requester, approval, deploy, run };

    let callers: Vec<&str> = ACTORS.iter().map(|(n, _)| *n).chain(TOKENS.iter().map(|t| t.0)).collect();
    let mut table = String::new();
    let _ = writeln!(table, "{:<64} {}", "route", callers.iter().map(|n| format!("{n:>11}")).collect::<Vec<_>>().join(" "));
    let rows = server::startup::route_inventory()
        .into_iter()
        .chain(DEPLOY_DECISIONS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())));
    for (method, path) in rows {
        let mut cells = Vec::new();
        for actor in &callers {
            cells.push(match probe(&world, actor, &method, &path).await {
                Some(status) => format!("{status:>11}"),
                None => format!("{:>11}", "-"),
            });
        }
        let _ = writeln!(table, "{:<64} {}", format!("{method} {path}"), cells.join(" "));
    }
    insta::assert_snapshot!(table);
}
