//! Topology server functions (context in, one service call, a DTO out), and what a topology
//! error is at the edge.
use super::types::{BlastRadius, ServiceNetwork, CircuitDetail, DeviceDetail, DevicePage, Overview, PartnerDetail, Paths, SiteDetail};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
impl From<super::service::TopologyError> for AppError {
    fn from(e: super::service::TopologyError) -> Self {
        use super::service::TopologyError as E;
        match e {
            E::Refused(r) => r.into(),
            E::Approval(e) => e.into(),
            E::Busy(m) => AppError::Conflict(m),
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

/// "If this fails", for a device, link, circuit, BGP session, site, provider, partner or risk
/// group; with `as_of`, as the network was at that past moment.
#[server(endpoint = "topology/blast-radius")]
pub async fn get_blast_radius(kind: String, name: String, as_of: Option<String>) -> Result<BlastRadius, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::blast::blast_radius(&pool, &principal, &kind, &name, as_of.as_deref()).await.map_err(fail)
}

/// What a component needs from the network (the reverse of "if this fails"); with `as_of`, its
/// paths as the network was at that past moment.
#[server(endpoint = "topology/service-network")]
pub async fn get_service_network(namespace: String, name: String, as_of: Option<String>) -> Result<ServiceNetwork, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::blast::service_network(&pool, &principal, &namespace, &name, as_of.as_deref()).await.map_err(fail)
}

/// A device (`kind` device) or a partner (`kind` partner) as the network held it at a past
/// moment, beside now.
#[server(endpoint = "topology/as-of")]
pub async fn get_network_as_of(kind: String, name: String, at: String) -> Result<crate::audit::types::AsOf, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::as_of(&pool, &principal, &kind, &name, &at).await.map_err(fail)
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

/// The partners' names, for the forms that name one (the first 500, by name).
#[server(endpoint = "topology/partner-names")]
pub async fn partner_names() -> Result<Vec<String>, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let page = super::service::partners(&pool, &principal, &super::types::PageQuery { after: None, limit: 500 }).await.map_err(fail)?;
    Ok(page.items.into_iter().map(|p| p.name).collect())
}

/// The change history of a partner and what hangs off it (its systems, their integrations, the
/// maintenance on its path), newest first.
#[server(endpoint = "topology/partner-history")]
pub async fn partner_history(name: String) -> Result<crate::audit::types::LabelledHistory, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    super::service::partner_history(&pool, &principal, &name, 50).await.map_err(fail)
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

/// Whether the signed-in person changes the network (the network team, or an admin): the pages
/// show their forms only then (the services check again).
#[server(endpoint = "topology/may-change")]
pub async fn may_change_network() -> Result<bool, AppError> {
    let principal = crate::context::principal()?;
    Ok(super::service::require_change(&principal).is_ok())
}

/// The page a topology form goes back to: one of the topology's own, never another site.
#[cfg(feature = "ssr")]
fn page_of(back: &str) -> String {
    if back.starts_with("/topology/") && !back.starts_with("//") && !back.contains("://") && !back.contains('\\') {
        back.to_owned()
    } else {
        "/topology".to_owned()
    }
}

/// Puts planned work or a carrier's notice on a device, a site or a circuit (its page's form).
#[server(endpoint = "topology/maintenance-plan")]
#[allow(clippy::too_many_arguments)]
pub async fn plan_maintenance(
    back: String,
    device: String,
    site: String,
    provider: String,
    cid: String,
    kind: String,
    title: String,
    reference: String,
    starts_at: String,
    ends_at: String,
) -> Result<uuid::Uuid, AppError> {
    use super::types::{CircuitName, MaintenanceForm};
    let back = page_of(&back);
    let some = |v: &str| (!v.trim().is_empty()).then(|| v.to_owned());
    let form = MaintenanceForm {
        device: some(&device),
        site: some(&site),
        circuit: (!provider.trim().is_empty() || !cid.trim().is_empty()).then(|| CircuitName { provider: provider.clone(), cid: cid.clone() }),
        kind: some(&kind),
        title: title.clone(),
        reference: some(&reference),
        starts_at: starts_at.clone(),
        ends_at: ends_at.clone(),
    };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    match super::service::changes::plan_maintenance(&pool, &principal, &form, &crate::context::request_meta()).await {
        Ok(w) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("{back}?done=The+window+is+planned%3A+it+is+on+the+freeze+calendar."));
            }
            Ok(w.id)
        }
        Err(e) => {
            let typed = [("kind", kind.as_str()), ("title", title.as_str()), ("reference", reference.as_str()), ("starts_at", starts_at.as_str()), ("ends_at", ends_at.as_str())];
            Err(crate::ui::form::send_back(&back, &typed, e.into()))
        }
    }
}

/// Takes a maintenance window off the calendar (its page's button).
#[server(endpoint = "topology/maintenance-cancel")]
pub async fn cancel_maintenance(back: String, id: uuid::Uuid) -> Result<(), AppError> {
    let back = page_of(&back);
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    match super::service::changes::cancel_maintenance(&pool, &principal, id, &crate::context::request_meta()).await {
        Ok(()) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect(&format!("{back}?done=The+window+is+cancelled."));
            }
            Ok(())
        }
        Err(e) => Err(crate::ui::form::send_back(&back, &[], e.into())),
    }
}

/// After a change on a device's page: back to it, saying what happened.
#[cfg(feature = "ssr")]
fn changed(device: &str, r: Result<super::types::ChangeOutcome, super::service::TopologyError>, typed: &[(&str, &str)]) -> Result<super::types::ChangeOutcome, AppError> {
    let back = format!("/topology/devices/{}", super::pages::seg(device));
    match r {
        Ok(o) => {
            if crate::context::accepts_html() {
                let q: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("done", &o.message).finish();
                leptos_axum::redirect(&format!("{back}?{q}"));
            }
            Ok(o)
        }
        Err(e) => Err(crate::ui::form::send_back(&back, typed, e.into())),
    }
}

/// Edits a device's status, role or PCI scope (its page's form); a device in PCI scope waits
/// for approval.
#[server(endpoint = "topology/device-edit")]
pub async fn edit_device(name: String, status: String, role: String, pci_scope: String, reason: String) -> Result<super::types::ChangeOutcome, AppError> {
    let edit = super::types::DeviceEdit {
        status: Some(status.clone()),
        role: Some(role.clone()),
        platform: None,
        pci_scope: Some(pci_scope == "yes"),
        reason: Some(reason.clone()),
    };
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let r = super::service::changes::edit_device(&pool, &principal, &name, &edit, &crate::context::request_meta()).await;
    changed(&name, r, &[("status", &status), ("role", &role), ("pci_scope", &pci_scope), ("reason", &reason)])
}

/// Removes a link of a device (its page's button); one to a partner waits for approval.
#[server(endpoint = "topology/link-remove")]
pub async fn remove_link(device: String, id: uuid::Uuid, reason: String) -> Result<super::types::ChangeOutcome, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let why = (!reason.trim().is_empty()).then(|| reason.clone());
    let r = super::service::changes::remove_link(&pool, &principal, id, why, &crate::context::request_meta()).await;
    changed(&device, r, &[])
}

/// Removes a BGP session of a device (its page's button); one to a partner waits for approval.
#[server(endpoint = "topology/session-remove")]
pub async fn remove_session(device: String, name: String, reason: String) -> Result<super::types::ChangeOutcome, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    let why = (!reason.trim().is_empty()).then(|| reason.clone());
    let r = super::service::changes::remove_session(&pool, &principal, &name, why, &crate::context::request_meta()).await;
    changed(&device, r, &[])
}

/// The NetBox panel: the NetBox read, the schedule, the latest syncs; none for anyone but an
/// admin (the topology page then shows no panel, and is not refused).
#[server(endpoint = "topology/netbox-panel")]
pub async fn get_netbox_panel() -> Result<Option<super::types::NetboxPanel>, AppError> {
    let principal = crate::context::principal()?;
    if !principal.is_admin() {
        return Ok(None);
    }
    let pool = crate::context::pool()?;
    let syncs = super::service::recent_syncs(&pool, &principal, 5).await.map_err(fail)?;
    let source = use_context::<super::netbox::Source>().ok_or_else(|| AppError::internal("no NetBox source in the context"))?;
    let (url, why_not) = match &source.client {
        Ok(n) => (Some(n.url().to_owned()), None),
        Err(why) => (None, Some(why.clone())),
    };
    Ok(Some(super::types::NetboxPanel { url, why_not, every_secs: (source.every_secs > 0.0).then_some(source.every_secs), syncs }))
}

/// Starts a sync from NetBox (admins), or only a report of what it would change (`dry_run` =
/// `yes`), reading everything when `full` is `yes`; its progress shows on the panel.
#[server(endpoint = "topology/netbox-sync")]
pub async fn start_netbox_sync(dry_run: String, full: Option<String>) -> Result<uuid::Uuid, AppError> {
    let principal = crate::context::principal()?;
    let pool = crate::context::pool()?;
    principal.require_admin().map_err(|e| crate::ui::form::send_back("/topology", &[], e.into()))?;
    let source = use_context::<super::netbox::Source>().ok_or_else(|| AppError::internal("no NetBox source in the context"))?;
    let netbox = source.client.map_err(|why| crate::ui::form::send_back("/topology", &[], AppError::Conflict(why)))?;
    let meta = crate::context::request_meta();
    match super::service::start_netbox_sync(&pool, &principal, netbox, dry_run == "yes", full.as_deref() == Some("yes"), &meta).await {
        Ok(id) => {
            if crate::context::accepts_html() {
                leptos_axum::redirect("/topology#netbox");
            }
            Ok(id)
        }
        Err(e) => Err(crate::ui::form::send_back("/topology", &[], e.into())),
    }
}
