-- The network as it was: each committed version's shape (what the analyses read: its nodes, what
-- joins them, its BGP sessions, circuits, sites, providers and shared-risk groups) is kept, so a
-- blast radius, the single points of failure, or a device's or partner's page can be asked "as
-- of" a past moment. The analyses read the current version's shape too: one statement, the same
-- code for now and then.

-- names the shape holds change its version too
CREATE TRIGGER topology_circuits_bump_update AFTER UPDATE ON topology_circuits FOR EACH ROW
    WHEN (OLD.cid IS DISTINCT FROM NEW.cid OR OLD.provider_id IS DISTINCT FROM NEW.provider_id)
    EXECUTE FUNCTION topology_bump_row();
CREATE TRIGGER topology_providers_bump_update AFTER UPDATE ON topology_providers FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION topology_bump_row();
CREATE TRIGGER topology_risk_groups_bump_update AFTER UPDATE ON topology_risk_groups FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION topology_bump_row();
CREATE TRIGGER topology_risk_groups_bump_delete AFTER DELETE ON topology_risk_groups
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION topology_bump();
DROP TRIGGER topology_bgp_sessions_bump_update ON topology_bgp_sessions;
CREATE TRIGGER topology_bgp_sessions_bump_update AFTER UPDATE ON topology_bgp_sessions FOR EACH ROW
    WHEN (OLD.device_id IS DISTINCT FROM NEW.device_id OR OLD.partner_id IS DISTINCT FROM NEW.partner_id
          OR OLD.remote_device_id IS DISTINCT FROM NEW.remote_device_id OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION topology_bump_row();

-- The network's shape now, as one document:
--   nodes: devices (`d:<name>`) and partners (`p:<name>`), with site, role, status, PCI scope, place;
--   edges: cables and drawn links (`l:<id>`), circuits (`c:<id>`) between the nodes their ends
--          reach, and a BGP session (`s:<id>`) to a partner no circuit is known to reach;
--   sessions: each BGP session's name, device key and partner;
--   circuits: each circuit's key, provider and cid; sites and providers: their names;
--   risk_groups: each group's name, its devices' keys and its links' and circuits' keys.
CREATE FUNCTION topology_shape() RETURNS jsonb LANGUAGE sql STABLE AS $$
    WITH node AS (
        SELECT 'd:' || d.name AS key, d.name, false AS partner, s.name AS site, s.kind AS site_kind,
               d.role, d.status, d.pci_scope AS pci, d.x, d.y, s.latitude, s.longitude
        FROM topology_devices d LEFT JOIN topology_sites s ON s.id = d.site_id
        UNION ALL
        SELECT 'p:' || p.name, p.name, true, NULL, NULL, p.kind, 'active', false, NULL, NULL, NULL, NULL FROM topology_partners p
    ), ends AS (
        SELECT e.circuit_id, e.side,
               coalesce((SELECT 'd:' || d.name FROM topology_links l JOIN topology_devices d ON d.id = l.b_device_id
                         WHERE l.a_end_id = e.id LIMIT 1),
                        (SELECT 'd:' || d.name FROM topology_links l JOIN topology_devices d ON d.id = l.a_device_id
                         WHERE l.b_end_id = e.id LIMIT 1),
                        (SELECT 'p:' || p.name FROM topology_partners p WHERE p.id = e.partner_id)) AS node
        FROM topology_circuit_ends e
    ), edge AS (
        SELECT 'l:' || l.id AS key, coalesce(l.label, da.name || ' – ' || db.name) AS label, 'd:' || da.name AS a, 'd:' || db.name AS b
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
        WHERE NOT EXISTS (SELECT 1 FROM topology_circuit_ends e WHERE e.partner_id = p.id)
    )
    SELECT jsonb_build_object(
        'nodes', coalesce((SELECT jsonb_agg(to_jsonb(node) ORDER BY key) FROM node), '[]'),
        'edges', coalesce((SELECT jsonb_agg(to_jsonb(edge) ORDER BY key) FROM edge), '[]'),
        'sessions', coalesce((SELECT jsonb_agg(jsonb_build_object('name', b.name, 'device', 'd:' || d.name, 'partner', p.name) ORDER BY b.name)
                              FROM topology_bgp_sessions b JOIN topology_devices d ON d.id = b.device_id
                              LEFT JOIN topology_partners p ON p.id = b.partner_id), '[]'),
        'circuits', coalesce((SELECT jsonb_agg(jsonb_build_object('key', 'c:' || c.id, 'provider', pr.name, 'cid', c.cid) ORDER BY pr.name, c.cid)
                              FROM topology_circuits c JOIN topology_providers pr ON pr.id = c.provider_id), '[]'),
        'sites', coalesce((SELECT jsonb_agg(name ORDER BY name) FROM topology_sites), '[]'),
        'providers', coalesce((SELECT jsonb_agg(name ORDER BY name) FROM topology_providers), '[]'),
        'risk_groups', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                     'name', g.name,
                                     'nodes', ARRAY(SELECT 'd:' || d.name FROM topology_risk_members m JOIN topology_devices d ON d.id = m.device_id
                                                    WHERE m.group_id = g.id ORDER BY 1),
                                     'links', ARRAY(SELECT CASE WHEN m.link_id IS NOT NULL THEN 'l:' || m.link_id ELSE 'c:' || m.circuit_id END
                                                    FROM topology_risk_members m WHERE m.group_id = g.id AND m.device_id IS NULL ORDER BY 1))
                                     ORDER BY g.name)
                                 FROM topology_risk_groups g), '[]')
    )
$$;

CREATE TABLE topology_shapes (
    version  bigint PRIMARY KEY,
    -- when the version was committed: the shape holds from then until the next one's
    taken_at timestamptz NOT NULL,
    shape    jsonb NOT NULL
);
CREATE INDEX topology_shapes_taken_at_idx ON topology_shapes (taken_at);

-- At commit, after every statement of the transaction: one shape for the version it leaves (a
-- transaction that bumped the version a thousand times keeps one). The version's row is locked
-- by the transaction, so versions are kept in the order they are committed.
CREATE FUNCTION topology_keep_shape() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    SELECT version INTO v FROM topology_version;
    IF NOT EXISTS (SELECT 1 FROM topology_shapes WHERE version = v) THEN
        INSERT INTO topology_shapes (version, taken_at, shape) VALUES (v, clock_timestamp(), topology_shape());
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER topology_version_keep_shape AFTER UPDATE ON topology_version
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION topology_keep_shape();

-- the past starts here
INSERT INTO topology_shapes (version, taken_at, shape) SELECT version, clock_timestamp(), topology_shape() FROM topology_version;
