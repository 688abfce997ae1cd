# Switchyard — two commands: `make run` and `make test`. Everything they need is installed here,
# idempotently: a second run spends no time installing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.11
SQLX_CLI_VERSION     := 0.8.6
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
TOOLS := target/tools
STAMP := target/.stamps

.PHONY: help tools pg db fresh-db postgres build run test test-rust test-e2e sqlx-check sqlx-prepare bench

help:
	@echo "make run    build and serve Switchyard on http://127.0.0.1:3000 with demo data"
	@echo "make test   every Rust test and the end-to-end suite"
	@echo "make bench  benchmarks (tables on stdout)"

# ---------------------------------------------------------------- tools
tools: $(STAMP)/apt $(STAMP)/rust $(STAMP)/npm

$(STAMP)/apt:
	@mkdir -p $(STAMP)
	@need=""; \
	 command -v chromium >/dev/null || need="$$need chromium"; \
	 command -v pg_isready >/dev/null || need="$$need postgresql-client"; \
	 command -v node >/dev/null || need="$$need nodejs npm"; \
	 command -v curl >/dev/null || need="$$need curl"; \
	 if [ -n "$$need" ]; then echo "apt: installing$$need"; \
	   export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq $$need >/dev/null; fi
	@touch $@

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
	@$(call install_fixed,cargo-leptos,$(CARGO_LEPTOS_VERSION),cargo-util-schemas@0.14.1)
	@$(call install_fixed,wasm-bindgen-cli,$(WASM_BINDGEN_VERSION),webpki-roots@1.0.10)
	@cargo install --list | grep -qE "^sqlx-cli v$(SQLX_CLI_VERSION)( |:)" || \
	  cargo install sqlx-cli --version $(SQLX_CLI_VERSION) --no-default-features --features postgres,rustls --locked
	@touch $@

$(STAMP)/npm: package-lock.json end2end/package-lock.json
	@mkdir -p $(STAMP)
	npm install --no-audit --no-fund --loglevel=error
	cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
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
build: tools
	cargo leptos build

# start_idp PORT LOG: the development identity provider in the background, until the recipe ends
define start_idp
	pidfile=target/idp-$(1).pid; [ -f $$pidfile ] && kill $$(cat $$pidfile) 2>/dev/null || true; \
	IDP_PORT=$(1) node end2end/idp/server.mjs >$(2) 2>&1 & idp=$$!; echo $$idp > $$pidfile; \
	trap "kill $$idp 2>/dev/null; rm -f $$pidfile" EXIT; \
	for i in $$(seq 1 50); do curl -sf http://127.0.0.1:$(1)/.well-known/openid-configuration >/dev/null && break; sleep 0.2; done
endef

run: db build
	./target/debug/server demo-data
	@$(call start_idp,3900,target/idp.log); \
	  echo "Switchyard on http://127.0.0.1:3000 — sign in as alice, bob, carol or dave (password = name)"; \
	  cargo leptos serve

# ---------------------------------------------------------------- tests
# the browser suite runs the binary cargo-leptos built, so that build comes last
test: export DATABASE_URL := $(TEST_DATABASE_URL)
test: fresh-db sqlx-check test-rust build test-e2e

# .sqlx/ must match the queries and the migrated schema
sqlx-check:
	SQLX_OFFLINE=false cargo sqlx prepare --workspace --check

sqlx-prepare: db
	SQLX_OFFLINE=false cargo sqlx prepare --workspace

test-rust:
	@$(call start_idp,3901,target/idp-rust.log); \
	  IDP_URL=http://127.0.0.1:3901 cargo test --workspace --features app/ssr

test-e2e:
	sqlx database drop -y -f --database-url "$(E2E_DATABASE_URL)"
	sqlx database create --database-url "$(E2E_DATABASE_URL)"
	cd end2end && CI=1 npx playwright test

# ---------------------------------------------------------------- benchmarks (not part of test)
# catalog list p50/p99 and throughput at 10k and 50k generated entities, and deploy kick-offs over
# HTTP at 32 clients plus the worker's jobs/s, each on a database of its own;
# the catalog bench runs the dev profile (dependencies at opt-level 1): its time is spent in
# Postgres; the deploy bench runs optimised (the bench profile): its HTTP path and JSON are the
# server's own work, as in production
bench: db
	cargo bench -p server --bench catalog --features app/ssr --profile dev
	cargo bench -p server --bench deploys --features app/ssr
