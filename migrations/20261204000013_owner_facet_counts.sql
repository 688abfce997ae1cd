-- Facet counts per primary owner, kept as the catalog's are: the catalog filtered by an owner
-- reads the owner's counts (and counts only what the owner co-owns) instead of counting every
-- entity the owner has (a thousand at 50,000 components).
CREATE TABLE catalog_owner_facet_counts (
    owner_ref text   NOT NULL,
    kind      text   NOT NULL,
    facet     text   NOT NULL CHECK (facet IN ('total', 'type', 'owner', 'lifecycle', 'tier', 'classification', 'tag')),
    value     text   NOT NULL,
    n         bigint NOT NULL,
    PRIMARY KEY (owner_ref, kind, facet, value)
);

-- `delta` now carries the owner: the catalog's counts take the sums over owners, the owners'
-- counts each row. Both in key order, the catalog's first (two writers lock in one order).
CREATE OR REPLACE FUNCTION catalog_facet_apply(delta jsonb) RETURNS void LANGUAGE sql AS $$
    WITH d AS (SELECT * FROM jsonb_to_recordset(delta) AS d(owner_ref text, kind text, facet text, value text, n bigint))
    INSERT INTO catalog_facet_counts AS c (kind, facet, value, n)
    SELECT d.kind, d.facet, d.value, sum(d.n) FROM d GROUP BY 1, 2, 3 HAVING sum(d.n) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (kind, facet, value) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO catalog_owner_facet_counts AS c (owner_ref, kind, facet, value, n)
    SELECT d.owner_ref, d.kind, d.facet, d.value, d.n
    FROM jsonb_to_recordset(delta) AS d(owner_ref text, kind text, facet text, value text, n bigint)
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (owner_ref, kind, facet, value) DO UPDATE SET n = c.n + EXCLUDED.n;
    DELETE FROM catalog_facet_counts c USING jsonb_to_recordset(delta) AS d(kind text, facet text, value text)
    WHERE c.n = 0 AND (c.kind, c.facet, c.value) = (d.kind, d.facet, d.value);
    DELETE FROM catalog_owner_facet_counts c USING jsonb_to_recordset(delta) AS d(owner_ref text, kind text, facet text, value text)
    WHERE c.n = 0 AND (c.owner_ref, c.kind, c.facet, c.value) = (d.owner_ref, d.kind, d.facet, d.value);
$$;

CREATE OR REPLACE FUNCTION catalog_facets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
             SELECT jsonb_agg(jsonb_build_object(''owner_ref'', owner_ref, ''kind'', kind, ''facet'', facet, ''value'', value, ''n'', n))
             FROM (SELECT e.owner_ref, e.kind, f.facet, f.value, sum(e.sign) AS n
                   FROM (%s) e CROSS JOIN LATERAL catalog_facet_values(e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, e.tags) f
                   GROUP BY 1, 2, 3, 4 HAVING sum(e.sign) <> 0) s), ''[]''))',
        array_to_string(changed, ' UNION ALL '));
    RETURN NULL;
END $$;

INSERT INTO catalog_owner_facet_counts (owner_ref, kind, facet, value, n)
SELECT e.owner_ref, e.kind, f.facet, f.value, count(*)
FROM entities e CROSS JOIN LATERAL catalog_facet_values(e.type, e.owner_ref, e.lifecycle, e.tier, e.classification, e.tags) f
GROUP BY 1, 2, 3, 4;
