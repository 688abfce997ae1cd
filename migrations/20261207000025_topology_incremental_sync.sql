-- A sync from a live NetBox says which NetBox, and, when it read only what changed, since when
-- (null: it read everything).
ALTER TABLE topology_syncs ADD COLUMN netbox_url text CHECK (length(netbox_url) <= 500), ADD COLUMN since timestamptz;
