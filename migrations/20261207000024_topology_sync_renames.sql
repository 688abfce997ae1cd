-- A sync may swap two names, or pass a name on from one row to another, in one statement: the
-- unique keys a NetBox row can change are checked at the statement's end, not row by row.
-- (Deferrable keys cannot arbitrate an ON CONFLICT; none does.)
ALTER TABLE topology_sites
    DROP CONSTRAINT topology_sites_name_key,
    ADD CONSTRAINT topology_sites_name_key UNIQUE (name) DEFERRABLE;
ALTER TABLE topology_racks
    DROP CONSTRAINT topology_racks_site_id_location_name_key,
    ADD CONSTRAINT topology_racks_site_id_location_name_key UNIQUE (site_id, location, name) DEFERRABLE;
ALTER TABLE topology_devices
    DROP CONSTRAINT topology_devices_name_key,
    ADD CONSTRAINT topology_devices_name_key UNIQUE (name) DEFERRABLE;
ALTER TABLE topology_interfaces
    DROP CONSTRAINT topology_interfaces_device_id_name_key,
    ADD CONSTRAINT topology_interfaces_device_id_name_key UNIQUE (device_id, name) DEFERRABLE;
ALTER TABLE topology_providers
    DROP CONSTRAINT topology_providers_name_key,
    ADD CONSTRAINT topology_providers_name_key UNIQUE (name) DEFERRABLE;
ALTER TABLE topology_partners
    DROP CONSTRAINT topology_partners_name_key,
    ADD CONSTRAINT topology_partners_name_key UNIQUE (name) DEFERRABLE;
ALTER TABLE topology_circuits
    DROP CONSTRAINT topology_circuits_provider_id_cid_key,
    ADD CONSTRAINT topology_circuits_provider_id_cid_key UNIQUE (provider_id, cid) DEFERRABLE;
ALTER TABLE topology_circuit_ends
    DROP CONSTRAINT topology_circuit_ends_circuit_id_side_key,
    ADD CONSTRAINT topology_circuit_ends_circuit_id_side_key UNIQUE (circuit_id, side) DEFERRABLE;
ALTER TABLE topology_bgp_sessions
    DROP CONSTRAINT topology_bgp_sessions_name_key,
    ADD CONSTRAINT topology_bgp_sessions_name_key UNIQUE (name) DEFERRABLE,
    DROP CONSTRAINT topology_bgp_sessions_device_id_remote_address_key,
    ADD CONSTRAINT topology_bgp_sessions_device_id_remote_address_key UNIQUE (device_id, remote_address) DEFERRABLE;
