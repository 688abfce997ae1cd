-- Interface states as a collector reports them, each change kept with its time (the interface
-- keeps the last one); maintenance windows on a device, a circuit or a site, planned by the
-- network team or noticed by a carrier. Neither changes the network's shape, so neither moves
-- the topology's version.
CREATE TABLE topology_interface_states (
    interface_id uuid NOT NULL REFERENCES topology_interfaces (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    up           boolean NOT NULL,
    previous     boolean,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (interface_id, at, up)
);

CREATE TABLE topology_maintenance (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    device_id  uuid REFERENCES topology_devices (id) ON DELETE CASCADE,
    circuit_id uuid REFERENCES topology_circuits (id) ON DELETE CASCADE,
    site_id    uuid REFERENCES topology_sites (id) ON DELETE CASCADE,
    CHECK (num_nonnulls(device_id, circuit_id, site_id) = 1),
    kind       text NOT NULL CHECK (kind IN ('planned', 'carrier_notice')),
    title      text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- the carrier's notice, or the change ticket
    reference  text CHECK (length(reference) <= 100),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX topology_maintenance_ends_idx ON topology_maintenance (ends_at, starts_at);
CREATE INDEX topology_maintenance_device_idx ON topology_maintenance (device_id) WHERE device_id IS NOT NULL;
CREATE INDEX topology_maintenance_circuit_idx ON topology_maintenance (circuit_id) WHERE circuit_id IS NOT NULL;
CREATE INDEX topology_maintenance_site_idx ON topology_maintenance (site_id) WHERE site_id IS NOT NULL;

-- A window as pages and the API show it: what it is on, by name, and the site it is at.
CREATE VIEW topology_maintenance_docs AS
SELECT m.id, m.device_id, m.circuit_id, coalesce(m.site_id, d.site_id) AS site_id, m.starts_at, m.ends_at,
       jsonb_build_object(
           'id', m.id,
           'subject_kind', CASE WHEN m.device_id IS NOT NULL THEN 'device' WHEN m.circuit_id IS NOT NULL THEN 'circuit' ELSE 'site' END,
           'subject', coalesce(d.name, pr.name || ' ' || c.cid, s.name),
           'circuit', CASE WHEN c.id IS NOT NULL THEN jsonb_build_object('provider', pr.name, 'cid', c.cid) END,
           'site', coalesce(s.name, ds.name),
           'kind', m.kind, 'title', m.title, 'reference', m.reference,
           'starts_at', m.starts_at, 'ends_at', m.ends_at,
           'created_by', coalesce(u.username, 'switchyard')
       ) AS doc
FROM topology_maintenance m
LEFT JOIN topology_devices d ON d.id = m.device_id
LEFT JOIN topology_sites ds ON ds.id = d.site_id
LEFT JOIN topology_circuits c ON c.id = m.circuit_id
LEFT JOIN topology_providers pr ON pr.id = c.provider_id
LEFT JOIN topology_sites s ON s.id = m.site_id
LEFT JOIN users u ON u.id = m.created_by;
