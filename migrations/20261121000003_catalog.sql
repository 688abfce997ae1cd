-- The catalog grows from "services" into Backstage's entity model: Component, API, System,
-- Domain and Resource live in one table (Group is our `teams`, User our `users`); relations
-- between them in another. Search is full-text (ranked) plus trigram (typos, prefixes).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE services RENAME TO entities;
ALTER INDEX services_pkey RENAME TO entities_pkey;
ALTER INDEX services_owner_team_id_idx RENAME TO entities_owner_team_id_idx;
ALTER TABLE entities DROP CONSTRAINT services_namespace_name_key;

ALTER TABLE entities
    ADD COLUMN kind text NOT NULL DEFAULT 'component'
        CHECK (kind IN ('component', 'api', 'system', 'domain', 'resource')),
    ADD COLUMN type text,
    ADD COLUMN repository_url text,
    ADD COLUMN runbook_url text,
    ADD COLUMN oncall_url text,
    ADD COLUMN dashboards text[] NOT NULL DEFAULT '{}',
    ADD COLUMN links jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(links) = 'array'),
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN classification text NOT NULL DEFAULT 'internal'
        CHECK (classification IN ('public', 'internal', 'confidential', 'pci')),
    ADD COLUMN annotations jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(annotations) = 'object'),
    ADD COLUMN definition text,
    -- a registration waits here as 'pending' until its approval; the name is taken meanwhile
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active')),
    ADD COLUMN version integer NOT NULL DEFAULT 1;

UPDATE entities SET type = 'service';

-- tier and lifecycle belong to components (lifecycle also to APIs and resources)
ALTER TABLE entities ALTER COLUMN tier DROP NOT NULL, ALTER COLUMN lifecycle DROP NOT NULL;
ALTER TABLE entities ADD CONSTRAINT entities_namespace_check
    CHECK (namespace ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');
ALTER TABLE entities ADD CONSTRAINT entities_kind_namespace_name_key UNIQUE (kind, namespace, name);

ALTER TABLE entities ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', replace(name, '-', ' ')), 'A') ||
    setweight(to_tsvector('english', title), 'A') ||
    setweight(array_to_tsvector(tags), 'B') ||
    setweight(to_tsvector('english', description), 'C')
) STORED;

CREATE INDEX entities_search_idx ON entities USING gin (search);
CREATE INDEX entities_name_trgm_idx ON entities USING gin (name gin_trgm_ops);
CREATE INDEX entities_title_trgm_idx ON entities USING gin (title gin_trgm_ops);
CREATE INDEX entities_tags_idx ON entities USING gin (tags);
-- keyset orders of the catalog list
CREATE INDEX entities_name_id_idx ON entities (name, id);
CREATE INDEX entities_updated_idx ON entities (updated_at DESC, id DESC);
-- tier order puts entities without a tier last (as 4)
CREATE INDEX entities_tier_name_idx ON entities ((coalesce(tier, 4::smallint)), name, id);
CREATE INDEX entities_kind_name_idx ON entities (kind, name, id);

-- Owners beyond the primary one (`entities.owner_team_id`).
CREATE TABLE entity_co_owners (
    entity_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    team_id   uuid NOT NULL REFERENCES teams (id),
    PRIMARY KEY (entity_id, team_id)
);
CREATE INDEX entity_co_owners_team_idx ON entity_co_owners (team_id);

-- Directed relations, stored once from the side Backstage's descriptors declare them:
--   depends_on       component/resource -> component/resource
--   provides_api     component -> api
--   consumes_api     component -> api
--   part_of          component/api/resource -> system, system -> domain
--   subcomponent_of  component -> component
-- A target cannot be deleted while anything points at it.
CREATE TABLE entity_relations (
    source_id uuid NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    type      text NOT NULL
        CHECK (type IN ('depends_on', 'provides_api', 'consumes_api', 'part_of', 'subcomponent_of')),
    target_id uuid NOT NULL REFERENCES entities (id) ON DELETE RESTRICT,
    PRIMARY KEY (source_id, type, target_id),
    CHECK (source_id <> target_id)
);
CREATE INDEX entity_relations_target_idx ON entity_relations (target_id, type);
