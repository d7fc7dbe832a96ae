# Two commands matter: `make serve` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS := dev,http,stream,mongo,push
HYPOTHESIS_PROFILE ?= ci
PORT ?= 3000
HOST ?= 127.0.0.1

.PHONY: help install serve dev test lint types imports unit bench nightly clean

help: ## list the targets (make serve PORT=8080 picks another port)
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][a-z-]*:[^#]*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install yc-chat with every extra

serve: install ## run the demo service on PORT (default 3000), in-memory, with curl examples
	$(BIN)/yc-chat serve --demo --host $(HOST) --port $(PORT)

dev: install ## like serve, restarting when a source file changes
	$(BIN)/yc-chat serve --demo --reload --host $(HOST) --port $(PORT)

lint: install ## ruff check and ruff format --check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install ## mypy --strict on src/
	$(BIN)/mypy src

imports: install ## import-linter contracts (the layers)
	$(BIN)/lint-imports

# The OpenAPI property run goes alone: schemathesis' pytest plugin patches Hypothesis for
# the whole session (its reporting and buffer size), which the other suites must not get.
SCHEMATHESIS_TESTS := tests/http/test_openapi_property.py

unit: install ## pytest: every test suite
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q $(SCHEMATHESIS_TESTS)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q -p no:schemathesis \
		--ignore=$(SCHEMATHESIS_TESTS)

test: lint types imports unit ## everything CI runs: lint, types, imports, tests

nightly: HYPOTHESIS_PROFILE := nightly
nightly: unit ## the tests with the long Hypothesis profile

bench: install ## benchmarks (127.0.0.1 only), written to .bench/latest.md
	$(BIN)/python bench/run.py

clean: ## remove .venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
