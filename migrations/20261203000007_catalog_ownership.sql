-- Who owns each catalog component and who may change it, as the catalog answers it. Other
-- domains (deploys today; integrations and topology next) read this view, never the catalog's
-- own tables (entities, teams, entity_co_owners), so the catalog may change those freely.
CREATE VIEW catalog_ownership AS
SELECT e.id, e.kind, e.namespace, e.name, e.title, e.tier, e.status, e.repository_url,
       e.owner_team_id, t.name AS owner_name,
       array(SELECT c.team_id FROM entity_co_owners c WHERE c.entity_id = e.id) AS co_owner_ids
FROM entities e JOIN teams t ON t.id = e.owner_team_id;
