-- An integration system says which partner hosts it (a bank's SFTP endpoint, a card network's
-- clearing gateway) and which it is reached through (a SaaS vendor over a cloud on-ramp). The
-- link is the system's: its owners edit it on the system's form and in its YAML, audited with
-- the system. It was the topology's table, edited from the partner's side; the topology now
-- reads the same links through a view of that name.
ALTER TABLE integration_systems
    ADD COLUMN hosted_by   uuid REFERENCES topology_partners (id) ON DELETE SET NULL,
    ADD COLUMN reached_via uuid REFERENCES topology_partners (id) ON DELETE SET NULL;

UPDATE integration_systems s
SET hosted_by = (SELECT ps.partner_id FROM topology_partner_systems ps WHERE ps.system_id = s.id ORDER BY ps.partner_id LIMIT 1);

DROP TABLE topology_partner_systems;

CREATE INDEX integration_systems_hosted_by_idx ON integration_systems (hosted_by) WHERE hosted_by IS NOT NULL;
CREATE INDEX integration_systems_reached_via_idx ON integration_systems (reached_via) WHERE reached_via IS NOT NULL;

-- Every partner a system depends on, and how: the blast radius and the partner's page read this.
CREATE VIEW topology_partner_systems AS
    SELECT hosted_by AS partner_id, id AS system_id, 'hosted_by'::text AS relation FROM integration_systems WHERE hosted_by IS NOT NULL
    UNION ALL
    SELECT reached_via, id, 'reached_via' FROM integration_systems WHERE reached_via IS NOT NULL AND reached_via IS DISTINCT FROM hosted_by;
