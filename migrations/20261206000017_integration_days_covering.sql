-- An integration's days are read a month or a year at a time (the list's 30-day sparklines, a
-- page's 13 months). Each day's row lies on a heap page of its own (a day's rows are written
-- together, for every job), so reading a year from the primary key alone touches a page a day.
-- The primary key now carries what those reads show (INCLUDE): they are index-only scans over a
-- few adjacent leaf pages, whatever the size of the history.
ALTER TABLE integration_rollup_daily
    DROP CONSTRAINT integration_rollup_daily_pkey,
    ADD PRIMARY KEY (job_id, at) INCLUDE (succeeded, warned, failed, aborted, late, missed, slots, records_failed, durations);
