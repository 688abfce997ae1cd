-- Integrations (issue 17): the systems business data moves between, the integrations (iPaaS
-- flows and in-house jobs) that move it, and their runs, pushed in as OpenLineage events.
--
-- Runs and events are kept by the month they were first received, in monthly partitions, so
-- that retention drops a whole partition and never deletes row by row. Health is read from
-- small roll-ups kept current as runs end (per job and hour, per job and day, the job's last
-- run), never from the history itself.

-- a team's service token that may push run events, and nothing else unless given more
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_check
    CHECK (scopes <@ ARRAY['read', 'write', 'deploy', 'admin', 'ingest'] AND cardinality(scopes) > 0);

CREATE TABLE integration_systems (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    kind            text NOT NULL,
    vendor          text NOT NULL DEFAULT '' CHECK (length(vendor) <= 100),
    environment     text NOT NULL CHECK (environment IN ('production', 'sandbox')),
    -- outside the company (a bank, a card network, a SaaS vendor): flows to it need approval
    external        boolean NOT NULL,
    owner_team_id   uuid NOT NULL REFERENCES teams (id),
    classification  text NOT NULL CHECK (classification IN ('public', 'internal', 'confidential', 'pci')),
    contacts        text[] NOT NULL DEFAULT '{}' CHECK (cardinality(contacts) <= 20),
    -- an in-house system is a catalog component
    entity_id       uuid REFERENCES entities (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1
);
CREATE INDEX integration_systems_owner_idx ON integration_systems (owner_team_id);
CREATE INDEX integration_systems_entity_idx ON integration_systems (entity_id) WHERE entity_id IS NOT NULL;

-- An OpenLineage job (namespace + name): every job that ever sent an event, registered or not.
-- Runs and roll-ups hang off the job, so claiming an unregistered job brings its history along.
CREATE TABLE integration_jobs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    namespace   text NOT NULL CHECK (length(namespace) BETWEEN 1 AND 200),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (namespace, name)
);

CREATE TABLE integrations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    title               text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description         text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    platform            text NOT NULL,
    platform_ref        text NOT NULL DEFAULT '' CHECK (length(platform_ref) <= 200),
    trigger             text NOT NULL CHECK (trigger IN ('schedule', 'event', 'api', 'file', 'manual')),
    schedule            text CHECK (length(schedule) <= 200),
    time_zone           text NOT NULL DEFAULT 'UTC',
    data_format         text NOT NULL,
    transport           text NOT NULL,
    auth                text NOT NULL,
    owner_team_id       uuid NOT NULL REFERENCES teams (id),
    classification      text NOT NULL CHECK (classification IN ('public', 'internal', 'confidential', 'pci')),
    lifecycle           text NOT NULL CHECK (lifecycle IN ('development', 'stable', 'deprecated')),
    runbook_url         text NOT NULL DEFAULT '' CHECK (length(runbook_url) <= 2000),
    on_call             text NOT NULL DEFAULT '' CHECK (length(on_call) <= 200),
    tags                text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 20),
    -- service levels
    grace_mins          integer NOT NULL DEFAULT 15 CHECK (grace_mins BETWEEN 0 AND 10080),
    max_duration_mins   integer NOT NULL DEFAULT 60 CHECK (max_duration_mins BETWEEN 1 AND 10080),
    freshness_hours     integer CHECK (freshness_hours BETWEEN 1 AND 8760),
    success_target      double precision NOT NULL DEFAULT 0.99 CHECK (success_target > 0 AND success_target <= 1),
    job_id              uuid NOT NULL UNIQUE REFERENCES integration_jobs (id),
    -- a registration or an upward classification change waits here until approved
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('pending', 'active')),
    created_by          uuid REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer NOT NULL DEFAULT 1,
    CHECK ((trigger = 'schedule') = (schedule IS NOT NULL))
);
CREATE INDEX integrations_owner_idx ON integrations (owner_team_id, name);
CREATE INDEX integrations_name_trgm_idx ON integrations USING gin (name gin_trgm_ops);
CREATE INDEX integrations_title_trgm_idx ON integrations USING gin (title gin_trgm_ops);

CREATE TABLE integration_co_owners (
    integration_id  uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    team_id         uuid NOT NULL REFERENCES teams (id),
    PRIMARY KEY (integration_id, team_id)
);
CREATE INDEX integration_co_owners_team_idx ON integration_co_owners (team_id);

-- The systems an integration reads from (source) and writes to (target), in order.
CREATE TABLE integration_ends (
    integration_id  uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    system_id       uuid NOT NULL REFERENCES integration_systems (id),
    direction       text NOT NULL CHECK (direction IN ('source', 'target')),
    position        smallint NOT NULL,
    PRIMARY KEY (integration_id, direction, system_id)
);
CREATE INDEX integration_ends_system_idx ON integration_ends (system_id, direction);

-- One row per run id, in the partition of the month its first event was received.
CREATE TABLE integration_runs (
    month           date NOT NULL,
    run_id          uuid NOT NULL,
    job_id          uuid NOT NULL,
    state           text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'succeeded_with_warnings',
                                                   'failed', 'aborted', 'discarded')),
    raw_status      text CHECK (length(raw_status) <= 100),
    trigger         text NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'event', 'retry', 'sub_process', 'test')),
    nominal_start   timestamptz,
    nominal_end     timestamptz,
    started_at      timestamptz,
    ended_at        timestamptz,
    records_in      bigint,
    records_out     bigint,
    records_failed  bigint,
    error_class     text CHECK (length(error_class) <= 200),
    error_message   text CHECK (length(error_message) <= 4000),
    retry_of        uuid,
    parent_run_id   uuid,
    runtime_node    text CHECK (length(runtime_node) <= 200),
    facets          jsonb NOT NULL DEFAULT '{}',
    -- the event type that decided the run (COMPLETE, FAIL, ABORT), once one has
    decided_by      text,
    -- whether the run's end, and its duration, are in the roll-ups yet
    counted         boolean NOT NULL DEFAULT false,
    duration_counted boolean NOT NULL DEFAULT false,
    event_count     integer NOT NULL DEFAULT 0,
    first_received  timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- where the run sits in time: its start, or (a START not seen yet) its end or arrival
    at              timestamptz GENERATED ALWAYS AS (coalesce(started_at, ended_at, first_received)) STORED,
    PRIMARY KEY (run_id, month)
) PARTITION BY RANGE (month);

-- Every event as it came, append-only. `digest` is the SHA-256 of the event's canonical JSON: a
-- retried event has the same, and is stored once.
CREATE TABLE integration_events (
    month        date NOT NULL,
    run_id       uuid NOT NULL,
    digest       bytea NOT NULL,
    job_id       uuid NOT NULL,
    event_type   text NOT NULL,
    event_time   timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    token_id     uuid,
    body         json NOT NULL,
    PRIMARY KEY (run_id, digest, month)
) PARTITION BY RANGE (month);

-- What the partitions of a month are called, and their creation (idempotent).
CREATE FUNCTION integration_partition_create(m date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', m)::date;
    suffix text := to_char(first, 'YYYYMM');
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF integration_runs FOR VALUES FROM (%L) TO (%L)',
                   'integration_runs_p' || suffix, first, (first + interval '1 month')::date);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (job_id, at DESC, run_id)',
                   'integration_runs_p' || suffix || '_job_at', 'integration_runs_p' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (retry_of) WHERE retry_of IS NOT NULL',
                   'integration_runs_p' || suffix || '_retry_of', 'integration_runs_p' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (job_id, nominal_start) WHERE nominal_start IS NOT NULL',
                   'integration_runs_p' || suffix || '_job_nominal', 'integration_runs_p' || suffix);
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF integration_events FOR VALUES FROM (%L) TO (%L)',
                   'integration_events_p' || suffix, first, (first + interval '1 month')::date);
END $$;

-- Drops the partitions of every month before `cutoff`; returns the months dropped.
CREATE FUNCTION integration_partition_drop_before(cutoff date) RETURNS SETOF date LANGUAGE plpgsql AS $$
DECLARE
    part record;
    m date;
BEGIN
    FOR part IN
        SELECT c.relname, p.relname AS parent
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname IN ('integration_runs', 'integration_events')
    LOOP
        m := to_date(right(part.relname, 6), 'YYYYMM');
        IF m < date_trunc('month', cutoff)::date THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            IF part.parent = 'integration_runs' THEN
                RETURN NEXT m;
            END IF;
        END IF;
    END LOOP;
END $$;

SELECT integration_partition_create((date_trunc('month', now()) + make_interval(months => k))::date)
FROM generate_series(0, 2) AS k;

-- A job's last run and last success, kept as runs end.
CREATE TABLE integration_job_stats (
    job_id           uuid PRIMARY KEY REFERENCES integration_jobs (id),
    runs             bigint NOT NULL DEFAULT 0,
    last_run_id      uuid,
    last_state       text,
    last_started_at  timestamptz,
    last_ended_at    timestamptz,
    last_error       text,
    last_success_at  timestamptz,
    last_event_at    timestamptz
);

-- Ended runs per job and period (hours for the last day, days for the 13 months of charts).
-- `durations` counts run durations in the buckets of `integrations::types::DURATION_BUCKETS`.
CREATE TABLE integration_rollup_hourly (
    job_id          uuid NOT NULL REFERENCES integration_jobs (id),
    at              timestamptz NOT NULL,
    succeeded       integer NOT NULL DEFAULT 0,
    warned          integer NOT NULL DEFAULT 0,
    failed          integer NOT NULL DEFAULT 0,
    aborted         integer NOT NULL DEFAULT 0,
    tests           integer NOT NULL DEFAULT 0,
    records_failed  bigint NOT NULL DEFAULT 0,
    durations       integer[] NOT NULL DEFAULT array_fill(0, ARRAY[17]),
    PRIMARY KEY (job_id, at)
);
CREATE TABLE integration_rollup_daily (LIKE integration_rollup_hourly INCLUDING ALL);
ALTER TABLE integration_rollup_daily
    ADD COLUMN late integer NOT NULL DEFAULT 0,
    ADD COLUMN missed integer NOT NULL DEFAULT 0,
    ADD COLUMN slots integer NOT NULL DEFAULT 0;
CREATE TABLE integration_rollup_errors (
    job_id       uuid NOT NULL REFERENCES integration_jobs (id),
    day          date NOT NULL,
    error_class  text NOT NULL,
    runs         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, day, error_class)
);

-- The schedule slots an integration was expected to run in, as the periodic check found them:
-- on time, late (nothing started by nominal + grace) or missed (nothing ended by nominal +
-- maximum duration). `watch_from` is where the check goes on from.
CREATE TABLE integration_slots (
    integration_id  uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    nominal         timestamptz NOT NULL,
    state           text NOT NULL CHECK (state IN ('on_time', 'late', 'missed')),
    -- a late slot is looked at again at nominal + maximum duration
    settled         boolean NOT NULL,
    run_id          uuid,
    PRIMARY KEY (integration_id, nominal)
);
CREATE INDEX integration_slots_unsettled_idx ON integration_slots (nominal) WHERE NOT settled;

-- One health state per integration, recomputed as its runs end and its slots are checked.
CREATE TABLE integration_health (
    integration_id  uuid PRIMARY KEY REFERENCES integrations (id) ON DELETE CASCADE,
    state           text NOT NULL CHECK (state IN ('healthy', 'degraded', 'failing', 'late', 'unknown', 'paused')),
    reason          text NOT NULL DEFAULT '',
    -- the slots after this one are yet to be judged
    watch_from      timestamptz,
    -- when the health must be looked at again without a run ending (a slot comes due, a late
    -- slot's deadline passes, a success goes stale)
    next_check_at   timestamptz,
    computed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integration_health_state_idx ON integration_health (state);
CREATE INDEX integration_health_due_idx ON integration_health (next_check_at) WHERE next_check_at IS NOT NULL;
