//! Identity SQL.
use super::types::{Role, Scope, SessionInfo, TeamId, TeamMembership, TeamRole, UserId};
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
#[tracing::instrument(level = "debug", name = "iam.repo.find_by_subject", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.upsert_user", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.set_idp_admin", skip_all)]
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

#[tracing::instrument(level = "debug", name = "iam.repo.grant_role", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.sync_idp_teams", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.identity", skip_all)]
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
        r#"SELECT t.id, t.slug, t.name, tm.role AS "role: TeamRole"
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
        role: r.role,
    })
    .collect();
    let mut roles = vec![Role::Viewer];
    if u.admin {
        roles.push(Role::Admin);
    }
    Ok(Some(Identity { username: u.username, name: u.name, email: u.email, roles, teams }))
}

#[tracing::instrument(level = "debug", name = "iam.repo.create_session", skip_all)]
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
/// The user of a live session (not ended, not expired) with their name, roles and teams, in one
/// read; and whether its "last seen" is over a minute old (then `touch_session` marks it).
#[tracing::instrument(level = "debug", name = "iam.repo.live_session", skip_all)]
pub async fn live_session(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(UserId, Identity, bool)>, sqlx::Error> {
    let Some(r) = sqlx::query!(
        r#"SELECT s.user_id AS "user_id: UserId", s.last_seen_at < now() - interval '1 minute' AS "stale!",
                  u.username, u.name, u.email,
                  EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = u.id AND g.role = 'admin') AS "admin!",
                  coalesce((SELECT jsonb_agg(jsonb_build_array(t.id, t.slug, t.name, tm.role) ORDER BY t.name)
                            FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE tm.user_id = u.id), '[]') AS "teams!"
           FROM user_sessions s JOIN users u ON u.id = s.user_id
           WHERE s.id = $1 AND s.ended_at IS NULL AND s.expires_at > now()"#,
        id
    )
    .fetch_optional(db)
    .await?
    else {
        return Ok(None);
    };
    let teams: Vec<(Uuid, String, String, TeamRole)> = serde_json::from_value(r.teams).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let mut roles = vec![Role::Viewer];
    if r.admin {
        roles.push(Role::Admin);
    }
    let identity = Identity {
        username: r.username,
        name: r.name,
        email: r.email,
        roles,
        teams: teams.into_iter().map(|(id, slug, name, role)| TeamMembership { team_id: TeamId(id), slug, name, role }).collect(),
    };
    Ok(Some((r.user_id, identity, r.stale)))
}

#[tracing::instrument(level = "debug", name = "iam.repo.touch_session", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.end_session", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.live_sessions", skip_all)]
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
    pub role: Option<TeamRole>,
    pub source: Option<String>,
}

/// Every team, one row per member (or one row with no member), in one query.
#[tracing::instrument(level = "debug", name = "iam.repo.teams_with_members", skip_all)]
pub async fn teams_with_members(db: impl PgExecutor<'_>) -> Result<Vec<TeamMemberRow>, sqlx::Error> {
    sqlx::query_as!(
        TeamMemberRow,
        r#"SELECT t.slug, t.name, t.description, u.username AS "username?", u.name AS "member_name?",
                  tm.role AS "role?: TeamRole", tm.source AS "source?"
           FROM teams t
           LEFT JOIN team_members tm ON tm.team_id = t.id
           LEFT JOIN users u ON u.id = tm.user_id
           ORDER BY t.name, tm.role DESC, u.username"#
    )
    .fetch_all(db)
    .await
}

/// Inserts a team; false when the slug is taken.
#[tracing::instrument(level = "debug", name = "iam.repo.insert_team", skip_all)]
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

#[tracing::instrument(level = "debug", name = "iam.repo.team_id", skip_all)]
pub async fn team_id(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM teams WHERE slug = $1", slug).fetch_optional(db).await
}

/// The people a person is named by: their user name, or (when it has an `@`) their email. User
/// names are the directory's and need not be unique, so this may find several (at most two).
#[tracing::instrument(level = "debug", name = "iam.repo.people_named", skip_all)]
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
#[tracing::instrument(level = "debug", name = "iam.repo.membership", skip_all)]
pub async fn membership(db: impl PgExecutor<'_>, team: Uuid, user: UserId) -> Result<Option<(TeamRole, String)>, sqlx::Error> {
    Ok(sqlx::query!(r#"SELECT role AS "role: TeamRole", source FROM team_members WHERE team_id = $1 AND user_id = $2"#, team, user.0)
        .fetch_optional(db)
        .await?
        .map(|r| (r.role, r.source)))
}

#[tracing::instrument(level = "debug", name = "iam.repo.upsert_manual_member", skip_all)]
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

#[tracing::instrument(level = "debug", name = "iam.repo.delete_member", skip_all)]
pub async fn delete_member(db: impl PgExecutor<'_>, team: Uuid, user: UserId) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2", team, user.0)
        .execute(db)
        .await?;
    Ok(())
}

/// An API token as its lists show it (never its hash).
pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub owner: Option<String>,
    pub team: Option<String>,
    pub scopes: Vec<Scope>,
    pub token_prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// One token (`one`), or `user`'s personal tokens, or with `everyone` all tokens; newest first.
#[tracing::instrument(level = "debug", name = "iam.repo.tokens", skip_all)]
pub async fn tokens(conn: &mut PgConnection, one: Option<Uuid>, everyone: bool, user: Uuid) -> Result<Vec<TokenRow>, sqlx::Error> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT k.id, k.name, k.kind, u.username AS "owner?", t.slug AS "team?", k.scopes AS "scopes: Vec<Scope>", k.token_prefix,
                  k.created_at, k.expires_at, k.last_used_at, k.revoked_at
           FROM api_tokens k LEFT JOIN users u ON u.id = k.user_id LEFT JOIN teams t ON t.id = k.team_id
           WHERE CASE WHEN $1::uuid IS NOT NULL THEN k.id = $1 ELSE $2 OR k.user_id = $3 END
           ORDER BY k.created_at DESC LIMIT 500"#,
        one,
        everyone,
        user
    )
    .fetch_all(conn)
    .await
}

/// A team's id, slug and name.
#[tracing::instrument(level = "debug", name = "iam.repo.team_by_slug", skip_all)]
pub async fn team_by_slug(db: impl PgExecutor<'_>, slug: &str) -> Result<Option<(Uuid, String, String)>, sqlx::Error> {
    Ok(sqlx::query!("SELECT id, slug, name FROM teams WHERE slug = $1", slug).fetch_optional(db).await?.map(|t| (t.id, t.slug, t.name)))
}

/// The user row a service token acts as (never a person: it cannot sign in).
#[tracing::instrument(level = "debug", name = "iam.repo.insert_service_actor", skip_all)]
pub async fn insert_service_actor(db: impl PgExecutor<'_>, token: Uuid, username: &str, name: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        r#"INSERT INTO users (issuer, subject, username, name, kind)
                   VALUES ('switchyard:service-token', $1, $2, $3, 'service_token') RETURNING id"#,
        token.to_string(),
        username,
        name
    )
    .fetch_one(db)
    .await
}

pub struct NewTokenRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub kind: &'a str,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub scopes: &'a [String],
    pub token_hash: &'a [u8],
    pub token_prefix: &'a str,
    pub created_by: Uuid,
    pub expires_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
}

#[tracing::instrument(level = "debug", name = "iam.repo.insert_token", skip_all)]
pub async fn insert_token(db: impl PgExecutor<'_>, t: &NewTokenRow<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO api_tokens (id, name, kind, user_id, team_id, scopes, token_hash, token_prefix, created_by, expires_at, actor_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        t.id,
        t.name,
        t.kind,
        t.user_id,
        t.team_id,
        t.scopes,
        t.token_hash,
        t.token_prefix,
        t.created_by,
        t.expires_at,
        t.actor_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes a live token; its owner (None for a service token), or None when there was no such
/// live token.
#[tracing::instrument(level = "debug", name = "iam.repo.revoke_token", skip_all)]
pub async fn revoke_token(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar!(r#"UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING user_id"#, id)
        .fetch_optional(db)
        .await
}

/// A live token with everything its principal needs, in one query (see `tokens::authenticate`).
pub struct LiveToken {
    pub id: Uuid,
    pub name: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub scopes: Vec<Scope>,
    pub actor_id: Option<Uuid>,
    pub actor_username: Option<String>,
    pub actor_name: Option<String>,
    pub username: Option<String>,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub admin: bool,
    pub team_ids: Vec<Uuid>,
    pub team_slugs: Vec<String>,
    pub team_names: Vec<String>,
    pub team_roles: Vec<TeamRole>,
    pub service_team_slug: Option<String>,
    pub service_team_name: Option<String>,
}

/// The token with this hash when it is live (a read: `touch_token` marks it used).
#[tracing::instrument(level = "debug", name = "iam.repo.live_token", skip_all)]
pub async fn live_token(db: impl PgExecutor<'_>, token_hash: &[u8], owner_idle_days: i32) -> Result<Option<LiveToken>, sqlx::Error> {
    sqlx::query_as!(
        LiveToken,
        r#"WITH live AS (
               SELECT id, name, user_id, team_id, scopes, actor_id, last_used_at FROM api_tokens
               WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()),
           mine AS (
               SELECT t.id, t.slug, t.name, tm.role FROM live
               JOIN team_members tm ON tm.user_id = live.user_id JOIN teams t ON t.id = tm.team_id)
           SELECT l.id AS "id!", l.name AS "name!", l.last_used_at, l.user_id, l.team_id, l.scopes AS "scopes!: Vec<Scope>", l.actor_id,
                  a.username AS "actor_username?", a.name AS "actor_name?",
                  u.username AS "username?", u.name AS "user_name?", u.email AS "email?",
                  EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = l.user_id AND g.role = 'admin') AS "admin!",
                  array(SELECT id FROM mine ORDER BY name) AS "team_ids!",
                  array(SELECT slug FROM mine ORDER BY name) AS "team_slugs!",
                  array(SELECT name FROM mine ORDER BY name) AS "team_names!",
                  array(SELECT role FROM mine ORDER BY name) AS "team_roles!: Vec<TeamRole>",
                  st.slug AS "service_team_slug?", st.name AS "service_team_name?"
           FROM live l LEFT JOIN users u ON u.id = l.user_id LEFT JOIN teams st ON st.id = l.team_id
                LEFT JOIN users a ON a.id = l.actor_id
           WHERE l.user_id IS NULL OR u.last_login_at > now() - make_interval(days => $2)"#,
        token_hash,
        owner_idle_days
    )
    .fetch_optional(db)
    .await
}

/// Marks a token used now.
#[tracing::instrument(level = "debug", name = "iam.repo.touch_token", skip_all)]
pub async fn touch_token(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE api_tokens SET last_used_at = now() WHERE id = $1", id).execute(db).await?;
    Ok(())
}

/// Whether a session is still live (not ended, not expired), without marking it seen.
#[tracing::instrument(level = "debug", name = "iam.repo.session_is_live", skip_all)]
pub async fn session_is_live(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM user_sessions WHERE id = $1 AND ended_at IS NULL AND expires_at > now()) AS "live!""#, id)
        .fetch_one(db)
        .await
}

/// Whether a token is still live (not revoked, not expired).
#[tracing::instrument(level = "debug", name = "iam.repo.token_is_live", skip_all)]
pub async fn token_is_live(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()) AS "live!""#, id)
        .fetch_one(db)
        .await
}
