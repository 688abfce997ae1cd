use crate::helpers::{Options, Persona, spawn_app, spawn_app_with};
use serde_json::Value;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_is_green_on_a_migrated_database() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["migrations"]["applied"], body["migrations"]["expected"]);
    assert!(body["migrations"]["expected"].as_u64().unwrap_or(0) >= 1);
}

#[tokio::test]
async fn readyz_is_red_while_migrations_are_pending() {
    let app = spawn_app_with(Options { migrate: false, ..Options::default() }).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["migrations"]["applied"], 0);
}

#[tokio::test]
async fn readyz_is_red_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.drop_database().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["database"], "unreachable");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("x-request-id header")
    };
    let (a, b) = (id(&first), id(&second));
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
    assert_ne!(a, b);

    // an id set by a proxy in front is kept, so logs line up across hops
    let forwarded = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-1234")
        .send()
        .await
        .expect("GET");
    assert_eq!(id(&forwarded), "lb-1234");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let big = "x".repeat(3 * 1024 * 1024);
    let response = app
        .client
        .post(app.url("/api/catalog/search"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("text={big}"))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let response = dave
        .client
        .get(dave.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers().get("content-encoding").and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
}
