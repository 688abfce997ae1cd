-- An imported entity keeps what Backstage accepts: a name of letter-and-digit runs joined by
-- `-`, `_` or `.` (Switchyard's own form still asks for a DNS label), a lifecycle that is any
-- word, and an API definition that lives at a URL (kept as its source, shown as a link).
ALTER TABLE entities DROP CONSTRAINT services_lifecycle_check;
ALTER TABLE entities ADD CONSTRAINT entities_lifecycle_check
    CHECK (lifecycle IS NULL OR (length(lifecycle) BETWEEN 1 AND 63 AND lifecycle !~ '\s'));
ALTER TABLE entities DROP CONSTRAINT services_name_check;
ALTER TABLE entities ADD CONSTRAINT entities_name_check
    CHECK (length(name) <= 63 AND name ~ '^[A-Za-z0-9]+([-_.][A-Za-z0-9]+)*$');
ALTER TABLE entities ADD CONSTRAINT entities_type_check
    CHECK (type IS NULL OR (length(type) BETWEEN 1 AND 63 AND type !~ '\s'));
ALTER TABLE entities ADD COLUMN definition_url text
    CHECK (definition_url IS NULL OR definition_url ~ '^https?://');
