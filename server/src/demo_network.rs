//! The demo company's network, as NetBox's REST API (4.x, with the netbox-bgp plugin) would
//! serve it, applied through the topology service exactly as a sync from that NetBox: two data
//! centers (Frankfurt, Ashburn) and two colocations (London, New York) on two continents, two
//! cloud regions, about 300 devices with interfaces and cables, six carriers' circuits, and BGP
//! sessions to banks, card networks and a cloud. The London colocation hangs on one core switch (a
//! single point of failure), and behind it is the extranet router of Deutsche Bank's one circuit
//! (single-homed): the core's loss cuts the bank off, and with it the EUR statement import into
//! the ledger. Loaded once: a second load changes nothing.
use app::context::RequestMeta;
use serde_json::{json, Value};
use std::collections::HashMap;

/// The company's own ASN (a documentation ASN, RFC 5398).
const OUR_ASN: i64 = 64496;

/// (slug, name, kind tag, region, facility, latitude, longitude, time zone)
const SITES: &[(&str, &str, &str, &str, &str, f64, f64, &str)] = &[
    ("fra1", "fra1", "data-center", "Europe", "Frankfurt DC, Hanauer Landstraße", 50.1109, 8.6821, "Europe/Berlin"),
    ("iad1", "iad1", "data-center", "North America", "Ashburn DC, Loudoun County", 39.0438, -77.4874, "America/New_York"),
    ("ldn-eq", "ldn-eq", "colocation", "Europe", "Equinix LD5, Slough", 51.5226, -0.6290, "Europe/London"),
    ("nyc-eq", "nyc-eq", "colocation", "North America", "Equinix NY5, Secaucus", 40.7895, -74.0565, "America/New_York"),
    ("aws-eu-central-1", "aws-eu-central-1", "cloud-region", "Europe", "AWS Frankfurt region", 50.0, 8.5, "Europe/Berlin"),
    ("aws-us-east-1", "aws-us-east-1", "cloud-region", "North America", "AWS N. Virginia region", 38.9, -77.3, "America/New_York"),
];

/// (name, kind tag, ASN, description)
const PARTNERS: &[(&str, &str, i64, &str)] = &[
    ("Barclays", "bank", 64500, "Sterling settlement and BACS files"),
    ("J.P. Morgan", "bank", 64501, "USD treasury and ACH"),
    ("Deutsche Bank", "bank", 64502, "EUR settlement (SEPA) and statements: one circuit, into the London extranet router only"),
    ("Visa", "card-network", 64503, "Authorisations and Base II clearing"),
    ("Mastercard", "card-network", 64504, "Authorisations and IPM clearing"),
    ("AWS", "cloud", 64505, "Direct Connect to eu-central-1 and us-east-1"),
];

const CARRIERS: &[&str] = &["Colt", "Lumen", "Zayo", "Cogent", "GTT", "AWS Direct Connect"];

/// Builds the export, one NetBox id space per kind.
#[derive(Default)]
struct Export {
    kinds: HashMap<String, Vec<Value>>,
    /// per device: how many interfaces it has so far
    ports: HashMap<i64, u32>,
    devices: HashMap<String, (i64, String)>,
    racks: HashMap<String, i64>,
    next_ip: u32,
}

impl Export {
    fn push(&mut self, kind: &str, mut object: Value) -> i64 {
        let list = self.kinds.entry(kind.to_owned()).or_default();
        let id = list.len() as i64 + 1;
        object["id"] = json!(id);
        list.push(object);
        id
    }

    fn device(&mut self, site: (i64, &str), name: &str, role: &str, model: (&str, &str), pci: bool) {
        let rack_name = format!("{}-r{:02}", site.1, self.kinds.get("devices").map_or(0, |d| d.iter().filter(|x| x["site"]["id"] == site.0).count()) / 20 + 1);
        let rack = match self.racks.get(&rack_name) {
            Some(r) => *r,
            None => {
                let r = self.push("racks", json!({ "name": rack_name, "site": { "id": site.0, "name": site.1 }, "u_height": 42, "location": { "name": "Hall 1" } }));
                self.racks.insert(rack_name.clone(), r);
                r
            }
        };
        let n = self.devices.len() as u32;
        let tags: Vec<Value> = if pci { vec![json!({ "slug": "pci" })] } else { vec![] };
        let id = self.push(
            "devices",
            json!({
                "name": name, "role": { "name": role },
                "device_type": { "manufacturer": { "name": model.0 }, "model": model.1 },
                "platform": { "name": match model.0 { "Juniper" => "Junos", "Arista" => "EOS", "Palo Alto" => "PAN-OS", "Thales" => "Luna", "AWS" => "AWS", _ => "Linux" } },
                "serial": format!("SY{:06}", 100_000 + n), "status": { "value": "active" },
                "site": { "id": site.0, "name": site.1 }, "rack": { "id": rack }, "position": (n % 20) * 2 + 1,
                "primary_ip4": { "address": format!("10.{}.{}.{}/32", site.0, n / 250, n % 250 + 1) }, "tags": tags,
            }),
        );
        self.devices.insert(name.to_owned(), (id, site.1.to_owned()));
    }

    fn port(&mut self, device: &str, speed: i64) -> i64 {
        let (id, _) = self.devices[device].clone();
        let n = self.ports.entry(id).or_default();
        *n += 1;
        let name = format!("et-0/0/{}", *n - 1);
        self.push("interfaces", json!({ "device": { "id": id, "name": device }, "name": name, "type": { "value": "10gbase-x-sfpp" }, "speed": speed, "enabled": true }))
    }

    fn cable(&mut self, a: &str, b: &str) {
        let (ia, ib) = (self.port(a, 10_000_000), self.port(b, 10_000_000));
        self.push(
            "links",
            json!({
                "label": null, "status": { "value": "connected" },
                "a_terminations": [{ "object_type": "dcim.interface", "object_id": ia }],
                "b_terminations": [{ "object_type": "dcim.interface", "object_id": ib }],
            }),
        );
    }

    fn to_end(&mut self, device: &str, end: i64) {
        let i = self.port(device, 10_000_000);
        self.push(
            "links",
            json!({
                "label": null, "status": { "value": "connected" },
                "a_terminations": [{ "object_type": "dcim.interface", "object_id": i }],
                "b_terminations": [{ "object_type": "circuits.circuittermination", "object_id": end }],
            }),
        );
    }

    fn provider(&self, name: &str) -> i64 {
        CARRIERS.iter().position(|c| *c == name).map(|i| i as i64 + 1).unwrap_or(1)
    }

    /// A circuit between two devices at two sites, each cabled to its end.
    fn circuit(&mut self, carrier: &str, cid: &str, a: &str, z: &str, rate: i64) {
        let provider = self.provider(carrier);
        let c = self.push("circuits", json!({ "cid": cid, "provider": { "id": provider, "name": carrier }, "type": { "name": "Wavelength" }, "status": { "value": "active" }, "commit_rate": rate, "description": "" }));
        for (side, device) in [("A", a), ("Z", z)] {
            let site = self.devices[device].1.clone();
            let site_id = SITES.iter().position(|s| s.0 == site).map(|i| i as i64 + 1).unwrap_or(1);
            let end = self.push(
                "circuit_ends",
                json!({ "circuit": { "id": c }, "term_side": side, "termination_type": "dcim.site", "termination": { "id": site_id, "name": site }, "port_speed": rate }),
            );
            self.to_end(device, end);
        }
    }

    /// A circuit from a router to a partner's network, and the BGP session over it.
    fn to_partner(&mut self, carrier: &str, cid: &str, device: &str, partner: usize) {
        let provider = self.provider(carrier);
        let name = PARTNERS[partner].0;
        let c = self.push("circuits", json!({ "cid": cid, "provider": { "id": provider, "name": carrier }, "type": { "name": "Ethernet private line" }, "status": { "value": "active" }, "commit_rate": 1_000_000, "description": format!("to {name}") }));
        let site = self.devices[device].1.clone();
        let site_id = SITES.iter().position(|s| s.0 == site).map(|i| i as i64 + 1).unwrap_or(1);
        let a = self.push("circuit_ends", json!({ "circuit": { "id": c }, "term_side": "A", "termination_type": "dcim.site", "termination": { "id": site_id, "name": site }, "port_speed": 1_000_000 }));
        self.push("circuit_ends", json!({ "circuit": { "id": c }, "term_side": "Z", "termination_type": "circuits.providernetwork", "termination": { "id": partner + 1, "name": name }, "port_speed": 1_000_000 }));
        self.to_end(device, a);
        self.session(device, partner);
    }

    fn session(&mut self, device: &str, partner: usize) {
        let (name, _, asn, _) = PARTNERS[partner];
        let (id, _) = self.devices[device].clone();
        self.next_ip += 1;
        let (local, remote) = (format!("198.51.100.{}/31", self.next_ip * 2), format!("198.51.100.{}/31", self.next_ip * 2 + 1));
        let policy = name.to_ascii_lowercase().replace(['.', ' '], "-");
        self.push(
            "bgp_sessions",
            json!({
                "name": format!("{device} → {name}"), "device": { "id": id, "name": device },
                "local_address": { "address": local }, "local_as": { "asn": OUR_ASN },
                "remote_address": { "address": remote }, "remote_as": { "asn": asn },
                "import_policies": [{ "name": format!("{policy}-in") }], "export_policies": [{ "name": format!("{policy}-out") }],
            }),
        );
    }
}

/// The demo network as NetBox would serve it.
pub fn export() -> HashMap<String, Vec<Value>> {
    let mut x = Export::default();
    for (_, name, tag, region, facility, lat, lon, tz) in SITES {
        x.push("sites", json!({ "name": name, "tags": [{ "slug": tag }], "status": { "value": "active" }, "region": { "name": region },
            "facility": facility, "latitude": lat, "longitude": lon, "time_zone": tz, "description": "" }));
    }
    for (name, tag, asn, description) in PARTNERS {
        let t = x.push("partners", json!({ "name": name, "group": { "slug": "partners" }, "tags": [{ "slug": tag }], "description": description }));
        x.push("asns", json!({ "asn": asn, "tenant": { "id": t, "name": name } }));
        // each partner's network operations centre, and the person who answers for the relation
        let domain = name.to_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "");
        let noc = x.push("contacts", json!({ "name": format!("{name} NOC"), "title": "Network operations, 24×7", "email": format!("noc@{domain}.example"), "phone": "+44 20 7946 0000" }));
        let owner = x.push("contacts", json!({ "name": format!("{name} relationship desk"), "title": "Connectivity and onboarding", "email": format!("connect@{domain}.example"), "phone": "" }));
        x.push("contact_assignments", json!({ "object_type": "tenancy.tenant", "object_id": t, "contact": { "id": noc }, "role": { "name": "NOC" }, "priority": { "value": "primary" } }));
        x.push("contact_assignments", json!({ "object_type": "tenancy.tenant", "object_id": t, "contact": { "id": owner }, "role": { "name": "Account" }, "priority": { "value": "secondary" } }));
    }
    for c in CARRIERS {
        x.push("providers", json!({ "name": c, "asns": [] }));
    }
    let site = |slug: &str| (SITES.iter().position(|s| s.0 == slug).unwrap() as i64 + 1, SITES.iter().find(|s| s.0 == slug).unwrap().0);
    // the data centers: border, firewalls, load balancers, core, spines, leaves, HSMs, servers
    for dc in ["fra1", "iad1"] {
        let s = site(dc);
        let d = |role: &str, i: usize| format!("{dc}-{role}-{i}");
        for i in 1..=2 {
            x.device(s, &d("border", i), "border router", ("Juniper", "MX304"), false);
        }
        for i in 1..=2 {
            x.device(s, &d("fw", i), "firewall", ("Palo Alto", "PA-5450"), true);
            x.device(s, &d("lb", i), "load balancer", ("F5", "rSeries 5600"), false);
            x.device(s, &d("core", i), "core switch", ("Arista", "7800R3"), false);
        }
        for i in 1..=4 {
            x.device(s, &d("spine", i), "spine", ("Arista", "7280R3"), false);
        }
        for i in 1..=16 {
            x.device(s, &d("leaf", i), "leaf", ("Arista", "7050X3"), i <= 4);
        }
        for i in 1..=4 {
            x.device(s, &d("hsm", i), "hsm", ("Thales", "Luna 7"), true);
        }
        for i in 1..=80 {
            x.device(s, &d("srv", i), "server", ("Dell", "PowerEdge R760"), i <= 16);
        }
        x.cable(&d("border", 1), &d("border", 2));
        for b in 1..=2 {
            for c in 1..=2 {
                x.cable(&d("border", b), &d("core", c));
            }
        }
        // the core pair: two parallel cables (one path, not two)
        x.cable(&d("core", 1), &d("core", 2));
        x.cable(&d("core", 1), &d("core", 2));
        for i in 1..=2 {
            for c in 1..=2 {
                x.cable(&d("core", c), &d("fw", i));
                x.cable(&d("core", c), &d("lb", i));
            }
            for sp in 1..=4 {
                x.cable(&d("core", i), &d("spine", sp));
            }
        }
        for sp in 1..=4 {
            for l in 1..=16 {
                x.cable(&d("spine", sp), &d("leaf", l));
            }
        }
        for i in 1..=4 {
            x.cable(&d("hsm", i), &d("leaf", 1));
            x.cable(&d("hsm", i), &d("leaf", 2));
        }
        for i in 1..=80 {
            let pair = ((i - 1) / 10) * 2 + 1;
            x.cable(&d("srv", i), &d("leaf", pair));
            x.cable(&d("srv", i), &d("leaf", pair + 1));
        }
    }
    // the colocations: two border routers, one core switch (London's is the single point of
    // failure; New York has two), leaves and servers
    for (colo, cores) in [("ldn-eq", 1), ("nyc-eq", 2)] {
        let s = site(colo);
        let d = |role: &str, i: usize| format!("{colo}-{role}-{i}");
        for i in 1..=2 {
            x.device(s, &d("border", i), "border router", ("Juniper", "MX204"), false);
        }
        for i in 1..=cores {
            x.device(s, &d("core", i), "core switch", ("Arista", "7280R3"), false);
        }
        x.device(s, &d("fw", 1), "firewall", ("Palo Alto", "PA-3440"), true);
        for i in 1..=4 {
            x.device(s, &d("leaf", i), "leaf", ("Arista", "7050X3"), false);
        }
        for i in 1..=16 {
            x.device(s, &d("srv", i), "server", ("Dell", "PowerEdge R660"), false);
        }
        x.cable(&d("border", 1), &d("border", 2));
        for c in 1..=cores {
            x.cable(&d("border", 1), &d("core", c));
            x.cable(&d("border", 2), &d("core", c));
            x.cable(&d("core", c), &d("fw", 1));
            for l in 1..=4 {
                x.cable(&d("core", c), &d("leaf", l));
            }
        }
        for i in 1..=16 {
            let pair = ((i - 1) / 8) * 2 + 1;
            x.cable(&d("srv", i), &d("leaf", pair));
            x.cable(&d("srv", i), &d("leaf", pair + 1));
        }
    }
    // the cloud regions: a virtual gateway each
    for region in ["aws-eu-central-1", "aws-us-east-1"] {
        x.device(site(region), &format!("{region}-vgw"), "cloud gateway", ("AWS", "Direct Connect gateway"), false);
    }
    // London's extranet router, for the banks that come into the colocation: behind its one core
    x.device(site("ldn-eq"), "ldn-eq-ext-1", "extranet router", ("Juniper", "MX204"), true);
    x.cable("ldn-eq-core-1", "ldn-eq-ext-1");
    // circuits between the sites, two carriers per pair where it matters
    x.circuit("Colt", "COLT-FRA-LDN-101", "fra1-border-1", "ldn-eq-border-1", 10_000_000);
    x.circuit("Zayo", "ZAYO-FRA-LDN-7731", "fra1-border-2", "ldn-eq-border-2", 10_000_000);
    x.circuit("Lumen", "LUMEN-IAD-NYC-4410", "iad1-border-1", "nyc-eq-border-1", 10_000_000);
    x.circuit("Zayo", "ZAYO-IAD-NYC-7790", "iad1-border-2", "nyc-eq-border-2", 10_000_000);
    x.circuit("GTT", "GTT-TA-FRA-IAD-1", "fra1-border-1", "iad1-border-1", 10_000_000);
    x.circuit("Lumen", "LUMEN-TA-LDN-NYC-2", "ldn-eq-border-2", "nyc-eq-border-2", 10_000_000);
    x.circuit("Cogent", "COGENT-TA-FRA-IAD-3", "fra1-border-2", "iad1-border-2", 10_000_000);
    x.circuit("AWS Direct Connect", "DXCON-FRA-1", "fra1-border-1", "aws-eu-central-1-vgw", 10_000_000);
    x.circuit("AWS Direct Connect", "DXCON-FRA-2", "fra1-border-2", "aws-eu-central-1-vgw", 10_000_000);
    x.circuit("AWS Direct Connect", "DXCON-IAD-1", "iad1-border-1", "aws-us-east-1-vgw", 10_000_000);
    x.circuit("AWS Direct Connect", "DXCON-IAD-2", "iad1-border-2", "aws-us-east-1-vgw", 10_000_000);
    // partners: two circuits each from different routers; Deutsche Bank one, into London's
    // extranet router
    x.to_partner("Colt", "COLT-BARC-201", "ldn-eq-border-1", 0);
    x.to_partner("Zayo", "ZAYO-BARC-202", "fra1-border-2", 0);
    x.to_partner("Lumen", "LUMEN-JPM-301", "nyc-eq-border-1", 1);
    x.to_partner("Zayo", "ZAYO-JPM-302", "iad1-border-2", 1);
    x.to_partner("Colt", "COLT-DB-401", "ldn-eq-ext-1", 2);
    x.to_partner("Colt", "COLT-VISA-501", "fra1-border-1", 3);
    x.to_partner("GTT", "GTT-VISA-502", "iad1-border-1", 3);
    x.to_partner("Lumen", "LUMEN-MC-601", "iad1-border-2", 4);
    x.to_partner("Cogent", "COGENT-MC-602", "fra1-border-2", 4);
    // AWS: sessions over the Direct Connect circuits
    for b in ["fra1-border-1", "fra1-border-2", "iad1-border-1", "iad1-border-2"] {
        x.session(b, 5);
    }
    x.kinds
}

/// Loads the demo network (once: a second load finds it there and changes nothing).
pub async fn load(pool: &sqlx::PgPool) -> Result<(), String> {
    let meta = RequestMeta { request_id: "demo-data".into(), ip: "127.0.0.1".into() };
    let report = app::topology::service::apply_netbox_export(pool, &export(), false, &meta).await.map_err(|e| format!("the demo network does not load: {e}"))?;
    let made: u32 = report.kinds.iter().map(|k| k.counts.created).sum();
    app::topology::service::changes::load_demo_maintenance(pool, &maintenance(chrono::Utc::now()), &meta)
        .await
        .map_err(|e| format!("the demo network's maintenance does not load: {e}"))?;
    tracing::info!(created = made, "demo network loaded");
    Ok(())
}

/// The coming weeks' work: a carrier's notice on a circuit to a bank, planned work on the core
/// device that is a single point of failure, planned work on the extranet router Deutsche Bank's
/// only circuit lands on (during the morning import of its statements), and power work at a
/// colocation.
fn maintenance(now: chrono::DateTime<chrono::Utc>) -> Vec<app::topology::types::MaintenanceForm> {
    use app::topology::types::{CircuitName, MaintenanceForm};
    // midnight UTC, `days` from today, plus `hours`
    let at = |days: i64, hours: i64| {
        let midnight = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        (midnight + chrono::Duration::days(days) + chrono::Duration::hours(hours)).to_rfc3339()
    };
    vec![
        MaintenanceForm {
            circuit: Some(CircuitName { provider: "Colt".into(), cid: "COLT-BARC-201".into() }),
            kind: Some("carrier_notice".into()),
            title: "Fibre repair between Slough and the City".into(),
            reference: Some("COLT-PWIC-58213".into()),
            starts_at: at(3, 1),
            ends_at: at(3, 5),
            ..Default::default()
        },
        MaintenanceForm {
            device: Some("ldn-eq-core-1".into()),
            kind: Some("planned".into()),
            title: "Software upgrade (the core is a single point of failure: plan the bypass)".into(),
            reference: Some("CHG-2291".into()),
            starts_at: at(9, 22),
            ends_at: at(10, 2),
            ..Default::default()
        },
        MaintenanceForm {
            device: Some("ldn-eq-ext-1".into()),
            kind: Some("planned".into()),
            title: "Line card swap on the extranet router".into(),
            reference: Some("CHG-2304".into()),
            starts_at: at(5, 6),
            ends_at: at(5, 8),
            ..Default::default()
        },
        MaintenanceForm {
            site: Some("nyc-eq".into()),
            kind: Some("carrier_notice".into()),
            title: "Equinix NY5 UPS maintenance, feed B".into(),
            reference: Some("EQX-NY5-77120".into()),
            starts_at: at(16, 6),
            ends_at: at(16, 10),
            ..Default::default()
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_network_is_a_payments_companys_size() {
        let x = export();
        let count = |k: &str| x.get(k).map_or(0, Vec::len);
        assert!((250..=350).contains(&count("devices")), "about 300 devices, not {}", count("devices"));
        assert_eq!(count("sites"), 6);
        assert_eq!(count("providers"), 6);
        assert_eq!(count("partners"), 6);
        // every cable's interface ends are interfaces that exist
        let interfaces = count("interfaces") as i64;
        for c in &x["links"] {
            for side in ["a_terminations", "b_terminations"] {
                let t = &c[side][0];
                if t["object_type"] == "dcim.interface" {
                    assert!((1..=interfaces).contains(&t["object_id"].as_i64().unwrap()));
                }
            }
        }
    }
}
