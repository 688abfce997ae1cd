-- Deploys: environments with their policy, freeze windows, deploys as a state machine whose
-- rows are also the job queue (taken with FOR UPDATE SKIP LOCKED, leased, heartbeated), every
-- transition with time and actor, and the log lines executors stream.

CREATE TABLE environments (
    name               text PRIMARY KEY CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    title              text NOT NULL,
    position           smallint NOT NULL UNIQUE,
    -- a deploy here waits for an admin or a lead of the owning team (tier 0: two of them)
    requires_approval  boolean NOT NULL
);
INSERT INTO environments (name, title, position, requires_approval) VALUES
    ('dev', 'Development', 1, false),
    ('staging', 'Staging', 2, false),
    ('production', 'Production', 3, true);

-- One-off windows have `ends_at`; recurring ones a cron `schedule` (UTC, with seconds) for their
-- starts and a duration. A deploy that starts inside one is refused unless an admin overrides.
CREATE TABLE freeze_windows (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    environment     text NOT NULL REFERENCES environments (name),
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz,
    schedule        text,
    duration_mins   integer CHECK (duration_mins BETWEEN 1 AND 20160),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((schedule IS NULL AND ends_at IS NOT NULL AND ends_at > starts_at AND duration_mins IS NULL)
        OR (schedule IS NOT NULL AND duration_mins IS NOT NULL AND ends_at IS NULL))
);
CREATE INDEX freeze_windows_environment_idx ON freeze_windows (environment);

CREATE TABLE deploys (
    id                uuid PRIMARY KEY,
    -- the queue's order
    seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    service_id        uuid NOT NULL REFERENCES entities (id),
    environment       text NOT NULL REFERENCES environments (name),
    version           text NOT NULL CHECK (length(version) BETWEEN 1 AND 200),
    -- what ran there when this was asked for (for "what changed"), and what this rolls back
    previous_version  text,
    rollback_of       uuid REFERENCES deploys (id),
    reason            text NOT NULL,
    requester_id      uuid NOT NULL REFERENCES users (id),
    idempotency_key   text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    -- SHA-256 of the parameters the key was first used with
    fingerprint       bytea NOT NULL,
    state             text NOT NULL CHECK (state IN ('requested', 'awaiting_approval', 'queued', 'running',
                          'succeeded', 'failed', 'cancelled', 'rejected', 'expired')),
    approval_id       uuid REFERENCES approval_requests (id),
    freeze_override   text,
    -- chosen from the configuration when a worker starts it
    executor          text CHECK (executor IN ('command', 'webhook')),
    attempts          integer NOT NULL DEFAULT 0,
    -- the worker holding the job, until when (heartbeats extend it)
    lease_owner       uuid,
    lease_expires_at  timestamptz,
    -- set when the executor was started: after that, a lost worker never restarts it
    dispatched_at     timestamptz,
    deadline_at       timestamptz,
    progress          smallint CHECK (progress BETWEEN 0 AND 100),
    outcome           text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    UNIQUE (requester_id, idempotency_key)
);
-- one at a time per service and environment, whatever the workers do
CREATE UNIQUE INDEX deploys_one_running_idx ON deploys (service_id, environment) WHERE state = 'running';
CREATE INDEX deploys_queued_idx ON deploys (seq) WHERE state = 'queued';
CREATE INDEX deploys_active_lease_idx ON deploys (lease_expires_at) WHERE state = 'running';
CREATE INDEX deploys_service_env_idx ON deploys (service_id, environment, seq DESC);
CREATE INDEX deploys_created_idx ON deploys (created_at DESC, id DESC);
CREATE INDEX deploys_approval_idx ON deploys (approval_id) WHERE approval_id IS NOT NULL;

CREATE TABLE deploy_transitions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deploy_id   uuid NOT NULL REFERENCES deploys (id),
    from_state  text,
    to_state    text NOT NULL,
    actor_id    uuid REFERENCES users (id),
    actor_name  text NOT NULL,
    note        text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX deploy_transitions_deploy_idx ON deploy_transitions (deploy_id, id);

CREATE TABLE deploy_logs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deploy_id  uuid NOT NULL REFERENCES deploys (id),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    stream     text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'cd', 'switchyard')),
    line       text NOT NULL
);
CREATE INDEX deploy_logs_deploy_idx ON deploy_logs (deploy_id, id);
