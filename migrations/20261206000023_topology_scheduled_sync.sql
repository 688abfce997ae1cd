-- A sync on a schedule is Switchyard's own: it has no person who asked for it.
ALTER TABLE topology_syncs ALTER COLUMN requested_by DROP NOT NULL;
