//! What a blast radius reads beyond the network itself: what fails, the BGP sessions, and, from
//! the partners cut off, the chain through the other layers (systems, integrations, services,
//! deploys), each in one statement.
use sqlx::PgConnection;

/// The database this is, and its network's version: what a kept analysis is for.
#[tracing::instrument(level = "debug", name = "topology.repo.database_version", skip_all)]
pub async fn database_version(conn: &mut PgConnection) -> sqlx::Result<(String, i64)> {
    let row = sqlx::query!(r#"SELECT current_database() AS "database!", version FROM topology_version"#).fetch_one(conn).await?;
    Ok((row.database, row.version))
}

/// From the partners cut off, the other layers, as one JSON document: `systems` (each with the
/// partner hosting it), `integrations` (each with the system it reaches there, its direction,
/// owner, on-call, schedule and time zone; registered, not waiting for approval), `services` (the components that are the other ends
/// of those integrations, with the integration; then, to three steps, the components that depend
/// on those, with what they depend on), `deploys` (queued, running or waiting for approval, of
/// those services).
#[tracing::instrument(level = "debug", name = "topology.repo.beyond", skip_all)]
pub async fn beyond(conn: &mut PgConnection, partners: &[String], sites: &[String]) -> sqlx::Result<serde_json::Value> {
    sqlx::query_scalar!(
        r#"WITH sys AS (
               SELECT DISTINCT ON (y.id) y.id, y.name, y.title, p.name AS partner, ps.relation
               FROM topology_partners p JOIN topology_partner_systems ps ON ps.partner_id = p.id JOIN integration_systems y ON y.id = ps.system_id
               WHERE p.name = ANY($1) ORDER BY y.id, ps.relation, p.name
           ), integ AS (
               SELECT DISTINCT ON (i.id) i.id, i.name, i.title, i.on_call, i.schedule, i.time_zone, t.name AS owner, sys.name AS system, e.direction
               FROM sys JOIN integration_ends e ON e.system_id = sys.id JOIN integrations i ON i.id = e.integration_id AND i.status = 'active'
               JOIN teams t ON t.id = i.owner_team_id
               ORDER BY i.id, sys.name
           ), ends AS (
               -- the ends of those integrations, and the components that run only at lost sites
               SELECT DISTINCT ON (x.id) x.id, x.via, x.runs_at
               FROM (
                   SELECT o.id, integ.name AS via, NULL::text AS runs_at, 0 AS rank
                   FROM integ JOIN integration_ends e ON e.integration_id = integ.id JOIN integration_systems y ON y.id = e.system_id
                   JOIN catalog_ownership o ON o.id = y.entity_id
                   UNION ALL
                   SELECT en.id, NULL, en.annotations->>'switchyard.dev/sites', 1
                   FROM entities en
                   WHERE cardinality($2::text[]) > 0 AND en.kind = 'component' AND en.annotations ? 'switchyard.dev/sites'
                         AND regexp_split_to_array(trim(en.annotations->>'switchyard.dev/sites'), '\s*,\s*') <@ $2::text[]
               ) x
               ORDER BY x.id, x.rank, x.via
           ), dependants AS (
               WITH RECURSIVE up (id, on_id, depth) AS (
                   SELECT r.source_id, r.target_id, 1 FROM entity_relations r JOIN ends ON ends.id = r.target_id WHERE r.type = 'depends_on'
                   UNION
                   SELECT r.source_id, r.target_id, up.depth + 1 FROM entity_relations r JOIN up ON up.id = r.target_id
                   WHERE r.type = 'depends_on' AND up.depth < 3
               )
               SELECT DISTINCT ON (up.id) up.id, up.on_id, up.depth FROM up WHERE up.id NOT IN (SELECT id FROM ends) ORDER BY up.id, up.depth
           ), svc AS (
               SELECT o.id, o.kind || ':' || o.namespace || '/' || o.name AS entity, coalesce(o.title, o.name) AS title, o.owner_name AS owner,
                      en.oncall_url AS on_call, ends.via AS via, ends.runs_at AS runs_at, NULL::text AS depends_on, 0 AS depth
               FROM ends JOIN catalog_ownership o ON o.id = ends.id JOIN entities en ON en.id = o.id
               UNION ALL
               SELECT o.id, o.kind || ':' || o.namespace || '/' || o.name, coalesce(o.title, o.name), o.owner_name, en.oncall_url, NULL, NULL,
                      t.kind || ':' || t.namespace || '/' || t.name, d.depth
               FROM dependants d JOIN catalog_ownership o ON o.id = d.id JOIN entities en ON en.id = o.id JOIN catalog_ownership t ON t.id = d.on_id
           )
           SELECT jsonb_build_object(
               'systems', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'title', title, 'partner', partner, 'relation', relation) ORDER BY partner, name) FROM sys), '[]'),
               'integrations', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'title', title, 'on_call', on_call, 'schedule', schedule,
                                                                              'time_zone', time_zone, 'owner', owner, 'system', system, 'direction', direction) ORDER BY name) FROM integ), '[]'),
               'services', coalesce((SELECT jsonb_agg(jsonb_build_object('entity', entity, 'title', title, 'owner', owner, 'on_call', on_call,
                                                                          'via', via, 'runs_at', runs_at, 'depends_on', depends_on) ORDER BY depth, entity) FROM svc), '[]'),
               'deploys', coalesce((SELECT jsonb_agg(jsonb_build_object('id', dp.id, 'service', svc.entity, 'environment', dp.environment, 'state', dp.state)
                                                     ORDER BY dp.seq)
                                    FROM deploys dp JOIN svc ON svc.id = dp.service_id
                                    WHERE dp.state IN ('awaiting_approval', 'queued', 'running')), '[]')
           ) AS "beyond!""#,
        partners,
        sites
    )
    .fetch_one(conn)
    .await
}

/// What a component needs beyond the network, as one JSON document (none when there is no such
/// component): `entity`, `systems` (the integration systems it is), `integrations` (each active
/// one with an end at those systems, once per system at its other end, with that system's
/// direction and the partner hosting it).
#[tracing::instrument(level = "debug", name = "topology.repo.needs", skip_all)]
pub async fn needs(conn: &mut PgConnection, namespace: &str, name: &str) -> sqlx::Result<Option<serde_json::Value>> {
    sqlx::query_scalar!(
        r#"WITH me AS (
               SELECT o.id, o.kind || ':' || o.namespace || '/' || o.name AS entity, en.annotations->>'switchyard.dev/sites' AS runs_at
               FROM catalog_ownership o JOIN entities en ON en.id = o.id WHERE o.kind = 'component' AND o.namespace = $1 AND o.name = $2
           ), mine AS (
               SELECT y.id, y.name FROM integration_systems y JOIN me ON y.entity_id = me.id
           ), integ AS (
               SELECT DISTINCT i.id, i.name, i.title
               FROM mine JOIN integration_ends e ON e.system_id = mine.id JOIN integrations i ON i.id = e.integration_id AND i.status = 'active'
           ), other AS (
               SELECT integ.name, integ.title, y.name AS system, e.direction, p.name AS partner
               FROM integ JOIN integration_ends e ON e.integration_id = integ.id JOIN integration_systems y ON y.id = e.system_id
               LEFT JOIN topology_partner_systems ps ON ps.system_id = y.id LEFT JOIN topology_partners p ON p.id = ps.partner_id
               WHERE y.id NOT IN (SELECT id FROM mine)
           )
           SELECT jsonb_build_object(
               'entity', me.entity,
               'runs_at', coalesce(me.runs_at, ''),
               'systems', coalesce((SELECT jsonb_agg(name ORDER BY name) FROM mine), '[]'),
               'integrations', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'title', title, 'system', system, 'direction', direction, 'partner', partner)
                                                          ORDER BY name, system, partner) FROM other), '[]')
           ) AS "needs!"
           FROM me"#,
        namespace,
        name
    )
    .fetch_optional(conn)
    .await
}

/// Each partner with a BGP session, and the sites of the devices its sessions are on.
#[tracing::instrument(level = "debug", name = "topology.repo.partner_sites", skip_all)]
pub async fn partner_sites(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, Vec<String>)>> {
    let rows = sqlx::query!(
        r#"SELECT p.name, array_agg(DISTINCT s.name ORDER BY s.name) AS "sites!"
           FROM topology_bgp_sessions b JOIN topology_partners p ON p.id = b.partner_id
           JOIN topology_devices d ON d.id = b.device_id JOIN topology_sites s ON s.id = d.site_id
           GROUP BY p.name"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.name, r.sites)).collect())
}
