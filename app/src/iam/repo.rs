//! Identity SQL.
use super::types::{Role, SessionInfo, TeamId, TeamMembership, TeamRole, UserId};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub name: String,
    pub groups: Vec<String>,
}

/// The user as stored before a login changes it, if they exist.
pub async fn find_by_subject(
    db: impl PgExecutor<'_>,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: UserId", username, email, name, groups
           FROM users WHERE issuer = $1 AND subject = $2"#,
        issuer,
        subject
    )
    .fetch_optional(db)
    .await
}

/// Creates or refreshes the user from their ID token.
pub async fn upsert_user(
    db: impl PgExecutor<'_>,
    issuer: &str,
    subject: &str,
    username: &str,
    email: &str,
    name: &str,
    groups: &[String],
) -> Result<UserId, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO users (issuer, subject, username, email, name, groups)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (issuer, subject) DO UPDATE
             SET username = EXCLUDED.username, email = EXCLUDED.email, name = EXCLUDED.name,
                 groups = EXCLUDED.groups, last_login_at = now()
           RETURNING id AS "id: UserId""#,
        issuer,
        subject,
        username,
        email,
        name,
        groups
    )
    .fetch_one(db)
    .await
}

/// Makes the IdP-sourced admin grant match `admin`.
pub async fn set_idp_admin(conn: &mut PgConnection, user: UserId, admin: bool) -> Result<(), sqlx::Error> {
    if admin {
        sqlx::query!(
            "INSERT INTO role_grants (user_id, role, source) VALUES ($1, 'admin', 'idp') ON CONFLICT DO NOTHING",
            user.0
        )
        .execute(conn)
        .await?;
    } else {
        sqlx::query!(
            "DELETE FROM role_grants WHERE user_id = $1 AND role = 'admin' AND source = 'idp'",
            user.0
        )
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub async fn grant_role(conn: &mut PgConnection, user: UserId, role: Role, source: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO role_grants (user_id, role, source) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        user.0,
        role.as_str(),
        source
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes the user's IdP-sourced team memberships exactly `teams` (slug, role), creating teams
/// the directory knows and Switchyard does not yet (their slugs are returned). Manual
/// memberships are left alone.
pub async fn sync_idp_teams(
    conn: &mut PgConnection,
    user: UserId,
    teams: &[(String, TeamRole)],
) -> Result<Vec<String>, sqlx::Error> {
    let slugs: Vec<String> = teams.iter().map(|(s, _)| s.clone()).collect();
    let roles: Vec<String> = teams.iter().map(|(_, r)| r.as_str().to_owned()).collect();
    let created = sqlx::query_scalar!(
        r#"INSERT INTO teams (slug, name)
           SELECT s, initcap(replace(s, '-', ' ')) FROM unnest($1::text[]) AS s
           ON CONFLICT (slug) DO NOTHING
           RETURNING slug"#,
        &slugs
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query!(
        r#"DELETE FROM team_members tm USING teams t
           WHERE tm.team_id = t.id AND tm.user_id = $1 AND tm.source = 'idp'
             AND NOT (t.slug = ANY($2::text[]))"#,
        user.0,
        &slugs
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"INSERT INTO team_members (team_id, user_id, role, source)
           SELECT t.id, $1, x.role, 'idp'
           FROM unnest($2::text[], $3::text[]) AS x(slug, role) JOIN teams t ON t.slug = x.slug
           ON CONFLICT (team_id, user_id) DO UPDATE
             SET role = EXCLUDED.role WHERE team_members.source = 'idp'"#,
        user.0,
        &slugs,
        &roles
    )
    .execute(&mut *conn)
    .await?;
    Ok(created)
}

pub struct Identity {
    pub username: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub teams: Vec<TeamMembership>,
}

/// Name, roles and teams of a user.
pub async fn identity(conn: &mut PgConnection, user: UserId) -> Result<Option<Identity>, sqlx::Error> {
    let Some(u) = sqlx::query!(
        r#"SELECT username, name, email,
                  EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.role = 'admin') AS "admin!"
           FROM users u WHERE id = $1"#,
        user.0
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let teams = sqlx::query!(
        r#"SELECT t.id, t.slug, t.name, tm.role
           FROM team_members tm JOIN teams t ON t.id = tm.team_id
           WHERE tm.user_id = $1 ORDER BY t.name"#,
        user.0
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| TeamMembership {
        team_id: TeamId(r.id),
        slug: r.slug,
        name: r.name,
        role: TeamRole::parse(&r.role).unwrap_or(TeamRole::Member),
    })
    .collect();
    let mut roles = vec![Role::Viewer];
    if u.admin {
        roles.push(Role::Admin);
    }
    Ok(Some(Identity { username: u.username, name: u.name, email: u.email, roles, teams }))
}

pub async fn create_session(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user: UserId,
    expires_at: DateTime<Utc>,
    user_agent: &str,
    ip: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO user_sessions (id, user_id, expires_at, user_agent, ip) VALUES ($1, $2, $3, $4, $5)",
        id,
        user.0,
        expires_at,
        user_agent,
        ip
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The session's user when the session is live (not ended, not past its absolute expiry);
/// marks it seen.
pub async fn touch_session(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE user_sessions SET last_seen_at = now()
           WHERE id = $1 AND ended_at IS NULL AND expires_at > now()
           RETURNING user_id AS "user_id: UserId""#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Ends a live session; returns its owner, or None when there was no such live session.
pub async fn end_session(
    db: impl PgExecutor<'_>,
    id: Uuid,
    by: UserId,
) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"UPDATE user_sessions SET ended_at = now(), ended_by = $2
           WHERE id = $1 AND ended_at IS NULL
           RETURNING user_id AS "user_id: UserId""#,
        id,
        by.0
    )
    .fetch_optional(db)
    .await
}

/// Live sessions, of one user or of everyone, newest first.
pub async fn live_sessions(
    db: impl PgExecutor<'_>,
    user: Option<UserId>,
) -> Result<Vec<SessionInfo>, sqlx::Error> {
    sqlx::query_as!(
        SessionInfo,
        r#"SELECT s.id, s.user_id AS "user_id: UserId", u.username, s.created_at, s.last_seen_at,
                  s.expires_at, s.user_agent, s.ip, false AS "current!"
           FROM user_sessions s JOIN users u ON u.id = s.user_id
           WHERE s.ended_at IS NULL AND s.expires_at > now()
             AND ($1::uuid IS NULL OR s.user_id = $1)
           ORDER BY s.last_seen_at DESC
           LIMIT 500"#,
        user.map(|u| u.0)
    )
    .fetch_all(db)
    .await
}

pub struct TeamMemberRow {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub username: Option<String>,
    pub member_name: Option<String>,
    pub role: Option<String>,
    pub source: Option<String>,
}

/// Every team, one row per member (or one row with no member), in one query.
pub async fn teams_with_members(db: impl PgExecutor<'_>) -> Result<Vec<TeamMemberRow>, sqlx::Error> {
    sqlx::query_as!(
        TeamMemberRow,
        r#"SELECT t.slug, t.name, t.description, u.username AS "username?", u.name AS "member_name?",
                  tm.role AS "role?", tm.source AS "source?"
           FROM teams t
           LEFT JOIN team_members tm ON tm.team_id = t.id
           LEFT JOIN users u ON u.id = tm.user_id
           ORDER BY t.name, tm.role DESC, u.username"#
    )
    .fetch_all(db)
    .await
}

/// Inserts a team; false when the slug is taken.
pub async fn insert_team(db: impl PgExecutor<'_>, slug: &str, name: &str, description: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "INSERT INTO teams (slug, name, description) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING",
        slug,
        name,
        description
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn team_id(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM teams WHERE slug = $1", slug).fetch_optional(db).await
}

/// The people a person is named by: their user name, or (when it has an `@`) their email. User
/// names are the directory's and need not be unique, so this may find several (at most two).
pub async fn people_named(db: impl PgExecutor<'_>, name: &str) -> Result<Vec<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users
           WHERE kind = 'person' AND (username = $1 OR (strpos($1, '@') > 0 AND lower(email) = lower($1)))
           ORDER BY last_login_at DESC LIMIT 2"#,
        name
    )
    .fetch_all(db)
    .await
}

/// (role, source) of a membership.
pub async fn membership(db: impl PgExecutor<'_>, team: Uuid, user: UserId) -> Result<Option<(String, String)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT role, source FROM team_members WHERE team_id = $1 AND user_id = $2", team, user.0)
        .fetch_optional(db)
        .await?
        .map(|r| (r.role, r.source)))
}

pub async fn upsert_manual_member(db: impl PgExecutor<'_>, team: Uuid, user: UserId, role: TeamRole) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO team_members (team_id, user_id, role, source) VALUES ($1, $2, $3, 'manual')
           ON CONFLICT (team_id, user_id) DO UPDATE SET role = EXCLUDED.role"#,
        team,
        user.0,
        role.as_str()
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_member(db: impl PgExecutor<'_>, team: Uuid, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", team, user.0)
        .execute(db)
        .await?;
    Ok(())
}
