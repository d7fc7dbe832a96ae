# Two commands matter: `make serve` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS := dev,http,stream,mongo,push
HYPOTHESIS_PROFILE ?= ci

.PHONY: install serve test lint types imports unit bench nightly clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/yc-chat serve --demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy src

imports: install
	$(BIN)/lint-imports

# The OpenAPI property run goes alone: schemathesis' pytest plugin patches Hypothesis for
# the whole session (its reporting and buffer size), which the other suites must not get.
SCHEMATHESIS_TESTS := tests/http/test_openapi_property.py

unit: install
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q $(SCHEMATHESIS_TESTS)
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest -q -p no:schemathesis \
		--ignore=$(SCHEMATHESIS_TESTS)

test: lint types imports unit

nightly: HYPOTHESIS_PROFILE := nightly
nightly: unit

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
