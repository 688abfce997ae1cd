//! Topology rules: who changes the network (the network team, or an admin), a GraphML drawing
//! imported in one transaction with its audit row (or, dry, rolled back), and what the
//! network's shape says, read in three statements whatever its size; BGP session states as a
//! collector reports them, each change kept with its time.
pub mod blast;
pub mod changes;
pub mod preflight;
mod then;
pub use then::as_of;

use crate::topology::graphml;
use crate::topology::layout::{lay_out, Join, Place};
use crate::topology::netbox::{self, NetBox, KINDS as NETBOX_KINDS};
use crate::topology::repo::{self, ShapeCircuit, DrawnDevice, DrawnLink, EdgeRow, NodeRow, RiskGroupShape, SessionAfter, SessionEnd, Shape, StateRow};
use crate::topology::types::{
    CircuitDetail, CircuitName, CircuitPage, RiskGroup, RiskGroupForm, RiskGroups, LinkPage, LinkRow, ProviderPage, ProviderRow, SessionPage, SessionRow, Overview, OverviewJoin, OverviewPlace, PartnerFinding, CircuitRow, Counts, DeviceDetail, DevicePage, DeviceQuery, PageQuery, PartnerDetail, PartnerPage, PartnerWindow, PartnerRow, SiteDetail, SitePage, SiteRow, Drawing, DrawnEdge, DrawnNode, Hop, ImportProblem, KindCounts, SyncJob, SyncReport, DrawingImport, PathView, Paths, Redundancy, SessionView, SiteRedundancy, StateChange, StateOutcome, UnknownSession,
    NetworkThen, WeakPoint, WeakPoints, BGP_STATES, MAX_RISK_MEMBERS, RISK_KINDS,
};
use crate::audit::service::{self as audit, Actor, Change, SubjectKind};
use crate::context::RequestMeta;
use crate::error::Refusal;
use crate::graph::network::{Cut, Network};
use crate::iam::principal::{Principal, Via};
use crate::iam::types::Scope;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The team whose members change the network (besides admins): `team-network` in the IdP.
pub const NETWORK_TEAM: &str = "network";

/// The most paths a question asks for.
pub const MAX_PATHS: usize = 20;

/// What went wrong, in the topology domain's words.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// A drawing that could not be written down (never expected).
    #[error("drawing: {0}")]
    Drawing(String),
    #[error(transparent)]
    Approval(#[from] crate::approvals::service::ApprovalError),
    /// The network is busy with another change of the same kind (a sync running).
    #[error("{0}")]
    Busy(String),
}

/// Every database error is counted as this domain's (`switchyard_db_errors_total`).
impl From<sqlx::Error> for TopologyError {
    fn from(e: sqlx::Error) -> Self {
        crate::telemetry::db_error("topology", &e);
        TopologyError::Database(e)
    }
}

/// Changing the network: a member of the network team (writing), or an admin.
pub fn require_change(principal: &Principal) -> Result<(), Refusal> {
    principal.require_write()?;
    if principal.is_admin() || principal.teams.iter().any(|t| t.slug == NETWORK_TEAM) {
        Ok(())
    } else {
        Err(Refusal::NotAllowed(format!("Only the {NETWORK_TEAM} team or an admin changes the network.")))
    }
}

/// A GraphML file to import: its name, its text, the site its nodes go in (else the graph's
/// `Network` name, else the file's name), and whether only to report.
pub struct GraphmlImport<'a> {
    pub file_name: &'a str,
    pub text: &'a str,
    pub site: Option<&'a str>,
    pub dry_run: bool,
}

/// Imports a drawing: its nodes become devices of one site, its edges links between them
/// (parallel edges each a link), all from source `graphml:<site>`, so importing the file again
/// finds them, changes what changed and removes what the file no longer has. One transaction
/// with one audit row; a dry run does all of it and rolls it back, so its report is exact.
#[tracing::instrument(name = "topology.service.import_graphml", skip_all, fields(file = file.file_name, dry_run = file.dry_run), err)]
pub async fn import_graphml(pool: &PgPool, principal: &Principal, file: GraphmlImport<'_>, meta: &RequestMeta) -> Result<DrawingImport, TopologyError> {
    require_change(principal)?;
    let graph = graphml::parse(file.text).map_err(|message| Refusal::invalid(file.file_name, message))?;
    let stem = file.file_name.rsplit('/').next().unwrap_or(file.file_name).trim_end_matches(".graphml").trim_end_matches(".xml");
    let site = file.site.map(str::trim).filter(|s| !s.is_empty()).or(graph.attributes.get("Network").map(|s| s.trim())).unwrap_or(stem).to_owned();
    if site.is_empty() || site.chars().count() > 100 || site.chars().any(char::is_control) {
        return Err(Refusal::invalid("site", "a site name is 1 to 100 characters, none of them control characters").into());
    }
    let source = format!("graphml:{site}");
    let mut problems: Vec<ImportProblem> = graph.problems.iter().map(|(element, message)| ImportProblem { element: element.clone(), message: message.clone() }).collect();

    let mut tx = pool.begin().await?;
    let site_id = repo::ensure_site(&mut tx, &site, &source).await?;
    // a name another source's device has: this site's name added; still taken, the node is left out
    let mut names = graphml::names(&graph);
    let wanted: Vec<String> = names.values().cloned().collect();
    let taken: HashSet<String> = repo::names_taken(&mut tx, &wanted, &source).await?.into_iter().collect();
    if !taken.is_empty() {
        for name in names.values_mut().filter(|n| taken.contains(n.as_str())) {
            *name = format!("{name} ({site})");
        }
        let again: Vec<String> = names.values().filter(|n| n.ends_with(&format!(" ({site})"))).cloned().collect();
        let still: HashSet<String> = repo::names_taken(&mut tx, &again, &source).await?.into_iter().collect();
        names.retain(|id, name| {
            let keep = !still.contains(name);
            if !keep {
                problems.push(ImportProblem { element: id.clone(), message: format!("\"{name}\" is another device's name") });
            }
            keep
        });
    }
    let devices: Vec<DrawnDevice> = graph
        .nodes
        .iter()
        .filter_map(|n| {
            let name = names.get(&n.id)?.chars().take(100).collect();
            let role = n.attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case("role")).map(|(_, v)| v.to_lowercase().chars().take(50).collect()).unwrap_or_else(|| "other".into());
            // a place from the drawing, else from the map (longitude east, latitude up)
            let (x, y) = match (n.x, n.y, n.longitude, n.latitude) {
                (Some(x), Some(y), _, _) => (Some(x), Some(y)),
                (_, _, Some(lon), Some(lat)) => (Some(lon), Some(-lat)),
                _ => (None, None),
            };
            Some(DrawnDevice { source_id: n.id.clone(), name, role, x, y })
        })
        .collect();
    let mut links = Vec::new();
    for e in &graph.edges {
        match [&e.source, &e.target].into_iter().find(|end| !names.contains_key(*end)) {
            Some(end) => problems.push(ImportProblem { element: e.id.clone(), message: format!("joins \"{end}\", which was left out") }),
            None => links.push(DrawnLink { source_id: e.id.clone(), label: e.label.clone().map(|l| l.chars().take(200).collect()), a: e.source.clone(), b: e.target.clone() }),
        }
    }
    let count = |written: Vec<bool>, total: usize, removed: u64| Counts {
        created: written.iter().filter(|c| **c).count() as u32,
        updated: written.iter().filter(|c| !**c).count() as u32,
        unchanged: (total - written.len()) as u32,
        removed: removed as u32,
    };
    let keep_links: Vec<String> = links.iter().map(|l| l.source_id.clone()).collect();
    let links_removed = repo::remove_links(&mut tx, &source, &keep_links).await?;
    let keep_devices: Vec<String> = devices.iter().map(|d| d.source_id.clone()).collect();
    let devices_removed = repo::remove_devices(&mut tx, &source, &keep_devices).await?;
    let written = repo::save_devices(&mut tx, &source, site_id, &devices).await?;
    let device_counts = count(written, devices.len(), devices_removed);
    let written = repo::save_links(&mut tx, &source, &links).await?;
    let link_counts = count(written, links.len(), links_removed);
    let report = DrawingImport { dry_run: file.dry_run, site, devices: device_counts, links: link_counts, problems };
    if file.dry_run {
        tx.rollback().await?;
        return Ok(report);
    }
    if report.devices.changed() || report.links.changed() {
        let after = serde_json::json!({ "file": file.file_name, "site": report.site, "devices": report.devices, "links": report.links });
        let change = Change { action: "topology.import", subject_kind: SubjectKind::TopologyImport, subject_id: source, before: None, after: Some(after) };
        audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// The network as the analyses read it: one version's shape.
struct Loaded {
    version: i64,
    nodes: HashMap<String, NodeRow>,
    labels: HashMap<String, String>,
    network: Network,
    edges: Vec<EdgeRow>,
    sessions: Vec<SessionEnd>,
    circuits: Vec<ShapeCircuit>,
    sites: Vec<String>,
    providers: Vec<String>,
    risk_groups: Vec<RiskGroupShape>,
}

/// The network as it is (one statement).
async fn load(conn: &mut PgConnection) -> Result<Loaded, TopologyError> {
    let (version, shape) = repo::shape(conn).await?;
    Ok(Loaded::new(version, shape))
}

/// The network as it was at the moment `raw` (the request's field `field`: RFC 3339, or
/// `YYYY-MM-DDTHH:MM` in UTC), with that moment, when its version was committed and how many have
/// been since; a 422 on `field` when `raw` is not a past moment or is before the network's kept
/// past (one statement).
async fn load_then(conn: &mut PgConnection, field: &str, raw: &str) -> Result<(Loaded, NetworkThen), TopologyError> {
    let at = audit::parse_moment(field, raw, Utc::now())?;
    let past = repo::shape_at(conn, at).await?;
    match past.then {
        Some(then) => Ok((Loaded::new(then.version, then.shape), NetworkThen { at, taken_at: then.taken_at, versions_since: past.versions_since })),
        None => Err(Refusal::invalid(
            field,
            match past.first {
                Some(first) => format!("the network's past is kept from {}: ask about a moment since", first.format("%Y-%m-%d %H:%M:%S UTC")),
                None => "the network's past is not kept yet".to_owned(),
            },
        )
        .into()),
    }
}

impl Loaded {
    fn new(version: i64, shape: Shape) -> Self {
        let Shape { nodes, edges, sessions, circuits, sites, providers, risk_groups } = shape;
        let network = Network::new(nodes.iter().map(|n| n.key.clone()), edges.iter().map(|e| (e.key.clone(), e.a.clone(), e.b.clone())));
        let labels = edges.iter().map(|e| (e.key.clone(), e.label.clone())).collect();
        Loaded { version, nodes: nodes.into_iter().map(|n| (n.key.clone(), n)).collect(), labels, network, edges, sessions, circuits, sites, providers, risk_groups }
    }

    fn name(&self, key: &str) -> String {
        self.nodes.get(key).map_or_else(|| key.to_owned(), |n| n.name.clone())
    }

    fn weak_point(&self, cut: Cut) -> WeakPoint {
        let off: Vec<&String> = cut.cut_off.iter().flatten().collect();
        let partners: Vec<String> = off.iter().filter(|k| k.starts_with("p:")).map(|k| self.name(k)).collect();
        let devices_cut_off: Vec<String> = off.iter().filter(|k| k.starts_with("d:")).take(20).map(|k| self.name(k)).collect();
        let devices: Vec<String> = cut.nodes.iter().map(|k| self.name(k)).collect();
        let links: Vec<String> = cut.links.iter().map(|k| self.labels.get(k).cloned().unwrap_or_else(|| k.clone())).collect();
        let others = off.len() - partners.len();
        let summary = match (partners.as_slice(), others) {
            ([], n) => format!("the only path to {n} device{}", if n == 1 { "" } else { "s" }),
            ([one], 0) => format!("the only path to {one}"),
            (ps, n) => {
                let mut named = ps.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
                if ps.len() > 3 {
                    named.push_str(&format!(" and {} more partners", ps.len() - 3));
                }
                if n > 0 {
                    named.push_str(&format!(", and {n} device{}", if n == 1 { "" } else { "s" }));
                }
                format!("the only path to {named}")
            }
        };
        WeakPoint { devices, links, cuts_off: off.len() as u32, partners, devices_cut_off, summary }
    }

    /// A device's key by its name, else a partner's.
    fn key_of(&self, name: &str) -> Option<String> {
        [format!("d:{name}"), format!("p:{name}")].into_iter().find(|k| self.nodes.contains_key(k))
    }
}

/// A partner's independent paths from each data center and colocation that has devices.
fn redundancy_of(loaded: &Loaded, partner: &str) -> Vec<SiteRedundancy> {
    let key = format!("p:{partner}");
    let mut sites: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for n in loaded.nodes.values() {
        if let (Some(site), Some("data_center" | "colocation")) = (n.site.as_deref(), n.site_kind.as_deref()) {
            sites.entry(site).or_default().push(n.key.clone());
        }
    }
    sites
        .into_iter()
        .map(|(site, devices)| {
            let paths = loaded.network.independent_paths(&devices, &key);
            SiteRedundancy { site: site.to_owned(), paths, level: SiteRedundancy::level_of(paths).to_owned() }
        })
        .collect()
}

/// Every device and link whose loss alone splits the network, with what each cuts off, those
/// that cut off most first; with `as_of`, as the network was at that past moment.
#[tracing::instrument(name = "topology.service.weak_points", skip_all, err)]
pub async fn weak_points(pool: &PgPool, principal: &Principal, as_of: Option<&str>) -> Result<WeakPoints, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let (loaded, then) = match as_of.map(str::trim).filter(|a| !a.is_empty()) {
        None => (load(&mut conn).await?, None),
        Some(as_of) => {
            let (loaded, then) = load_then(&mut conn, "as_of", as_of).await?;
            (loaded, Some(then))
        }
    };
    let order = |a: &WeakPoint, b: &WeakPoint| b.cuts_off.cmp(&a.cuts_off).then_with(|| a.devices.cmp(&b.devices)).then_with(|| a.links.cmp(&b.links));
    let mut devices: Vec<WeakPoint> = loaded.network.cut_nodes().into_iter().map(|c| loaded.weak_point(c)).collect();
    let mut links: Vec<WeakPoint> = loaded.network.cut_links().into_iter().map(|c| loaded.weak_point(c)).collect();
    devices.sort_by(order);
    links.sort_by(order);
    Ok(WeakPoints { version: loaded.version, devices, links, as_of: then })
}

/// The paths between two devices, or a device and a partner (by name), fewest hops first.
#[tracing::instrument(name = "topology.service.paths", skip_all, err)]
pub async fn paths(pool: &PgPool, principal: &Principal, from: &str, to: &str, k: usize) -> Result<Paths, TopologyError> {
    principal.require_read()?;
    if !(1..=MAX_PATHS).contains(&k) {
        return Err(Refusal::invalid("k", format!("ask for 1 to {MAX_PATHS} paths")).into());
    }
    let loaded = load(&mut *pool.acquire().await?).await?;
    let find = |field: &str, name: &str| loaded.key_of(name).ok_or_else(|| Refusal::invalid(field, format!("no device or partner is called \"{name}\"")));
    let (a, b) = (find("from", from)?, find("to", to)?);
    let paths = loaded
        .network
        .paths(&a, &b, k)
        .into_iter()
        .map(|p| PathView {
            hops: p
                .nodes
                .windows(2)
                .zip(&p.hops)
                .map(|(w, links)| Hop {
                    from: loaded.name(&w[0]),
                    to: loaded.name(&w[1]),
                    links: links.iter().map(|l| loaded.labels.get(l).cloned().unwrap_or_else(|| l.clone())).collect(),
                })
                .collect(),
            through: p.nodes.iter().map(|n| loaded.name(n)).collect(),
        })
        .collect();
    Ok(Paths { from: from.to_owned(), to: to.to_owned(), to_partner: b.starts_with("p:"), paths })
}

/// How many paths with no device and no link in common reach a partner from each data center
/// and colocation that has devices.
#[tracing::instrument(name = "topology.service.redundancy", skip_all, err)]
pub async fn redundancy(pool: &PgPool, principal: &Principal, partner: &str) -> Result<Redundancy, TopologyError> {
    principal.require_read()?;
    let loaded = load(&mut *pool.acquire().await?).await?;
    let key = format!("p:{partner}");
    if !loaded.nodes.contains_key(&key) {
        return Err(Refusal::not_found(format!("The partner \"{partner}\"")).into());
    }
    let sites = redundancy_of(&loaded, partner);
    Ok(Redundancy { partner: partner.to_owned(), sites })
}

/// The most state reports a batch may carry.
pub const MAX_REPORTS: usize = 1_000;

/// Reporting states: a token (never a browser session) with the `network-state` scope.
fn may_report(p: &Principal) -> Result<(), Refusal> {
    match &p.via {
        Via::Token { .. } if p.require_scope(Scope::NetworkState).is_ok() => Ok(()),
        Via::Token { .. } => Err(Refusal::NotAllowed("state reports need a token with the network-state scope".into())),
        Via::Session { .. } => {
            Err(Refusal::NotAllowed("states are reported by a collector's service token (network-state scope), not from a browser session".into()))
        }
    }
}

/// A session's state as one report gives it.
struct Report {
    device: String,
    remote: String,
    state: String,
    at: DateTime<Utc>,
    received: Option<i32>,
    sent: Option<i32>,
}

/// What a user sent, shown back short.
fn shown(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Reads a batch of reports: every problem is named by its JSON pointer (`/3/state`), and one
/// refuses the batch.
fn parse_reports(body: &Value, now: DateTime<Utc>) -> Result<Vec<Report>, Refusal> {
    let mut reports = Vec::new();
    for item in reported_batch(body, "session states", MAX_REPORTS, "device, remote_address, state, at")? {
        let device = item.text("device")?;
        if device.chars().count() > 100 {
            return Err(Refusal::invalid(&item.field("device"), "a device's name is at most 100 characters"));
        }
        let remote = item.text("remote_address")?;
        let remote: std::net::IpAddr =
            remote.parse().map_err(|_| Refusal::invalid(&item.field("remote_address"), format!("\"{}\" is not an IP address", shown(remote))))?;
        let state = item.text("state")?.to_ascii_lowercase();
        if !BGP_STATES.contains(&state.as_str()) {
            return Err(Refusal::invalid(&item.field("state"), format!("\"{}\" is not a BGP state: use {}", shown(&state), BGP_STATES.join(", "))));
        }
        let count = |f: &str| -> Result<Option<i32>, Refusal> {
            match item.value.get(f) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| *n <= 10_000_000)
                    .map(|n| Some(n as i32))
                    .ok_or_else(|| Refusal::invalid(&item.field(f), format!("{f} is a count, 0 to 10,000,000"))),
            }
        };
        let at = item.at(now)?;
        reports.push(Report { device: device.to_owned(), remote: remote.to_string(), state, at, received: count("prefixes_received")?, sent: count("prefixes_sent")? });
    }
    Ok(reports)
}

/// One report of a collector's batch, its problems named by JSON pointer (`/3/state`).
pub(super) struct Reported<'a> {
    index: usize,
    pub value: &'a Value,
}

impl<'a> Reported<'a> {
    pub fn field(&self, f: &str) -> String {
        format!("/{}/{f}", self.index)
    }

    /// A string it must have, trimmed.
    pub fn text(&self, f: &str) -> Result<&'a str, Refusal> {
        self.value.get(f).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| Refusal::invalid(&self.field(f), format!("{f} is required, as a string")))
    }

    /// When the collector saw it (RFC 3339; now when not said), not ahead of the server's clock.
    pub fn at(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, Refusal> {
        let at = match self.value.get("at") {
            None | Some(Value::Null) => now,
            Some(Value::String(t)) => DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)).map_err(|_| Refusal::invalid(&self.field("at"), "not an RFC 3339 time"))?,
            Some(_) => return Err(Refusal::invalid(&self.field("at"), "an RFC 3339 time, as a string")),
        };
        if at > now + chrono::Duration::minutes(5) {
            return Err(Refusal::invalid(&self.field("at"), "is more than five minutes ahead of the server's clock"));
        }
        Ok(at)
    }
}

/// A collector's batch of `what`: a JSON array of 1 to `max` objects (of the fields `shape` names).
pub(super) fn reported_batch<'a>(body: &'a Value, what: &str, max: usize, shape: &str) -> Result<Vec<Reported<'a>>, Refusal> {
    let Some(items) = body.as_array() else {
        return Err(Refusal::invalid("/", format!("send a JSON array of {what}")));
    };
    if items.is_empty() || items.len() > max {
        return Err(Refusal::invalid("/", format!("send 1 to {max} {what} at a time, not {}", items.len())));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, value)| {
            if value.is_object() {
                Ok(Reported { index, value })
            } else {
                Err(Refusal::invalid(&format!("/{index}"), format!("each state is an object: {shape}")))
            }
        })
        .collect()
}

/// Takes a collector's batch of BGP session states. Each change of state is kept with the time
/// the collector saw it, in the order of those times; a report older than its session's last
/// change is left out (stale); a session Switchyard does not know is named back, not refused.
/// States are records, not changes: no audit row (the history is the record).
#[tracing::instrument(name = "topology.service.report_session_states", skip_all, err)]
pub async fn report_session_states(pool: &PgPool, principal: &Principal, body: &Value) -> Result<StateOutcome, TopologyError> {
    may_report(principal)?;
    let reports = parse_reports(body, Utc::now())?;
    let mut tx = pool.begin().await?;
    let devices: Vec<String> = reports.iter().map(|r| r.device.clone()).collect();
    let remotes: Vec<String> = reports.iter().map(|r| r.remote.clone()).collect();
    let sessions = repo::lock_sessions(&mut tx, &devices, &remotes).await?;
    let by_ends: HashMap<(&str, &str), usize> = sessions.iter().enumerate().map(|(i, s)| ((s.device.as_str(), s.remote_address.as_str()), i)).collect();
    let mut outcome = StateOutcome::default();
    let mut per_session: BTreeMap<usize, Vec<&Report>> = BTreeMap::new();
    for (i, r) in reports.iter().enumerate() {
        match by_ends.get(&(r.device.as_str(), r.remote.as_str())) {
            Some(&s) => {
                outcome.received += 1;
                per_session.entry(s).or_default().push(r);
            }
            None => outcome.unknown.push(UnknownSession { index: i as u32, device: r.device.clone(), remote_address: r.remote.clone() }),
        }
    }
    let (mut after, mut changes) = (Vec::new(), Vec::new());
    for (s, mut seen) in per_session {
        seen.sort_by_key(|r| r.at);
        let current = &sessions[s];
        let (mut state, mut since) = (current.state.clone(), current.state_changed_at);
        let (mut received, mut sent) = (None, None);
        for r in seen {
            if since.is_some_and(|t| r.at < t) {
                outcome.stale += 1;
                continue;
            }
            if r.state != state {
                changes.push(StateRow { session: current.id, at: r.at, state: r.state.clone(), previous: Some(state.clone()), prefixes_received: r.received, prefixes_sent: r.sent });
                state = r.state.clone();
                since = Some(r.at);
            } else if since.is_none() {
                since = Some(r.at);
            }
            received = r.received.or(received);
            sent = r.sent.or(sent);
        }
        after.push(SessionAfter { id: current.id, state, state_changed_at: since, prefixes_received: received, prefixes_sent: sent });
    }
    outcome.changed = repo::keep_state_changes(&mut tx, &changes).await? as u32;
    repo::save_session_states(&mut tx, &after).await?;
    tx.commit().await?;
    Ok(outcome)
}

/// A BGP session by name, with its last 50 changes of state.
#[tracing::instrument(name = "topology.service.session", skip_all, err)]
pub async fn session(pool: &PgPool, principal: &Principal, name: &str) -> Result<SessionView, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let Some(s) = repo::session(&mut conn, name).await? else {
        return Err(Refusal::not_found(format!("The BGP session \"{}\"", shown(name))).into());
    };
    let history = repo::state_changes(&mut conn, s.id, 50).await?.into_iter().map(|c| StateChange { at: c.at, state: c.state, previous: c.previous }).collect();
    Ok(SessionView {
        name: s.name,
        device: s.device,
        local_address: s.local_address,
        local_asn: s.local_asn,
        remote_address: s.remote_address,
        remote_asn: s.remote_asn,
        partner: s.partner,
        state: s.state,
        prefixes_received: s.prefixes_received,
        prefixes_sent: s.prefixes_sent,
        state_changed_at: s.state_changed_at,
        history,
    })
}

/// The network as the topology view draws it: made once per version of the network and kept,
/// so a page view reads two statements (the version, the drawing), and the first view of a new
/// version five. `site` keeps that site's devices and the partners they reach; `role` keeps the
/// devices of that role.
#[tracing::instrument(name = "topology.service.drawing", skip_all, err)]
pub async fn drawing(pool: &PgPool, principal: &Principal, site: Option<&str>, role: Option<&str>) -> Result<Drawing, TopologyError> {
    principal.require_read()?;
    let whole = current_drawing(&mut *pool.acquire().await?).await?;
    Ok(filtered(whole, site, role))
}

/// The drawing of the network as it is: the kept one (one statement), or, for a new version,
/// made and kept (three).
async fn current_drawing(conn: &mut PgConnection) -> Result<Drawing, TopologyError> {
    let (_, kept) = repo::drawing(conn).await?;
    if let Some(d) = kept.and_then(|d| serde_json::from_str::<Drawing>(&d).ok()) {
        return Ok(d);
    }
    let d = make_drawing(conn).await?;
    let json = serde_json::to_string(&d).map_err(|e| TopologyError::Drawing(e.to_string()))?;
    repo::keep_drawing(conn, d.version, &json).await?;
    Ok(d)
}

/// The whole network's drawing as the JSON the view is sent: the kept text as it is (one
/// statement), or, for a new version, made, kept and sent (three).
#[tracing::instrument(name = "topology.service.drawing_json", skip_all, err)]
pub async fn drawing_json(pool: &PgPool, principal: &Principal) -> Result<String, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let (_, kept) = repo::drawing(&mut conn).await?;
    if let Some(json) = kept {
        return Ok(json);
    }
    let d = make_drawing(&mut conn).await?;
    let json = serde_json::to_string(&d).map_err(|e| TopologyError::Drawing(e.to_string()))?;
    repo::keep_drawing(&mut conn, d.version, &json).await?;
    Ok(json)
}

/// Lays the network out as it is, with its findings (one statement).
async fn make_drawing(conn: &mut PgConnection) -> Result<Drawing, TopologyError> {
    let loaded = load(conn).await?;
    let version = loaded.version;
    let mut weak_points: Vec<WeakPoint> = loaded.network.cut_nodes().into_iter().map(|c| loaded.weak_point(c)).collect();
    weak_points.sort_by(|a, b| b.cuts_off.cmp(&a.cuts_off).then_with(|| a.devices.cmp(&b.devices)));
    let weak: HashSet<String> = weak_points.iter().flat_map(|w| w.devices.iter().map(|d| format!("d:{d}"))).collect();
    let places = loaded
        .nodes
        .values()
        .map(|n| Place {
            weak: weak.contains(&n.key),
            site_at: n.latitude.zip(n.longitude),
            drawn_at: n.x.zip(n.y),
            key: n.key.clone(),
            name: n.name.clone(),
            partner: n.partner,
            role: n.role.clone(),
            status: n.status.clone(),
            pci: n.pci,
            site: n.site.clone(),
            site_kind: n.site_kind.clone(),
        })
        .collect();
    let joins = loaded.edges.iter().map(|e| Join { key: e.key.clone(), label: e.label.clone(), a: e.a.clone(), b: e.b.clone() }).collect();
    let mut d = lay_out(version, places, joins);
    d.weak_points = weak_points;
    d.partner_findings = loaded
        .nodes
        .values()
        .filter(|n| n.partner)
        .flat_map(|n| {
            redundancy_of(&loaded, &n.name)
                .into_iter()
                .filter(|r| r.paths < 2)
                .map(|r| PartnerFinding { partner: n.name.clone(), site: r.site, paths: r.paths })
        })
        .collect();
    d.partner_findings.sort_by(|a, b| a.paths.cmp(&b.paths).then_with(|| a.partner.cmp(&b.partner)).then_with(|| a.site.cmp(&b.site)));
    Ok(d)
}

/// A drawing narrowed to a site (its devices and the partners they reach) and a role.
fn filtered(d: Drawing, site: Option<&str>, role: Option<&str>) -> Drawing {
    if site.is_none() && role.is_none() {
        return d;
    }
    let device_kept = |n: &DrawnNode| n.kind == "device" && site.is_none_or(|s| n.site.as_deref() == Some(s)) && role.is_none_or(|r| n.role == r);
    let mut keep: Vec<bool> = d.nodes.iter().map(device_kept).collect();
    if site.is_some() {
        for l in &d.links {
            let (a, b) = (l.a as usize, l.b as usize);
            if keep[a] && d.nodes[b].kind == "partner" {
                keep[b] = true;
            }
            if keep[b] && d.nodes[a].kind == "partner" {
                keep[a] = true;
            }
        }
    }
    let mut renumber = vec![u32::MAX; d.nodes.len()];
    let mut nodes = Vec::new();
    for (i, n) in d.nodes.into_iter().enumerate() {
        if keep[i] {
            renumber[i] = nodes.len() as u32;
            nodes.push(n);
        }
    }
    let links = d
        .links
        .into_iter()
        .filter(|l| keep[l.a as usize] && keep[l.b as usize])
        .map(|l| DrawnEdge { a: renumber[l.a as usize], b: renumber[l.b as usize], ..l })
        .collect();
    let sites = d.sites.into_iter().filter(|s| site.is_none_or(|want| s.name == want)).collect();
    let names: HashSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let weak_points = d.weak_points.into_iter().filter(|w| w.devices.iter().all(|n| names.contains(n.as_str()))).collect();
    let partner_findings = d.partner_findings.into_iter().filter(|f| names.contains(f.partner.as_str())).collect();
    Drawing { version: d.version, nodes, links, sites, weak_points, partner_findings }
}

/// The topology page without a script: the sites and partners where the drawing has them and
/// what joins them (cables, circuits and sessions between two sites, or a site and a partner,
/// counted), with the drawing's findings and the first page of sites and of partners. Three
/// statements when the drawing is kept.
#[tracing::instrument(name = "topology.service.overview", skip_all, err)]
pub async fn overview(pool: &PgPool, principal: &Principal) -> Result<Overview, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let d = current_drawing(&mut conn).await?;
    let (sites, _) = page_of(repo::sites(&mut conn, None, OVERVIEW_LIST as i64).await?, OVERVIEW_LIST as i64, |s: &SiteRow| s.name.clone())?;
    let (partners, _) = page_of(repo::partners(&mut conn, None, OVERVIEW_LIST as i64).await?, OVERVIEW_LIST as i64, |p: &PartnerRow| p.name.clone())?;
    Ok(overview_of(d, sites, partners))
}

/// The most sites and partners the overview lists (the API pages through the rest).
pub const OVERVIEW_LIST: usize = 200;

fn overview_of(d: Drawing, sites: Vec<SiteRow>, partners: Vec<PartnerRow>) -> Overview {
    let mut places: Vec<OverviewPlace> =
        d.sites.iter().map(|s| OverviewPlace { name: s.name.clone(), kind: s.kind.clone() }).collect();
    let mut index: HashMap<(bool, String), u32> = places.iter().enumerate().map(|(i, p)| ((false, p.name.clone()), i as u32)).collect();
    for n in d.nodes.iter().filter(|n| n.kind == "partner") {
        index.insert((true, n.name.clone()), places.len() as u32);
        places.push(OverviewPlace { name: n.name.clone(), kind: "partner".into() });
    }
    let place_of = |n: &DrawnNode| -> Option<u32> {
        if n.kind == "partner" {
            index.get(&(true, n.name.clone())).copied()
        } else {
            n.site.as_ref().and_then(|s| index.get(&(false, s.clone())).copied())
        }
    };
    let mut joins: BTreeMap<(u32, u32), OverviewJoin> = BTreeMap::new();
    for l in &d.links {
        let (Some(a), Some(b)) = (place_of(&d.nodes[l.a as usize]), place_of(&d.nodes[l.b as usize])) else { continue };
        if a == b {
            continue;
        }
        let (a, b) = (a.min(b), a.max(b));
        let j = joins.entry((a, b)).or_insert(OverviewJoin { a, b, circuits: 0, links: 0, sessions: 0 });
        match l.kind.as_str() {
            "circuit" => j.circuits += 1,
            "session" => j.sessions += 1,
            _ => j.links += 1,
        }
    }
    let roles: std::collections::BTreeSet<String> = d.nodes.iter().filter(|n| n.kind == "device").map(|n| n.role.clone()).collect();
    Overview {
        version: d.version,
        devices: d.nodes.iter().filter(|n| n.kind == "device").count() as u32,
        links: d.links.len() as u32,
        places,
        joins: joins.into_values().collect(),
        roles: roles.into_iter().collect(),
        weak_points: d.weak_points,
        partner_findings: d.partner_findings,
        sites,
        partners,
    }
}

/// Starts a sync from NetBox (admins) and answers its id at once. The sync reads the objects of
/// the kinds kept (`netbox::KINDS`; of the many, `netbox::INCREMENTAL`, only those changed since
/// this NetBox's last sync, unless `full` or its last full read is a day old), then applies them
/// in one transaction: what NetBox no longer has is removed, the rest created or updated where it
/// differs, one audit row for the whole; a dry run rolls it back, so its report is exact. Its
/// progress is readable meanwhile.
#[tracing::instrument(name = "topology.service.start_netbox_sync", skip_all, fields(dry_run, full), err)]
pub async fn start_netbox_sync(pool: &PgPool, principal: &Principal, netbox: NetBox, dry_run: bool, full: bool, meta: &RequestMeta) -> Result<uuid::Uuid, TopologyError> {
    principal.require_admin()?;
    let total = (NETBOX_KINDS.len() * 2) as i32;
    let mut conn = pool.acquire().await?;
    if repo::sync_running(&mut conn).await? {
        return Err(TopologyError::Busy("a NetBox sync is running: wait for it to end".into()));
    }
    let (id, since) = repo::start_sync(&mut conn, Some(principal.user_id.0), dry_run, total, netbox.url(), !full).await?;
    drop(conn);
    let (pool, principal, meta) = (pool.clone(), principal.clone(), meta.clone());
    tokio::spawn(async move { run_netbox_sync(&pool, Some(&principal), &netbox, (id, since), dry_run, &meta).await });
    Ok(id)
}

/// A sync on the schedule, as Switchyard itself, run to its end here: none while another sync
/// runs. Its id, when it ran.
#[tracing::instrument(name = "topology.service.scheduled_netbox_sync", skip_all, err)]
pub async fn scheduled_netbox_sync(pool: &PgPool, netbox: &NetBox, meta: &RequestMeta) -> Result<Option<uuid::Uuid>, TopologyError> {
    let mut conn = pool.acquire().await?;
    if repo::sync_running(&mut conn).await? {
        return Ok(None);
    }
    let (id, since) = repo::start_sync(&mut conn, None, false, (NETBOX_KINDS.len() * 2) as i32, netbox.url(), true).await?;
    drop(conn);
    run_netbox_sync(pool, None, netbox, (id, since), false, meta).await;
    Ok(Some(id))
}

/// Runs a sync started with `start_netbox_sync` (or by the schedule, with no one) to its end,
/// and writes down how it ended: `started` is its id, and since when it reads only what changed.
async fn run_netbox_sync(pool: &PgPool, principal: Option<&Principal>, netbox: &NetBox, started: (uuid::Uuid, Option<DateTime<Utc>>), dry_run: bool, meta: &RequestMeta) {
    let actor = principal.map_or(Actor::System, Actor::Person);
    let (id, since) = started;
    let outcome = sync_netbox(pool, actor, NetboxObjects::Live(netbox, since), Some(id), dry_run, meta).await;
    let (report, error) = match &outcome {
        Ok(report) => (serde_json::to_value(report).ok(), None),
        Err(e) => (None, Some(e.as_str())),
    };
    if let Err(e) = async { repo::finish_sync(&mut *pool.acquire().await?, id, report.as_ref(), error).await }.await {
        tracing::error!(sync = %id, error = %e, "a NetBox sync's end could not be written down");
    }
}

/// Applies an export of NetBox's objects (each kind as NetBox's API serves it, keyed by the
/// kind's name in `netbox::KINDS`, with `asns` for the ASNs, `contacts` and `contact_assignments`
/// for the partners' contacts) exactly as a sync from that NetBox
/// would, by Switchyard itself (a dry run rolls back): how the demo network is loaded, and how
/// `make test` checks a sync against what a real NetBox served.
#[tracing::instrument(name = "topology.service.apply_netbox_export", skip_all, fields(dry_run), err)]
pub async fn apply_netbox_export(pool: &PgPool, export: &HashMap<String, Vec<Value>>, dry_run: bool, meta: &RequestMeta) -> Result<SyncReport, TopologyError> {
    sync_netbox(pool, Actor::System, NetboxObjects::Export(export), None, dry_run, meta).await.map_err(TopologyError::Drawing)
}

/// Where a sync reads NetBox's objects: a live NetBox (with, when the sync reads only what
/// changed, since when), or an export of what one served.
enum NetboxObjects<'a> {
    Live(&'a NetBox, Option<DateTime<Utc>>),
    Export(&'a HashMap<String, Vec<Value>>),
}

/// The objects of one kind a sync read: all of them, or those changed since a time with the ids
/// of all.
struct Read {
    objects: Vec<Value>,
    all_ids: Option<Vec<String>>,
}

impl NetboxObjects<'_> {
    async fn all(&self, kind: &str, path: &str) -> Result<Option<Vec<Value>>, String> {
        match self {
            NetboxObjects::Live(netbox, _) => Ok(netbox.all(path).await?),
            NetboxObjects::Export(export) => Ok(export.get(kind).cloned().or_else(|| (!netbox::optional(kind)).then(Vec::new))),
        }
    }

    /// A kind's objects: of the many, when the sync reads only what changed, the changed ones
    /// and every id.
    async fn read(&self, kind: &str, path: &str) -> Result<Option<Read>, String> {
        match self {
            NetboxObjects::Live(netbox, Some(since)) if netbox::INCREMENTAL.contains(&kind) => {
                let Some(ids) = netbox.all(&format!("{path}?fields=id")).await? else { return Ok(None) };
                let since = since.format("%Y-%m-%dT%H:%M:%SZ");
                let objects = netbox.all(&format!("{path}?last_updated__gte={since}")).await?.unwrap_or_default();
                let all_ids = ids.iter().filter_map(|o| o.get("id").and_then(Value::as_i64)).map(|i| i.to_string()).collect();
                Ok(Some(Read { objects, all_ids: Some(all_ids) }))
            }
            _ => Ok(self.all(kind, path).await?.map(|objects| Read { objects, all_ids: None })),
        }
    }

    /// Every object at `path`, or none when this NetBox (or this token) cannot read it.
    async fn readable(&self, kind: &str, path: &str) -> Result<Option<Vec<Value>>, String> {
        match self {
            NetboxObjects::Live(netbox, _) => Ok(netbox.all_readable(path).await?),
            NetboxObjects::Export(export) => Ok(export.get(kind).cloned()),
        }
    }
}

async fn step(pool: &PgPool, id: Option<uuid::Uuid>, what: String, done: usize) {
    // progress is a courtesy: a failure to show it does not stop the sync
    if let (Some(id), Ok(mut conn)) = (id, pool.acquire().await) {
        let _ = repo::sync_step(&mut conn, id, &what, done as i32).await;
    }
}

async fn sync_netbox(pool: &PgPool, actor: Actor<'_>, objects: NetboxObjects<'_>, id: Option<uuid::Uuid>, dry_run: bool, meta: &RequestMeta) -> Result<SyncReport, String> {
    let db = |e: sqlx::Error| {
        crate::telemetry::db_error("topology", &e);
        format!("database: {e}")
    };
    let since = match objects {
        NetboxObjects::Live(_, since) => since,
        NetboxObjects::Export(_) => None,
    };
    let sid = |rows: &Value| -> Vec<String> {
        rows.as_array().map(|r| r.iter().filter_map(|o| o.get("sid").and_then(Value::as_str).map(str::to_owned)).collect()).unwrap_or_default()
    };
    // what each kind keeps: the rows read, or (read incrementally) every id NetBox has but those
    // changed into something that is no row here (a cable now to a console port)
    let mut read = Vec::with_capacity(NETBOX_KINDS.len());
    for (i, (kind, path)) in NETBOX_KINDS.iter().enumerate() {
        step(pool, id, format!("reading {kind}"), i).await;
        // a kind this NetBox lacks (a plugin not installed) is left as it is
        let Some(Read { objects: list, all_ids }) = objects.read(kind, path).await? else { continue };
        let rows = if *kind == "partners" {
            let asns = objects.all("asns", netbox::ASNS).await?.unwrap_or_default();
            // contacts a token may not read are left as they are
            let contacts = objects.readable("contacts", netbox::CONTACTS).await?;
            let assignments = objects.readable("contact_assignments", netbox::CONTACT_ASSIGNMENTS).await?;
            netbox::partners_of(&list, &asns, contacts.as_deref().zip(assignments.as_deref()))
        } else {
            netbox::rows(kind, &list)
        };
        let keep = match all_ids {
            None => sid(&rows),
            Some(ids) => {
                let rows: HashSet<String> = sid(&rows).into_iter().collect();
                let unfit: HashSet<String> = list.iter().filter_map(|o| o.get("id").and_then(Value::as_i64)).map(|i| i.to_string()).filter(|i| !rows.contains(i)).collect();
                ids.into_iter().filter(|i| !unfit.contains(i)).collect()
            }
        };
        read.push((*kind, rows, keep));
    }
    let mut tx = pool.begin().await.map_err(db)?;
    // one sync writes at a time (two servers, an admin's and the schedule's)
    repo::lock_syncs(&mut tx).await.map_err(db)?;
    // what NetBox no longer has goes first, children before parents
    let mut removed = HashMap::new();
    for (kind, _, keep) in read.iter().rev() {
        removed.insert(*kind, repo::sync_remove(&mut tx, kind, keep).await.map_err(db)?);
    }
    let mut kinds = Vec::with_capacity(read.len());
    for (i, (kind, rows, _)) in read.iter().enumerate() {
        step(pool, id, format!("writing {kind}"), NETBOX_KINDS.len() + i).await;
        let written = repo::sync_kind(&mut tx, kind, rows).await.map_err(db)?;
        // read incrementally, the unchanged are those here that were not read
        let total = match since {
            Some(_) if netbox::INCREMENTAL.contains(kind) => repo::synced_count(&mut tx, kind).await.map_err(db)? as usize,
            _ => rows.as_array().map_or(0, Vec::len),
        };
        let counts = Counts {
            created: written.iter().filter(|c| **c).count() as u32,
            updated: written.iter().filter(|c| !**c).count() as u32,
            unchanged: total.saturating_sub(written.len()) as u32,
            removed: removed.get(kind).copied().unwrap_or(0) as u32,
        };
        kinds.push(KindCounts { kind: (*kind).to_owned(), counts });
    }
    let changed = kinds.iter().any(|k| k.counts.changed());
    let report = SyncReport { dry_run, changed, kinds };
    if dry_run {
        tx.rollback().await.map_err(db)?;
        return Ok(report);
    }
    if changed {
        let after = serde_json::to_value(&report.kinds).ok();
        let change = Change { action: "topology.sync", subject_kind: SubjectKind::TopologyImport, subject_id: "netbox".into(), before: None, after };
        audit::record(&mut tx, actor, change, meta).await.map_err(db)?;
    }
    tx.commit().await.map_err(db)?;
    Ok(report)
}

/// A sync's progress, then its report: whoever started it, or an admin.
#[tracing::instrument(name = "topology.service.netbox_sync", skip_all, err)]
pub async fn netbox_sync(pool: &PgPool, principal: &Principal, id: uuid::Uuid) -> Result<SyncJob, TopologyError> {
    principal.require_read()?;
    let row = repo::sync(&mut *pool.acquire().await?, id).await?.ok_or_else(|| Refusal::not_found("That sync"))?;
    Ok(job_of(row))
}

fn job_of(row: repo::SyncRow) -> SyncJob {
    SyncJob {
        id: row.id,
        state: row.state,
        dry_run: row.dry_run,
        step: row.step,
        done: row.done,
        total: row.total,
        report: row.report.and_then(|r| serde_json::from_value(r).ok()),
        error: row.error,
        started_at: row.started_at,
        finished_at: row.finished_at,
        started_by: row.started_by,
        since: row.since,
    }
}

/// The latest syncs, newest first (admins: the NetBox panel).
#[tracing::instrument(name = "topology.service.recent_syncs", skip_all, err)]
pub async fn recent_syncs(pool: &PgPool, principal: &Principal, limit: i64) -> Result<Vec<SyncJob>, TopologyError> {
    principal.require_admin()?;
    let rows = repo::recent_syncs(&mut *pool.acquire().await?, limit.clamp(1, 50)).await?;
    // a sync "running" for over an hour was lost with the server that ran it
    let lost = Utc::now() - chrono::Duration::hours(1);
    Ok(rows
        .into_iter()
        .map(job_of)
        .map(|j| if j.state == "running" && j.started_at < lost { SyncJob { state: "failed".into(), error: Some("lost: the server stopped while it ran".into()), ..j } } else { j })
        .collect())
}

/// A page of devices, in name order.
#[tracing::instrument(name = "topology.service.devices", skip_all, err)]
pub async fn devices(pool: &PgPool, principal: &Principal, q: &DeviceQuery) -> Result<DevicePage, TopologyError> {
    principal.require_read()?;
    let limit = i64::from(q.limit);
    let mut rows = repo::devices(&mut *pool.acquire().await?, q.site.as_deref(), q.role.as_deref(), q.q.as_deref(), q.after.as_deref(), limit + 1).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.name.clone())
    } else {
        None
    };
    Ok(DevicePage { items: rows, next })
}

/// A device with its interfaces, links and sessions, and, when its loss alone splits the
/// network, that finding: two statements (the kept drawing, the device), five for a new
/// version of the network.
#[tracing::instrument(name = "topology.service.device", skip_all, err)]
pub async fn device(pool: &PgPool, principal: &Principal, name: &str) -> Result<DeviceDetail, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let drawing = current_drawing(&mut conn).await?;
    let Some(json) = repo::device(&mut conn, name).await? else {
        return Err(Refusal::not_found(format!("The device \"{}\"", shown(name))).into());
    };
    let mut detail: DeviceDetail = serde_json::from_value(json).map_err(|e| TopologyError::Drawing(e.to_string()))?;
    detail.weak_point = drawing.weak_points.into_iter().find(|w| w.devices.len() == 1 && w.devices[0] == detail.name);
    Ok(detail)
}

/// Rows of a list read as JSON, and the next page's `after`.
fn page_of<T: serde::de::DeserializeOwned>(mut rows: Vec<Value>, limit: i64, name: impl Fn(&T) -> String) -> Result<(Vec<T>, Option<String>), TopologyError> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let items: Vec<T> = rows.into_iter().map(serde_json::from_value).collect::<Result<_, _>>().map_err(|e| TopologyError::Drawing(e.to_string()))?;
    let next = if more { items.last().map(name) } else { None };
    Ok((items, next))
}

/// Sites in name order, a page at a time, each with its device count: one statement.
#[tracing::instrument(name = "topology.service.sites", skip_all, err)]
pub async fn sites(pool: &PgPool, principal: &Principal, q: &PageQuery) -> Result<SitePage, TopologyError> {
    principal.require_read()?;
    let limit = i64::from(q.limit);
    let rows = repo::sites(&mut *pool.acquire().await?, q.after.as_deref(), limit + 1).await?;
    let (items, next) = page_of(rows, limit, |s: &SiteRow| s.name.clone())?;
    Ok(SitePage { items, next })
}

/// A site: its racks, devices, the links that leave it and the circuits that end there: one
/// statement.
#[tracing::instrument(name = "topology.service.site", skip_all, err)]
pub async fn site(pool: &PgPool, principal: &Principal, name: &str) -> Result<SiteDetail, TopologyError> {
    principal.require_read()?;
    let json = repo::site(&mut *pool.acquire().await?, name).await?.ok_or_else(|| Refusal::not_found(format!("The site \"{}\"", shown(name))))?;
    serde_json::from_value(json).map_err(|e| TopologyError::Drawing(e.to_string()))
}

/// Partners in name order, a page at a time, with their sessions' states: one statement.
#[tracing::instrument(name = "topology.service.partners", skip_all, err)]
pub async fn partners(pool: &PgPool, principal: &Principal, q: &PageQuery) -> Result<PartnerPage, TopologyError> {
    principal.require_read()?;
    let limit = i64::from(q.limit);
    let rows = repo::partners(&mut *pool.acquire().await?, q.after.as_deref(), limit + 1).await?;
    let (items, next) = page_of(rows, limit, |p: &PartnerRow| p.name.clone())?;
    Ok(PartnerPage { items, next })
}

/// How far ahead a partner's page looks for maintenance on its path.
const PARTNER_MAINTENANCE_DAYS: i64 = 30;

/// A partner's page: its sessions and their states, the circuits that reach it, the sites where
/// it peers, its independent paths from each data center and colocation, with a finding for
/// each that has one path or none, and the maintenance of the next 30 days on its path.
#[tracing::instrument(name = "topology.service.partner", skip_all, err)]
pub async fn partner(pool: &PgPool, principal: &Principal, name: &str) -> Result<PartnerDetail, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let json = repo::partner(&mut conn, name).await?.ok_or_else(|| Refusal::not_found(format!("The partner \"{}\"", shown(name))))?;
    let mut detail: PartnerDetail = serde_json::from_value(json).map_err(|e| TopologyError::Drawing(e.to_string()))?;
    let loaded = load(&mut conn).await?;
    detail.redundancy = redundancy_of(&loaded, name);
    detail.findings = detail
        .redundancy
        .iter()
        .filter_map(|r| match r.paths {
            0 => Some(format!("Not reachable from {}", r.site)),
            1 => Some(format!("One path from {}: a single point of failure", r.site)),
            _ => None,
        })
        .collect();
    let now = chrono::Utc::now();
    let windows = blast::maintenance_effects(&mut conn, now, now + chrono::Duration::days(PARTNER_MAINTENANCE_DAYS)).await?;
    detail.maintenance = windows
        .into_iter()
        .filter_map(|(window, radius)| {
            let hit = radius?.partners.into_iter().find(|p| p.name == name)?;
            Some(PartnerWindow { window, effect: hit.effect, why: hit.why })
        })
        .collect();
    Ok(detail)
}

/// The change history of a partner and what hangs off it: the integration systems it hosts or
/// carries, the integrations to them, and the maintenance windows on its circuits and on the
/// devices that peer with it; newest first (anyone who reads).
#[tracing::instrument(name = "topology.service.partner_history", skip_all, err)]
pub async fn partner_history(pool: &PgPool, principal: &Principal, name: &str, limit: i64) -> Result<crate::audit::types::LabelledHistory, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let labels = repo::partner_subjects(&mut conn, name).await?.ok_or_else(|| Refusal::not_found(format!("The partner \"{}\"", shown(name))))?;
    drop(conn);
    let subjects: Vec<(String, String)> = labels.iter().map(|l| (l.kind.clone(), l.id.clone())).collect();
    let entries = crate::audit::service::history_of(pool, principal, &subjects, limit).await.map_err(|e| match e {
        crate::audit::service::AuditError::Refused(r) => TopologyError::from(r),
        crate::audit::service::AuditError::Database(d) => d.into(),
    })?;
    Ok(crate::audit::types::LabelledHistory { entries, labels })
}

/// Circuits by provider and id, a page at a time (of one provider, when asked): one statement.
#[tracing::instrument(name = "topology.service.circuits", skip_all, err)]
pub async fn circuits(pool: &PgPool, principal: &Principal, provider: Option<&str>, q: &PageQuery) -> Result<CircuitPage, TopologyError> {
    principal.require_read()?;
    let limit = i64::from(q.limit);
    let rows = repo::circuits(&mut *pool.acquire().await?, provider, q.after.as_deref(), limit + 1).await?;
    let (items, next) = page_of(rows, limit, |c: &CircuitRow| format!("{} {}", c.provider, c.cid))?;
    Ok(CircuitPage { items, next })
}

/// A circuit with its two ends, and what is cabled to each: one statement.
#[tracing::instrument(name = "topology.service.circuit", skip_all, err)]
pub async fn circuit(pool: &PgPool, principal: &Principal, provider: &str, cid: &str) -> Result<CircuitDetail, TopologyError> {
    principal.require_read()?;
    let json = repo::circuit(&mut *pool.acquire().await?, provider, cid)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("The circuit \"{}\" of \"{}\"", shown(cid), shown(provider))))?;
    serde_json::from_value(json).map_err(|e| TopologyError::Drawing(e.to_string()))
}

/// Links by id, a page at a time (of one site's devices, when asked), each with its two ends
/// (a device and interface, or a circuit's end): one statement.
#[tracing::instrument(name = "topology.service.links", skip_all, err)]
pub async fn links(pool: &PgPool, principal: &Principal, site: Option<&str>, q: &PageQuery) -> Result<LinkPage, TopologyError> {
    principal.require_read()?;
    let after = match q.after.as_deref() {
        None => None,
        Some(a) => Some(uuid::Uuid::parse_str(a).map_err(|_| Refusal::invalid("after", "after is the `next` of the previous page (a link's id)"))?),
    };
    let limit = i64::from(q.limit);
    let rows = repo::links(&mut *pool.acquire().await?, site, after, limit + 1).await?;
    let (items, next) = page_of(rows, limit, |l: &LinkRow| l.id.to_string())?;
    Ok(LinkPage { items, next })
}

/// Providers in name order, a page at a time, with their circuits counted: one statement.
#[tracing::instrument(name = "topology.service.providers", skip_all, err)]
pub async fn providers(pool: &PgPool, principal: &Principal, q: &PageQuery) -> Result<ProviderPage, TopologyError> {
    principal.require_read()?;
    let limit = i64::from(q.limit);
    let rows = repo::providers(&mut *pool.acquire().await?, q.after.as_deref(), limit + 1).await?;
    let (items, next) = page_of(rows, limit, |p: &ProviderRow| p.name.clone())?;
    Ok(ProviderPage { items, next })
}

/// What a sessions list is narrowed to.
#[derive(Debug, Default)]
pub struct SessionFilter<'a> {
    pub device: Option<&'a str>,
    pub partner: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// BGP sessions in name order, a page at a time, of a device, a partner or a state when asked:
/// one statement.
#[tracing::instrument(name = "topology.service.sessions", skip_all, err)]
pub async fn sessions(pool: &PgPool, principal: &Principal, filter: SessionFilter<'_>, q: &PageQuery) -> Result<SessionPage, TopologyError> {
    principal.require_read()?;
    if let Some(state) = filter.state {
        if !BGP_STATES.contains(&state) {
            return Err(Refusal::invalid("state", format!("\"{}\" is not a BGP state: use {}", shown(state), BGP_STATES.join(", "))).into());
        }
    }
    let limit = i64::from(q.limit);
    let rows = repo::sessions(&mut *pool.acquire().await?, filter.device, filter.partner, filter.state, q.after.as_deref(), limit + 1).await?;
    let (items, next) = page_of(rows, limit, |s: &SessionRow| s.name.clone())?;
    Ok(SessionPage { items, next })
}

/// Every risk group, each checked as one: what losing all its devices, links and circuits at
/// once would cut off. Four statements (the network's three, the groups).
#[tracing::instrument(name = "topology.service.risk_groups", skip_all, err)]
pub async fn risk_groups(pool: &PgPool, principal: &Principal) -> Result<RiskGroups, TopologyError> {
    principal.require_read()?;
    let mut conn = pool.acquire().await?;
    let loaded = load(&mut conn).await?;
    let rows = repo::risk_groups(&mut conn).await?;
    let groups = rows
        .into_iter()
        .map(|g| RiskGroup {
            cut: loaded.network.cut_by(&g.node_keys, &g.link_keys).map(|c| loaded.weak_point(c)),
            circuits: g.providers.into_iter().zip(g.cids).map(|(provider, cid)| CircuitName { provider, cid }).collect(),
            name: g.name,
            kind: g.kind,
            description: g.description,
            devices: g.devices,
            links: g.links,
        })
        .collect();
    Ok(RiskGroups { version: loaded.version, groups })
}

/// Declares (or redeclares) a risk group: the network team or an admin, every member named
/// checked first, the group and its audit row in one transaction. Whether it was new.
#[tracing::instrument(name = "topology.service.save_risk_group", skip_all, err)]
pub async fn save_risk_group(pool: &PgPool, principal: &Principal, name: &str, form: &RiskGroupForm, meta: &RequestMeta) -> Result<bool, TopologyError> {
    require_change(principal)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Refusal::invalid("name", "a risk group's name is 1 to 100 characters").into());
    }
    let kind = form.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()).unwrap_or("other");
    if !RISK_KINDS.contains(&kind) {
        return Err(Refusal::invalid("kind", format!("\"{}\" is not a kind of risk group: use {}", shown(kind), RISK_KINDS.join(", "))).into());
    }
    let description = form.description.as_deref().unwrap_or("").trim();
    if description.chars().count() > 2000 {
        return Err(Refusal::invalid("description", "a description is at most 2,000 characters").into());
    }
    let members = form.devices.len() + form.links.len() + form.circuits.len();
    if members == 0 || members > MAX_RISK_MEMBERS {
        return Err(Refusal::invalid("devices", format!("a risk group holds 1 to {MAX_RISK_MEMBERS} devices, links and circuits, not {members}")).into());
    }
    // each named once, whatever the form repeats
    let mut devices: Vec<String> = form.devices.iter().map(|d| d.trim().to_owned()).collect();
    devices.sort();
    devices.dedup();
    let mut links = form.links.clone();
    links.sort();
    links.dedup();
    let mut pairs: Vec<(String, String)> = form.circuits.iter().map(|c| (c.provider.trim().to_owned(), c.cid.trim().to_owned())).collect();
    pairs.sort();
    pairs.dedup();
    let (providers, cids): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    let mut tx = pool.begin().await?;
    let unknown = repo::unknown_members(&mut tx, &devices, &links, &providers, &cids).await?;
    if let Some((field, what)) = unknown.first() {
        let thing = match field.as_str() {
            "devices" => "device",
            "links" => "link",
            _ => "circuit",
        };
        return Err(Refusal::invalid(field, format!("there is no {thing} \"{}\"", shown(what))).into());
    }
    let created = repo::save_risk_group(&mut tx, name, kind, description, &devices, &links, &providers, &cids).await?;
    let circuits: Vec<String> = providers.iter().zip(&cids).map(|(p, c)| format!("{p} {c}")).collect();
    let after = serde_json::json!({ "kind": kind, "description": description, "devices": devices, "links": links, "circuits": circuits });
    let change = Change { action: "topology.risk_group.save", subject_kind: SubjectKind::RiskGroup, subject_id: name.to_owned(), before: None, after: Some(after) };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(created)
}

/// Removes a risk group (the network team or an admin), with its audit row.
#[tracing::instrument(name = "topology.service.remove_risk_group", skip_all, err)]
pub async fn remove_risk_group(pool: &PgPool, principal: &Principal, name: &str, meta: &RequestMeta) -> Result<(), TopologyError> {
    require_change(principal)?;
    let mut tx = pool.begin().await?;
    if !repo::remove_risk_group(&mut tx, name).await? {
        return Err(Refusal::not_found(format!("The risk group \"{}\"", shown(name))).into());
    }
    let change = Change { action: "topology.risk_group.remove", subject_kind: SubjectKind::RiskGroup, subject_id: name.to_owned(), before: None, after: None };
    audit::record(&mut tx, Actor::Person(principal), change, meta).await?;
    tx.commit().await?;
    Ok(())
}
