//! Integration data shared by server and browser: the closed vocabularies, the parsed forms, the
//! views, and the rules that turn runs and schedule slots into health (pure, so they are tested
//! with fixed times).
use crate::catalog::types::{parse_description, parse_link, parse_name, parse_tags, parse_title, Classification};
pub use crate::error::FieldProblem;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

uuid_id!(SystemId);
uuid_id!(IntegrationId);
uuid_id!(JobId);

/// Declares a closed list of words: the enum, its words, a parse that names the choices, serde
/// as the word, and its OpenAPI schema (the words).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident = $word:literal / $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $word)] $variant),+
        }

        // written out, not derived: the derive does not see a rename a macro passes it, and would
        // document the variants' names instead of the words the API sends
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!("A ", $what, ".")))
                    .enum_values(Some([$($word),+]))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                let word = raw.trim().to_ascii_lowercase().replace('_', "-");
                Self::ALL.iter().copied().find(|v| v.as_str().replace('_', "-") == word).ok_or_else(|| {
                    let words: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    if raw.trim().is_empty() {
                        format!("the {} is required: use {}", $what, words.join(", "))
                    } else {
                        format!("unknown {} \"{}\": use {}", $what, raw.trim(), words.join(", "))
                    }
                })
            }

            /// A stored word (written by this code, so known); an unknown one reads as the first.
            pub fn stored(raw: &str) -> Self {
                Self::parse(raw).unwrap_or(Self::ALL[0])
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

vocabulary!(
    /// What a system is.
    SystemKind, "system kind" {
        Saas = "saas" / "SaaS application",
        Erp = "erp" / "ERP",
        Crm = "crm" / "CRM",
        Hris = "hris" / "HR system",
        Bank = "bank" / "Bank",
        CardNetwork = "card-network" / "Card network",
        Warehouse = "warehouse" / "Data warehouse",
        IdentityProvider = "identity-provider" / "Identity provider",
        FileTransfer = "file-transfer" / "File transfer (SFTP)",
        InternalService = "internal-service" / "Internal service",
        Other = "other" / "Other",
    }
);

impl SystemKind {
    /// Whether a system of this kind is, unless said otherwise, outside the company.
    pub fn external_by_default(self) -> bool {
        matches!(self, SystemKind::Saas | SystemKind::Crm | SystemKind::Hris | SystemKind::Bank | SystemKind::CardNetwork)
    }
}

vocabulary!(SystemEnvironment, "environment" {
    Production = "production" / "Production",
    Sandbox = "sandbox" / "Sandbox",
});

vocabulary!(
    /// Where an integration runs.
    Platform, "platform" {
        Mulesoft = "mulesoft" / "MuleSoft",
        Workato = "workato" / "Workato",
        Boomi = "boomi" / "Boomi",
        InHouse = "in-house" / "In-house job",
        Airflow = "airflow" / "Airflow",
        Other = "other" / "Other",
    }
);

vocabulary!(
    /// What starts an integration.
    Trigger, "trigger" {
        Schedule = "schedule" / "Schedule",
        Event = "event" / "Event",
        Api = "api" / "API call",
        File = "file" / "File arrival",
        Manual = "manual" / "Manual",
    }
);

vocabulary!(DataFormat, "data format" {
    Json = "json" / "JSON",
    Xml = "xml" / "XML",
    Csv = "csv" / "CSV",
    Pain = "iso20022-pain" / "ISO 20022 pain",
    Camt = "iso20022-camt" / "ISO 20022 camt",
    FixedWidth = "fixed-width" / "Fixed-width",
    Edi = "edi" / "EDI",
    Other = "other" / "Other",
});

vocabulary!(Transport, "transport" {
    Https = "https" / "HTTPS",
    Sftp = "sftp" / "SFTP",
    As2 = "as2" / "AS2",
    Queue = "queue" / "Message queue",
    Database = "database" / "Database",
    Other = "other" / "Other",
});

vocabulary!(AuthMethod, "auth" {
    OauthClientCredentials = "oauth2-client-credentials" / "OAuth 2.0 client credentials",
    JwtBearer = "jwt-bearer" / "JWT bearer",
    Mtls = "mtls" / "mTLS",
    ApiKey = "api-key" / "API key",
    SftpKey = "sftp-key" / "SFTP key",
    Basic = "basic" / "Basic",
    None = "none" / "None",
});

vocabulary!(IntegrationLifecycle, "lifecycle" {
    Development = "development" / "Development",
    Stable = "stable" / "Stable",
    Deprecated = "deprecated" / "Deprecated",
});

vocabulary!(
    /// Where a run is. The first terminal event decides it; nothing reopens it.
    RunState, "run state" {
        Queued = "queued" / "Queued",
        Running = "running" / "Running",
        Succeeded = "succeeded" / "Succeeded",
        SucceededWithWarnings = "succeeded_with_warnings" / "Succeeded with warnings",
        Failed = "failed" / "Failed",
        Aborted = "aborted" / "Aborted",
        Discarded = "discarded" / "Discarded",
    }
);

impl RunState {
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running)
    }

    pub fn is_success(self) -> bool {
        matches!(self, RunState::Succeeded | RunState::SucceededWithWarnings)
    }
}

vocabulary!(
    /// What started a run.
    RunTrigger, "run trigger" {
        Scheduled = "scheduled" / "Scheduled",
        Manual = "manual" / "Manual",
        Event = "event" / "Event",
        Retry = "retry" / "Retry",
        SubProcess = "sub_process" / "Sub-process",
        Test = "test" / "Test",
    }
);

vocabulary!(
    /// One word for how an integration is doing.
    Health, "health" {
        Healthy = "healthy" / "Healthy",
        Degraded = "degraded" / "Degraded",
        Failing = "failing" / "Failing",
        Late = "late" / "Late",
        Unknown = "unknown" / "Unknown",
        Paused = "paused" / "Paused",
    }
);

vocabulary!(SlotState, "slot state" {
    OnTime = "on_time" / "On time",
    Late = "late" / "Late",
    Missed = "missed" / "Missed",
});

/// A cron schedule: five fields (minute hour day month weekday), or six with seconds first,
/// read in the integration's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronSchedule(String);

impl CronSchedule {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            return Err("a scheduled integration needs a schedule, e.g. 0 6 * * * (06:00 every day)".into());
        }
        if text.len() > 200 {
            return Err("the schedule is longer than 200 characters".into());
        }
        let fields = text.split(' ').count();
        if !(5..=6).contains(&fields) {
            return Err(format!(
                "\"{text}\" has {fields} fields: use five (minute hour day month weekday, e.g. 0 6 * * *) or six with seconds first"
            ));
        }
        Self::compile(&text).map_err(|e| format!("\"{text}\" is not a schedule ({e})"))?;
        Ok(CronSchedule(text))
    }

    fn compile(text: &str) -> Result<cron::Schedule, cron::error::Error> {
        use std::str::FromStr;
        if text.split(' ').count() == 5 {
            cron::Schedule::from_str(&format!("0 {text}"))
        } else {
            cron::Schedule::from_str(text)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The slots in `(after, until]`, at most `max`, computed in `zone`.
    pub fn slots<Tz: chrono::TimeZone>(&self, zone: &Tz, after: DateTime<Utc>, until: DateTime<Utc>, max: usize) -> Vec<DateTime<Utc>> {
        let Ok(schedule) = Self::compile(&self.0) else { return Vec::new() };
        schedule
            .after(&after.with_timezone(zone))
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= until)
            .take(max)
            .collect()
    }
}

/// Whether an integration's scheduled runs are critical, and why: it carries card data (PCI), or
/// a tier 0 or tier 1 component is at one of its ends. `tier_of` names that component.
pub fn critical_because(classification: &str, tier: Option<i16>, tier_of: Option<&str>) -> Option<String> {
    match tier {
        Some(t) if t <= 1 => Some(format!(
            "{}{} is tier {t}",
            if classification == "pci" { "PCI; " } else { "" },
            tier_of.unwrap_or("an end")
        )),
        _ if classification == "pci" => Some("PCI".into()),
        _ => None,
    }
}

/// A critical integration's scheduled runs over a span of time: each from its slot for the
/// longest a run may take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriticalRuns {
    pub name: String,
    pub title: String,
    /// The owning team's name.
    pub owner: String,
    /// Why its runs are critical ("PCI", "Ledger is tier 0").
    pub why: String,
    /// `kind:namespace/name` of each catalog component at an end.
    pub services: Vec<String>,
    /// The partners hosting the systems at its ends.
    pub partners: Vec<String>,
    pub schedule: String,
    pub time_zone: String,
    pub runs: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// An IANA time-zone name (`Europe/London`, `UTC`). The browser checks its shape; the server
/// checks it against the time-zone database.
pub fn parse_time_zone(raw: &str) -> Result<String, String> {
    let tz = raw.trim();
    if tz.is_empty() {
        return Ok("UTC".into());
    }
    let shaped = tz.len() <= 64 && tz.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
    if !shaped {
        return Err(format!("\"{tz}\" is not a time zone: use an IANA name like Europe/London or UTC"));
    }
    #[cfg(feature = "ssr")]
    if tz.parse::<chrono_tz::Tz>().is_err() {
        return Err(format!("\"{tz}\" is not a time zone: use an IANA name like Europe/London or UTC"));
    }
    Ok(tz.to_owned())
}

/// A system as a form sends it: every field a string, parsed by [`SystemForm::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SystemForm {
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub vendor: String,
    pub environment: String,
    /// `yes`, `no`, or empty for the kind's default.
    pub external: String,
    pub owner: String,
    pub classification: String,
    /// E-mail addresses, separated by commas or spaces.
    pub contacts: String,
    /// A catalog component's name, when the system is an in-house service.
    pub component: String,
    /// The partner that hosts it (a bank's SFTP endpoint), by the partner's name.
    pub hosted_by: String,
    /// The partner it is reached through (a cloud on-ramp), by the partner's name.
    pub reached_via: String,
}

/// A system that parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemDraft {
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: SystemKind,
    pub vendor: String,
    pub environment: SystemEnvironment,
    pub external: bool,
    pub owner: String,
    pub classification: Classification,
    pub contacts: Vec<String>,
    pub component: Option<String>,
    pub hosted_by: Option<String>,
    pub reached_via: Option<String>,
}

/// Collects a form's problems, each with its field, and the values that parsed.
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn check<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|m| self.0.push(FieldProblem::new(field, m))).ok()
    }
}

fn parse_owner(raw: &str) -> Result<String, String> {
    parse_name("owning team", raw.trim().trim_start_matches("group:").trim_start_matches("default/"))
}

fn parse_contacts(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for c in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|c| !c.is_empty()) {
        let (local, domain) = c.split_once('@').ok_or_else(|| format!("\"{c}\" is not an e-mail address"))?;
        if local.is_empty() || !domain.contains('.') || c.len() > 254 || c.chars().any(|ch| ch.is_control()) {
            return Err(format!("\"{c}\" is not an e-mail address"));
        }
        if !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(format!("{} contacts given; at most 20", out.len()));
    }
    Ok(out)
}

/// Text of several lines (line breaks and tabs allowed), at most `max` characters.
fn parse_text(what: &str, raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(format!("the {what} is longer than {max} characters"));
    }
    if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(format!("the {what} contains a control character"));
    }
    Ok(t.to_owned())
}

/// A partner's name as the topology spells it (`Deutsche Bank`), or none when empty.
fn parse_partner(raw: &str) -> Result<Option<String>, String> {
    let t = parse_plain("partner's name", raw, 100)?;
    Ok((!t.is_empty()).then_some(t))
}

fn parse_plain(what: &str, raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(format!("the {what} is longer than {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(format!("the {what} contains a control character"));
    }
    Ok(t.to_owned())
}

impl SystemForm {
    pub fn parse(&self) -> Result<SystemDraft, Vec<FieldProblem>> {
        let mut p = Problems(Vec::new());
        let name = p.check("name", parse_name("name", &self.name));
        let title = p.check("title", parse_title(&self.title));
        let description = p.check("description", parse_description(&self.description));
        let kind = p.check("kind", SystemKind::parse(&self.kind));
        let vendor = p.check("vendor", parse_plain("vendor", &self.vendor, 100));
        let environment = p.check("environment", SystemEnvironment::parse(if self.environment.trim().is_empty() { "production" } else { &self.environment }));
        let external = p.check(
            "external",
            match self.external.trim() {
                "" => Ok(None),
                "yes" | "true" | "on" => Ok(Some(true)),
                "no" | "false" | "off" => Ok(Some(false)),
                other => Err(format!("external must be yes or no, not \"{other}\"")),
            },
        );
        let owner = p.check("owner", parse_owner(&self.owner));
        let classification = p.check("classification", Classification::parse(if self.classification.trim().is_empty() { "internal" } else { &self.classification }));
        let contacts = p.check("contacts", parse_contacts(&self.contacts));
        let component = p.check(
            "component",
            if self.component.trim().is_empty() { Ok(None) } else { crate::catalog::types::parse_entity_name(&self.component).map(Some) },
        );
        let hosted_by = p.check("hosted_by", parse_partner(&self.hosted_by));
        let reached_via = p.check("reached_via", parse_partner(&self.reached_via));
        match (name, title, description, kind, vendor, environment, external, owner, classification, contacts, component, hosted_by, reached_via) {
            (
                Some(name),
                Some(title),
                Some(description),
                Some(kind),
                Some(vendor),
                Some(environment),
                Some(external),
                Some(owner),
                Some(classification),
                Some(contacts),
                Some(component),
                Some(hosted_by),
                Some(reached_via),
            ) if p.0.is_empty() =>
            {
                Ok(SystemDraft {
                    name,
                    title,
                    description,
                    external: external.unwrap_or_else(|| kind.external_by_default()),
                    kind,
                    vendor,
                    environment,
                    owner,
                    classification,
                    contacts,
                    component,
                    hosted_by,
                    reached_via,
                })
            }
            _ => Err(p.0),
        }
    }

    /// Sets one field by its name; false when there is no such field.
    pub fn set(&mut self, field: &str, value: &str) -> bool {
        let slot = match field {
            "name" => &mut self.name,
            "title" => &mut self.title,
            "description" => &mut self.description,
            "kind" => &mut self.kind,
            "vendor" => &mut self.vendor,
            "environment" => &mut self.environment,
            "external" => &mut self.external,
            "owner" => &mut self.owner,
            "classification" => &mut self.classification,
            "contacts" => &mut self.contacts,
            "component" => &mut self.component,
            "hosted_by" => &mut self.hosted_by,
            "reached_via" => &mut self.reached_via,
            _ => return false,
        };
        value.clone_into(slot);
        true
    }
}

/// An integration as a form sends it: every field a string, parsed by [`IntegrationForm::parse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct IntegrationForm {
    pub name: String,
    pub title: String,
    pub description: String,
    /// System names, separated by commas or spaces.
    pub sources: String,
    pub targets: String,
    pub platform: String,
    pub platform_ref: String,
    pub trigger: String,
    pub schedule: String,
    pub time_zone: String,
    pub data_format: String,
    pub transport: String,
    pub auth: String,
    pub owner: String,
    /// Team names, separated by commas or spaces.
    pub co_owners: String,
    pub classification: String,
    pub lifecycle: String,
    pub runbook: String,
    pub on_call: String,
    pub tags: String,
    pub grace_mins: String,
    pub max_duration_mins: String,
    pub freshness_hours: String,
    /// A percentage (`99.5`) or a fraction (`0.995`).
    pub success_target: String,
    /// The OpenLineage job: namespace and name. Empty: `switchyard` and the integration's name.
    pub job_namespace: String,
    pub job_name: String,
    /// Why, when the change needs approval.
    pub reason: String,
}

/// Service levels: when a scheduled run is late or missed, how fresh a success must be, and
/// the share of runs that must succeed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceLevels {
    pub grace_mins: i32,
    pub max_duration_mins: i32,
    pub freshness_hours: Option<i32>,
    /// 0 < target ≤ 1.
    pub success_target: f64,
}

impl Default for ServiceLevels {
    fn default() -> Self {
        ServiceLevels { grace_mins: 15, max_duration_mins: 60, freshness_hours: None, success_target: 0.99 }
    }
}

/// An integration that parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationDraft {
    pub name: String,
    pub title: String,
    pub description: String,
    pub sources: Vec<String>,
    pub targets: Vec<String>,
    pub platform: Platform,
    pub platform_ref: String,
    pub trigger: Trigger,
    pub schedule: Option<CronSchedule>,
    pub time_zone: String,
    pub data_format: DataFormat,
    pub transport: Transport,
    pub auth: AuthMethod,
    pub owner: String,
    pub co_owners: Vec<String>,
    pub classification: Classification,
    pub lifecycle: IntegrationLifecycle,
    pub runbook: Option<String>,
    pub on_call: String,
    pub tags: Vec<String>,
    pub levels: ServiceLevels,
    pub job_namespace: String,
    pub job_name: String,
    pub reason: String,
}

fn parse_names(what: &str, raw: &str, required: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for n in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|n| !n.is_empty()) {
        let n = parse_name(what, n)?;
        if !out.contains(&n) {
            out.push(n);
        }
    }
    if required && out.is_empty() {
        return Err(format!("name at least one {what}"));
    }
    if out.len() > 20 {
        return Err(format!("{} {what}s given; at most 20", out.len()));
    }
    Ok(out)
}

fn parse_minutes(what: &str, raw: &str, default: i32, max: i32) -> Result<i32, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(default);
    }
    t.parse::<i32>()
        .ok()
        .filter(|n| (0..=max).contains(n))
        .ok_or_else(|| format!("the {what} must be a whole number from 0 to {max}, not \"{t}\""))
}

/// A success target as a fraction: `99.5` (a percentage) or `0.995`.
pub fn parse_success_target(raw: &str) -> Result<f64, String> {
    let t = raw.trim().trim_end_matches('%').trim();
    if t.is_empty() {
        return Ok(0.99);
    }
    let n: f64 = t.parse().map_err(|_| format!("the success target must be a percentage like 99.5, not \"{raw}\""))?;
    let fraction = if n > 1.0 { n / 100.0 } else { n };
    if !(fraction > 0.0 && fraction <= 1.0) || !fraction.is_finite() {
        return Err(format!("the success target must be above 0 and at most 100 %, not \"{raw}\""));
    }
    Ok(fraction)
}

/// An OpenLineage job namespace or name: 1 to `max` visible characters.
pub fn parse_job_part(what: &str, raw: &str, max: usize) -> Result<String, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(format!("the job {what} is required"));
    }
    if t.chars().count() > max {
        return Err(format!("the job {what} is longer than {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(format!("the job {what} contains a control character"));
    }
    Ok(t.to_owned())
}

/// The namespace of the OpenLineage jobs Switchyard names itself.
pub const DEFAULT_JOB_NAMESPACE: &str = "switchyard";

/// Names the integrations' own pages and routes take.
pub const RESERVED_NAMES: [&str; 4] = ["new", "systems", "unregistered-jobs", "map"];

impl IntegrationForm {
    pub fn parse(&self) -> Result<IntegrationDraft, Vec<FieldProblem>> {
        let mut p = Problems(Vec::new());
        let name = p.check(
            "name",
            parse_name("name", &self.name).and_then(|n| {
                if RESERVED_NAMES.contains(&n.as_str()) { Err(format!("\"{n}\" is a word the portal keeps for itself: choose another name")) } else { Ok(n) }
            }),
        );
        let title = p.check("title", parse_title(&self.title));
        let description = p.check("description", parse_text("description", &self.description, 4000));
        let sources = p.check("sources", parse_names("source system", &self.sources, true));
        let targets = p.check("targets", parse_names("target system", &self.targets, true));
        let platform = p.check("platform", Platform::parse(&self.platform));
        let platform_ref = p.check("platform_ref", parse_plain("platform reference", &self.platform_ref, 200));
        let trigger = p.check("trigger", Trigger::parse(&self.trigger));
        let schedule = match trigger {
            Some(Trigger::Schedule) => p.check("schedule", CronSchedule::parse(&self.schedule).map(Some)),
            Some(_) if !self.schedule.trim().is_empty() => {
                p.check::<Option<CronSchedule>>("schedule", Err("only a scheduled integration has a schedule: choose the schedule trigger, or leave this empty".into()))
            }
            _ => Some(None),
        };
        let time_zone = p.check("time_zone", parse_time_zone(&self.time_zone));
        let data_format = p.check("data_format", DataFormat::parse(&self.data_format));
        let transport = p.check("transport", Transport::parse(&self.transport));
        let auth = p.check("auth", AuthMethod::parse(&self.auth));
        let owner = p.check("owner", parse_owner(&self.owner));
        let co_owners = p.check("co_owners", parse_names("co-owning team", &self.co_owners, false));
        let classification = p.check("classification", Classification::parse(if self.classification.trim().is_empty() { "internal" } else { &self.classification }));
        let lifecycle = p.check("lifecycle", IntegrationLifecycle::parse(if self.lifecycle.trim().is_empty() { "development" } else { &self.lifecycle }));
        let runbook = p.check("runbook", parse_link("runbook", &self.runbook));
        let on_call = p.check("on_call", parse_plain("on-call", &self.on_call, 200));
        let tags = p.check("tags", parse_tags(&self.tags));
        let grace = p.check("grace_mins", parse_minutes("grace", &self.grace_mins, 15, 10080));
        let max_duration = p.check("max_duration_mins", parse_minutes("maximum duration", &self.max_duration_mins, 60, 10080).and_then(|m| {
            if m == 0 { Err("the maximum duration must be at least 1 minute".into()) } else { Ok(m) }
        }));
        let freshness = p.check("freshness_hours", {
            let t = self.freshness_hours.trim();
            if t.is_empty() { Ok(None) } else {
                t.parse::<i32>().ok().filter(|h| (1..=8760).contains(h)).map(Some)
                    .ok_or_else(|| format!("the freshness must be a whole number of hours from 1 to 8760, not \"{t}\""))
            }
        });
        let target = p.check("success_target", parse_success_target(&self.success_target));
        let job_namespace = p.check("job_namespace", if self.job_namespace.trim().is_empty() { Ok(DEFAULT_JOB_NAMESPACE.into()) } else { parse_job_part("namespace", &self.job_namespace, 200) });
        let job_name = if self.job_name.trim().is_empty() { name.clone() } else { p.check("job_name", parse_job_part("name", &self.job_name, 300)) };
        let reason = p.check("reason", parse_plain("reason", &self.reason, 2000));
        if let (Some(g), Some(m)) = (grace, max_duration) {
            if m < g {
                p.0.push(FieldProblem::new("max_duration_mins", format!("the maximum duration ({m} min) must be at least the grace ({g} min)")));
            }
        }
        if let (Some(s), Some(t)) = (&sources, &targets) {
            if let Some(both) = s.iter().find(|n| t.contains(n)) {
                p.0.push(FieldProblem::new("targets", format!("\"{both}\" is both a source and a target")));
            }
        }
        if !p.0.is_empty() {
            return Err(p.0);
        }
        match (name, title, description, sources, targets, platform, platform_ref, trigger, schedule, time_zone, data_format, transport, auth, owner, co_owners, classification, lifecycle, runbook, on_call, tags, grace, max_duration, freshness, target, job_namespace, job_name, reason) {
            (Some(name), Some(title), Some(description), Some(sources), Some(targets), Some(platform), Some(platform_ref), Some(trigger), Some(schedule), Some(time_zone), Some(data_format), Some(transport), Some(auth), Some(owner), Some(co_owners), Some(classification), Some(lifecycle), Some(runbook), Some(on_call), Some(tags), Some(grace_mins), Some(max_duration_mins), Some(freshness_hours), Some(success_target), Some(job_namespace), Some(job_name), Some(reason)) => {
                Ok(IntegrationDraft {
                    name, title, description, sources, targets, platform, platform_ref, trigger, schedule, time_zone, data_format, transport, auth, owner,
                    co_owners: co_owners.into_iter().filter(|t| t != &parse_owner(&self.owner).unwrap_or_default()).collect(),
                    classification, lifecycle, runbook, on_call, tags,
                    levels: ServiceLevels { grace_mins, max_duration_mins, freshness_hours, success_target },
                    job_namespace, job_name, reason,
                })
            }
            _ => Err(p.0),
        }
    }
}

impl IntegrationForm {
    /// Every field's name, in the form's order.
    pub const FIELDS: [&'static str; 27] = [
        "name", "title", "description", "sources", "targets", "platform", "platform_ref", "trigger", "schedule", "time_zone",
        "data_format", "transport", "auth", "owner", "co_owners", "classification", "lifecycle", "runbook", "on_call", "tags",
        "grace_mins", "max_duration_mins", "freshness_hours", "success_target", "job_namespace", "job_name", "reason",
    ];

    /// One field's value by its name (empty for no such field).
    pub fn get(&self, field: &str) -> &str {
        match field {
            "name" => &self.name,
            "title" => &self.title,
            "description" => &self.description,
            "sources" => &self.sources,
            "targets" => &self.targets,
            "platform" => &self.platform,
            "platform_ref" => &self.platform_ref,
            "trigger" => &self.trigger,
            "schedule" => &self.schedule,
            "time_zone" => &self.time_zone,
            "data_format" => &self.data_format,
            "transport" => &self.transport,
            "auth" => &self.auth,
            "owner" => &self.owner,
            "co_owners" => &self.co_owners,
            "classification" => &self.classification,
            "lifecycle" => &self.lifecycle,
            "runbook" => &self.runbook,
            "on_call" => &self.on_call,
            "tags" => &self.tags,
            "grace_mins" => &self.grace_mins,
            "max_duration_mins" => &self.max_duration_mins,
            "freshness_hours" => &self.freshness_hours,
            "success_target" => &self.success_target,
            "job_namespace" => &self.job_namespace,
            "job_name" => &self.job_name,
            "reason" => &self.reason,
            _ => "",
        }
    }

    /// Sets one field by its name; false when there is no such field.
    pub fn set(&mut self, field: &str, value: &str) -> bool {
        let slot = match field {
            "name" => &mut self.name,
            "title" => &mut self.title,
            "description" => &mut self.description,
            "sources" => &mut self.sources,
            "targets" => &mut self.targets,
            "platform" => &mut self.platform,
            "platform_ref" => &mut self.platform_ref,
            "trigger" => &mut self.trigger,
            "schedule" => &mut self.schedule,
            "time_zone" => &mut self.time_zone,
            "data_format" => &mut self.data_format,
            "transport" => &mut self.transport,
            "auth" => &mut self.auth,
            "owner" => &mut self.owner,
            "co_owners" => &mut self.co_owners,
            "classification" => &mut self.classification,
            "lifecycle" => &mut self.lifecycle,
            "runbook" => &mut self.runbook,
            "on_call" => &mut self.on_call,
            "tags" => &mut self.tags,
            "grace_mins" => &mut self.grace_mins,
            "max_duration_mins" => &mut self.max_duration_mins,
            "freshness_hours" => &mut self.freshness_hours,
            "success_target" => &mut self.success_target,
            "job_namespace" => &mut self.job_namespace,
            "job_name" => &mut self.job_name,
            "reason" => &mut self.reason,
            _ => return false,
        };
        value.clone_into(slot);
        true
    }
}

/// The form that would register an integration as it is (an edit form starts from it).
pub fn form_of(d: &IntegrationDetail) -> IntegrationForm {
    let s = &d.summary;
    let names = |ends: &[SystemRef]| ends.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ");
    IntegrationForm {
        name: s.name.clone(),
        title: s.title.clone(),
        description: d.description.clone(),
        sources: names(&s.sources),
        targets: names(&s.targets),
        platform: s.platform.as_str().into(),
        platform_ref: d.platform_ref.clone(),
        trigger: s.trigger.as_str().into(),
        schedule: s.schedule.clone().unwrap_or_default(),
        time_zone: d.time_zone.clone(),
        data_format: d.data_format.as_str().into(),
        transport: d.transport.as_str().into(),
        auth: d.auth.as_str().into(),
        owner: s.owner.clone(),
        co_owners: d.co_owners.join(", "),
        classification: s.classification.as_str().into(),
        lifecycle: s.lifecycle.as_str().into(),
        runbook: d.runbook.clone().unwrap_or_default(),
        on_call: d.on_call.clone(),
        tags: d.tags.join(", "),
        grace_mins: d.levels.grace_mins.to_string(),
        max_duration_mins: d.levels.max_duration_mins.to_string(),
        freshness_hours: d.levels.freshness_hours.map(|h| h.to_string()).unwrap_or_default(),
        success_target: format!("{}", d.levels.success_target * 100.0),
        job_namespace: d.job_namespace.clone(),
        job_name: d.job_name.clone(),
        reason: String::new(),
    }
}

/// A system as pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemView {
    #[cfg_attr(feature = "ssr", schema(value_type = Uuid))]
    pub id: SystemId,
    pub name: String,
    pub title: String,
    pub description: String,
    pub kind: SystemKind,
    pub vendor: String,
    pub environment: SystemEnvironment,
    /// Outside the company: flows to it need approval.
    pub external: bool,
    pub owner: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub classification: Classification,
    pub contacts: Vec<String>,
    /// The catalog component this system is, when it is an in-house service.
    pub component: Option<String>,
    /// The partner that hosts it.
    pub hosted_by: Option<String>,
    /// The partner it is reached through.
    pub reached_via: Option<String>,
    pub integrations_in: i64,
    pub integrations_out: i64,
}

/// A system named at one end of an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemRef {
    pub name: String,
    pub title: String,
    pub kind: SystemKind,
    pub external: bool,
}

/// Ended runs in one period (an hour or a day), tests apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunCounts {
    pub succeeded: i64,
    pub warned: i64,
    pub failed: i64,
    pub aborted: i64,
    pub late: i64,
    pub missed: i64,
}

impl RunCounts {
    pub fn ended(&self) -> i64 {
        self.succeeded + self.warned + self.failed + self.aborted
    }

    pub fn successes(&self) -> i64 {
        self.succeeded + self.warned
    }

    /// Successes over ended runs; `None` without runs.
    pub fn success_rate(&self) -> Option<f64> {
        let ended = self.ended();
        (ended > 0).then(|| self.successes() as f64 / ended as f64)
    }

    pub fn add(&mut self, o: &RunCounts) {
        self.succeeded += o.succeeded;
        self.warned += o.warned;
        self.failed += o.failed;
        self.aborted += o.aborted;
        self.late += o.late;
        self.missed += o.missed;
    }
}

/// One day of an integration's runs, for sparklines and charts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayPoint {
    pub day: chrono::NaiveDate,
    pub counts: RunCounts,
    /// The day's p95 run duration, seconds (on an integration's page; not in lists).
    pub p95_secs: Option<f64>,
}

/// Upper bounds (seconds) of the duration histogram's buckets; the last bucket is open.
pub const DURATION_BUCKETS: [f64; 16] = [1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0, 86400.0];

/// The bucket a duration falls in.
pub fn duration_bucket(secs: f64) -> usize {
    DURATION_BUCKETS.iter().position(|b| secs <= *b).unwrap_or(DURATION_BUCKETS.len())
}

/// The `q` quantile of a duration histogram, as its bucket's upper bound (the last bucket's
/// lower bound); `None` when empty.
pub fn histogram_quantile(counts: &[i64], q: f64) -> Option<f64> {
    let total: i64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return Some(DURATION_BUCKETS.get(i).copied().unwrap_or(DURATION_BUCKETS[DURATION_BUCKETS.len() - 1]));
        }
    }
    None
}

/// The error budget over 30 days: the failures the target allows among the expected runs, how
/// much of that is left, and how fast it burns (1.0 uses it up exactly in 30 days).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBudget {
    /// Expected runs: the schedule's slots in the window, or the runs themselves when unscheduled.
    pub expected: i64,
    /// Failed and aborted runs plus missed slots.
    pub failures: i64,
    pub allowed: f64,
    /// Share of the budget left (negative when overspent).
    pub left: f64,
    pub burn_rate: f64,
}

/// The error budget: `target × expected` runs must succeed; failures count failed and aborted
/// runs and missed slots.
pub fn error_budget(target: f64, expected: i64, failures: i64) -> ErrorBudget {
    let allowed = (1.0 - target) * expected as f64;
    let (left, burn_rate) = if expected == 0 {
        (1.0, 0.0)
    } else if allowed <= 0.0 {
        (if failures == 0 { 1.0 } else { -(failures as f64) }, if failures == 0 { 0.0 } else { f64::INFINITY })
    } else {
        (1.0 - failures as f64 / allowed, failures as f64 / allowed)
    };
    ErrorBudget { expected, failures, allowed, left, burn_rate }
}

/// The last run of an integration, as the health card shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LastRun {
    pub run_id: Uuid,
    pub state: RunState,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<f64>,
    pub error: Option<String>,
}

/// What the health rule reads.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthInputs {
    pub lifecycle: IntegrationLifecycle,
    pub levels: ServiceLevels,
    pub last: Option<LastRun>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub day: RunCounts,
    /// The newest checked schedule slot that was late or missed and had no success after it.
    pub open_late_slot: Option<(DateTime<Utc>, SlotState)>,
    pub budget: ErrorBudget,
}

/// One health state and why, by the first rule that holds: paused (deprecated), failing (the
/// last run failed or was aborted), late (a slot without a run, or no success within the
/// freshness target), degraded (the day's success rate under target, the budget burning faster
/// than it lasts, or the last run succeeded with warnings), unknown (no runs yet), healthy.
pub fn health(i: &HealthInputs, now: DateTime<Utc>) -> (Health, String) {
    if i.lifecycle == IntegrationLifecycle::Deprecated {
        return (Health::Paused, "deprecated: runs are kept, not judged".into());
    }
    if let Some(last) = &i.last {
        if matches!(last.state, RunState::Failed | RunState::Aborted) {
            let why = last.error.clone().unwrap_or_else(|| "no error message".into());
            return (Health::Failing, format!("the last run {}: {why}", last.state.label().to_lowercase()));
        }
    }
    if let Some((nominal, state)) = i.open_late_slot {
        let what = if state == SlotState::Missed { "missed" } else { "late" };
        return (Health::Late, format!("the run due at {} is {what}", nominal.format("%Y-%m-%d %H:%M UTC")));
    }
    if let (Some(hours), Some(success)) = (i.levels.freshness_hours, i.last_success_at) {
        if now - success > Duration::hours(i64::from(hours)) {
            return (Health::Late, format!("no success for {}; the target is one at least every {hours} h", age_text(now - success)));
        }
    }
    if let Some(rate) = i.day.success_rate() {
        if rate < i.levels.success_target {
            return (Health::Degraded, format!("{:.1} % of the last day's runs succeeded; the target is {:.1} %", rate * 100.0, i.levels.success_target * 100.0));
        }
    }
    if i.budget.burn_rate > 1.0 {
        return (Health::Degraded, format!("the error budget burns {:.1}× faster than it lasts", i.budget.burn_rate));
    }
    match &i.last {
        Some(last) if last.state == RunState::SucceededWithWarnings => (Health::Degraded, "the last run succeeded with warnings".into()),
        None if i.last_success_at.is_none() => (Health::Unknown, "no runs yet".into()),
        _ => (Health::Healthy, String::new()),
    }
}

/// "3 h 20 min", "2 d 4 h": an age for people.
pub fn age_text(d: Duration) -> String {
    let mins = d.num_minutes().max(0);
    match mins {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} d {} h", m / 1440, (m % 1440) / 60),
    }
}

/// How a checked slot stands at `now`: `None` while it is too early to tell.
///
/// A slot is on time when a run started by nominal + grace, late when none had, and missed
/// when no run ended by nominal + maximum duration. `started` and `ended` are the first start
/// and first end of a run for this slot, if any.
pub fn judge_slot(
    nominal: DateTime<Utc>,
    levels: &ServiceLevels,
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<(SlotState, bool)> {
    let due = nominal + Duration::minutes(i64::from(levels.grace_mins));
    let deadline = nominal + Duration::minutes(i64::from(levels.max_duration_mins));
    if started.is_some_and(|s| s <= due) {
        return Some((SlotState::OnTime, true));
    }
    if now < due {
        return None;
    }
    if ended.is_some_and(|e| e <= deadline) {
        return Some((SlotState::Late, true));
    }
    if now < deadline {
        return Some((SlotState::Late, false));
    }
    Some((SlotState::Missed, true))
}

/// An integration in lists: who owns it, its ends, its health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrationSummary {
    #[cfg_attr(feature = "ssr", schema(value_type = Uuid))]
    pub id: IntegrationId,
    pub name: String,
    pub title: String,
    pub platform: Platform,
    pub trigger: Trigger,
    pub schedule: Option<String>,
    pub owner: String,
    #[cfg_attr(feature = "ssr", schema(value_type = String))]
    pub classification: Classification,
    pub lifecycle: IntegrationLifecycle,
    /// `active`, or `pending` while its registration waits for approval.
    pub status: String,
    pub sources: Vec<SystemRef>,
    pub targets: Vec<SystemRef>,
    pub health: Health,
    pub health_reason: String,
    pub last_run: Option<LastRun>,
    /// The last 30 days, oldest first (days without runs included): their counts (no `p95_secs`
    /// here; an integration's `history` has each day's).
    pub days: Vec<DayPoint>,
}

/// An integration's page and `GET /api/v1/integrations/{name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrationDetail {
    pub summary: IntegrationSummary,
    pub description: String,
    pub platform_ref: String,
    pub time_zone: String,
    pub data_format: DataFormat,
    pub transport: Transport,
    pub auth: AuthMethod,
    pub co_owners: Vec<String>,
    pub runbook: Option<String>,
    pub on_call: String,
    pub tags: Vec<String>,
    pub levels: ServiceLevels,
    pub job_namespace: String,
    pub job_name: String,
    pub version: i32,
    pub last_success_at: Option<DateTime<Utc>>,
    /// Success rates (0–1) over 24 h, 7 d and 30 d; `None` without ended runs.
    pub success_24h: Option<f64>,
    pub success_7d: Option<f64>,
    pub success_30d: Option<f64>,
    /// p95 run duration (seconds) over the last day and over 30 days (the baseline).
    pub p95_24h_secs: Option<f64>,
    pub p95_30d_secs: Option<f64>,
    pub budget: ErrorBudget,
    pub records_failed_30d: i64,
    /// The most frequent error classes over 30 days, with their run counts.
    pub top_errors: Vec<ErrorCount>,
    /// The schedule's next slots (empty when not scheduled).
    pub next_slots: Vec<DateTime<Utc>>,
    /// Checked slots that were late or missed, newest first.
    pub late_slots: Vec<SlotView>,
    /// 13 months of days, oldest first, for the long chart.
    pub history: Vec<DayPoint>,
    /// An approval waiting on this integration, if any.
    pub pending_approval: Option<Uuid>,
    /// When the server read it (ages on the page count from here).
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlotView {
    pub nominal: DateTime<Utc>,
    pub state: SlotState,
    pub settled: bool,
}

/// A run in tables and `GET /api/v1/integration-runs/{run_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunView {
    pub run_id: Uuid,
    pub job_namespace: String,
    pub job_name: String,
    /// The integration the job belongs to, when registered.
    pub integration: Option<String>,
    pub state: RunState,
    pub raw_status: Option<String>,
    pub trigger: RunTrigger,
    pub nominal_start: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<f64>,
    pub records_in: Option<i64>,
    pub records_out: Option<i64>,
    pub records_failed: Option<i64>,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub retry_of: Option<Uuid>,
    pub parent_run_id: Option<Uuid>,
    pub runtime_node: Option<String>,
    pub event_count: i32,
}

/// One received event, as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventView {
    pub event_type: String,
    pub event_time: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    /// The event's JSON, as received.
    pub body: String,
}

/// A run with its events (oldest first) and facets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunDetail {
    pub run: RunView,
    /// The merged run facets, as JSON text.
    pub facets: String,
    pub events: Vec<EventView>,
    /// The runs this one retried, newest first, and the runs that retried it.
    pub retries: Vec<RunView>,
}

/// A job that sent events but matches no integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnregisteredJob {
    pub namespace: String,
    pub name: String,
    pub first_seen: DateTime<Utc>,
    pub runs: i64,
    pub last_state: Option<RunState>,
    pub last_event_at: Option<DateTime<Utc>>,
}

/// A parsed integrations query: what the list page's URL holds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IntegrationQuery {
    pub text: String,
    pub platform: Option<Platform>,
    pub system: Option<String>,
    pub owner: Option<String>,
    pub health: Option<Health>,
    pub classification: Option<Classification>,
    pub trigger: Option<Trigger>,
    pub lifecycle: Option<IntegrationLifecycle>,
    /// A catalog component's name: integrations to or from a system that is it.
    pub component: Option<String>,
    /// A partner's name: integrations to or from a system it hosts or is reached through.
    pub partner: Option<String>,
    /// Opaque keyset cursor from the previous page (the last name).
    pub after: Option<String>,
    pub limit: u16,
}

impl IntegrationQuery {
    pub const DEFAULT_LIMIT: u16 = 50;
    pub const MAX_LIMIT: u16 = 200;

    /// Parses the query string's parameters (empty ones mean "any").
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, FieldProblem> {
        let field = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        fn one<T>(name: &str, v: Option<String>, parse: impl Fn(&str) -> Result<T, String>) -> Result<Option<T>, FieldProblem> {
            v.map(|v| parse(&v)).transpose().map_err(|m| FieldProblem::new(name, m))
        }
        let text = field("q").unwrap_or_default();
        if text.chars().count() > 200 {
            return Err(FieldProblem::new("q", "the search is longer than 200 characters"));
        }
        let limit = match field("limit") {
            None => Self::DEFAULT_LIMIT,
            Some(l) => l
                .parse::<u16>()
                .ok()
                .filter(|n| (1..=Self::MAX_LIMIT).contains(n))
                .ok_or_else(|| FieldProblem::new("limit", format!("limit must be 1 to {}, not \"{l}\"", Self::MAX_LIMIT)))?,
        };
        Ok(IntegrationQuery {
            text,
            platform: one("platform", field("platform"), Platform::parse)?,
            system: one("system", field("system"), |s| parse_name("system", s))?,
            owner: one("owner", field("owner"), parse_owner)?,
            health: one("health", field("health"), Health::parse)?,
            classification: one("classification", field("classification"), Classification::parse)?,
            trigger: one("trigger", field("trigger"), Trigger::parse)?,
            lifecycle: one("lifecycle", field("lifecycle"), IntegrationLifecycle::parse)?,
            component: one("component", field("component"), crate::catalog::types::parse_entity_name)?,
            partner: one("partner", field("partner"), |p| parse_partner(p).map(Option::unwrap_or_default))?,
            after: one("after", field("after"), |a| parse_name("cursor", a))?,
            limit,
        })
    }

    /// The query string for this query, for links (`after` only when `with_cursor`).
    pub fn to_query_string(&self, with_cursor: bool) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.text.is_empty() {
            pairs.push(("q", self.text.clone()));
        }
        if let Some(v) = self.platform {
            pairs.push(("platform", v.as_str().into()));
        }
        if let Some(v) = &self.system {
            pairs.push(("system", v.clone()));
        }
        if let Some(v) = &self.owner {
            pairs.push(("owner", v.clone()));
        }
        if let Some(v) = self.health {
            pairs.push(("health", v.as_str().into()));
        }
        if let Some(v) = self.classification {
            pairs.push(("classification", v.as_str().into()));
        }
        if let Some(v) = self.trigger {
            pairs.push(("trigger", v.as_str().into()));
        }
        if let Some(v) = self.lifecycle {
            pairs.push(("lifecycle", v.as_str().into()));
        }
        if let Some(v) = &self.component {
            pairs.push(("component", v.clone()));
        }
        if let Some(v) = &self.partner {
            pairs.push(("partner", v.clone()));
        }
        if self.limit != Self::DEFAULT_LIMIT && self.limit != 0 {
            pairs.push(("limit", self.limit.to_string()));
        }
        if with_cursor {
            if let Some(a) = &self.after {
                pairs.push(("after", a.clone()));
            }
        }
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }
}

/// One page of integrations, the counts per health state (under every filter but health's),
/// and the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IntegrationPage {
    pub items: Vec<IntegrationSummary>,
    pub health_counts: Vec<HealthCount>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HealthCount {
    pub health: Health,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorCount {
    pub error_class: String,
    pub runs: i64,
}

/// One integration between two systems, on the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Flow {
    pub integration: String,
    pub source: String,
    pub target: String,
    pub pci: bool,
}

/// Filters of an integration's runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunQuery {
    pub state: Option<RunState>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Opaque keyset cursor: the last run's time and id.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u16,
}

impl RunQuery {
    pub const DEFAULT_LIMIT: u16 = 50;

    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, FieldProblem> {
        let field = |name: &str| get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let time = |name: &str| -> Result<Option<DateTime<Utc>>, FieldProblem> {
            field(name)
                .map(|v| {
                    DateTime::parse_from_rfc3339(&v)
                        .map(|t| t.with_timezone(&Utc))
                        .or_else(|_| chrono::NaiveDate::parse_from_str(&v, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
                        .map_err(|_| FieldProblem::new(name, format!("\"{v}\" is not a date (YYYY-MM-DD) or an RFC 3339 time")))
                })
                .transpose()
        };
        let after = field("after")
            .map(|a| {
                a.split_once('_')
                    .and_then(|(t, id)| Some((DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc), Uuid::parse_str(id).ok()?)))
                    .ok_or_else(|| FieldProblem::new("after", "not a cursor this list gave"))
            })
            .transpose()?;
        let limit = match field("limit") {
            None => Self::DEFAULT_LIMIT,
            Some(l) => l.parse::<u16>().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| FieldProblem::new("limit", format!("limit must be 1 to 200, not \"{l}\"")))?,
        };
        Ok(RunQuery {
            state: field("state").map(|s| RunState::parse(&s)).transpose().map_err(|m| FieldProblem::new("state", m))?,
            since: time("since")?,
            until: time("until")?,
            after,
            limit,
        })
    }

    pub fn cursor(at: DateTime<Utc>, run_id: Uuid) -> String {
        format!("{}_{run_id}", at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    }
}

/// One page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunPage {
    pub items: Vec<RunView>,
    pub next: Option<String>,
}

/// A system's page: the system, the integrations in and out of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemDetail {
    pub system: SystemView,
    pub incoming: Vec<IntegrationSummary>,
    pub outgoing: Vec<IntegrationSummary>,
}

/// The map of all integrations: systems as nodes, integrations as edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SystemMap {
    pub systems: Vec<SystemRef>,
    pub flows: Vec<Flow>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[cfg(feature = "ssr")]
    #[test]
    fn a_vocabularys_openapi_schema_lists_the_words_the_api_sends() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(SystemKind::schema()).unwrap_or_default();
        let words: Vec<&str> = SystemKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(schema["enum"], serde_json::json!(words));
        assert_eq!(schema["type"], "string");
        for k in SystemKind::ALL {
            assert!(words.contains(&serde_json::to_value(k).unwrap_or_default().as_str().unwrap_or_default()), "{k:?}");
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).single().expect("a valid time")
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_five_field_schedule_yields_its_slots_in_its_time_zone() {
        let s = CronSchedule::parse("0 6 * * *").expect("parses");
        let london = chrono_tz::Europe::London;
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(s.slots(&london, at(0, 0), at(23, 59), 5), vec![at(6, 0)]);
        // 06:00 in Berlin is 05:00 UTC in December
        assert_eq!(s.slots(&berlin, at(0, 0), at(23, 59), 5), vec![at(5, 0)]);
        assert!(CronSchedule::parse("0 6 * *").expect_err("four fields").contains("has 4 fields"));
        assert!(CronSchedule::parse("0 25 * * *").is_err());
    }

    #[test]
    fn a_slot_is_on_time_late_then_missed() {
        let levels = ServiceLevels { grace_mins: 10, max_duration_mins: 60, ..ServiceLevels::default() };
        let slot = at(6, 0);
        assert_eq!(judge_slot(slot, &levels, None, None, at(6, 5)), None, "too early to tell");
        assert_eq!(judge_slot(slot, &levels, Some(at(6, 2)), None, at(6, 5)), Some((SlotState::OnTime, true)));
        assert_eq!(judge_slot(slot, &levels, None, None, at(6, 11)), Some((SlotState::Late, false)));
        assert_eq!(judge_slot(slot, &levels, Some(at(6, 30)), Some(at(6, 45)), at(7, 1)), Some((SlotState::Late, true)));
        assert_eq!(judge_slot(slot, &levels, None, None, at(7, 0)), Some((SlotState::Missed, true)));
        assert_eq!(judge_slot(slot, &levels, Some(at(6, 30)), None, at(7, 0)), Some((SlotState::Missed, true)), "started late, not ended in time");
    }

    #[test]
    fn the_error_budget_counts_failures_against_the_target() {
        // hourly for 30 days at 99 %: 720 slots, 7.2 failures allowed
        let b = error_budget(0.99, 720, 3);
        assert!((b.allowed - 7.2).abs() < 1e-9);
        assert!((b.left - (1.0 - 3.0 / 7.2)).abs() < 1e-9);
        assert!(b.burn_rate < 1.0);
        let spent = error_budget(0.99, 720, 9);
        assert!(spent.left < 0.0 && spent.burn_rate > 1.0);
        assert_eq!(error_budget(0.99, 0, 0).left, 1.0);
    }

    #[test]
    fn health_takes_the_first_rule_that_holds() {
        let base = HealthInputs {
            lifecycle: IntegrationLifecycle::Stable,
            levels: ServiceLevels::default(),
            last: None,
            last_success_at: None,
            day: RunCounts::default(),
            open_late_slot: None,
            budget: error_budget(0.99, 0, 0),
        };
        assert_eq!(health(&base, at(12, 0)).0, Health::Unknown);
        let ok = LastRun { run_id: Uuid::nil(), state: RunState::Succeeded, started_at: Some(at(6, 0)), ended_at: Some(at(6, 5)), duration_secs: Some(300.0), error: None };
        let healthy = HealthInputs { last: Some(ok.clone()), last_success_at: Some(at(6, 5)), day: RunCounts { succeeded: 5, ..RunCounts::default() }, ..base.clone() };
        assert_eq!(health(&healthy, at(12, 0)).0, Health::Healthy);
        let late = HealthInputs { open_late_slot: Some((at(11, 0), SlotState::Late)), ..healthy.clone() };
        assert_eq!(health(&late, at(12, 0)), (Health::Late, "the run due at 2026-12-01 11:00 UTC is late".into()));
        let failed = LastRun { state: RunState::Failed, error: Some("HTTP 401 from NetSuite".into()), ..ok };
        let failing = HealthInputs { last: Some(failed), ..late.clone() };
        assert_eq!(health(&failing, at(12, 0)).0, Health::Failing);
        assert!(health(&failing, at(12, 0)).1.contains("HTTP 401 from NetSuite"));
        let stale = HealthInputs { levels: ServiceLevels { freshness_hours: Some(4), ..ServiceLevels::default() }, ..healthy.clone() };
        assert_eq!(health(&stale, at(12, 0)).0, Health::Late);
        let degraded = HealthInputs { day: RunCounts { succeeded: 8, failed: 2, ..RunCounts::default() }, ..healthy.clone() };
        assert_eq!(health(&degraded, at(12, 0)).0, Health::Degraded);
        let paused = HealthInputs { lifecycle: IntegrationLifecycle::Deprecated, ..failing };
        assert_eq!(health(&paused, at(12, 0)).0, Health::Paused);
    }

    #[test]
    fn the_p95_reads_the_histogram() {
        let mut counts = vec![0i64; DURATION_BUCKETS.len() + 1];
        counts[duration_bucket(40.0)] = 95;
        counts[duration_bucket(1000.0)] = 5;
        assert_eq!(histogram_quantile(&counts, 0.95), Some(60.0));
        assert_eq!(histogram_quantile(&counts, 0.99), Some(1800.0));
        assert_eq!(histogram_quantile(&[0, 0], 0.95), None);
    }

    #[test]
    fn a_form_names_each_wrong_field_and_keeps_the_rest() {
        let form = IntegrationForm {
            name: "Opportunities To Orders".into(),
            title: "Opportunities to sales orders".into(),
            sources: "salesforce".into(),
            targets: "netsuite".into(),
            platform: "mulesoft".into(),
            trigger: "schedule".into(),
            schedule: "every day".into(),
            data_format: "json".into(),
            transport: "https".into(),
            auth: "oauth2-client-credentials".into(),
            owner: "integrations".into(),
            ..IntegrationForm::default()
        };
        let problems = form.parse().expect_err("two wrong fields");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["name", "schedule"]);
        let fixed = IntegrationForm { name: "sfdc-opportunities-to-netsuite".into(), schedule: "*/15 * * * *".into(), ..form };
        let draft = fixed.parse().expect("parses");
        assert_eq!(draft.job_name, "sfdc-opportunities-to-netsuite");
        assert_eq!(draft.job_namespace, DEFAULT_JOB_NAMESPACE);
        assert_eq!(draft.classification, Classification::Internal);
    }
}
