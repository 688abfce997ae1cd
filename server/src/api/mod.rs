//! The REST API under `/api/v1`: JSON over the same services the server functions call, and
//! its OpenAPI 3.1 document, generated from these handlers.
mod approvals;
mod calendar;
mod catalog;
mod deploys;
mod error;
mod integrations;
mod me;
mod topology;
pub mod reference;

pub use calendar::calendar_ics as calendar_feed;
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
        (name = "calendar", description = "The change calendar: freezes, maintenance and critical integrations' runs, with their clashes, as JSON and iCalendar"),
        (name = "catalog", description = "The catalog in Backstage's shapes: entities, facets, import and export"),
        (name = "deploys", description = "Deploys: kick off (idempotent), read, list, cancel; events from the CD system"),
        (name = "integrations", description = "Integrations between business systems: run events in as OpenLineage, health, runs and systems out"),
        (name = "topology", description = "The network: drawings in (GraphML) and BGP states in; the drawn network, single points of failure, paths and each partner's redundancy out"),
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
                .routes(routes!(calendar::calendar))
                .routes(routes!(calendar::calendar_ics))
                .routes(routes!(catalog::list_entities))
                .routes(routes!(catalog::entity_by_name))
                .routes(routes!(catalog::entity_as_of))
                .routes(routes!(catalog::entity_facets))
                .routes(routes!(catalog::import_files))
                .routes(routes!(catalog::import_job))
                .routes(routes!(catalog::export_catalog))
                .routes(routes!(deploys::create_deploy, deploys::list_deploys))
                .routes(routes!(deploys::get_deploy))
                .routes(routes!(deploys::cancel_deploy))
                .routes(routes!(deploys::environments))
                .routes(routes!(deploys::set_policies))
                .routes(routes!(integrations::list_integrations, integrations::register_integration))
                .routes(routes!(integrations::get_integration, integrations::edit_integration))
                .routes(routes!(integrations::list_runs))
                .routes(routes!(integrations::unregistered_jobs))
                .routes(routes!(integrations::get_run))
                .routes(routes!(integrations::list_systems, integrations::create_system))
                .routes(routes!(integrations::get_system, integrations::edit_system))
                .routes(routes!(integrations::system_as_of))
                .routes(routes!(integrations::integration_as_of))
                .routes(routes!(integrations::system_map))
                .routes(routes!(topology::import_graphml))
                .routes(routes!(topology::single_points_of_failure))
                .routes(routes!(topology::paths))
                .routes(routes!(topology::blast_radius))
                .routes(routes!(topology::service_network))
                .routes(routes!(topology::partner_redundancy))
                .routes(routes!(topology::report_session_states))
                .routes(routes!(topology::bgp_session, topology::remove_session))
                .routes(routes!(topology::graph))
                .routes(routes!(topology::start_netbox_sync))
                .routes(routes!(topology::netbox_sync))
                .routes(routes!(topology::devices))
                .routes(routes!(topology::device, topology::edit_device))
                .routes(routes!(topology::device_as_of))
                .routes(routes!(topology::interface_states))
                .routes(routes!(topology::report_interface_states))
                .routes(routes!(topology::maintenance, topology::plan_maintenance))
                .routes(routes!(topology::cancel_maintenance))
                .routes(routes!(topology::remove_link))
                .routes(routes!(topology::sites))
                .routes(routes!(topology::site))
                .routes(routes!(topology::partners))
                .routes(routes!(topology::partner))
                .routes(routes!(topology::partner_as_of))
                .routes(routes!(topology::circuits))
                .routes(routes!(topology::circuit))
                .routes(routes!(topology::links))
                .routes(routes!(topology::providers))
                .routes(routes!(topology::bgp_sessions))
                .routes(routes!(topology::risk_groups))
                .routes(routes!(topology::save_risk_group, topology::remove_risk_group)),
        )
        .split_for_parts();
    // run events: gzip bodies are undone before the handler reads (and limits) them
    let (lineage, lineage_doc) = OpenApiRouter::new()
        .nest(
            "/api/v1",
            OpenApiRouter::new().routes(routes!(integrations::lineage_event)).routes(routes!(integrations::lineage_batch)),
        )
        .split_for_parts();
    let authenticated = authenticated.merge(lineage.layer(tower_http::decompression::RequestDecompressionLayer::new()));
    doc.merge(lineage_doc);
    let (signed, signed_doc) = OpenApiRouter::new()
        .nest("/api/v1", OpenApiRouter::new().routes(routes!(deploys::deploy_event)))
        .split_for_parts();
    document_refusals(&mut doc, Refusals::Principal);
    let mut signed_doc = signed_doc;
    document_refusals(&mut signed_doc, Refusals::Signed);
    doc.merge(signed_doc);
    Api { authenticated, signed, doc }
}

/// How a group of routes can refuse a request, whatever the handler does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Refusals {
    /// A session or a token: none (401) or one without the right (403).
    Principal,
    /// A signed machine-to-machine call: a bad signature (401).
    Signed,
}

/// Adds to every operation the refusals the middleware and extractors can answer before (or
/// besides) its handler, each with the API's error body — so the document lists every status
/// each route can answer: 400 (a path, query or body that does not parse), 401, 403 for callers
/// with a principal, 408 (over the request time limit) and 500.
fn document_refusals(doc: &mut utoipa::openapi::OpenApi, group: Refusals) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
                .build(),
        )
    };
    let mut refusals = vec![
        ("400", "A path segment, query or body that does not parse"),
        ("401", if group == Refusals::Signed { "No signature, or one that does not verify" } else { "No credential, or one that is not valid" }),
        ("408", "Over the request time limit"),
        ("500", "Internal error: the request id finds it in the server's log"),
    ];
    if group == Refusals::Principal {
        refusals.push(("403", "The caller may not do this (a role, a team or a token's scope is missing, or a cross-site request)"));
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten() {
            let mut own = refusals.clone();
            if path.contains('{') {
                own.push(("404", "Nothing has that id or name"));
            }
            if let Some(body) = &op.request_body {
                own.push(("413", "A body over the size limit"));
                if body.content.contains_key("application/json") {
                    own.push(("415", "A body that is not `application/json`"));
                }
            }
            for (status, description) in own {
                op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
            }
        }
    }
}

