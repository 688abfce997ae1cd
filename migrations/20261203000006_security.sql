-- Security review fixes (issue 13).

-- A service token acts as itself, on behalf of its team: it has a user row of its own (never a
-- person: it cannot sign in, and people lookups skip it), which audit rows, deploys, approval
-- requests and idempotency keys name — not the admin who created it.
ALTER TABLE users ADD COLUMN kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service_token'));
ALTER TABLE api_tokens ADD COLUMN actor_id uuid REFERENCES users (id);
INSERT INTO users (issuer, subject, username, name, kind)
    SELECT 'switchyard:service-token', k.id::text, 'token:' || t.slug || '/' || k.name, k.name || ' (' || t.name || ' service token)', 'service_token'
    FROM api_tokens k JOIN teams t ON t.id = k.team_id WHERE k.kind = 'service';
UPDATE api_tokens k SET actor_id = u.id FROM users u
    WHERE k.kind = 'service' AND u.issuer = 'switchyard:service-token' AND u.subject = k.id::text;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_service_actor CHECK (kind = 'personal' OR actor_id IS NOT NULL);

-- A CD system's events carry a sequence number, signed with the deploy's id: the highest one
-- accepted, so a replayed event (or one older than the last) is refused.
ALTER TABLE deploys ADD COLUMN cd_event_seq bigint NOT NULL DEFAULT 0;

-- Lists of requests carry a payload only up to 4 KiB (a deploy's facts); larger ones (an
-- import's files) load on the request's own page, once.
ALTER TABLE approval_requests ADD COLUMN payload_bytes integer GENERATED ALWAYS AS (octet_length(payload::text)) STORED;
CREATE INDEX approval_requests_open_by_requester_idx ON approval_requests (requester_id) WHERE state = 'pending';

-- Checkpoints of the audit chains: every few minutes, the newest row (id and hash) of each of the
-- sixteen stripes, themselves hash-chained. Verifying then also finds rows cut off the end of a
-- stripe, or a stripe removed whole, up to the last checkpoint.
CREATE TABLE audit_checkpoints (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    -- [{"chain": 3, "id": 812, "hash": "<hex>"}, …], by chain
    heads      jsonb NOT NULL,
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
