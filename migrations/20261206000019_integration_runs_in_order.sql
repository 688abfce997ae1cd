-- A run's place in time (`at`, which the runs page sorts by) is now at most a day after its first
-- event arrived. A run's partition is the month its first event arrived, so every run of a
-- partition sits before the next month's first day plus a day. The runs page, newest first,
-- reads the last two months' partitions and needs no older one once those hold a full page
-- past that bound (`service::read::list_runs`). A clock far ahead no longer pins a run to the
-- top of its list either: it sits a day after it arrived.

-- Adding hours (no days, no months) to a time does not depend on the time zone, so this is
-- immutable, as a generated column needs (`timestamptz + interval` in general is only stable).
CREATE FUNCTION integration_run_at(started timestamptz, ended timestamptz, received timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN least(coalesce(started, ended, received), received + interval '24 hours');

-- Dropping the column drops each partition's (job_id, at) index with it.
ALTER TABLE integration_runs DROP COLUMN at;
ALTER TABLE integration_runs
    ADD COLUMN at timestamptz GENERATED ALWAYS AS (integration_run_at(started_at, ended_at, first_received)) STORED;

-- The page's order is (at DESC, run_id DESC): the index now has it, both ways.
CREATE OR REPLACE FUNCTION integration_partition_create(m date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', m)::date;
    suffix text := to_char(first, 'YYYYMM');
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF integration_runs FOR VALUES FROM (%L) TO (%L)',
                   'integration_runs_p' || suffix, first, (first + interval '1 month')::date);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (job_id, at DESC, run_id DESC)',
                   'integration_runs_p' || suffix || '_job_at', 'integration_runs_p' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (retry_of) WHERE retry_of IS NOT NULL',
                   'integration_runs_p' || suffix || '_retry_of', 'integration_runs_p' || suffix);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (job_id, nominal_start) WHERE nominal_start IS NOT NULL',
                   'integration_runs_p' || suffix || '_job_nominal', 'integration_runs_p' || suffix);
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF integration_events FOR VALUES FROM (%L) TO (%L)',
                   'integration_events_p' || suffix, first, (first + interval '1 month')::date);
END $$;

SELECT integration_partition_create(to_date(right(c.relname, 6), 'YYYYMM'))
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE p.relname = 'integration_runs';
