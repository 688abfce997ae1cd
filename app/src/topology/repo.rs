//! Topology SQL.
use sqlx::PgConnection;
use uuid::Uuid;

/// The network's version: it changes whenever a site, device, link, circuit end, partner,
/// session or risk group does (statement triggers, migration 20).
#[tracing::instrument(level = "debug", name = "topology.repo.version", skip_all)]
pub async fn version(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!("SELECT version FROM topology_version").fetch_one(conn).await
}

/// A device or a partner, as the analyses see it: `key` is `d:<name>` or `p:<name>`.
pub struct NodeRow {
    pub key: String,
    pub name: String,
    pub partner: bool,
    pub site: Option<String>,
    pub site_kind: Option<String>,
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
        r#"SELECT 'd:' || d.name AS "key!", d.name AS "name!", false AS "partner!", s.name AS site, s.kind AS site_kind
           FROM topology_devices d LEFT JOIN topology_sites s ON s.id = d.site_id
           UNION ALL
           SELECT 'p:' || p.name, p.name, true, NULL, NULL FROM topology_partners p"#
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
