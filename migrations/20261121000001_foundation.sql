-- Foundation: teams and the first shape of the service catalog.
-- Names follow DNS-label rules so they can appear in hostnames, URLs and Backstage refs.

CREATE TABLE teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    namespace      text NOT NULL DEFAULT 'default',
    name           text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description    text NOT NULL DEFAULT '',
    owner_team_id  uuid NOT NULL REFERENCES teams (id),
    tier           smallint NOT NULL CHECK (tier BETWEEN 0 AND 3),
    lifecycle      text NOT NULL CHECK (lifecycle IN ('experimental', 'production', 'deprecated')),
    language       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (namespace, name)
);

CREATE INDEX services_owner_team_id_idx ON services (owner_team_id);
