//! Topology SQL.
pub mod blast;
pub mod changes;
pub mod preflight;

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
#[derive(serde::Deserialize)]
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
#[derive(serde::Deserialize)]
pub struct EdgeRow {
    pub key: String,
    pub label: String,
    pub a: String,
    pub b: String,
}

/// A BGP session: its name, its device's key, its partner.
#[derive(serde::Deserialize)]
pub struct SessionEnd {
    pub name: String,
    pub device: String,
    pub partner: Option<String>,
}

/// A circuit: its key (`c:<id>`), its provider and its id there.
#[derive(serde::Deserialize)]
pub struct ShapeCircuit {
    pub key: String,
    pub provider: String,
    pub cid: String,
}

/// A shared-risk group: its devices' keys, and its links' and circuits' keys.
#[derive(serde::Deserialize)]
pub struct RiskGroupShape {
    pub name: String,
    pub nodes: Vec<String>,
    pub links: Vec<String>,
}

/// The network's shape at one version, as `topology_shape()` (migration 29) writes it.
#[derive(serde::Deserialize)]
pub struct Shape {
    pub nodes: Vec<NodeRow>,
    pub edges: Vec<EdgeRow>,
    pub sessions: Vec<SessionEnd>,
    pub circuits: Vec<ShapeCircuit>,
    pub sites: Vec<String>,
    pub providers: Vec<String>,
    pub risk_groups: Vec<RiskGroupShape>,
}

fn shape_of(json: serde_json::Value) -> sqlx::Result<Shape> {
    serde_json::from_value(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The network's version and its shape, in one statement: the kept shape, or, inside the
/// transaction that changed it (its shape is kept at commit), the shape made now.
#[tracing::instrument(level = "debug", name = "topology.repo.shape", skip_all)]
pub async fn shape(conn: &mut PgConnection) -> sqlx::Result<(i64, Shape)> {
    let row = sqlx::query!(
        r#"SELECT v.version, coalesce(s.shape, topology_shape()) AS "shape!"
           FROM topology_version v LEFT JOIN topology_shapes s ON s.version = v.version"#
    )
    .fetch_one(conn)
    .await?;
    Ok((row.version, shape_of(row.shape)?))
}

/// The network as it was at a moment: its version then, when that version was committed, and
/// its shape.
pub struct ShapeThen {
    pub version: i64,
    pub taken_at: DateTime<Utc>,
    pub shape: Shape,
}

/// What is kept of the network at `at`: the version then (none when `at` is before the first
/// version kept), when the first was kept, and how many versions were committed since `at`.
pub struct PastShape {
    pub then: Option<ShapeThen>,
    pub first: Option<DateTime<Utc>>,
    pub versions_since: i64,
}

#[tracing::instrument(level = "debug", name = "topology.repo.shape_at", skip_all)]
pub async fn shape_at(conn: &mut PgConnection, at: DateTime<Utc>) -> sqlx::Result<PastShape> {
    let row = sqlx::query!(
        r#"SELECT (SELECT min(taken_at) FROM topology_shapes) AS first,
                  (SELECT count(*) FROM topology_shapes WHERE taken_at > $1) AS "since!",
                  s.version AS "version?", s.taken_at AS "taken_at?", s.shape AS "shape?"
           FROM (SELECT 1) one
           LEFT JOIN LATERAL (SELECT version, taken_at, shape FROM topology_shapes WHERE taken_at <= $1 ORDER BY taken_at DESC LIMIT 1) s ON true"#,
        at
    )
    .fetch_one(conn)
    .await?;
    let then = match (row.version, row.taken_at, row.shape) {
        (Some(version), Some(taken_at), Some(shape)) => Some(ShapeThen { version, taken_at, shape: shape_of(shape)? }),
        _ => None,
    };
    Ok(PastShape { then, first: row.first, versions_since: row.since })
}

/// The site a drawing's nodes go in, made when missing; its id.
#[tracing::instrument(level = "debug", name = "topology.repo.ensure_site", skip_all)]
pub async fn ensure_site(conn: &mut PgConnection, name: &str, source: &str) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        r#"WITH made AS (
               INSERT INTO topology_sites (name, kind, source, source_id)
               SELECT $1, 'other', $2, $1 WHERE NOT EXISTS (SELECT 1 FROM topology_sites WHERE name = $1)
               ON CONFLICT (source, source_id) DO NOTHING RETURNING id
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

/// The network's version, and the drawing kept for it if one was made: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.drawing", skip_all)]
pub async fn drawing(conn: &mut PgConnection) -> sqlx::Result<(i64, Option<String>)> {
    let row = sqlx::query!(
        r#"SELECT v.version, l.drawing AS "drawing?" FROM topology_version v LEFT JOIN topology_layouts l ON l.version = v.version"#
    )
    .fetch_one(conn)
    .await?;
    Ok((row.version, row.drawing))
}

/// Keeps a version's drawing, and drops those of older versions.
#[tracing::instrument(level = "debug", name = "topology.repo.keep_drawing", skip_all)]
pub async fn keep_drawing(conn: &mut PgConnection, version: i64, drawing: &str) -> sqlx::Result<()> {
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

/// Rows from NetBox (`netbox::rows`), written by kind: each kind's upsert answers, for each row it
/// wrote, whether it made it (true) or changed it (false); what it left alone it does not
/// answer. A name another source's row has is kept with " (netbox)" after it.
#[tracing::instrument(level = "debug", name = "topology.repo.sync_kind", skip_all, fields(kind))]
pub async fn sync_kind(conn: &mut PgConnection, kind: &str, rows: &serde_json::Value) -> sqlx::Result<Vec<bool>> {
    match kind {
        "sites" => sqlx::query_scalar!(
            r#"INSERT INTO topology_sites AS t (name, kind, status, region, facility, address, latitude, longitude, time_zone, description, source, source_id)
               SELECT CASE WHEN EXISTS (SELECT 1 FROM topology_sites o WHERE o.name = x.name AND o.source <> 'netbox') THEN x.name || ' (netbox)' ELSE x.name END,
                      x.kind, x.status, x.region, x.facility, x.address, x.latitude, x.longitude, x.time_zone, x.description, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, name text, kind text, status text, region text, facility text, address text,
                                                latitude float8, longitude float8, time_zone text, description text)
               ON CONFLICT (source, source_id) DO UPDATE
                   SET name = EXCLUDED.name, kind = EXCLUDED.kind, status = EXCLUDED.status, region = EXCLUDED.region, facility = EXCLUDED.facility,
                       address = EXCLUDED.address, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, time_zone = EXCLUDED.time_zone,
                       description = EXCLUDED.description, updated_at = now()
                   WHERE (t.name, t.kind, t.status, t.region, t.facility, t.address, t.latitude, t.longitude, t.time_zone, t.description)
                         IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.status, EXCLUDED.region, EXCLUDED.facility, EXCLUDED.address,
                                           EXCLUDED.latitude, EXCLUDED.longitude, EXCLUDED.time_zone, EXCLUDED.description)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "racks" => sqlx::query_scalar!(
            r#"INSERT INTO topology_racks AS t (site_id, location, name, u_height, source, source_id)
               SELECT s.id, x.location, x.name, x.u_height, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, site text, location text, name text, u_height int2)
               JOIN topology_sites s ON s.source = 'netbox' AND s.source_id = x.site
               ON CONFLICT (source, source_id) DO UPDATE
                   SET site_id = EXCLUDED.site_id, location = EXCLUDED.location, name = EXCLUDED.name, u_height = EXCLUDED.u_height
                   WHERE (t.site_id, t.location, t.name, t.u_height) IS DISTINCT FROM (EXCLUDED.site_id, EXCLUDED.location, EXCLUDED.name, EXCLUDED.u_height)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "devices" => sqlx::query_scalar!(
            r#"INSERT INTO topology_devices AS t (name, role, manufacturer, model, platform, serial, status, site_id, rack_id, position,
                                                  primary_ip4, primary_ip6, pci_scope, source, source_id)
               SELECT CASE WHEN EXISTS (SELECT 1 FROM topology_devices o WHERE o.name = x.name AND o.source <> 'netbox') THEN x.name || ' (netbox)' ELSE x.name END,
                      x.role, x.manufacturer, x.model, x.platform, x.serial, x.status, s.id, r.id, x.position,
                      x.primary_ip4::inet, x.primary_ip6::inet, x.pci, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, name text, role text, manufacturer text, model text, platform text, serial text,
                                                status text, site text, rack text, position float4, primary_ip4 text, primary_ip6 text, pci bool)
               LEFT JOIN topology_sites s ON s.source = 'netbox' AND s.source_id = x.site
               LEFT JOIN topology_racks r ON r.source = 'netbox' AND r.source_id = x.rack
               ON CONFLICT (source, source_id) DO UPDATE
                   SET name = EXCLUDED.name, role = EXCLUDED.role, manufacturer = EXCLUDED.manufacturer, model = EXCLUDED.model,
                       platform = EXCLUDED.platform, serial = EXCLUDED.serial, status = EXCLUDED.status, site_id = EXCLUDED.site_id,
                       rack_id = EXCLUDED.rack_id, position = EXCLUDED.position, primary_ip4 = EXCLUDED.primary_ip4,
                       primary_ip6 = EXCLUDED.primary_ip6, pci_scope = EXCLUDED.pci_scope, updated_at = now()
                   WHERE (t.name, t.role, t.manufacturer, t.model, t.platform, t.serial, t.status, t.site_id, t.rack_id, t.position,
                          t.primary_ip4, t.primary_ip6, t.pci_scope)
                         IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.role, EXCLUDED.manufacturer, EXCLUDED.model, EXCLUDED.platform, EXCLUDED.serial,
                                           EXCLUDED.status, EXCLUDED.site_id, EXCLUDED.rack_id, EXCLUDED.position, EXCLUDED.primary_ip4,
                                           EXCLUDED.primary_ip6, EXCLUDED.pci_scope)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "interfaces" => {
            let written = sqlx::query_scalar!(
                r#"INSERT INTO topology_interfaces AS t (device_id, name, kind, speed_kbps, enabled, source, source_id)
                   SELECT d.id, x.name, x.kind, x.speed, x.enabled, 'netbox', x.sid
                   FROM jsonb_to_recordset($1) AS x(sid text, device text, name text, kind text, speed int8, enabled bool)
                   JOIN topology_devices d ON d.source = 'netbox' AND d.source_id = x.device
                   ON CONFLICT (source, source_id) DO UPDATE
                       SET device_id = EXCLUDED.device_id, name = EXCLUDED.name, kind = EXCLUDED.kind, speed_kbps = EXCLUDED.speed_kbps,
                           enabled = EXCLUDED.enabled
                       WHERE (t.device_id, t.name, t.kind, t.speed_kbps, t.enabled)
                             IS DISTINCT FROM (EXCLUDED.device_id, EXCLUDED.name, EXCLUDED.kind, EXCLUDED.speed_kbps, EXCLUDED.enabled)
                   RETURNING (xmax = 0) AS "created!""#,
                rows
            )
            .fetch_all(&mut *conn)
            .await?;
            // the LAGs, once every interface is there
            sqlx::query!(
                r#"UPDATE topology_interfaces t SET lag_id = l.id
                   FROM jsonb_to_recordset($1) AS x(sid text, lag text)
                   LEFT JOIN topology_interfaces l ON l.source = 'netbox' AND l.source_id = x.lag
                   WHERE t.source = 'netbox' AND t.source_id = x.sid AND t.lag_id IS DISTINCT FROM l.id"#,
                rows
            )
            .execute(conn)
            .await?;
            Ok(written)
        }
        "providers" => sqlx::query_scalar!(
            r#"INSERT INTO topology_providers AS t (name, asns, source, source_id)
               SELECT CASE WHEN EXISTS (SELECT 1 FROM topology_providers o WHERE o.name = x.name AND o.source <> 'netbox') THEN x.name || ' (netbox)' ELSE x.name END,
                      ARRAY(SELECT jsonb_array_elements_text(x.asns)::bigint), 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, name text, asns jsonb)
               ON CONFLICT (source, source_id) DO UPDATE SET name = EXCLUDED.name, asns = EXCLUDED.asns
                   WHERE (t.name, t.asns) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.asns)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "circuits" => sqlx::query_scalar!(
            r#"INSERT INTO topology_circuits AS t (cid, provider_id, kind, status, commit_rate_kbps, description, source, source_id)
               SELECT x.cid, p.id, x.kind, x.status, x.commit_rate, x.description, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, cid text, provider text, kind text, status text, commit_rate int8, description text)
               JOIN topology_providers p ON p.source = 'netbox' AND p.source_id = x.provider
               ON CONFLICT (source, source_id) DO UPDATE
                   SET cid = EXCLUDED.cid, provider_id = EXCLUDED.provider_id, kind = EXCLUDED.kind, status = EXCLUDED.status,
                       commit_rate_kbps = EXCLUDED.commit_rate_kbps, description = EXCLUDED.description, updated_at = now()
                   WHERE (t.cid, t.provider_id, t.kind, t.status, t.commit_rate_kbps, t.description)
                         IS DISTINCT FROM (EXCLUDED.cid, EXCLUDED.provider_id, EXCLUDED.kind, EXCLUDED.status, EXCLUDED.commit_rate_kbps, EXCLUDED.description)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "circuit_ends" => sqlx::query_scalar!(
            // an end at a provider network named as a partner reaches that partner
            r#"INSERT INTO topology_circuit_ends AS t (circuit_id, side, site_id, provider_network, partner_id, port_speed_kbps, source, source_id)
               SELECT c.id, x.side, s.id, x.provider_network, pa.id, x.port_speed, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, circuit text, side text, site text, provider_network text, port_speed int8)
               JOIN topology_circuits c ON c.source = 'netbox' AND c.source_id = x.circuit
               LEFT JOIN topology_sites s ON s.source = 'netbox' AND s.source_id = x.site
               LEFT JOIN topology_partners pa ON pa.name = x.provider_network
               ON CONFLICT (source, source_id) DO UPDATE
                   SET circuit_id = EXCLUDED.circuit_id, side = EXCLUDED.side, site_id = EXCLUDED.site_id,
                       provider_network = EXCLUDED.provider_network, partner_id = EXCLUDED.partner_id, port_speed_kbps = EXCLUDED.port_speed_kbps
                   WHERE (t.circuit_id, t.side, t.site_id, t.provider_network, t.partner_id, t.port_speed_kbps)
                         IS DISTINCT FROM (EXCLUDED.circuit_id, EXCLUDED.side, EXCLUDED.site_id, EXCLUDED.provider_network, EXCLUDED.partner_id,
                                           EXCLUDED.port_speed_kbps)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "partners" => sqlx::query_scalar!(
            r#"INSERT INTO topology_partners AS t (name, kind, asns, contacts, description, source, source_id)
               SELECT CASE WHEN EXISTS (SELECT 1 FROM topology_partners o WHERE o.name = x.name AND o.source <> 'netbox') THEN x.name || ' (netbox)' ELSE x.name END,
                      x.kind, ARRAY(SELECT jsonb_array_elements_text(x.asns)::bigint),
                      -- contacts NetBox did not let us read stay as they were
                      coalesce(x.contacts, (SELECT o.contacts FROM topology_partners o WHERE o.source = 'netbox' AND o.source_id = x.sid), '[]'),
                      x.description, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, name text, kind text, asns jsonb, contacts jsonb, description text)
               ON CONFLICT (source, source_id) DO UPDATE
                   SET name = EXCLUDED.name, kind = EXCLUDED.kind, asns = EXCLUDED.asns, contacts = EXCLUDED.contacts, description = EXCLUDED.description, updated_at = now()
                   WHERE (t.name, t.kind, t.asns, t.contacts, t.description) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.asns, EXCLUDED.contacts, EXCLUDED.description)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "bgp_sessions" => sqlx::query_scalar!(
            // the partner is the one whose ASNs hold the remote ASN; the state is the collector's
            r#"INSERT INTO topology_bgp_sessions AS t (name, device_id, local_address, local_asn, remote_address, remote_asn, partner_id,
                                                       import_policy, export_policy, source, source_id)
               SELECT CASE WHEN EXISTS (SELECT 1 FROM topology_bgp_sessions o WHERE o.name = x.name AND o.source <> 'netbox') THEN x.name || ' (netbox)' ELSE x.name END,
                      d.id, x.local_address::inet, x.local_asn, x.remote_address::inet, x.remote_asn,
                      (SELECT p.id FROM topology_partners p WHERE x.remote_asn = ANY (p.asns) ORDER BY p.name LIMIT 1),
                      x.import_policy, x.export_policy, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, name text, device text, local_address text, local_asn int8, remote_address text,
                                                remote_asn int8, import_policy text, export_policy text)
               JOIN topology_devices d ON d.source = 'netbox' AND d.source_id = x.device
               ON CONFLICT (source, source_id) DO UPDATE
                   SET name = EXCLUDED.name, device_id = EXCLUDED.device_id, local_address = EXCLUDED.local_address, local_asn = EXCLUDED.local_asn,
                       remote_address = EXCLUDED.remote_address, remote_asn = EXCLUDED.remote_asn, partner_id = EXCLUDED.partner_id,
                       import_policy = EXCLUDED.import_policy, export_policy = EXCLUDED.export_policy
                   WHERE (t.name, t.device_id, t.local_address, t.local_asn, t.remote_address, t.remote_asn, t.partner_id, t.import_policy, t.export_policy)
                         IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.device_id, EXCLUDED.local_address, EXCLUDED.local_asn, EXCLUDED.remote_address,
                                           EXCLUDED.remote_asn, EXCLUDED.partner_id, EXCLUDED.import_policy, EXCLUDED.export_policy)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        "links" => sqlx::query_scalar!(
            r#"INSERT INTO topology_links AS t (label, status, a_device_id, a_interface_id, a_end_id, b_device_id, b_interface_id, b_end_id, source, source_id)
               SELECT x.label, x.status, ai.device_id, ai.id, ae.id, bi.device_id, bi.id, be.id, 'netbox', x.sid
               FROM jsonb_to_recordset($1) AS x(sid text, label text, status text, a_interface text, a_end text, b_interface text, b_end text)
               LEFT JOIN topology_interfaces ai ON ai.source = 'netbox' AND ai.source_id = x.a_interface
               LEFT JOIN topology_circuit_ends ae ON ae.source = 'netbox' AND ae.source_id = x.a_end
               LEFT JOIN topology_interfaces bi ON bi.source = 'netbox' AND bi.source_id = x.b_interface
               LEFT JOIN topology_circuit_ends be ON be.source = 'netbox' AND be.source_id = x.b_end
               WHERE (ai.id IS NOT NULL OR ae.id IS NOT NULL) AND (bi.id IS NOT NULL OR be.id IS NOT NULL)
               ON CONFLICT (source, source_id) DO UPDATE
                   SET label = EXCLUDED.label, status = EXCLUDED.status, a_device_id = EXCLUDED.a_device_id, a_interface_id = EXCLUDED.a_interface_id,
                       a_end_id = EXCLUDED.a_end_id, b_device_id = EXCLUDED.b_device_id, b_interface_id = EXCLUDED.b_interface_id,
                       b_end_id = EXCLUDED.b_end_id, updated_at = now()
                   WHERE (t.label, t.status, t.a_device_id, t.a_interface_id, t.a_end_id, t.b_device_id, t.b_interface_id, t.b_end_id)
                         IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.status, EXCLUDED.a_device_id, EXCLUDED.a_interface_id, EXCLUDED.a_end_id,
                                           EXCLUDED.b_device_id, EXCLUDED.b_interface_id, EXCLUDED.b_end_id)
               RETURNING (xmax = 0) AS "created!""#,
            rows
        )
        .fetch_all(conn)
        .await,
        _ => Ok(Vec::new()),
    }
}

/// Removes what NetBox no longer has, of one kind: the rows from NetBox whose ids are not in
/// `keep`; how many.
#[tracing::instrument(level = "debug", name = "topology.repo.sync_remove", skip_all, fields(kind))]
pub async fn sync_remove(conn: &mut PgConnection, kind: &str, keep: &[String]) -> sqlx::Result<u64> {
    let done = match kind {
        "sites" => sqlx::query!("DELETE FROM topology_sites WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "racks" => sqlx::query!("DELETE FROM topology_racks WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "devices" => sqlx::query!("DELETE FROM topology_devices WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "interfaces" => sqlx::query!("DELETE FROM topology_interfaces WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "providers" => sqlx::query!("DELETE FROM topology_providers WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "circuits" => sqlx::query!("DELETE FROM topology_circuits WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "circuit_ends" => sqlx::query!("DELETE FROM topology_circuit_ends WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "links" => sqlx::query!("DELETE FROM topology_links WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "partners" => sqlx::query!("DELETE FROM topology_partners WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        "bgp_sessions" => sqlx::query!("DELETE FROM topology_bgp_sessions WHERE source = 'netbox' AND source_id <> ALL($1)", keep).execute(conn).await?,
        _ => return Ok(0),
    };
    Ok(done.rows_affected())
}

/// How many rows from NetBox there are of a kind read incrementally (`netbox::INCREMENTAL`).
#[tracing::instrument(level = "debug", name = "topology.repo.synced_count", skip_all, fields(kind))]
pub async fn synced_count(conn: &mut PgConnection, kind: &str) -> sqlx::Result<i64> {
    match kind {
        "interfaces" => sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM topology_interfaces WHERE source = 'netbox'"#).fetch_one(conn).await,
        "links" => sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM topology_links WHERE source = 'netbox'"#).fetch_one(conn).await,
        _ => Ok(0),
    }
}

/// A sync's progress and, at its end, its report or why it failed.
pub struct SyncRow {
    pub id: Uuid,
    pub dry_run: bool,
    pub state: String,
    pub step: String,
    pub done: i32,
    pub total: i32,
    pub report: Option<serde_json::Value>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Who asked for it; none for a scheduled one.
    pub started_by: Option<String>,
    /// Since when it read only what changed; none when it read everything.
    pub since: Option<DateTime<Utc>>,
}

/// A sync begun from `netbox_url`: its id, and since when it reads only what changed. It reads
/// only what changed since this NetBox's latest sync (less a margin for clocks and transactions
/// open meanwhile) when it is asked to and this NetBox's latest full read is less than a day old;
/// otherwise it reads everything (none).
#[tracing::instrument(level = "debug", name = "topology.repo.start_sync", skip_all)]
pub async fn start_sync(
    conn: &mut PgConnection,
    requested_by: Option<Uuid>,
    dry_run: bool,
    total: i32,
    netbox_url: &str,
    incremental: bool,
) -> sqlx::Result<(Uuid, Option<DateTime<Utc>>)> {
    let row = sqlx::query!(
        r#"INSERT INTO topology_syncs (requested_by, dry_run, total, netbox_url, since)
           SELECT $1, $2, $3, $4,
                  (SELECT max(started_at) - interval '10 minutes' FROM topology_syncs
                   WHERE $5 AND netbox_url = $4 AND state = 'succeeded' AND NOT dry_run
                   HAVING max(started_at) FILTER (WHERE since IS NULL) > now() - interval '1 day')
           RETURNING id, since"#,
        requested_by,
        dry_run,
        total,
        netbox_url,
        incremental
    )
    .fetch_one(conn)
    .await?;
    Ok((row.id, row.since))
}

#[tracing::instrument(level = "debug", name = "topology.repo.sync_step", skip_all)]
pub async fn sync_step(conn: &mut PgConnection, id: Uuid, step: &str, done: i32) -> sqlx::Result<()> {
    sqlx::query!("UPDATE topology_syncs SET step = $2, done = $3 WHERE id = $1", id, step, done).execute(conn).await?;
    Ok(())
}

#[tracing::instrument(level = "debug", name = "topology.repo.finish_sync", skip_all)]
pub async fn finish_sync(conn: &mut PgConnection, id: Uuid, report: Option<&serde_json::Value>, error: Option<&str>) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE topology_syncs SET state = CASE WHEN $3::text IS NULL THEN 'succeeded' ELSE 'failed' END,
                  step = CASE WHEN $3::text IS NULL THEN 'done' ELSE step END, done = CASE WHEN $3::text IS NULL THEN total ELSE done END,
                  report = $2, error = $3, finished_at = now()
           WHERE id = $1"#,
        id,
        report,
        error
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", name = "topology.repo.sync", skip_all)]
pub async fn sync(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<SyncRow>> {
    sqlx::query_as!(
        SyncRow,
        r#"SELECT s.id, s.dry_run, s.state, s.step, s.done, s.total, s.report, s.error, s.started_at, s.finished_at, u.username AS "started_by?", s.since
           FROM topology_syncs s LEFT JOIN users u ON u.id = s.requested_by WHERE s.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

/// The latest syncs, newest first.
#[tracing::instrument(level = "debug", name = "topology.repo.recent_syncs", skip_all)]
pub async fn recent_syncs(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<SyncRow>> {
    sqlx::query_as!(
        SyncRow,
        r#"SELECT s.id, s.dry_run, s.state, s.step, s.done, s.total, s.report, s.error, s.started_at, s.finished_at, u.username AS "started_by?", s.since
           FROM topology_syncs s LEFT JOIN users u ON u.id = s.requested_by ORDER BY s.started_at DESC LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Holds the syncs' lock until the transaction ends: one sync writes at a time.
#[tracing::instrument(level = "debug", name = "topology.repo.lock_syncs", skip_all)]
pub async fn lock_syncs(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('switchyard.topology.sync'))").execute(conn).await?;
    Ok(())
}

/// Whether a sync started in the last hour is still running (an older one is taken as lost).
#[tracing::instrument(level = "debug", name = "topology.repo.sync_running", skip_all)]
pub async fn sync_running(conn: &mut PgConnection) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!("SELECT 1 AS one FROM topology_syncs WHERE state = 'running' AND started_at > now() - interval '1 hour' LIMIT 1")
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// A page of devices in name order, after `after`, with the filters given.
#[tracing::instrument(level = "debug", name = "topology.repo.devices", skip_all)]
pub async fn devices(
    conn: &mut PgConnection,
    site: Option<&str>,
    role: Option<&str>,
    q: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<crate::topology::types::DeviceRow>> {
    sqlx::query_as!(
        crate::topology::types::DeviceRow,
        r#"SELECT d.name, d.role, s.name AS "site?", d.status, d.manufacturer, d.model, d.platform, d.pci_scope, host(d.primary_ip4) AS primary_ip4
           FROM topology_devices d LEFT JOIN topology_sites s ON s.id = d.site_id
           WHERE ($1::text IS NULL OR s.name = $1) AND ($2::text IS NULL OR d.role = $2)
             AND ($3::text IS NULL OR d.name ILIKE '%' || $3 || '%') AND ($4::text IS NULL OR d.name > $4)
           ORDER BY d.name
           LIMIT $5"#,
        site,
        role,
        q,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A device with its interfaces (each with what its cable reaches) and its BGP sessions, as one
/// JSON document: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.device", skip_all)]
pub async fn device(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'name', d.name, 'role', d.role, 'site', s.name, 'status', d.status, 'manufacturer', d.manufacturer,
               'model', d.model, 'platform', d.platform, 'pci_scope', d.pci_scope, 'primary_ip4', host(d.primary_ip4),
               'serial', d.serial, 'rack', r.name, 'position', d.position, 'primary_ip6', host(d.primary_ip6), 'source', d.source,
               'interfaces', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                       'name', i.name, 'kind', i.kind, 'speed_kbps', i.speed_kbps, 'enabled', i.enabled, 'oper_up', i.oper_up,
                       'lag', lag.name,
                       'reaches', (SELECT coalesce(pd.name || ' ' || pi.name, pr.name || ' ' || c.cid)
                                   FROM topology_links l
                                   LEFT JOIN topology_interfaces pi ON pi.id = CASE WHEN l.a_interface_id = i.id THEN l.b_interface_id ELSE l.a_interface_id END
                                   LEFT JOIN topology_devices pd ON pd.id = pi.device_id
                                   LEFT JOIN topology_circuit_ends e ON e.id = CASE WHEN l.a_interface_id = i.id THEN l.b_end_id ELSE l.a_end_id END
                                   LEFT JOIN topology_circuits c ON c.id = e.circuit_id
                                   LEFT JOIN topology_providers pr ON pr.id = c.provider_id
                                   WHERE l.a_interface_id = i.id OR l.b_interface_id = i.id
                                   LIMIT 1)
                   ) ORDER BY i.name)
                   FROM topology_interfaces i LEFT JOIN topology_interfaces lag ON lag.id = i.lag_id
                   WHERE i.device_id = d.id), '[]'::jsonb),
               'links', coalesce((
                   SELECT jsonb_agg(jsonb_build_object(
                              'id', l.id,
                              'label', coalesce(l.label, coalesce(da.name, pa.name || ' ' || ca.cid) || ' – ' || coalesce(db.name, pb.name || ' ' || cb.cid)),
                              'to', CASE WHEN l.a_device_id = d.id THEN coalesce(db.name, pb.name || ' ' || cb.cid) ELSE coalesce(da.name, pa.name || ' ' || ca.cid) END,
                              'circuit', CASE WHEN l.a_device_id = d.id AND cb.id IS NOT NULL THEN jsonb_build_object('provider', pb.name, 'cid', cb.cid)
                                              WHEN l.a_device_id IS DISTINCT FROM d.id AND ca.id IS NOT NULL THEN jsonb_build_object('provider', pa.name, 'cid', ca.cid) END,
                              'partner', (SELECT p.name FROM topology_circuit_ends e JOIN topology_partners p ON p.id = e.partner_id
                                          WHERE e.circuit_id IN (ca.id, cb.id) ORDER BY p.name LIMIT 1)) ORDER BY l.id)
                   FROM topology_links l
                   LEFT JOIN topology_devices da ON da.id = l.a_device_id
                   LEFT JOIN topology_devices db ON db.id = l.b_device_id
                   LEFT JOIN topology_circuit_ends ea ON ea.id = l.a_end_id
                   LEFT JOIN topology_circuit_ends eb ON eb.id = l.b_end_id
                   LEFT JOIN topology_circuits ca ON ca.id = ea.circuit_id
                   LEFT JOIN topology_circuits cb ON cb.id = eb.circuit_id
                   LEFT JOIN topology_providers pa ON pa.id = ca.provider_id
                   LEFT JOIN topology_providers pb ON pb.id = cb.provider_id
                   WHERE l.a_device_id = d.id OR l.b_device_id = d.id), '[]'::jsonb),
               'maintenance', coalesce((SELECT jsonb_agg(m.doc ORDER BY m.starts_at, m.id) FROM topology_maintenance_docs m
                                        WHERE (m.device_id = d.id OR (m.site_id = d.site_id AND m.device_id IS NULL AND m.circuit_id IS NULL))
                                          AND m.ends_at > now()), '[]'::jsonb),
               'interface_changes', coalesce((SELECT jsonb_agg(jsonb_build_object('interface', x.name, 'at', x.at, 'up', x.up, 'previous', x.previous) ORDER BY x.at DESC)
                                              FROM (SELECT i.name, st.at, st.up, st.previous FROM topology_interface_states st
                                                    JOIN topology_interfaces i ON i.id = st.interface_id
                                                    WHERE i.device_id = d.id ORDER BY st.at DESC LIMIT 20) x), '[]'::jsonb),
               'sessions', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('name', b.name, 'remote_address', host(b.remote_address), 'remote_asn', b.remote_asn,
                                                       'partner', p.name, 'state', b.state, 'state_changed_at', b.state_changed_at) ORDER BY b.name)
                   FROM topology_bgp_sessions b LEFT JOIN topology_partners p ON p.id = b.partner_id
                   WHERE b.device_id = d.id), '[]'::jsonb)
           ) AS "device!"
           FROM topology_devices d
           LEFT JOIN topology_sites s ON s.id = d.site_id
           LEFT JOIN topology_racks r ON r.id = d.rack_id
           WHERE d.name = $1"#,
        name
    )
    .fetch_optional(conn)
    .await
}

/// Sites in name order after `after` (each with its device count), as JSON: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.sites", skip_all)]
pub async fn sites(conn: &mut PgConnection, after: Option<&str>, limit: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object('name', s.name, 'kind', s.kind, 'status', s.status, 'region', s.region, 'facility', s.facility,
                                     'latitude', s.latitude, 'longitude', s.longitude, 'time_zone', s.time_zone,
                                     'devices', (SELECT count(*) FROM topology_devices d WHERE d.site_id = s.id)) AS "site!"
           FROM topology_sites s
           WHERE ($1::text IS NULL OR s.name > $1)
           ORDER BY s.name
           LIMIT $2"#,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A site with its racks, devices, and the links and circuits that leave it, as JSON: one
/// statement.
#[tracing::instrument(level = "debug", name = "topology.repo.site", skip_all)]
pub async fn site(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'name', s.name, 'kind', s.kind, 'status', s.status, 'region', s.region, 'facility', s.facility, 'address', s.address,
               'latitude', s.latitude, 'longitude', s.longitude, 'time_zone', s.time_zone, 'description', s.description,
               'racks', coalesce((SELECT jsonb_agg(jsonb_build_object('name', r.name, 'location', r.location,
                                                                    'devices', (SELECT count(*) FROM topology_devices d WHERE d.rack_id = r.id))
                                                 ORDER BY r.location NULLS FIRST, r.name)
                                  FROM topology_racks r WHERE r.site_id = s.id), '[]'::jsonb),
               'devices', coalesce((SELECT jsonb_agg(jsonb_build_object('name', d.name, 'role', d.role, 'status', d.status, 'pci_scope', d.pci_scope)
                                                   ORDER BY d.name)
                                    FROM topology_devices d WHERE d.site_id = s.id), '[]'::jsonb),
               'links_out', coalesce((SELECT jsonb_agg(jsonb_build_object('label', coalesce(l.label, da.name || ' – ' || db.name),
                                                                        'from', CASE WHEN da.site_id = s.id THEN da.name ELSE db.name END,
                                                                        'to', CASE WHEN da.site_id = s.id THEN db.name ELSE da.name END,
                                                                        'to_site', CASE WHEN da.site_id = s.id THEN sb.name ELSE sa.name END)
                                                     ORDER BY l.id)
                                      FROM topology_links l
                                      JOIN topology_devices da ON da.id = l.a_device_id
                                      JOIN topology_devices db ON db.id = l.b_device_id
                                      LEFT JOIN topology_sites sa ON sa.id = da.site_id
                                      LEFT JOIN topology_sites sb ON sb.id = db.site_id
                                      WHERE (da.site_id = s.id) <> (db.site_id IS NOT DISTINCT FROM s.id)), '[]'::jsonb),
               'circuits', coalesce((SELECT jsonb_agg(DISTINCT jsonb_build_object('provider', pr.name, 'cid', c.cid, 'status', c.status))
                                     FROM topology_circuit_ends e
                                     JOIN topology_circuits c ON c.id = e.circuit_id
                                     JOIN topology_providers pr ON pr.id = c.provider_id
                                     WHERE e.site_id = s.id), '[]'::jsonb),
               'maintenance', coalesce((SELECT jsonb_agg(m.doc ORDER BY m.starts_at, m.id) FROM topology_maintenance_docs m
                                        WHERE m.site_id = s.id AND m.ends_at > now()), '[]'::jsonb),
               -- the catalog's components whose owners say they run here
               'services', coalesce((SELECT jsonb_agg(jsonb_build_object('entity', en.kind || ':' || en.namespace || '/' || en.name,
                                                                         'title', coalesce(en.title, en.name), 'runs_at', en.annotations->>'switchyard.dev/sites')
                                                      ORDER BY en.name)
                                     FROM entities en
                                     WHERE en.kind = 'component' AND en.annotations ? 'switchyard.dev/sites'
                                           AND s.name = ANY (regexp_split_to_array(trim(en.annotations->>'switchyard.dev/sites'), '\s*,\s*'))), '[]'::jsonb)
           ) AS "site!"
           FROM topology_sites s WHERE s.name = $1"#,
        name
    )
    .fetch_optional(conn)
    .await
}

/// Partners in name order after `after`, each with its sessions' states, as JSON: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.partners", skip_all)]
pub async fn partners(conn: &mut PgConnection, after: Option<&str>, limit: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object('name', p.name, 'kind', p.kind, 'asns', p.asns,
                                     'sessions', (SELECT count(*) FROM topology_bgp_sessions b WHERE b.partner_id = p.id),
                                     'established', (SELECT count(*) FROM topology_bgp_sessions b WHERE b.partner_id = p.id AND b.state = 'established')) AS "partner!"
           FROM topology_partners p
           WHERE ($1::text IS NULL OR p.name > $1)
           ORDER BY p.name
           LIMIT $2"#,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A partner with its sessions and their states, the circuits that reach it, the sites where it
/// peers, and its contacts, as JSON: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.partner", skip_all)]
pub async fn partner(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'name', p.name, 'kind', p.kind, 'asns', p.asns, 'contacts', p.contacts, 'description', p.description,
               'sessions', coalesce((SELECT jsonb_agg(jsonb_build_object('name', b.name, 'device', d.name, 'site', s.name,
                                                                       'remote_address', host(b.remote_address), 'remote_asn', b.remote_asn,
                                                                       'state', b.state, 'state_changed_at', b.state_changed_at,
                                                                       'prefixes_received', b.prefixes_received) ORDER BY b.name)
                                     FROM topology_bgp_sessions b
                                     JOIN topology_devices d ON d.id = b.device_id
                                     LEFT JOIN topology_sites s ON s.id = d.site_id
                                     WHERE b.partner_id = p.id), '[]'::jsonb),
               'circuits', coalesce((SELECT jsonb_agg(jsonb_build_object('provider', pr.name, 'cid', c.cid, 'status', c.status) ORDER BY pr.name, c.cid)
                                     FROM topology_circuit_ends e
                                     JOIN topology_circuits c ON c.id = e.circuit_id
                                     JOIN topology_providers pr ON pr.id = c.provider_id
                                     WHERE e.partner_id = p.id), '[]'::jsonb),
               'sites', coalesce((SELECT jsonb_agg(DISTINCT s.name)
                                  FROM topology_bgp_sessions b
                                  JOIN topology_devices d ON d.id = b.device_id
                                  JOIN topology_sites s ON s.id = d.site_id
                                  WHERE b.partner_id = p.id), '[]'::jsonb),
               'systems', coalesce((SELECT jsonb_agg(jsonb_build_object('name', y.name, 'title', y.title, 'kind', y.kind, 'relation', ps.relation) ORDER BY ps.relation, y.name)
                                    FROM topology_partner_systems ps JOIN integration_systems y ON y.id = ps.system_id
                                    WHERE ps.partner_id = p.id), '[]'::jsonb),
               'state_history', coalesce((SELECT jsonb_agg(jsonb_build_object('session', x.name, 'device', x.device, 'at', x.at, 'state', x.state, 'previous', x.previous) ORDER BY x.at DESC)
                                          FROM (SELECT b.name, d.name AS device, st.at, st.state, st.previous
                                                FROM topology_bgp_sessions b JOIN topology_devices d ON d.id = b.device_id
                                                JOIN topology_bgp_states st ON st.session_id = b.id
                                                WHERE b.partner_id = p.id ORDER BY st.at DESC LIMIT 30) x), '[]'::jsonb)
           ) AS "partner!"
           FROM topology_partners p WHERE p.name = $1"#,
        name
    )
    .fetch_optional(conn)
    .await
}

/// The audit subjects of a partner and what hangs off it, each with what it is called and its
/// page: the integration systems it hosts or carries, the integrations to them, the maintenance
/// windows on its circuits and on the devices that peer with it. `None` when there is no such
/// partner.
#[tracing::instrument(level = "debug", name = "topology.repo.partner_subjects", skip_all)]
pub async fn partner_subjects(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<Vec<crate::audit::types::SubjectLabel>>> {
    let rows = sqlx::query!(
        r#"WITH p AS (SELECT id FROM topology_partners WHERE name = $1),
                systems AS (SELECT y.id, y.name FROM topology_partner_systems ps JOIN p ON p.id = ps.partner_id JOIN integration_systems y ON y.id = ps.system_id)
           SELECT 'partner' AS "kind!", $1 AS "id!", $1 AS "label!", '' AS "href!" FROM p
           UNION ALL SELECT 'integration_system', id::text, name, '/integrations/systems/' || name FROM systems
           UNION ALL SELECT DISTINCT 'integration', i.id::text, i.name, '/integrations/' || i.name
                     FROM integration_ends e JOIN systems s ON s.id = e.system_id JOIN integrations i ON i.id = e.integration_id
           UNION ALL SELECT 'maintenance_window', m.id::text, m.title, '' FROM topology_maintenance m, p
                     WHERE m.circuit_id IN (SELECT circuit_id FROM topology_circuit_ends WHERE partner_id = p.id)
                        OR m.device_id IN (SELECT device_id FROM topology_bgp_sessions WHERE partner_id = p.id)"#,
        name
    )
    .fetch_all(conn)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        rows.into_iter()
            .map(|r| crate::audit::types::SubjectLabel { kind: r.kind, id: r.id, label: r.label, href: r.href })
            .collect(),
    ))
}

/// Circuits in (provider, circuit id) order after `after` ("provider cid"), each with where its
/// ends are, as JSON: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.circuits", skip_all)]
pub async fn circuits(conn: &mut PgConnection, provider: Option<&str>, after: Option<&str>, limit: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'provider', pr.name, 'cid', c.cid, 'kind', c.kind, 'status', c.status, 'commit_rate_kbps', c.commit_rate_kbps,
               'a', (SELECT coalesce(s.name, e.provider_network, p.name) FROM topology_circuit_ends e
                     LEFT JOIN topology_sites s ON s.id = e.site_id LEFT JOIN topology_partners p ON p.id = e.partner_id
                     WHERE e.circuit_id = c.id AND e.side = 'A'),
               'z', (SELECT coalesce(s.name, e.provider_network, p.name) FROM topology_circuit_ends e
                     LEFT JOIN topology_sites s ON s.id = e.site_id LEFT JOIN topology_partners p ON p.id = e.partner_id
                     WHERE e.circuit_id = c.id AND e.side = 'Z')
           ) AS "circuit!"
           FROM topology_circuits c JOIN topology_providers pr ON pr.id = c.provider_id
           WHERE ($1::text IS NULL OR pr.name = $1) AND ($2::text IS NULL OR pr.name || ' ' || c.cid > $2)
           ORDER BY pr.name || ' ' || c.cid
           LIMIT $3"#,
        provider,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// A circuit with its two ends: where each is, and the device and interface cabled to it, as
/// JSON: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.circuit", skip_all)]
pub async fn circuit(conn: &mut PgConnection, provider: &str, cid: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'provider', pr.name, 'cid', c.cid, 'kind', c.kind, 'status', c.status, 'commit_rate_kbps', c.commit_rate_kbps,
               'description', c.description,
               'ends', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                     'side', e.side, 'site', s.name, 'provider_network', e.provider_network, 'partner', p.name,
                                     'port_speed_kbps', e.port_speed_kbps,
                                     'device', (SELECT d.name FROM topology_links l JOIN topology_devices d
                                                ON d.id = CASE WHEN l.a_end_id = e.id THEN l.b_device_id ELSE l.a_device_id END
                                                WHERE l.a_end_id = e.id OR l.b_end_id = e.id LIMIT 1),
                                     'interface', (SELECT i.name FROM topology_links l JOIN topology_interfaces i
                                                   ON i.id = CASE WHEN l.a_end_id = e.id THEN l.b_interface_id ELSE l.a_interface_id END
                                                   WHERE l.a_end_id = e.id OR l.b_end_id = e.id LIMIT 1)) ORDER BY e.side)
                                 FROM topology_circuit_ends e
                                 LEFT JOIN topology_sites s ON s.id = e.site_id
                                 LEFT JOIN topology_partners p ON p.id = e.partner_id
                                 WHERE e.circuit_id = c.id), '[]'::jsonb),
               'maintenance', coalesce((SELECT jsonb_agg(m.doc ORDER BY m.starts_at, m.id) FROM topology_maintenance_docs m
                                        WHERE m.circuit_id = c.id AND m.ends_at > now()), '[]'::jsonb)
           ) AS "circuit!"
           FROM topology_circuits c JOIN topology_providers pr ON pr.id = c.provider_id
           WHERE pr.name = $1 AND c.cid = $2"#,
        provider,
        cid
    )
    .fetch_optional(conn)
    .await
}

/// Links by id, a page at a time (of one site's devices, when asked), each with its two ends.
#[tracing::instrument(level = "debug", name = "topology.repo.links", skip_all)]
pub async fn links(conn: &mut PgConnection, site: Option<&str>, after: Option<Uuid>, limit: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'id', l.id, 'label', l.label, 'status', l.status, 'source', l.source,
               'a', jsonb_build_object('device', da.name, 'interface', ia.name, 'circuit', pa.name || ' ' || ca.cid, 'side', ea.side),
               'b', jsonb_build_object('device', db.name, 'interface', ib.name, 'circuit', pb.name || ' ' || cb.cid, 'side', eb.side)
           ) AS "link!"
           FROM topology_links l
           LEFT JOIN topology_devices da ON da.id = l.a_device_id
           LEFT JOIN topology_interfaces ia ON ia.id = l.a_interface_id
           LEFT JOIN topology_circuit_ends ea ON ea.id = l.a_end_id
           LEFT JOIN topology_circuits ca ON ca.id = ea.circuit_id
           LEFT JOIN topology_providers pa ON pa.id = ca.provider_id
           LEFT JOIN topology_devices db ON db.id = l.b_device_id
           LEFT JOIN topology_interfaces ib ON ib.id = l.b_interface_id
           LEFT JOIN topology_circuit_ends eb ON eb.id = l.b_end_id
           LEFT JOIN topology_circuits cb ON cb.id = eb.circuit_id
           LEFT JOIN topology_providers pb ON pb.id = cb.provider_id
           WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM topology_sites s WHERE s.name = $1 AND s.id IN (da.site_id, db.site_id)))
             AND ($2::uuid IS NULL OR l.id > $2)
           ORDER BY l.id
           LIMIT $3"#,
        site,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// Providers in name order, each with its circuits counted.
#[tracing::instrument(level = "debug", name = "topology.repo.providers", skip_all)]
pub async fn providers(conn: &mut PgConnection, after: Option<&str>, limit: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'name', p.name, 'asns', to_jsonb(p.asns), 'partner', pa.name,
               'circuits', (SELECT count(*) FROM topology_circuits c WHERE c.provider_id = p.id)
           ) AS "provider!"
           FROM topology_providers p LEFT JOIN topology_partners pa ON pa.id = p.partner_id
           WHERE ($1::text IS NULL OR p.name > $1)
           ORDER BY p.name
           LIMIT $2"#,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// BGP sessions in name order, a page at a time, of a device, a partner or a state when asked.
#[tracing::instrument(level = "debug", name = "topology.repo.sessions", skip_all)]
pub async fn sessions(
    conn: &mut PgConnection,
    device: Option<&str>,
    partner: Option<&str>,
    state: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT jsonb_build_object(
               'name', b.name, 'device', d.name, 'site', s.name, 'local_address', host(b.local_address), 'local_asn', b.local_asn,
               'remote_address', host(b.remote_address), 'remote_asn', b.remote_asn, 'partner', p.name, 'state', b.state,
               'state_changed_at', b.state_changed_at, 'prefixes_received', b.prefixes_received
           ) AS "session!"
           FROM topology_bgp_sessions b
           JOIN topology_devices d ON d.id = b.device_id
           LEFT JOIN topology_sites s ON s.id = d.site_id
           LEFT JOIN topology_partners p ON p.id = b.partner_id
           WHERE ($1::text IS NULL OR d.name = $1) AND ($2::text IS NULL OR p.name = $2) AND ($3::text IS NULL OR b.state = $3)
             AND ($4::text IS NULL OR b.name > $4)
           ORDER BY b.name
           LIMIT $5"#,
        device,
        partner,
        state,
        after,
        limit
    )
    .fetch_all(conn)
    .await
}

/// The members named that the network does not have: (field, what was named).
#[tracing::instrument(level = "debug", name = "topology.repo.unknown_members", skip_all)]
pub async fn unknown_members(conn: &mut PgConnection, devices: &[String], links: &[Uuid], providers: &[String], cids: &[String]) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT 'devices' AS "field!", n AS "name!" FROM unnest($1::text[]) n WHERE NOT EXISTS (SELECT 1 FROM topology_devices d WHERE d.name = n)
           UNION ALL
           SELECT 'links', l::text FROM unnest($2::uuid[]) l WHERE NOT EXISTS (SELECT 1 FROM topology_links x WHERE x.id = l)
           UNION ALL
           SELECT 'circuits', c.provider || ' ' || c.cid FROM unnest($3::text[], $4::text[]) AS c(provider, cid)
           WHERE NOT EXISTS (SELECT 1 FROM topology_circuits x JOIN topology_providers p ON p.id = x.provider_id WHERE p.name = c.provider AND x.cid = c.cid)"#,
        devices,
        links,
        providers,
        cids
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.field, r.name)).collect())
}

/// Creates or replaces a risk group and its members; whether it was new.
#[tracing::instrument(level = "debug", name = "topology.repo.save_risk_group", skip_all)]
pub async fn save_risk_group(
    conn: &mut PgConnection,
    name: &str,
    kind: &str,
    description: &str,
    devices: &[String],
    links: &[Uuid],
    providers: &[String],
    cids: &[String],
) -> sqlx::Result<bool> {
    let created = sqlx::query_scalar!(
        r#"INSERT INTO topology_risk_groups AS g (name, kind, description) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, description = EXCLUDED.description
           RETURNING (xmax = 0) AS "created!""#,
        name,
        kind,
        description
    )
    .fetch_one(&mut *conn)
    .await?;
    // what it held goes first (a statement of its own: an insert beside a delete of the same
    // rows in one statement would meet them in the unique index)
    sqlx::query!("DELETE FROM topology_risk_members m USING topology_risk_groups g WHERE g.name = $1 AND m.group_id = g.id", name).execute(&mut *conn).await?;
    sqlx::query!(
        r#"WITH g AS (SELECT id FROM topology_risk_groups WHERE name = $1)
           INSERT INTO topology_risk_members (group_id, device_id, link_id, circuit_id)
           SELECT g.id, d.id, NULL::uuid, NULL::uuid FROM g, topology_devices d WHERE d.name = ANY ($2)
           UNION ALL
           SELECT g.id, NULL, l.id, NULL FROM g, topology_links l WHERE l.id = ANY ($3)
           UNION ALL
           SELECT g.id, NULL, NULL, x.id FROM g, unnest($4::text[], $5::text[]) AS c(provider, cid)
           JOIN topology_providers p ON p.name = c.provider JOIN topology_circuits x ON x.provider_id = p.id AND x.cid = c.cid"#,
        name,
        devices,
        links,
        providers,
        cids
    )
    .execute(conn)
    .await?;
    Ok(created)
}

/// Removes a risk group; whether there was one.
#[tracing::instrument(level = "debug", name = "topology.repo.remove_risk_group", skip_all)]
pub async fn remove_risk_group(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query!("DELETE FROM topology_risk_groups WHERE name = $1", name).execute(conn).await?.rows_affected() > 0)
}

/// A risk group with its members, as names and as the keys the analyses know them by.
pub struct RiskGroupRow {
    pub name: String,
    pub kind: String,
    pub description: String,
    pub devices: Vec<String>,
    pub links: Vec<Uuid>,
    pub providers: Vec<String>,
    pub cids: Vec<String>,
    /// `d:<device>` for its devices.
    pub node_keys: Vec<String>,
    /// `l:<id>` and `c:<id>` for its links and circuits.
    pub link_keys: Vec<String>,
}

/// Every risk group in name order with its members: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.risk_groups", skip_all)]
pub async fn risk_groups(conn: &mut PgConnection) -> sqlx::Result<Vec<RiskGroupRow>> {
    sqlx::query_as!(
        RiskGroupRow,
        r#"SELECT g.name, g.kind, g.description,
                  coalesce(array_agg(d.name ORDER BY d.name) FILTER (WHERE d.id IS NOT NULL), '{}') AS "devices!",
                  coalesce(array_agg(m.link_id ORDER BY m.link_id) FILTER (WHERE m.link_id IS NOT NULL), '{}') AS "links!",
                  coalesce(array_agg(p.name ORDER BY p.name, c.cid) FILTER (WHERE c.id IS NOT NULL), '{}') AS "providers!",
                  coalesce(array_agg(c.cid ORDER BY p.name, c.cid) FILTER (WHERE c.id IS NOT NULL), '{}') AS "cids!",
                  coalesce(array_agg('d:' || d.name ORDER BY d.name) FILTER (WHERE d.id IS NOT NULL), '{}') AS "node_keys!",
                  coalesce(array_agg(CASE WHEN m.link_id IS NOT NULL THEN 'l:' || m.link_id ELSE 'c:' || m.circuit_id END)
                           FILTER (WHERE m.link_id IS NOT NULL OR m.circuit_id IS NOT NULL), '{}') AS "link_keys!"
           FROM topology_risk_groups g
           LEFT JOIN topology_risk_members m ON m.group_id = g.id
           LEFT JOIN topology_devices d ON d.id = m.device_id
           LEFT JOIN topology_circuits c ON c.id = m.circuit_id
           LEFT JOIN topology_providers p ON p.id = c.provider_id
           GROUP BY g.id
           ORDER BY g.name"#
    )
    .fetch_all(conn)
    .await
}
