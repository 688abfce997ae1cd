//! The catalog over HTTP on the real database: registration through approval, edits with
//! history, delete rules, search and keyset pages, and Backstage import and export.
use crate::helpers::{Browser, Options, Persona, TestApp, spawn_app, spawn_app_with, spawn_app_with_demo_data};
use serde_json::Value;

const SERVICE: &[(&str, &str)] = &[
    ("name", "card-vault"),
    ("title", "Card Vault"),
    ("description", "Keeps card numbers out of everything else"),
    ("entity_type", "service"),
    ("lifecycle", "production"),
    ("tier", "1"),
    ("owner", "payments"),
    ("co_owners", ""),
    ("system", "card-processing"),
    ("language", "Rust"),
    ("repository_url", "https://git.example.com/payments/card-vault"),
    ("runbook_url", ""),
    ("oncall_url", ""),
    ("dashboards", ""),
    ("tags", "pci, cards"),
    ("classification", "pci"),
    ("depends_on", "tokenization, resource:payments-db"),
];

fn with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    SERVICE.iter().map(|(k, v)| changes.iter().find(|(ck, _)| ck == k).copied().unwrap_or((*k, *v))).collect()
}

async fn entity(browser: &Browser, kind: &str, name: &str) -> Value {
    let r = browser.server_fn("catalog/entity", &[("kind", kind), ("namespace", "default"), ("name", name)]).await;
    assert_eq!(r.status(), 200, "entity {kind}:{name}");
    r.json().await.expect("json")
}

async fn approval_of(app: &TestApp, entity: &str) -> String {
    let mut db = app.db().await;
    sqlx::query_scalar::<_, uuid::Uuid>(
        "SELECT a.id FROM approval_requests a JOIN entities e ON e.id::text = a.subject_id WHERE e.name = $1 AND a.state = 'pending'",
    )
    .bind(entity)
    .fetch_one(&mut db)
    .await
    .expect("pending approval")
    .to_string()
}

#[tokio::test]
async fn a_member_registers_a_service_and_it_is_pending_until_an_admin_approves_it() {
    let app = spawn_app_with_demo_data().await;
    let bob = app.login_as(Persona::PaymentsLead).await; // payments member and lead
    let carol = app.login_as(Persona::LedgerMember).await; // ledger member
    let alice = app.login_as(Persona::Admin).await; // admin
    let before = app.count("SELECT count(*) FROM entities", &[]).await;

    // bad input: every problem named, nothing written
    let bad = bob.server_fn("catalog/register", &with(&[("name", "Card_Vault"), ("tier", "9"), ("runbook_url", "ftp://x")])).await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    let fields: Vec<&str> = body["InvalidFields"].as_array().expect("problems").iter().filter_map(|p| p["field"].as_str()).collect();
    assert_eq!(fields, ["name", "tier", "runbook_url"], "{body}");
    let missing = bob.server_fn("catalog/register", &with(&[("depends_on", "no-such-service")])).await;
    assert_eq!(missing.status(), 422);
    assert!(missing.text().await.expect("text").contains("no-such-service"), "names the missing dependency");
    let not_mine = carol.server_fn("catalog/register", SERVICE).await;
    assert_eq!(not_mine.status(), 403, "carol is not in payments: a refusal for lack of permission");
    assert!(not_mine.text().await.expect("text").contains("only members of payments"), "says what it would take");
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before, "nothing written");

    let ok = bob.server_fn("catalog/register", SERVICE).await;
    assert_eq!(ok.status(), 200);
    let again = bob.server_fn("catalog/register", SERVICE).await;
    assert_eq!(again.status(), 422, "the name is taken while pending");
    let page = entity(&carol, "component", "card-vault").await;
    assert_eq!(page["summary"]["pending"], true);
    assert_eq!(page["pending_requests"].as_array().map(Vec::len), Some(1));

    let id = approval_of(&app, "card-vault").await;
    assert_eq!(bob.decide(&id, "approve", "looks right").await.status(), 422, "never one's own request");
    assert_eq!(carol.decide(&id, "approve", "looks right").await.status(), 403, "not a payments lead nor an admin");
    assert_eq!(alice.decide(&id, "approve", "looks right").await.status(), 200);

    let page = entity(&carol, "component", "card-vault").await;
    assert_eq!(page["summary"]["pending"], false);
    let deps: Vec<&str> = page["outgoing"].as_array().expect("outgoing").iter().filter_map(|r| r["entity"]["name"].as_str()).collect();
    assert!(deps.contains(&"tokenization") && deps.contains(&"payments-db") && deps.contains(&"card-processing"), "{deps:?}");
    let found: Vec<Value> = carol.server_fn("catalog/search", &[("text", "card vault")]).await.json().await.expect("search");
    assert_eq!(found.first().and_then(|e| e["name"].as_str()), Some("card-vault"), "ranked first: {found:?}");
    let typo: Vec<Value> = carol.server_fn("catalog/search", &[("text", "cardvalt")]).await.json().await.expect("search");
    assert!(typo.iter().any(|e| e["name"] == "card-vault"), "trigram finds a typo: {typo:?}");
    let team: Value = carol.server_fn("catalog/team", &[("slug", "payments")]).await.json().await.expect("team");
    assert!(team["owned"].as_array().expect("owned").iter().any(|e| e["name"] == "card-vault"));

    let mut db = app.db().await;
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE subject_kind = 'entity' AND subject_id = (SELECT id::text FROM entities WHERE name = 'card-vault') ORDER BY id",
    )
    .fetch_all(&mut db)
    .await
    .expect("audit");
    assert_eq!(actions, ["entity.registration_requested", "entity.registered"]);
}

#[tokio::test]
async fn a_tier_zero_registration_needs_two_approvals_and_a_rejection_withdraws_it() {
    let app = spawn_app_with_demo_data().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let alice = app.login_as(Persona::Admin).await;
    let ledger = with(&[("name", "ledger-mirror"), ("owner", "ledger"), ("tier", "0"), ("system", ""), ("depends_on", "ledger-core")]);
    assert_eq!(carol.server_fn("catalog/register", &ledger).await.status(), 200);
    let id = approval_of(&app, "ledger-mirror").await;
    let decided: Value = alice.decide(&id, "approve", "looks right").await.json().await.expect("json");
    assert_eq!((decided["approvals"].as_i64(), decided["required_approvals"].as_i64()), (Some(1), Some(2)));
    assert_eq!(entity(&carol, "component", "ledger-mirror").await["summary"]["pending"], true, "one approval is not enough");

    let second = with(&[("name", "ledger-shadow"), ("owner", "ledger"), ("system", ""), ("depends_on", "")]);
    assert_eq!(carol.server_fn("catalog/register", &second).await.status(), 200);
    let id = approval_of(&app, "ledger-shadow").await;
    assert_eq!(alice.decide(&id, "reject", "looks right").await.status(), 200);
    let gone = carol.server_fn("catalog/entity", &[("kind", "component"), ("namespace", "default"), ("name", "ledger-shadow")]).await;
    assert_eq!(gone.status(), 404, "a rejected registration is withdrawn");
}

#[tokio::test]
async fn edits_apply_at_once_with_history_and_a_tier_change_waits_for_approval() {
    let app = spawn_app_with_demo_data().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let (form, version): (Value, i32) = bob.server_fn("catalog/edit-form", &[("name", "refunds")]).await.json().await.expect("form");
    let mut fields: Vec<(String, String)> =
        form.as_object().expect("form").iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned())).collect();
    let set = |fields: &mut Vec<(String, String)>, k: &str, v: &str| {
        if let Some(f) = fields.iter_mut().find(|(key, _)| key == k) {
            f.1 = v.to_owned();
        }
    };
    set(&mut fields, "description", "Full and partial refunds, posted to the ledger the same second");
    set(&mut fields, "tier", "2");
    let v = version.to_string();
    let mut post: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post.push(("version", &v));
    assert_eq!(carol.server_fn("catalog/edit", &post).await.status(), 403, "not an owner");
    let saved = bob.server_fn("catalog/edit", &post).await;
    assert_eq!(saved.status(), 200);
    let stale = bob.server_fn("catalog/edit", &post).await;
    assert_eq!(stale.status(), 422, "the version moved on: no lost update");

    let page = entity(&carol, "component", "refunds").await;
    assert!(page["summary"]["description"].as_str().unwrap_or("").contains("same second"), "plain edit applied");
    assert_eq!(page["summary"]["tier"], 1, "tier waits for approval");
    assert_eq!(page["pending_requests"].as_array().map(Vec::len), Some(1));
    let id = page["summary"]["id"].as_str().expect("id").to_owned();
    let history: Vec<Value> =
        carol.server_fn("audit/history", &[("subject_kind", "entity"), ("subject_id", &id)]).await.json().await.expect("history");
    let update = history.iter().find(|h| h["action"] == "entity.updated").expect("update in history");
    assert!(update["before"].as_str().unwrap_or("").contains("with ledger postings"), "{update}");
    assert!(update["after"].as_str().unwrap_or("").contains("same second"), "{update}");

    // the tier changes when an admin approves, in the approval's transaction, with its audit row
    let alice = app.login_as(Persona::Admin).await;
    let request = page["pending_requests"][0][0].as_str().expect("request id").to_owned();
    assert_eq!(alice.decide(&request, "approve", "looks right").await.status(), 200);
    let page = entity(&carol, "component", "refunds").await;
    assert_eq!(page["summary"]["tier"], 2, "applied on approval");
    assert_eq!(page["pending_requests"].as_array().map(Vec::len), Some(0));
    let history: Vec<Value> =
        carol.server_fn("audit/history", &[("subject_kind", "entity"), ("subject_id", &id)]).await.json().await.expect("history");
    assert!(
        history.iter().any(|h| h["action"] == "entity.updated" && h["actor_name"] == "alice" && h["after"].as_str().unwrap_or("").contains("\"tier\":2")),
        "{history:?}"
    );
}

#[tokio::test]
async fn delete_is_refused_while_anything_depends_on_it_and_names_the_dependents() {
    let app = spawn_app_with_demo_data().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let refused = bob.server_fn("catalog/delete", &[("kind", "component"), ("namespace", "default"), ("name", "tokenization")]).await;
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.expect("text");
    assert!(text.contains("component:payment-gateway") && text.contains("component:card-authorizer"), "{text}");
    assert_eq!(bob.server_fn("catalog/deprecate", &[("kind", "component"), ("namespace", "default"), ("name", "a2a-payments")]).await.status(), 200);
    assert_eq!(bob.server_fn("catalog/delete", &[("kind", "component"), ("namespace", "default"), ("name", "a2a-payments")]).await.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM entities WHERE name = 'a2a-payments'", &[]).await, 0);
}

#[tokio::test]
async fn the_list_pages_by_keyset_without_gaps_or_repeats_and_counts_facets() {
    let app = spawn_app_with_demo_data().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let total = app.count("SELECT count(*) FROM entities", &[]).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/catalog/entities?limit=7&fields=metadata.name,kind".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Value = carol.get(&path).await.json().await.expect("page");
        for item in page["items"].as_array().expect("items") {
            assert!(item.get("spec").is_none(), "fields keeps only what was asked");
            seen.push(format!("{}:{}", item["kind"].as_str().unwrap_or(""), item["metadata"]["name"].as_str().unwrap_or("")));
        }
        match page["pageInfo"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(i64::try_from(seen.len()).ok(), Some(total), "every entity once");
    assert_eq!(unique.len(), seen.len());

    let facets: Value = carol.get("/api/v1/catalog/entity-facets?facet=kind&facet=spec.owner&kind=component").await.json().await.expect("facets");
    let kinds = facets["facets"]["kind"].as_array().expect("kind facet");
    assert_eq!(kinds.len(), 1);
    let components = app.count("SELECT count(*) FROM entities WHERE kind = 'component'", &[]).await;
    assert_eq!(kinds[0]["count"].as_i64(), Some(components));
    let bad = carol.get("/api/v1/catalog/entities?tier=7").await;
    assert_eq!(bad.status(), 422);
}

/// Waits for the background import `id` to end (the job announces it), then reads it at
/// `location`.
async fn job_when_ended(browser: &Browser, ended: &mut sqlx::postgres::PgListener, location: &str) -> Value {
    let id = location.rsplit('/').next().expect("id");
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(60), ended.recv()).await.expect("the job ended").expect("notification");
        if n.payload() == id {
            return browser.get(location).await.json().await.expect("job");
        }
    }
}

#[tokio::test]
async fn a_background_import_answers_at_once_and_its_job_ends_with_the_report_an_import_gives() {
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let expected: Value = import(&alice, descriptor_set(), true).await.json().await.expect("dry run");
    let mut ended = app.listen(app::catalog::repo::JOB_ENDED).await;
    let r = import_with(&alice, descriptor_set(), "?background=true").await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().expect("location").to_owned();
    let started: Value = r.json().await.expect("job");
    assert!(location.ends_with(started["id"].as_str().expect("id")), "{location} {started}");
    let job = job_when_ended(&alice, &mut ended, &location).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["report"]["applied"], true, "{job}");
    assert_eq!(outcomes(&job["report"]), outcomes(&expected), "the same report as an import at once");
    let created = expected["items"].as_array().expect("items").iter().filter(|i| i["outcome"] == "created" && !i["entity"].as_str().unwrap_or("").starts_with("group:")).count();
    assert_eq!(job["written"].as_u64(), u64::try_from(created).ok(), "{job}");
    assert_eq!(app.count("SELECT count(*) FROM entities WHERE name = 'issuer-worker'", &[]).await, 1);
    // only its author (or an admin) sees it
    let carol = app.login_as(Persona::LedgerMember).await;
    assert_eq!(carol.get(&location).await.status(), 404);
    // a job that fails wrote nothing and says why
    let bomb = ("catalog-info.yaml", format!("a: {}1{}\n", "[".repeat(40), "]".repeat(40)));
    let r = import_with(&alice, vec![bomb], "?background=true").await;
    assert_eq!(r.status(), 202);
    let location = r.headers()["location"].to_str().expect("location").to_owned();
    let failed = job_when_ended(&alice, &mut ended, &location).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(failed["error"].as_str().unwrap_or("").contains("deeper than 32"), "{failed}");
}

/// Rows where the kept facet counts (the catalog's, and each owner's) and a recount of the
/// entities differ, either way.
const KEPT_COUNTS_DIFFER: &str = "WITH recount AS (
        SELECT e.owner_ref, e.kind, f.facet, f.value, count(*) AS n FROM entities e
        CROSS JOIN LATERAL catalog_facet_values(e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, e.tags) f
        GROUP BY 1, 2, 3, 4),
    total AS (SELECT kind, facet, value, sum(n)::bigint AS n FROM recount GROUP BY 1, 2, 3)
    SELECT (SELECT count(*) FROM ((SELECT kind, facet, value, n FROM catalog_facet_counts EXCEPT SELECT * FROM total)
                                  UNION ALL (SELECT * FROM total EXCEPT SELECT kind, facet, value, n FROM catalog_facet_counts)) d)
         + (SELECT count(*) FROM ((SELECT owner_ref, kind, facet, value, n FROM catalog_owner_facet_counts EXCEPT SELECT * FROM recount)
                                  UNION ALL (SELECT * FROM recount EXCEPT SELECT owner_ref, kind, facet, value, n FROM catalog_owner_facet_counts)) o)";

#[tokio::test]
async fn kept_facet_counts_match_a_recount_after_imports_edits_and_deletes_and_filters_recount() {
    let app = spawn_app_with_demo_data().await;
    assert_eq!(app.count(KEPT_COUNTS_DIFFER, &[]).await, 0, "after the demo data");
    let alice = app.login_as(Persona::Admin).await;
    assert_eq!(import(&alice, descriptor_set(), false).await.status(), 200);
    assert_eq!(app.count(KEPT_COUNTS_DIFFER, &[]).await, 0, "after an import that creates");
    let mut changed = descriptor_set();
    changed[2].1 = changed[2].1.replace("lifecycle: experimental", "lifecycle: sandbox").replace("type: job", "type: worker");
    assert_eq!(import(&alice, changed, false).await.status(), 200);
    assert_eq!(app.count(KEPT_COUNTS_DIFFER, &[]).await, 0, "after an import that updates");
    let bob = app.login_as(Persona::PaymentsLead).await;
    assert_eq!(bob.server_fn("catalog/deprecate", &[("kind", "component"), ("namespace", "default"), ("name", "a2a-payments")]).await.status(), 200);
    assert_eq!(bob.server_fn("catalog/delete", &[("kind", "component"), ("namespace", "default"), ("name", "a2a-payments")]).await.status(), 200);
    assert_eq!(app.count(KEPT_COUNTS_DIFFER, &[]).await, 0, "after a delete");

    // kept (kind only) and recounted (any other filter) answers both count what the list holds
    let kept: Value = alice.get("/api/v1/catalog/entity-facets?facet=spec.lifecycle&facet=spec.type&kind=component").await.json().await.expect("facets");
    let count_of = |facets: &Value, facet: &str, value: &str| {
        facets["facets"][facet].as_array().expect(facet).iter().find(|c| c["value"] == value).and_then(|c| c["count"].as_i64())
    };
    let sandbox = app.count("SELECT count(*) FROM entities WHERE kind = 'component' AND lifecycle = 'sandbox'", &[]).await;
    assert_eq!(count_of(&kept, "spec.lifecycle", "sandbox"), Some(sandbox));
    let filtered: Value =
        alice.get("/api/v1/catalog/entity-facets?facet=spec.type&kind=component&lifecycle=production").await.json().await.expect("facets");
    let services = app.count("SELECT count(*) FROM entities WHERE kind = 'component' AND lifecycle = 'production' AND type = 'service'", &[]).await;
    assert_eq!(count_of(&filtered, "spec.type", "service"), Some(services));
    assert!(count_of(&filtered, "spec.type", "worker").is_none(), "the sandbox worker is filtered out: {filtered}");

    // an owner's kept counts, with what it co-owns counted in
    let by_owner: Value =
        alice.get("/api/v1/catalog/entity-facets?facet=spec.type&kind=component&owner=platform").await.json().await.expect("facets");
    let owned_types: Vec<(String, i64)> = sqlx::query_as(
        "SELECT e.type, count(*) FROM entities e WHERE e.kind = 'component' AND e.type IS NOT NULL AND (e.owner_ref = $1
         OR EXISTS (SELECT 1 FROM entity_co_owners c JOIN teams t ON t.id = c.team_id WHERE c.entity_id = e.id AND t.slug = $1))
         GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    .bind("platform")
    .fetch_all(&mut app.db().await)
    .await
    .expect("owned types");
    let answered: Vec<(String, i64)> = by_owner["facets"]["spec.type"]
        .as_array()
        .expect("spec.type")
        .iter()
        .map(|c| (c["value"].as_str().unwrap_or("").to_owned(), c["count"].as_i64().unwrap_or(-1)))
        .collect();
    assert!(!owned_types.is_empty(), "platform owns components");
    assert_eq!(answered, owned_types, "{by_owner}");
}

#[tokio::test]
async fn filtering_by_owner_lists_what_it_owns_and_co_owns_page_by_page() {
    let app = spawn_app_with_demo_data().await;
    let carol = app.login_as(Persona::LedgerMember).await;
    let owned = app
        .count(
            "SELECT count(*) FROM entities e WHERE e.kind = 'component' AND (e.owner_ref = $1
             OR EXISTS (SELECT 1 FROM entity_co_owners c JOIN teams t ON t.id = c.team_id WHERE c.entity_id = e.id AND t.slug = $1))",
            &["platform"],
        )
        .await;
    let co_owned = app
        .count("SELECT count(*) FROM entity_co_owners c JOIN teams t ON t.id = c.team_id JOIN entities e ON e.id = c.entity_id WHERE t.slug = $1 AND e.kind = 'component'", &["platform"])
        .await;
    assert!(co_owned > 0, "the demo data has a component platform co-owns");
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/catalog/entities?kind=component&owner=platform&limit=2&fields=metadata.name".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Value = carol.get(&path).await.json().await.expect("page");
        names.extend(page["items"].as_array().expect("items").iter().map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_owned()));
        match page["pageInfo"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "in name order, each once");
    assert_eq!(i64::try_from(names.len()).ok(), Some(owned));
}

fn descriptor_set() -> Vec<(&'static str, String)> {
    vec![
        ("catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: cards\nspec:\n  targets: [./org.yaml, ./svc/components.yaml, ./apis/cards-api.yaml]\n".into()),
        ("org.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: cards-team\nspec:\n  type: team\n  profile: {displayName: Cards}\n---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: erin\nspec:\n  memberOf: [cards-team]\n---\napiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: cards-domain\nspec:\n  owner: cards-team\n---\napiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: cards-system\n  namespace: cards\nspec:\n  owner: group:default/cards-team\n  domain: default/cards-domain\n".into()),
        ("svc/components.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: issuer\n  namespace: cards\n  annotations: {switchyard.dev/tier: '1'}\nspec:\n  type: service\n  lifecycle: production\n  owner: group:default/cards-team\n  system: cards-system\n  providesApis: [cards-api]\n  dependsOn: ['resource:cards-db', 'component:default/ledger-core']\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: issuer-worker\n  namespace: cards\nspec:\n  type: job\n  lifecycle: experimental\n  owner: group:default/cards-team\n  subcomponentOf: issuer\n  consumesApis: ['api:default/ledger-api']\n---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: cards-db\n  namespace: cards\nspec:\n  type: database\n  owner: group:default/cards-team\n  system: cards-system\n".into()),
        ("apis/cards-api.yaml", "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: cards-api\n  namespace: cards\nspec:\n  type: openapi\n  lifecycle: production\n  owner: group:default/cards-team\n  system: cards-system\n  definition:\n    $text: ./cards-openapi.yaml\n".into()),
        ("apis/cards-openapi.yaml", "openapi: 3.0.3\ninfo: {title: Cards, version: 1.0.0}\npaths: {}\n".into()),
    ]
}

async fn import(browser: &Browser, files: Vec<(&'static str, String)>, dry_run: bool) -> reqwest::Response {
    import_with(browser, files, if dry_run { "?dry_run=true" } else { "" }).await
}

async fn import_with(browser: &Browser, files: Vec<(&'static str, String)>, q: &str) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for (path, content) in files {
        form = form.part("file", reqwest::multipart::Part::text(content).file_name(path));
    }
    browser
        .client
        .post(browser.url(&format!("/api/v1/catalog/import{q}")))
        .header("origin", browser.url(""))
        .multipart(form)
        .send()
        .await
        .expect("import")
}

fn outcomes(report: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| (i["entity"].as_str().unwrap_or("").to_owned(), i["outcome"].as_str().unwrap_or("").to_owned()))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_descriptor_set_with_a_location_imports_once_and_a_second_import_changes_nothing() {
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let before = app.count("SELECT count(*) FROM entities", &[]).await;

    let dry: Value = import(&alice, descriptor_set(), true).await.json().await.expect("report");
    assert_eq!(dry["applied"], false);
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before, "a dry run writes nothing");

    let first = import(&alice, descriptor_set(), false).await;
    assert_eq!(first.status(), 200);
    let report: Value = first.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    let got = outcomes(&report);
    for (e, o) in [
        ("api:cards/cards-api", "created"),
        ("component:cards/issuer", "created"),
        ("component:cards/issuer-worker", "created"),
        ("domain:default/cards-domain", "created"),
        ("group:default/cards-team", "created"),
        ("resource:cards/cards-db", "created"),
        ("system:cards/cards-system", "created"),
        ("user:default/erin", "skipped"),
        ("location:default/cards", "skipped"),
    ] {
        assert!(got.contains(&(e.to_owned(), o.to_owned())), "{e} {o} in {got:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before + 6);

    let issuer: Value = alice.get("/api/v1/catalog/entities/by-name/component/cards/issuer").await.json().await.expect("issuer");
    let relations: Vec<(String, String)> = issuer["relations"]
        .as_array()
        .expect("relations")
        .iter()
        .map(|r| (r["type"].as_str().unwrap_or("").to_owned(), r["targetRef"].as_str().unwrap_or("").to_owned()))
        .collect();
    for expected in [
        ("partOf", "system:cards/cards-system"),
        ("providesApi", "api:cards/cards-api"),
        ("dependsOn", "resource:cards/cards-db"),
        ("dependsOn", "component:default/ledger-core"),
        ("ownedBy", "group:default/cards-team"),
    ] {
        assert!(relations.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{expected:?} in {relations:?}");
    }
    let api: Value = alice.get("/api/v1/catalog/entities/by-name/api/cards/cards-api").await.json().await.expect("api");
    assert!(api["spec"]["definition"].as_str().unwrap_or("").contains("openapi: 3.0.3"), "$text substituted: {api}");
    let system: Value = alice.get("/api/v1/catalog/entities/by-name/system/cards/cards-system").await.json().await.expect("system");
    assert_eq!(system["spec"]["domain"], "domain:default/cards-domain");

    let second: Value = import(&alice, descriptor_set(), false).await.json().await.expect("report");
    assert_eq!(second["applied"], false, "nothing to write: {second}");
    assert!(
        second["items"].as_array().expect("items").iter().all(|i| i["outcome"] == "unchanged" || i["outcome"] == "skipped"),
        "{second}"
    );

    // the export imports back as unchanged
    let yaml = alice.get("/api/v1/catalog/export").await.text().await.expect("yaml");
    assert!(yaml.contains("kind: API") && yaml.contains("name: cards-api"));
    let round: Value = import(&alice, vec![("all.yaml", yaml)], true).await.json().await.expect("report");
    assert!(
        round["items"].as_array().expect("items").iter().all(|i| i["outcome"] == "unchanged" || i["outcome"] == "skipped"),
        "export round-trips: {round}"
    );
}

#[tokio::test]
async fn an_import_writes_every_entity_not_refused_and_atomic_writes_nothing_when_one_is() {
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let before = app.count("SELECT count(*) FROM entities", &[]).await;
    let audit_before = app.count("SELECT count(*) FROM audit_log", &[]).await;
    let files = || {
        vec![(
            "bad.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: fine-service}\nspec: {type: service, lifecycle: production, owner: payments}\n---\napiVersion: backstage.io/v1alpha1\nkind: Widget\nmetadata: {name: gadget}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: not a name}\nspec: {type: service, lifecycle: production, owner: payments}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: orphan, annotations: {switchyard.dev/co-owners: 'group:nobody-team'}}\nspec: {type: service, lifecycle: production, owner: payments, dependsOn: [ghost]}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: leaf}\nspec: {type: service, lifecycle: production, owner: payments, dependsOn: [orphan]}\n"
                .to_owned(),
        )]
    };
    let atomic: Value = import_with(&alice, files(), "?atomic=true").await.json().await.expect("report");
    assert_eq!(atomic["applied"], false, "{atomic}");
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before, "atomic: the valid entity is not written either");
    assert_eq!(app.count("SELECT count(*) FROM audit_log", &[]).await, audit_before);

    let report: Value = import(&alice, files(), false).await.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    let items = report["items"].as_array().expect("items");
    let item = |entity: &str| items.iter().find(|i| i["entity"].as_str().unwrap_or("").contains(entity)).cloned().unwrap_or_default();
    assert_eq!(item("fine-service")["outcome"], "created", "{report}");
    assert_eq!(item("gadget")["outcome"], "skipped", "an unknown kind is left out, not refused: {report}");
    assert!(item("gadget")["messages"].to_string().contains("not one Switchyard keeps"), "{report}");
    assert_eq!(item("not a name")["outcome"], "refused", "{report}");
    assert!(item("not a name")["messages"].to_string().contains("metadata.name"), "{report}");
    assert_eq!(item("orphan")["outcome"], "refused", "{report}");
    assert!(item("orphan")["messages"].to_string().contains("nobody-team"), "{report}");
    assert_eq!(item("leaf")["outcome"], "created", "a reference to a refused entity is kept unresolved: {report}");
    assert!(item("leaf")["messages"].to_string().contains("component:default/orphan is not in the catalog: kept"), "{report}");
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before + 2, "fine-service and leaf are written");
    let waiting = "SELECT count(*) FROM entity_relations r JOIN entities s ON s.id = r.source_id WHERE s.name = 'leaf' AND r.target_id IS NULL";
    assert_eq!(app.count(waiting, &[]).await, 1);

    // the missing entity arrives: what waited for it resolves
    let orphan = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: orphan}\nspec: {type: service, lifecycle: production, owner: payments}\n";
    let report: Value = import(&alice, vec![("orphan.yaml", orphan.to_owned())], false).await.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    assert_eq!(app.count(waiting, &[]).await, 0, "leaf's dependency resolved when orphan arrived");
}

#[tokio::test]
async fn an_import_by_a_non_admin_waits_for_one_approval_of_the_whole_batch() {
    let app = spawn_app_with_demo_data().await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let alice = app.login_as(Persona::Admin).await;
    let before = app.count("SELECT count(*) FROM entities", &[]).await;
    let report: Value = import(&bob, descriptor_set(), false).await.json().await.expect("report");
    let id = report["approval_id"].as_str().expect("sent for approval").to_owned();
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before, "nothing yet");
    assert_eq!(alice.decide(&id, "approve", "looks right").await.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM entities", &[]).await, before + 6);
}

/// Every YAML file under `dir`, with its path relative to it, read in place.
fn peer_files(dir: &str) -> Vec<(&'static str, String)> {
    let root = std::path::PathBuf::from(std::env::var("PEER_DATA").expect("PEER_DATA names the shared peer-data folder (the Makefile sets it)")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let rel = path.strip_prefix(&root).expect("under root").to_string_lossy().into_owned();
                out.push((&*Box::leak(rel.into_boxed_str()), std::fs::read_to_string(&path).expect("utf-8")));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn backstages_own_example_catalog_imports_every_entity_backstage_accepts() {
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let files = peer_files("backstage-examples");
    assert!(files.len() > 50, "the examples are there: {}", files.len());
    let report: Value = import(&alice, files.clone(), false).await.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    let outcome = |entity: &str| -> (String, String) {
        let item = report["items"].as_array().expect("items").iter().find(|i| i["entity"] == entity).cloned().unwrap_or_default();
        (item["outcome"].as_str().unwrap_or("missing").to_owned(), item["messages"].to_string())
    };
    let refused: Vec<String> = report["items"].as_array().expect("items").iter()
        .filter(|i| i["outcome"] == "refused").map(|i| format!("{} {}", i["entity"], i["messages"])).collect();
    // what Backstage itself accepts and Switchyard used to refuse
    for created in [
        "api:default/hello-world-trpc",        // a type outside the well-known list
        "api:default/backstage-mcp-server",    // an MCP server: remotes, no definition
        "api:default/spotify",                 // a definition at a URL
        "component:alternative/different-namespace",
        "domain:default/artists",
        "system:default/audio-playback",       // a System with a type
        "domain:default/playback",             // owned by a person
    ] {
        assert_eq!(outcome(created).0, "created", "{created}: {:?}; refused: {refused:#?}", outcome(created));
    }
    // only what Backstage refuses is refused
    let mut names: Vec<&str> = refused.iter().map(|r| r.split(' ').next().unwrap_or("")).collect();
    names.sort_unstable();
    assert_eq!(names, ["\"api:default/local-inference-server\"", "\"component:default/invalid"], "{refused:#?}");
    // a person owns it, or an owner that is not here: kept, said, and only admins change the latter
    assert!(outcome("component:default/searcher").1.contains("user:guest has not signed in"), "{:?}", outcome("component:default/searcher"));
    assert!(outcome("component:default/playback-order").1.contains("owner guest is not a team here"), "{:?}", outcome("component:default/playback-order"));
    assert_eq!(outcome("component:default/dream11-svc").0, "created", "a relation to another kind is kept as Backstage keeps it");
    // a relation to what is in no file is kept and listed
    assert!(outcome("component:default/aware").1.contains("provides_api api:default/awarecoreinsight is not in the catalog: kept"), "{:?}", outcome("component:default/aware"));
    assert_eq!(outcome("user:default/breanna.davison").0, "skipped", "a dotted name is a name");
    // what Backstage refuses, named with the reason
    let (o, why) = outcome("component:default/invalid component");
    assert!(o == "refused" && why.contains("invalid component"), "{o}: {why}");
    let (o, why) = outcome("api:default/local-inference-server");
    assert!(o == "refused" && why.contains("spec.definition"), "{o}: {why}");
    // kinds Switchyard does not keep are left out with a warning, and the rest goes in
    for skipped in ["airesource:default/frontend-design", "environment:default/prod"] {
        let (o, why) = outcome(skipped);
        assert!(o == "skipped" && why.contains("not one Switchyard keeps"), "{skipped}: {o} {why}");
    }
    let url: String = sqlx::query_scalar("SELECT definition_url FROM entities WHERE kind = 'api' AND name = 'spotify'")
        .fetch_one(&mut app.db().await)
        .await
        .expect("spotify");
    assert!(url.starts_with("https://github.com/APIs-guru/"), "{url}");
    // importing the same files again changes nothing
    let again: Value = import(&alice, files, true).await.json().await.expect("report");
    let changed: Vec<&Value> = again["items"].as_array().expect("items").iter().filter(|i| i["outcome"] == "created" || i["outcome"] == "updated").collect();
    assert!(changed.is_empty(), "a re-import is unchanged: {changed:?}");
}

#[tokio::test]
async fn a_person_may_own_a_component_and_an_owner_not_here_leaves_it_to_admins() {
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let dave = app.login_as(Persona::Viewer).await; // signed in, in no team
    let carol = app.login_as(Persona::LedgerMember).await;
    let yaml = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: daves-tool}\nspec: {type: service, lifecycle: experimental, owner: 'user:dave'}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: nobodys-tool}\nspec: {type: service, lifecycle: experimental, owner: platform-guild}\n";
    let report: Value = import(&alice, vec![("people.yaml", yaml.to_owned())], false).await.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    let deprecate = |name: &'static str| [("kind", "component"), ("namespace", "default"), ("name", name)];
    // the person who owns it acts as a team's member would; someone else may not
    assert_eq!(carol.server_fn("catalog/deprecate", &deprecate("daves-tool")).await.status(), 403);
    assert_eq!(dave.server_fn("catalog/deprecate", &deprecate("daves-tool")).await.status(), 200);
    // an owner that is not here: only an admin
    assert_eq!(dave.server_fn("catalog/deprecate", &deprecate("nobodys-tool")).await.status(), 403);
    assert_eq!(alice.server_fn("catalog/deprecate", &deprecate("nobodys-tool")).await.status(), 200);
    let owner: Option<uuid::Uuid> = sqlx::query_scalar("SELECT owner_team_id FROM entities WHERE name = 'nobodys-tool'")
        .fetch_one(&mut app.db().await)
        .await
        .expect("row");
    assert_eq!(owner, None);
    // the team arrives through an import: the owner resolves
    let group = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: platform-guild}\nspec: {type: team, children: []}\n";
    let report: Value = import(&alice, vec![("guild.yaml", group.to_owned())], false).await.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    let resolved = app.count("SELECT count(*) FROM entities e JOIN teams t ON t.id = e.owner_team_id WHERE e.name = 'nobodys-tool' AND t.slug = 'platform-guild'", &[]).await;
    assert_eq!(resolved, 1);
}

#[tokio::test]
async fn admins_see_the_references_that_wait_for_their_target_and_they_go_when_it_arrives() {
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let bob = app.login_as(Persona::PaymentsLead).await;
    let yaml = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: early-bird}\nspec: {type: service, lifecycle: production, owner: payments, dependsOn: [late-comer], system: nowhere}\n";
    let report: Value = import(&alice, vec![("early.yaml", yaml.to_owned())], false).await.json().await.expect("report");
    assert_eq!(report["applied"], true, "{report}");
    let listed: Value = alice.server_fn("catalog/unresolved", &[]).await.json().await.expect("list");
    let targets: Vec<&str> = listed.as_array().expect("a list").iter().filter(|u| u["entity"]["name"] == "early-bird").filter_map(|u| u["target"].as_str()).collect();
    assert_eq!(targets, ["component:default/late-comer", "system:default/nowhere"], "{listed}");
    assert_eq!(bob.server_fn("catalog/unresolved", &[]).await.status(), 403, "admins only");

    let late = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: late-comer}\nspec: {type: service, lifecycle: production, owner: payments}\n";
    import(&alice, vec![("late.yaml", late.to_owned())], false).await;
    let listed: Value = alice.server_fn("catalog/unresolved", &[]).await.json().await.expect("list");
    let targets: Vec<&str> = listed.as_array().expect("a list").iter().filter(|u| u["entity"]["name"] == "early-bird").filter_map(|u| u["target"].as_str()).collect();
    assert_eq!(targets, ["system:default/nowhere"], "late-comer resolved: {listed}");
    let page = alice.get("/admin/catalog-references").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("system:default/nowhere"));
}

#[tokio::test]
async fn a_team_page_lists_its_first_hundred_entities_and_says_how_many_it_owns() {
    let app = spawn_app().await;
    let alice = app.login_as(Persona::Admin).await;
    let mut yaml = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: big-team\nspec:\n  type: team\n---\n\
         apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: small-team\nspec:\n  type: team\n---\n\
         apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: lone-service\nspec:\n  type: service\n  lifecycle: production\n  owner: small-team\n",
    );
    for i in 0..105 {
        yaml.push_str(&format!(
            "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-{i:03}\nspec:\n  type: service\n  lifecycle: production\n  owner: big-team\n"
        ));
    }
    assert_eq!(import(&alice, vec![("catalog-info.yaml", yaml)], false).await.status(), 200);
    let html = alice.get("/teams/big-team").await.text().await.expect("team page");
    assert!(html.contains("The first 100 of 105 it owns."), "the page says it lists a part");
    assert!(html.contains(r#"href="/catalog?owner=big-team""#), "and links to the rest");
    assert!(html.contains("svc-099") && !html.contains("svc-100"), "the first hundred by name, no more");

    let small = app.login_as(Persona::Viewer).await.get("/teams/small-team").await.text().await.expect("team page");
    assert!(small.contains("lone-service") && !small.contains("it owns."), "a team with fewer than a hundred lists them all");
}

#[tokio::test]
async fn an_entity_a_person_owns_keeps_its_owner_type_and_lifecycle_through_an_edit() {
    let app = spawn_app().await;
    let alice = app.login_as(Persona::Admin).await;
    let yaml = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: guest-tool\n  description: A tool\nspec:\n  type: worker\n  lifecycle: sandbox\n  owner: user:alice\n";
    assert_eq!(import(&alice, vec![("catalog-info.yaml", yaml.into())], false).await.status(), 200);
    let form = alice.get("/catalog/component/default/guest-tool/edit").await.text().await.expect("edit page");
    for kept in ["user:alice (as it is now)", "worker (as it is now)", "sandbox (as it is now)"] {
        assert!(form.contains(kept), "the form offers {kept}");
    }
    let version = app.count("SELECT version::bigint FROM entities WHERE name = 'guest-tool'", &[]).await.to_string();
    let r = alice
        .server_fn(
            "catalog/edit",
            &[
                ("version", version.as_str()),
                ("name", "guest-tool"),
                ("title", "guest-tool"),
                ("description", "A tool for guests"),
                ("entity_type", "worker"),
                ("lifecycle", "sandbox"),
                ("tier", "3"),
                ("owner", "user:alice"),
                ("co_owners", ""),
                ("system", ""),
                ("language", ""),
                ("repository_url", ""),
                ("runbook_url", ""),
                ("oncall_url", ""),
                ("dashboards", ""),
                ("tags", ""),
                ("classification", "internal"),
                ("depends_on", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let row = app
        .count(
            "SELECT count(*) FROM entities WHERE name = 'guest-tool' AND description = 'A tool for guests'
             AND owner_ref = 'user:alice' AND type = 'worker' AND lifecycle = 'sandbox'",
            &[],
        )
        .await;
    assert_eq!(row, 1, "the description changed; owner, type and lifecycle kept");
}

#[tokio::test]
async fn an_owner_not_here_resolves_when_its_team_is_made_or_its_person_signs_in() {
    let app = spawn_app().await;
    let alice = app.login_as(Persona::Admin).await;
    let component = |name: &str, owner: &str| {
        format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n")
    };
    let yaml = format!("{}---\n{}", component("waits-for-team", "later-team"), component("waits-for-dave", "user:dave"));
    assert_eq!(import(&alice, vec![("catalog-info.yaml", yaml)], false).await.status(), 200);
    let waiting = "SELECT count(*) FROM entities WHERE owner_team_id IS NULL AND owner_user_id IS NULL AND name LIKE 'waits-for-%'";
    assert_eq!(app.count(waiting, &[]).await, 2, "neither owner is here yet");

    let made = alice.server_fn("iam/create-team", &[("slug", "later-team"), ("name", "Later Team"), ("description", "Arrives late")]).await;
    assert_eq!(made.status(), 200, "{}", made.text().await.unwrap_or_default());
    let resolved = "SELECT count(*) FROM entities e JOIN teams t ON t.id = e.owner_team_id WHERE e.name = 'waits-for-team' AND t.slug = 'later-team'";
    assert_eq!(app.count(resolved, &[]).await, 1, "the team's entity resolves when an admin makes the team");

    app.login_as(Persona::Viewer).await;
    let resolved = "SELECT count(*) FROM entities e JOIN users u ON u.id = e.owner_user_id WHERE e.name = 'waits-for-dave' AND u.username = 'dave'";
    assert_eq!(app.count(resolved, &[]).await, 1, "the person's entity resolves at their first sign-in");
    assert_eq!(app.count(waiting, &[]).await, 0);
    let page = alice.get("/admin/catalog-references").await.text().await.expect("references page");
    assert!(!page.contains("later-team") && !page.contains("user:dave"), "no longer listed as waiting");
}

#[tokio::test]
async fn an_api_definition_at_a_url_is_fetched_at_import_from_an_allowed_host_only() {
    use std::sync::{Arc, Mutex};
    let spec = "openapi: 3.0.3\ninfo: {title: Fetched, version: 1.0.0}\npaths: {}\n";
    // a definitions host: serves one definition, notes every Host it was asked as
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let noted = asked.clone();
    let host = axum::Router::new().route(
        "/specs/{name}",
        axum::routing::get(move |axum::extract::Path(name): axum::extract::Path<String>, headers: axum::http::HeaderMap| {
            let noted = noted.clone();
            async move {
                let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("").to_owned();
                noted.lock().expect("lock").push(host);
                if name == "cards.yaml" { (axum::http::StatusCode::OK, spec) } else { (axum::http::StatusCode::NOT_FOUND, "") }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, host).await });
    let allowed = format!("127.0.0.1:{port}");
    let app = spawn_app_with(Options {
        migrate: true,
        settings: vec![("catalog.definition_hosts", vec![allowed.clone()].into())],
        ..Options::default()
    })
    .await;
    let alice = app.login_as(Persona::Admin).await;
    let api = |name: &str, url: &str| {
        format!("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: {name}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: payments\n  definition:\n    $text: {url}\n")
    };
    let fetched = format!("http://{allowed}/specs/cards.yaml");
    let elsewhere = format!("http://localhost:{port}/specs/cards.yaml");
    let missing = format!("http://{allowed}/specs/missing.yaml");
    let yaml = [api("fetched", &fetched), api("elsewhere", &elsewhere), api("missing", &missing)].join("---\n");
    let r = import(&alice, vec![("catalog-info.yaml", yaml)], false).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    let definition = |name: &'static str| {
        let alice = &alice;
        async move {
            let doc: Value = alice.get(&format!("/api/v1/catalog/entities/by-name/api/default/{name}")).await.json().await.expect("entity");
            doc["spec"]["definition"].clone()
        }
    };
    assert_eq!(definition("fetched").await, Value::String(spec.into()), "fetched from the allowed host");
    assert_eq!(definition("elsewhere").await, serde_json::json!({ "$text": elsewhere }), "another host: kept as a link");
    assert_eq!(definition("missing").await, serde_json::json!({ "$text": missing }), "a 404: kept as a link");
    assert_eq!(*asked.lock().expect("lock"), vec![allowed.clone(), allowed], "only the allowed host was asked, once per definition");
}

#[tokio::test]
async fn a_search_finds_by_typo_as_the_search_box_does_best_match_first_and_pages_without_repeats() {
    let app = spawn_app_with_demo_data().await;
    let dave = app.login_as(Persona::Viewer).await;
    let names = |page: &Value| -> Vec<String> {
        page["items"].as_array().expect("items").iter().map(|i| i["metadata"]["name"].as_str().unwrap_or_default().to_owned()).collect()
    };
    // "refnds" is a typo of Refunds: the list finds it, first, as the search box does
    let page: Value = dave.get("/api/v1/catalog/entities?q=refnds").await.json().await.expect("page");
    assert_eq!(names(&page).first().map(String::as_str), Some("refunds"), "{page}");
    // the list's order for a search is the best match first: the exact name before its neighbours
    let page: Value = dave.get("/api/v1/catalog/entities?q=ledger&kind=component").await.json().await.expect("page");
    let found = names(&page);
    assert!(found.len() > 1, "{found:?}");
    let by_name: Value = dave.get("/api/v1/catalog/entities?q=ledger&kind=component&sort=name").await.json().await.expect("page");
    let mut sorted = found.clone();
    sorted.sort();
    assert_eq!(names(&by_name), sorted, "the same matches, by name when asked");
    assert!(found.first().is_some_and(|n| n.starts_with("ledger")), "best match first: {found:?}");
    // every page of `path`, followed by its cursors: the names in order
    let paged = |path: &'static str| {
        let dave = &dave;
        async move {
            let (mut seen, mut cursor) = (Vec::new(), None::<String>);
            loop {
                let page: Value = dave.get(&format!("{path}{}", cursor.map(|c| format!("&cursor={c}")).unwrap_or_default())).await.json().await.expect("page");
                seen.extend(names(&page));
                match page["pageInfo"]["nextCursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => return seen,
                }
            }
        }
    };
    // paging the best matches: every match once
    assert_eq!(paged("/api/v1/catalog/entities?q=ledger&kind=component&limit=2").await, found, "page by page, the same order, no gaps or repeats");
    // an owner's search pages the same way
    let all: Value = dave.get("/api/v1/catalog/entities?q=ledger&owner=ledger").await.json().await.expect("page");
    assert_eq!(paged("/api/v1/catalog/entities?q=ledger&owner=ledger&limit=1").await, names(&all), "an owner's matches, page by page");
    assert_eq!(dave.get("/api/v1/catalog/entities?q=ledger&sort=best").await.status(), 422);
}

const MUTATED_CATALOG: &str = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: fees-calculator\n  tags: [money]\nspec:\n  type: service\n  lifecycle: production\n  owner: payments\n  dependsOn: [component:ledger-core]\n---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: fees-api}\nspec: {type: openapi, lifecycle: production, owner: payments, definition: 'openapi: 3.0.0'}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: fees-worker, title: Fees worker}\nspec: {type: worker, lifecycle: experimental, owner: group:default/ledger, providesApis: [fees-api]}\n";

#[tokio::test]
async fn a_mutated_catalog_import_writes_exactly_what_its_report_says_or_nothing() {
    use proptest::strategy::{Strategy, ValueTree};
    let app = spawn_app_with_demo_data().await;
    let alice = app.login_as(Persona::Admin).await;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let counts = || async {
        let e = app.count("SELECT count(*) FROM entities", &[]).await;
        let t = app.count("SELECT count(*) FROM teams", &[]).await;
        let a = app.count("SELECT count(*) FROM audit_log", &[]).await;
        (e, t, a)
    };
    let (mut applied, mut not_applied) = (0, 0);
    for case in 0..16 {
        // one case in three is valid with a change (most mutants are refused somewhere)
        let text = if case % 3 == 0 {
            MUTATED_CATALOG.replace("title: Fees worker", &format!("title: Fees worker {case}"))
        } else {
            crate::mutate::mutated(MUTATED_CATALOG).new_tree(&mut runner).expect("a case").current()
        };
        let atomic = case % 2 == 0;
        let before = counts().await;
        let r = import_with(&alice, vec![("catalog-info.yaml", text.clone())], if atomic { "?atomic=true" } else { "" }).await;
        let status = r.status().as_u16();
        let report: Value = r.json().await.expect("a JSON answer");
        let after = counts().await;
        if status != 200 || report["applied"] != true {
            assert_eq!(after, before, "case {case} ({status}, {report}) wrote something without applying:\n{text}");
            assert!(status == 200 || report["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "case {case}: a refusal says why: {report}");
            not_applied += 1;
            continue;
        }
        applied += 1;
        let items = report["items"].as_array().expect("items");
        assert!(!atomic || items.iter().all(|i| i["outcome"] != "refused"), "case {case}: an atomic import with a refusal applied:\n{text}\n{report}");
        let created = |group: bool| items.iter().filter(|i| i["outcome"] == "created" && i["entity"].as_str().is_some_and(|e| e.starts_with("group:") == group)).count() as i64;
        assert_eq!(after.0 - before.0, created(false), "case {case}: entities written are the ones reported created:\n{text}\n{report}");
        assert_eq!(after.1 - before.1, created(true), "case {case}: teams written are the groups reported created:\n{text}\n{report}");
        for i in items.iter().filter(|i| i["outcome"] == "created" || i["outcome"] == "updated") {
            let entity = i["entity"].as_str().expect("entity");
            let Some((kind, rest)) = entity.split_once(':') else { continue };
            let name = rest.rsplit('/').next().unwrap_or(rest);
            let found = if kind == "group" {
                app.count("SELECT count(*) FROM teams WHERE slug = $1", &[name]).await
            } else {
                app.count("SELECT count(*) FROM entities WHERE kind = $1 AND name = $2", &[kind, name]).await
            };
            assert_eq!(found, 1, "case {case}: {entity} is reported {} and is there:\n{text}", i["outcome"]);
        }
    }
    assert!(applied > 0 && not_applied > 0, "the cases cover both imports applied ({applied}) and not ({not_applied})");
}
