#!/usr/bin/env bash
# Records what the NetBox peer serves (NetBox 4.7.3, its demo data, netbox-bgp with a bank
# peering: ./with-bgp.sh) into server/tests/api/fixtures/netbox-4.7.3-demo.json.gz, which
# `make test` syncs through the same code as a live sync. The objects come from the peer's
# export.py (pynetbox: each exactly NetBox's REST body), the contacts and the plugin's sessions
# from pynetbox too; only the kinds a sync reads are kept. `make record-netbox` runs it.
set -euo pipefail
PEER=${NETBOX_PEER:?the NetBox peer harness (../shared/peers/netbox)}
NB_HOME=${NB_HOME:-/tmp/netbox-peer}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/../api/fixtures/netbox-4.7.3-demo.json.gz}
eval "$("$HERE/with-bgp.sh" | sed 's/^/export /')"
"$NB_HOME/venv/bin/python" "$PEER/export.py" --out "$NB_HOME/switchyard/export.json" >&2
"$NB_HOME/venv/bin/python" - "$NB_HOME/switchyard/export.json" "$OUT" <<'PY'
import gzip, json, os, sys
import pynetbox
source, out = sys.argv[1], sys.argv[2]
export = json.load(open(source))
kept = ["tenancy/tenants", "dcim/sites", "dcim/racks", "dcim/devices", "dcim/interfaces", "dcim/cables", "ipam/asns",
        "circuits/providers", "circuits/circuits", "circuits/circuit-terminations"]
nb = pynetbox.api(os.environ["NETBOX_URL"], token=os.environ["NETBOX_TOKEN"])
# what export.py does not read: the contacts, their assignments, the plugin's sessions
more = {
    "tenancy/contacts": [dict(c) for c in nb.tenancy.contacts.all()],
    "tenancy/contact-assignments": [dict(a) for a in nb.tenancy.contact_assignments.all()],
    "plugins/bgp/session": [dict(s) for s in nb.plugins.bgp.session.all()],
}
meta = export["meta"]
meta["kept"] = kept + list(more)
meta["counts"].update({k: len(v) for k, v in more.items()})
meta["plugins"] = {"netbox_bgp": nb.status()["plugins"].get("netbox_bgp")}
recorded = {"meta": meta, **{k: export[k] for k in kept}, **more}
with gzip.open(out, "wt", compresslevel=9) as f:
    json.dump(recorded, f, separators=(",", ":"))
print(f"recorded {sum(len(recorded[k]) for k in meta['kept'])} objects into {out}", file=sys.stderr)
PY
