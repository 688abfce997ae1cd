-- The network: sites, devices, interfaces, links, circuits, partners and BGP sessions, close to
-- NetBox's model so data moves between them. Every row that came from a source keeps where
-- (`source`: 'netbox', 'graphml:<file>', 'switchyard') and the source's own id, so a second sync
-- or import finds it again and changes nothing.

-- a collector's token (SNMP, gNMI, a BGP monitoring feed) that reports session and interface
-- states, and nothing else unless given more
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scopes_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scopes_check
    CHECK (scopes <@ ARRAY['read', 'write', 'deploy', 'admin', 'ingest', 'network-state'] AND cardinality(scopes) > 0);

-- One number that changes whenever the network does: the layout and the analyses are cached by it.
CREATE TABLE topology_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL,
    changed_at timestamptz NOT NULL
);
INSERT INTO topology_version VALUES (true, 1, now());

-- The drawn network (nodes placed, links), computed once per version: a page view reads it.
CREATE TABLE topology_layouts (
    version  bigint PRIMARY KEY,
    drawing  jsonb NOT NULL,
    made_at  timestamptz NOT NULL DEFAULT now()
);

-- A sync from NetBox: its progress while it runs, then its report, or why it failed having
-- applied nothing.
CREATE TABLE topology_syncs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    requested_by uuid NOT NULL REFERENCES users (id),
    dry_run      boolean NOT NULL,
    state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'succeeded', 'failed')),
    step         text NOT NULL DEFAULT 'starting',
    done         integer NOT NULL DEFAULT 0,
    total        integer NOT NULL,
    report       jsonb,
    error        text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

-- Statement triggers see the rows a statement changed as `changed`: a statement that changed
-- none (an import of the same file: ON CONFLICT … WHERE the row differs) changes no version.
CREATE FUNCTION topology_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed) THEN
        UPDATE topology_version SET version = version + 1, changed_at = now();
    END IF;
    RETURN NULL;
END $$;

-- A row trigger, where only some columns change the network's shape.
CREATE FUNCTION topology_bump_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE topology_version SET version = version + 1, changed_at = now();
    RETURN NULL;
END $$;

CREATE TABLE topology_sites (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    kind        text NOT NULL DEFAULT 'data_center' CHECK (kind IN ('data_center', 'colocation', 'cloud_region', 'office', 'other')),
    status      text NOT NULL DEFAULT 'active' CHECK (length(status) <= 50),
    region      text CHECK (length(region) <= 100),
    facility    text CHECK (length(facility) <= 100),
    address     text CHECK (length(address) <= 500),
    latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
    time_zone   text CHECK (length(time_zone) <= 64),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    source      text NOT NULL DEFAULT 'switchyard',
    source_id   text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

CREATE TABLE topology_racks (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id   uuid NOT NULL REFERENCES topology_sites (id) ON DELETE CASCADE,
    location  text CHECK (length(location) <= 100),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    u_height  smallint,
    source    text NOT NULL DEFAULT 'switchyard',
    source_id text,
    UNIQUE (site_id, location, name),
    UNIQUE (source, source_id)
);

CREATE TABLE topology_devices (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    role         text NOT NULL DEFAULT 'other' CHECK (length(role) <= 50),
    manufacturer text CHECK (length(manufacturer) <= 100),
    model        text CHECK (length(model) <= 100),
    platform     text CHECK (length(platform) <= 100),
    serial       text CHECK (length(serial) <= 100),
    status       text NOT NULL DEFAULT 'active' CHECK (length(status) <= 50),
    site_id      uuid REFERENCES topology_sites (id) ON DELETE SET NULL,
    rack_id      uuid REFERENCES topology_racks (id) ON DELETE SET NULL,
    position     real,
    primary_ip4  inet,
    primary_ip6  inet,
    pci_scope    boolean NOT NULL DEFAULT false,
    -- where a drawing placed it, when its source had a place (GraphML coordinates)
    x            double precision,
    y            double precision,
    source       text NOT NULL DEFAULT 'switchyard',
    source_id    text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);
CREATE INDEX topology_devices_site_idx ON topology_devices (site_id, role, name);

CREATE TABLE topology_interfaces (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    device_id  uuid NOT NULL REFERENCES topology_devices (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind       text NOT NULL DEFAULT 'other' CHECK (length(kind) <= 50),
    speed_kbps bigint,
    enabled    boolean NOT NULL DEFAULT true,
    -- the LAG this interface is a member of
    lag_id     uuid REFERENCES topology_interfaces (id) ON DELETE SET NULL,
    addresses  inet[] NOT NULL DEFAULT '{}',
    -- pushed in by a collector: up, down, or not known
    oper_up    boolean,
    oper_changed_at timestamptz,
    source     text NOT NULL DEFAULT 'switchyard',
    source_id  text,
    UNIQUE (device_id, name),
    UNIQUE (source, source_id)
);

CREATE TABLE topology_partners (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    kind        text NOT NULL DEFAULT 'other' CHECK (kind IN ('bank', 'card_network', 'cloud', 'carrier', 'other')),
    asns        bigint[] NOT NULL DEFAULT '{}',
    contacts    jsonb NOT NULL DEFAULT '[]',
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    source      text NOT NULL DEFAULT 'switchyard',
    source_id   text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_id)
);

-- The integration systems a partner hosts (a bank's SFTP server).
CREATE TABLE topology_partner_systems (
    partner_id uuid NOT NULL REFERENCES topology_partners (id) ON DELETE CASCADE,
    system_id  uuid NOT NULL REFERENCES integration_systems (id) ON DELETE CASCADE,
    PRIMARY KEY (partner_id, system_id)
);

-- Carriers and clouds that provide circuits; a provider may be a partner as well.
CREATE TABLE topology_providers (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    partner_id uuid REFERENCES topology_partners (id) ON DELETE SET NULL,
    asns       bigint[] NOT NULL DEFAULT '{}',
    source     text NOT NULL DEFAULT 'switchyard',
    source_id  text,
    UNIQUE (source, source_id)
);

CREATE TABLE topology_circuits (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    cid              text NOT NULL CHECK (length(cid) BETWEEN 1 AND 100),
    provider_id      uuid NOT NULL REFERENCES topology_providers (id) ON DELETE CASCADE,
    kind             text CHECK (length(kind) <= 100),
    status           text NOT NULL DEFAULT 'active' CHECK (length(status) <= 50),
    commit_rate_kbps bigint,
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    source           text NOT NULL DEFAULT 'switchyard',
    source_id        text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider_id, cid),
    UNIQUE (source, source_id)
);

-- A circuit's ends: A and Z, at a site, or at a provider's network (a partner's edge).
CREATE TABLE topology_circuit_ends (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    circuit_id       uuid NOT NULL REFERENCES topology_circuits (id) ON DELETE CASCADE,
    side             char(1) NOT NULL CHECK (side IN ('A', 'Z')),
    site_id          uuid REFERENCES topology_sites (id) ON DELETE SET NULL,
    provider_network text CHECK (length(provider_network) <= 100),
    partner_id       uuid REFERENCES topology_partners (id) ON DELETE SET NULL,
    port_speed_kbps  bigint,
    source           text NOT NULL DEFAULT 'switchyard',
    source_id        text,
    UNIQUE (circuit_id, side),
    UNIQUE (source, source_id)
);

-- A cable, or a link a drawing declares (no interfaces): each end a device (at an interface,
-- when known) or a circuit's end.
CREATE TABLE topology_links (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    label          text CHECK (length(label) <= 200),
    status         text NOT NULL DEFAULT 'connected' CHECK (length(status) <= 50),
    a_device_id    uuid REFERENCES topology_devices (id) ON DELETE CASCADE,
    a_interface_id uuid REFERENCES topology_interfaces (id) ON DELETE CASCADE,
    a_end_id       uuid REFERENCES topology_circuit_ends (id) ON DELETE CASCADE,
    b_device_id    uuid REFERENCES topology_devices (id) ON DELETE CASCADE,
    b_interface_id uuid REFERENCES topology_interfaces (id) ON DELETE CASCADE,
    b_end_id       uuid REFERENCES topology_circuit_ends (id) ON DELETE CASCADE,
    source         text NOT NULL DEFAULT 'switchyard',
    source_id      text,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((a_device_id IS NULL) <> (a_end_id IS NULL)),
    CHECK ((b_device_id IS NULL) <> (b_end_id IS NULL)),
    CHECK (a_interface_id IS NULL OR a_device_id IS NOT NULL),
    CHECK (b_interface_id IS NULL OR b_device_id IS NOT NULL),
    UNIQUE (source, source_id)
);
CREATE INDEX topology_links_a_idx ON topology_links (a_device_id);
CREATE INDEX topology_links_a_end_idx ON topology_links (a_end_id) WHERE a_end_id IS NOT NULL;
CREATE INDEX topology_links_b_end_idx ON topology_links (b_end_id) WHERE b_end_id IS NOT NULL;
CREATE INDEX topology_links_b_idx ON topology_links (b_device_id);

CREATE TABLE topology_bgp_sessions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name             text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    device_id        uuid NOT NULL REFERENCES topology_devices (id) ON DELETE CASCADE,
    local_address    inet NOT NULL,
    local_asn        bigint NOT NULL CHECK (local_asn BETWEEN 1 AND 4294967295),
    remote_address   inet NOT NULL,
    remote_asn       bigint NOT NULL CHECK (remote_asn BETWEEN 1 AND 4294967295),
    -- an external session's partner; an internal one's other half
    partner_id       uuid REFERENCES topology_partners (id) ON DELETE SET NULL,
    remote_device_id uuid REFERENCES topology_devices (id) ON DELETE SET NULL,
    address_families text[] NOT NULL DEFAULT '{ipv4-unicast}',
    import_policy    text CHECK (length(import_policy) <= 100),
    export_policy    text CHECK (length(export_policy) <= 100),
    max_prefixes     integer,
    state            text NOT NULL DEFAULT 'idle'
                     CHECK (state IN ('idle', 'connect', 'active', 'opensent', 'openconfirm', 'established')),
    prefixes_received integer,
    prefixes_sent    integer,
    state_changed_at timestamptz,
    source           text NOT NULL DEFAULT 'switchyard',
    source_id        text,
    UNIQUE (device_id, remote_address),
    UNIQUE (source, source_id)
);
CREATE INDEX topology_bgp_partner_idx ON topology_bgp_sessions (partner_id);

-- Every change of a session's state, as the collector reported it.
CREATE TABLE topology_bgp_states (
    session_id        uuid NOT NULL REFERENCES topology_bgp_sessions (id) ON DELETE CASCADE,
    at                timestamptz NOT NULL,
    state             text NOT NULL,
    previous          text,
    prefixes_received integer,
    prefixes_sent     integer,
    received_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, at, state)
);

-- Things that fail together (one carrier, one building entry, one power feed), checked as one.
CREATE TABLE topology_risk_groups (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    kind        text NOT NULL DEFAULT 'other' CHECK (kind IN ('carrier', 'building_entry', 'power_feed', 'conduit', 'other')),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000)
);
CREATE TABLE topology_risk_members (
    group_id   uuid NOT NULL REFERENCES topology_risk_groups (id) ON DELETE CASCADE,
    device_id  uuid REFERENCES topology_devices (id) ON DELETE CASCADE,
    link_id    uuid REFERENCES topology_links (id) ON DELETE CASCADE,
    circuit_id uuid REFERENCES topology_circuits (id) ON DELETE CASCADE,
    CHECK (num_nonnulls(device_id, link_id, circuit_id) = 1),
    UNIQUE NULLS NOT DISTINCT (group_id, device_id, link_id, circuit_id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['topology_sites', 'topology_devices', 'topology_links', 'topology_circuit_ends',
                             'topology_partners', 'topology_bgp_sessions', 'topology_risk_members'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION topology_bump()', t || '_bump_insert', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION topology_bump()', t || '_bump_delete', t);
        IF t <> 'topology_bgp_sessions' THEN
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION topology_bump()', t || '_bump_update', t);
        END IF;
    END LOOP;
END $$;
-- a session's state changes often and is no change of shape; its ends are
CREATE TRIGGER topology_bgp_sessions_bump_update AFTER UPDATE ON topology_bgp_sessions FOR EACH ROW
    WHEN (OLD.device_id IS DISTINCT FROM NEW.device_id OR OLD.partner_id IS DISTINCT FROM NEW.partner_id
          OR OLD.remote_device_id IS DISTINCT FROM NEW.remote_device_id)
    EXECUTE FUNCTION topology_bump_row();
