#!/usr/bin/env bash
# The catalog over HTTP at N components, measured three ways in one run:
#   ingest   - the generated catalog imported through POST /api/v1/catalog/import, one request
#              per file of CHUNK components (as a sync job sends them), each import timed;
#   reads    - Backstage's read cases (../shared/peers/backstage/bench.sh) with oha, closed loop,
#              CONC connections, DURATION s, against the release server;
#   the limit - pgbench running each case's own SQL statements (the token check, then the
#              case's statements) at the same concurrency: what the database alone reaches.
# The entities are load.js's (the Backstage peer's generator), as they are: types and
# lifecycles outside the well-known lists included. Prints tables (markdown).
#
# usage: N=10000 server/benches/catalog_http.sh   (make bench-http runs 10,000 and 50,000)
# needs: target/release/server, oha, pgbench, node, python3, the dev identity provider at
# IDP_URL (make bench-http starts one).
set -euo pipefail
N=${N:-10000}; CONC=${CONC:-16}; DURATION=${DURATION:-15}; WARMUP=${WARMUP:-3}; CHUNK=${CHUNK:-2000}
PEERS=${PEERS:?the peers folder (../shared/peers)}
BIN=${BIN:-target/release/server}
PORT=${PORT:-3200}; APP=http://127.0.0.1:$PORT
PG=${PG:-postgres://postgres@127.0.0.1:5432}; DB=switchyard_bench_http
IDP_URL=${IDP_URL:-http://127.0.0.1:3900}
OHA=${OHA:-oha}
work=$(mktemp -d /tmp/sy-bench-http-XXXX)
[ -x "$BIN" ] || { echo "no server at $BIN: make release first" >&2; exit 2; }

node "$PEERS/backstage/load.js" "$N" > "$work/entities.ndjson"
python3 "$PEERS/switchyard-catalog/to_yaml.py" "$work/entities.ndjson" "$work/files" "$CHUNK" >/dev/null
psql -qX "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
SWITCHYARD_DATABASE__URL=$PG/$DB SWITCHYARD_SERVER__ADDR=127.0.0.1:$PORT SWITCHYARD_SERVER__PUBLIC_URL=$APP \
SWITCHYARD_OIDC__ISSUER_URL=$IDP_URL SWITCHYARD_SERVER__BODY_LIMIT_BYTES=8000000 SWITCHYARD_LOG__FILTER=warn \
SWITCHYARD_DEPLOYS__WORKER=false LEPTOS_SITE_ROOT=${SITE:-target/site-release} \
  "$BIN" > "$work/server.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "$APP/healthz" && break; sleep 0.3; done
python3 "$PEERS/login.py" "$APP" alice alice "$work/jar" >/dev/null || { echo "sign-in failed" >&2; exit 1; }
tok=$(curl -s -b "$work/jar" -H "Origin: $APP" --data 'name=bench&read=on&write=on&admin=on&days=1' "$APP/api/iam/create-token" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin).get("secret", ""))')
case "$tok" in sy_*) ;; *) echo "no token" >&2; exit 1;; esac
AUTH="Authorization: Bearer $tok"

# ---- ingest
echo "### Ingest: $N components in files of $CHUNK, one import request each"
echo
echo "| file | entities after | seconds | created | refused |"
echo "|---|---:|---:|---:|---:|"
t0=$(date +%s.%N)
for f in "$work"/files/*.yaml; do
  name=$(basename "$f")
  out=$(curl -s -o "$work/$name.json" -w '%{http_code} %{time_total}' -H "$AUTH" -F "files=@$f;filename=$name" "$APP/api/v1/catalog/import")
  [ "${out%% *}" = 200 ] || { echo "import of $name answered ${out%% *}: $(head -c 300 "$work/$name.json")" >&2; exit 1; }
  python3 - "$work/$name.json" "$name" "${out#* }" "$(psql -tAX "$PG/$DB" -c 'SELECT count(*) FROM entities')" >> "$work/ingest.tsv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); items = r["items"]
count = lambda o: sum(1 for i in items if i["outcome"] == o)
print(f"{sys.argv[2]}\t{sys.argv[4]}\t{float(sys.argv[3]):.2f}\t{count('created')}\t{count('refused')}")
PY
  tail -1 "$work/ingest.tsv" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5}'
done
t1=$(date +%s.%N)
python3 - "$work/ingest.tsv" "$t0" "$t1" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1])][1:]  # the first file holds the groups and systems
secs = [float(r[2]) for r in rows]
med = statistics.median(secs)
print(f"\nIngest, start to last answer: {float(sys.argv[3]) - float(sys.argv[2]):.1f} s; component files: median {med:.2f} s, "
      f"slowest {max(secs):.2f} s ({max(secs) / med:.2f} x the median)")
PY
# a re-import of a file changes nothing
again=$(curl -s -H "$AUTH" -F "files=@$work/files/001-components.yaml;filename=001-components.yaml" "$APP/api/v1/catalog/import?dry_run=true" \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(1 for i in r["items"] if i["outcome"] != "unchanged"))')
echo "Re-import of 001-components.yaml (dry run): $again entities would change"
psql -qX "$PG/$DB" -c 'VACUUM ANALYZE'

# ---- the cases, and each one's SQL for pgbench
hash="sha256(convert_to('$tok', 'UTF8'))"
cat > "$work/token.sql" <<SQL
WITH live AS (
    SELECT id, name, user_id, team_id, scopes, actor_id, last_used_at FROM api_tokens
    WHERE token_hash = $hash AND revoked_at IS NULL AND expires_at > now()),
mine AS (
    SELECT t.id, t.slug, t.name, tm.role FROM live
    JOIN team_members tm ON tm.user_id = live.user_id JOIN teams t ON t.id = tm.team_id)
SELECT l.id, l.name, l.last_used_at, l.user_id, l.team_id, l.scopes, l.actor_id, a.username, a.name, u.username, u.name, u.email,
       EXISTS (SELECT 1 FROM role_grants g WHERE g.user_id = l.user_id AND g.role = 'admin'),
       array(SELECT id FROM mine ORDER BY name), array(SELECT slug FROM mine ORDER BY name),
       array(SELECT name FROM mine ORDER BY name), array(SELECT role FROM mine ORDER BY name), st.slug, st.name
FROM live l LEFT JOIN users u ON u.id = l.user_id LEFT JOIN teams st ON st.id = l.team_id LEFT JOIN users a ON a.id = l.actor_id
WHERE l.user_id IS NULL OR u.last_login_at > now() - make_interval(days => 90);
SQL
summary="e.id, e.kind, e.namespace, e.name, e.title, e.description, e.type, e.owner_ref AS owner_slug,
  coalesce(t.name, ou.name, e.owner_ref) AS owner_name, e.tier, e.lifecycle, e.language, e.tags, e.classification, e.status, e.updated_at"
load="SELECT e.id, e.kind, e.namespace, e.name, e.title, e.description, e.type, e.lifecycle, e.tier, e.owner_ref, e.language,
  e.repository_url, e.runbook_url, e.oncall_url, e.dashboards, e.links, e.tags, e.classification, e.annotations, e.definition,
  e.definition_url, e.status, e.version, e.created_at, e.updated_at,
  array(SELECT t.slug FROM entity_co_owners c JOIN teams t ON t.id = c.team_id WHERE c.entity_id = e.id ORDER BY t.slug),
  coalesce((SELECT jsonb_agg(jsonb_build_array(r.type, r.target_kind, r.target_namespace, r.target_name))
            FROM entity_relations r WHERE r.source_id = e.id), '[]')
  FROM entities e"
joins="LEFT JOIN teams t ON t.id = e.owner_team_id LEFT JOIN users ou ON ou.id = e.owner_user_id"
# a page: the list's statement (its ids kept), then the entities' load
page() { # WHERE-conditions ORDER-BY [FROM]
  echo "SELECT array_agg(id) AS ids FROM (SELECT $summary FROM ${3:-entities e} $joins WHERE true $1 $2 LIMIT 21) p \\gset"
  echo "$load WHERE e.id = ANY(coalesce(:ids::uuid[], ARRAY(SELECT x.id FROM entities x WHERE x.kind = NULL AND x.namespace = NULL AND x.name = NULL))) ORDER BY e.kind, e.namespace, e.name;"
}
text="AND (e.search @@ websearch_to_tsquery('english', 'billing') OR e.name ILIKE '%billing%' OR e.title ILIKE '%billing%')"
owner_from="((SELECT e.* FROM entities e WHERE e.owner_ref = 'group-7' AND e.kind = 'component' ORDER BY e.name, e.id LIMIT 21)
  UNION ALL (SELECT e.* FROM entities e JOIN entity_co_owners c ON c.entity_id = e.id JOIN teams ct ON ct.id = c.team_id
  WHERE ct.slug = 'group-7' AND e.owner_ref <> 'group-7' AND e.kind = 'component' ORDER BY e.name, e.id LIMIT 21)) e"
B=$APP/api/v1/catalog
declare -A URL SQL
URL[list_first_page]="$B/entities?limit=20&sort=name";                 SQL[list_first_page]=$(page "" "ORDER BY e.name, e.id")
URL[list_components]="$B/entities?kind=component&limit=20&sort=name";  SQL[list_components]=$(page "AND e.kind = 'component'" "ORDER BY e.name, e.id")
URL[filter_owner]="$B/entities?kind=component&owner=group-7&limit=20&sort=name"; SQL[filter_owner]=$(page "" "ORDER BY e.name, e.id" "$owner_from")
URL[fulltext]="$B/entities?kind=component&q=billing&limit=20";         SQL[fulltext]=$(page "$text AND e.kind = 'component'" "ORDER BY e.name, e.id")
URL[facets_owner]="$B/entity-facets?facet=spec.owner"
SQL[facets_owner]="SELECT CASE WHEN facet = 'total' THEN 'kind' ELSE facet END, CASE WHEN facet = 'total' THEN kind ELSE value END, sum(n)::bigint
  FROM catalog_facet_counts WHERE kind = ANY('{component,api,system,domain,resource}') GROUP BY 1, 2
  UNION ALL SELECT 'total', '', coalesce(sum(n), 0)::bigint FROM catalog_facet_counts
  WHERE facet = 'total' AND kind = ANY('{component,api,system,domain,resource}');"
URL[by_name]="$B/entities/by-name/component/default/svc-1234"
SQL[by_name]="$load WHERE e.id = ANY(coalesce(NULL::uuid[], ARRAY(SELECT x.id FROM entities x WHERE x.kind = 'component' AND x.namespace = 'default' AND x.name = 'svc-1234'))) ORDER BY e.kind, e.namespace, e.name;"

echo
echo "### Reads at $N components: oha, closed loop, $CONC connections, ${DURATION} s; pgbench on the same SQL, $CONC clients"
echo
echo "| case | req/s | p50 ms | p99 ms | statements | pgbench tps | req/s ÷ pgbench |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for name in list_first_page list_components filter_owner fulltext facets_owner by_name; do
  url=${URL[$name]}
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$url"); [ "$code" = 200 ] || { echo "| $name | answered $code |"; continue; }
  { cat "$work/token.sql"; echo "${SQL[$name]}"; } > "$work/$name.sql"
  statements=$(grep -c ';\s*$\|\\gset' "$work/$name.sql")
  "$OHA" --no-tui -z "${WARMUP}s" -c "$CONC" -H "$AUTH" "$url" >/dev/null 2>&1
  "$OHA" --no-tui --output-format json -z "${DURATION}s" -c "$CONC" -H "$AUTH" "$url" > "$work/$name.oha.json" 2>/dev/null
  tps=$(pgbench -n -M prepared -c "$CONC" -j 2 -T "$DURATION" -f "$work/$name.sql" "$PG/$DB" 2>"$work/$name.pgbench.err" \
        | awk '/^tps/ {print $3; exit}')
  [ -n "$tps" ] || { echo "pgbench failed on $name: $(tail -3 "$work/$name.pgbench.err")" >&2; tps=0; }
  python3 - "$name" "$work/$name.oha.json" "$statements" "$tps" <<'PY'
import json, sys
name, path, statements, tps = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
d = json.load(open(path)); s = d["summary"]; p = d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {}); ok = codes.get("200", 0) / max(1, sum(codes.values()))
rps = s["requestsPerSec"]
flag = "" if ok == 1 else f" ({100 * ok:.0f} % 200)"
print(f"| {name}{flag} | {rps:,.0f} | {p['p50'] * 1000:.1f} | {p['p99'] * 1000:.1f} | {statements} | {tps:,.0f} | {rps / tps if tps else 0:.2f} |")
PY
done

# ---- pages: a signed-in reader (alice, through the identity provider's form), each page beside
# the API call that returns the same data; statements per page from Postgres's own log
cookie=$(awk '$6 ~ /^(switchyard_session|__Host-switchyard)$/ {print $6 "=" $7}' "$work/jar" | tail -1)
[ -n "$cookie" ] || { echo "no session cookie in $work/jar" >&2; exit 1; }
pglog=${PGLOG:-$(ls -t /var/log/postgresql/*.log 2>/dev/null | head -1)}
statements_of() { # URL HEADER: the statements Postgres logs for one request
  [ -n "$pglog" ] || { echo "?"; return; }
  # for every session, the server's pooled ones included (a reload reaches them all); reset after
  psql -qX "$PG/postgres" -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
  local before; before=$(wc -l < "$pglog")
  curl -s -o /dev/null -H "$2" "$1"   # each statement is logged as it ends, before the answer
  psql -qX "$PG/postgres" -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
  tail -n +"$((before + 1))" "$pglog" | grep -v 'pg_reload_conf\|ALTER SYSTEM' | grep -c "execute \|statement: "
}
PAGES=(
  "home|$APP/|$B/entity-facets?kind=component&facet=spec.lifecycle&facet=switchyard.dev/tier&facet=spec.owner $B/entities?kind=component&sort=updated&limit=8"
  "catalog|$APP/catalog?kind=component|$B/entities?kind=component&limit=50"
  "catalog, filtered by owner|$APP/catalog?kind=component&owner=group-7|$B/entities?kind=component&owner=group-7&limit=50"
  "a component|$APP/catalog/component/default/svc-1234|$B/entities/by-name/component/default/svc-1234"
  "a team|$APP/teams/group-7|$B/entities?owner=group-7&limit=100"
  "deploys|$APP/deploys|$APP/api/v1/deploys"
  "approvals inbox|$APP/approvals|$APP/api/v1/approvals"
)
echo
echo "### Pages at $N components: one signed-in reader, 20 requests each (p50, p99), beside the API call returning the same data"
echo
echo "| page | p50 ms | p99 ms | statements | API p50 ms | page ÷ API |"
echo "|---|---:|---:|---:|---:|---:|"
for row in "${PAGES[@]}"; do
  IFS='|' read -r name page api <<< "$row"
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$page"); [ "$code" = 200 ] || { echo "| $name | answered $code |"; continue; }
  "$OHA" --no-tui --output-format json -n 20 -c 1 -H "Cookie: $cookie" "$page" > "$work/page.json" 2>/dev/null
  # a page that shows what several API calls return is compared with the sum of their p50s
  apis=()
  for url in $api; do
    "$OHA" --no-tui --output-format json -n 20 -c 1 -H "$AUTH" "$url" > "$work/api${#apis[@]}.json" 2>/dev/null
    apis+=("$work/api${#apis[@]}.json")
  done
  n=$(statements_of "$page" "Cookie: $cookie")
  python3 - "$name" "$work/page.json" "$n" "${apis[@]}" <<'PY'
import json, sys
name, page, n = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3]
p50, p99 = page["latencyPercentiles"]["p50"] * 1000, page["latencyPercentiles"]["p99"] * 1000
a50 = sum(json.load(open(a))["latencyPercentiles"]["p50"] * 1000 for a in sys.argv[4:])
print(f"| {name} | {p50:.1f} | {p99:.1f} | {n} | {a50:.1f} | {p50 / a50:.1f} |")
PY
done
# a page's floor: the shell alone (the layout and the session's read), as the 404 page
"$OHA" --no-tui --output-format json -n 20 -c 1 -H "Cookie: $cookie" "$APP/no/such/page" > "$work/shell.json" 2>/dev/null
python3 - "$work/shell.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["latencyPercentiles"]
print(f"\nA page's floor, the shell alone (the 404 page): p50 {p['p50'] * 1000:.1f} ms, p99 {p['p99'] * 1000:.1f} ms")
PY
"$OHA" --no-tui --output-format json -z "${DURATION}s" -c "$CONC" -H "Cookie: $cookie" "$APP/catalog?kind=component" > "$work/page16.json" 2>/dev/null
"$OHA" --no-tui --output-format json -z "${DURATION}s" -c "$CONC" -H "$AUTH" "$B/entities?kind=component&limit=50" > "$work/api16.json" 2>/dev/null
python3 - "$work/page16.json" "$work/api16.json" "$CONC" <<'PY'
import json, sys
page, api = json.load(open(sys.argv[1]))["summary"]["requestsPerSec"], json.load(open(sys.argv[2]))["summary"]["requestsPerSec"]
print(f"\nThe catalog page at {sys.argv[3]} readers: {page:,.0f} pages/s; the list API (50 a page): {api:,.0f} req/s; ratio {page / api:.2f}")
PY
echo
echo "Server RSS peak: $(( $(awk '/VmHWM/{print $2}' /proc/$srv/status) / 1024 )) MiB. Work dir: $work"
