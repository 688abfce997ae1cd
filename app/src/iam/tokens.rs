//! API tokens: personal (a person's rights, narrowed to scopes) and service (a team's,
//! created by an admin). The secret is shown once; only its SHA-256 is stored.
use crate::error::Refusal;
use super::principal::{Principal, Via};
use super::types::{
    parse_token_days, parse_token_name, NewToken, Role, Scope, TeamId, TeamMembership, TeamRole, TokenView, UserId,
};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use super::service::IamError;
use chrono::{Duration, Utc};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;


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


fn view(r: super::repo::TokenRow) -> TokenView {
    TokenView {
        id: r.id,
        name: r.name,
        kind: r.kind,
        owner: r.owner,
        team: r.team,
        scopes: r.scopes,
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
#[tracing::instrument(name = "iam.service.create", skip(pool, principal, req), fields(user = %principal.username), err)]
pub async fn create(pool: &PgPool, principal: &Principal, req: Request<'_>, meta: &RequestMeta) -> Result<NewToken, IamError> {
    principal.require_session()?;
    let name = parse_token_name(req.name).map_err(|m| Refusal::invalid("name", m))?;
    let days = parse_token_days(req.days).map_err(|m| Refusal::invalid("days", m))?;
    let mut scopes: Vec<Scope> = Vec::new();
    for s in req.scopes {
        let scope = Scope::parse(s).map_err(|m| Refusal::invalid("scopes", m))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(Refusal::invalid("scopes", "choose at least one scope").into());
    }
    for machine in [Scope::Ingest, Scope::NetworkState] {
        if scopes.contains(&machine) && req.team.is_none_or(|t| t.trim().is_empty()) {
            return Err(Refusal::invalid("scopes", format!("the {} scope is for a team's service token: name the team", machine.as_str())).into());
        }
    }
    if scopes.contains(&Scope::Admin) && !principal.is_admin() {
        return Err(Refusal::invalid("scopes", "only admins may give a token the admin scope").into());
    }
    let team: Option<(Uuid, String, String)> = match req.team.map(str::trim).filter(|t| !t.is_empty()) {
        Some(slug) => {
            principal.require_admin()?;
            let t = super::repo::team_by_slug(pool, slug).await?.ok_or_else(|| Refusal::invalid("team", format!("there is no team \"{slug}\"")))?;
            Some(t)
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
            super::repo::insert_service_actor(&mut *tx, id, &format!("token:{slug}/{name}"), &format!("{name} ({team_name} service token)"))
                .await?,
        ),
        None => None,
    };
    let row = super::repo::NewTokenRow {
        id,
        name: &name,
        kind: if team.is_some() { "service" } else { "personal" },
        user_id: if team.is_some() { None } else { Some(principal.user_id.0) },
        team_id: team.as_ref().map(|t| t.0),
        scopes: &scope_names,
        token_hash: &hash(&secret),
        token_prefix: &prefix,
        created_by: principal.user_id.0,
        expires_at,
        actor_id: actor,
    };
    super::repo::insert_token(&mut *tx, &row).await?;
    let change = Change {
        action: "token.created",
        subject_kind: SubjectKind::ApiToken,
        subject_id: id.to_string(),
        before: None,
        after: Some(json!({ "name": name, "team": req.team, "scopes": scope_names, "expires_at": expires_at })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    let token = one(&mut tx, id).await?;
    tx.commit().await?;
    Ok(NewToken { secret, token })
}

async fn one(conn: &mut sqlx::PgConnection, id: Uuid) -> Result<TokenView, IamError> {
    let row = super::repo::tokens(conn, Some(id), false, Uuid::nil()).await?.pop();
    row.map(view).ok_or(Refusal::not_found("That token").into())
}

/// One's own personal tokens; admins, with `everyone`, all tokens.
#[tracing::instrument(name = "iam.service.list", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(pool: &PgPool, principal: &Principal, everyone: bool) -> Result<Vec<TokenView>, IamError> {
    principal.require_session()?;
    if everyone {
        principal.require_admin()?;
    }
    let mut conn = pool.acquire().await?;
    let rows = super::repo::tokens(&mut conn, None, everyone, principal.user_id.0).await?;
    Ok(rows.into_iter().map(view).collect())
}

/// Revokes a token: one's own personal token, or any token for an admin.
#[tracing::instrument(name = "iam.service.revoke", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn revoke(pool: &PgPool, principal: &Principal, id: Uuid, meta: &RequestMeta) -> Result<(), IamError> {
    principal.require_session()?;
    let mut tx = pool.begin().await?;
    let owner = super::repo::revoke_token(&mut *tx, id).await?.ok_or(Refusal::not_found("That token"))?;
    match owner {
        Some(user) => principal.require_self_or_admin(UserId(user))?,
        None => principal.require_admin()?,
    }
    let change = Change { action: "token.revoked", subject_kind: SubjectKind::ApiToken, subject_id: id.to_string(), before: None, after: None };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// The principal behind a bearer token, when it is live (not revoked, not expired, and for a
/// personal token, its owner signed in within `owner_idle_days`: roles and teams are the ones
/// of that sign-in, so a person who left stops acting through their tokens), read with its
/// owner's roles and teams in one query; marks it used, to the minute (a busy CI token then
/// costs a read, not a write, per request, and the read is a plain read).
pub async fn authenticate(pool: &PgPool, secret: &str, owner_idle_days: i32) -> Result<Option<Principal>, sqlx::Error> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(t) = super::repo::live_token(pool, &hash(secret), owner_idle_days).await? else {
        return Ok(None);
    };
    // marked used to the minute: a busy CI token costs a read per request, and a write a minute
    if t.last_used_at.is_none_or(|at| at < chrono::Utc::now() - chrono::Duration::minutes(1)) {
        super::repo::touch_token(pool, t.id).await?;
    }
    let via = Via::Token { token_id: t.id, scopes: t.scopes };
    if let (Some(user), Some(username)) = (t.user_id, t.username) {
        let teams = t
            .team_ids
            .into_iter()
            .zip(t.team_slugs)
            .zip(t.team_names)
            .zip(t.team_roles)
            .map(|(((id, slug), name), role)| TeamMembership { team_id: TeamId(id), slug, name, role })
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
