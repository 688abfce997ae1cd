use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

impl AuditEntry {
    /// What this change did, field by field, as people read it: each field whose value differs
    /// between `before` and `after` (a creation lists what it set, a removal what it had). A
    /// state that is not an object is one change with an empty field name.
    pub fn changes(&self) -> Vec<FieldChange> {
        if self.before == self.after {
            // the same text is the same state (a sign-in records the profile it found)
            return Vec::new();
        }
        let parse = |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok()).filter(|v| !v.is_null());
        let mut changes = diff(parse(&self.before).as_ref(), parse(&self.after).as_ref());
        // a subject's own id says nothing the row does not
        changes.retain(|c| !(c.field == "id" && (c.after == self.subject_id || c.before == self.subject_id)));
        changes
    }
}

/// One field of a change: its value before and after, as text (empty when unset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

impl FieldChange {
    /// The field's name as people read it (`owner_team` → "owner team").
    pub fn label(&self) -> String {
        self.field.replace('_', " ")
    }

    /// The change as one line of text: "field: after", "field: before (removed)" or
    /// "field: before → after".
    pub fn text(&self) -> String {
        let value = match (self.before.is_empty(), self.after.is_empty()) {
            (true, _) => self.after.clone(),
            (false, true) => format!("{} (removed)", self.before),
            (false, false) => format!("{} → {}", self.before, self.after),
        };
        if self.field.is_empty() { value } else { format!("{}: {value}", self.label()) }
    }
}

/// The fields that differ between two states, by name (then those only the earlier had).
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    match (before, after) {
        (None | Some(Value::Object(_)), None | Some(Value::Object(_))) => {
            let was = before.and_then(Value::as_object).unwrap_or(&empty);
            let is = after.and_then(Value::as_object).unwrap_or(&empty);
            is.keys()
                .chain(was.keys().filter(|k| !is.contains_key(*k)))
                .filter_map(|k| {
                    let (b, a) = (was.get(k).map(shown).unwrap_or_default(), is.get(k).map(shown).unwrap_or_default());
                    (b != a).then(|| FieldChange { field: k.clone(), before: b, after: a })
                })
                .collect()
        }
        (b, a) => {
            let (b, a) = (b.map(shown).unwrap_or_default(), a.map(shown).unwrap_or_default());
            if b == a { Vec::new() } else { vec![FieldChange { field: String::new(), before: b, after: a }] }
        }
    }
}

/// A field's value as people read it: lists joined by commas, pairs as `key=value`, nothing
/// for unset.
pub fn shown(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(|i| match i {
            Value::Array(pair) => pair.iter().map(shown).collect::<Vec<_>>().join(" "),
            other => shown(other),
        }).collect::<Vec<_>>().join(", "),
        // an entity's reference, as the catalog writes it
        Value::Object(m) if m.len() == 3 && ["kind", "namespace", "name"].iter().all(|k| m.get(*k).is_some_and(Value::is_string)) => {
            format!("{}:{}/{}", shown(&m["kind"]), shown(&m["namespace"]), shown(&m["name"]))
        }
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}={}", shown(v))).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// How long ago `at` was, seen from `now`, in the largest whole unit: "just now", "5 minutes
/// ago", "yesterday", "3 days ago", … A moment after `now` (clocks differ) is "just now".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match secs {
        ..=44 => "just now".to_owned(),
        45..=5_399 => plural(((secs + 30) / 60).max(1), "minute"),
        5_400..=86_399 => plural((secs + 1_800) / 3_600, "hour"),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=2_591_999 => plural(secs / 86_400, "day"),
        2_592_000..=31_535_999 => plural(secs / 2_592_000, "month"),
        _ => plural(secs / 31_536_000, "year"),
    }
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
    /// What the page's subjects are called, and their pages.
    pub labels: Vec<SubjectLabel>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_change_reads_as_one_line() {
        let c = |field: &str, before: &str, after: &str| FieldChange { field: field.into(), before: before.into(), after: after.into() };
        assert_eq!(c("owner_team", "", "payments").text(), "owner team: payments");
        assert_eq!(c("tier", "1", "").text(), "tier: 1 (removed)");
        assert_eq!(c("lifecycle", "experimental", "production").text(), "lifecycle: experimental → production");
        assert_eq!(c("", "a", "b").text(), "a → b", "a change of a whole value names no field");
    }

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

    #[test]
    fn a_change_reads_field_by_field() {
        let before = serde_json::json!({"title": "Refunds", "tier": 1, "tags": ["a", "b"], "gone": "x"});
        let after = serde_json::json!({"title": "Refunds API", "tier": 1, "tags": ["a"], "owner": "payments"});
        let changes = diff(Some(&before), Some(&after));
        let fields: Vec<(&str, &str, &str)> = changes.iter().map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str())).collect();
        assert_eq!(fields, vec![("owner", "", "payments"), ("tags", "a, b", "a"), ("title", "Refunds", "Refunds API"), ("gone", "x", "")]);
    }

    #[test]
    fn a_creation_lists_what_it_set_and_a_scalar_is_one_change() {
        let entry = AuditEntry {
            id: 1, at: Utc::now(), actor_id: None, actor_name: "alice".into(), action: "x".into(),
            subject_kind: "team".into(), subject_id: "t".into(), before: None,
            after: Some(r#"{"name": "Payments", "lead": null}"#.into()), request_id: String::new(), source_ip: String::new(),
        };
        assert_eq!(entry.changes(), vec![FieldChange { field: "name".into(), before: String::new(), after: "Payments".into() }]);
        let scalar = diff(Some(&serde_json::json!("pending")), Some(&serde_json::json!("approved")));
        assert_eq!(scalar, vec![FieldChange { field: String::new(), before: "pending".into(), after: "approved".into() }]);
        assert!(diff(None, None).is_empty());
    }

    #[test]
    fn ago_says_the_largest_whole_unit() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z").unwrap().with_timezone(&Utc);
        let at = |secs: i64| now - chrono::Duration::seconds(secs);
        assert_eq!(ago(at(-30), now), "just now");
        assert_eq!(ago(at(10), now), "just now");
        assert_eq!(ago(at(60), now), "1 minute ago");
        assert_eq!(ago(at(45 * 60), now), "45 minutes ago");
        assert_eq!(ago(at(3 * 3600), now), "3 hours ago");
        assert_eq!(ago(at(30 * 3600), now), "yesterday");
        assert_eq!(ago(at(5 * 86_400), now), "5 days ago");
        assert_eq!(ago(at(400 * 86_400), now), "1 year ago");
    }
}
