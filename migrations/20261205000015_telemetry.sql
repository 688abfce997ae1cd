-- Observability (issue 16).
-- The W3C traceparent of the request that kicked a deploy off, so the worker's span links to it
-- (one trace id answers what happened to a deploy, from the request through the queue to the
-- executor). NULL when the kick-off was not traced.
ALTER TABLE deploys ADD COLUMN trace_context text CHECK (length(trace_context) <= 256);

-- /metrics reads the deploys not yet ended, by state, with the oldest queued one's age: this
-- keeps that read to the few rows in flight however long the history grows.
CREATE INDEX deploys_open_idx ON deploys (state)
    WHERE state IN ('requested', 'awaiting_approval', 'queued', 'running');
