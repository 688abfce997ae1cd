//! Teams as admins manage them: create, add or change a member, remove a member. Memberships
//! that come from directory groups are the directory's to change.
use crate::error::Refusal;
use super::principal::Principal;
use super::types::{parse_team_slug, TeamDetail, TeamMember, TeamRole};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use super::service::IamError;
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;


async fn team_and_user(
    conn: &mut sqlx::PgConnection,
    team: &str,
    username: &str,
) -> Result<(uuid::Uuid, super::types::UserId), IamError> {
    let team_id = super::repo::team_id(&mut *conn, team)
        .await?
        .ok_or_else(|| Refusal::invalid("team", format!("there is no team \"{team}\"")))?;
    // never a guess between two people who share a name: the email tells them apart
    match super::repo::people_named(&mut *conn, username.trim()).await?.as_slice() {
        [user] => Ok((team_id, *user)),
        [] => Err(Refusal::invalid("username", format!("nobody called \"{username}\" has signed in to Switchyard yet")).into()),
        _ => Err(Refusal::invalid("username", format!("more than one person is called \"{username}\": give their email instead")).into()),
    }
}

/// Every team with its members (everyone may read).
#[tracing::instrument(name = "iam.service.list", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn list(pool: &PgPool, principal: &Principal) -> Result<Vec<TeamDetail>, IamError> {
    principal.require_read()?;
    let teams = super::repo::teams_with_members(pool).await?;
    let mut by_slug: BTreeMap<String, TeamDetail> = BTreeMap::new();
    for row in teams {
        let team = by_slug.entry(row.slug.clone()).or_insert_with(|| TeamDetail {
            slug: row.slug.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            members: Vec::new(),
        });
        if let (Some(username), Some(role), Some(source)) = (row.username, row.role, row.source) {
            team.members.push(TeamMember {
                username,
                name: row.member_name.unwrap_or_default(),
                role,
                source,
            });
        }
    }
    let mut list: Vec<TeamDetail> = by_slug.into_values().collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// Creates a team (admins).
#[tracing::instrument(name = "iam.service.create", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn create(
    pool: &PgPool,
    principal: &Principal,
    slug: &str,
    name: &str,
    description: &str,
    meta: &RequestMeta,
) -> Result<(), IamError> {
    principal.require_admin()?;
    let slug = parse_team_slug(slug).map_err(|m| Refusal::invalid("slug", m))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Refusal::invalid("name", "give the team a name of 1 to 100 characters").into());
    }
    let mut tx = pool.begin().await?;
    if !super::repo::insert_team(&mut *tx, &slug, name, description.trim()).await? {
        return Err(Refusal::invalid("slug", format!("a team \"{slug}\" exists already")).into());
    }
    let change = Change {
        action: "team.created",
        subject_kind: SubjectKind::Team,
        subject_id: slug.clone(),
        before: None,
        after: Some(json!({ "slug": slug, "name": name, "description": description.trim() })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a person to a team, or changes their role there (admins). The person must have signed
/// in once, so Switchyard knows them.
#[tracing::instrument(name = "iam.service.set_member", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn set_member(
    pool: &PgPool,
    principal: &Principal,
    team: &str,
    username: &str,
    role: TeamRole,
    meta: &RequestMeta,
) -> Result<(), IamError> {
    principal.require_admin()?;
    let username = username.trim();
    let mut tx = pool.begin().await?;
    let (team_id, user) = team_and_user(&mut tx, team, username).await?;
    let before = super::repo::membership(&mut *tx, team_id, user).await?;
    if before.as_ref().is_some_and(|(_, source)| source == "idp") {
        return Err(Refusal::invalid("username", format!("{username} is in {team} through a directory group; change it in the directory")).into());
    }
    super::repo::upsert_manual_member(&mut *tx, team_id, user, role).await?;
    let change = Change {
        action: "team.member_set",
        subject_kind: SubjectKind::Team,
        subject_id: team.to_owned(),
        before: before.map(|(r, _)| json!({ "username": username, "role": r })),
        after: Some(json!({ "username": username, "role": role.as_str() })),
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a manually added member (admins).
#[tracing::instrument(name = "iam.service.remove_member", skip(pool, principal), fields(user = %principal.username), err)]
pub async fn remove_member(
    pool: &PgPool,
    principal: &Principal,
    team: &str,
    username: &str,
    meta: &RequestMeta,
) -> Result<(), IamError> {
    principal.require_admin()?;
    let mut tx = pool.begin().await?;
    let (team_id, user) = team_and_user(&mut tx, team, username).await?;
    let Some((role, source)) = super::repo::membership(&mut *tx, team_id, user).await? else {
        return Err(Refusal::invalid("username", format!("{username} is not in {team}")).into());
    };
    if source == "idp" {
        return Err(Refusal::invalid("username", format!("{username} is in {team} through a directory group; change it in the directory")).into());
    }
    super::repo::delete_member(&mut *tx, team_id, user).await?;
    let change = Change {
        action: "team.member_removed",
        subject_kind: SubjectKind::Team,
        subject_id: team.to_owned(),
        before: Some(json!({ "username": username, "role": role })),
        after: None,
    };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}
