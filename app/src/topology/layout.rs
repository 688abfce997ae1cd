//! Where the topology view draws each device and partner: deterministic (the same network gives
//! the same drawing), computed once per version of the network and kept (`topology_layouts`).
//! Sites are boxes, placed by their coordinates when every site has distinct ones, else in a
//! grid by name; inside a site devices stand in tiers by role (border routers on top, servers at
//! the bottom), or where the drawing they came from placed them; partners stand in a row below.
use super::types::{Drawing, DrawnEdge, DrawnNode, SiteBox};
use std::collections::BTreeMap;

/// A device or partner to place.
pub struct Place {
    pub key: String,
    pub name: String,
    pub partner: bool,
    pub role: String,
    pub status: String,
    pub pci: bool,
    pub weak: bool,
    pub site: Option<String>,
    pub site_kind: Option<String>,
    pub site_at: Option<(f64, f64)>,
    /// Where the drawing it came from placed it.
    pub drawn_at: Option<(f64, f64)>,
}

/// What joins two of them.
pub struct Join {
    pub key: String,
    pub label: String,
    pub a: String,
    pub b: String,
}

const STEP: f64 = 24.0;
const TIER: f64 = 48.0;
const MARGIN: f64 = 24.0;
/// The most devices in one row of a tier: a wider tier wraps (a site of thousands has rows
/// of about the square root of twice its count, so it is about as tall as wide).
const ROW: usize = 40;

/// The tier a role stands in, top to bottom.
fn tier(role: &str) -> u8 {
    let r = role.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| r.contains(w));
    if has(&["border", "edge", "peering", "wan", "internet"]) {
        0
    } else if has(&["firewall", "load", "balancer", "vpn"]) {
        1
    } else if has(&["core", "spine", "router"]) {
        2
    } else if has(&["leaf", "distribution", "aggregation", "switch", "tor"]) {
        3
    } else {
        4
    }
}

/// The drawing of a network: every place placed, every join between two placed ones.
pub fn lay_out(version: i64, places: Vec<Place>, joins: Vec<Join>) -> Drawing {
    let mut sites: BTreeMap<String, Vec<&Place>> = BTreeMap::new();
    let mut partners: Vec<&Place> = Vec::new();
    for p in &places {
        if p.partner {
            partners.push(p);
        } else {
            sites.entry(p.site.clone().unwrap_or_else(|| "(no site)".into())).or_default().push(p);
        }
    }
    // each site's devices, placed inside its box (top left at 0, 0)
    let mut boxes: Vec<(String, String, Option<(f64, f64)>, f64, f64, Vec<(&Place, f64, f64)>)> = Vec::new();
    for (site, mut devices) in sites {
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        let kind = devices.iter().find_map(|d| d.site_kind.clone()).unwrap_or_else(|| "other".into());
        let at = devices.iter().find_map(|d| d.site_at);
        let placed: Vec<(&Place, f64, f64)> = if devices.iter().all(|d| d.drawn_at.is_some()) && devices.len() > 1 {
            // as the drawing had them, scaled into a box that grows with the square root of the count
            let side = STEP * (devices.len() as f64).sqrt() * 3.0;
            let (xs, ys): (Vec<f64>, Vec<f64>) = devices.iter().filter_map(|d| d.drawn_at).unzip();
            let (x0, x1) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            let (y0, y1) = (ys.iter().copied().fold(f64::INFINITY, f64::min), ys.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            let scale = side / (x1 - x0).max(y1 - y0).max(1e-9);
            devices.iter().filter_map(|d| d.drawn_at.map(|(x, y)| (*d, MARGIN + (x - x0) * scale, MARGIN + (y - y0) * scale))).collect()
        } else {
            let mut by_tier: BTreeMap<u8, Vec<&Place>> = BTreeMap::new();
            for d in &devices {
                by_tier.entry(tier(&d.role)).or_default().push(d);
            }
            let mut row = 0usize;
            let mut out = Vec::new();
            let per_row = ROW.max(((devices.len() * 2) as f64).sqrt().ceil() as usize);
            for (_, members) in by_tier {
                for chunk in members.chunks(per_row) {
                    let width = (chunk.len() - 1) as f64 * STEP;
                    let full = (per_row.min(devices.len()) - 1) as f64 * STEP;
                    for (i, d) in chunk.iter().enumerate() {
                        out.push((*d, MARGIN + (full - width) / 2.0 + i as f64 * STEP, MARGIN + row as f64 * TIER));
                    }
                    row += 1;
                }
            }
            out
        };
        let width = placed.iter().map(|p| p.1).fold(0.0, f64::max) + MARGIN;
        let height = placed.iter().map(|p| p.2).fold(0.0, f64::max) + MARGIN;
        boxes.push((site, kind, at, width, height, placed));
    }
    // the boxes: by coordinates when every site has distinct ones, else a grid
    let biggest = boxes.iter().map(|b| b.3.max(b.4)).fold(0.0, f64::max) + 2.0 * MARGIN;
    let coordinates: Option<Vec<(f64, f64)>> = boxes.iter().map(|b| b.2).collect();
    let spread = coordinates.as_ref().and_then(|at| {
        let mut nearest = f64::INFINITY;
        for (i, a) in at.iter().enumerate() {
            for b in &at[i + 1..] {
                nearest = nearest.min(((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt());
            }
        }
        // distinct places, and a map no wider than a grid of the same boxes would be by far
        (at.len() > 1 && nearest > 1e-6).then_some(biggest * 1.2 / nearest).filter(|scale| {
            let (lons, lats): (Vec<f64>, Vec<f64>) = at.iter().map(|(lat, lon)| (*lon, *lat)).unzip();
            let wide = lons.iter().copied().fold(f64::NEG_INFINITY, f64::max) - lons.iter().copied().fold(f64::INFINITY, f64::min);
            let tall = lats.iter().copied().fold(f64::NEG_INFINITY, f64::max) - lats.iter().copied().fold(f64::INFINITY, f64::min);
            (wide.max(tall) * scale) < biggest * 40.0
        })
    });
    let columns = (boxes.len() as f64).sqrt().ceil().max(1.0) as usize;
    let mut origins = Vec::with_capacity(boxes.len());
    for (i, b) in boxes.iter().enumerate() {
        origins.push(match (spread, b.2) {
            (Some(scale), Some((lat, lon))) => (lon * scale, -lat * scale),
            _ => ((i % columns) as f64 * biggest, (i / columns) as f64 * biggest),
        });
    }
    // shift so the drawing starts at 0, 0
    let (min_x, min_y) = origins.iter().fold((f64::INFINITY, f64::INFINITY), |m, o| (m.0.min(o.0), m.1.min(o.1)));
    let (min_x, min_y) = if origins.is_empty() { (0.0, 0.0) } else { (min_x, min_y) };
    let mut nodes = Vec::with_capacity(places.len());
    let mut site_boxes = Vec::with_capacity(boxes.len());
    let mut bottom: f64 = 0.0;
    for ((site, kind, _, width, height, placed), (ox, oy)) in boxes.into_iter().zip(origins) {
        let (ox, oy) = (ox - min_x, oy - min_y);
        bottom = bottom.max(oy + height);
        site_boxes.push(SiteBox { name: site, kind, x: ox, y: oy, width, height });
        for (p, x, y) in placed {
            nodes.push(node(p, ox + x, oy + y));
        }
    }
    partners.sort_by(|a, b| a.name.cmp(&b.name));
    let per_row = (columns * 6).max(8);
    for (i, p) in partners.into_iter().enumerate() {
        nodes.push(node(p, (i % per_row) as f64 * STEP * 3.0, bottom + 2.0 * TIER + (i / per_row) as f64 * TIER));
    }
    let index: std::collections::HashMap<&str, u32> = nodes.iter().enumerate().map(|(i, n)| (n.key.as_str(), i as u32)).collect();
    let links = joins
        .iter()
        .filter_map(|j| {
            let (a, b) = (*index.get(j.a.as_str())?, *index.get(j.b.as_str())?);
            let kind = match j.key.split_once(':').map(|(k, _)| k) {
                Some("c") => "circuit",
                Some("s") => "session",
                _ => "link",
            };
            Some(DrawnEdge { key: j.key.clone(), a, b, kind: kind.into(), label: j.label.clone() })
        })
        .collect();
    Drawing { version, nodes, links, sites: site_boxes, weak_points: Vec::new(), partner_findings: Vec::new() }
}

fn node(p: &Place, x: f64, y: f64) -> DrawnNode {
    DrawnNode {
        key: p.key.clone(),
        name: p.name.clone(),
        kind: if p.partner { "partner" } else { "device" }.into(),
        role: p.role.clone(),
        site: p.site.clone(),
        status: p.status.clone(),
        pci: p.pci,
        weak: p.weak,
        x: (x * 10.0).round() / 10.0,
        y: (y * 10.0).round() / 10.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, site: &str, role: &str) -> Place {
        Place {
            key: format!("d:{name}"),
            name: name.into(),
            partner: false,
            role: role.into(),
            status: "active".into(),
            pci: false,
            weak: false,
            site: Some(site.into()),
            site_kind: Some("data_center".into()),
            site_at: None,
            drawn_at: None,
        }
    }

    #[test]
    fn devices_stand_in_tiers_by_role_and_the_same_network_draws_the_same() {
        let places = || vec![device("srv1", "fra1", "server"), device("br1", "fra1", "border router"), device("sp1", "fra1", "spine"), device("x", "lon1", "leaf")];
        let joins = || vec![Join { key: "l:1".into(), label: "br1 – sp1".into(), a: "d:br1".into(), b: "d:sp1".into() }];
        let drawing = lay_out(7, places(), joins());
        let y = |name: &str| drawing.nodes.iter().find(|n| n.name == name).map(|n| n.y).expect("placed");
        assert!(y("br1") < y("sp1") && y("sp1") < y("srv1"), "border above spine above server");
        assert_eq!(drawing.sites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["fra1", "lon1"]);
        assert_eq!(drawing.links.len(), 1);
        assert_eq!(lay_out(7, places(), joins()), drawing, "deterministic");
        // boxes of a grid do not overlap
        let (a, b) = (&drawing.sites[0], &drawing.sites[1]);
        assert!(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y);
    }

    #[test]
    fn a_drawings_own_places_are_kept_and_partners_stand_below() {
        let mut a = device("a", "zoo", "other");
        a.drawn_at = Some((0.0, 0.0));
        let mut b = device("b", "zoo", "other");
        b.drawn_at = Some((100.0, 50.0));
        let mut p = device("Bank", "", "");
        p.partner = true;
        p.key = "p:Bank".into();
        p.site = None;
        let drawing = lay_out(1, vec![a, b, p], vec![]);
        let at = |name: &str| drawing.nodes.iter().find(|n| n.name == name).map(|n| (n.x, n.y)).expect("placed");
        let ((ax, ay), (bx, by)) = (at("a"), at("b"));
        assert!(bx > ax && by > ay && ((bx - ax) / (by - ay) - 2.0).abs() < 0.01, "the drawing's proportions");
        assert!(at("Bank").1 > by, "partners below the sites");
    }
}
