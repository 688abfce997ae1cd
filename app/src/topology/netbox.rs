//! Reading a NetBox through its REST API (4.x shapes), and what its objects are here. The objects
//! of the kinds the topology keeps (of the many, only those changed since the last sync) are read,
//! a page of 1,000 at a time, before anything is written: a sync that fails half-way applies
//! nothing.
use serde_json::{json, Value};
use std::collections::HashMap;

/// The kinds read, in the order they are read and applied (parents first), by their REST paths.
/// Partners are the tenants of the tenant group `partners` (their ASNs are NetBox's ASNs of that
/// tenant, read from `ipam/asns/`); BGP sessions come from the netbox-bgp plugin when it is
/// installed (a NetBox without it answers 404, and sessions are left as they are).
pub const KINDS: [(&str, &str); 10] = [
    ("sites", "dcim/sites/"),
    ("racks", "dcim/racks/"),
    ("partners", "tenancy/tenants/"),
    ("devices", "dcim/devices/"),
    ("interfaces", "dcim/interfaces/"),
    ("providers", "circuits/providers/"),
    ("circuits", "circuits/circuits/"),
    ("circuit_ends", "circuits/circuit-terminations/"),
    ("links", "dcim/cables/"),
    ("bgp_sessions", "plugins/bgp/session/"),
];

/// The NetBox the server is configured with, as server functions find it in their context:
/// a client, or why there is none; and the seconds between scheduled syncs (0: none).
#[derive(Clone)]
pub struct Source {
    pub client: Result<NetBox, String>,
    pub every_secs: f64,
}

/// The tenant group whose tenants are partners.
pub const PARTNER_GROUP: &str = "partners";

/// The ASNs, read with the partners (each partner's are those of its tenant).
pub const ASNS: &str = "ipam/asns/";

/// The contacts and their assignments, read with the partners (each partner's are the contacts
/// assigned to its tenant).
pub const CONTACTS: &str = "tenancy/contacts/";
pub const CONTACT_ASSIGNMENTS: &str = "tenancy/contact-assignments/";

/// The kinds there are many of (one per port, one per cable), which a sync may read
/// incrementally: every id (`?fields=id`, to find what NetBox removed), and whole only the
/// objects changed since (`?last_updated__gte=`). The others are read whole each time: they are
/// few, and some of what they are here comes from other objects (a partner's ASNs and contacts, a
/// session's partner, a device's name made unique).
pub const INCREMENTAL: [&str; 2] = ["interfaces", "links"];

/// The kinds a NetBox may lack (a plugin's): a 404 there leaves them as they are.
pub fn optional(kind: &str) -> bool {
    kind == "bgp_sessions"
}

/// The most objects of one kind a sync reads.
pub const MAX_OBJECTS: usize = 500_000;

/// Why a read from NetBox failed, in words for the sync's report; `refused` when NetBox would not
/// let the token read it (401, 403).
#[derive(Debug)]
pub struct ReadError {
    pub message: String,
    pub refused: bool,
}

impl From<ReadError> for String {
    fn from(e: ReadError) -> String {
        e.message
    }
}

impl From<String> for ReadError {
    fn from(message: String) -> ReadError {
        ReadError { message, refused: false }
    }
}

/// A NetBox to read: its address and a token (a v2 token, `nbt_…`, goes as `Bearer`; an older
/// one as `Token`). The token is never shown or logged.
#[derive(Clone)]
pub struct NetBox {
    client: reqwest::Client,
    base: String,
    auth: String,
}

impl NetBox {
    pub fn new(url: &str, token: &str) -> Result<Self, String> {
        let base = url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err("topology.netbox.url is an http:// or https:// address".into());
        }
        if token.trim().is_empty() {
            return Err("topology.netbox.token is empty: give Switchyard a NetBox API token".into());
        }
        let auth = if token.starts_with("nbt_") { format!("Bearer {}", token.trim()) } else { format!("Token {}", token.trim()) };
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("no HTTP client: {e}"))?;
        Ok(NetBox { client, base, auth })
    }

    /// Every object at `path`, or none when NetBox has no such path or will not let this token
    /// read it (401, 403): for what a sync can do without.
    pub async fn all_readable(&self, path: &str) -> Result<Option<Vec<Value>>, ReadError> {
        match self.all(path).await {
            Err(e) if e.refused => {
                tracing::warn!(path, "NetBox refused the token for this path: what it holds is left as it is");
                Ok(None)
            }
            other => other,
        }
    }

    /// Its address (never the token).
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Every object at `path` (`dcim/devices/`), following `next` on the same NetBox; none
    /// (`None`) when NetBox has no such path (a plugin not installed).
    pub async fn all(&self, path: &str) -> Result<Option<Vec<Value>>, ReadError> {
        let mut url = format!("{}/api/{path}{}limit=1000", self.base, if path.contains('?') { '&' } else { '?' });
        let mut out = Vec::new();
        loop {
            let answer = self
                .client
                .get(&url)
                .header(reqwest::header::AUTHORIZATION, &self.auth)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| format!("{path}: NetBox did not answer ({})", e.without_url()))?;
            let status = answer.status();
            if status == reqwest::StatusCode::NOT_FOUND && out.is_empty() {
                return Ok(None);
            }
            if !status.is_success() {
                return Err(match status.as_u16() {
                    401 | 403 => ReadError { message: format!("{path}: NetBox refused the token ({status}): check topology.netbox.token"), refused: true },
                    _ => format!("{path}: NetBox answered {status}").into(),
                });
            }
            let page: Value = answer.json().await.map_err(|e| format!("{path}: not NetBox's JSON ({})", e.without_url()))?;
            let Some(results) = page.get("results").and_then(Value::as_array) else {
                return Err(format!("{path}: the answer has no results (is this NetBox's API?)").into());
            };
            out.extend(results.iter().cloned());
            if out.len() > MAX_OBJECTS {
                return Err(format!("{path}: more than {MAX_OBJECTS} objects").into());
            }
            match page.get("next").and_then(Value::as_str) {
                // the next page, on this NetBox only
                Some(next) if next.starts_with(&self.base) => url = next.to_owned(),
                Some(next) if !next.is_empty() => return Err(format!("{path}: the next page is on another host ({})", next.chars().take(80).collect::<String>()).into()),
                _ => return Ok(Some(out)),
            }
        }
    }
}

fn id(v: &Value) -> Option<String> {
    v.get("id").and_then(Value::as_i64).map(|i| i.to_string())
}

fn text(v: &Value, path: &[&str]) -> Option<String> {
    let mut at = v;
    for p in path {
        at = at.get(p)?;
    }
    at.as_str().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(500).collect())
}

fn number(v: &Value, key: &str) -> Value {
    v.get(key).filter(|n| n.is_number()).cloned().unwrap_or(Value::Null)
}

fn tags(v: &Value) -> Vec<String> {
    v.get("tags").and_then(Value::as_array).map(|t| t.iter().filter_map(|t| text(t, &["slug"])).collect()).unwrap_or_default()
}

/// An address as NetBox writes it ("10.0.0.1/24"), or null.
fn address(v: &Value, key: &str) -> Value {
    text(v, &[key, "address"]).map(Value::String).unwrap_or(Value::Null)
}

/// The partners' rows with their ASNs (NetBox's ASNs whose tenant is the partner's) and their
/// contacts (the contacts assigned to that tenant, by priority, then name: name, role, title,
/// email, phone).
/// Without `contacts` (contacts and assignments NetBox would not let us read), the rows say
/// nothing of contacts, and the partners keep theirs.
pub fn partners_of(tenants: &[Value], asns: &[Value], contacts: Option<(&[Value], &[Value])>) -> Value {
    let mut rows = partners_with_asns(tenants, asns);
    let Some((contacts, assignments)) = contacts else { return rows };
    let by_id: HashMap<String, &Value> = contacts.iter().filter_map(|c| Some((id(c)?, c))).collect();
    let mut people: HashMap<String, Vec<(u8, String, Value)>> = HashMap::new();
    for a in assignments.iter().filter(|a| text(a, &["object_type"]).as_deref() == Some("tenancy.tenant")) {
        let (Some(tenant), Some(contact)) = (a.get("object_id").and_then(Value::as_i64), a.get("contact").and_then(id).and_then(|c| by_id.get(&c))) else { continue };
        let priority = match text(a, &["priority", "value"]).as_deref() {
            Some("primary") => 0,
            Some("secondary") => 1,
            Some("tertiary") => 2,
            Some("inactive") => 4,
            _ => 3,
        };
        let name = text(contact, &["name"]).unwrap_or_default();
        let entry = json!({
            "name": name.chars().take(100).collect::<String>(), "role": text(a, &["role", "name"]), "title": text(contact, &["title"]),
            "email": text(contact, &["email"]), "phone": text(contact, &["phone"]),
        });
        people.entry(tenant.to_string()).or_default().push((priority, name, entry));
    }
    for r in rows.as_array_mut().into_iter().flatten() {
        let mut list = r.get("sid").and_then(Value::as_str).and_then(|t| people.remove(t)).unwrap_or_default();
        list.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        r["contacts"] = Value::Array(list.into_iter().take(50).map(|(_, _, c)| c).collect());
    }
    rows
}

/// The partners' rows with their ASNs: NetBox's ASNs whose tenant is the partner's.
fn partners_with_asns(tenants: &[Value], asns: &[Value]) -> Value {
    let mut by_tenant: HashMap<String, Vec<i64>> = HashMap::new();
    for a in asns {
        if let (Some(t), Some(n)) = (a.get("tenant").and_then(id), a.get("asn").and_then(Value::as_i64)) {
            by_tenant.entry(t).or_default().push(n);
        }
    }
    let mut rows = rows("partners", tenants);
    for r in rows.as_array_mut().into_iter().flatten() {
        let mut list = r.get("sid").and_then(Value::as_str).and_then(|t| by_tenant.get(t)).cloned().unwrap_or_default();
        list.sort_unstable();
        list.dedup();
        r["asns"] = json!(list);
    }
    rows
}

/// What NetBox's objects are as rows here, each kind a JSON array for `jsonb_to_recordset`;
/// `sid` is NetBox's id, and references are NetBox's ids too (the repo finds them by source).
pub fn rows(kind: &str, objects: &[Value]) -> Value {
    let list: Vec<Value> = match kind {
        "partners" => objects
            .iter()
            .filter(|t| text(t, &["group", "slug"]).as_deref() == Some(PARTNER_GROUP))
            .filter_map(|t| {
                let tags = tags(t);
                let kind = ["bank", "card-network", "cloud", "carrier"].into_iter().find(|k| tags.iter().any(|t| t == k)).unwrap_or("other");
                Some(json!({
                    "sid": id(t)?, "name": text(t, &["name"])?.chars().take(100).collect::<String>(), "kind": kind.replace('-', "_"),
                    "description": text(t, &["description"]).unwrap_or_default(), "asns": [],
                }))
            })
            .collect(),
        "bgp_sessions" => objects
            .iter()
            .filter_map(|b| {
                // the plugin's addresses are NetBox IP addresses ("10.0.0.1/31"): the host part
                let host = |key: &str| text(b, &[key, "address"]).map(|a| a.split('/').next().unwrap_or_default().to_owned());
                let asn = |key: &str| b.get(key).and_then(|a| a.get("asn")).and_then(Value::as_i64);
                let policy = |key: &str| b.get(key).and_then(Value::as_array).and_then(|p| p.first()).and_then(|p| text(p, &["name"]));
                let device = b.get("device").and_then(id)?;
                let (local, remote) = (host("local_address")?, host("remote_address")?);
                let name = text(b, &["name"]).unwrap_or_else(|| format!("{} → {remote}", text(b, &["device", "name"]).unwrap_or_else(|| device.clone())));
                Some(json!({
                    "sid": id(b)?, "name": name.chars().take(200).collect::<String>(), "device": device,
                    "local_address": local, "local_asn": asn("local_as")?, "remote_address": remote, "remote_asn": asn("remote_as")?,
                    "import_policy": policy("import_policies"), "export_policy": policy("export_policies"),
                }))
            })
            .collect(),
        "sites" => objects
            .iter()
            .filter_map(|s| {
                let tags = tags(s);
                let site_kind = ["data-center", "colocation", "cloud-region", "office"]
                    .into_iter()
                    .find(|k| tags.iter().any(|t| t == k))
                    .map(|k| k.replace('-', "_"))
                    .unwrap_or_else(|| "other".into());
                Some(json!({
                    "sid": id(s)?, "name": text(s, &["name"])?, "kind": site_kind,
                    "status": text(s, &["status", "value"]).unwrap_or_else(|| "active".into()),
                    "region": text(s, &["region", "name"]), "facility": text(s, &["facility"]),
                    "address": text(s, &["physical_address"]), "latitude": number(s, "latitude"), "longitude": number(s, "longitude"),
                    "time_zone": text(s, &["time_zone"]), "description": text(s, &["description"]).unwrap_or_default(),
                }))
            })
            .collect(),
        "racks" => objects
            .iter()
            .filter_map(|r| {
                Some(json!({
                    "sid": id(r)?, "site": r.get("site").and_then(id)?, "location": text(r, &["location", "name"]),
                    "name": text(r, &["name"])?, "u_height": number(r, "u_height"),
                }))
            })
            .collect(),
        "devices" => {
            // NetBox's names are unique per site (and may be empty): here a name is unique
            let name_of = |d: &Value| text(d, &["name"]).unwrap_or_else(|| format!("device-{}", id(d).unwrap_or_default()));
            let mut uses: HashMap<String, usize> = HashMap::new();
            for d in objects {
                *uses.entry(name_of(d)).or_default() += 1;
            }
            objects
                .iter()
                .filter_map(|d| {
                    let name = name_of(d);
                    let name = if uses[&name] > 1 { format!("{name} ({})", text(d, &["site", "name"]).unwrap_or_else(|| id(d).unwrap_or_default())) } else { name };
                    Some(json!({
                        "sid": id(d)?, "name": name.chars().take(100).collect::<String>(),
                        "role": text(d, &["role", "name"]).unwrap_or_else(|| "other".into()).to_lowercase().chars().take(50).collect::<String>(),
                        "manufacturer": text(d, &["device_type", "manufacturer", "name"]), "model": text(d, &["device_type", "model"]),
                        "platform": text(d, &["platform", "name"]), "serial": text(d, &["serial"]),
                        "status": text(d, &["status", "value"]).unwrap_or_else(|| "active".into()),
                        "site": d.get("site").and_then(id), "rack": d.get("rack").and_then(id), "position": number(d, "position"),
                        "primary_ip4": address(d, "primary_ip4"), "primary_ip6": address(d, "primary_ip6"),
                        "pci": tags(d).iter().any(|t| t == "pci" || t == "pci-scope"),
                    }))
                })
                .collect()
        }
        "interfaces" => objects
            .iter()
            .filter_map(|i| {
                Some(json!({
                    "sid": id(i)?, "device": i.get("device").and_then(id)?, "name": text(i, &["name"])?,
                    "kind": text(i, &["type", "value"]).unwrap_or_else(|| "other".into()), "speed": number(i, "speed"),
                    "enabled": i.get("enabled").and_then(Value::as_bool).unwrap_or(true), "lag": i.get("lag").and_then(id),
                }))
            })
            .collect(),
        "providers" => objects
            .iter()
            .filter_map(|p| {
                let asns: Vec<i64> = p.get("asns").and_then(Value::as_array).map(|a| a.iter().filter_map(|a| a.get("asn").and_then(Value::as_i64)).collect()).unwrap_or_default();
                Some(json!({ "sid": id(p)?, "name": text(p, &["name"])?, "asns": asns }))
            })
            .collect(),
        "circuits" => objects
            .iter()
            .filter_map(|c| {
                Some(json!({
                    "sid": id(c)?, "cid": text(c, &["cid"])?, "provider": c.get("provider").and_then(id)?,
                    "kind": text(c, &["type", "name"]), "status": text(c, &["status", "value"]).unwrap_or_else(|| "active".into()),
                    "commit_rate": number(c, "commit_rate"), "description": text(c, &["description"]).unwrap_or_default(),
                }))
            })
            .collect(),
        "circuit_ends" => objects
            .iter()
            .filter_map(|t| {
                // 4.x: an end at a site (or a region, location …) or at a provider's network
                let to = text(t, &["termination_type"]).unwrap_or_default();
                let site = match to.as_str() {
                    "dcim.site" => t.get("termination").and_then(id),
                    _ => t.get("termination").and_then(|x| x.get("site")).and_then(id),
                };
                let network = (to == "circuits.providernetwork").then(|| text(t, &["termination", "name"])).flatten();
                Some(json!({
                    "sid": id(t)?, "circuit": t.get("circuit").and_then(id)?, "side": text(t, &["term_side"])?,
                    "site": site, "provider_network": network, "port_speed": number(t, "port_speed"),
                }))
            })
            .collect(),
        "links" => objects
            .iter()
            .filter_map(|c| {
                let end = |side: &str| -> (Value, Value) {
                    let first = c.get(side).and_then(Value::as_array).and_then(|t| t.first());
                    let kind = first.and_then(|t| text(t, &["object_type"])).unwrap_or_default();
                    let object = first.and_then(|t| t.get("object_id").and_then(Value::as_i64)).map(|i| Value::String(i.to_string())).unwrap_or(Value::Null);
                    match kind.as_str() {
                        "dcim.interface" => (object, Value::Null),
                        "circuits.circuittermination" => (Value::Null, object),
                        _ => (Value::Null, Value::Null),
                    }
                };
                let ((a_if, a_end), (b_if, b_end)) = (end("a_terminations"), end("b_terminations"));
                // a cable to something else (a console port, a power feed) is no link of the network
                let joined = |i: &Value, e: &Value| !i.is_null() || !e.is_null();
                (joined(&a_if, &a_end) && joined(&b_if, &b_end)).then(|| {
                    json!({
                        "sid": id(c), "label": text(c, &["label"]), "status": text(c, &["status", "value"]).unwrap_or_else(|| "connected".into()),
                        "a_interface": a_if, "a_end": a_end, "b_interface": b_if, "b_end": b_end,
                    })
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Value::Array(list)
}
