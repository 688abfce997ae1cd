# Switchyard — two commands: `make run` and `make test`. Everything they need is installed here,
# idempotently: a second run spends no time installing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.11
SQLX_CLI_VERSION     := 0.8.6
WASM_SPLIT_VERSION   := 0.2.4
# the wasm-bindgen CLI must equal the crate in Cargo.lock exactly
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock 2>/dev/null)

# DATABASE_URL when set; otherwise the local server on 127.0.0.1:5432 (started or installed).
# `make run` uses that database; `make test` uses siblings of it, made anew each run.
ifeq ($(origin DATABASE_URL),undefined)
LOCAL_PG := 1
DATABASE_URL := postgres://postgres@127.0.0.1:5432/switchyard
endif
export DATABASE_URL
sibling_db = $(shell echo '$(DATABASE_URL)' | sed -E 's#/[^/?]+(\?|$$)#/$(1)\1#')
TEST_DATABASE_URL := $(call sibling_db,switchyard_test)
E2E_DATABASE_URL := $(call sibling_db,switchyard_e2e)
export E2E_DATABASE_URL
export RUST_BACKTRACE := 0
export SQLX_OFFLINE := true
# public data some tests read in place (never copied here): beside the checkout, or the
# workplace's shared folder when the checkout is elsewhere (a CI clone)
PEER_DATA ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/peer-data) /work/shared/peer-data))
export PEER_DATA
TOOLS := target/tools
STAMP := target/.stamps
# the build's commit, in /metrics as switchyard_build_info{commit}
export SWITCHYARD_GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# promtool checks the metrics exposition and the shipped alert rules (server/monitoring) in make test
export PROMTOOL := $(CURDIR)/$(TOOLS)/bin/promtool

.PHONY: help tools pg db fresh-db postgres build run test test-rust test-e2e test-netbox record-netbox sqlx-check sqlx-prepare bench bench-integrations bench-http bench-telemetry bench-topology bench-blast bench-netbox bench-pages chaos soak

help:
	@echo "make run          build and serve Switchyard on http://127.0.0.1:3000 with demo data"
	@echo "make test         every Rust test, the bundle size check and the end-to-end suite"
	@echo "make release      the optimised build (target/release/server, target/site-release)"
	@echo "make dev          live reload while editing (installs cargo-leptos the first time)"
	@echo "make bundle-size  raw, gzip and brotli sizes of the release bundle"
	@echo "make bench        benchmarks (tables on stdout)"
	@echo "make bench-http   the catalog over HTTP at 10k and 50k components, beside pgbench"
	@echo "make bench-telemetry  throughput with telemetry off, metrics on, and traces exported"
	@echo "make bench-integrations  ingest beside pgbench and COPY; reads at 100k and 10M runs"
	@echo "make bench-topology  the topology view's data at 500 and 5,000 devices; single points of failure"
	@echo "make bench-blast     if this fails: every device of 500 and 5,000, with 5,000 integrations"
	@echo "make soak        ten minutes of mixed traffic at a fixed rate; memory and p99 must stay flat"
	@echo "make chaos       five minutes of killed servers and Postgres restarts under load; checks nothing is lost or doubled"
	@echo "make bench-netbox  NetBox's demo data synced in, then read from NetBox and Switchyard side by side"
	@echo "make test-netbox  a sync from a real NetBox with netbox-bgp (starts the NetBox peer; ~8 min the first time)"
	@echo "make record-netbox  record what that NetBox serves into the fixture make test syncs"

# ---------------------------------------------------------------- tools
tools: $(STAMP)/apt $(STAMP)/rust $(STAMP)/npm $(PROMTOOL)

$(STAMP)/apt:
	@mkdir -p $(STAMP)
	@need=""; \
	 command -v chromium >/dev/null || need="$$need chromium"; \
	 command -v pg_isready >/dev/null || need="$$need postgresql-client"; \
	 command -v node >/dev/null || need="$$need nodejs npm"; \
	 command -v curl >/dev/null || need="$$need curl"; \
	 command -v brotli >/dev/null || need="$$need brotli"; \
	 if [ -n "$$need" ]; then echo "apt: installing$$need"; \
	   export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq $$need >/dev/null; fi
	@touch $@

# promtool alone, from Debian's prometheus package unpacked under target/tools (the Prometheus
# server is neither installed nor started)
$(PROMTOOL):
	@mkdir -p $(TOOLS)/bin $(TOOLS)/prometheus-deb
	cd $(TOOLS)/prometheus-deb && { apt-get download prometheus 2>/dev/null || { apt-get update -qq && apt-get download prometheus; }; } \
	  && dpkg-deb -x prometheus_*.deb root
	cp $(TOOLS)/prometheus-deb/root/usr/bin/promtool $@
	rm -rf $(TOOLS)/prometheus-deb

# install_fixed CRATE VERSION [PKG@PRECISE ...]: a tool whose own lockfile needs a nudge to build offline here
define install_fixed
	cargo install --list | grep -qE "^$(1) v$(2)( |:)" || { \
	  cargo install "$(1)" --version "$(2)" --locked --quiet 2>/dev/null || { \
	    f=$$(ls ~/.cargo/registry/cache/*/"$(1)-$(2).crate" | head -1); \
	    mkdir -p $(TOOLS); rm -rf "$(TOOLS)/$(1)-$(2)"; tar xzf "$$f" -C $(TOOLS); \
	    for spec in $(3); do (cd "$(TOOLS)/$(1)-$(2)" && cargo update --quiet -p "$${spec%@*}" --precise "$${spec#*@}"); done; \
	    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	      cargo install --path "$(TOOLS)/$(1)-$(2)" --locked --target-dir "$(TOOLS)/target"; }; }
endef

$(STAMP)/rust: Cargo.lock
	@mkdir -p $(STAMP)
	rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@$(call install_fixed,wasm-bindgen-cli,$(WASM_BINDGEN_VERSION),webpki-roots@1.0.10)
	@# splits the WASM at the pages' lazy routes (the splitter cargo-leptos uses, as a CLI)
	@cargo install --list | grep -qE "^wasm_split_cli_support v$(WASM_SPLIT_VERSION)( |:)" || \
	  cargo install wasm_split_cli_support --version $(WASM_SPLIT_VERSION) --features build-binary --locked
	@# sqlx-cli for `database create/drop`, `migrate run` and `prepare --check`: Postgres only, no TLS
	@cargo install --list | grep -qE "^sqlx-cli v$(SQLX_CLI_VERSION)( |:)" || \
	  cargo install sqlx-cli --version $(SQLX_CLI_VERSION) --no-default-features --features postgres --locked
	@touch $@

$(STAMP)/npm: package-lock.json end2end/package-lock.json
	@mkdir -p $(STAMP)
	npm install --no-audit --no-fund --loglevel=error
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# schemathesis (PyPI), the property-based API tester the browser suite runs against the REST API's
# OpenAPI document (end2end/contract/): in a virtual environment of its own, pinned
SCHEMATHESIS_VERSION := 4.32.5
CONTRACT_VENV := target/contract-venv
$(STAMP)/contract:
	@mkdir -p $(STAMP)
	python3 -m venv $(CONTRACT_VENV)
	$(CONTRACT_VENV)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)
	@touch $@

# The stock OpenLineage Python client, which the integrations tests send run events with, and
# the icalendar package, which the calendar test reads the .ics feed with: in a virtual
# environment of their own, pinned
OPENLINEAGE_VERSION := 1.54.0
ICALENDAR_VERSION := 7.3.2
LINEAGE_VENV := target/lineage-venv
$(STAMP)/lineage:
	@mkdir -p $(STAMP)
	python3 -m venv $(LINEAGE_VENV)
	$(LINEAGE_VENV)/bin/pip install --quiet --disable-pip-version-check openlineage-python==$(OPENLINEAGE_VERSION) icalendar==$(ICALENDAR_VERSION)
	@touch $@

# ---------------------------------------------------------------- database
pg: tools
ifdef LOCAL_PG
	@pg_isready -q -h 127.0.0.1 -p 5432 || $(MAKE) --no-print-directory postgres
endif

db: pg
	@sqlx database create
	@sqlx migrate run --source migrations

# a database that is exactly migrations/, nothing left from earlier runs
fresh-db: pg
	@sqlx database drop -y -f >/dev/null
	@sqlx database create
	@sqlx migrate run --source migrations >/dev/null

# Installs (when missing) and starts a local PostgreSQL that trusts loopback connections.
postgres:
	@ls /etc/postgresql/*/main >/dev/null 2>&1 || { echo "installing PostgreSQL"; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  ver=$$(ls /etc/postgresql | sort -V | tail -1); \
	  sed -i '1i host all all 127.0.0.1/32 trust' /etc/postgresql/$$ver/main/pg_hba.conf; }
	@ver=$$(ls /etc/postgresql | sort -V | tail -1); pg_ctlcluster --skip-systemctl-redirect $$ver main start || true
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	  echo "PostgreSQL did not come up on 127.0.0.1:5432" >&2; exit 1

# ---------------------------------------------------------------- build, run
# The site is built here, step by step, without cargo-leptos (which takes 15-25 minutes to compile
# on these machines): the server with `ssr`; the `app` library for wasm32 with `hydrate`;
# wasm-split-cli (a module per page, shared chunks); wasm-bindgen (--target web); in release,
# wasm-opt -Oz (.build/wasm-opt.mjs: binaryen's library in one process for all ~300 modules, the
# same bytes as its CLI in a sixth of the time), terser for the JS, and precompressed copies;
# Tailwind for the CSS; public/ copied; the files renamed
# after their content, the names written to the site's hash.txt, where the server finds them
# for Leptos's hydration scripts.
# Debug and release each have a site of their own, so a release build never replaces the files
# a running debug server serves.
SITE_debug          := target/site
SITE_release        := target/site-release
SERVER_FLAGS_debug  :=
SERVER_FLAGS_release := --release
WASM_FLAGS_debug    :=
WASM_FLAGS_release  := --profile wasm-release
WASM_DIR_debug      := debug
WASM_DIR_release    := wasm-release
TAILWIND_debug      :=
TAILWIND_release    := --minify

.PHONY: release build-debug build-release server-debug server-release site-debug site-release
build: build-debug
release: build-release
build-debug build-release: build-%: server-% site-%

server-debug server-release: server-%: tools
	cargo build -p server --bin server $(SERVER_FLAGS_$*)

site-debug site-release: site-%: tools
	cargo build -p app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate $(WASM_FLAGS_$*)
	@$(call assemble_site,$*)

# assemble_site PROFILE: the built WASM split into the main module and the pages' chunks
# (wasm-split-cli), their JS, the CSS and public/, into the profile's site. The bundle's files
# name each other (the main JS imports the chunk loader, which imports the main JS and fetches
# the chunks), so they share one name: a hash of all of them.
define assemble_site
	set -e; site=$(SITE_$(1)); out=target/front-out/$(1); pkg=$$site/pkg; \
	wasm=target/wasm32-unknown-unknown/$(WASM_DIR_$(1))/app.wasm; \
	if [ ! -f $$out/.done ] || [ $$wasm -nt $$out/.done ]; then \
	  rm -rf $$out; mkdir -p $$out/split; \
	  wasm-split-cli $$wasm $$out/split --out-name switchyard; \
	  wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
	    --out-name switchyard --out-dir $$out $$out/split/switchyard.wasm; \
	  mv $$out/split/__wasm_split.js $$out/; \
	  for f in $$out/split/*.wasm; do [ $${f##*/} = switchyard.wasm ] || mv $$f $$out/; done; \
	  if [ $(1) = release ]; then ls $$out/*.wasm | xargs -n 100 -P 2 node .build/wasm-opt.mjs 2>>$$out/wasm-opt.log \
	    || { grep -v 'unknown name subsection' $$out/wasm-opt.log >&2; exit 1; }; fi; \
	  touch $$out/.done; fi; \
	node_modules/.bin/tailwindcss --input style/tailwind.css --output $$out/switchyard.css $(TAILWIND_$(1)) 2>/dev/null; \
	h=$$(cat $$out/*.js $$out/*.wasm | sha256sum | cut -c1-16); h_css=$$(sha256sum $$out/switchyard.css | cut -c1-16); \
	named=$$out/named; rm -rf $$named; mkdir -p $$named $$pkg; \
	sed -e "s#switchyard_bg\.wasm#switchyard.$$h.wasm#g" -e "s#^import \(.*\) from \"\./__wasm_split\.js\"#import \1 from \"./__wasm_split.$$h.js\"#" \
	  $$out/switchyard.js > $$named/switchyard.$$h.js; \
	sed -E -e "s#\./switchyard\.js#./switchyard.$$h.js#g" -e "s#\./((split|chunk)_[A-Za-z0-9_]+)\.wasm#./\1.$$h.wasm#g" \
	  $$out/__wasm_split.js > $$named/__wasm_split.$$h.js; \
	cp $$out/switchyard_bg.wasm $$named/switchyard.$$h.wasm; \
	for f in $$out/split_*.wasm $$out/chunk_*.wasm; do [ -f $$f ] || continue; n=$${f##*/}; cp $$f $$named/$${n%.wasm}.$$h.wasm; done; \
	if [ $(1) = release ]; then for f in $$named/*.js; do \
	  node_modules/.bin/terser $$f --module --compress --mangle --output $$f; done; fi; \
	cp $$out/switchyard.css $$named/switchyard.$$h_css.css; \
	if [ -d $$out/snippets ]; then rm -rf $$pkg/snippets; cp -r $$out/snippets $$pkg/; fi; \
	if [ $(1) = release ]; then for f in $$named/*; do n=$${f##*/}; \
	  if [ -f $$pkg/$$n.br ]; then cp $$pkg/$$n.br $$pkg/$$n.gz $$named/; \
	  else brotli -q 11 -f -o $$f.br $$f; gzip -9 -k -f $$f; fi; done; fi; \
	cp -r public/. $$site/; cp $$named/* $$pkg/; \
	mkdir -p $$pkg/topology; node_modules/.bin/esbuild app/js/topology-view.js --bundle --format=esm --target=es2020 \
	  --minify --legal-comments=none --log-level=warning --outfile=$$pkg/topology/view.js; \
	if [ $(1) = release ]; then brotli -q 11 -f -o $$pkg/topology/view.js.br $$pkg/topology/view.js; gzip -9 -k -f $$pkg/topology/view.js; fi; \
	printf 'js: %s\nwasm: %s\ncss: %s\n' $$h $$h $$h_css > $$site/hash.txt; \
	find $$pkg -maxdepth 1 -type f ! -name "*.$$h.*" ! -name "switchyard.$$h_css.css*" -delete; \
	echo "site: $$site (bundle $$h: $$(ls $$named | grep -c '\.wasm$$') WASM modules; css $$h_css)"
endef

# start_idp PORT LOG: the development identity provider in the background, until the recipe ends
define start_idp
	pidfile=target/idp-$(1).pid; [ -f $$pidfile ] && kill $$(cat $$pidfile) 2>/dev/null || true; \
	IDP_PORT=$(1) node end2end/idp/server.mjs >$(2) 2>&1 & idp=$$!; echo $$idp > $$pidfile; \
	trap "kill $$idp 2>/dev/null; rm -f $$pidfile" EXIT; \
	for i in $$(seq 1 50); do curl -sf http://127.0.0.1:$(1)/.well-known/openid-configuration >/dev/null && break; sleep 0.2; done
endef

run: db build $(STAMP)/lineage
	./target/debug/server demo-data
	@$(call start_idp,3900,target/idp.log); \
	  $(LINEAGE_VENV)/bin/python server/demo/simulate.py http://127.0.0.1:3000 > target/simulate.log 2>&1 & sim=$$!; \
	  trap "kill $$sim 2>/dev/null; kill $$idp 2>/dev/null; rm -f $$pidfile" EXIT; \
	  echo "Switchyard on http://127.0.0.1:3000 — sign in as alice, bob, carol, dave or erin (password = name); integration runs keep coming (target/simulate.log)"; \
	  ./target/debug/server

# The developer's live-reload loop: cargo-leptos rebuilds and reloads the browser on each save.
# It is the one thing here that needs cargo-leptos, compiled from source the first time.
dev: db tools
	@cargo install --list | grep -qE "^cargo-leptos v$(CARGO_LEPTOS_VERSION)( |:)" || \
	  echo "make dev: compiling cargo-leptos $(CARGO_LEPTOS_VERSION) once; this takes 15-25 minutes here"
	@$(call install_fixed,cargo-leptos,$(CARGO_LEPTOS_VERSION),cargo-util-schemas@0.14.1)
	cargo run -q -p server --bin server -- demo-data
	@$(call start_idp,3900,target/idp.log); \
	  echo "Switchyard on http://127.0.0.1:3000 (live reload) — sign in as alice, bob, carol or dave (password = name)"; \
	  cargo leptos watch --split

# ---------------------------------------------------------------- bundle size
# The first page loads the JS glue and the WASM (and the CSS); browsers get them compressed. The
# home page's chunks are read from the loader as the splitter wrote it (the served one is minified).
# The figure recorded in server/benches/README.md ("first page, brotli: N B") may grow by 10 %
# before `make test` fails: a bigger bundle is a decision to write down there, not a drift.
BUNDLE_RECORD := server/benches/README.md
bundle-size: site-release
	@pkg=$(SITE_release)/pkg; link=$$(ls $$pkg/__wasm_split.*.js); \
	 printf '%-72s %10s %10s %10s\n' file raw gzip-9 brotli-11; \
	 total_raw=0; total_br=0; for f in $$(ls $$pkg/*.js $$pkg/*.wasm $$pkg/*.css); do \
	   raw=$$(wc -c <$$f); gz=$$(wc -c <$$f.gz); br=$$(wc -c <$$f.br); \
	   total_raw=$$((total_raw + raw)); total_br=$$((total_br + br)); \
	   [ $$raw -lt 20000 ] || printf '%-72s %10s %10s %10s\n' $${f#$$pkg/} $$raw $$gz $$br; done; \
	 echo "(files under 20,000 B raw not listed) all $$(ls $$pkg/*.js $$pkg/*.wasm | wc -l) JS and WASM files: $$total_raw B raw, $$total_br B brotli"; \
	 home=$$(awk '/^export const __wasm_split_load___home_route_view/{f=1} f&&/\]\)\);/{print; exit}' target/front-out/release/__wasm_split.js \
	   | grep -o '__chunk_[0-9]*' | sed 's/__chunk_/chunk_/'); \
	 first="$$(ls $$pkg/switchyard.*.js $$pkg/switchyard.*.wasm $$link $$pkg/split___home_route_view_*.wasm)"; \
	 for c in $$home; do first="$$first $$(ls $$pkg/$$c.*.wasm)"; done; \
	 br=0; raw=0; n=0; for f in $$first; do br=$$((br + $$(wc -c <$$f.br))); raw=$$((raw + $$(wc -c <$$f))); n=$$((n + 1)); done; \
	 echo "first page (home: main JS and WASM, the chunk loader, the home route's module and its $$(echo $$home | wc -w) shared chunks; $$n files): $$raw B raw"; \
	 echo "first page, brotli: $$br B"; echo $$br > target/bundle-first-page.br

bundle-size-check: bundle-size
	@recorded=$$(sed -nE 's/.*first page, brotli: ([0-9]+) B.*/\1/p' $(BUNDLE_RECORD) | head -1); \
	 now=$$(cat target/bundle-first-page.br); \
	 [ -n "$$recorded" ] || { echo "no 'first page, brotli: N B' figure in $(BUNDLE_RECORD)" >&2; exit 1; }; \
	 limit=$$((recorded * 110 / 100)); \
	 if [ $$now -gt $$limit ]; then \
	   echo "bundle-size: the first page is $$now B brotli, over $$limit B (recorded $$recorded B + 10 %)" >&2; exit 1; fi; \
	 echo "bundle-size: first page $$now B brotli, within 10 % of the recorded $$recorded B"

# ---------------------------------------------------------------- tests
# The browser suite runs on the release site (what is deployed: optimised WASM, hashed names),
# after its bundle's size is checked, served by the debug server the Rust suite's build already
# paid for (a release server would add a second full compile to every CI run; `make release
# test-e2e E2E_SERVER=release` runs the whole release build). `E2E_PROFILE=debug` runs the suite
# on `make build`'s site.
test: export DATABASE_URL := $(TEST_DATABASE_URL)
test: fresh-db test-rust server-debug site-release bundle-size-check test-e2e
E2E_PROFILE ?= release
E2E_SERVER  ?= debug

# .sqlx/ must match the queries and the migrated schema
sqlx-check:
	SQLX_OFFLINE=false cargo sqlx prepare --workspace --check

sqlx-prepare: db
	SQLX_OFFLINE=false cargo sqlx prepare --workspace

# The test build checks .sqlx/ as `cargo sqlx prepare --check` would, without that command's own
# `cargo check` of every crate (a second compile of the whole tree, 10 minutes on a fresh machine):
# the workspace's query macros run online against the migrated database and write what they found
# to target/sqlx-check (the touch makes every one of them run), which must equal .sqlx/.
SQLX_FOUND := $(CURDIR)/target/sqlx-check
test-rust: $(STAMP)/lineage
	@rm -rf $(SQLX_FOUND) && mkdir -p $(SQLX_FOUND) && touch app/src/lib.rs server/src/main.rs
	SQLX_OFFLINE=false SQLX_OFFLINE_DIR=$(SQLX_FOUND) cargo test --workspace --features app/ssr --no-run
	@found=$$(ls $(SQLX_FOUND) | grep -c '^query-.*\.json$$' || true); \
	 [ "$$found" -gt 0 ] || { echo "sqlx check: the build ran no query macro online" >&2; exit 1; }; \
	 for f in $(SQLX_FOUND)/query-*.json; do cmp -s $$f .sqlx/$${f##*/} || { \
	   echo "sqlx check: .sqlx/$${f##*/} is missing or differs from its query; run make sqlx-prepare" >&2; exit 1; }; done; \
	 for f in .sqlx/query-*.json; do [ -f $(SQLX_FOUND)/$${f##*/} ] || echo "sqlx check: $$f is not used by any query (make sqlx-prepare drops it)"; done; \
	 echo "sqlx check: the $$found queries match .sqlx/"
	@$(call start_idp,3901,target/idp-rust.log); \
	  IDP_URL=http://127.0.0.1:3901 OPENLINEAGE_PYTHON=$(CURDIR)/$(LINEAGE_VENV)/bin/python ICALENDAR_PYTHON=$(CURDIR)/$(LINEAGE_VENV)/bin/python cargo test --workspace --features app/ssr

test-e2e: $(STAMP)/contract
	sqlx database drop -y -f --database-url "$(E2E_DATABASE_URL)"
	sqlx database create --database-url "$(E2E_DATABASE_URL)"
	cd end2end && CI=1 E2E_SERVER_BIN=./target/$(E2E_SERVER)/server E2E_SITE_ROOT=$(SITE_$(E2E_PROFILE)) \
	  E2E_SCHEMATHESIS=$(CURDIR)/$(CONTRACT_VENV)/bin/st npx playwright test

# a sync from a real NetBox 4.7 with its demo data (../shared/peers/netbox: ~8 min the first time,
# ~40 s after): a peer too heavy for make test, so a target of its own
NETBOX_PEER ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/peers/netbox) /work/shared/peers/netbox))
test-netbox: db
	@test -n "$(NETBOX_PEER)" || { echo "no NetBox peer harness (../shared/peers/netbox)" >&2; exit 1; }
	@NETBOX_PEER=$(NETBOX_PEER) server/tests/netbox/with-bgp.sh | tee target/netbox-setup.log | grep -v '^NETBOX_TOKEN=' | tail -2
	@grep -q '^NETBOX_URL=' target/netbox-setup.log || { echo "the NetBox peer did not start: see target/netbox-setup.log" >&2; exit 1; }
	@$(call start_idp,3902,target/idp-netbox.log); \
	  eval "$$(grep -E '^NETBOX_(URL|TOKEN)=' target/netbox-setup.log | sed 's/^/export /')"; \
	  IDP_URL=http://127.0.0.1:3902 cargo test --features app/ssr -p server --test api -- --ignored netbox

# ---------------------------------------------------------------- benchmarks (not part of test)
# catalog list p50/p99 and throughput at 10k and 50k generated entities, and deploy kick-offs over
# HTTP at 32 clients plus the worker's jobs/s, each on a database of its own;
# the catalog bench runs the dev profile (dependencies at opt-level 1): its time is spent in
# Postgres; the deploy bench runs optimised (the bench profile): its HTTP path and JSON are the
# server's own work, as in production; the integrations bench (ingest beside pgbench and COPY,
# reads at 100 k and 10 M generated runs, ~15 min) likewise
bench: db
	cargo bench -p server --bench catalog --features app/ssr --profile dev
	cargo bench -p server --bench deploys --features app/ssr
	cargo bench -p server --bench integrations --features app/ssr
	cargo bench -p server --bench topology --features app/ssr
	cargo bench -p server --bench blast --features app/ssr

bench-integrations: db
	cargo bench -p server --bench integrations --features app/ssr

# the topology view's data at 500 and 5,000 generated devices over HTTP, and the single points of
# failure over the whole network (~3 min)
bench-topology: db
	cargo bench -p server --bench topology --features app/ssr

# "if this fails" for every device of a generated network of 500 and 5,000 devices (~minutes)
bench-blast: db
	cargo bench -p server --bench blast --features app/ssr

# records what the NetBox peer (with netbox-bgp and a bank peering) serves into the fixture make
# test syncs (server/tests/api/fixtures/netbox-4.7.3-demo.json.gz)
record-netbox:
	@test -n "$(NETBOX_PEER)" || { echo "no NetBox peer harness (../shared/peers/netbox)" >&2; exit 1; }
	NETBOX_PEER=$(NETBOX_PEER) server/tests/netbox/record.sh

# side by side with a real NetBox 4.7 (the peer, started here as for test-netbox): NetBox synced
# in, then a page of 50 devices, one device and 1,000 cables read from both by the same client
# (4 connections, DURATION s a case)
bench-netbox: db
	@test -n "$(NETBOX_PEER)" || { echo "no NetBox peer harness (../shared/peers/netbox)" >&2; exit 1; }
	@$(NETBOX_PEER)/setup.sh | tee target/netbox-setup.log | grep -v '^NETBOX_TOKEN=' | tail -2
	@grep -q '^NETBOX_URL=' target/netbox-setup.log || { echo "the NetBox peer did not start: see target/netbox-setup.log" >&2; exit 1; }
	@eval "$$(grep -E '^NETBOX_(URL|TOKEN)=' target/netbox-setup.log | sed 's/^/export /')"; \
	  cargo bench -p server --bench topology_netbox --features app/ssr

# what telemetry costs: the release server with it off, with metrics, and with every span exported
# to an OTLP/HTTP collector (the bench's own), catalog list and kick-off throughput (~4 min)
bench-telemetry: db server-release
	SERVER_BIN=$(CURDIR)/target/release/server cargo bench -p server --bench telemetry --features app/ssr

# The fault run (server/tests/load/chaos.rs): two servers and a Postgres of its own, five minutes of
# mixed traffic while servers are killed and Postgres restarts; prints its table and fails on
# anything acknowledged lost or doubled. Its thirty-second version runs in `make test`.
CHAOS_IDP_PORT ?= 3923
chaos: pg
	@$(call start_idp,$(CHAOS_IDP_PORT),target/idp-chaos.log); \
	  IDP_URL=http://127.0.0.1:$(CHAOS_IDP_PORT) cargo test --workspace --features app/ssr --test load chaos:: -- --ignored --nocapture

# The soak (server/tests/load/soak.rs): one server, a fixed offered rate of pages, API reads,
# kick-offs and run events for ten minutes (SOAK_MINUTES); a table per minute; fails on any
# error, memory growing over 10 % or p99 drifting over 25 %.
soak: pg
	@$(call start_idp,$(CHAOS_IDP_PORT),target/idp-soak.log); \
	  IDP_URL=http://127.0.0.1:$(CHAOS_IDP_PORT) cargo test --workspace --features app/ssr --test load soak:: -- --ignored --nocapture

# the main pages' first loads before and after a change, back to back (~25 min the first time):
# BEFORE (a commit, default the one before HEAD) built in a worktree into the same target
# directory (dependencies the two share are built once), then this tree; both release servers
# on one demo database (server/benches/pages_ab.sh)
BEFORE ?= HEAD~1
BENCH_PAGES_IDP_PORT ?= 3922
bench-pages: db site-release
	@set -e; rev=$$(git rev-parse --short $(BEFORE)); wt=target/worktree-$$rev; \
	 [ -d $$wt ] || git worktree add --detach $$wt $$rev >/dev/null; \
	 (cd $$wt && CARGO_TARGET_DIR=$(CURDIR)/target cargo build --release -p server --bin server); \
	 cp target/release/server target/server-before; \
	 touch server/src/main.rs; cargo build --release -p server --bin server; cp target/release/server target/server-after; \
	 $(call start_idp,$(BENCH_PAGES_IDP_PORT),target/idp-pages.log); \
	 echo "### Pages before ($$rev) and after ($$(git rev-parse --short HEAD)$$(git diff --quiet || echo ', with changes'))"; echo; \
	 PEERS=$(PEERS) IDP_URL=http://127.0.0.1:$(BENCH_PAGES_IDP_PORT) SITE=$(SITE_release) \
	   server/benches/pages_ab.sh target/server-before target/server-after

# the catalog over HTTP beside Backstage's cases and pgbench on the same SQL, at 10,000 and
# 50,000 components (~15 min): the release server, oha, the peers' data generator
# (../shared/peers, read in place) and the identity provider on BENCH_IDP_PORT
OHA_VERSION := 1.16.0
PEERS ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/peers) /work/shared/peers))
BENCH_IDP_PORT ?= 3921
$(STAMP)/oha:
	@mkdir -p $(STAMP)
	cargo install oha --version $(OHA_VERSION) --locked --root $(TOOLS)
	@touch $@
bench-http: db $(STAMP)/oha server-release site-release
	@$(call start_idp,$(BENCH_IDP_PORT),target/idp-bench.log); \
	 for n in $${BENCH_SIZES:-10000 50000}; do \
	   N=$$n PEERS=$(PEERS) OHA=$(TOOLS)/bin/oha IDP_URL=http://127.0.0.1:$(BENCH_IDP_PORT) SITE=$(SITE_release) \
	     server/benches/catalog_http.sh; done
