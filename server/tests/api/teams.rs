//! Teams managed by admins, beside the ones the directory feeds.
use crate::helpers::{spawn_app, Persona};
use serde_json::Value;

#[tokio::test]
async fn admins_create_teams_and_manage_members_and_the_directory_keeps_its_own() {
    let app = spawn_app().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    app.login_as(Persona::PaymentsLead).await;
    let alice = app.login_as(Persona::Admin).await;

    let bad = alice.server_fn("iam/create-team", &[("slug", "Risk Team"), ("name", "Risk"), ("description", "")]).await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["Invalid"]["field"], "slug", "{body}");

    assert_eq!(carol.server_fn("iam/create-team", &[("slug", "risk"), ("name", "Risk"), ("description", "")]).await.status(), 403);
    assert_eq!(alice.server_fn("iam/create-team", &[("slug", "risk"), ("name", "Risk & Fraud"), ("description", "fraud rules")]).await.status(), 200);
    assert_eq!(alice.server_fn("iam/create-team", &[("slug", "risk"), ("name", "Again"), ("description", "")]).await.status(), 422, "slugs are unique");

    assert_eq!(alice.server_fn("iam/set-member", &[("team", "risk"), ("username", "carol"), ("role", "lead")]).await.status(), 200);
    let unknown = alice.server_fn("iam/set-member", &[("team", "risk"), ("username", "zoe"), ("role", "member")]).await;
    assert_eq!(unknown.status(), 422);
    assert!(unknown.text().await.expect("body").contains("has signed in"), "says why");

    let me: Value = carol.get("/api/v1/me").await.json().await.expect("me");
    let teams: Vec<(String, String)> = me["teams"]
        .as_array()
        .expect("teams")
        .iter()
        .map(|t| (t["slug"].as_str().unwrap_or("").to_owned(), t["role"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert!(teams.contains(&("risk".into(), "lead".into())), "{teams:?}");
    assert!(teams.contains(&("ledger".into(), "member".into())), "directory team kept: {teams:?}");

    let from_directory = alice.server_fn("iam/remove-member", &[("team", "payments"), ("username", "bob")]).await;
    assert_eq!(from_directory.status(), 422);
    assert!(from_directory.text().await.expect("body").contains("directory"));
    assert_eq!(alice.server_fn("iam/remove-member", &[("team", "risk"), ("username", "carol")]).await.status(), 200);

    let teams: Vec<Value> = carol.server_fn("iam/teams", &[]).await.json().await.expect("teams");
    let risk = teams.iter().find(|t| t["slug"] == "risk").expect("risk team");
    assert_eq!(risk["members"].as_array().map(Vec::len), Some(0));

    let mut db = app.db().await;
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log WHERE subject_kind = 'team' AND subject_id = 'risk' ORDER BY id")
        .fetch_all(&mut db)
        .await
        .expect("audit");
    assert_eq!(actions, ["team.created", "team.member_set", "team.member_removed"]);
}
