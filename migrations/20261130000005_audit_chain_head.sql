-- The audit chain's head in a row of its own: extending the chain is one statement that locks
-- this row, hashes the new row onto the head (SHA-256 over the previous hash and the row's
-- canonical JSON, as before) and inserts it. Concurrent writers still line up on the row lock, so
-- the chain never forks; the lock is now held for one statement and the commit, not three.
CREATE TABLE audit_chain_head (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    prev_hash  bytea NOT NULL,
    hash       bytea NOT NULL
);
INSERT INTO audit_chain_head (prev_hash, hash)
SELECT h, h FROM (SELECT coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), decode(repeat('00', 32), 'hex')) AS h) AS head;
