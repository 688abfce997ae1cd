//! Identity server functions.
use super::types::{Me, NewToken, SessionInfo, TeamDetail, TokenView};
use crate::error::AppError;
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
impl From<super::service::IamError> for AppError {
    fn from(e: super::service::IamError) -> Self {
        use super::service::IamError as E;
        match e {
            E::Refused(r) => r.into(),
            E::Approval(e) => e.into(),
            e @ (E::NoUsername | E::Database(_)) => AppError::internal(e),
        }
    }
}

/// Asks to be made an admin (an approval request any admin may decide).
#[server(endpoint = "approvals/request-admin")]
pub async fn request_admin_role(reason: String) -> Result<crate::approvals::types::ApprovalId, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::approval::request_admin_role(&pool, &principal, &reason, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// The signed-in person.
#[server(endpoint = "iam/me")]
pub async fn get_me() -> Result<Me, AppError> {
    let principal = crate::context::principal()?;
    Ok(principal.me())
}

/// Live sessions: one's own, or everyone's (admins).
#[server(endpoint = "iam/sessions")]
pub async fn list_sessions(everyone: bool) -> Result<Vec<SessionInfo>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::list_sessions(&pool, &principal, everyone)
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// Ends a session: one's own, or anyone's (admins).
#[server(endpoint = "iam/end-session")]
pub async fn end_session(id: Uuid) -> Result<(), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let meta = crate::context::request_meta();
    super::service::end_session(&pool, &principal, id, &meta)
        .await
        .map(|_| ())
        .map_err(|e| crate::context::respond(e.into()))
}

/// Creates an API token; with `team`, a service token for that team (admins). Each scope is a
/// checkbox (present = granted). The secret is in the answer once.
#[server(endpoint = "iam/create-token")]
#[allow(clippy::too_many_arguments)]
pub async fn create_token(
    name: String,
    team: Option<String>,
    read: Option<String>,
    write: Option<String>,
    deploy: Option<String>,
    admin: Option<String>,
    ingest: Option<String>,
    network_state: Option<String>,
    days: i64,
) -> Result<NewToken, AppError> {
    let scopes: Vec<String> = [("read", read), ("write", write), ("deploy", deploy), ("admin", admin), ("ingest", ingest), ("network-state", network_state)]
        .into_iter()
        .filter(|(_, on)| on.is_some())
        .map(|(s, _)| s.to_owned())
        .collect();
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let request = super::tokens::Request { name: &name, team: team.as_deref(), scopes: &scopes, days };
    super::tokens::create(&pool, &principal, request, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// One's own tokens, or (admins) everyone's.
#[server(endpoint = "iam/tokens")]
pub async fn list_tokens(everyone: bool) -> Result<Vec<TokenView>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::tokens::list(&pool, &principal, everyone)
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

#[server(endpoint = "iam/revoke-token")]
pub async fn revoke_token(id: Uuid) -> Result<(), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::tokens::revoke(&pool, &principal, id, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// Every team with its members.
#[server(endpoint = "iam/teams")]
pub async fn list_teams() -> Result<Vec<TeamDetail>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::teams::list(&pool, &principal).await.map_err(|e| crate::context::respond(e.into()))
}

/// Creates a team (admins).
#[server(endpoint = "iam/create-team")]
pub async fn create_team(slug: String, name: String, description: String) -> Result<(), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::teams::create(&pool, &principal, &slug, &name, &description, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// Adds someone to a team or changes their role (admins).
#[server(endpoint = "iam/set-member")]
pub async fn set_team_member(team: String, username: String, role: String) -> Result<(), AppError> {
    use super::types::TeamRole;
    let role = TeamRole::parse(&role).map_err(|message| crate::context::respond(AppError::Invalid { field: "role".into(), message }))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::teams::set_member(&pool, &principal, &team, &username, role, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}

/// Removes a manually added member (admins).
#[server(endpoint = "iam/remove-member")]
pub async fn remove_team_member(team: String, username: String) -> Result<(), AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::teams::remove_member(&pool, &principal, &team, &username, &crate::context::request_meta())
        .await
        .map_err(|e| crate::context::respond(e.into()))
}
