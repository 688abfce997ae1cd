-- An import sent to run in the background (`POST /api/v1/catalog/import?background=true`): its
-- progress while it runs, its report or its error when it ends. The import itself is one
-- transaction, so a job that fails (or a server that stops under it) wrote nothing.
CREATE TABLE catalog_import_jobs (
    id           uuid PRIMARY KEY,
    requested_by uuid NOT NULL REFERENCES users (id),
    state        text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
    step         text NOT NULL,
    entities     integer NOT NULL DEFAULT 0 CHECK (entities >= 0),
    written      integer NOT NULL DEFAULT 0 CHECK (written >= 0),
    report       jsonb,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CHECK ((state = 'running') = (finished_at IS NULL)),
    CHECK (state <> 'done' OR report IS NOT NULL),
    CHECK (state <> 'failed' OR error IS NOT NULL)
);
CREATE INDEX catalog_import_jobs_requested_by_idx ON catalog_import_jobs (requested_by, created_at DESC);
