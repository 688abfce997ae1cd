//! The demo company's integrations: the business systems of a payments company, about forty
//! flows between them over MuleSoft, Workato, Boomi and in-house jobs, and 30 days of their runs
//! (replayed as OpenLineage events through the integrations service). Two flows fail now and
//! then, one often runs late, and the EUR statement import has failed since two days ago, so
//! health has something to say. Loaded once: a second load
//! finds the systems there and stops.
use app::context::RequestMeta;
use app::integrations::service::{self as integrations, By};
use app::integrations::types::{IntegrationForm, SystemForm};
use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// (name, title, kind, vendor, owner, classification, external)
const SYSTEMS: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    ("salesforce", "Salesforce", "crm", "Salesforce", "integrations", "confidential", "yes"),
    ("netsuite", "NetSuite", "erp", "Oracle", "ledger", "confidential", "yes"),
    ("workday", "Workday", "hris", "Workday", "integrations", "confidential", "yes"),
    ("okta", "Okta", "identity-provider", "Okta", "identity", "internal", "yes"),
    ("coupa", "Coupa", "saas", "Coupa", "treasury", "internal", "yes"),
    ("zendesk", "Zendesk", "saas", "Zendesk", "merchant", "confidential", "yes"),
    ("warehouse", "Data warehouse", "warehouse", "Snowflake", "data", "confidential", "no"),
    ("ledger-core", "Ledger", "internal-service", "", "ledger", "pci", "no"),
    ("bank-sftp-barclays", "Barclays SFTP", "bank", "Barclays", "treasury", "pci", "yes"),
    ("bank-api-jpm", "J.P. Morgan Access API", "bank", "J.P. Morgan", "treasury", "pci", "yes"),
    ("bank-sftp-deutsche", "Deutsche Bank SFTP (EUR)", "bank", "Deutsche Bank", "treasury", "pci", "yes"),
    ("visa-clearing", "Visa clearing (Base II)", "card-network", "Visa", "payments", "pci", "yes"),
    ("mastercard-clearing", "Mastercard clearing (IPM)", "card-network", "Mastercard", "payments", "pci", "yes"),
    ("merchant-portal", "Merchant portal", "internal-service", "", "merchant", "confidential", "no"),
    ("fraud-engine", "Fraud engine", "internal-service", "", "risk", "pci", "no"),
    ("sftp-gateway", "SFTP gateway", "file-transfer", "", "platform", "pci", "no"),
];

/// How a demo flow behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Steady,
    /// fails about one run in six
    Flaky,
    /// starts late about one slot in three
    Late,
    /// has failed every run of the last two days (the other end changed something)
    Broken,
}

/// (name, title, sources, targets, platform, schedule (cron) or trigger, format, transport, auth, owner, classification, minutes a run takes, behaviour)
type Flow = (&'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, i64, Behaviour);

const FLOWS: &[Flow] = &[
    ("sfdc-opportunities-to-netsuite", "Closed-won opportunities to sales orders", "salesforce", "netsuite", "mulesoft", "*/30 * * * *", "json", "https", "oauth2-client-credentials", "integrations", "confidential", 2, Behaviour::Steady),
    ("sfdc-accounts-to-netsuite", "Accounts to customers", "salesforce", "netsuite", "mulesoft", "0 * * * *", "json", "https", "oauth2-client-credentials", "integrations", "confidential", 3, Behaviour::Steady),
    ("netsuite-invoices-to-sfdc", "Invoices back to Salesforce", "netsuite", "salesforce", "mulesoft", "30 * * * *", "json", "https", "jwt-bearer", "integrations", "confidential", 2, Behaviour::Steady),
    ("workday-workers-to-okta", "Workers to the identity provider", "workday", "okta", "workato", "0 */2 * * *", "json", "https", "oauth2-client-credentials", "identity", "confidential", 4, Behaviour::Steady),
    ("workday-leavers-to-okta", "Leavers deprovisioned", "workday", "okta", "workato", "*/30 * * * *", "json", "https", "oauth2-client-credentials", "identity", "confidential", 1, Behaviour::Steady),
    ("workday-payroll-to-netsuite", "Payroll journal to the GL", "workday", "netsuite", "boomi", "0 2 * * *", "csv", "sftp", "sftp-key", "ledger", "confidential", 12, Behaviour::Steady),
    ("coupa-invoices-to-netsuite", "Supplier invoices to payables", "coupa", "netsuite", "workato", "0 */3 * * *", "json", "https", "api-key", "treasury", "internal", 5, Behaviour::Flaky),
    ("coupa-suppliers-from-netsuite", "Suppliers to Coupa", "netsuite", "coupa", "workato", "0 5 * * *", "json", "https", "api-key", "treasury", "internal", 3, Behaviour::Steady),
    ("zendesk-tickets-to-warehouse", "Support tickets to the warehouse", "zendesk", "warehouse", "in-house", "0 * * * *", "json", "https", "api-key", "data", "confidential", 6, Behaviour::Steady),
    ("zendesk-merchants-from-portal", "Merchant profiles to Zendesk", "merchant-portal", "zendesk", "workato", "0 */2 * * *", "json", "https", "oauth2-client-credentials", "merchant", "confidential", 1, Behaviour::Steady),
    ("barclays-camt053-to-ledger", "Bank statements (camt.053) into the ledger", "bank-sftp-barclays", "ledger-core", "boomi", "0 6,12,18 * * *", "iso20022-camt", "sftp", "sftp-key", "treasury", "pci", 8, Behaviour::Late),
    ("jpm-camt053-to-ledger", "J.P. Morgan statements into the ledger", "bank-api-jpm", "ledger-core", "in-house", "15 6 * * *", "iso20022-camt", "https", "mtls", "treasury", "pci", 6, Behaviour::Steady),
    ("ledger-pain001-to-barclays", "Supplier payments (pain.001) to Barclays", "ledger-core", "bank-sftp-barclays", "boomi", "0 9,15 * * 1-5", "iso20022-pain", "sftp", "sftp-key", "treasury", "pci", 4, Behaviour::Steady),
    ("ledger-pain001-to-jpm", "Payouts (pain.001) to J.P. Morgan", "ledger-core", "bank-api-jpm", "in-house", "30 10 * * 1-5", "iso20022-pain", "https", "mtls", "treasury", "pci", 3, Behaviour::Steady),
    ("visa-clearing-in", "Visa clearing files in", "visa-clearing", "ledger-core", "in-house", "0 4 * * *", "fixed-width", "sftp", "sftp-key", "payments", "pci", 18, Behaviour::Steady),
    ("visa-settlement-reports", "Visa settlement reports", "visa-clearing", "warehouse", "in-house", "30 4 * * *", "fixed-width", "sftp", "sftp-key", "payments", "pci", 9, Behaviour::Steady),
    ("mastercard-ipm-in", "Mastercard IPM clearing in", "mastercard-clearing", "ledger-core", "in-house", "0 3 * * *", "fixed-width", "sftp", "sftp-key", "payments", "pci", 22, Behaviour::Flaky),
    ("mastercard-disputes-in", "Mastercard disputes", "mastercard-clearing", "merchant-portal", "boomi", "0 */4 * * *", "xml", "sftp", "sftp-key", "payments", "pci", 4, Behaviour::Steady),
    ("ledger-to-warehouse", "Ledger balances to the warehouse", "ledger-core", "warehouse", "in-house", "0 1 * * *", "csv", "database", "mtls", "data", "pci", 25, Behaviour::Steady),
    ("fraud-scores-to-warehouse", "Fraud scores to the warehouse", "fraud-engine", "warehouse", "in-house", "0 * * * *", "json", "queue", "mtls", "risk", "pci", 3, Behaviour::Steady),
    ("sfdc-merchants-to-portal", "Signed merchants to the portal", "salesforce", "merchant-portal", "mulesoft", "0 * * * *", "json", "https", "oauth2-client-credentials", "merchant", "confidential", 1, Behaviour::Steady),
    ("portal-leads-to-sfdc", "Portal sign-ups to Salesforce leads", "merchant-portal", "salesforce", "mulesoft", "event", "json", "https", "oauth2-client-credentials", "merchant", "confidential", 1, Behaviour::Steady),
    ("netsuite-gl-to-warehouse", "General ledger to the warehouse", "netsuite", "warehouse", "boomi", "0 0 * * *", "csv", "https", "oauth2-client-credentials", "data", "confidential", 15, Behaviour::Steady),
    ("sftp-gateway-archive", "File archive sweep", "sftp-gateway", "warehouse", "in-house", "0 23 * * *", "other", "sftp", "sftp-key", "platform", "pci", 7, Behaviour::Steady),
    ("deutsche-camt053-to-ledger", "EUR statements (camt.053) into the ledger", "bank-sftp-deutsche", "ledger-core", "boomi", "30 6 * * *", "iso20022-camt", "sftp", "sftp-key", "treasury", "pci", 7, Behaviour::Broken),
];

/// The catalog component an in-house system is.
fn component_of(system: &str) -> &'static str {
    match system {
        "ledger-core" => "ledger-core",
        "fraud-engine" => "fraud-scoring",
        "merchant-portal" => "merchant-dashboard",
        "sftp-gateway" => "bank-file-gateway",
        _ => "",
    }
}

/// The partner of the demo network that hosts a system, and the one it is reached through.
fn partners_of(system: &str) -> (&'static str, &'static str) {
    match system {
        "bank-sftp-barclays" => ("Barclays", ""),
        "bank-api-jpm" => ("J.P. Morgan", ""),
        "bank-sftp-deutsche" => ("Deutsche Bank", ""),
        "visa-clearing" => ("Visa", ""),
        "mastercard-clearing" => ("Mastercard", ""),
        // Salesforce Private Connect, over the Direct Connect circuits
        "salesforce" => ("", "AWS"),
        _ => ("", ""),
    }
}

fn system_form(s: &(&str, &str, &str, &str, &str, &str, &str)) -> SystemForm {
    let (hosted_by, reached_via) = partners_of(s.0);
    SystemForm {
        component: component_of(s.0).into(),
        hosted_by: hosted_by.into(),
        reached_via: reached_via.into(),
        name: s.0.into(),
        title: s.1.into(),
        kind: s.2.into(),
        vendor: s.3.into(),
        owner: s.4.into(),
        classification: s.5.into(),
        external: s.6.into(),
        environment: "production".into(),
        ..SystemForm::default()
    }
}

fn flow_form(f: &Flow) -> IntegrationForm {
    let scheduled = f.5.contains(' ');
    IntegrationForm {
        name: f.0.into(),
        title: f.1.into(),
        sources: f.2.into(),
        targets: f.3.into(),
        platform: f.4.into(),
        trigger: if scheduled { "schedule".into() } else { f.5.into() },
        schedule: if scheduled { f.5.into() } else { String::new() },
        data_format: f.6.into(),
        transport: f.7.into(),
        auth: f.8.into(),
        owner: f.9.into(),
        classification: f.10.into(),
        lifecycle: "stable".into(),
        max_duration_mins: format!("{}", (f.11 * 3).max(30)),
        grace_mins: "10".into(),
        runbook: format!("https://runbooks.example.com/integrations/{}", f.0),
        on_call: format!("{}-oncall", f.9),
        ..IntegrationForm::default()
    }
}

/// The events of one run: START at `start`, then COMPLETE (or FAIL) `minutes` later.
fn run_events(job: &str, nominal: Option<DateTime<Utc>>, start: DateTime<Utc>, minutes: f64, failed: bool, records: i64) -> Vec<Value> {
    let run_id = uuid::Uuid::now_v7();
    let mut facets = json!({});
    if let Some(n) = nominal {
        facets["nominalTime"] = json!({ "_producer": PRODUCER, "_schemaURL": NOMINAL, "nominalStartTime": n.to_rfc3339() });
    }
    let end = start + Duration::milliseconds((minutes * 60_000.0) as i64);
    let base = |kind: &str, at: DateTime<Utc>, facets: Value| {
        json!({
            "eventType": kind, "eventTime": at.to_rfc3339(),
            "run": { "runId": run_id, "facets": facets },
            "job": { "namespace": "switchyard", "name": job },
            "producer": PRODUCER, "schemaURL": SCHEMA,
        })
    };
    let mut last = facets.clone();
    if failed {
        last["errorMessage"] = json!({ "_producer": PRODUCER, "_schemaURL": ERROR, "message": "The target answered 503: service unavailable (retries exhausted)", "programmingLanguage": "java" });
        last["switchyard_run"] = json!({ "errorClass": "target-unavailable", "recordsIn": records, "recordsFailed": records });
    } else {
        last["switchyard_run"] = json!({ "recordsIn": records, "recordsOut": records });
    }
    vec![base("START", start, facets), base(if failed { "FAIL" } else { "COMPLETE" }, end, last)]
}

const PRODUCER: &str = "https://github.com/switchyard/demo";
const SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
const NOMINAL: &str = "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet";
const ERROR: &str = "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet";

/// Loads the systems, the flows (registered `days` ago) and that many days of their runs. A demo
/// loaded before keeps what it has and gains what it lacks (a system or flow added since).
pub async fn load(pool: &sqlx::PgPool, days: i64) -> Result<(), String> {
    let meta = RequestMeta { request_id: "demo-data".into(), ip: "127.0.0.1".into() };
    let now = Utc::now();
    let since = now - Duration::days(days);
    for s in SYSTEMS {
        let draft = system_form(s).parse().map_err(|p| format!("demo system {}: {p:?}", s.0))?;
        match integrations::add_system(pool, By::Switchyard, &draft, &meta).await {
            Ok(_) => {}
            // loaded before
            Err(integrations::IntegrationError::Refused(app::error::Refusal::Invalid(p))) if p.field == "name" => {}
            Err(e) => return Err(format!("demo system {}: {e}", s.0)),
        }
    }
    let loaded: Vec<String> = sqlx::query_scalar("SELECT name FROM integrations").fetch_all(pool).await.map_err(|e| e.to_string())?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for f in FLOWS {
        let draft = flow_form(f).parse().map_err(|p| format!("demo integration {}: {p:?}", f.0))?;
        if loaded.iter().any(|n| n == f.0) {
            continue; // loaded before, with its runs
        }
        integrations::register(pool, By::Switchyard, &draft, &meta, since).await.map_err(|e| format!("demo integration {}: {e}", f.0))?;
        let slots: Vec<DateTime<Utc>> = match &draft.schedule {
            Some(s) => s.slots(&Utc, since, now - Duration::minutes(f.11 + 1), 5000),
            // an event-driven flow: a run every 40 minutes or so
            None => (0..(days * 36)).map(|i| since + Duration::minutes(i * 40 + rng.random_range(0..30))).collect(),
        };
        let mut texts: Vec<String> = Vec::new();
        for nominal in slots {
            let late = f.12 == Behaviour::Late && rng.random_bool(0.3);
            if late && rng.random_bool(0.3) {
                continue; // never started: a missed slot
            }
            let delay = if late { rng.random_range(15..40) * 60 } else { rng.random_range(2..50) };
            let start = nominal + Duration::seconds(delay);
            let failed = f.12 == Behaviour::Flaky && rng.random_bool(1.0 / 6.0) || rng.random_bool(0.005) || f.12 == Behaviour::Broken && start > now - Duration::days(2);
            let minutes = f.11 as f64 * rng.random_range(0.6..1.4);
            let records = rng.random_range(10..5000);
            let nominal = draft.schedule.as_ref().map(|_| nominal);
            texts.extend(run_events(f.0, nominal, start, minutes, failed, records).iter().map(Value::to_string));
        }
        for chunk in texts.chunks(500) {
            let events: Vec<(Value, &str)> = chunk.iter().map(|t| (serde_json::from_str(t).unwrap_or(Value::Null), t.as_str())).collect();
            let outcome = integrations::replay(pool, &events, now).await.map_err(|e| format!("demo runs of {}: {e}", f.0))?;
            if !outcome.failed.is_empty() {
                return Err(format!("demo runs of {}: {:?}", f.0, outcome.failed.first().map(|(_, r)| r.to_string())));
            }
        }
    }
    // judge the 30 days of schedule slots now, not over the server's first minutes
    for _ in 0..100 {
        if integrations::check_due(pool, now, 500).await.map_err(|e| e.to_string())? == 0 {
            break;
        }
    }
    Ok(())
}
