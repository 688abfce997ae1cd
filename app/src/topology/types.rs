//! Topology data shared by server and browser: what an import did, and what the network's shape
//! says (the devices and links whose loss splits it, paths, each partner's independent paths).
use serde::{Deserialize, Serialize};

/// How many of a kind an import or sync created, updated, left as they were, and removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Counts {
    pub created: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub removed: u32,
}

impl Counts {
    pub fn changed(&self) -> bool {
        self.created + self.updated + self.removed > 0
    }
}

/// An element of the file that was left out, by its id in the file, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportProblem {
    pub element: String,
    pub message: String,
}

/// What a GraphML import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DrawingImport {
    pub dry_run: bool,
    /// The site the file's nodes are devices of (the `site` asked for, else the graph's
    /// `Network` name, else the file's name).
    pub site: String,
    pub devices: Counts,
    pub links: Counts,
    pub problems: Vec<ImportProblem>,
}

/// A place whose loss splits the network: a device, a link (or circuit), or a declared group
/// of things that fail together; and what it cuts off from the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WeakPoint {
    /// The devices lost (one for a device; a group's devices).
    pub devices: Vec<String>,
    /// The links lost, as people name them.
    pub links: Vec<String>,
    /// How many devices and partners it cuts off.
    pub cuts_off: u32,
    /// The partners it cuts off, by name.
    pub partners: Vec<String>,
    /// The first of the devices it cuts off, by name (at most 20).
    pub devices_cut_off: Vec<String>,
    /// One line: what it is the only path to.
    pub summary: String,
}

/// Every single point of failure, as of one version of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WeakPoints {
    pub version: i64,
    pub devices: Vec<WeakPoint>,
    pub links: Vec<WeakPoint>,
    /// When asked as of a past moment: the network then; none for now.
    #[serde(default)]
    pub as_of: Option<NetworkThen>,
}

/// One hop of a path: from a device (or partner) to the next, over these links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Hop {
    pub from: String,
    pub to: String,
    /// Parallel links are one hop: any of them carries it.
    pub links: Vec<String>,
}

/// A path, as the devices (and partner) it passes, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PathView {
    pub through: Vec<String>,
    pub hops: Vec<Hop>,
}

/// The paths between two places, fewest hops first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Paths {
    pub from: String,
    pub to: String,
    /// `to` is a partner (else a device).
    #[serde(default)]
    pub to_partner: bool,
    pub paths: Vec<PathView>,
}

/// How many paths with no device and no link in common reach a partner from one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SiteRedundancy {
    pub site: String,
    pub paths: u32,
    /// `none`, `single` (a finding) or `redundant` (two or more).
    pub level: String,
}

/// A partner's independent paths from each data center and colocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Redundancy {
    pub partner: String,
    pub sites: Vec<SiteRedundancy>,
}

impl SiteRedundancy {
    pub fn level_of(paths: u32) -> &'static str {
        match paths {
            0 => "none",
            1 => "single",
            _ => "redundant",
        }
    }
}

/// The states a BGP session can be in (RFC 4271's finite state machine).
pub const BGP_STATES: [&str; 6] = ["idle", "connect", "active", "opensent", "openconfirm", "established"];

/// A session a report named that Switchyard does not know: its place in the batch and its ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnknownSession {
    pub index: u32,
    pub device: String,
    pub remote_address: String,
}

/// What a batch of state reports did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateOutcome {
    /// Reports for known sessions.
    pub received: u32,
    /// Changes of state kept (each with its time).
    pub changed: u32,
    /// Reports older than the session's last change, left out.
    pub stale: u32,
    pub unknown: Vec<UnknownSession>,
}

/// A change of a session's state, at the time the collector saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateChange {
    pub at: chrono::DateTime<chrono::Utc>,
    pub state: String,
    pub previous: Option<String>,
}

/// A BGP session with its latest state changes, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionView {
    pub name: String,
    pub device: String,
    pub local_address: String,
    pub local_asn: i64,
    pub remote_address: String,
    pub remote_asn: i64,
    pub partner: Option<String>,
    pub state: String,
    pub prefixes_received: Option<i32>,
    pub prefixes_sent: Option<i32>,
    pub state_changed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub history: Vec<StateChange>,
}

/// A device or partner where the topology view draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DrawnNode {
    /// `d:<device>` or `p:<partner>`.
    pub key: String,
    pub name: String,
    /// `device` or `partner`.
    pub kind: String,
    pub role: String,
    pub site: Option<String>,
    pub status: String,
    /// In PCI scope.
    pub pci: bool,
    /// A single point of failure: its loss splits the network.
    pub weak: bool,
    pub x: f64,
    pub y: f64,
}

/// What joins two drawn nodes (by their place in `nodes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DrawnEdge {
    pub key: String,
    pub a: u32,
    pub b: u32,
    /// `link` (a cable, or a drawing's link), `circuit`, or `session` (a BGP session to a partner
    /// no circuit is known to reach).
    pub kind: String,
    pub label: String,
}

/// A site's box in the drawing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SiteBox {
    pub name: String,
    pub kind: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The network as the topology view draws it, for one version of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Drawing {
    pub version: i64,
    pub nodes: Vec<DrawnNode>,
    pub links: Vec<DrawnEdge>,
    pub sites: Vec<SiteBox>,
    /// The devices whose loss alone splits the network, and what each cuts off.
    pub weak_points: Vec<WeakPoint>,
    /// The partners that a data center or colocation reaches by one path or none.
    pub partner_findings: Vec<PartnerFinding>,
}

/// A partner that a data center or colocation reaches by fewer than two independent paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerFinding {
    pub partner: String,
    pub site: String,
    /// 0 or 1.
    pub paths: u32,
}

/// A site or partner on the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewPlace {
    pub name: String,
    /// The site's kind, or `partner`.
    pub kind: String,
}

/// What joins two places of the overview (by their place in `places`), counted by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewJoin {
    pub a: u32,
    pub b: u32,
    pub circuits: u32,
    pub links: u32,
    pub sessions: u32,
}

/// The topology page as it reads without a script: the sites and partners and what joins them,
/// the single points of failure, the partners with one path, and the lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub version: i64,
    pub devices: u32,
    pub links: u32,
    pub places: Vec<OverviewPlace>,
    pub joins: Vec<OverviewJoin>,
    pub roles: Vec<String>,
    pub weak_points: Vec<WeakPoint>,
    pub partner_findings: Vec<PartnerFinding>,
    pub sites: Vec<SiteRow>,
    pub partners: Vec<PartnerRow>,
}

/// How many of one kind a sync created, updated, left alone and removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KindCounts {
    /// sites, racks, devices, interfaces, providers, circuits, circuit_ends or links.
    pub kind: String,
    pub counts: Counts,
}

/// What a sync from NetBox did (or, dry, would do), kind by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncReport {
    pub dry_run: bool,
    /// Whether anything was (or would be) created, updated or removed.
    pub changed: bool,
    pub kinds: Vec<KindCounts>,
}

/// A sync from NetBox: its progress while it runs, then its report, or why it failed (having
/// applied nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncJob {
    pub id: uuid::Uuid,
    /// running, succeeded or failed.
    pub state: String,
    pub dry_run: bool,
    /// What it is doing ("reading devices", "writing links").
    pub step: String,
    pub done: i32,
    pub total: i32,
    pub report: Option<SyncReport>,
    pub error: Option<String>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who started it; null for a scheduled sync.
    #[serde(default)]
    pub started_by: Option<String>,
    /// Since when it read only what changed (of the kinds there are many of: interfaces and
    /// cables); null when it read everything.
    #[serde(default)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The NetBox sync as its admin panel shows it: the NetBox read (or why there is none), how
/// often it is synced on its own, and the latest syncs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetboxPanel {
    /// The NetBox's address, when one is configured.
    pub url: Option<String>,
    /// Why no sync can start, when none can.
    pub why_not: Option<String>,
    /// Seconds between scheduled syncs; none when only admins start them.
    pub every_secs: Option<f64>,
    pub syncs: Vec<SyncJob>,
}
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeviceRow {
    pub name: String,
    pub role: String,
    pub site: Option<String>,
    pub status: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub platform: Option<String>,
    pub pci_scope: bool,
    pub primary_ip4: Option<String>,
}

/// A page of devices in name order; `next` is the `after` of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DevicePage {
    pub items: Vec<DeviceRow>,
    pub next: Option<String>,
}

/// What a device list asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceQuery {
    pub site: Option<String>,
    pub role: Option<String>,
    /// A part of the name.
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: u16,
}

impl DeviceQuery {
    pub const DEFAULT_LIMIT: u16 = 50;

    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, crate::error::FieldProblem> {
        let field = |name: &str| -> Result<Option<String>, crate::error::FieldProblem> {
            match get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                Some(v) if v.chars().count() > 100 => Err(crate::error::FieldProblem::new(name, format!("{name} is at most 100 characters"))),
                v => Ok(v),
            }
        };
        let limit = match field("limit")? {
            None => Self::DEFAULT_LIMIT,
            Some(l) => l.parse::<u16>().ok().filter(|n| (1..=500).contains(n)).ok_or_else(|| crate::error::FieldProblem::new("limit", format!("limit must be 1 to 500, not \"{l}\"")))?,
        };
        Ok(DeviceQuery { site: field("site")?, role: field("role")?, q: field("q")?, after: field("after")?, limit })
    }
}

/// An interface, with what its cable reaches (a device's interface, or a circuit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InterfaceView {
    pub name: String,
    pub kind: String,
    pub speed_kbps: Option<i64>,
    pub enabled: bool,
    /// Up or down as a collector last said; null when none has.
    pub oper_up: Option<bool>,
    /// The LAG it is a member of.
    pub lag: Option<String>,
    pub reaches: Option<String>,
}

/// A link from a device, to the device at its other end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeviceLink {
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    pub label: String,
    /// The device at its other end, or the circuit as "provider cid".
    pub to: String,
    /// The circuit at its other end, when it is one.
    #[serde(default)]
    pub circuit: Option<CircuitName>,
    /// The partner a circuit at its other end reaches: removing this link needs approval.
    #[serde(default)]
    pub partner: Option<String>,
}

/// A BGP session of a device, as its page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeviceSession {
    pub name: String,
    pub remote_address: String,
    pub remote_asn: i64,
    pub partner: Option<String>,
    pub state: String,
    pub state_changed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A device with its interfaces, links and sessions, and its single-point-of-failure finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeviceDetail {
    pub name: String,
    pub role: String,
    pub site: Option<String>,
    pub status: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub platform: Option<String>,
    pub pci_scope: bool,
    pub primary_ip4: Option<String>,
    pub primary_ip6: Option<String>,
    pub serial: Option<String>,
    pub rack: Option<String>,
    pub position: Option<f64>,
    /// Where it came from: `netbox`, `graphml:<site>` or `switchyard`.
    pub source: String,
    pub interfaces: Vec<InterfaceView>,
    pub links: Vec<DeviceLink>,
    pub sessions: Vec<DeviceSession>,
    /// When its loss alone splits the network: what it cuts off.
    #[serde(default)]
    pub weak_point: Option<WeakPoint>,
    /// Maintenance on it or its site that has not ended, soonest first.
    #[serde(default)]
    pub maintenance: Vec<MaintenanceWindow>,
    /// Its interfaces' latest changes of state, newest first (at most 20).
    #[serde(default)]
    pub interface_changes: Vec<InterfaceChange>,
}

/// A page of a list by name: after which name, how many.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageQuery {
    pub after: Option<String>,
    pub limit: u16,
}

impl PageQuery {
    pub fn parse(get: impl Fn(&str) -> Option<String>) -> Result<Self, crate::error::FieldProblem> {
        let q = DeviceQuery::parse(get)?;
        Ok(PageQuery { after: q.after, limit: q.limit })
    }
}

/// A site as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SiteRow {
    pub name: String,
    /// data_center, colocation, cloud_region, office or other.
    pub kind: String,
    pub status: String,
    pub region: Option<String>,
    pub facility: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub time_zone: Option<String>,
    pub devices: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SitePage {
    pub items: Vec<SiteRow>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RackView {
    pub name: String,
    pub location: Option<String>,
    pub devices: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SiteDevice {
    pub name: String,
    pub role: String,
    pub status: String,
    pub pci_scope: bool,
}

/// A link that leaves a site: from its device to a device elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkOut {
    pub label: String,
    pub from: String,
    pub to: String,
    pub to_site: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CircuitRef {
    pub provider: String,
    pub cid: String,
    pub status: String,
}

/// A site with its racks, devices, the links that leave it and the circuits that end there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SiteDetail {
    pub name: String,
    pub kind: String,
    pub status: String,
    pub region: Option<String>,
    pub facility: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub time_zone: Option<String>,
    pub description: String,
    pub racks: Vec<RackView>,
    pub devices: Vec<SiteDevice>,
    pub links_out: Vec<LinkOut>,
    pub circuits: Vec<CircuitRef>,
    /// Maintenance at the site or on its devices that has not ended, soonest first.
    #[serde(default)]
    pub maintenance: Vec<MaintenanceWindow>,
    /// The catalog's components whose owners say they run here (on their form).
    #[serde(default)]
    pub services: Vec<SiteService>,
}

/// A component that runs at a site, and every site it runs at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SiteService {
    /// `component:namespace/name`.
    pub entity: String,
    pub title: String,
    /// The `switchyard.dev/sites` annotation, as written.
    pub runs_at: String,
}

/// A partner as lists show it: its sessions, and how many are established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerRow {
    pub name: String,
    /// bank, card_network, cloud, carrier or other.
    pub kind: String,
    pub asns: Vec<i64>,
    pub sessions: i64,
    pub established: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerPage {
    pub items: Vec<PartnerRow>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerSession {
    pub name: String,
    pub device: String,
    pub site: Option<String>,
    pub remote_address: String,
    pub remote_asn: i64,
    pub state: String,
    pub state_changed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub prefixes_received: Option<i32>,
}

/// A partner: its sessions and their states, the circuits that reach it, the sites where it
/// peers, its independent paths from each data center, and what of that is a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerDetail {
    pub name: String,
    pub kind: String,
    pub asns: Vec<i64>,
    pub description: String,
    pub sessions: Vec<PartnerSession>,
    pub circuits: Vec<CircuitRef>,
    pub sites: Vec<String>,
    #[serde(default)]
    pub redundancy: Vec<SiteRedundancy>,
    /// "One path from fra1", "Not reachable from lon1" …
    #[serde(default)]
    pub findings: Vec<String>,
    /// The integration systems it hosts (its SFTP server, its clearing gateway).
    #[serde(default)]
    pub systems: Vec<PartnerSystem>,
    /// Whom to call there (from NetBox's contacts assigned to its tenant).
    #[serde(default)]
    pub contacts: Vec<PartnerContact>,
    /// Maintenance in the next 30 days that cuts it off, or leaves it one path, soonest first.
    #[serde(default)]
    pub maintenance: Vec<PartnerWindow>,
    /// The last 30 state changes of its BGP sessions, newest first.
    #[serde(default)]
    pub state_history: Vec<PartnerStateChange>,
}

/// A state change of one of a partner's BGP sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerStateChange {
    pub session: String,
    pub device: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub state: String,
    pub previous: Option<String>,
}

/// A maintenance window on a partner's path, and what it does to the partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerWindow {
    pub window: MaintenanceWindow,
    /// `cut_off` or `single_path`.
    pub effect: String,
    /// The path that breaks.
    pub why: String,
}

/// A person at a partner: their role with it (NOC, account manager …) and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerContact {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A circuit as lists show it: its provider and id, and where its two ends are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CircuitRow {
    pub provider: String,
    pub cid: String,
    pub kind: Option<String>,
    pub status: String,
    pub commit_rate_kbps: Option<i64>,
    /// The A end's site (or provider network, or partner).
    pub a: Option<String>,
    pub z: Option<String>,
}

/// A page of circuits; `next` ("provider cid") is the `after` of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CircuitPage {
    pub items: Vec<CircuitRow>,
    pub next: Option<String>,
}

/// One end of a circuit: where it is, and what is cabled to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CircuitEnd {
    /// A or Z.
    pub side: String,
    pub site: Option<String>,
    pub provider_network: Option<String>,
    pub partner: Option<String>,
    pub port_speed_kbps: Option<i64>,
    pub device: Option<String>,
    pub interface: Option<String>,
}

/// A circuit with its ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CircuitDetail {
    pub provider: String,
    pub cid: String,
    pub kind: Option<String>,
    pub status: String,
    pub commit_rate_kbps: Option<i64>,
    pub description: String,
    pub ends: Vec<CircuitEnd>,
    /// Maintenance on it (a carrier's notice, planned work) that has not ended, soonest first.
    #[serde(default)]
    pub maintenance: Vec<MaintenanceWindow>,
}

/// One end of a link: a device (at an interface, when known), or a circuit's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkEnd {
    pub device: Option<String>,
    pub interface: Option<String>,
    /// The circuit ("provider cid") when this end is a circuit's.
    pub circuit: Option<String>,
    /// A or Z, of that circuit.
    pub side: Option<String>,
}

/// A cable (or a link a drawing declares) with its two ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkRow {
    pub id: uuid::Uuid,
    pub label: Option<String>,
    pub status: String,
    pub a: LinkEnd,
    pub b: LinkEnd,
    /// Where it came from: `netbox`, `graphml:<site>`, …
    pub source: String,
}

/// A page of links; `next` is the `after` of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkPage {
    pub items: Vec<LinkRow>,
    pub next: Option<String>,
}

/// A carrier or cloud that provides circuits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderRow {
    pub name: String,
    pub asns: Vec<i64>,
    pub circuits: i64,
    /// The partner it also is, if any.
    pub partner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProviderPage {
    pub items: Vec<ProviderRow>,
    pub next: Option<String>,
}

/// A BGP session as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionRow {
    pub name: String,
    pub device: String,
    pub site: Option<String>,
    pub local_address: String,
    pub local_asn: i64,
    pub remote_address: String,
    pub remote_asn: i64,
    pub partner: Option<String>,
    pub state: String,
    pub state_changed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub prefixes_received: Option<i32>,
}

/// A page of sessions in name order; `next` is the `after` of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionPage {
    pub items: Vec<SessionRow>,
    pub next: Option<String>,
}

/// The most links one page holds (a page of cables is bigger than other lists' pages).
pub const MAX_LINK_PAGE: u16 = 1_000;

impl PageQuery {
    /// A page of up to `max` (default 50).
    pub fn parse_up_to(get: impl Fn(&str) -> Option<String>, max: u16) -> Result<Self, crate::error::FieldProblem> {
        let after = get("after").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        if after.as_ref().is_some_and(|a| a.chars().count() > 200) {
            return Err(crate::error::FieldProblem::new("after", "after is at most 200 characters"));
        }
        let limit = match get("limit").map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
            None => DeviceQuery::DEFAULT_LIMIT,
            Some(l) => l.parse::<u16>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| crate::error::FieldProblem::new("limit", format!("limit must be 1 to {max}, not \"{}\"", l.chars().take(20).collect::<String>())))?,
        };
        Ok(PageQuery { after, limit })
    }
}

/// The kinds of things that fail together.
pub const RISK_KINDS: [&str; 5] = ["carrier", "building_entry", "power_feed", "conduit", "other"];

/// A circuit by its provider and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CircuitName {
    pub provider: String,
    pub cid: String,
}

/// Things that fail together (one carrier's circuits, one building entry, one power feed), and
/// what losing all of them at once would cut off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RiskGroup {
    pub name: String,
    /// carrier, building_entry, power_feed, conduit or other.
    pub kind: String,
    pub description: String,
    pub devices: Vec<String>,
    /// The links, by id.
    pub links: Vec<uuid::Uuid>,
    pub circuits: Vec<CircuitName>,
    /// What losing them together cuts off; null when the network stays whole.
    pub cut: Option<WeakPoint>,
}

/// Every risk group, checked against one version of the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RiskGroups {
    pub version: i64,
    pub groups: Vec<RiskGroup>,
}

/// A risk group as it is declared: its kind and what belongs to it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RiskGroupForm {
    /// carrier, building_entry, power_feed, conduit or other (the default).
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Devices by name.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Links by id (as `/topology/links` gives them).
    #[serde(default)]
    pub links: Vec<uuid::Uuid>,
    #[serde(default)]
    pub circuits: Vec<CircuitName>,
}

/// The most things one risk group holds.
pub const MAX_RISK_MEMBERS: usize = 500;

/// What a batch of interface state reports did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InterfaceOutcome {
    /// Reports for known interfaces.
    pub received: u32,
    /// Changes of state kept (each with its time).
    pub changed: u32,
    /// Reports older than the interface's last change, left out.
    pub stale: u32,
    pub unknown: Vec<UnknownInterface>,
}

/// A report naming an interface Switchyard does not know: its place in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnknownInterface {
    pub index: u32,
    pub device: String,
    pub interface: String,
}

/// A change of an interface's operational state, at the time the collector saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InterfaceChange {
    pub interface: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub up: bool,
    /// What it was before; null for the first report.
    pub previous: Option<bool>,
}

/// A device's interface changes, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InterfaceHistory {
    pub device: String,
    pub changes: Vec<InterfaceChange>,
}

/// The kinds of maintenance window: work the network team plans, or a carrier's notice.
pub const MAINTENANCE_KINDS: [&str; 2] = ["planned", "carrier_notice"];

/// The longest a maintenance window may last, in days.
pub const MAX_MAINTENANCE_DAYS: i64 = 31;

/// Planned work or a carrier's notice on a device, a circuit or a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MaintenanceWindow {
    pub id: uuid::Uuid,
    /// `device`, `circuit` or `site`.
    pub subject_kind: String,
    /// The device's or the site's name, or the circuit as "provider cid".
    pub subject: String,
    /// The circuit's provider and id, for a circuit.
    pub circuit: Option<CircuitName>,
    /// The site it is at: the device's, or the site itself (none for a circuit).
    pub site: Option<String>,
    /// `planned` or `carrier_notice`.
    pub kind: String,
    pub title: String,
    /// The carrier's notice, or the change ticket.
    pub reference: Option<String>,
    pub starts_at: chrono::DateTime<chrono::Utc>,
    pub ends_at: chrono::DateTime<chrono::Utc>,
    pub created_by: String,
}

/// The maintenance windows that overlap a span of time, soonest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MaintenanceList {
    pub from: chrono::DateTime<chrono::Utc>,
    pub until: chrono::DateTime<chrono::Utc>,
    pub items: Vec<MaintenanceWindow>,
}

/// A new maintenance window: exactly one of `device`, `site` or `circuit`; times in RFC 3339,
/// or `YYYY-MM-DDTHH:MM` taken as UTC (what a browser's date-and-time field sends).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MaintenanceForm {
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub circuit: Option<CircuitName>,
    /// `planned` (the default) or `carrier_notice`.
    #[serde(default)]
    pub kind: Option<String>,
    pub title: String,
    #[serde(default)]
    pub reference: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
}

/// An integration system a partner hosts (a bank's SFTP server) or that is reached through it
/// (a SaaS vendor over a cloud on-ramp), as the partner's page lists it. The system says so, on
/// its form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PartnerSystem {
    pub name: String,
    pub title: String,
    pub kind: String,
    /// `hosted_by` or `reached_via`.
    pub relation: String,
}

/// An edit of a device: the fields given change, the rest stay. An edit that touches a device
/// in PCI scope (or puts one in it) waits for approval, and says why in `reason`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeviceEdit {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub pci_scope: Option<bool>,
    /// Why: required when the edit needs approval.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The statuses a device may have (NetBox's).
pub const DEVICE_STATUSES: [&str; 7] = ["active", "planned", "staged", "failed", "offline", "inventory", "decommissioning"];

/// What a change asked for did: made at once, or waiting for approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangeOutcome {
    /// True when the change is made; false when it waits for approval.
    pub applied: bool,
    /// The approval request it waits for.
    pub approval_id: Option<uuid::Uuid>,
    /// One line on what happened.
    pub message: String,
}

/// What a blast radius may be asked of.
pub const BLAST_KINDS: [&str; 8] = ["device", "link", "circuit", "bgp-session", "site", "provider", "partner", "risk-group"];

/// "If this fails": what is cut off or weakened, layer by layer, in order — partners, BGP
/// sessions, integration systems, integrations, services, deploys — each item with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlastRadius {
    /// One of `BLAST_KINDS`.
    pub kind: String,
    pub name: String,
    /// The topology version the answer was computed for.
    pub version: i64,
    /// The devices lost with it (a site's, a risk group's), and the devices it cuts off.
    pub devices_lost: Vec<String>,
    pub devices_cut_off: Vec<String>,
    /// The sites every device of which fails or is cut off (and the site asked for).
    #[serde(default)]
    pub sites_lost: Vec<String>,
    /// Partners cut off first, then those left with a single path.
    pub partners: Vec<BlastItem>,
    pub sessions: Vec<BlastItem>,
    pub systems: Vec<BlastItem>,
    pub integrations: Vec<BlastIntegration>,
    pub services: Vec<BlastService>,
    pub deploys: Vec<BlastDeploy>,
    /// When asked as of a past moment: the network as it was then (the systems, integrations,
    /// services and deploys beyond it are as they are now); none for now.
    #[serde(default)]
    pub as_of: Option<NetworkThen>,
}

/// The network as it was at a past moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NetworkThen {
    /// The moment asked about.
    pub at: chrono::DateTime<chrono::Utc>,
    /// When the network's version at that moment was committed.
    pub taken_at: chrono::DateTime<chrono::Utc>,
    /// How many versions of the network have been committed since.
    pub versions_since: i64,
}

/// One thing a failure reaches, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlastItem {
    pub name: String,
    /// `cut_off`, `single_path` (partners), `lost` (sessions), `unreachable` (systems).
    pub effect: String,
    pub why: String,
}

/// An integration a failure reaches: with whom to call, and when it next runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlastIntegration {
    pub name: String,
    pub title: String,
    /// The owning team's name.
    pub owner: String,
    pub on_call: String,
    /// Its next scheduled run (scheduled integrations only).
    pub next_run: Option<chrono::DateTime<chrono::Utc>>,
    pub why: String,
}

/// A catalog service a failure reaches (an end of an integration reached, or a service that
/// depends on one), with its owner and on-call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlastService {
    /// `kind:namespace/name`.
    pub entity: String,
    pub title: String,
    pub owner: String,
    pub on_call: Option<String>,
    pub why: String,
}

/// A deploy queued, running or waiting for approval for a service reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlastDeploy {
    pub id: uuid::Uuid,
    pub service: String,
    pub environment: String,
    pub state: String,
}

/// What a service needs from the network (the reverse of a blast radius): the integrations of
/// the integration systems it is, the systems at their other ends and the partners hosting
/// them, and for each partner how many independent paths the data centers have to it and what
/// every one of those paths goes through (its single points of failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ServiceNetwork {
    /// `component:namespace/name`.
    pub entity: String,
    /// The topology version the answer was computed for.
    pub version: i64,
    /// The sites it runs at, as its owners say on its form (`switchyard.dev/sites`).
    #[serde(default)]
    pub runs_at: Vec<String>,
    /// The integration systems the component is.
    pub systems: Vec<String>,
    pub integrations: Vec<NeededIntegration>,
    /// Partners with the fewest paths first.
    pub partners: Vec<NeededPartner>,
    /// When asked as of a past moment: the network the paths were read from (the integrations
    /// and systems are as they are now); none for now.
    #[serde(default)]
    pub as_of: Option<NetworkThen>,
}

/// An integration a service is an end of: the system at its other end, and who hosts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NeededIntegration {
    pub name: String,
    pub title: String,
    /// The system at the other end.
    pub system: String,
    /// `from` (the service reads from it) or `to` (writes to it).
    pub direction: String,
    /// The partner hosting that system, if one does.
    pub partner: Option<String>,
}

/// A partner a service needs, and the network's paths to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NeededPartner {
    pub name: String,
    /// Its systems the service's integrations reach.
    pub systems: Vec<String>,
    /// Independent paths from the data centers (0: cut off now).
    pub paths: u32,
    /// What every path from the data centers to it goes through, nearest the data centers
    /// first: devices, and links or circuits (parallel ones together).
    pub single_points: Vec<SinglePoint>,
}

/// A device, or a link (circuit), every path goes through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SinglePoint {
    /// `device`, `partner` (one that carries the way to another) or `link`.
    pub kind: String,
    /// The device's or partner's name, or the links as people name them (joined with " + ").
    pub name: String,
}
