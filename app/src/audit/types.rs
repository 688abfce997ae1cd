use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What an audit row is about. Each domain names its own subjects with one of these; the
/// audit log keeps them as text (`as_str`), so a stored row reads the same forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Approval,
    Team,
    User,
    Session,
    ApiToken,
    Entity,
    CatalogImport,
    Deploy,
    FreezeWindow,
    Integration,
    IntegrationSystem,
    /// A network drawing imported, or a sync from NetBox: the topology's changes in one.
    TopologyImport,
    /// Things of the network that fail together, declared to be checked as one.
    RiskGroup,
    /// Planned work, or a carrier's notice, on a device, a circuit or a site.
    MaintenanceWindow,
    /// A device of the network, by name.
    Device,
    /// A link of the network, by id.
    Link,
    /// A BGP session, by name.
    BgpSession,
    /// A partner (a bank, a card network, a cloud), by name.
    Partner,
    /// A deploy environment (its policies), by name.
    Environment,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 19] = [
        SubjectKind::Approval,
        SubjectKind::Team,
        SubjectKind::User,
        SubjectKind::Session,
        SubjectKind::ApiToken,
        SubjectKind::Entity,
        SubjectKind::CatalogImport,
        SubjectKind::Deploy,
        SubjectKind::FreezeWindow,
        SubjectKind::Integration,
        SubjectKind::IntegrationSystem,
        SubjectKind::TopologyImport,
        SubjectKind::RiskGroup,
        SubjectKind::MaintenanceWindow,
        SubjectKind::Device,
        SubjectKind::Link,
        SubjectKind::BgpSession,
        SubjectKind::Partner,
        SubjectKind::Environment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Approval => "approval",
            SubjectKind::Team => "team",
            SubjectKind::User => "user",
            SubjectKind::Session => "session",
            SubjectKind::ApiToken => "api_token",
            SubjectKind::Entity => "entity",
            SubjectKind::CatalogImport => "catalog_import",
            SubjectKind::Deploy => "deploy",
            SubjectKind::FreezeWindow => "freeze_window",
            SubjectKind::Integration => "integration",
            SubjectKind::IntegrationSystem => "integration_system",
            SubjectKind::TopologyImport => "topology_import",
            SubjectKind::RiskGroup => "risk_group",
            SubjectKind::MaintenanceWindow => "maintenance_window",
            SubjectKind::Device => "device",
            SubjectKind::Link => "link",
            SubjectKind::BgpSession => "bgp_session",
            SubjectKind::Partner => "partner",
            SubjectKind::Environment => "environment",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether every employee may read this subject's history; the rest (users, sessions,
    /// tokens) only admins.
    pub fn public_history(self) -> bool {
        !matches!(self, SubjectKind::User | SubjectKind::Session | SubjectKind::ApiToken)
    }
}

impl std::fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit row as people read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: String,
    /// JSON text of the state before and after, when there is one.
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: String,
    pub source_ip: String,
}

/// A subject as the audit log says it was at a moment, beside how it is now: for post-incident
/// reviews and audits ("who owned this, and where did it run, on the night it failed?").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AsOf {
    /// The moment asked about.
    pub at: DateTime<Utc>,
    /// Whether it existed then (registered, and not yet removed).
    pub existed: bool,
    /// The last change at or before that moment.
    pub last_change: Option<ChangeMark>,
    /// How many changes it has had since.
    pub changes_since: i64,
    /// Its fields then and now, by name, each saying whether it differs.
    pub fields: Vec<FieldThen>,
}

/// What people call a subject of the audit log, and its page: a history that spans several
/// subjects names each by this rather than by its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SubjectLabel {
    pub kind: String,
    pub id: String,
    pub label: String,
    /// Its page; empty when it has none.
    pub href: String,
}

/// The history of several subjects, and what each is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledHistory {
    pub entries: Vec<AuditEntry>,
    pub labels: Vec<SubjectLabel>,
}

/// The moment a subject is asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct AsOfQuery {
    /// A past moment: RFC 3339, or `YYYY-MM-DDTHH:MM` in UTC.
    #[cfg_attr(feature = "ssr", param(max_length = 40))]
    pub at: String,
}

/// One change, as the audit log holds it: when, by whom, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeMark {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
}

/// One field of a subject then and now, as text (lists joined by commas; empty when unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldThen {
    pub name: String,
    pub then: String,
    pub now: String,
    pub changed: bool,
}

/// The result of walking every stripe of the chain from its first row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainCheck {
    Intact { rows: i64 },
    /// The first row whose stored hash or link does not match what its content gives.
    Broken { row_id: i64, reason: String },
}

/// Audit search as typed in the filter form; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub until: Option<String>,
    /// Show rows older than this id (the next page).
    pub before_id: Option<i64>,
}

impl AuditQuery {
    /// Blank fields count as absent.
    pub fn field(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// Parses a `YYYY-MM-DD` bound; `end` makes it the end of that day.
    pub fn parse_day(field: &str, v: &Option<String>, end: bool) -> Result<Option<DateTime<Utc>>, (String, String)> {
        let Some(text) = Self::field(v) else { return Ok(None) };
        let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| (field.to_owned(), format!("\"{text}\" is not a date: use YYYY-MM-DD")))?;
        let day = if end { day.succ_opt().unwrap_or(day) } else { day };
        Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
    }

    /// The query string for links (next page, CSV export).
    pub fn to_query_string(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("subject_kind", &self.subject_kind),
            ("subject_id", &self.subject_id),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if let Some(v) = Self::field(v) {
                pairs.push((k.to_owned(), v.to_owned()));
            }
        }
        if let Some(id) = self.before_id {
            pairs.push(("before_id".into(), id.to_string()));
        }
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One page of audit rows, newest first, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before_id: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_and_bad_ones_name_the_field() {
        let q = AuditQuery { from: Some("2026-11-01".into()), until: Some("nope".into()), ..Default::default() };
        assert!(AuditQuery::parse_day("from", &q.from, false).is_ok_and(|d| d.is_some()));
        let err = AuditQuery::parse_day("until", &q.until, true).expect_err("\"nope\" is not a day");
        assert_eq!(err.0, "until");
        assert!(err.1.contains("YYYY-MM-DD"));
    }

    #[test]
    fn the_query_string_keeps_filters_and_escapes() {
        let q = AuditQuery { actor: Some("bob".into()), action: Some("a b&c".into()), before_id: Some(7), ..Default::default() };
        assert_eq!(q.to_query_string(), "actor=bob&action=a%20b%26c&before_id=7");
    }
}
