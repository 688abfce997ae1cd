//! Backup and restore as the README's Operations section says: a `pg_dump` of the database in
//! use, restored with `pg_restore` into a fresh database, where `server verify-audit` finds
//! every audit chain intact, row for row — and finds a row edited after the restore.
use crate::helpers::{spawn_app_with_demo_data, Persona};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection};

/// `url` with its database replaced by `db`.
fn on_database(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("database URL");
    u.set_path(db);
    u.to_string()
}

fn verify_audit(url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("verify-audit")
        .env("SWITCHYARD_DATABASE__URL", url)
        .env("SWITCHYARD_LOG__FILTER", "error")
        .env("SWITCHYARD_LOG__FORMAT", "pretty")
        .output()
        .expect("run server verify-audit")
}

#[tokio::test]
async fn a_dump_restored_into_a_fresh_database_keeps_every_audit_chain_intact() {
    let app = spawn_app_with_demo_data().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    // changes of the day on top of the demo's load: a deploy asked for, a sign-in
    let r = bob.kick_off("backup-1", &json!({ "service": "refunds", "environment": "dev", "version": "v2.4.1", "reason": "before the backup" })).await;
    assert_eq!(r.status(), 201);
    let rows = app.count("SELECT count(*) FROM audit_log", &[]).await;
    assert!(rows > 3, "the demo company and the test wrote audit rows");

    let source = app.database_url().to_owned();
    let dir = std::env::temp_dir().join(format!("switchyard-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("backup folder");
    let dump = dir.join("switchyard.dump");
    let out = std::process::Command::new("pg_dump").args(["--format=custom", "--file"]).arg(&dump).arg(&source).output().expect("pg_dump");
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));

    let restored_name = format!("{}_restored", source.rsplit('/').next().expect("database name"));
    let restored = on_database(&source, &restored_name);
    let mut admin = PgConnection::connect(&on_database(&source, "postgres")).await.expect("connect");
    admin.execute(format!(r#"CREATE DATABASE "{restored_name}""#).as_str()).await.expect("create the restore's database");
    let out = std::process::Command::new("pg_restore").args(["--no-owner", "--exit-on-error", "--dbname"]).arg(&restored).arg(&dump).output().expect("pg_restore");
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));

    // every row the source held when the dump began is in the copy (the worker may add more)
    let mut copy = PgConnection::connect(&restored).await.expect("connect to the copy");
    let copied: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log").fetch_one(&mut copy).await.expect("rows in the copy");
    assert!(copied >= rows, "the copy holds {copied} audit rows, the source held {rows} before the dump");
    let ok = verify_audit(&restored);
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "verify-audit on the restored copy: {said}{}", String::from_utf8_lossy(&ok.stderr));
    assert!(said.contains(&format!("intact: {copied} rows")), "every row of the copy verifies: {said}");

    // the restored copy is checked, not trusted: one row edited there is found, by its id
    let edited: i64 = sqlx::query_scalar("SELECT max(id) FROM audit_log").fetch_one(&mut copy).await.expect("the newest row");
    copy.execute(
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
         UPDATE audit_log SET actor_name = 'mallory' WHERE id = (SELECT max(id) FROM audit_log);
         ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;",
    )
    .await
    .expect("tamper with the copy");
    copy.close().await.expect("close");
    let broken = verify_audit(&restored);
    assert!(!broken.status.success(), "verify-audit exits non-zero on a broken chain");
    let said = format!("{}{}", String::from_utf8_lossy(&broken.stdout), String::from_utf8_lossy(&broken.stderr));
    assert!(said.contains(&format!("broken at row {edited}")), "it names the row edited, {edited}: {said}");

    admin.execute(format!(r#"DROP DATABASE "{restored_name}" WITH (FORCE)"#).as_str()).await.expect("drop the copy");
    let _ = std::fs::remove_dir_all(&dir);
}
