-- Each environment says what maintenance on a service's network path does to a deploy of it:
-- `warn` (the pre-flight card says so) or `block` (refused, the window named, unless an admin
-- overrides with a reason, as for a freeze). Production blocks.
ALTER TABLE environments ADD COLUMN maintenance_policy text NOT NULL DEFAULT 'warn' CHECK (maintenance_policy IN ('warn', 'block'));
UPDATE environments SET maintenance_policy = 'block' WHERE name = 'production';
