//! Approval data shared by server and browser.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

uuid_id!(#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))] ApprovalId);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type), sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum ApprovalState {
    Pending,
    Approved,
    Rejected,
    Expired,
    Cancelled,
}

impl ApprovalState {
    pub const ALL: [ApprovalState; 5] = [
        ApprovalState::Pending,
        ApprovalState::Approved,
        ApprovalState::Rejected,
        ApprovalState::Expired,
        ApprovalState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalState::Pending => "pending",
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Expired => "expired",
            ApprovalState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown state \"{s}\": use pending, approved, rejected, expired or cancelled"))
    }
}

/// Who may decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type), sqlx(type_name = "text", rename_all = "snake_case"))]
pub enum Approvers {
    Admins,
    TeamLeadsOrAdmins,
}

impl Approvers {
    pub fn as_str(self) -> &'static str {
        match self {
            Approvers::Admins => "admins",
            Approvers::TeamLeadsOrAdmins => "team_leads_or_admins",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "admins" => Ok(Approvers::Admins),
            "team_leads_or_admins" => Ok(Approvers::TeamLeadsOrAdmins),
            other => Err(format!("unknown approver rule \"{other}\"")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type), sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum Verdict {
    Approve,
    Reject,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::Reject => "reject",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "approve" => Ok(Verdict::Approve),
            "reject" => Ok(Verdict::Reject),
            other => Err(format!("unknown decision \"{other}\": use approve or reject")),
        }
    }
}

/// A decision's comment: required, trimmed, at most 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment(String);

impl Comment {
    pub const MAX_LEN: usize = 2000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("a comment is required: say why you decide this way".into());
        }
        if text.chars().count() > Self::MAX_LEN {
            return Err(format!("the comment is longer than {} characters", Self::MAX_LEN));
        }
        plain_text("comment", text)?;
        Ok(Comment(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reason for a request: required, trimmed, at most 2000 characters.
pub fn parse_reason(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("a reason is required: say why this is needed".into());
    }
    if text.chars().count() > 2000 {
        return Err("the reason is longer than 2000 characters".into());
    }
    plain_text("reason", text)?;
    Ok(text.to_owned())
}

/// Free text people type (reasons, comments): lines and tabs, but no other control characters
/// (a NUL cannot be stored; the others forge lines and colours where the text is shown).
pub fn plain_text(what: &str, text: &str) -> Result<(), String> {
    match text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        Some(c) => Err(format!("the {what} holds the control character U+{:04X}: remove it", u32::from(c))),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DecisionView {
    /// Who decided (by id: names are not unique), and their name as shown.
    #[serde(skip)]
    pub approver_id: Option<uuid::Uuid>,
    pub approver: String,
    pub verdict: Verdict,
    pub comment: String,
    pub decided_at: DateTime<Utc>,
}

/// A request with its progress, as lists and the detail page show it.
/// One thing an approver should know about a request, as its subject tells it: a service, a
/// version, a link to what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Fact {
    /// What the value is (empty for a link or a flag that says it itself).
    pub label: String,
    pub value: String,
    /// Where the value links to: a page of Switchyard, or a code host configuration trusts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Shown as a warning (a rollback).
    #[serde(default)]
    pub warn: bool,
}

impl Fact {
    pub fn new(label: &str, value: impl Into<String>) -> Self {
        Fact { label: label.into(), value: value.into(), href: None, warn: false }
    }

    pub fn link(value: &str, href: impl Into<String>) -> Self {
        Fact { label: String::new(), value: value.into(), href: Some(href.into()), warn: false }
    }

    pub fn warning(value: &str) -> Self {
        Fact { label: String::new(), value: value.into(), href: None, warn: true }
    }
}

/// A titled group of facts: one check of a pre-flight card ("Integrations", "Maintenance and
/// freezes" …), each fact a finding that links to its page, a warning where it should give pause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FactGroup {
    pub title: String,
    /// What the group says when it has no facts ("No maintenance on its path").
    pub empty: String,
    pub facts: Vec<Fact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApprovalView {
    pub id: ApprovalId,
    pub subject_kind: String,
    pub subject_id: String,
    pub action: String,
    pub summary: String,
    /// The subject's details as indented JSON text.
    pub payload: String,
    /// What the subject says an approver should know, besides the summary.
    pub facts: Vec<Fact>,
    /// While it waits: what the subject checks now for an approver (a production deploy's
    /// pre-flight card: its integrations' health, the partners and maintenance on its path,
    /// freezes, its last deploys there); empty for most subjects.
    #[serde(default)]
    pub preflight: Vec<FactGroup>,
    pub requester: String,
    pub reason: String,
    pub state: ApprovalState,
    pub approvers: Approvers,
    pub owning_team: Option<String>,
    pub required_approvals: i32,
    pub approvals: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decisions: Vec<DecisionView>,
    /// Whether the person looking may approve or reject it now.
    pub can_decide: bool,
}

impl ApprovalView {
    /// "1 of 2 approvals".
    pub fn progress(&self) -> String {
        format!(
            "{} of {} approval{}",
            self.approvals,
            self.required_approvals,
            if self.required_approvals == 1 { "" } else { "s" }
        )
    }

    pub fn approvers_text(&self) -> String {
        match (self.approvers, &self.owning_team) {
            (Approvers::Admins, _) => "an admin".into(),
            (Approvers::TeamLeadsOrAdmins, Some(team)) => format!("a lead of {team}, or an admin"),
            (Approvers::TeamLeadsOrAdmins, None) => "a team lead, or an admin".into(),
        }
    }
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inbox {
    /// Pending requests the viewer may decide.
    #[default]
    WaitingForMe,
    AskedByMe,
    All,
}

impl Inbox {
    pub fn as_str(self) -> &'static str {
        match self {
            Inbox::WaitingForMe => "waiting_for_me",
            Inbox::AskedByMe => "asked_by_me",
            Inbox::All => "all",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" | "waiting_for_me" => Ok(Inbox::WaitingForMe),
            "asked_by_me" => Ok(Inbox::AskedByMe),
            "all" => Ok(Inbox::All),
            other => Err(format!("unknown list \"{other}\": use waiting_for_me, asked_by_me or all")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_required_and_bounded() {
        assert!(Comment::parse("   ").is_err());
        assert_eq!(Comment::parse(" ok ").map(|c| c.as_str().to_owned()), Ok("ok".into()));
        assert!(Comment::parse(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in ApprovalState::ALL {
            assert_eq!(ApprovalState::parse(s.as_str()), Ok(s));
        }
        for i in [Inbox::WaitingForMe, Inbox::AskedByMe, Inbox::All] {
            assert_eq!(Inbox::parse(i.as_str()), Ok(i));
        }
    }
}
