-- The kept drawing is kept as the exact JSON the topology view is sent: a view of the whole
-- network answers it as it is, neither parsed nor written again (at 5,000 devices, about 2 MB).
-- Kept drawings are remade on the next view.
DELETE FROM topology_layouts;
ALTER TABLE topology_layouts ALTER COLUMN drawing TYPE text;
