#!/usr/bin/env bash
# The NetBox peer (../shared/peers/netbox, used in place) with the netbox-bgp plugin, and a bank
# peering with it: what `make test-netbox` and the recording of the fixture sync from.
#
# The peer's setup.sh rewrites its configuration.py on every run, so the plugin is switched on
# by a configuration module of ours that loads that file and adds PLUGINS; NetBox takes it from
# NETBOX_CONFIGURATION, which setup.sh's migrate and server inherit. Prints setup.sh's
# NETBOX_URL= and NETBOX_TOKEN= lines.
set -euo pipefail
PEER=${NETBOX_PEER:?the NetBox peer harness (../shared/peers/netbox)}
NB_HOME=${NB_HOME:-/tmp/netbox-peer}
HERE=$(cd "$(dirname "$0")" && pwd)
BGP_VERSION=0.20.2

# the peer itself, as it comes (venv, NetBox, its demo data)
[ -x "$NB_HOME/venv/bin/netbox" ] || "$PEER/setup.sh" >&2
if ! "$NB_HOME/venv/bin/pip" show netbox-bgp 2>/dev/null | grep -q "^Version: $BGP_VERSION$"; then
  echo "[netbox-bgp] pip install netbox-bgp==$BGP_VERSION" >&2
  "$NB_HOME/venv/bin/pip" install --quiet --disable-pip-version-check "netbox-bgp==$BGP_VERSION" >&2
fi
mkdir -p "$NB_HOME/switchyard"
cat > "$NB_HOME/switchyard/switchyard_netbox_configuration.py" <<PY
# Written by Switchyard's server/tests/netbox/with-bgp.sh: the peer's configuration, plus netbox-bgp.
import importlib.util as _u
_spec = _u.spec_from_file_location("netbox_peer_configuration", "$NB_HOME/instance/conf/configuration.py")
_conf = _u.module_from_spec(_spec)
_spec.loader.exec_module(_conf)
globals().update({k: v for k, v in vars(_conf).items() if k.isupper()})
PLUGINS = ["netbox_bgp"]
PY
export PYTHONPATH="$NB_HOME/switchyard${PYTHONPATH:+:$PYTHONPATH}" NETBOX_CONFIGURATION=switchyard_netbox_configuration
# a server started without the plugin must restart with it
if ! curl -fs -o /dev/null --max-time 5 -H "Authorization: Token $(cat "$NB_HOME/token" 2>/dev/null)" http://127.0.0.1:8700/api/plugins/bgp/; then
  "$PEER/stop.sh" >&2 || true
fi
"$PEER/setup.sh" > "$NB_HOME/switchyard/setup.log"
grep -E '^NETBOX_(URL|TOKEN)=' "$NB_HOME/switchyard/setup.log"
eval "$(grep -E '^NETBOX_(URL|TOKEN)=' "$NB_HOME/switchyard/setup.log" | sed 's/^/export /')"
"$NB_HOME/venv/bin/python" "$HERE/bgp_peering.py" >&2
