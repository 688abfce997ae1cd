#!/usr/bin/env bash
# The main pages' first loads before and after a change, back to back (`make bench-pages`): two
# release servers on one demo database, each page asked of each in turn (before, after, before,
# …) by a reader signed in through the identity provider's form; the time to the whole page
# (curl's time_total: the HTML streamed to its end), p50 and p99 of ROUNDS each, after WARMUP
# unmeasured loads of each page from each server. Prints a table.
set -euo pipefail
BEFORE=${1:?the server binary before the change}
AFTER=${2:?the server binary after the change}
ROUNDS=${ROUNDS:-30}
WARMUP=${WARMUP:-100}
PEERS=${PEERS:?the peers folder (../shared/peers), for its sign-in helper}
PG=${PG:-postgres://postgres@127.0.0.1:5432}; DB=switchyard_bench_pages
IDP_URL=${IDP_URL:-http://127.0.0.1:3900}
SITE=${SITE:-target/site-release}
work=$(mktemp -d /tmp/sy-bench-pages-XXXX)
for b in "$BEFORE" "$AFTER"; do [ -x "$b" ] || { echo "no server at $b" >&2; exit 2; }; done

psql -qX "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
# the demo company, loaded by the newer binary (its migrations include the older's)
SWITCHYARD_DATABASE__URL=$PG/$DB SWITCHYARD_OIDC__ISSUER_URL=$IDP_URL SWITCHYARD_LOG__FILTER=warn "$AFTER" demo-data >"$work/demo.log" 2>&1
psql -qX "$PG/$DB" -c 'VACUUM ANALYZE'

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start() { # BIN PORT
  SWITCHYARD_DATABASE__URL=$PG/$DB SWITCHYARD_SERVER__ADDR=127.0.0.1:$2 SWITCHYARD_SERVER__PUBLIC_URL=http://127.0.0.1:$2 \
  SWITCHYARD_OIDC__ISSUER_URL=$IDP_URL SWITCHYARD_LOG__FILTER=warn SWITCHYARD_DEPLOYS__WORKER=false SWITCHYARD_SITE__ROOT=$SITE \
  SWITCHYARD_TELEMETRY__METRICS_ADDR=127.0.0.1:0 \
    "$1" >"$work/server-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$2/healthz" && return; sleep 0.3; done
  echo "the server on $2 did not start: $(tail -3 "$work/server-$2.log")" >&2; exit 1
}
start "$BEFORE" 3241
start "$AFTER" 3242

cookie() { # PORT USER: a session of USER on the server at PORT
  python3 "$PEERS/login.py" "http://127.0.0.1:$1" "$2" "$2" "$work/jar-$1-$2" >/dev/null || { echo "sign-in of $2 failed" >&2; exit 1; }
  awk '$6 ~ /^(switchyard_session|__Host-switchyard)$/ {print $6 "=" $7}' "$work/jar-$1-$2" | tail -1
}

PAGES=(
  "home|dave|/"
  "home|bob|/"
  "home|alice|/"
  "catalog|dave|/catalog?kind=component"
  "a component|bob|/catalog/component/default/refunds"
  "a component, graph at depth 3|dave|/catalog/component/default/ledger-core?depth=3"
  "integrations|dave|/integrations"
  "topology|dave|/topology"
  "deploys|bob|/deploys"
  "approvals inbox|alice|/approvals"
  "audit log|alice|/admin/audit"
)
declare -A jar
for user in alice bob dave; do
  jar[3241-$user]=$(cookie 3241 $user)
  jar[3242-$user]=$(cookie 3242 $user)
done

echo "| page | as | before p50 ms | after p50 ms | before p99 ms | after p99 ms | after ÷ before (p50) |"
echo "|---|---|---:|---:|---:|---:|---:|"
for row in "${PAGES[@]}"; do
  IFS='|' read -r name user path <<< "$row"
  : > "$work/t-3241"; : > "$work/t-3242"
  for port in 3241 3242; do # WARMUP loads each first, unmeasured: a running server's state, not
    # its first minute's (each pooled connection plans a statement afresh for its first five
    # runs before Postgres settles on a plan, and a page spreads its statements over the pool)
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${jar[$port-$user]}" "http://127.0.0.1:$port$path")
    [ "$code" = 200 ] || { echo "| $name | $user | answered $code on $port |"; continue 2; }
    for _ in $(seq "$WARMUP"); do curl -s -o /dev/null -H "Cookie: ${jar[$port-$user]}" "http://127.0.0.1:$port$path"; done
  done
  for _ in $(seq "$ROUNDS"); do
    for port in 3241 3242; do
      curl -s -o /dev/null -w '%{time_total}\n' -H "Cookie: ${jar[$port-$user]}" "http://127.0.0.1:$port$path" >> "$work/t-$port"
    done
  done
  python3 - "$name" "$user" "$work/t-3241" "$work/t-3242" <<'PY'
import statistics, sys
name, user, a, b = sys.argv[1], sys.argv[2], *(sorted(float(x) * 1000 for x in open(f)) for f in sys.argv[3:5])
p99 = lambda xs: xs[min(len(xs) - 1, round(0.99 * (len(xs) - 1)))]
pa, pb = statistics.median(a), statistics.median(b)
print(f"| {name} | {user} | {pa:.1f} | {pb:.1f} | {p99(a):.1f} | {p99(b):.1f} | {pb / pa:.2f} |")
PY
done
