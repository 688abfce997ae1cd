-- An entity's owner is kept as declared (`owner_ref`: a team's slug, `user:guest`,
-- `group:other/x`), as Backstage keeps it: resolved to a team or to a person when one with that
-- name is here, unresolved (both ids NULL, only admins may change it) until then.
ALTER TABLE entities
    ADD COLUMN owner_ref text,
    ADD COLUMN owner_user_id uuid REFERENCES users (id);
UPDATE entities e SET owner_ref = t.slug FROM teams t WHERE t.id = e.owner_team_id;
ALTER TABLE entities
    ALTER COLUMN owner_ref SET NOT NULL,
    ALTER COLUMN owner_team_id DROP NOT NULL,
    ADD CONSTRAINT entities_one_owner CHECK (owner_team_id IS NULL OR owner_user_id IS NULL),
    ADD CONSTRAINT entities_owner_ref_check CHECK (length(owner_ref) BETWEEN 1 AND 200);
CREATE INDEX entities_owner_user_idx ON entities (owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX entities_owner_ref_idx ON entities (owner_ref);

-- the catalog's answer to "who owns this and who may change it", now with a person or nobody
CREATE OR REPLACE VIEW catalog_ownership AS
SELECT e.id, e.kind, e.namespace, e.name, e.title, e.tier, e.status, e.repository_url,
       e.owner_team_id, coalesce(t.name, u.name, e.owner_ref) AS owner_name,
       array(SELECT c.team_id FROM entity_co_owners c WHERE c.entity_id = e.id) AS co_owner_ids,
       e.owner_user_id
FROM entities e LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users u ON u.id = e.owner_user_id;
