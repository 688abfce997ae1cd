use super::error::{ApiError, Caller, ErrorBody};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub id: uuid::Uuid,
    pub username: String,
    pub name: String,
    pub email: String,
    /// `viewer` always; `admin` for administrators.
    pub roles: Vec<String>,
    pub teams: Vec<TeamRef>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamRef {
    pub slug: String,
    pub name: String,
    /// `member` or `lead`.
    pub role: String,
}

/// The caller: who they are, their roles and their teams.
#[utoipa::path(
    get,
    path = "/me",
    tag = "identity",
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "Not signed in and no token", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn get_me(caller: Caller) -> Result<Json<MeResponse>, ApiError> {
    let me = caller.principal.me();
    Ok(Json(MeResponse {
        id: me.id.0,
        username: me.username,
        name: me.name,
        email: me.email,
        roles: me.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        teams: me
            .teams
            .into_iter()
            .map(|t| TeamRef { slug: t.slug, name: t.name, role: t.role.as_str().to_owned() })
            .collect(),
    }))
}
