-- The catalog's counts are kept, not recounted: facet counts per kind (the catalog's facets and
-- home's counts read a few dozen rows whatever the catalog's size), maintained in the statement
-- that changes `entities` by statement-level triggers over its transition tables, so a batch of
-- 2,000 rows updates each count once.
CREATE TABLE catalog_facet_counts (
    kind  text   NOT NULL,
    facet text   NOT NULL CHECK (facet IN ('total', 'type', 'owner', 'lifecycle', 'tier', 'classification', 'tag')),
    value text   NOT NULL,
    n     bigint NOT NULL,
    PRIMARY KEY (kind, facet, value)
);

-- The facet values one entity row counts under.
CREATE FUNCTION catalog_facet_values(type text, owner_ref text, lifecycle text, tier smallint, classification text, tags text[])
RETURNS TABLE (facet text, value text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT f.facet, f.value
    FROM (VALUES ('total', ''), ('type', type), ('owner', owner_ref), ('lifecycle', lifecycle),
                 ('tier', tier::text), ('classification', classification)) AS f (facet, value)
    WHERE f.value IS NOT NULL
    UNION ALL
    SELECT 'tag', t FROM unnest(tags) AS t
$$;

-- Adds the counted values of `rows` (sign +1) and takes away those of `gone` (sign -1), in key
-- order (two concurrent writers lock the count rows in the same order: no deadlock).
CREATE FUNCTION catalog_facet_apply(delta jsonb) RETURNS void LANGUAGE sql AS $$
    INSERT INTO catalog_facet_counts AS c (kind, facet, value, n)
    SELECT d.kind, d.facet, d.value, d.n FROM jsonb_to_recordset(delta) AS d(kind text, facet text, value text, n bigint)
    ORDER BY d.kind, d.facet, d.value
    ON CONFLICT (kind, facet, value) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM catalog_facet_counts WHERE n = 0;
$$;

-- One function for the three triggers: each sees the transition tables of its event (the new
-- rows of an insert, the old of a delete, both of an update), counted +1 and -1.
CREATE FUNCTION catalog_facets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed text[] := '{}';
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        changed := changed || 'SELECT kind, type, owner_ref, lifecycle, tier, classification, tags, 1 AS sign FROM new_rows'::text;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        changed := changed || 'SELECT kind, type, owner_ref, lifecycle, tier, classification, tags, -1 AS sign FROM old_rows'::text;
    END IF;
    EXECUTE format(
        'SELECT catalog_facet_apply(coalesce((
             SELECT jsonb_agg(jsonb_build_object(''kind'', kind, ''facet'', facet, ''value'', value, ''n'', n))
             FROM (SELECT e.kind, f.facet, f.value, sum(e.sign) AS n
                   FROM (%s) e CROSS JOIN LATERAL catalog_facet_values(e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, e.tags) f
                   GROUP BY 1, 2, 3 HAVING sum(e.sign) <> 0) s), ''[]''))',
        array_to_string(changed, ' UNION ALL '));
    RETURN NULL;
END $$;

CREATE TRIGGER entities_facets_insert AFTER INSERT ON entities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_facets_changed();
CREATE TRIGGER entities_facets_update AFTER UPDATE ON entities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_facets_changed();
CREATE TRIGGER entities_facets_delete AFTER DELETE ON entities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_facets_changed();

INSERT INTO catalog_facet_counts (kind, facet, value, n)
SELECT e.kind, f.facet, f.value, count(*) FROM entities e CROSS JOIN LATERAL catalog_facet_values(e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, e.tags) f GROUP BY 1, 2, 3;

-- Filtering by owner reads the owner's entities in name order instead of every entity.
CREATE INDEX entities_owner_kind_name_idx ON entities (owner_ref, kind, name, id);
DROP INDEX entities_owner_ref_idx;

-- The search indexes take each row as it is written: with GIN's pending list on, every few
-- imports one insert paid for merging megabytes of pending entries (an import every third
-- time 3-8× slower than the others, worse as the catalog grew).
ALTER INDEX entities_search_idx SET (fastupdate = off);
ALTER INDEX entities_name_trgm_idx SET (fastupdate = off);
ALTER INDEX entities_title_trgm_idx SET (fastupdate = off);
ALTER INDEX entities_tags_idx SET (fastupdate = off);

-- Appends many rows to the caller's stripe of the audit chain in one call (an import's rows):
-- the same links and hashes `audit_append` makes one row at a time, under one lock.
CREATE FUNCTION audit_append_many(p_rows jsonb) RETURNS SETOF bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stripe smallint := pg_backend_pid() % 16;
    prev bytea;
    r record;
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(x'53574155'::int, stripe);
    SELECT hash INTO prev FROM audit_log WHERE chain = stripe ORDER BY id DESC LIMIT 1;
    prev := coalesce(prev, decode(repeat('00', 32), 'hex'));
    -- `content`: the row's canonical JSON, as the application made it (what the hash covers)
    FOR r IN SELECT * FROM jsonb_to_recordset(p_rows) AS x(at timestamptz, actor_id uuid, actor_name text, action text,
                  subject_kind text, subject_id text, before jsonb, after jsonb, request_id text, source_ip text, content text)
    LOOP
        INSERT INTO audit_log (chain, at, actor_id, actor_name, action, subject_kind, subject_id,
                               before, after, request_id, source_ip, prev_hash, hash)
        VALUES (stripe, r.at, r.actor_id, r.actor_name, r.action, r.subject_kind, r.subject_id,
                r.before, r.after, r.request_id, r.source_ip, prev, sha256(prev || convert_to(r.content, 'UTF8')))
        RETURNING id, hash INTO new_id, prev;
        RETURN NEXT new_id;
    END LOOP;
END;
$$;
