//! The REST API under `/api/v1`: JSON over the same services the server functions call, and
//! its OpenAPI 3.1 document, generated from these handlers.
mod approvals;
mod catalog;
mod deploys;
mod error;
mod me;
pub mod reference;

pub use error::{ApiError, Caller};

use crate::startup::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "The internal developer platform's API. Authenticate with a personal or service \
                       token (`Authorization: Bearer …`), or with a browser session plus a same-site \
                       `Origin` for state-changing calls. Errors are `{error: {code, message, request_id}}`."
    ),
    modifiers(&Security),
    tags(
        (name = "identity", description = "Who is calling"),
        (name = "approvals", description = "The approval engine: requests and decisions"),
        (name = "catalog", description = "The catalog in Backstage's shapes: entities, facets, import and export"),
        (name = "deploys", description = "Deploys: kick off (idempotent), read, list, cancel; events from the CD system"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("opaque").build()),
        );
    }
}

/// The API's routes by how they authenticate, and the OpenAPI document that describes exactly
/// them.
pub struct Api {
    /// Called with a session or a token (`startup::Access::Principal`).
    pub authenticated: axum::Router<AppState>,
    /// Called by machines that sign each request (`startup::Access::Signed`).
    pub signed: axum::Router<AppState>,
    pub doc: utoipa::openapi::OpenApi,
}

pub fn router() -> Api {
    let (authenticated, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .routes(routes!(me::get_me))
                .routes(routes!(approvals::list_approvals))
                .routes(routes!(approvals::get_approval))
                .routes(routes!(approvals::approve))
                .routes(routes!(approvals::reject))
                .routes(routes!(catalog::list_entities))
                .routes(routes!(catalog::entity_by_name))
                .routes(routes!(catalog::entity_facets))
                .routes(routes!(catalog::import_files))
                .routes(routes!(catalog::export_catalog))
                .routes(routes!(deploys::create_deploy, deploys::list_deploys))
                .routes(routes!(deploys::get_deploy))
                .routes(routes!(deploys::cancel_deploy)),
        )
        .split_for_parts();
    let (signed, signed_doc) = OpenApiRouter::new()
        .nest("/api/v1", OpenApiRouter::new().routes(routes!(deploys::deploy_event)))
        .split_for_parts();
    doc.merge(signed_doc);
    Api { authenticated, signed, doc }
}
