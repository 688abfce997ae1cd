use crate::helpers::{Persona, spawn_app, spawn_app_with_demo_data};
use serde_json::Value;

#[tokio::test]
async fn the_home_page_renders_the_shell_and_demo_data() {
    let app = spawn_app_with_demo_data().await;
    let dave = app.login_as(Persona::Viewer).await;
    let response = dave.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("body");
    assert!(html.contains("Switchyard"));
    assert!(html.contains("Dave Viewer"), "user menu lacks the signed-in name");
    for section in ["Catalog", "Integrations", "Topology", "Deploys", "Approvals"] {
        assert!(html.contains(&format!(">{section}<")), "nav lacks {section}");
    }
    assert_eq!(text_of(&html, r#"data-testid="stat-services""#), Some("60"), "service count");
    assert!(html.contains("Risk &amp; Fraud"), "team list missing");
    let latest: String = sqlx::query_scalar("SELECT title FROM entities WHERE kind = 'component' ORDER BY updated_at DESC, id DESC LIMIT 1")
        .fetch_one(&mut app.db().await)
        .await
        .expect("latest change");
    assert!(html.contains(&latest.replace('&', "&amp;")), "the latest changed service ({latest}) is not among the recently changed");
}

#[tokio::test]
async fn an_unknown_path_answers_404_with_a_page() {
    let app = spawn_app().await;
    let response = app.login_as(Persona::Viewer).await.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.expect("body");
    assert!(html.contains("Page not found"));
    assert!(html.contains("/no/such/page"));
}

#[tokio::test]
async fn a_failure_shows_the_request_id_and_no_internals() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    app.drop_database().await;
    let response = dave.get("/").await;
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("request id");
    let html = response.text().await.expect("body");
    assert!(html.contains("Something went wrong"), "{html}");
    assert!(html.contains(&request_id), "error page lacks request id {request_id}");
    for secret in ["sqlx", "does not exist", "switchyard_test_", "postgres://"] {
        assert!(!html.contains(secret), "error page leaks {secret:?}");
    }
}

#[tokio::test]
async fn the_search_server_function_finds_services_by_name_and_title() {
    let app = spawn_app_with_demo_data().await;
    let response = app.login_as(Persona::Viewer).await.server_fn("catalog/search", &[("text", "ledger")]).await;
    assert_eq!(response.status(), 200);
    let found: Vec<Value> = response.json().await.expect("json");
    let names: Vec<&str> = found.iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"ledger-core"), "{names:?}");
    assert!(!names.contains(&"payment-gateway"), "{names:?}");
}

#[tokio::test]
async fn a_too_long_search_is_refused_with_a_reason() {
    let app = spawn_app().await;
    let long = "a".repeat(201);
    let response = app.login_as(Persona::Viewer).await.server_fn("catalog/search", &[("text", &long)]).await;
    assert_eq!(response.status(), 422);
    let body = response.text().await.expect("body");
    assert!(body.contains("longer than 200 characters"), "{body}");
}

/// The text right inside the element whose opening tag contains `marker`.
fn text_of<'a>(html: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &html[html.find(marker)?..];
    let inner = &rest[rest.find('>')? + 1..];
    Some(&inner[..inner.find('<')?])
}

#[tokio::test]
async fn a_page_of_something_not_there_answers_404_and_says_so_and_one_that_is_there_200() {
    let app = spawn_app_with_demo_data().await;
    let dave = app.login_as(Persona::Viewer).await;
    for (path, status) in [
        ("/catalog/component/default/ledger-core", 200),
        ("/catalog/component/default/no-such-service", 404),
        ("/teams/ledger", 200),
        ("/teams/no-such-team", 404),
        ("/integrations/no-such-integration", 404),
        ("/integrations/systems/no-such-system", 404),
        ("/topology/devices/no-such-device", 404),
        ("/topology/partners/No%20Such%20Bank", 404),
    ] {
        let response = dave.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let html = response.text().await.expect("body");
        if status == 404 {
            assert!(html.contains("not found") || html.contains("Not found"), "{path} says what is missing: {html}");
        }
    }
}

#[tokio::test]
async fn a_components_page_answers_for_the_component_whatever_its_cards_answer() {
    let app = spawn_app_with_demo_data().await;
    let dave = app.login_as(Persona::Viewer).await;
    // the "as it was" card and the network card refuse the moment; the page itself is there
    let response = dave.get("/catalog/component/default/ledger-core?as_of=yesterday").await;
    assert_eq!(response.status(), 200, "the cards' refusal does not decide the page's status");
    let html = response.text().await.expect("body");
    assert!(html.contains("Ledger Core"), "the component is shown");
    assert!(html.contains("is not a time"), "the cards say what is wrong with the moment: {html}");
    // and a missing component is still a 404, whatever its cards' reads answered
    assert_eq!(dave.get("/catalog/component/default/no-such-service?as_of=yesterday").await.status(), 404);
}
