//! API tokens: shown once, stored hashed, scoped, revocable, and the only credential when sent.
use crate::helpers::{Browser, Persona, spawn_app};
use serde_json::Value;

async fn create(browser: &Browser, form: &[(&str, &str)]) -> reqwest::Response {
    browser.server_fn("iam/create-token", form).await
}

async fn secret(browser: &Browser, form: &[(&str, &str)]) -> String {
    let response = create(browser, form).await;
    assert_eq!(response.status(), 200);
    let new: Value = response.json().await.expect("json");
    new["secret"].as_str().expect("secret").to_owned()
}

#[tokio::test]
async fn a_personal_token_acts_for_its_owner_until_revoked() {
    let app = spawn_app().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let token = secret(&bob, &[("name", "laptop script"), ("read", "on"), ("days", "30")]).await;
    assert!(token.starts_with("sy_") && token.len() > 40);

    let me = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.expect("GET");
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["username"], "bob");

    let mut db = app.db().await;
    let stored: (String, String) = sqlx::query_as("SELECT encode(token_hash, 'hex'), token_prefix FROM api_tokens")
        .fetch_one(&mut db)
        .await
        .expect("row");
    assert!(!stored.0.contains(&token[3..]), "the secret itself is not stored");
    let audit: String = sqlx::query_scalar("SELECT after::text FROM audit_log WHERE action = 'token.created'")
        .fetch_one(&mut db)
        .await
        .expect("audit row");
    assert!(!audit.contains(&token[3..]), "the audit row holds no secret");

    let list: Vec<Value> = bob.server_fn("iam/tokens", &[("everyone", "false")]).await.json().await.expect("json");
    let id = list[0]["id"].as_str().expect("id").to_owned();
    assert!(list[0]["last_used_at"].is_string(), "last use is shown");
    assert_eq!(bob.server_fn("iam/revoke-token", &[("id", &id)]).await.status(), 200);
    let after = app.client.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.expect("GET");
    assert_eq!(after.status(), 401);
    let body: Value = after.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn a_token_is_held_to_its_scopes_even_for_an_admin() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let alice = app.login_as(Persona::Admin).await;
    let approval = dave.server_fn("approvals/request-admin", &[("reason", "rota")]).await.json::<Value>().await.expect("id");
    let id = approval.as_str().expect("id");
    let read_only = secret(&alice, &[("name", "reader"), ("read", "on"), ("days", "30")]).await;
    let refused = app
        .client
        .post(app.url(&format!("/api/v1/approvals/{id}/approve")))
        .bearer_auth(&read_only)
        .json(&serde_json::json!({ "comment": "ok" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status(), 403);

    // a bearer token carries no ambient credential: no Origin needed
    let admin = secret(&alice, &[("name", "approver bot"), ("admin", "on"), ("days", "30")]).await;
    let approved = app
        .client
        .post(app.url(&format!("/api/v1/approvals/{id}/approve")))
        .bearer_auth(&admin)
        .json(&serde_json::json!({ "comment": "on call rota agreed" }))
        .send()
        .await
        .expect("POST");
    assert_eq!(approved.status(), 200);
}

#[tokio::test]
async fn only_admins_grant_the_admin_scope_or_make_service_tokens() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let bob = app.login_as(Persona::PaymentsLead).await; // brings team payments
    let alice = app.login_as(Persona::Admin).await;

    let refused = create(&dave, &[("name", "x"), ("admin", "on"), ("days", "30")]).await;
    assert_eq!(refused.status(), 422);
    let none = create(&dave, &[("name", "x"), ("days", "30")]).await;
    assert_eq!(none.status(), 422);
    let body: Value = none.json().await.expect("json");
    assert!(body.to_string().contains("at least one scope"), "{body}");
    assert_eq!(create(&bob, &[("name", "ci"), ("team", "payments"), ("write", "on"), ("days", "30")]).await.status(), 403);

    let service = secret(&alice, &[("name", "ci"), ("team", "payments"), ("write", "on"), ("days", "90")]).await;
    let me: Value = app.client.get(app.url("/api/v1/me")).bearer_auth(&service).send().await.expect("GET").json().await.expect("json");
    assert_eq!(me["username"], "token:payments/ci");
    assert_eq!(me["teams"][0]["slug"], "payments");
    assert_eq!(me["roles"], serde_json::json!(["viewer"]));
}

#[tokio::test]
async fn a_malformed_path_query_or_body_is_refused_with_the_documented_json_error() {
    let app = spawn_app().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let token = secret(&bob, &[("name", "contract"), ("read", "on"), ("write", "on"), ("deploy", "on"), ("days", "30")]).await;
    let cases = [
        app.client.get(app.url("/api/v1/approvals/not-a-uuid")).bearer_auth(&token),
        app.client.get(app.url("/api/v1/deploys?service=a&service=b")).bearer_auth(&token),
        app.client.post(app.url("/api/v1/deploys")).bearer_auth(&token).header("content-type", "application/json").body("{not json"),
        app.client.post(app.url("/api/v1/deploys")).bearer_auth(&token).body("service=x"),
    ];
    for (request, (status, field)) in cases.into_iter().zip([(400, "path"), (400, "query"), (400, "body"), (415, "body")]) {
        let response = request.send().await.expect("request");
        let url = response.url().to_string();
        assert_eq!(response.status(), status, "{url}");
        assert!(response.headers()["content-type"].to_str().unwrap_or("").starts_with("application/json"), "{url}");
        let body: Value = response.json().await.expect("a JSON error body");
        assert_eq!(body["error"]["code"], "invalid", "{url}: {body}");
        assert_eq!(body["error"]["field"], field, "{url}: {body}");
        assert!(body["error"]["request_id"].as_str().is_some_and(|id| !id.is_empty() && id != "-"), "{url}: {body}");
    }
}
