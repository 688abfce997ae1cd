//! Topology SQL.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// The network's version: it changes whenever a site, device, link, circuit end, partner,
/// session or risk group does (statement triggers, migration 20).
#[tracing::instrument(level = "debug", name = "topology.repo.version", skip_all)]
pub async fn version(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!("SELECT version FROM topology_version").fetch_one(conn).await
}

/// A device or a partner, as the analyses and the drawing see it: `key` is `d:<name>` or
/// `p:<name>`; a partner's role is its kind.
pub struct NodeRow {
    pub key: String,
    pub name: String,
    pub partner: bool,
    pub site: Option<String>,
    pub site_kind: Option<String>,
    pub role: String,
    pub status: String,
    pub pci: bool,
    pub x: Option<f64>,
    pub y: Option<f64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// What joins two nodes: a cable or drawn link (`l:`), a circuit (`c:`), or, for a partner no
/// circuit is known to reach, a BGP session (`s:`).
pub struct EdgeRow {
    pub key: String,
    pub label: String,
    pub a: String,
    pub b: String,
}

#[tracing::instrument(level = "debug", name = "topology.repo.nodes", skip_all)]
pub async fn nodes(conn: &mut PgConnection) -> sqlx::Result<Vec<NodeRow>> {
    sqlx::query_as!(
        NodeRow,
        r#"SELECT 'd:' || d.name AS "key!", d.name AS "name!", false AS "partner!", s.name AS site, s.kind AS site_kind,
                  d.role AS "role!", d.status AS "status!", d.pci_scope AS "pci!", d.x, d.y, s.latitude, s.longitude
           FROM topology_devices d LEFT JOIN topology_sites s ON s.id = d.site_id
           UNION ALL
           SELECT 'p:' || p.name, p.name, true, NULL, NULL, p.kind, 'active', false, NULL, NULL, NULL, NULL FROM topology_partners p"#
    )
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", name = "topology.repo.edges", skip_all)]
pub async fn edges(conn: &mut PgConnection) -> sqlx::Result<Vec<EdgeRow>> {
    sqlx::query_as!(
        EdgeRow,
        r#"WITH ends AS (
               SELECT e.circuit_id, e.side,
                      coalesce((SELECT 'd:' || d.name FROM topology_links l JOIN topology_devices d ON d.id = l.b_device_id
                                WHERE l.a_end_id = e.id LIMIT 1),
                               (SELECT 'd:' || d.name FROM topology_links l JOIN topology_devices d ON d.id = l.a_device_id
                                WHERE l.b_end_id = e.id LIMIT 1),
                               (SELECT 'p:' || p.name FROM topology_partners p WHERE p.id = e.partner_id)) AS node
               FROM topology_circuit_ends e
           )
           SELECT 'l:' || l.id AS "key!", coalesce(l.label, da.name || ' – ' || db.name) AS "label!", 'd:' || da.name AS "a!", 'd:' || db.name AS "b!"
           FROM topology_links l
           JOIN topology_devices da ON da.id = l.a_device_id
           JOIN topology_devices db ON db.id = l.b_device_id
           UNION ALL
           SELECT 'c:' || c.id, pr.name || ' ' || c.cid, a.node, z.node
           FROM topology_circuits c
           JOIN topology_providers pr ON pr.id = c.provider_id
           JOIN ends a ON a.circuit_id = c.id AND a.side = 'A'
           JOIN ends z ON z.circuit_id = c.id AND z.side = 'Z'
           WHERE a.node IS NOT NULL AND z.node IS NOT NULL
           UNION ALL
           SELECT 's:' || b.id, b.name, 'd:' || d.name, 'p:' || p.name
           FROM topology_bgp_sessions b
           JOIN topology_devices d ON d.id = b.device_id
           JOIN topology_partners p ON p.id = b.partner_id
           WHERE NOT EXISTS (SELECT 1 FROM topology_circuit_ends e WHERE e.partner_id = p.id)"#
    )
    .fetch_all(conn)
    .await
}

/// The site a drawing's nodes go in, made when missing; its id.
#[tracing::instrument(level = "debug", name = "topology.repo.ensure_site", skip_all)]
pub async fn ensure_site(conn: &mut PgConnection, name: &str, source: &str) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        r#"WITH made AS (
               INSERT INTO topology_sites (name, kind, source, source_id) VALUES ($1, 'other', $2, $1)
               ON CONFLICT DO NOTHING RETURNING id
           )
           SELECT id AS "id!" FROM made UNION ALL SELECT id FROM topology_sites WHERE name = $1 LIMIT 1"#,
        name,
        source
    )
    .fetch_one(conn)
    .await
}

/// Which of these device names belong to devices from another source.
#[tracing::instrument(level = "debug", name = "topology.repo.names_taken", skip_all)]
pub async fn names_taken(conn: &mut PgConnection, names: &[String], source: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT name FROM topology_devices WHERE name = ANY($1) AND source <> $2", names, source).fetch_all(conn).await
}

/// A device as a drawing declares it.
pub struct DrawnDevice {
    pub source_id: String,
    pub name: String,
    pub role: String,
    pub x: Option<f64>,
    pub y: Option<f64>,
}

/// Removes a source's devices that are no longer in it (their links go with them); how many.
#[tracing::instrument(level = "debug", name = "topology.repo.remove_devices", skip_all)]
pub async fn remove_devices(conn: &mut PgConnection, source: &str, keep: &[String]) -> sqlx::Result<u64> {
    Ok(sqlx::query!("DELETE FROM topology_devices WHERE source = $1 AND source_id <> ALL($2)", source, keep).execute(conn).await?.rows_affected())
}

/// Writes a source's devices: new ones made, changed ones changed, the same left alone; for
/// each row written, whether it was made (true) or changed (false).
#[tracing::instrument(level = "debug", name = "topology.repo.save_devices", skip_all, fields(devices = devices.len()))]
pub async fn save_devices(conn: &mut PgConnection, source: &str, site: Uuid, devices: &[DrawnDevice]) -> sqlx::Result<Vec<bool>> {
    sqlx::query_scalar!(
        r#"INSERT INTO topology_devices AS d (name, role, site_id, x, y, source, source_id)
           SELECT x.name, x.role, $2, x.x, x.y, $1, x.sid
           FROM unnest($3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[]) AS x(sid, name, role, x, y)
           ON CONFLICT (source, source_id) DO UPDATE
               SET name = EXCLUDED.name, role = EXCLUDED.role, site_id = EXCLUDED.site_id, x = EXCLUDED.x, y = EXCLUDED.y, updated_at = now()
               WHERE (d.name, d.role, d.site_id, d.x, d.y) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.role, EXCLUDED.site_id, EXCLUDED.x, EXCLUDED.y)
           RETURNING (xmax = 0) AS "created!""#,
        source,
        site,
        &devices.iter().map(|d| d.source_id.clone()).collect::<Vec<_>>(),
        &devices.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        &devices.iter().map(|d| d.role.clone()).collect::<Vec<_>>(),
        &devices.iter().map(|d| d.x).collect::<Vec<_>>() as &[Option<f64>],
        &devices.iter().map(|d| d.y).collect::<Vec<_>>() as &[Option<f64>],
    )
    .fetch_all(conn)
    .await
}

/// A link as a drawing declares it, between two of its nodes.
pub struct DrawnLink {
    pub source_id: String,
    pub label: Option<String>,
    pub a: String,
    pub b: String,
}

#[tracing::instrument(level = "debug", name = "topology.repo.remove_links", skip_all)]
pub async fn remove_links(conn: &mut PgConnection, source: &str, keep: &[String]) -> sqlx::Result<u64> {
    Ok(sqlx::query!("DELETE FROM topology_links WHERE source = $1 AND source_id <> ALL($2)", source, keep).execute(conn).await?.rows_affected())
}

/// Writes a source's links between its devices (found by their ids in the source), as
/// `save_devices` does.
#[tracing::instrument(level = "debug", name = "topology.repo.save_links", skip_all, fields(links = links.len()))]
pub async fn save_links(conn: &mut PgConnection, source: &str, links: &[DrawnLink]) -> sqlx::Result<Vec<bool>> {
    sqlx::query_scalar!(
        r#"INSERT INTO topology_links AS l (label, a_device_id, b_device_id, source, source_id)
           SELECT x.label, da.id, db.id, $1, x.sid
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS x(sid, label, a, b)
           JOIN topology_devices da ON da.source = $1 AND da.source_id = x.a
           JOIN topology_devices db ON db.source = $1 AND db.source_id = x.b
           ON CONFLICT (source, source_id) DO UPDATE
               SET label = EXCLUDED.label, a_device_id = EXCLUDED.a_device_id, b_device_id = EXCLUDED.b_device_id, updated_at = now()
               WHERE (l.label, l.a_device_id, l.b_device_id) IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.a_device_id, EXCLUDED.b_device_id)
           RETURNING (xmax = 0) AS "created!""#,
        source,
        &links.iter().map(|l| l.source_id.clone()).collect::<Vec<_>>(),
        &links.iter().map(|l| l.label.clone()).collect::<Vec<_>>() as &[Option<String>],
        &links.iter().map(|l| l.a.clone()).collect::<Vec<_>>(),
        &links.iter().map(|l| l.b.clone()).collect::<Vec<_>>(),
    )
    .fetch_all(conn)
    .await
}

/// Whether a partner of this name is known.
#[tracing::instrument(level = "debug", name = "topology.repo.partner_exists", skip_all)]
pub async fn partner_exists(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!("SELECT 1 AS one FROM topology_partners WHERE name = $1", name).fetch_optional(conn).await?.is_some())
}

/// A session a report names, locked until the reports are written.
pub struct SessionNow {
    pub id: Uuid,
    pub device: String,
    pub remote_address: String,
    pub state: String,
    pub state_changed_at: Option<DateTime<Utc>>,
}

/// The sessions these (device, remote address) pairs name, locked.
#[tracing::instrument(level = "debug", name = "topology.repo.lock_sessions", skip_all)]
pub async fn lock_sessions(conn: &mut PgConnection, devices: &[String], remotes: &[String]) -> sqlx::Result<Vec<SessionNow>> {
    sqlx::query_as!(
        SessionNow,
        r#"SELECT s.id, d.name AS device, host(s.remote_address) AS "remote_address!", s.state, s.state_changed_at
           FROM (SELECT DISTINCT device, remote::inet AS remote FROM unnest($1::text[], $2::text[]) AS u(device, remote)) x
           JOIN topology_devices d ON d.name = x.device
           JOIN topology_bgp_sessions s ON s.device_id = d.id AND s.remote_address = x.remote
           ORDER BY s.id
           FOR UPDATE OF s"#,
        devices,
        remotes
    )
    .fetch_all(conn)
    .await
}

/// A session's state after a batch: the state, since when, and the latest prefix counts.
pub struct SessionAfter {
    pub id: Uuid,
    pub state: String,
    pub state_changed_at: Option<DateTime<Utc>>,
    pub prefixes_received: Option<i32>,
    pub prefixes_sent: Option<i32>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.save_session_states", skip_all)]
pub async fn save_session_states(conn: &mut PgConnection, after: &[SessionAfter]) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE topology_bgp_sessions s
           SET state = x.state, state_changed_at = x.changed_at,
               prefixes_received = coalesce(x.rx, s.prefixes_received), prefixes_sent = coalesce(x.tx, s.prefixes_sent)
           FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int4[], $5::int4[]) AS x(id, state, changed_at, rx, tx)
           WHERE s.id = x.id"#,
        &after.iter().map(|a| a.id).collect::<Vec<_>>(),
        &after.iter().map(|a| a.state.clone()).collect::<Vec<_>>(),
        &after.iter().map(|a| a.state_changed_at).collect::<Vec<_>>() as &[Option<DateTime<Utc>>],
        &after.iter().map(|a| a.prefixes_received).collect::<Vec<_>>() as &[Option<i32>],
        &after.iter().map(|a| a.prefixes_sent).collect::<Vec<_>>() as &[Option<i32>],
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A change of state to keep.
pub struct StateRow {
    pub session: Uuid,
    pub at: DateTime<Utc>,
    pub state: String,
    pub previous: Option<String>,
    pub prefixes_received: Option<i32>,
    pub prefixes_sent: Option<i32>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.keep_state_changes", skip_all)]
pub async fn keep_state_changes(conn: &mut PgConnection, rows: &[StateRow]) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        r#"INSERT INTO topology_bgp_states (session_id, at, state, previous, prefixes_received, prefixes_sent)
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::int4[], $6::int4[])
           ON CONFLICT DO NOTHING"#,
        &rows.iter().map(|r| r.session).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.at).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.state.clone()).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.previous.clone()).collect::<Vec<_>>() as &[Option<String>],
        &rows.iter().map(|r| r.prefixes_received).collect::<Vec<_>>() as &[Option<i32>],
        &rows.iter().map(|r| r.prefixes_sent).collect::<Vec<_>>() as &[Option<i32>],
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub struct SessionRow {
    pub id: Uuid,
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
    pub state_changed_at: Option<DateTime<Utc>>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.session", skip_all)]
pub async fn session(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as!(
        SessionRow,
        r#"SELECT s.id, s.name, d.name AS device, host(s.local_address) AS "local_address!", s.local_asn,
                  host(s.remote_address) AS "remote_address!", s.remote_asn, p.name AS "partner?", s.state,
                  s.prefixes_received, s.prefixes_sent, s.state_changed_at
           FROM topology_bgp_sessions s
           JOIN topology_devices d ON d.id = s.device_id
           LEFT JOIN topology_partners p ON p.id = s.partner_id
           WHERE s.name = $1"#,
        name
    )
    .fetch_optional(conn)
    .await
}

pub struct ChangeRow {
    pub at: DateTime<Utc>,
    pub state: String,
    pub previous: Option<String>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.state_changes", skip_all)]
pub async fn state_changes(conn: &mut PgConnection, session: Uuid, limit: i64) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as!(
        ChangeRow,
        "SELECT at, state, previous FROM topology_bgp_states WHERE session_id = $1 ORDER BY at DESC, received_at DESC LIMIT $2",
        session,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The drawing kept for a version of the network, if one was made.
#[tracing::instrument(level = "debug", name = "topology.repo.drawing", skip_all)]
pub async fn drawing(conn: &mut PgConnection, version: i64) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!("SELECT drawing FROM topology_layouts WHERE version = $1", version).fetch_optional(conn).await
}

/// Keeps a version's drawing, and drops those of older versions.
#[tracing::instrument(level = "debug", name = "topology.repo.keep_drawing", skip_all)]
pub async fn keep_drawing(conn: &mut PgConnection, version: i64, drawing: &serde_json::Value) -> sqlx::Result<()> {
    sqlx::query!(
        r#"WITH gone AS (DELETE FROM topology_layouts WHERE version < $1)
           INSERT INTO topology_layouts (version, drawing) VALUES ($1, $2)
           ON CONFLICT (version) DO UPDATE SET drawing = EXCLUDED.drawing, made_at = now()"#,
        version,
        drawing
    )
    .execute(conn)
    .await?;
    Ok(())
}
