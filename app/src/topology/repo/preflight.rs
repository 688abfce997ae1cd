//! What a production deploy's pre-flight card reads beyond the network, in one statement.
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// For the deploy `deploy`, or (without one) a deploy of the component `service` to
/// `environment` about to be asked for, one JSON document (none when there is no such deploy):
/// `environment`; `integrations` (the active ones with an end at a system the service is: health
/// and why, and of their last ten ended runs how many failed); `partners` (hosting the systems at
/// those integrations' other ends: BGP sessions, how many established, and their devices);
/// `windows` (maintenance under way or starting within 30 days of `now`: on a device, a circuit
/// with the partners it ends at, or a site); `freezes` (of the environment, not over); `deploys`
/// (the service's last five ended deploys there).
#[tracing::instrument(level = "debug", name = "topology.repo.preflight", skip_all)]
pub async fn facts(conn: &mut PgConnection, deploy: Option<Uuid>, service: Option<Uuid>, environment: &str, now: DateTime<Utc>) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"WITH d AS (
               SELECT id, service_id, environment FROM deploys WHERE id = $1
               UNION ALL
               SELECT NULL::uuid, $3::uuid, $4::text WHERE $1::uuid IS NULL AND $3::uuid IS NOT NULL
           ), mine AS (
               SELECT y.id FROM integration_systems y JOIN d ON y.entity_id = d.service_id
           ), integ AS (
               SELECT DISTINCT i.id, i.name, i.title, i.job_id
               FROM mine JOIN integration_ends e ON e.system_id = mine.id JOIN integrations i ON i.id = e.integration_id AND i.status = 'active'
           ), partners AS (
               SELECT DISTINCT p.id, p.name
               FROM integ JOIN integration_ends e ON e.integration_id = integ.id JOIN topology_partner_systems ps ON ps.system_id = e.system_id
               JOIN topology_partners p ON p.id = ps.partner_id
               WHERE e.system_id NOT IN (SELECT id FROM mine)
           )
           SELECT jsonb_build_object(
               'environment', d.environment,
               'integrations', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('name', integ.name, 'title', integ.title, 'health', coalesce(h.state, 'unknown'),
                                                       'reason', coalesce(h.reason, ''), 'runs', r.runs, 'failed', r.failed) ORDER BY integ.name)
                   FROM integ LEFT JOIN integration_health h ON h.integration_id = integ.id
                   CROSS JOIN LATERAL (
                       SELECT count(*) AS runs, count(*) FILTER (WHERE x.state IN ('failed', 'aborted')) AS failed
                       FROM (SELECT state FROM integration_runs WHERE job_id = integ.job_id AND state NOT IN ('queued', 'running')
                             ORDER BY at DESC LIMIT 10) x
                   ) r), '[]'),
               'partners', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('name', p.name, 'sessions', b.sessions, 'established', b.established, 'devices', b.devices) ORDER BY p.name)
                   FROM partners p CROSS JOIN LATERAL (
                       SELECT count(*) AS sessions, count(*) FILTER (WHERE s.state = 'established') AS established,
                              coalesce(jsonb_agg(DISTINCT dv.name), '[]') AS devices
                       FROM topology_bgp_sessions s JOIN topology_devices dv ON dv.id = s.device_id WHERE s.partner_id = p.id
                   ) b), '[]'),
               'windows', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title, 'kind', m.kind, 'reference', m.reference,
                                                       'starts_at', m.starts_at, 'ends_at', m.ends_at, 'device', dv.name, 'site', s.name,
                                                       'circuit', pr.name || '/' || c.cid,
                                                       'circuit_partners', coalesce((SELECT jsonb_agg(pp.name) FROM topology_circuit_ends ce
                                                                                     JOIN topology_partners pp ON pp.id = ce.partner_id
                                                                                     WHERE ce.circuit_id = c.id), '[]')) ORDER BY m.starts_at, m.id)
                   FROM topology_maintenance m LEFT JOIN topology_devices dv ON dv.id = m.device_id LEFT JOIN topology_sites s ON s.id = m.site_id
                   LEFT JOIN topology_circuits c ON c.id = m.circuit_id LEFT JOIN topology_providers pr ON pr.id = c.provider_id
                   WHERE m.ends_at > $2 AND m.starts_at < $2 + interval '30 days'), '[]'),
               'freezes', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('reason', f.reason, 'starts_at', f.starts_at, 'ends_at', f.ends_at,
                                                       'schedule', f.schedule, 'duration_mins', f.duration_mins) ORDER BY f.starts_at)
                   FROM freeze_windows f WHERE f.environment = d.environment AND (f.ends_at IS NULL OR f.ends_at > $2)), '[]'),
               'deploys', coalesce((
                   SELECT jsonb_agg(jsonb_build_object('id', x.id, 'version', x.version, 'state', x.state, 'finished_at', x.finished_at) ORDER BY x.seq DESC)
                   FROM (SELECT dp.id, dp.seq, dp.version, dp.state, dp.finished_at FROM deploys dp
                         WHERE dp.service_id = d.service_id AND dp.environment = d.environment AND dp.id IS DISTINCT FROM d.id
                               AND dp.state IN ('succeeded', 'failed', 'cancelled')
                         ORDER BY dp.seq DESC LIMIT 5) x), '[]')
           ) AS "facts!"
           FROM d"#,
        deploy,
        now,
        service,
        environment
    )
    .fetch_optional(conn)
    .await
}
