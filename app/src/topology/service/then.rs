//! A device or a partner as the network held it at a past moment, beside now: read from the
//! network's kept versions (migration 29), as the blast radius "as of" is.
use super::blast::{kept, paths_to, Kept};
use super::{load_then, redundancy_of, shown, TopologyError};
use crate::audit::types::{AsOf, ChangeMark, FieldThen};
use crate::error::Refusal;
use crate::iam::principal::Principal;
use sqlx::PgPool;

/// What the network says of `key` (`d:` a device, `p:` a partner), as named fields; none when it
/// is not in this version.
fn facts(kept: &Kept, key: &str) -> Option<Vec<(&'static str, String)>> {
    let loaded = &kept.loaded;
    let node = loaded.nodes.get(key)?;
    // what joins it, by the other end's name (and the circuit, session or link's own label)
    let mut joins: Vec<String> = loaded
        .edges
        .iter()
        .filter(|e| e.a == key || e.b == key)
        .map(|e| {
            let other = loaded.name(if e.a == key { &e.b } else { &e.a });
            if e.key.starts_with("l:") && e.label.contains(" – ") { other } else { format!("{other} ({})", e.label) }
        })
        .collect();
    joins.sort_unstable();
    let joins = joins.join(", ");
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    Some(if node.partner {
        let mut sessions: Vec<String> =
            loaded.sessions.iter().filter(|s| s.partner.as_deref() == Some(node.name.as_str())).map(|s| format!("{} on {}", s.name, loaded.name(&s.device))).collect();
        sessions.sort();
        let (paths, single_points) = paths_to(kept, &node.name);
        let redundancy = redundancy_of(loaded, &node.name).into_iter().map(|r| format!("{}: {}", r.site, r.paths)).collect::<Vec<_>>().join(", ");
        vec![
            ("kind", node.role.clone()),
            ("BGP sessions", sessions.join(", ")),
            ("joined to", joins),
            ("independent paths from the data centers", paths.to_string()),
            ("single points of failure on its path", single_points.into_iter().map(|p| p.name).collect::<Vec<_>>().join(", ")),
            ("paths from each site", redundancy),
        ]
    } else {
        let mut sessions: Vec<String> =
            loaded.sessions.iter().filter(|s| s.device == key).map(|s| format!("{} to {}", s.name, s.partner.as_deref().unwrap_or("an internal peer"))).collect();
        sessions.sort();
        let cut = loaded.network.cut_off_from_roots(&kept.reach, &[key.to_owned()], &[]);
        let mut cuts_off: Vec<String> = cut.iter().filter(|k| k.starts_with("p:")).map(|k| loaded.name(k)).collect();
        cuts_off.sort();
        vec![
            ("site", node.site.clone().unwrap_or_default()),
            ("role", node.role.clone()),
            ("status", node.status.clone()),
            ("PCI scope", yes_no(node.pci)),
            ("joined to", joins),
            ("BGP sessions", sessions.join(", ")),
            ("partners it alone cuts off", cuts_off.join(", ")),
        ]
    })
}

/// A device (`kind` device) or a partner (`kind` partner) as the network held it at `at`, beside
/// now (anyone who reads): a device's site, role, status, PCI scope, links and circuits, BGP
/// sessions and the partners it alone cut off; a partner's kind, BGP sessions, circuits, its
/// independent paths with the single points of failure on them, and its paths from each site.
/// The last change is the network's version then; the changes since count the network's.
#[tracing::instrument(name = "topology.service.as_of", skip_all, fields(kind), err)]
pub async fn as_of(pool: &PgPool, principal: &Principal, kind: &str, name: &str, at: &str) -> Result<AsOf, TopologyError> {
    principal.require_read()?;
    let key = match kind {
        "device" => format!("d:{name}"),
        "partner" => format!("p:{name}"),
        other => return Err(Refusal::invalid("kind", format!("\"{}\" is not kept as of a moment: use device or partner", shown(other))).into()),
    };
    let mut conn = pool.acquire().await?;
    let now = kept(&mut conn).await?;
    let (loaded, asked) = load_then(&mut conn, "at", at).await?;
    let then = Kept::new(loaded);
    let (was, is) = (facts(&then, &key), facts(&now, &key));
    if was.is_none() && is.is_none() {
        return Err(Refusal::not_found(format!("The {kind} \"{}\"", shown(name))).into());
    }
    let existed = was.is_some();
    let (was, is) = (was.unwrap_or_default(), is.unwrap_or_default());
    let names: Vec<&'static str> = if existed { was.iter().map(|(n, _)| *n).collect() } else { is.iter().map(|(n, _)| *n).collect() };
    let value = |list: &[(&'static str, String)], name: &str| list.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let fields = names
        .into_iter()
        .map(|n| {
            let (then, now) = (value(&was, n), value(&is, n));
            FieldThen { name: n.to_owned(), changed: then != now, then, now }
        })
        .collect();
    Ok(AsOf {
        at: asked.at,
        existed,
        last_change: Some(ChangeMark { at: asked.taken_at, actor: String::new(), action: format!("network version {}", then.loaded.version) }),
        changes_since: asked.versions_since,
        fields,
    })
}
