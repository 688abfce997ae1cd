//! Identity rules: signing in from the SSO's claims, sessions, and who may see and end them.
use super::principal::{Principal, Via};
use super::repo;
use super::types::{SessionInfo, TeamRole, UserId};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::error::Refusal;
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// What went wrong in identity: sign-in, sessions, teams, tokens, roles.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the identity provider sent no usable user name")]
    NoUsername,
    #[error(transparent)]
    Approval(#[from] crate::approvals::service::ApprovalError),
    #[error("database: {0}")]
    Database(sqlx::Error),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for IamError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("iam", &e);
        IamError::Database(e)
    }
}

/// How IdP groups become roles and team memberships.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupMapping {
    /// Members of any of these groups are admins.
    pub admin_groups: Vec<String>,
    /// `<prefix><slug>` makes a member of team `slug`.
    pub team_prefix: String,
    /// `<prefix><slug>` makes a lead of team `slug`.
    pub lead_prefix: String,
}

impl Default for GroupMapping {
    fn default() -> Self {
        GroupMapping {
            admin_groups: vec!["admins".into()],
            team_prefix: "team-".into(),
            lead_prefix: "lead-".into(),
        }
    }
}

impl GroupMapping {
    pub fn is_admin(&self, groups: &[String]) -> bool {
        groups.iter().any(|g| self.admin_groups.contains(g))
    }

    /// Team slugs and roles named by the groups; lead wins over member.
    pub fn teams(&self, groups: &[String]) -> Vec<(String, TeamRole)> {
        let mut teams: Vec<(String, TeamRole)> = Vec::new();
        let valid = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !s.starts_with('-')
                && !s.ends_with('-')
        };
        for g in groups {
            let (slug, role) = if let Some(s) = g.strip_prefix(&self.lead_prefix) {
                (s, TeamRole::Lead)
            } else if let Some(s) = g.strip_prefix(&self.team_prefix) {
                (s, TeamRole::Member)
            } else {
                continue;
            };
            if !valid(slug) {
                continue;
            }
            match teams.iter_mut().find(|(s, _)| s == slug) {
                Some(entry) if role == TeamRole::Lead => entry.1 = TeamRole::Lead,
                Some(_) => {}
                None => teams.push((slug.to_owned(), role)),
            }
        }
        teams.sort_by(|a, b| a.0.cmp(&b.0));
        teams
    }
}

/// The verified claims of an ID token that Switchyard uses.
#[derive(Debug, Clone)]
pub struct SignInClaims {
    pub issuer: String,
    pub subject: String,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub groups: Vec<String>,
}

/// Creates the user on first sign-in, refreshes name, email, groups, roles and teams on later
/// ones, and opens a session that ends at `absolute` from now at the latest. One audit row for
/// the sign-in, one per team the directory brought in.
#[tracing::instrument(name = "iam.service.sign_in", skip(pool, claims, mapping), fields(subject = %claims.subject), err)]
pub async fn sign_in(
    pool: &PgPool,
    claims: &SignInClaims,
    mapping: &GroupMapping,
    absolute: Duration,
    user_agent: &str,
    meta: &RequestMeta,
) -> Result<Principal, IamError> {
    let username = claims
        .preferred_username
        .clone()
        .or_else(|| claims.email.as_deref().and_then(|e| e.split('@').next()).map(str::to_owned))
        .filter(|u| !u.trim().is_empty())
        .ok_or(IamError::NoUsername)?;
    let mut tx = pool.begin().await?;
    let before = repo::find_by_subject(&mut *tx, &claims.issuer, &claims.subject).await?;
    let user = repo::upsert_user(
        &mut *tx,
        &claims.issuer,
        &claims.subject,
        &username,
        claims.email.as_deref().unwrap_or(""),
        claims.name.as_deref().unwrap_or(""),
        &claims.groups,
    )
    .await?;
    repo::set_idp_admin(&mut tx, user, mapping.is_admin(&claims.groups)).await?;
    let teams = mapping.teams(&claims.groups);
    let created_teams = repo::sync_idp_teams(&mut tx, user, &teams).await?;
    let identity = repo::identity(&mut tx, user).await?.ok_or(IamError::NoUsername)?;

    let session_id = Uuid::new_v4();
    let expires_at = Utc::now() + absolute;
    repo::create_session(&mut *tx, session_id, user, expires_at, user_agent, &meta.ip).await?;
    let principal = Principal {
        user_id: user,
        username: identity.username,
        name: identity.name,
        email: identity.email,
        roles: identity.roles,
        teams: identity.teams,
        via: Via::Session { session_id },
    };
    for slug in created_teams {
        let change = Change {
            action: "team.created_from_directory",
            subject_kind: SubjectKind::Team,
            subject_id: slug.clone(),
            before: None,
            after: Some(json!({ "slug": slug })),
        };
        audit::record(&mut tx, Actor::System, change, meta).await?;
    }
    let snapshot = |name: &str, email: &str, groups: &[String]| json!({ "name": name, "email": email, "groups": groups });
    let change = Change {
        action: if before.is_none() { "user.created" } else { "user.signed_in" },
        subject_kind: SubjectKind::User,
        subject_id: user.0.to_string(),
        before: before.as_ref().map(|b| snapshot(&b.name, &b.email, &b.groups)),
        after: Some(snapshot(&principal.name, &principal.email, &claims.groups)),
    };
    audit::record(&mut tx, Actor::Person(&principal), change, meta).await?;
    tx.commit().await?;
    Ok(principal)
}

/// Whether the session or token `p` came with is still live (a long-lived stream asks again).
#[tracing::instrument(level = "debug", name = "iam.service.still_live", skip_all)]
pub async fn still_live(pool: &PgPool, p: &Principal) -> Result<bool, IamError> {
    Ok(match &p.via {
        crate::iam::principal::Via::Session { session_id } => repo::session_is_live(pool, *session_id).await?,
        crate::iam::principal::Via::Token { token_id, .. } => repo::token_is_live(pool, *token_id).await?,
    })
}

/// The principal behind a live browser session, or None when it ended or expired; and whether
/// this request is its first in a minute (when "last seen" and the idle expiry are renewed).
#[tracing::instrument(level = "debug", name = "iam.service.session_principal", skip_all)]
pub async fn session_principal(pool: &PgPool, session_id: Uuid) -> Result<Option<(Principal, bool)>, IamError> {
    let Some((user, i, stale)) = repo::live_session(pool, session_id).await? else {
        return Ok(None);
    };
    // seen to the minute: a page costs one read, and a write a minute
    if stale {
        repo::touch_session(pool, session_id).await?;
    }
    let principal = Principal {
        user_id: user,
        username: i.username,
        name: i.name,
        email: i.email,
        roles: i.roles,
        teams: i.teams,
        via: Via::Session { session_id },
    };
    Ok(Some((principal, stale)))
}

/// Ends the caller's own session (sign-out).
#[tracing::instrument(name = "iam.service.sign_out", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn sign_out(pool: &PgPool, principal: &Principal, meta: &RequestMeta) -> Result<(), IamError> {
    let Some(session_id) = principal.session_id() else {
        return Ok(());
    };
    let mut tx = pool.begin().await?;
    if repo::end_session(&mut *tx, session_id, principal.user_id).await?.is_some() {
        let change = Change {
            action: "session.signed_out",
            subject_kind: SubjectKind::Session,
            subject_id: session_id.to_string(),
            before: None,
            after: None,
        };
        audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Live sessions: the caller's own, or (admins) anyone's when `everyone` is set.
#[tracing::instrument(name = "iam.service.list_sessions", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list_sessions(pool: &PgPool, principal: &Principal, everyone: bool) -> Result<Vec<SessionInfo>, IamError> {
    principal.require_session()?;
    let scope = if everyone {
        principal.require_admin()?;
        None
    } else {
        Some(principal.user_id)
    };
    let mut sessions = repo::live_sessions(pool, scope).await?;
    let current = principal.session_id();
    for s in &mut sessions {
        s.current = Some(s.id) == current;
    }
    Ok(sessions)
}

/// Ends a session: one's own, or anyone's for an admin. Audited.
#[tracing::instrument(name = "iam.service.end_session", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn end_session(
    pool: &PgPool,
    principal: &Principal,
    session_id: Uuid,
    meta: &RequestMeta,
) -> Result<UserId, IamError> {
    principal.require_session()?;
    let mut tx = pool.begin().await?;
    let owner = repo::end_session(&mut *tx, session_id, principal.user_id)
        .await?
        .ok_or(Refusal::not_found("That session"))?;
    // Checked after the update so a stranger learns nothing: the transaction rolls back.
    principal.require_self_or_admin(owner)?;
    let change = Change {
        action: "session.ended",
        subject_kind: SubjectKind::Session,
        subject_id: session_id.to_string(),
        before: None,
        after: Some(json!({ "user_id": owner.0 })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_map_to_admin_and_teams_with_lead_winning() {
        let m = GroupMapping::default();
        let groups: Vec<String> = ["employees", "team-payments", "lead-payments", "team-ledger", "team-Bad!", "admins"]
            .map(String::from)
            .to_vec();
        assert!(m.is_admin(&groups));
        assert_eq!(
            m.teams(&groups),
            vec![("ledger".into(), TeamRole::Member), ("payments".into(), TeamRole::Lead)]
        );
        assert!(!m.is_admin(&["employees".to_owned()]));
    }
}
