//! Sign-in through the real identity provider, sessions, deny-by-default and CSRF.
use crate::helpers::{Options, Persona, spawn_app, spawn_app_with};
use serde_json::Value;

#[tokio::test]
async fn an_anonymous_page_request_is_sent_to_sign_in_with_its_path() {
    let app = spawn_app().await;
    let response = app.get("/catalog?q=ledger").await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/auth/login?next=%2Fcatalog%3Fq%3Dledger")
    );
}

#[tokio::test]
async fn an_anonymous_server_function_call_gets_401_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/iam/me"))
        .header("origin", &app.address)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(body["error"]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[tokio::test]
async fn signing_in_returns_to_the_page_asked_for_with_a_new_session_id() {
    let app = spawn_app().await;
    let browser = app.browser();
    let start = browser.client.get(browser.url("/auth/login?next=/me")).send().await.expect("login");
    let before = browser.session_cookie().expect("a session holds the pending sign-in");
    let form = browser.follow(start).await;
    let callback = browser.submit_credentials(form, "bob", "bob").await;
    let to_target = browser.follow_once(callback).await;
    assert_eq!(to_target.status(), 303);
    assert_eq!(to_target.headers().get("location").and_then(|v| v.to_str().ok()), Some("/me"));
    let after = browser.session_cookie().expect("signed-in session");
    assert_ne!(before, after, "the session id must change at sign-in");

    let page = browser.get("/me").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Bob Builder"));
    assert!(html.contains("payments"), "bob's team from the directory is missing");
}

#[tokio::test]
async fn a_wrong_password_is_refused_by_the_provider() {
    let app = spawn_app().await;
    let browser = app.browser();
    let form = browser.open_login_form().await;
    let response = browser.submit_credentials(form, "bob", "not-bob").await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.expect("html");
    assert!(html.contains("Unknown user name or wrong password"));
    assert!(browser.get("/").await.status().is_redirection(), "must still be signed out");
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    let form = browser.open_login_form().await;
    let callback = browser.submit_credentials(form, "carol", "carol").await;
    let callback_url = callback.url().join(
        callback.headers().get("location").and_then(|v| v.to_str().ok()).expect("location"),
    ).expect("callback URL");
    assert_eq!(browser.follow(callback).await.status(), 200);

    let replay = browser.client.get(callback_url.clone()).send().await.expect("replay");
    assert_eq!(replay.status(), 400);
    assert!(replay.text().await.expect("html").contains("already been used"));

    // and from another browser, which never started a sign-in
    let stranger = app.browser().client.get(callback_url).send().await.expect("replay elsewhere");
    assert_eq!(stranger.status(), 400);
}

#[tokio::test]
async fn a_tampered_state_is_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    let form = browser.open_login_form().await;
    let callback = browser.submit_credentials(form, "carol", "carol").await;
    let url = with_param(&callback, "state", |v| format!("{v}x"));
    let response = browser.client.get(url).send().await.expect("tampered callback");
    assert_eq!(response.status(), 400);
    assert!(response.text().await.expect("html").contains("state mismatch"));
    assert!(browser.get("/").await.status().is_redirection(), "must not be signed in");
}

#[tokio::test]
async fn a_tampered_code_is_refused() {
    let app = spawn_app().await;
    let browser = app.browser();
    let form = browser.open_login_form().await;
    let callback = browser.submit_credentials(form, "carol", "carol").await;
    let url = with_param(&callback, "code", |_| "forged-code".into());
    let response = browser.client.get(url).send().await.expect("tampered callback");
    assert_eq!(response.status(), 401);
    assert!(browser.get("/").await.status().is_redirection(), "must not be signed in");
}

#[tokio::test]
async fn cancelling_at_the_provider_shows_a_page_with_a_retry_link() {
    let app = spawn_app().await;
    let browser = app.browser();
    let form = browser.open_login_form().await;
    let page_url = form.url().clone();
    let html = form.text().await.expect("form");
    let abort = html.split("formaction=\"").nth(1).and_then(|r| r.split('"').next()).expect("cancel button");
    let response = browser.client.post(page_url.join(abort).expect("url")).send().await.expect("cancel");
    let landed = browser.follow(response).await;
    assert_eq!(landed.status(), 401);
    let text = landed.text().await.expect("html");
    assert!(text.contains("Sign-in cancelled"));
    assert!(text.contains(r#"href="/auth/login""#));
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_when_signed_in() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let forged = dave
        .client
        .post(dave.url("/api/iam/me"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status(), 403);
    let body: Value = forged.json().await.expect("json");
    assert_eq!(body["error"]["code"], "cross_site_request");

    let no_origin = dave.client.post(dave.url("/api/iam/me")).send().await.expect("POST");
    assert_eq!(no_origin.status(), 403, "no Origin and no Referer is refused");

    let same_site = dave.server_fn("iam/me", &[]).await;
    assert_eq!(same_site.status(), 200);
    let me: Value = same_site.json().await.expect("json");
    assert_eq!(me["username"], "dave");
}

#[tokio::test]
async fn signing_out_ends_the_session_for_good() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let cookie = dave.session_cookie().expect("session");
    let out = dave.post_form("/auth/logout", &[]).await;
    assert_eq!(out.status(), 303);
    let location = out.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(location.contains("/session/end"), "RP-initiated logout at the provider: {location}");
    assert!(dave.get("/").await.status().is_redirection());

    // the old cookie, replayed by someone who kept it, is worthless
    let thief = app.browser();
    let replay = thief
        .client
        .get(thief.url("/"))
        .header("cookie", format!("switchyard_session={cookie}"))
        .send()
        .await
        .expect("GET");
    assert!(replay.status().is_redirection());
}

#[tokio::test]
async fn ending_a_session_elsewhere_signs_that_browser_out() {
    let app = spawn_app().await;
    let laptop = app.login_as(Persona::LedgerMember).await;
    let phone = app.login_as(Persona::LedgerMember).await;
    let sessions: Vec<Value> = phone
        .server_fn("iam/sessions", &[("everyone", "false")])
        .await
        .json()
        .await
        .expect("sessions");
    assert_eq!(sessions.len(), 2);
    let other = sessions.iter().find(|s| s["current"] == false).expect("the laptop's session");
    let id = other["id"].as_str().expect("id");
    assert_eq!(phone.server_fn("iam/end-session", &[("id", id)]).await.status(), 200);
    assert!(laptop.get("/").await.status().is_redirection(), "the laptop must be signed out");
    assert_eq!(phone.get("/").await.status(), 200);
}

#[tokio::test]
async fn only_admins_see_everyones_sessions_and_end_them() {
    let app = spawn_app().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let dave = app.login_as(Persona::Viewer).await;
    let alice = app.login_as(Persona::Admin).await;

    assert_eq!(dave.server_fn("iam/sessions", &[("everyone", "true")]).await.status(), 403);
    let all: Vec<Value> = alice
        .server_fn("iam/sessions", &[("everyone", "true")])
        .await
        .json()
        .await
        .expect("sessions");
    let carols = all.iter().find(|s| s["username"] == "carol").expect("carol's session");
    let id = carols["id"].as_str().expect("id");

    assert_eq!(dave.server_fn("iam/end-session", &[("id", id)]).await.status(), 403);
    assert_eq!(carol.get("/").await.status(), 200, "a refused end must change nothing");
    assert_eq!(alice.server_fn("iam/end-session", &[("id", id)]).await.status(), 200);
    assert!(carol.get("/").await.status().is_redirection());
}

#[tokio::test]
async fn roles_and_navigation_follow_the_directory() {
    let app = spawn_app().await;
    let alice = app.login_as(Persona::Admin).await.get("/").await.text().await.expect("html");
    let dave = app.login_as(Persona::Viewer).await.get("/").await.text().await.expect("html");
    assert!(alice.contains(r#"href="/admin""#), "admins see Admin");
    assert!(!dave.contains(r#"href="/admin""#), "viewers do not");
    let forbidden = app.login_as(Persona::Viewer).await.get("/admin").await;
    assert_eq!(forbidden.status(), 403);
}

/// The redirect's target with one query parameter changed.
fn with_param(redirect: &reqwest::Response, key: &str, change: impl Fn(&str) -> String) -> reqwest::Url {
    let location = redirect.headers().get("location").and_then(|v| v.to_str().ok()).expect("location");
    let mut url = redirect.url().join(location).expect("callback URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let value = if k == key { change(&v) } else { v.into_owned() };
            (k.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url
}

#[tokio::test]
async fn an_es256_signed_id_token_is_accepted_too() {
    // the dev IdP's second client signs ID tokens with ES256; the algorithms come from discovery
    let app = spawn_app_with(Options {
        migrate: true,
        settings: vec![("oidc.client_id", "switchyard-es256".into())],
        ..Options::default()
    })
    .await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let me: Value = carol.get("/api/v1/me").await.json().await.expect("me");
    assert_eq!(me["username"], "carol");
}

#[tokio::test]
async fn an_unreachable_identity_provider_gets_a_clear_page_with_a_retry() {
    let app = spawn_app_with(Options {
        migrate: true,
        // nothing listens on port 9 of the loopback
        settings: vec![("oidc.issuer_url", "http://127.0.0.1:9".into())],
        ..Options::default()
    })
    .await;
    let response = app.browser().client.get(app.url("/auth/login")).send().await.expect("login");
    assert_eq!(response.status(), 503);
    let html = response.text().await.expect("html");
    assert!(html.contains("The company sign-in is not answering"));
    assert!(html.contains(r#"href="/auth/login""#), "retry link");
    assert!(html.contains("data-testid=\"request-id\""));
}

#[tokio::test]
async fn the_idle_timeout_counts_from_the_last_request_not_from_sign_in() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    // as if dave signed in long ago and was last seen over a minute ago: his session would end
    // in ten seconds were it not renewed by his next request
    let mut db = app.db().await;
    sqlx::query("UPDATE tower_sessions.session SET expiry_date = now() + interval '10 seconds'").execute(&mut db).await.expect("age the session");
    sqlx::query("UPDATE user_sessions SET last_seen_at = now() - interval '2 minutes'").execute(&mut db).await.expect("age last seen");
    let page = dave.get("/").await;
    assert_eq!(page.status(), 200);
    let cookie = page.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find(|c| c.starts_with("switchyard_session="));
    let max_age: i64 = cookie
        .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("Max-Age=")))
        .and_then(|s| s.parse().ok())
        .expect("the cookie is sent again with a new Max-Age");
    assert!(max_age > 25 * 60, "renewed for the idle timeout (30 min): {max_age} s");
    let renewed: i64 = sqlx::query_scalar("SELECT count(*) FROM tower_sessions.session WHERE expiry_date > now() + interval '25 minutes'")
        .fetch_one(&mut db)
        .await
        .expect("expiry");
    assert_eq!(renewed, 1, "the store's expiry is renewed too");
    // within the same minute nothing is written again
    let again = dave.get("/").await;
    assert!(again.headers().get_all("set-cookie").iter().all(|v| !v.to_str().unwrap_or("").starts_with("switchyard_session=")));
}
