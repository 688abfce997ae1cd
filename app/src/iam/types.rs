//! Identity data shared by server and browser.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct UserId(pub Uuid);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct TeamId(pub Uuid);

/// What a person may do across the portal. Every signed-in employee is a viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(type_name = "text", rename_all = "lowercase"))]
pub enum TeamRole {
    Member,
    Lead,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Lead => "lead",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "member" => Ok(TeamRole::Member),
            "lead" => Ok(TeamRole::Lead),
            other => Err(format!("unknown team role \"{other}\": use member or lead")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembership {
    pub team_id: TeamId,
    pub slug: String,
    pub name: String,
    pub role: TeamRole,
}

/// The signed-in person, as the UI shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamMembership>,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }

    /// Whether they may own things (register services and integrations): a member of a team,
    /// or an admin. The server decides each case by the owning team; this decides what the
    /// pages offer.
    pub fn may_own(&self) -> bool {
        self.is_admin() || !self.teams.is_empty()
    }

    /// Initials for the avatar: first letters of the first two words of the name.
    pub fn initials(&self) -> String {
        let source = if self.name.trim().is_empty() { &self.username } else { &self.name };
        source
            .split_whitespace()
            .take(2)
            .filter_map(|w| w.chars().next())
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// What an API token may be used for. A browser session may do all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::Type), sqlx(type_name = "text", rename_all = "lowercase"))]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Deploy,
    Admin,
    /// Pushing run events (OpenLineage) for integrations, and nothing else.
    Ingest,
    /// Reporting BGP session and interface states (a collector), and nothing else.
    #[serde(rename = "network-state")]
    #[cfg_attr(feature = "ssr", sqlx(rename = "network-state"))]
    NetworkState,
}

impl Scope {
    pub const ALL: [Scope; 6] = [Scope::Read, Scope::Write, Scope::Deploy, Scope::Admin, Scope::Ingest, Scope::NetworkState];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Deploy => "deploy",
            Scope::Admin => "admin",
            Scope::Ingest => "ingest",
            Scope::NetworkState => "network-state",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope \"{s}\": use read, write, deploy, admin, ingest or network-state"))
    }
}

/// An API token as lists show it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: Uuid,
    pub name: String,
    /// `personal` or `service`.
    pub kind: String,
    /// The person, for a personal token.
    pub owner: Option<String>,
    /// The team, for a service token.
    pub team: Option<String>,
    pub scopes: Vec<Scope>,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the secret is in here once, and nowhere else ever again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub secret: String,
    pub token: TokenView,
}

/// A token's name: trimmed, 1 to 100 characters.
pub fn parse_token_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err("give the token a name, so you know later what uses it".into()),
        1..=100 => Ok(name.to_owned()),
        _ => Err("the name is longer than 100 characters".into()),
    }
}

/// A token's lifetime in days: 1 to 365.
pub fn parse_token_days(days: i64) -> Result<i64, String> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(format!("a token lives 1 to 365 days, not {days}"))
    }
}

/// A team's URL name: DNS-label style (lowercase letters, digits, inner hyphens), 1 to 63.
pub fn parse_team_slug(raw: &str) -> Result<String, String> {
    let slug = raw.trim();
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug.to_owned())
    } else {
        Err(format!("\"{slug}\" is not a team name: use 1 to 63 lowercase letters, digits and inner hyphens, like payments-core"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub username: String,
    pub name: String,
    pub role: TeamRole,
    /// `idp` (from a directory group) or `manual` (added by an admin).
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDetail {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub members: Vec<TeamMember>,
}

/// One browser session of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: Uuid,
    pub user_id: UserId,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: String,
    pub ip: String,
    /// The session this page was loaded with.
    pub current: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_slugs_are_dns_labels() {
        assert_eq!(parse_team_slug(" payments-core "), Ok("payments-core".into()));
        for bad in ["", "Payments", "-x", "x-", "a_b", &"a".repeat(64)] {
            assert!(parse_team_slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn initials_come_from_the_name_or_else_the_username() {
        let mut me = Me {
            id: UserId(Uuid::nil()),
            username: "bob".into(),
            name: "Bob Builder".into(),
            email: String::new(),
            roles: vec![Role::Viewer],
            teams: vec![],
        };
        assert_eq!(me.initials(), "BB");
        me.name = String::new();
        assert_eq!(me.initials(), "B");
    }
}
