-- Identity and governance: users, roles, team membership, sessions, API tokens,
-- the approval engine and the hash-chained audit log.

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    issuer         text NOT NULL,
    subject        text NOT NULL,
    username       text NOT NULL,
    email          text NOT NULL DEFAULT '',
    name           text NOT NULL DEFAULT '',
    groups         text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer, subject)
);
CREATE INDEX users_username_idx ON users (username);

-- Roles beyond "viewer" (which every signed-in employee has). `idp` grants follow the IdP's
-- groups at each login; `approval` grants come from an approved request and stay until revoked.
CREATE TABLE role_grants (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('admin')),
    source      text NOT NULL CHECK (source IN ('idp', 'approval')),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role, source)
);

CREATE TABLE team_members (
    team_id    uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('member', 'lead')),
    -- `idp` rows follow the IdP's team groups at each login; `manual` rows are an admin's
    source     text NOT NULL CHECK (source IN ('idp', 'manual')),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_id_idx ON team_members (user_id);

-- tower-sessions' Postgres store (its own `migrate()` is not used: migrations/ owns the schema).
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE tower_sessions.session (
    id           text PRIMARY KEY NOT NULL,
    data         bytea NOT NULL,
    expiry_date  timestamptz NOT NULL
);

-- One row per signed-in browser session, so people can see and end their sessions.
CREATE TABLE user_sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    user_agent    text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT '',
    ended_at      timestamptz,
    ended_by      uuid REFERENCES users (id)
);
CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind          text NOT NULL CHECK (kind IN ('personal', 'service')),
    user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
    team_id       uuid REFERENCES teams (id) ON DELETE CASCADE,
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'deploy', 'admin'] AND cardinality(scopes) > 0),
    token_hash    bytea NOT NULL UNIQUE,
    token_prefix  text NOT NULL,
    created_by    uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CHECK ((kind = 'personal' AND user_id IS NOT NULL AND team_id IS NULL)
        OR (kind = 'service' AND team_id IS NOT NULL))
);

CREATE TABLE approval_requests (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subject_kind        text NOT NULL,
    subject_id          text NOT NULL,
    action              text NOT NULL,
    summary             text NOT NULL,
    payload             jsonb NOT NULL DEFAULT '{}',
    required_approvals  int NOT NULL CHECK (required_approvals BETWEEN 1 AND 5),
    approvers           text NOT NULL CHECK (approvers IN ('admins', 'team_leads_or_admins')),
    owning_team_id      uuid REFERENCES teams (id),
    requester_id        uuid NOT NULL REFERENCES users (id),
    reason              text NOT NULL,
    state               text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    decided_at          timestamptz,
    CHECK (approvers = 'admins' OR owning_team_id IS NOT NULL)
);
CREATE INDEX approval_requests_pending_idx ON approval_requests (created_at) WHERE state = 'pending';
CREATE INDEX approval_requests_requester_idx ON approval_requests (requester_id, created_at DESC);
CREATE INDEX approval_requests_subject_idx ON approval_requests (subject_kind, subject_id);

-- One decision per person per request: a person counts once.
CREATE TABLE approval_decisions (
    request_id   uuid NOT NULL REFERENCES approval_requests (id) ON DELETE CASCADE,
    approver_id  uuid NOT NULL REFERENCES users (id),
    decision     text NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment      text NOT NULL CHECK (length(comment) BETWEEN 1 AND 2000),
    decided_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, approver_id)
);

-- Append-only and hash-chained: each row's hash covers its content and the previous row's hash.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor_id      uuid REFERENCES users (id),
    actor_name    text NOT NULL,
    action        text NOT NULL,
    subject_kind  text NOT NULL,
    subject_id    text NOT NULL,
    before        jsonb,
    after         jsonb,
    request_id    text NOT NULL,
    source_ip     text NOT NULL DEFAULT '',
    prev_hash     bytea NOT NULL,
    hash          bytea NOT NULL UNIQUE
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_kind, subject_id, id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
