-- An integration job's days, a row a month (replacing the row a day of `integration_rollup_daily`).
-- Each array holds the month's days in order, 31 entries (entry 1 is the 1st; days a month lacks
-- stay 0). `durations` holds the days' duration histograms one after another, 17 counts a day
-- (the buckets of `integrations::types::DURATION_BUCKETS` and one past the last).
--
-- Why: a list's 30-day sparklines and an integration's 13 months read these. With a row a day
-- they read a row for each day that had a run: at 10 M runs a year of rows an integration, at
-- 100 k a handful, so the same page cost more the fuller the history. With a row a month they
-- read one or two rows an integration for the sparklines and 14 for a page, full or empty.
-- A row is about 3.6 kB of arrays, mostly zeros; Postgres compresses the histograms in place
-- (to about 1.5 kB a row), so a year of an integration is a few pages.
CREATE TABLE integration_rollup_monthly (
    job_id          uuid NOT NULL REFERENCES integration_jobs (id),
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    succeeded       integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    warned          integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    failed          integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    aborted         integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    tests           integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    late            integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    missed          integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    slots           integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31]),
    records_failed  bigint[] NOT NULL DEFAULT array_fill(0::bigint, ARRAY[31]),
    durations       integer[] NOT NULL DEFAULT array_fill(0, ARRAY[31 * 17]),
    PRIMARY KEY (job_id, month)
);

-- A month's array with `value` on `day` and 0 on the other days: what the first write of a
-- month inserts (later writes add to the day's entry).
CREATE FUNCTION integration_on_day(day integer, value bigint) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN array_fill(0::bigint, ARRAY[day - 1]) || value || array_fill(0::bigint, ARRAY[31 - day]);

INSERT INTO integration_rollup_monthly (job_id, month, succeeded, warned, failed, aborted, tests, late, missed, slots,
                                        records_failed, durations)
SELECT m.job_id, m.month,
       array_agg(coalesce(d.succeeded, 0) ORDER BY k), array_agg(coalesce(d.warned, 0) ORDER BY k),
       array_agg(coalesce(d.failed, 0) ORDER BY k), array_agg(coalesce(d.aborted, 0) ORDER BY k),
       array_agg(coalesce(d.tests, 0) ORDER BY k), array_agg(coalesce(d.late, 0) ORDER BY k),
       array_agg(coalesce(d.missed, 0) ORDER BY k), array_agg(coalesce(d.slots, 0) ORDER BY k),
       array_agg(coalesce(d.records_failed, 0) ORDER BY k),
       (SELECT array_agg(coalesce(x.c, 0) ORDER BY kk, x.b)
        FROM generate_series(1, 31) kk
        LEFT JOIN integration_rollup_daily dd ON dd.job_id = m.job_id AND dd.at = (m.month + kk - 1) AT TIME ZONE 'UTC'
                                                AND m.month + kk - 1 < m.month + interval '1 month'
        CROSS JOIN LATERAL unnest(coalesce(dd.durations[1:17], array_fill(0, ARRAY[17]))) WITH ORDINALITY AS x(c, b))
FROM (SELECT DISTINCT job_id, date_trunc('month', at AT TIME ZONE 'UTC')::date AS month FROM integration_rollup_daily) m
CROSS JOIN generate_series(1, 31) k
LEFT JOIN integration_rollup_daily d ON d.job_id = m.job_id AND d.at = (m.month + k - 1) AT TIME ZONE 'UTC'
                                     AND m.month + k - 1 < m.month + interval '1 month'
GROUP BY m.job_id, m.month;

DROP TABLE integration_rollup_daily;
