//! "If this fails": from a device, link, circuit, BGP session, site, provider, partner or risk
//! group, what is cut off or left with a single path — partners, BGP sessions, the integration
//! systems the partners host, the integrations to them, the services at their ends and those
//! that depend on them, and the deploys waiting or running for those — each with why.
//!
//! What the data centers reach is kept per topology version (`Reach`, a dominator tree, and each
//! partner's independent paths), made from that version's shape (what fails and the BGP sessions
//! are read from it too), so an answer reads the version and the layers beyond: two statements,
//! and the network is not walked again for one device or link. Asked "as of" a past moment, the
//! shape of the version then is read and analysed instead (migration 29 keeps every version's).
use super::{shown, Loaded, TopologyError};
use crate::topology::repo::SessionEnd;
use crate::error::Refusal;
use crate::graph::network::{Reach, Through};
use crate::iam::principal::Principal;
use crate::integrations::types::CronSchedule;
use crate::topology::repo::{self, blast};
use crate::topology::types::{NetworkThen, MaintenanceWindow, BlastDeploy, BlastIntegration, BlastItem, BlastRadius, BlastService, NeededIntegration, NeededPartner, ServiceNetwork, SinglePoint, BLAST_KINDS};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// What the analyses keep of one topology version.
pub(super) struct Kept {
    pub(super) loaded: Loaded,
    /// The devices of the data centers, where the company's systems run: where paths start (a
    /// colocation or a cloud region cut off from them is cut off).
    pub(super) roots: Vec<String>,
    pub(super) reach: Reach,
    /// Each partner's independent paths from the roots.
    pub(super) paths: HashMap<String, u32>,
}

/// The latest version kept of each database (one process may serve, or test, more than one),
/// the most recently kept last; at most `KEPT_DATABASES` of them.
static KEPT: Mutex<Vec<(String, i64, Arc<Kept>)>> = Mutex::new(Vec::new());
const KEPT_DATABASES: usize = 16;

pub(super) async fn kept(conn: &mut PgConnection) -> Result<Arc<Kept>, TopologyError> {
    let (database, version) = blast::database_version(&mut *conn).await?;
    if let Some((_, _, kept)) = KEPT
        .lock()
        .map_err(|_| TopologyError::Drawing("the kept network's lock is poisoned".into()))?
        .iter()
        .find(|(db, v, _)| *db == database && *v == version)
    {
        return Ok(kept.clone());
    }
    let kept = Arc::new(Kept::new(super::load(conn).await?));
    if let Ok(mut all) = KEPT.lock() {
        all.retain(|(db, _, _)| *db != database);
        if all.len() >= KEPT_DATABASES {
            all.remove(0);
        }
        all.push((database, kept.loaded.version, kept.clone()));
    }
    Ok(kept)
}

/// The network as it was at the past moment `as_of` (a 422 on that field when it is not one, or
/// is before the network's kept past), analysed.
pub(super) async fn kept_then(conn: &mut PgConnection, as_of: &str) -> Result<(Kept, NetworkThen), TopologyError> {
    let (loaded, then) = super::load_then(conn, "as_of", as_of).await?;
    Ok((Kept::new(loaded), then))
}

impl Kept {
    pub(super) fn new(loaded: Loaded) -> Self {
        let mut roots: Vec<String> = loaded
            .nodes
            .values()
            .filter(|n| n.site_kind.as_deref() == Some("data_center"))
            .map(|n| n.key.clone())
            .collect();
        roots.sort();
        let reach = loaded.network.reach(&roots);
        let paths = loaded.nodes.keys().filter(|k| k.starts_with("p:")).map(|k| (k.clone(), loaded.network.independent_paths(&roots, k))).collect();
        Kept { loaded, roots, reach, paths }
    }
}

/// What fails, as the network's keys: its devices or partners (nodes), its links or circuits
/// (links), and the BGP sessions it is.
struct Failing {
    nodes: Vec<String>,
    links: Vec<String>,
    sessions: Vec<String>,
}

impl Loaded {
    /// What `kind` `name` is in this network; none when there is no such thing.
    fn failing(&self, kind: &str, name: &str) -> Option<Failing> {
        let node = |key: String| self.nodes.contains_key(&key).then_some(key);
        let (nodes, links, sessions) = match kind {
            "device" => (vec![node(format!("d:{name}"))?], vec![], vec![]),
            "partner" => (vec![node(format!("p:{name}"))?], vec![], vec![]),
            "site" => {
                self.sites.iter().find(|s| s.as_str() == name)?;
                let mut devices: Vec<String> = self.nodes.values().filter(|n| !n.partner && n.site.as_deref() == Some(name)).map(|n| n.key.clone()).collect();
                devices.sort();
                (devices, vec![], vec![])
            }
            "link" => {
                let key = format!("l:{name}");
                self.edges.iter().find(|e| e.key == key)?;
                (vec![], vec![key], vec![])
            }
            "circuit" => {
                let c = self.circuits.iter().find(|c| format!("{}/{}", c.provider, c.cid) == name)?;
                (vec![], vec![c.key.clone()], vec![])
            }
            "provider" => {
                self.providers.iter().find(|p| p.as_str() == name)?;
                (vec![], self.circuits.iter().filter(|c| c.provider == name).map(|c| c.key.clone()).collect(), vec![])
            }
            "bgp-session" => {
                let s = self.sessions.iter().find(|s| s.name == name)?;
                let key = self.edges.iter().find(|e| e.label == s.name && e.key.starts_with("s:")).map(|e| e.key.clone());
                (vec![], key.into_iter().collect(), vec![s.name.clone()])
            }
            "risk-group" => {
                let g = self.risk_groups.iter().find(|g| g.name == name)?;
                (g.nodes.clone(), g.links.clone(), vec![])
            }
            _ => return None,
        };
        Some(Failing { nodes, links, sessions })
    }
}

/// What the layers beyond the network answer (`repo::blast::beyond`).
#[derive(Deserialize)]
struct Beyond {
    systems: Vec<BeyondSystem>,
    integrations: Vec<BeyondIntegration>,
    services: Vec<BeyondService>,
    deploys: Vec<BlastDeploy>,
}

#[derive(Deserialize)]
struct BeyondSystem {
    name: String,
    title: String,
    partner: String,
    /// `hosted_by` or `reached_via`.
    #[serde(default)]
    relation: String,
}

#[derive(Deserialize)]
struct BeyondIntegration {
    name: String,
    title: String,
    on_call: String,
    schedule: Option<String>,
    time_zone: String,
    owner: String,
    system: String,
    direction: String,
}

#[derive(Deserialize)]
struct BeyondService {
    entity: String,
    title: String,
    owner: String,
    on_call: Option<String>,
    via: Option<String>,
    /// The sites it runs at, all lost.
    runs_at: Option<String>,
    depends_on: Option<String>,
}

/// The next slot of a schedule, in its time zone, after `now`.
fn next_run(schedule: Option<&str>, time_zone: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let schedule = CronSchedule::parse(schedule?).ok()?;
    let zone: chrono_tz::Tz = time_zone.parse().ok()?;
    schedule.slots(&zone, now, now + chrono::Duration::days(366), 1).into_iter().next()
}

/// "If this fails" (anyone who may read): `kind` is one of `BLAST_KINDS`; a circuit is named
/// `provider/cid`, a link by its id. With `as_of`, the network as it was at that past moment
/// (the layers beyond it as they are now).
#[tracing::instrument(name = "topology.service.blast_radius", skip_all, fields(kind), err)]
pub async fn blast_radius(pool: &PgPool, principal: &Principal, kind: &str, name: &str, as_of: Option<&str>) -> Result<BlastRadius, TopologyError> {
    principal.require_read()?;
    if !BLAST_KINDS.contains(&kind) {
        return Err(Refusal::invalid("kind", format!("\"{}\" is not something that fails here: use {}", shown(kind), BLAST_KINDS.join(", "))).into());
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(Refusal::invalid("name", "name what fails: 1 to 300 characters").into());
    }
    let mut conn = pool.acquire().await?;
    let what = format!("The {} \"{}\"", kind.replace('-', " "), shown(name));
    match as_of.map(str::trim).filter(|a| !a.is_empty()) {
        None => {
            let kept = kept(&mut conn).await?;
            radius(&mut conn, &kept, kind, name).await?.ok_or_else(|| Refusal::not_found(what).into())
        }
        Some(as_of) => {
            let (kept, then) = kept_then(&mut conn, as_of).await?;
            let mut answer = radius(&mut conn, &kept, kind, name)
                .await?
                .ok_or_else(|| Refusal::not_found(format!("{what} at {}", then.at.format("%Y-%m-%d %H:%M:%S UTC"))))?;
            answer.as_of = Some(then);
            Ok(answer)
        }
    }
}

/// The blast radius of `kind` `name`, none when there is no such thing.
async fn radius(conn: &mut PgConnection, kept: &Kept, kind: &str, name: &str) -> Result<Option<BlastRadius>, TopologyError> {
    let loaded = &kept.loaded;
    let Some(failing) = loaded.failing(kind, name) else { return Ok(None) };
    let what = match kind {
        "device" | "partner" => name.to_owned(),
        "link" => failing.links.first().and_then(|l| loaded.labels.get(l)).cloned().unwrap_or_else(|| format!("the link {name}")),
        "circuit" => format!("the circuit {name}"),
        "provider" => format!("{name}'s circuits"),
        other => format!("the {} {name}", other.replace('-', " ")),
    };

    // the network: what the data centers no longer reach, and who is left with one path
    let cut_off = loaded.network.cut_off_from_roots(&kept.reach, &failing.nodes, &failing.links);
    let off: BTreeSet<&str> = cut_off.iter().map(String::as_str).collect();
    let lost_nodes: BTreeSet<&str> = failing.nodes.iter().map(String::as_str).collect();
    let sessions = &loaded.sessions;
    let mut lost_sessions = Vec::new();
    for s in sessions {
        let partner_key = s.partner.as_ref().map(|p| format!("p:{p}"));
        let device = loaded.name(&s.device);
        let why = if failing.sessions.contains(&s.name) {
            Some("it fails".to_owned())
        } else if lost_nodes.contains(s.device.as_str()) {
            Some(format!("on {device}, which fails"))
        } else if off.contains(s.device.as_str()) {
            Some(format!("on {device}, which is cut off"))
        } else {
            match (&partner_key, &s.partner) {
                (Some(k), Some(p)) if lost_nodes.contains(k.as_str()) => Some(format!("to {p}, which fails")),
                (Some(k), Some(p)) if off.contains(k.as_str()) => Some(format!("to {p}, which is cut off")),
                _ => None,
            }
        };
        if let Some(why) = why {
            lost_sessions.push(BlastItem { name: s.name.clone(), effect: "lost".into(), why });
        }
    }
    let lost_names: BTreeSet<&str> = lost_sessions.iter().map(|s| s.name.as_str()).collect();
    let mut partners = Vec::new();
    let mut partners_off = Vec::new();
    let mut partner_keys: Vec<&String> = loaded.nodes.keys().filter(|k| k.starts_with("p:")).collect();
    partner_keys.sort();
    for key in &partner_keys {
        let partner = loaded.name(key);
        let theirs: Vec<&SessionEnd> = sessions.iter().filter(|s| s.partner.as_deref() == Some(partner.as_str())).collect();
        let why = if lost_nodes.contains(key.as_str()) {
            Some("it fails".to_owned())
        } else if off.contains(key.as_str()) {
            Some(format!("every path from the data centers to it goes through {what}"))
        } else if !theirs.is_empty() && theirs.iter().all(|s| lost_names.contains(s.name.as_str())) {
            Some("every BGP session to it is lost".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            partners_off.push(partner.clone());
            partners.push(BlastItem { name: partner, effect: "cut_off".into(), why });
        }
    }
    for key in &partner_keys {
        let before = kept.paths.get(*key).copied().unwrap_or(0);
        if before < 2 || partners_off.contains(&loaded.name(key)) {
            continue;
        }
        let after = loaded.network.independent_paths_without(&kept.roots, key, &failing.nodes, &failing.links);
        if after == 1 {
            partners.push(BlastItem { name: loaded.name(key), effect: "single_path".into(), why: format!("{before} independent paths from the data centers, one without {what}") });
        }
    }

    // the sites lost: every device of theirs fails or is cut off (a site asked for with no
    // devices is lost too)
    let mut at_site: HashMap<&str, (usize, usize)> = HashMap::new();
    for n in loaded.nodes.values().filter(|n| !n.partner) {
        if let Some(site) = n.site.as_deref() {
            let (all, gone) = at_site.entry(site).or_default();
            *all += 1;
            if lost_nodes.contains(n.key.as_str()) || off.contains(n.key.as_str()) {
                *gone += 1;
            }
        }
    }
    let mut sites_lost: Vec<String> = at_site.into_iter().filter(|(_, (all, gone))| all == gone).map(|(s, _)| s.to_owned()).collect();
    if kind == "site" && !sites_lost.iter().any(|s| s.as_str() == name) {
        sites_lost.push(name.to_owned());
    }
    sites_lost.sort();

    // the layers beyond, from the partners cut off and the sites lost
    let beyond: Beyond = serde_json::from_value(blast::beyond(&mut *conn, &partners_off, &sites_lost).await?).map_err(|e| TopologyError::Drawing(format!("the layers beyond: {e}")))?;
    let now = Utc::now();
    let systems = beyond
        .systems
        .into_iter()
        .map(|s| {
            let how = if s.relation == "reached_via" { "reached through" } else { "hosted by" };
            BlastItem { name: s.name, effect: "unreachable".into(), why: format!("{}: {how} {}, which is cut off", s.title, s.partner) }
        })
        .collect();
    let integrations = beyond
        .integrations
        .into_iter()
        .map(|i| BlastIntegration {
            next_run: next_run(i.schedule.as_deref(), &i.time_zone, now),
            why: if i.direction == "source" { format!("reads from {}", i.system) } else { format!("writes to {}", i.system) },
            name: i.name,
            title: i.title,
            owner: i.owner,
            on_call: i.on_call,
        })
        .collect();
    let services = beyond
        .services
        .into_iter()
        .map(|s| BlastService {
            why: match (s.via, s.runs_at, s.depends_on) {
                (Some(via), _, _) => format!("an end of the integration {via}"),
                (_, Some(sites), _) => format!("runs only at {sites}, which {} lost", if sites.contains(',') { "are" } else { "is" }),
                (_, _, Some(on)) => format!("depends on {on}"),
                _ => String::new(),
            },
            entity: s.entity,
            title: s.title,
            owner: s.owner,
            on_call: s.on_call,
        })
        .collect();
    let devices_lost = failing.nodes.iter().filter(|k| k.starts_with("d:")).map(|k| loaded.name(k)).collect();
    let devices_cut_off = cut_off.iter().filter(|k| k.starts_with("d:")).map(|k| loaded.name(k)).collect();
    Ok(Some(BlastRadius {
        kind: kind.to_owned(),
        name: name.to_owned(),
        version: loaded.version,
        devices_lost,
        devices_cut_off,
        sites_lost,
        partners,
        sessions: lost_sessions,
        systems,
        integrations,
        services,
        deploys: beyond.deploys,
        as_of: None,
    }))
}

/// The maintenance windows that overlap `[from, until)`, each with its blast radius (what is cut
/// off while its device, circuit or site is down), for the change calendar; its caller has
/// checked that its principal may read.
#[tracing::instrument(level = "debug", name = "topology.service.maintenance_effects", skip_all, err)]
pub async fn maintenance_effects(conn: &mut PgConnection, from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<(MaintenanceWindow, Option<BlastRadius>)>, TopologyError> {
    let windows = super::changes::windows_between(&mut *conn, from, until).await?;
    let mut out = Vec::with_capacity(windows.len());
    if windows.is_empty() {
        return Ok(out);
    }
    let kept = kept(&mut *conn).await?;
    for w in windows {
        let name = match &w.circuit {
            Some(c) => format!("{}/{}", c.provider, c.cid),
            None => w.subject.clone(),
        };
        let answer = radius(&mut *conn, &kept, &w.subject_kind, &name).await?;
        out.push((w, answer));
    }
    Ok(out)
}

/// The sites where each partner's BGP sessions land.
#[tracing::instrument(level = "debug", name = "topology.service.partner_sites", skip_all, err)]
pub async fn partner_sites(conn: &mut PgConnection) -> Result<HashMap<String, Vec<String>>, TopologyError> {
    Ok(blast::partner_sites(conn).await?.into_iter().collect())
}

/// A partner's independent paths from the data centers, and, when there is one, what every path
/// goes through (nearest the data centers first).
pub(super) fn paths_to(kept: &Kept, partner: &str) -> (u32, Vec<SinglePoint>) {
    let loaded = &kept.loaded;
    let key = format!("p:{partner}");
    let paths = kept.paths.get(&key).copied().unwrap_or(0);
    let through = if paths == 1 { loaded.network.single_points(&kept.reach, &key) } else { Vec::new() };
    let single_points = through
        .into_iter()
        .map(|t| match t {
            Through::Node(k) => SinglePoint { kind: if k.starts_with("p:") { "partner".into() } else { "device".into() }, name: loaded.name(&k) },
            Through::Links(links) => SinglePoint {
                kind: "link".into(),
                name: links.iter().map(|l| loaded.labels.get(l).cloned().unwrap_or_else(|| l.clone())).collect::<Vec<_>>().join(" + "),
            },
        })
        .collect();
    (paths, single_points)
}

/// What `repo::blast::needs` answers.
#[derive(Deserialize)]
struct Needs {
    entity: String,
    /// The `switchyard.dev/sites` annotation, as written.
    runs_at: String,
    systems: Vec<String>,
    integrations: Vec<NeededEnd>,
}

#[derive(Deserialize)]
struct NeededEnd {
    name: String,
    title: String,
    system: String,
    direction: String,
    partner: Option<String>,
}

/// What the component `namespace/name` needs from the network (anyone who may read): the
/// reverse of a blast radius, from the same kept structures — each partner's independent paths,
/// and its dominators as the single points of failure on its paths.
#[tracing::instrument(name = "topology.service.service_network", skip_all, err)]
pub async fn service_network(pool: &PgPool, principal: &Principal, namespace: &str, name: &str, as_of: Option<&str>) -> Result<ServiceNetwork, TopologyError> {
    principal.require_read()?;
    let as_of = as_of.map(str::trim).filter(|a| !a.is_empty());
    if let Some(a) = as_of {
        // a moment that is not one is refused before anything is read
        crate::audit::service::parse_moment("as_of", a, Utc::now())?;
    }
    let mut conn = pool.acquire().await?;
    let needs = blast::needs(&mut conn, namespace, name)
        .await?
        .ok_or_else(|| Refusal::not_found(format!("The component \"{}/{}\"", shown(namespace), shown(name))))?;
    let needs: Needs = serde_json::from_value(needs).map_err(|e| TopologyError::Drawing(format!("what the service needs: {e}")))?;
    let runs_at = crate::catalog::draft::sites_of(Some(&needs.runs_at));
    let integrations: Vec<NeededIntegration> = needs
        .integrations
        .iter()
        .map(|e| NeededIntegration {
            name: e.name.clone(),
            title: e.title.clone(),
            system: e.system.clone(),
            direction: if e.direction == "source" { "from".into() } else { "to".into() },
            partner: e.partner.clone(),
        })
        .collect();
    if as_of.is_none() && integrations.iter().all(|i| i.partner.is_none()) {
        // no partner on its way: the network need not be read
        let version = repo::version(&mut conn).await?;
        return Ok(ServiceNetwork { entity: needs.entity, version, runs_at, systems: needs.systems, integrations, partners: Vec::new(), as_of: None });
    }
    let (kept, then) = match as_of {
        None => (kept(&mut conn).await?, None),
        Some(a) => {
            let (kept, then) = kept_then(&mut conn, a).await?;
            (Arc::new(kept), Some(then))
        }
    };
    let loaded = &kept.loaded;
    let mut partners: Vec<NeededPartner> = Vec::new();
    for end in needs.integrations.iter().filter(|e| e.partner.is_some()) {
        let partner = end.partner.clone().unwrap_or_default();
        if let Some(p) = partners.iter_mut().find(|p| p.name == partner) {
            if !p.systems.contains(&end.system) {
                p.systems.push(end.system.clone());
            }
            continue;
        }
        let (paths, single_points) = paths_to(&kept, &partner);
        partners.push(NeededPartner { name: partner, systems: vec![end.system.clone()], paths, single_points });
    }
    partners.sort_by(|a, b| a.paths.cmp(&b.paths).then_with(|| a.name.cmp(&b.name)));
    Ok(ServiceNetwork { entity: needs.entity, version: loaded.version, runs_at, systems: needs.systems, integrations, partners, as_of: then })
}
