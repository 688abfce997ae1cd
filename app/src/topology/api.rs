//! Topology server functions (context in, one service call, a DTO out), and what a topology
//! error is at the edge.
use super::types::{CircuitDetail, DeviceDetail, DevicePage, Overview, PartnerDetail, Paths, SiteDetail};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
impl From<super::service::TopologyError> for AppError {
    fn from(e: super::service::TopologyError) -> Self {
        use super::service::TopologyError as E;
        match e {
            E::Refused(r) => r.into(),
            e @ (E::Database(_) | E::Drawing(_)) => AppError::internal(e),
        }
    }
}

#[cfg(feature = "ssr")]
fn fail(e: super::service::TopologyError) -> AppError {
    crate::context::respond(e.into())
}

/// The topology page: the overview, the findings and the lists (the interactive view reads
/// `/api/v1/topology/graph` itself).
#[server(endpoint = "topology/overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::overview(&pool, &principal).await.map_err(fail)
}

/// A device's page.
#[server(endpoint = "topology/device")]
pub async fn get_device(name: String) -> Result<DeviceDetail, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::device(&pool, &principal, &name).await.map_err(fail)
}

/// A site's page.
#[server(endpoint = "topology/site")]
pub async fn get_site(name: String) -> Result<SiteDetail, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::site(&pool, &principal, &name).await.map_err(fail)
}

/// A partner's page.
#[server(endpoint = "topology/partner")]
pub async fn get_partner(name: String) -> Result<PartnerDetail, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::partner(&pool, &principal, &name).await.map_err(fail)
}

/// A circuit's page.
#[server(endpoint = "topology/circuit")]
pub async fn get_circuit(provider: String, cid: String) -> Result<CircuitDetail, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::circuit(&pool, &principal, &provider, &cid).await.map_err(fail)
}

/// The paths page: the paths between two devices (or a device and a partner), shortest first.
#[server(endpoint = "topology/paths")]
pub async fn find_paths(from: String, to: String) -> Result<Paths, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::paths(&pool, &principal, from.trim(), to.trim(), 10).await.map_err(fail)
}

/// The devices list: a page for the list page's query string (`site`, `role`, `q`, `after`).
#[server(endpoint = "topology/devices")]
pub async fn list_devices(query: String) -> Result<DevicePage, AppError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let q = super::types::DeviceQuery::parse(|k| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()))
        .map_err(|p| crate::context::respond(p.into()))?;
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::devices(&pool, &principal, &q).await.map_err(fail)
}
