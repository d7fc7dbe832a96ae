# Two commands matter: `make serve` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS := dev,http,stream,mongo,push,postgres
HYPOTHESIS_PROFILE ?= ci
PORT ?= 3000
HOST ?= 127.0.0.1

.PHONY: help install serve dev docs test lint fmt types imports unit suite js console bench nightly clean ferretdb servers mutants

# FerretDB 1.x (MongoDB's wire protocol over SQLite): the real server the Beanie suites run
# on. Built once from the Go module proxy into .build/ (like the venv, a stamp keeps it).
FERRETDB_VERSION := v1.24.2
FERRETDB_STAMP := .build/ferretdb-$(FERRETDB_VERSION).stamp

help: ## list the targets (make serve PORT=8080 picks another port)
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][a-z-]*:[^#]*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install yc-chat with every extra

serve: install console ## run the demo service on PORT (default 3000), in-memory, with curl examples
	$(BIN)/yc-chat serve --demo --host $(HOST) --port $(PORT)

$(FERRETDB_STAMP): tools/build-ferretdb
	tools/build-ferretdb $(FERRETDB_VERSION) .build
	touch $(FERRETDB_STAMP)

ferretdb: $(FERRETDB_STAMP) ## build FerretDB (needs Go) for the real-server MongoDB suites

# The real servers the suites start (tests/support/servers.py): FerretDB where Go can build it;
# redis-server comes from the system. Without them, those suites skip with one line each.
servers:
	@if command -v go >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory ferretdb; \
	else \
		echo "make test: Go is not installed, so FerretDB cannot be built: the real-server MongoDB suites will skip (install Go 1.22+ to run them)"; \
	fi
	@command -v redis-server >/dev/null 2>&1 || \
		echo "make test: redis-server is not installed: the Redis suites will skip (apt-get install redis-server)"

# The clinic console (`serve --demo` serves it at /demo/): built with Vite from web/ into
# the package (src/yc_chat/entrypoints/console/, not committed), again only when its
# sources change. Without npm it is skipped with one line (the page then says so).
CONSOLE_OUT := src/yc_chat/entrypoints/console/index.html
CONSOLE_SOURCES := web/package.json web/package-lock.json web/index.html web/vite.config.js \
	$(wildcard web/src/*)

console: $(CONSOLE_OUT) ## build the clinic console (needs npm)

$(CONSOLE_OUT): $(CONSOLE_SOURCES)
	@if command -v npm >/dev/null 2>&1; then \
		cd web && npm ci --silent --no-audit --no-fund && npm run --silent build; \
	elif [ "$$CI" = "true" ]; then \
		echo "make console: node and npm are required under CI"; exit 1; \
	else \
		echo "make console: SKIPPED: npm not found (Node 20+ builds the clinic console)"; \
	fi

dev: install console ## like serve, restarting when a source file changes
	$(BIN)/yc-chat serve --demo --reload --host $(HOST) --port $(PORT)

docs: install ## regenerate docs/api.md from the served OpenAPI document
	mkdir -p docs
	$(BIN)/python -m yc_chat.entrypoints.api_reference > docs/api.md

lint: install ## ruff check and ruff format --check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

fmt: install ## ruff format, then ruff check --fix (what `make lint` checks, applied)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

types: install ## mypy --strict on src/
	$(BIN)/mypy src

imports: install ## import-linter contracts (the layers)
	$(BIN)/lint-imports

# The OpenAPI property run goes alone: schemathesis' pytest plugin patches Hypothesis for
# the whole session (its reporting and buffer size), which the other suites must not get.
SCHEMATHESIS_TESTS := tests/http/test_responses_match_openapi.py

# The fast suites: the unit tests (the emulator's state included) and the port contracts on
# the in-process adapters, without the real servers or the emulator over HTTP.
UNIT_TESTS := tests/unit tests/contract tests/stream_emulator/test_stream_state.py \
	tests/stream_emulator/test_permissions.py
IN_PROCESS_ONLY := not beanie-server and not stream-emulator and not redis and not postgres

unit: install ## pytest: the fast suites only (unit, contracts on in-process adapters)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q -p no:schemathesis \
		$(UNIT_TESTS) -k "$(IN_PROCESS_ONLY)"

suite: install ## pytest: every test suite
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q $(SCHEMATHESIS_TESTS)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q -p no:schemathesis \
		--ignore=$(SCHEMATHESIS_TESTS)

# The official stream-chat JS SDK (and headless Chromium, when installed) against a real
# `yc-chat serve`: npm dependencies come from the committed lockfile. Without Node the
# suite skips with one line, except under CI where that is a failure.
JS_TESTS := tests/js

js: install console ## the official stream-chat JS SDK against a real yc-chat serve (needs Node)
	@if command -v npm >/dev/null 2>&1; then \
		cd $(JS_TESTS) && npm ci --silent --no-audit --no-fund && \
		YC_CHAT=$(CURDIR)/$(BIN)/yc-chat node --test --test-concurrency=1 --test-timeout=120000; \
	elif [ "$$CI" = "true" ]; then \
		echo "make js: node and npm are required under CI"; exit 1; \
	else \
		echo "make js: SKIPPED: node and npm not found (Node 20+ runs the JS SDK tests)"; \
	fi

# Opt-in (needs the suite: cloned from GitHub when the network allows, else SDK_SUITE_DIR):
# Stream's own Python SDK tests, sync then async, against `yc-chat emulator`: the pinned
# in-scope lists in tests/sdk_suite/, then the out-of-scope ones, each refused as not
# supported. The async suite runs in .build/sdk-async-venv (its own pytest pins).
sdk-suite: install ## Stream's Python SDK suites (sync and async) against the emulator (SDK_SUITE_DIR=checkout)
	tools/sdk-suite in-scope
	tools/sdk-suite out-of-scope
	tools/sdk-suite async-in-scope
	tools/sdk-suite async-out-of-scope

test: lint types imports servers suite js ## everything CI runs: lint, types, imports, tests

# Opt-in: mutation testing of the security code with mutmut (the `mutation` extra; settings
# in pyproject's [tool.mutmut]: the files and the fast suites). One module at a time, niced,
# two workers: the machine is shared. `make mutants MUTANT_MODULES=yc_chat.domain.policies`
# runs one. Results in mutants/ (`.venv/bin/mutmut show NAME`); the last run's table and the
# equivalent survivors are in docs/testing.md.
MUTANT_MODULES ?= yc_chat.domain.policies yc_chat.domain.provenance \
	yc_chat.entrypoints.http.auth yc_chat.entrypoints.http.controllers.webhooks \
	yc_chat.domain.usecases.inbox yc_chat.domain.usecases.groups \
	yc_chat.domain.usecases.offboarding

mutants: install ## mutation-test the security code (slow: most of an hour on 2 cores)
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS),mutation]'
	for module in $(MUTANT_MODULES); do \
		HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) nice -n 10 $(BIN)/mutmut run --max-children 2 \
			"$$module.*" || exit 1; \
	done
	$(BIN)/mutmut results

nightly: HYPOTHESIS_PROFILE := nightly
nightly: suite ## the tests with the long Hypothesis profile

# wrk loads the servers from a process of its own; installed from Debian's packages if missing.
# The FerretDB section (about 80 s; skipped in one line without `make ferretdb`) is left out
# with BENCH_FERRETDB=0; the PostgreSQL one (about 45 s) with BENCH_POSTGRES=0.
bench: install ## benchmarks (127.0.0.1 only), written to .bench/latest.md
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq wrk; fi; }
	timeout 540 $(BIN)/python bench/run.py

clean: ## remove .venv, .build, builds and caches
	rm -rf $(VENV) .build .pytest_cache .mypy_cache .ruff_cache .hypothesis $(JS_TESTS)/node_modules web/node_modules src/yc_chat/entrypoints/console
