-- Each environment says what a critical integration's run (PCI, or an end that is tier 0 or 1)
-- of a service does to a deploy of that service while it runs: `warn` (the deploy form and the
-- pre-flight card say so) or `block` (refused, the run named, unless an admin overrides with a
-- reason, as for a freeze). Every environment warns until an admin says otherwise.
ALTER TABLE environments ADD COLUMN critical_run_policy text NOT NULL DEFAULT 'warn' CHECK (critical_run_policy IN ('warn', 'block'));
