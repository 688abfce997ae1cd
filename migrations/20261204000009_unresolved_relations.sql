-- A relation keeps the reference it was declared with, so one whose target is not in the
-- catalog (yet) is stored unresolved (`target_id` NULL), shown as "not in the catalog", and
-- resolved when an entity with that reference arrives — as Backstage keeps dangling relations.
ALTER TABLE entity_relations
    ADD COLUMN target_kind text,
    ADD COLUMN target_namespace text,
    ADD COLUMN target_name text;
UPDATE entity_relations r SET target_kind = e.kind, target_namespace = e.namespace, target_name = e.name
FROM entities e WHERE e.id = r.target_id;
ALTER TABLE entity_relations
    ALTER COLUMN target_kind SET NOT NULL,
    ALTER COLUMN target_namespace SET NOT NULL,
    ALTER COLUMN target_name SET NOT NULL,
    DROP CONSTRAINT entity_relations_pkey,
    ALTER COLUMN target_id DROP NOT NULL,
    ADD PRIMARY KEY (source_id, type, target_kind, target_namespace, target_name);
CREATE INDEX entity_relations_unresolved_idx ON entity_relations (target_kind, target_namespace, target_name)
    WHERE target_id IS NULL;
