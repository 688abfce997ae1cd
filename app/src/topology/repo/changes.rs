//! The network team's changes: interface states as collectors report them, maintenance windows,
//! the systems partners host, edits of a device, links and sessions removed.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// An interface a report names, locked until the reports are written.
pub struct InterfaceNow {
    pub id: Uuid,
    pub device: String,
    pub interface: String,
    pub oper_up: Option<bool>,
    pub oper_changed_at: Option<DateTime<Utc>>,
}

/// The interfaces these (device, interface) pairs name, locked.
#[tracing::instrument(level = "debug", name = "topology.repo.lock_interfaces", skip_all)]
pub async fn lock_interfaces(conn: &mut PgConnection, devices: &[String], interfaces: &[String]) -> sqlx::Result<Vec<InterfaceNow>> {
    sqlx::query_as!(
        InterfaceNow,
        r#"SELECT i.id, d.name AS device, i.name AS interface, i.oper_up, i.oper_changed_at
           FROM (SELECT DISTINCT device, interface FROM unnest($1::text[], $2::text[]) AS u(device, interface)) x
           JOIN topology_devices d ON d.name = x.device
           JOIN topology_interfaces i ON i.device_id = d.id AND i.name = x.interface
           ORDER BY i.id
           FOR UPDATE OF i"#,
        devices,
        interfaces
    )
    .fetch_all(conn)
    .await
}

/// A change of an interface's state to keep.
pub struct InterfaceStateRow {
    pub interface: Uuid,
    pub at: DateTime<Utc>,
    pub up: bool,
    pub previous: Option<bool>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.keep_interface_changes", skip_all)]
pub async fn keep_interface_changes(conn: &mut PgConnection, rows: &[InterfaceStateRow]) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        r#"INSERT INTO topology_interface_states (interface_id, at, up, previous)
           SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::bool[], $4::bool[])
           ON CONFLICT DO NOTHING"#,
        &rows.iter().map(|r| r.interface).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.at).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.up).collect::<Vec<_>>(),
        &rows.iter().map(|r| r.previous).collect::<Vec<_>>() as &[Option<bool>],
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Each interface's state after a batch: (interface, up, since).
#[tracing::instrument(level = "debug", name = "topology.repo.save_interface_states", skip_all)]
pub async fn save_interface_states(conn: &mut PgConnection, after: &[(Uuid, bool, DateTime<Utc>)]) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE topology_interfaces i SET oper_up = x.up, oper_changed_at = x.since
           FROM unnest($1::uuid[], $2::bool[], $3::timestamptz[]) AS x(id, up, since)
           WHERE i.id = x.id"#,
        &after.iter().map(|a| a.0).collect::<Vec<_>>(),
        &after.iter().map(|a| a.1).collect::<Vec<_>>(),
        &after.iter().map(|a| a.2).collect::<Vec<_>>(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct InterfaceChangeRow {
    pub interface: String,
    pub at: DateTime<Utc>,
    pub up: bool,
    pub previous: Option<bool>,
}

/// A device's interface changes (of one interface, when named), newest first; `None` when
/// there is no such device.
#[tracing::instrument(level = "debug", name = "topology.repo.interface_changes", skip_all)]
pub async fn interface_changes(conn: &mut PgConnection, device: &str, interface: Option<&str>, limit: i64) -> sqlx::Result<Option<Vec<InterfaceChangeRow>>> {
    let Some(device_id) = sqlx::query_scalar!("SELECT id FROM topology_devices WHERE name = $1", device).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let rows = sqlx::query_as!(
        InterfaceChangeRow,
        r#"SELECT i.name AS interface, s.at, s.up, s.previous
           FROM topology_interface_states s JOIN topology_interfaces i ON i.id = s.interface_id
           WHERE i.device_id = $1 AND ($2::text IS NULL OR i.name = $2)
           ORDER BY s.at DESC, s.received_at DESC
           LIMIT $3"#,
        device_id,
        interface,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(Some(rows))
}

/// The maintenance windows overlapping `[from, until)`, soonest first, as JSON: one statement.
#[tracing::instrument(level = "debug", name = "topology.repo.maintenance", skip_all)]
pub async fn maintenance(conn: &mut PgConnection, from: DateTime<Utc>, until: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"SELECT doc AS "doc!" FROM topology_maintenance_docs
           WHERE ends_at > $1 AND starts_at < $2
           ORDER BY starts_at, id
           LIMIT $3"#,
        from,
        until,
        limit
    )
    .fetch_all(conn)
    .await
}

/// One window, as JSON.
#[tracing::instrument(level = "debug", name = "topology.repo.maintenance_window", skip_all)]
pub async fn maintenance_window(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(r#"SELECT doc AS "doc!" FROM topology_maintenance_docs WHERE id = $1"#, id).fetch_optional(conn).await
}

/// What a window is on, by id; each `None` when its name is unknown.
pub struct MaintenanceSubject {
    pub device_id: Option<Uuid>,
    pub site_id: Option<Uuid>,
    pub circuit_id: Option<Uuid>,
}

/// The ids of a device, a site and a circuit by their names (any not given, or unknown, is `None`).
#[tracing::instrument(level = "debug", name = "topology.repo.maintenance_subject", skip_all)]
pub async fn maintenance_subject(
    conn: &mut PgConnection,
    device: Option<&str>,
    site: Option<&str>,
    circuit: Option<(&str, &str)>,
) -> sqlx::Result<MaintenanceSubject> {
    let (provider, cid) = circuit.unzip();
    sqlx::query_as!(
        MaintenanceSubject,
        r#"SELECT (SELECT id FROM topology_devices WHERE name = $1) AS device_id,
                  (SELECT id FROM topology_sites WHERE name = $2) AS site_id,
                  (SELECT c.id FROM topology_circuits c JOIN topology_providers p ON p.id = c.provider_id WHERE p.name = $3 AND c.cid = $4) AS circuit_id"#,
        device,
        site,
        provider,
        cid
    )
    .fetch_one(conn)
    .await
}

pub struct NewMaintenance<'a> {
    pub subject: &'a MaintenanceSubject,
    pub kind: &'a str,
    pub title: &'a str,
    pub reference: Option<&'a str>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.insert_maintenance", skip_all)]
pub async fn insert_maintenance(conn: &mut PgConnection, m: &NewMaintenance<'_>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        r#"INSERT INTO topology_maintenance (device_id, site_id, circuit_id, kind, title, reference, starts_at, ends_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id"#,
        m.subject.device_id,
        m.subject.site_id,
        m.subject.circuit_id,
        m.kind,
        m.title,
        m.reference,
        m.starts_at,
        m.ends_at,
        m.created_by
    )
    .fetch_one(conn)
    .await
}

/// Whether a window with this reference is on the calendar.
#[tracing::instrument(level = "debug", name = "topology.repo.maintenance_referenced", skip_all)]
pub async fn maintenance_referenced(conn: &mut PgConnection, reference: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query_scalar!("SELECT 1 AS one FROM topology_maintenance WHERE reference = $1 LIMIT 1", reference).fetch_optional(conn).await?.is_some())
}

#[tracing::instrument(level = "debug", name = "topology.repo.delete_maintenance", skip_all)]
pub async fn delete_maintenance(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query!("DELETE FROM topology_maintenance WHERE id = $1", id).execute(conn).await?.rows_affected() > 0)
}

/// A device as an edit finds it, locked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceNow {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub role: String,
    pub platform: Option<String>,
    pub pci_scope: bool,
}

#[tracing::instrument(level = "debug", name = "topology.repo.lock_device", skip_all)]
pub async fn lock_device(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<DeviceNow>> {
    sqlx::query_as!(DeviceNow, "SELECT id, name, status, role, platform, pci_scope FROM topology_devices WHERE name = $1 FOR UPDATE", name)
        .fetch_optional(conn)
        .await
}

#[tracing::instrument(level = "debug", name = "topology.repo.update_device", skip_all)]
pub async fn update_device(conn: &mut PgConnection, d: &DeviceNow) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE topology_devices SET status = $2, role = $3, platform = $4, pci_scope = $5, updated_at = now() WHERE id = $1",
        d.id,
        d.status,
        d.role,
        d.platform,
        d.pci_scope
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A link as a removal finds it, locked: how people name it, and the partner a circuit at
/// either end reaches.
pub struct LinkNow {
    pub id: Uuid,
    pub label: String,
    pub partner: Option<String>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.lock_link", skip_all)]
pub async fn lock_link(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LinkNow>> {
    sqlx::query_as!(
        LinkNow,
        r#"SELECT l.id,
                  coalesce(l.label, coalesce(da.name, pa.name || ' ' || ca.cid, '?') || ' – ' || coalesce(db.name, pb.name || ' ' || cb.cid, '?')) AS "label!",
                  (SELECT p.name FROM topology_circuit_ends e JOIN topology_partners p ON p.id = e.partner_id
                   WHERE e.circuit_id IN (ea.circuit_id, eb.circuit_id) ORDER BY p.name LIMIT 1) AS partner
           FROM topology_links l
           LEFT JOIN topology_devices da ON da.id = l.a_device_id
           LEFT JOIN topology_devices db ON db.id = l.b_device_id
           LEFT JOIN topology_circuit_ends ea ON ea.id = l.a_end_id
           LEFT JOIN topology_circuit_ends eb ON eb.id = l.b_end_id
           LEFT JOIN topology_circuits ca ON ca.id = ea.circuit_id
           LEFT JOIN topology_circuits cb ON cb.id = eb.circuit_id
           LEFT JOIN topology_providers pa ON pa.id = ca.provider_id
           LEFT JOIN topology_providers pb ON pb.id = cb.provider_id
           WHERE l.id = $1
           FOR UPDATE OF l"#,
        id
    )
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", name = "topology.repo.delete_link", skip_all)]
pub async fn delete_link(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query!("DELETE FROM topology_links WHERE id = $1", id).execute(conn).await?.rows_affected() > 0)
}

/// A session as a removal finds it, locked: its id, device, remote end and partner.
pub struct SessionToRemove {
    pub id: Uuid,
    pub device: String,
    pub remote_address: String,
    pub partner: Option<String>,
}

#[tracing::instrument(level = "debug", name = "topology.repo.lock_session", skip_all)]
pub async fn lock_session(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<SessionToRemove>> {
    sqlx::query_as!(
        SessionToRemove,
        r#"SELECT s.id, d.name AS device, host(s.remote_address) AS "remote_address!", p.name AS "partner?"
           FROM topology_bgp_sessions s
           JOIN topology_devices d ON d.id = s.device_id
           LEFT JOIN topology_partners p ON p.id = s.partner_id
           WHERE s.name = $1
           FOR UPDATE OF s"#,
        name
    )
    .fetch_optional(conn)
    .await
}

#[tracing::instrument(level = "debug", name = "topology.repo.delete_session", skip_all)]
pub async fn delete_session(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query!("DELETE FROM topology_bgp_sessions WHERE id = $1", id).execute(conn).await?.rows_affected() > 0)
}
