//! The approver's pre-flight card for a production deploy: what to know before saying yes,
//! across the layers — the health of the service's integrations over their last runs, the BGP
//! state of the partners on its path and the paths to them, the single points of failure on
//! those paths, maintenance on them and freezes of the environment, and the service's last
//! deploys there. Each fact links to its page.
//!
//! Two statements when the network's analysis is kept (`blast::kept`): the facts beyond the
//! network in one, the network's version in the other.
use super::blast::{kept, paths_to};
use super::TopologyError;
use crate::approvals::types::{Fact, FactGroup};
use crate::topology::repo::preflight;
use crate::topology::types::SinglePoint;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Deserialize)]
struct Facts {
    environment: String,
    integrations: Vec<Integration>,
    partners: Vec<Partner>,
    windows: Vec<Window>,
    freezes: Vec<Freeze>,
    deploys: Vec<Deploy>,
}

#[derive(Deserialize)]
struct Integration {
    name: String,
    title: String,
    health: String,
    reason: String,
    runs: i64,
    failed: i64,
}

#[derive(Deserialize)]
struct Partner {
    name: String,
    sessions: i64,
    established: i64,
    devices: Vec<String>,
}

#[derive(Deserialize)]
struct Window {
    title: String,
    kind: String,
    reference: Option<String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    device: Option<String>,
    site: Option<String>,
    circuit: Option<String>,
    circuit_partners: Vec<String>,
}

#[derive(Deserialize)]
struct Freeze {
    reason: String,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    schedule: Option<String>,
    duration_mins: Option<i32>,
}

#[derive(Deserialize)]
struct Deploy {
    id: Uuid,
    version: String,
    state: String,
    finished_at: Option<DateTime<Utc>>,
}

fn seg(s: &str) -> String {
    crate::topology::pages::seg(s)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// What the pre-flight facts and the kept network say: the facts, each partner's paths and
/// single points, and the maintenance windows on the path with why (and whether it is grave).
struct Read {
    facts: Facts,
    paths: Vec<(u32, Vec<SinglePoint>)>,
    /// (index into `facts.windows`, why, grave)
    on_path: Vec<(usize, String, bool)>,
}

async fn read(conn: &mut PgConnection, deploy: Option<Uuid>, service: Option<Uuid>, environment: &str, now: DateTime<Utc>) -> Result<Option<Read>, TopologyError> {
    let Some(facts) = preflight::facts(&mut *conn, deploy, service, environment, now).await? else { return Ok(None) };
    let facts: Facts = serde_json::from_value(facts).map_err(|e| TopologyError::Drawing(format!("the pre-flight facts: {e}")))?;
    // the paths to each partner on the way, and what every one of them goes through
    let kept = if facts.partners.is_empty() { None } else { Some(kept(&mut *conn).await?) };
    let paths: Vec<(u32, Vec<SinglePoint>)> = match &kept {
        Some(k) => facts.partners.iter().map(|p| paths_to(k, &p.name)).collect(),
        None => Vec::new(),
    };
    let site_of = |device: &str| kept.as_ref().and_then(|k| k.loaded.nodes.get(&format!("d:{device}"))).and_then(|n| n.site.clone());
    // maintenance on the path: on a single point, on a router with a session to a partner on it,
    // on a circuit to one, or at a site where one of those is
    let mut on_path = Vec::new();
    for (i, w) in facts.windows.iter().enumerate() {
        let mut why: Option<(String, bool)> = None;
        for (p, (k, points)) in facts.partners.iter().zip(&paths) {
            let single: Vec<&str> = points.iter().filter(|s| s.kind == "device").map(|s| s.name.as_str()).collect();
            let found = if w.device.as_deref().is_some_and(|d| single.contains(&d)) {
                Some((format!("a single point of failure to {}", p.name), true))
            } else if w.device.as_deref().is_some_and(|d| p.devices.iter().any(|x| x == d)) {
                Some((format!("a router with a BGP session to {}", p.name), *k < 2))
            } else if w.circuit_partners.iter().any(|x| x == &p.name) {
                Some((format!("a circuit to {}", p.name), *k < 2))
            } else if let Some(site) = &w.site {
                let at_site = |d: &str| site_of(d).is_some_and(|s| &s == site);
                if single.iter().any(|d| at_site(d)) {
                    Some((format!("at the site every path to {} goes through", p.name), true))
                } else if p.devices.iter().any(|d| at_site(d)) {
                    Some((format!("at a site with a BGP session to {}", p.name), *k < 2))
                } else {
                    None
                }
            } else {
                None
            };
            if let Some(f) = found {
                // the gravest reason
                if why.as_ref().is_none_or(|(_, grave)| !grave && f.1) {
                    why = Some(f);
                }
            }
        }
        if let Some((why, grave)) = why {
            on_path.push((i, why, grave));
        }
    }
    Ok(Some(Read { facts, paths, on_path }))
}

impl Window {
    /// What it is on, and that thing's page.
    fn subject(&self) -> Option<(String, String)> {
        match (&self.device, &self.circuit, &self.site) {
            (Some(d), _, _) => Some((d.clone(), format!("/topology/devices/{}", seg(d)))),
            (_, Some(c), _) => {
                let (provider, cid) = c.split_once('/').unwrap_or((c.as_str(), ""));
                Some((c.clone(), format!("/topology/circuits/{}/{}", seg(provider), seg(cid))))
            }
            (_, _, Some(s)) => Some((s.clone(), format!("/topology/sites/{}", seg(s)))),
            _ => None,
        }
    }

    fn named(&self) -> String {
        format!("{}{}", self.title, self.reference.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())
    }
}

/// The maintenance windows under way at `now` on the network path of a deploy of the component
/// `service` to `environment`, each said in a line (what, on what, until when, why): what a
/// blocking environment refuses a deploy for.
#[tracing::instrument(name = "topology.service.maintenance_clashes", skip_all, err)]
pub async fn clashes(conn: &mut PgConnection, service: Uuid, environment: &str, now: DateTime<Utc>) -> Result<Vec<String>, TopologyError> {
    let Some(r) = read(conn, None, Some(service), environment, now).await? else { return Ok(Vec::new()) };
    Ok(r.on_path
        .iter()
        .filter_map(|(i, why, _)| {
            let w = &r.facts.windows[*i];
            (w.starts_at <= now && now < w.ends_at).then(|| format!("{} on {}, until {}: {why}", w.named(), w.subject().map(|s| s.0).unwrap_or_default(), when(w.ends_at)))
        })
        .collect())
}

/// The pre-flight card of the deploy `deploy` (empty when there is no such deploy).
#[tracing::instrument(name = "topology.service.preflight", skip_all, err)]
pub async fn deploy(conn: &mut PgConnection, deploy: Uuid, now: DateTime<Utc>) -> Result<Vec<FactGroup>, TopologyError> {
    let Some(Read { facts, paths, on_path }) = read(conn, Some(deploy), None, "", now).await? else { return Ok(Vec::new()) };
    let integrations = FactGroup {
        title: "Its integrations, over their last runs".into(),
        empty: "It is no end of an integration.".into(),
        facts: facts
            .integrations
            .iter()
            .map(|i| Fact {
                label: i.title.clone(),
                value: format!(
                    "{}{}; {} of the last {} runs failed",
                    i.health,
                    if i.reason.is_empty() { String::new() } else { format!(" ({})", i.reason) },
                    i.failed,
                    i.runs
                ),
                href: Some(format!("/integrations/{}", seg(&i.name))),
                warn: matches!(i.health.as_str(), "failing" | "late" | "degraded"),
            })
            .collect(),
    };
    let partners = FactGroup {
        title: "Partners on its path".into(),
        empty: "Its integrations reach no partner.".into(),
        facts: facts
            .partners
            .iter()
            .zip(&paths)
            .map(|(p, (k, _))| Fact {
                label: p.name.clone(),
                value: format!("{} of {} BGP sessions established; {} independent path{} from the data centers", p.established, p.sessions, k, if *k == 1 { "" } else { "s" }),
                href: Some(format!("/topology/partners/{}", seg(&p.name))),
                warn: p.established < p.sessions || *k < 2,
            })
            .collect(),
    };
    let single = FactGroup {
        title: "Single points of failure on its path".into(),
        empty: "None: every partner on its path has two or more independent paths.".into(),
        facts: facts
            .partners
            .iter()
            .zip(&paths)
            .filter(|(_, (_, points))| !points.is_empty())
            .map(|(p, (_, points))| Fact {
                label: p.name.clone(),
                value: format!("every path goes through {}", points.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(" → ")),
                href: Some(format!("/topology/partners/{}", seg(&p.name))),
                warn: true,
            })
            .collect(),
    };

    let mut maintenance = Vec::new();
    for (i, why, grave) in &on_path {
        let w = &facts.windows[*i];
        let Some((subject, href)) = w.subject() else { continue };
        let now_on = w.starts_at <= now && now < w.ends_at;
        maintenance.push(Fact {
            label: w.named(),
            value: format!(
                "{} on {subject}, {} to {}{}: {why}",
                if w.kind == "carrier_notice" { "carrier's notice" } else { "planned work" },
                when(w.starts_at),
                when(w.ends_at),
                if now_on { ", under way now" } else { "" }
            ),
            href: Some(href),
            warn: *grave || now_on,
        });
    }
    for f in &facts.freezes {
        let (value, on) = match (&f.schedule, f.ends_at) {
            (Some(s), _) => (format!("{}: every \"{s}\" for {} min", f.reason, f.duration_mins.unwrap_or_default()), false),
            (None, Some(end)) => {
                let on = f.starts_at <= now && now < end;
                (format!("{}: {} to {}{}", f.reason, when(f.starts_at), when(end), if on { ", in force now" } else { "" }), on)
            }
            (None, None) => (f.reason.clone(), false),
        };
        maintenance.push(Fact { label: format!("Freeze of {}", facts.environment), value, href: Some("/deploys/freezes".into()), warn: on });
    }
    let maintenance = FactGroup {
        title: "Maintenance and freezes".into(),
        empty: "No maintenance on its path in the next 30 days, and no freeze of this environment.".into(),
        facts: maintenance,
    };
    let deploys = FactGroup {
        title: format!("Its last deploys to {}", facts.environment),
        empty: "None yet: this is its first.".into(),
        facts: facts
            .deploys
            .iter()
            .map(|d| Fact {
                label: d.version.clone(),
                value: format!("{}{}", d.state, d.finished_at.map(|t| format!(", {}", when(t))).unwrap_or_default()),
                href: Some(format!("/deploys/{}", d.id)),
                warn: d.state == "failed",
            })
            .collect(),
    };
    Ok(vec![integrations, partners, single, maintenance, deploys])
}
