//! Deploy data shared by server and browser: ids, states, parsed inputs and the views pages show.
use crate::approvals::types::ApprovalId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

uuid_id!(#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))] DeployId);
uuid_id!(#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))] FreezeId);

/// `requested → awaiting_approval → queued → running → succeeded | failed | cancelled |
/// rejected | expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type), sqlx(type_name = "text", rename_all = "snake_case"))]
pub enum DeployState {
    Requested,
    AwaitingApproval,
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Rejected,
    Expired,
}

impl DeployState {
    pub const ALL: [DeployState; 9] = [
        DeployState::Requested,
        DeployState::AwaitingApproval,
        DeployState::Queued,
        DeployState::Running,
        DeployState::Succeeded,
        DeployState::Failed,
        DeployState::Cancelled,
        DeployState::Rejected,
        DeployState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeployState::Requested => "requested",
            DeployState::AwaitingApproval => "awaiting_approval",
            DeployState::Queued => "queued",
            DeployState::Running => "running",
            DeployState::Succeeded => "succeeded",
            DeployState::Failed => "failed",
            DeployState::Cancelled => "cancelled",
            DeployState::Rejected => "rejected",
            DeployState::Expired => "expired",
        }
    }

    /// What people read: "awaiting approval".
    pub fn label(self) -> &'static str {
        match self {
            DeployState::AwaitingApproval => "awaiting approval",
            other => other.as_str(),
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| {
            format!(
                "unknown state \"{s}\": use {}",
                Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// Nothing happens to a deploy after one of these.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DeployState::Succeeded | DeployState::Failed | DeployState::Cancelled | DeployState::Rejected | DeployState::Expired
        )
    }

    /// A deploy may still be cancelled in these.
    pub fn is_cancellable(self) -> bool {
        matches!(self, DeployState::Requested | DeployState::AwaitingApproval | DeployState::Queued | DeployState::Running)
    }
}

/// A version to deploy: a git ref or an image tag. 1–200 characters, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version(String);

impl Version {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let v = raw.trim();
        if v.is_empty() {
            return Err("a version is required: a git ref (main, a commit) or an image tag (v1.4.2)".into());
        }
        if v.chars().count() > 200 {
            return Err("the version is longer than 200 characters".into());
        }
        if !v.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(format!("\"{v}\" must begin with a letter or a digit (a leading - would read as an option to a deploy script)"));
        }
        if let Some(bad) = v.chars().find(|c| !(c.is_ascii_alphanumeric() || "._-/:@+".contains(*c))) {
            return Err(format!(
                "\"{v}\" has the character {bad:?}: a version may hold letters, digits and . _ - / : @ + only"
            ));
        }
        Ok(Version(v.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's key that makes a retried request return the first deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let k = raw.trim();
        if k.is_empty() {
            return Err("an idempotency key is required (header Idempotency-Key)".into());
        }
        if k.len() > 200 || !k.chars().all(|c| c.is_ascii_graphic()) {
            return Err("the idempotency key must be 1–200 visible ASCII characters".into());
        }
        Ok(IdempotencyKey(k.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A kick-off as the form and the API send it, before parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployForm {
    pub service: String,
    pub environment: String,
    pub version: String,
    pub reason: String,
    pub idempotency_key: String,
    /// An admin's reason to deploy inside a freeze window; empty otherwise.
    #[serde(default)]
    pub freeze_override: String,
}

/// A field that does not parse, and why (the catalog's shape, so forms show both alike).
pub use crate::catalog::types::FieldProblem as Problem;

/// A kick-off whose every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeploy {
    pub service: String,
    pub environment: String,
    pub version: Version,
    pub reason: String,
    pub key: IdempotencyKey,
    pub freeze_override: Option<String>,
}

impl DeployForm {
    /// Every problem at once, so a form can show them all beside their fields.
    pub fn parse(&self) -> Result<NewDeploy, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bad = |field: &str, message: String| problems.push(Problem { field: field.into(), message });
        let service = self.service.trim().to_owned();
        if service.is_empty() {
            bad("service", "a service is required: its catalog name, e.g. payments-api".into());
        }
        let environment = self.environment.trim().to_owned();
        if environment.is_empty() {
            bad("environment", "an environment is required".into());
        }
        let version = Version::parse(&self.version).map_err(|m| bad("version", m)).ok();
        let reason = crate::approvals::types::parse_reason(&self.reason).map_err(|m| bad("reason", m)).ok();
        let key = IdempotencyKey::parse(&self.idempotency_key).map_err(|m| bad("idempotency_key", m)).ok();
        let freeze_override = match self.freeze_override.trim() {
            "" => None,
            text if text.chars().count() > 500 => {
                bad("freeze_override", "the override reason is longer than 500 characters".into());
                None
            }
            text => match crate::approvals::types::plain_text("override reason", text) {
                Ok(()) => Some(text.to_owned()),
                Err(m) => {
                    bad("freeze_override", m);
                    None
                }
            },
        };
        match (version, reason, key) {
            (Some(version), Some(reason), Some(key)) if problems.is_empty() => {
                Ok(NewDeploy { service, environment, version, reason, key, freeze_override })
            }
            _ => Err(problems),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TransitionView {
    pub from: Option<DeployState>,
    pub to: DeployState,
    pub actor: String,
    pub note: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `stdout`, `stderr` (the command), `cd` (the CD system) or `switchyard`.
    pub stream: String,
    pub line: String,
}

/// A deploy as lists, pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeployView {
    pub id: DeployId,
    /// The service's catalog name.
    pub service: String,
    pub service_title: String,
    pub environment: String,
    pub version: String,
    /// What ran in the environment when this was asked for.
    pub previous_version: Option<String>,
    pub rollback_of: Option<DeployId>,
    pub reason: String,
    /// Who asked, by name (shown) and by id (names are not unique).
    pub requester: String,
    pub requester_id: Uuid,
    pub state: DeployState,
    /// The approval request, when the environment needs one.
    pub approval_id: Option<ApprovalId>,
    pub freeze_override: Option<String>,
    /// `command` or `webhook`, once a worker started it.
    pub executor: Option<String>,
    pub attempts: i32,
    pub progress: Option<i16>,
    /// Why it ended as it did.
    pub outcome: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Every state change, oldest first (empty in lists).
    pub transitions: Vec<TransitionView>,
}

/// One deploy's page: the deploy, its log so far, and what the viewer may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployPage {
    pub deploy: DeployView,
    pub log: Vec<LogLine>,
    pub can_cancel: bool,
    /// The version a rollback from here would deploy, when this is the one running there now.
    pub rollback_to: Option<String>,
    pub may_deploy: bool,
    pub repository_url: Option<String>,
    /// The changes from the version before, on a code host named in configuration.
    pub compare_url: Option<String>,
    /// The freeze window a queued deploy waits for, described, when one applies now.
    pub held_by_freeze: Option<String>,
    /// Where the live stream continues from.
    pub last_transition_id: i64,
}

/// What changed on a deploy since a live view last looked (one server-sent event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployUpdate {
    pub state: DeployState,
    pub executor: Option<String>,
    pub progress: Option<i16>,
    pub outcome: Option<String>,
    pub transitions: Vec<TransitionView>,
    pub last_transition: i64,
    pub log: Vec<LogLine>,
}

/// The deploys list's filters; empty means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployFilter {
    pub service: String,
    pub environment: String,
    pub state: String,
    pub requester: String,
    /// `YYYY-MM-DD` (UTC), inclusive.
    pub since: String,
    pub until: String,
}

impl DeployFilter {
    pub fn state(&self) -> Result<Option<DeployState>, Problem> {
        match self.state.trim() {
            "" => Ok(None),
            s => DeployState::parse(s).map(Some).map_err(|message| Problem { field: "state".into(), message }),
        }
    }

    /// A day as the start of it (`end` false) or the start of the next (`end` true).
    pub fn day(field: &str, raw: &str, end: bool) -> Result<Option<DateTime<Utc>>, Problem> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| Problem { field: field.into(), message: format!("\"{raw}\" is not a date: use YYYY-MM-DD") })?;
        let day = if end { day.succ_opt().unwrap_or(day) } else { day };
        Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
    }

    pub fn to_query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("service", &self.service),
            ("environment", &self.environment),
            ("state", &self.state),
            ("requester", &self.requester),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }
}

/// A window as the calendar shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FreezeView {
    pub id: FreezeId,
    pub environment: String,
    pub reason: String,
    /// One-off: its start. Recurring: from when the schedule applies.
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Recurring: cron (UTC, with seconds) for each start, e.g. `0 0 18 * * Fri`.
    pub schedule: Option<String>,
    pub duration_mins: Option<i32>,
    pub created_by: String,
    /// The next occurrences (start, end) within the calendar's range, the current one first.
    pub occurrences: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub active_now: bool,
}

impl FreezeView {
    /// "Quarter-end close (until 2026-12-01 06:00 UTC)".
    pub fn describe(&self) -> String {
        match self.occurrences.first() {
            Some((_, end)) if self.active_now => format!("{} (until {})", self.reason, end.format("%Y-%m-%d %H:%M UTC")),
            _ => self.reason.clone(),
        }
    }
}

/// A new freeze window as the calendar's form posts it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreezeForm {
    pub environment: String,
    pub reason: String,
    /// `once` or `recurring`.
    pub kind: String,
    /// `YYYY-MM-DDTHH:MM` in UTC (an `<input type=datetime-local>`).
    pub starts_at: String,
    pub ends_at: String,
    pub schedule: String,
    pub duration_mins: String,
}

/// When a new window applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FreezeWhen {
    Once { starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    Recurring { starts_at: DateTime<Utc>, schedule: String, duration_mins: i32 },
}

impl FreezeForm {
    pub fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, Problem> {
        let raw = raw.trim();
        chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
            .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
            .map(|t| t.and_utc())
            .map_err(|_| Problem {
                field: field.into(),
                message: if raw.is_empty() {
                    "a time is required (UTC, YYYY-MM-DDTHH:MM)".into()
                } else {
                    format!("\"{raw}\" is not a time: use YYYY-MM-DDTHH:MM (UTC)")
                },
            })
    }

    /// Parses everything but the cron syntax of a schedule (the server checks that).
    pub fn parse(&self) -> Result<(String, String, FreezeWhen), Vec<Problem>> {
        let mut problems = Vec::new();
        let environment = self.environment.trim().to_owned();
        if environment.is_empty() {
            problems.push(Problem { field: "environment".into(), message: "choose an environment".into() });
        }
        let reason = self.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 500 {
            problems.push(Problem {
                field: "reason".into(),
                message: "a reason of 1–500 characters is required: it is what refused deploys show".into(),
            });
        }
        let starts = Self::time("starts_at", &self.starts_at).map_err(|p| problems.push(p)).ok();
        let when = match self.kind.as_str() {
            "recurring" => {
                let schedule = self.schedule.trim().to_owned();
                if schedule.is_empty() {
                    problems.push(Problem { field: "schedule".into(), message: "a schedule is required, e.g. 0 0 18 * * Fri".into() });
                }
                let duration = match self.duration_mins.trim().parse::<i32>() {
                    Ok(d) if (1..=20160).contains(&d) => Some(d),
                    _ => {
                        problems.push(Problem {
                            field: "duration_mins".into(),
                            message: format!("\"{}\" is not a duration: give 1 to 20160 minutes", self.duration_mins.trim()),
                        });
                        None
                    }
                };
                match (starts, duration) {
                    (Some(starts_at), Some(duration_mins)) => Some(FreezeWhen::Recurring { starts_at, schedule, duration_mins }),
                    _ => None,
                }
            }
            "once" | "" => {
                let ends = Self::time("ends_at", &self.ends_at).map_err(|p| problems.push(p)).ok();
                match (starts, ends) {
                    (Some(s), Some(e)) if e <= s => {
                        problems.push(Problem { field: "ends_at".into(), message: "the end must be after the start".into() });
                        None
                    }
                    (Some(starts_at), Some(ends_at)) => Some(FreezeWhen::Once { starts_at, ends_at }),
                    _ => None,
                }
            }
            other => {
                problems.push(Problem { field: "kind".into(), message: format!("unknown kind \"{other}\": use once or recurring") });
                None
            }
        };
        match when {
            Some(when) if problems.is_empty() => Ok((environment, reason, when)),
            _ => Err(problems),
        }
    }
}

/// What would apply to a deploy of one service to one environment: shown before submitting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentPolicy {
    pub environment: String,
    pub title: String,
    pub requires_approval: bool,
    pub required_approvals: i32,
    /// "a lead of Payments, or an admin".
    pub approvers: String,
    pub current_version: Option<String>,
    pub active_freeze: Option<String>,
    /// A deploy of this service to this environment that has not ended yet.
    pub in_flight: Option<DeployId>,
    /// Whether maintenance on the service's network path refuses a deploy here (else it warns).
    #[serde(default)]
    pub blocks_during_maintenance: bool,
    /// The maintenance under way now on the service's network path, each said in a line.
    #[serde(default)]
    pub maintenance_now: Vec<String>,
    /// Whether a critical integration's run of the service refuses a deploy here (else it warns).
    #[serde(default)]
    pub blocks_during_critical_runs: bool,
    /// The critical integrations of the service running now, each said in a line.
    #[serde(default)]
    pub critical_runs_now: Vec<String>,
}

/// An environment's two policies: `warn` or `block`, for maintenance on a service's network path
/// and for a critical integration's run of the service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentPolicies {
    pub environment: String,
    pub title: String,
    pub maintenance_policy: String,
    pub critical_run_policy: String,
}

/// The deploy form's context: the service, whether the viewer may deploy it, and each
/// environment's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployPlan {
    pub service: String,
    pub service_title: String,
    pub tier: Option<i16>,
    pub owner: String,
    pub may_deploy: bool,
    pub is_admin: bool,
    pub environments: Vec<EnvironmentPolicy>,
}

/// A service's deploys per environment, with what runs there now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDeploys {
    pub service: String,
    pub service_title: String,
    pub may_deploy: bool,
    pub environments: Vec<EnvironmentHistory>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentHistory {
    pub environment: String,
    pub title: String,
    pub current: Option<DeployView>,
    /// The version a rollback would deploy (the one that succeeded before the current).
    pub rollback_to: Option<String>,
    pub history: Vec<DeployView>,
}

/// What a deploy's approval request carries, for the inbox's card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployAsk {
    pub deploy_id: DeployId,
    pub service: String,
    pub environment: String,
    pub version: String,
    pub previous_version: Option<String>,
    /// A link to the changes between the two versions, when the repository is known.
    pub compare_url: Option<String>,
    pub rollback: bool,
}

/// A link to the changes between two refs, for repositories on one of `hosts` (origins named in
/// configuration, like `https://github.com`): an approver follows it, so no other host is trusted.
pub fn compare_url(repository: &str, from: &str, to: &str, hosts: &[String]) -> Option<String> {
    let repo = repository.trim_end_matches('/').trim_end_matches(".git");
    hosts
        .iter()
        .any(|h| repo.strip_prefix(h.trim_end_matches('/')).is_some_and(|rest| rest.starts_with('/')))
        .then(|| format!("{repo}/compare/{from}...{to}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_never_reads_as_an_option_and_a_reason_holds_no_nul() {
        assert!(Version::parse("-rf").is_err_and(|m| m.contains("begin with a letter or a digit")));
        assert!(Version::parse("--upload-pack=x").is_err());
        let form = |reason: &str| DeployForm { service: "s".into(), environment: "dev".into(), version: "v1".into(), reason: reason.into(), idempotency_key: "k".into(), freeze_override: String::new() };
        let problems = form("fix\0").parse().err().unwrap_or_default();
        assert!(problems.iter().any(|p| p.field == "reason" && p.message.contains("U+0000")), "{problems:?}");
        assert!(form("line one\nline two").parse().is_ok());
    }

    #[test]
    fn versions_are_refs_or_tags() {
        assert!(Version::parse("v1.4.2").is_ok());
        assert!(Version::parse("registry.example/app@sha256:abc").is_ok());
        assert!(Version::parse("  ").is_err());
        let err = Version::parse("v1 2").err().unwrap_or_default();
        assert!(err.contains("' '"), "{err}");
    }

    #[test]
    fn a_form_reports_every_problem() {
        let form = DeployForm { service: "payments-api".into(), ..DeployForm::default() };
        let problems = form.parse().err().unwrap_or_default();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["environment", "version", "reason", "idempotency_key"]);
    }

    #[test]
    fn states_round_trip_and_know_their_end() {
        for s in DeployState::ALL {
            assert_eq!(DeployState::parse(s.as_str()), Ok(s));
        }
        assert!(DeployState::Succeeded.is_final());
        assert!(!DeployState::Running.is_final());
        assert!(DeployState::parse("done").is_err());
    }

    #[test]
    fn a_one_off_freeze_must_end_after_it_starts() {
        let form = FreezeForm {
            environment: "production".into(),
            reason: "Month-end close".into(),
            kind: "once".into(),
            starts_at: "2026-12-01T10:00".into(),
            ends_at: "2026-12-01T09:00".into(),
            ..FreezeForm::default()
        };
        let problems = form.parse().err().unwrap_or_default();
        assert_eq!(problems.first().map(|p| p.field.as_str()), Some("ends_at"));
    }

    #[test]
    fn compare_links_only_for_configured_hosts() {
        let hosts = vec!["https://github.com".to_owned(), "https://git.acme.internal/".to_owned()];
        assert_eq!(
            compare_url("https://github.com/acme/pay.git", "v1", "v2", &hosts).as_deref(),
            Some("https://github.com/acme/pay/compare/v1...v2")
        );
        assert!(compare_url("https://git.acme.internal/pay", "v1", "v2", &hosts).is_some());
        assert_eq!(compare_url("ssh://internal/pay", "v1", "v2", &hosts), None);
        assert_eq!(compare_url("https://git.evil.example/pay", "v1", "v2", &hosts), None, "any git.* host was trusted");
        assert_eq!(compare_url("https://github.com.evil.example/pay", "v1", "v2", &hosts), None);
    }
}
