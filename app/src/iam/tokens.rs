//! API tokens: personal (a person's rights, narrowed to scopes) and service (a team's,
//! created by an admin). The secret is shown once; only its SHA-256 is stored.
use super::principal::{Principal, Via};
use super::types::{
    parse_token_days, parse_token_name, NewToken, Role, Scope, TeamId, TeamMembership, TeamRole, TokenView, UserId,
};
use crate::audit::service::{self as audit, Actor, Change};
use crate::context::RequestMeta;
use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Denied(#[from] AppError),
}

impl TokenError {
    pub fn into_app(self) -> AppError {
        match self {
            TokenError::Denied(e) => e,
            other => AppError::internal(other),
        }
    }
}

fn invalid(field: &str, message: String) -> TokenError {
    TokenError::Denied(AppError::Invalid { field: field.into(), message })
}

/// Every token starts with this, so secret scanners can find leaked ones.
pub const PREFIX: &str = "sy_";

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{PREFIX}{}", hex::encode(bytes))
}

struct Row {
    id: Uuid,
    name: String,
    kind: String,
    owner: Option<String>,
    team: Option<String>,
    scopes: Vec<String>,
    token_prefix: String,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

fn view(r: Row) -> TokenView {
    TokenView {
        id: r.id,
        name: r.name,
        kind: r.kind,
        owner: r.owner,
        team: r.team,
        scopes: r.scopes.iter().filter_map(|s| Scope::parse(s).ok()).collect(),
        prefix: r.token_prefix,
        created_at: r.created_at,
        expires_at: r.expires_at,
        last_used_at: r.last_used_at,
        revoked_at: r.revoked_at,
    }
}

/// What to create: a personal token, or a service token for the team with this slug.
pub struct Request<'a> {
    pub name: &'a str,
    pub team: Option<&'a str>,
    pub scopes: &'a [String],
    pub days: i64,
}

/// Creates a token. Personal: for oneself, with at most one's own rights (the admin scope only
/// for admins). Service: admins only, for a team. Audited without the secret.
#[tracing::instrument(skip(pool, principal, req), fields(user = %principal.username), err)]
pub async fn create(pool: &PgPool, principal: &Principal, req: Request<'_>, meta: &RequestMeta) -> Result<NewToken, TokenError> {
    principal.require_session()?;
    let name = parse_token_name(req.name).map_err(|m| invalid("name", m))?;
    let days = parse_token_days(req.days).map_err(|m| invalid("days", m))?;
    let mut scopes: Vec<Scope> = Vec::new();
    for s in req.scopes {
        let scope = Scope::parse(s).map_err(|m| invalid("scopes", m))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(invalid("scopes", "choose at least one scope".into()));
    }
    if scopes.contains(&Scope::Admin) && !principal.is_admin() {
        return Err(invalid("scopes", "only admins may give a token the admin scope".into()));
    }
    let team: Option<(Uuid, String, String)> = match req.team.map(str::trim).filter(|t| !t.is_empty()) {
        Some(slug) => {
            principal.require_admin()?;
            let t = sqlx::query!("SELECT id, slug, name FROM teams WHERE slug = $1", slug)
                .fetch_optional(pool)
                .await?
                .ok_or_else(|| invalid("team", format!("there is no team \"{slug}\"")))?;
            Some((t.id, t.slug, t.name))
        }
        None => None,
    };
    let secret = new_secret();
    let scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let expires_at = Utc::now() + Duration::days(days);
    let prefix: String = secret.chars().take(PREFIX.len() + 6).collect();
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    // a service token acts as itself (on behalf of its team), never as the admin creating it
    let actor: Option<Uuid> = match &team {
        Some((_, slug, team_name)) => Some(
            sqlx::query_scalar!(
                r#"INSERT INTO users (issuer, subject, username, name, kind)
                   VALUES ('switchyard:service-token', $1, $2, $3, 'service_token') RETURNING id"#,
                id.to_string(),
                format!("token:{slug}/{name}"),
                format!("{name} ({team_name} service token)")
            )
            .fetch_one(&mut *tx)
            .await?,
        ),
        None => None,
    };
    sqlx::query!(
        r#"INSERT INTO api_tokens (id, name, kind, user_id, team_id, scopes, token_hash, token_prefix, created_by, expires_at, actor_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        id,
        name,
        if team.is_some() { "service" } else { "personal" },
        if team.is_some() { None } else { Some(principal.user_id.0) },
        team.as_ref().map(|t| t.0),
        &scope_names,
        hash(&secret),
        prefix,
        principal.user_id.0,
        expires_at,
        actor
    )
    .execute(&mut *tx)
    .await?;
    let change = Change {
        action: "token.created",
        subject_kind: "api_token",
        subject_id: id.to_string(),
        before: None,
        after: Some(json!({ "name": name, "team": req.team, "scopes": scope_names, "expires_at": expires_at })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    let token = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(NewToken { secret, token })
}

async fn one(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<TokenView, sqlx::Error> {
    let row = sqlx::query_as!(
        Row,
        r#"SELECT k.id, k.name, k.kind, u.username AS "owner?", t.slug AS "team?", k.scopes, k.token_prefix,
                  k.created_at, k.expires_at, k.last_used_at, k.revoked_at
           FROM api_tokens k LEFT JOIN users u ON u.id = k.user_id LEFT JOIN teams t ON t.id = k.team_id
           WHERE k.id = $1"#,
        id
    )
    .fetch_one(conn)
    .await?;
    Ok(view(row))
}

/// One's own personal tokens; admins, with `everyone`, all tokens.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(pool: &PgPool, principal: &Principal, everyone: bool) -> Result<Vec<TokenView>, TokenError> {
    principal.require_session()?;
    if everyone {
        principal.require_admin()?;
    }
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT k.id, k.name, k.kind, u.username AS "owner?", t.slug AS "team?", k.scopes, k.token_prefix,
                  k.created_at, k.expires_at, k.last_used_at, k.revoked_at
           FROM api_tokens k LEFT JOIN users u ON u.id = k.user_id LEFT JOIN teams t ON t.id = k.team_id
           WHERE $1 OR k.user_id = $2
           ORDER BY k.created_at DESC LIMIT 500"#,
        everyone,
        principal.user_id.0
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Revokes a token: one's own personal token, or any token for an admin.
#[tracing::instrument(skip(pool, principal), fields(user = %principal.username), err)]
pub async fn revoke(pool: &PgPool, principal: &Principal, id: Uuid, meta: &RequestMeta) -> Result<(), TokenError> {
    principal.require_session()?;
    let mut tx = pool.begin().await?;
    let owner = sqlx::query_scalar!(
        r#"UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING user_id"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(TokenError::Denied(AppError::NotFound("That token".into())))?;
    match owner {
        Some(user) => principal.require_self_or_admin(UserId(user))?,
        None => principal.require_admin()?,
    }
    let change = Change { action: "token.revoked", subject_kind: "api_token", subject_id: id.to_string(), before: None, after: None };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// The principal behind a bearer token, when it is live (not revoked, not expired, and for a
/// personal token, its owner signed in within `owner_idle_days`: roles and teams are the ones
/// of that sign-in, so a person who left stops acting through their tokens), read with its
/// owner's roles and teams in one query; marks it used, to the minute (a busy CI token then
/// costs a read, not a write, per request).
pub async fn authenticate(pool: &PgPool, secret: &str, owner_idle_days: i32) -> Result<Option<Principal>, sqlx::Error> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(t) = sqlx::query!(
        r#"WITH live AS (
               SELECT id, name, user_id, team_id, scopes, actor_id, last_used_at FROM api_tokens
               WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()),
           touched AS (
               UPDATE api_tokens SET last_used_at = now() FROM live
               WHERE api_tokens.id = live.id AND (live.last_used_at IS NULL OR live.last_used_at < now() - interval '1 minute')),
           mine AS (
               SELECT t.id, t.slug, t.name, tm.role FROM live
               JOIN team_members tm ON tm.user_id = live.user_id JOIN teams t ON t.id = tm.team_id)
           SELECT l.id AS "id!", l.name AS "name!", l.user_id, l.team_id, l.scopes AS "scopes!", l.actor_id,
                  a.username AS "actor_username?", a.name AS "actor_name?",
                  u.username AS "username?", u.name AS "user_name?", u.email AS "email?",
                  EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = l.user_id AND g.role = 'admin') AS "admin!",
                  array(SELECT id FROM mine ORDER BY name) AS "team_ids!",
                  array(SELECT slug FROM mine ORDER BY name) AS "team_slugs!",
                  array(SELECT name FROM mine ORDER BY name) AS "team_names!",
                  array(SELECT role FROM mine ORDER BY name) AS "team_roles!",
                  st.slug AS "service_team_slug?", st.name AS "service_team_name?"
           FROM live l LEFT JOIN users u ON u.id = l.user_id LEFT JOIN teams st ON st.id = l.team_id
                LEFT JOIN users a ON a.id = l.actor_id
           WHERE l.user_id IS NULL OR u.last_login_at > now() - make_interval(days => $2)"#,
        hash(secret),
        owner_idle_days
    )
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let scopes: Vec<Scope> = t.scopes.iter().filter_map(|s| Scope::parse(s).ok()).collect();
    let via = Via::Token { token_id: t.id, scopes };
    if let (Some(user), Some(username)) = (t.user_id, t.username) {
        let teams = t
            .team_ids
            .into_iter()
            .zip(t.team_slugs)
            .zip(t.team_names)
            .zip(t.team_roles)
            .map(|(((id, slug), name), role)| TeamMembership {
                team_id: TeamId(id),
                slug,
                name,
                role: TeamRole::parse(&role).unwrap_or(TeamRole::Member),
            })
            .collect();
        let mut roles = vec![Role::Viewer];
        if t.admin {
            roles.push(Role::Admin);
        }
        return Ok(Some(Principal {
            user_id: UserId(user),
            username,
            name: t.user_name.unwrap_or_default(),
            email: t.email.unwrap_or_default(),
            roles,
            teams,
            via,
        }));
    }
    let (Some(team_id), Some(slug), Some(team_name), Some(actor), Some(username)) =
        (t.team_id, t.service_team_slug, t.service_team_name, t.actor_id, t.actor_username)
    else {
        return Ok(None);
    };
    Ok(Some(Principal {
        // a service token is an actor of its own, acting for its team
        user_id: UserId(actor),
        username,
        name: t.actor_name.unwrap_or_default(),
        email: String::new(),
        roles: vec![Role::Viewer],
        teams: vec![TeamMembership { team_id: TeamId(team_id), slug, name: team_name, role: TeamRole::Member }],
        via,
    }))
}
