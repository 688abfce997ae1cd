//! The approval engine and the audit chain, end to end over HTTP and on the real database.
use crate::helpers::{Browser, Persona, TestApp, spawn_app};
use app::approvals::service::{self as approvals, Ask};
use app::approvals::types::Approvers;
use app::context::RequestMeta;
use app::iam::principal::{Principal, Via};
use app::iam::types::{Role, TeamId, UserId};
use serde_json::{json, Value};
use sqlx::{Connection, Executor, PgConnection, Row};
use uuid::Uuid;

async fn ask_admin(browser: &Browser, reason: &str) -> String {
    let response = browser.server_fn("approvals/request-admin", &[("reason", reason)]).await;
    assert_eq!(response.status(), 200, "request-admin");
    let id: Value = response.json().await.expect("json");
    id.as_str().expect("approval id").to_owned()
}

async fn roles(browser: &Browser) -> Vec<String> {
    let me: Value = browser.get("/api/v1/me").await.json().await.expect("me");
    me["roles"].as_array().expect("roles").iter().filter_map(|r| r.as_str().map(str::to_owned)).collect()
}

async fn count(db: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(db).await.expect("count").get::<i64, _>(0)
}

#[tokio::test]
async fn an_admin_role_request_is_approved_by_an_admin_and_never_by_its_requester() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let alice = app.login_as(Persona::Admin).await;
    let id = ask_admin(&dave, "on call for the platform this quarter").await;

    let own = dave.decide(&id, "approve", "looks fine to me").await;
    assert_eq!(own.status(), 422);
    let body: Value = own.json().await.expect("json");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("your own request"), "{body}");

    assert_eq!(carol.decide(&id, "approve", "sure").await.status(), 403, "carol is no admin");
    let no_comment = alice.decide(&id, "approve", "  ").await;
    assert_eq!(no_comment.status(), 422);
    assert_eq!(roles(&dave).await, vec!["viewer"]);

    let waiting: Vec<Value> = alice.get("/api/v1/approvals?inbox=waiting_for_me").await.json().await.expect("inbox");
    assert!(waiting.iter().any(|a| a["id"] == id.as_str()), "alice's inbox lacks the request");
    let not_for_dave: Vec<Value> = dave.get("/api/v1/approvals?inbox=waiting_for_me").await.json().await.expect("inbox");
    assert!(not_for_dave.is_empty(), "nobody waits for their own request");

    let approved = alice.decide(&id, "approve", "agreed with the platform lead").await;
    assert_eq!(approved.status(), 200);
    let view: Value = approved.json().await.expect("json");
    assert_eq!(view["state"], "approved");
    assert_eq!(roles(&dave).await, vec!["viewer", "admin"], "the grant takes effect at once");

    let again = alice.decide(&id, "reject", "changed my mind").await;
    assert_eq!(again.status(), 422, "a decided request stays decided");
}

#[tokio::test]
async fn a_rejection_ends_the_request() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let alice = app.login_as(Persona::Admin).await;
    let id = ask_admin(&dave, "curious").await;
    let rejected: Value = alice.decide(&id, "reject", "not needed for viewers").await.json().await.expect("json");
    assert_eq!(rejected["state"], "rejected");
    assert_eq!(rejected["decisions"][0]["comment"], "not needed for viewers");
    assert_eq!(roles(&dave).await, vec!["viewer"]);
}

/// The principal behind a signed-in user, for opening requests through the service directly.
async fn principal(db: &mut PgConnection, username: &str) -> Principal {
    let id: Uuid = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&mut *db)
        .await
        .expect("user")
        .get(0);
    Principal {
        user_id: UserId(id),
        username: username.into(),
        name: username.into(),
        email: String::new(),
        roles: vec![Role::Viewer],
        teams: vec![],
        via: Via::Session { session_id: Uuid::nil() },
    }
}

async fn open_request(app: &TestApp, requester: &str, required: i32, valid_for: chrono::Duration) -> String {
    open_request_of(app, app::iam::approval::AdminRole::KIND, requester, required, valid_for).await
}

async fn open_request_of(app: &TestApp, kind: &'static str, requester: &str, required: i32, valid_for: chrono::Duration) -> String {
    let mut db = app.db().await;
    let who = principal(&mut db, requester).await;
    let team: Uuid = sqlx::query("SELECT id FROM teams WHERE slug = 'payments'").fetch_one(&mut db).await.expect("team").get(0);
    let mut tx = db.begin().await.expect("tx");
    let ask = Ask {
        subject_kind: kind,
        subject_id: who.user_id.0.to_string(),
        action: "grant_admin",
        summary: format!("Make {requester} an admin"),
        payload: json!({ "user_id": who.user_id.0 }),
        required_approvals: required,
        approvers: Approvers::TeamLeadsOrAdmins,
        owning_team: Some(TeamId(team)),
        reason: "test".into(),
        valid_for,
    };
    let id = approvals::open(&mut tx, &who, ask, &RequestMeta::default()).await.expect("open");
    tx.commit().await.expect("commit");
    id.0.to_string()
}

#[tokio::test]
async fn a_request_no_domain_claims_cannot_be_decided() {
    let app = spawn_app().await;
    let _carol = app.login_as(Persona::LedgerMember).await;
    let _bob = app.login_as(Persona::PaymentsLead).await; // the payments team comes from bob's directory groups
    let alice = app.login_as(Persona::Admin).await;
    let id = open_request_of(&app, "nothing_claims_this", "carol", 1, chrono::Duration::days(1)).await;

    let shown: Value = alice.server_fn("approvals/get", &[("id", &id)]).await.json().await.expect("json");
    assert_eq!(shown["can_decide"], false, "deny by default: no subject says who may decide it");
    let refused = alice.decide(&id, "approve", "looks fine").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.count("SELECT count(*) FROM approval_requests WHERE id::text = $1 AND state = 'pending'", &[&id]).await, 1);
    assert_eq!(app.count("SELECT count(*) FROM approval_decisions WHERE request_id::text = $1", &[&id]).await, 0);
}

#[tokio::test]
async fn a_two_approver_policy_needs_two_different_people() {
    let app = spawn_app().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let bob = app.login_as(Persona::PaymentsLead).await; // lead of payments
    let alice = app.login_as(Persona::Admin).await;
    let id = open_request(&app, "carol", 2, chrono::Duration::days(1)).await;

    let first: Value = bob.decide(&id, "approve", "lead ok").await.json().await.expect("json");
    assert_eq!(first["state"], "pending");
    assert_eq!(first["approvals"], 1);
    let twice = bob.decide(&id, "approve", "really ok").await;
    assert_eq!(twice.status(), 422, "one person counts once");
    assert_eq!(roles(&carol).await, vec!["viewer"]);

    let detail = alice.get(&format!("/approvals/{id}")).await.text().await.expect("page");
    assert!(detail.contains("1 of 2 approvals"), "the detail page shows progress");

    let second: Value = alice.decide(&id, "approve", "admin ok").await.json().await.expect("json");
    assert_eq!(second["state"], "approved");
    assert_eq!(roles(&carol).await, vec!["viewer", "admin"]);
}

#[tokio::test]
async fn an_expired_request_cannot_be_decided() {
    let app = spawn_app().await;
    app.login_as(Persona::LedgerMember).await;
    app.login_as(Persona::PaymentsLead).await; // brings team payments from the directory
    let alice = app.login_as(Persona::Admin).await;
    let id = open_request(&app, "carol", 1, chrono::Duration::seconds(-1)).await;
    let late = alice.decide(&id, "approve", "too late").await;
    assert_eq!(late.status(), 422);
    let body: Value = late.json().await.expect("json");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("expired"), "{body}");
    let view: Value = alice.get(&format!("/api/v1/approvals/{id}")).await.json().await.expect("json");
    assert_eq!(view["state"], "expired");
}

#[tokio::test]
async fn the_action_and_its_audit_rows_commit_or_roll_back_together() {
    let app = spawn_app().await;
    let dave = app.login_as(Persona::Viewer).await;
    let alice = app.login_as(Persona::Admin).await;
    let id = ask_admin(&dave, "incident commander rota").await;
    let mut db = app.db().await;
    let audit_before = count(&mut db, "SELECT count(*) FROM audit_log").await;

    // Force the action (the role grant) to fail inside the decision's transaction.
    db.execute(
        "CREATE FUNCTION fail_grant() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$;
         CREATE TRIGGER fail_grant BEFORE INSERT ON role_grants FOR EACH ROW EXECUTE FUNCTION fail_grant();",
    )
    .await
    .expect("install failing trigger");
    let failed = alice.decide(&id, "approve", "approved").await;
    assert_eq!(failed.status(), 500);
    assert_eq!(count(&mut db, "SELECT count(*) FROM audit_log").await, audit_before, "no audit row survives");
    assert_eq!(count(&mut db, "SELECT count(*) FROM approval_decisions").await, 0, "no decision survives");
    let state: String = sqlx::query("SELECT state FROM approval_requests").fetch_one(&mut db).await.expect("state").get(0);
    assert_eq!(state, "pending");
    assert_eq!(roles(&dave).await, vec!["viewer"]);

    db.execute("DROP TRIGGER fail_grant ON role_grants").await.expect("remove trigger");
    let ok: Value = alice.decide(&id, "approve", "approved").await.json().await.expect("json");
    assert_eq!(ok["state"], "approved");
    assert_eq!(roles(&dave).await, vec!["viewer", "admin"]);
    // the approver's decision, the state change and the grant: three rows, in one go
    assert_eq!(count(&mut db, "SELECT count(*) FROM audit_log").await, audit_before + 3);
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_tampering_is_detected() {
    let app = spawn_app().await;
    app.login_as(Persona::Viewer).await;
    app.login_as(Persona::PaymentsLead).await;
    let alice = app.login_as(Persona::Admin).await;
    let verify = |b: &Browser| {
        let b = b.client.clone();
        let url = alice.url("/api/audit/verify");
        let origin = alice.url("");
        async move {
            let r = b.post(url).header("origin", origin).header("accept", "application/json").send().await.expect("verify");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        }
    };
    let intact = verify(&alice).await;
    assert!(intact["Intact"]["rows"].as_i64().unwrap_or(0) >= 3, "{intact}");

    let mut db = app.db().await;
    let refused = db.execute("UPDATE audit_log SET actor_name = 'mallory' WHERE id = 2").await;
    assert!(refused.is_err(), "the app's database refuses updates to the audit log");

    // someone with the power to disable the guard edits one row
    db.execute(
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
         UPDATE audit_log SET actor_name = 'mallory' WHERE id = 2;
         ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;",
    )
    .await
    .expect("tamper");
    let broken = verify(&alice).await;
    assert_eq!(broken["Broken"]["row_id"], 2, "{broken}");

    let dave = app.login_as(Persona::Viewer).await;
    assert_eq!(dave.server_fn("audit/verify", &[]).await.status(), 403, "only admins verify");
}

#[tokio::test]
async fn two_transactions_on_one_audit_stripe_line_up_instead_of_forking() {
    use app::audit::service::{self as audit, Actor, Change, SubjectKind};
    use app::audit::types::ChainCheck;
    let app = spawn_app().await;
    // seventeen connections: at least two share a stripe (backend pid mod 16)
    let mut conns: Vec<(i32, PgConnection)> = Vec::new();
    let (mut a, mut b) = loop {
        let mut c = app.db().await;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut c).await.expect("pid");
        if let Some(i) = conns.iter().position(|(p, _)| p % 16 == pid % 16) {
            break (conns.swap_remove(i).1, c);
        }
        conns.push((pid, c));
    };
    let change = |n: &str| Change { action: "test.written", subject_kind: SubjectKind::Team, subject_id: n.to_owned(), before: None, after: Some(json!({ "n": n })) };
    let meta = RequestMeta::default();
    let mut first = a.begin().await.expect("begin");
    audit::record(&mut first, Actor::System, change("first"), &meta).await.expect("first link");
    // the second writer starts while the first is uncommitted: it must wait for the first, not
    // link onto the row before it
    let second = tokio::spawn(async move {
        let mut tx = b.begin().await.expect("begin");
        audit::record(&mut tx, Actor::System, change("second"), &RequestMeta::default()).await.expect("second link");
        tx.commit().await.expect("commit second");
    });
    crate::helpers::eventually("the second writer to wait on the stripe's lock", || async {
        let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            .fetch_one(&mut app.db().await)
            .await
            .expect("activity");
        (waiting > 0).then_some(())
    })
    .await;
    first.commit().await.expect("commit first");
    second.await.expect("second writer");
    let pool = app.pool();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&pool).await.expect("count");
    assert_eq!(audit::verify(&pool).await.expect("verify"), ChainCheck::Intact { rows });
}

#[tokio::test]
async fn admins_filter_and_export_the_audit_log() {
    let app = spawn_app().await;
    app.login_as(Persona::PaymentsLead).await;
    let alice = app.login_as(Persona::Admin).await;
    let page = alice.get("/admin/audit?action=user.created&actor=bob").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("user.created"));
    let csv = alice.get("/admin/audit.csv?actor=bob").await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/csv; charset=utf-8"));
    let text = csv.text().await.expect("csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,at,actor,action,subject_kind,subject_id,before,after,request_id,source_ip"));
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty() && rows.iter().all(|l| l.contains(",bob,")), "{rows:?}");

    let bad = alice.get("/admin/audit.csv?from=yesterday").await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    assert_eq!(body["error"]["field"], "from");

    let bob = app.login_as(Persona::PaymentsLead).await;
    assert_eq!(bob.get("/admin/audit.csv").await.status(), 403);
}
