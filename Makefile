# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# `make run` installs what serving needs; `make test` adds the test tools. Both install the
# pinned versions (with their hashes) of requirements.lock / requirements-dev.lock, which
# `make lock` regenerates from pyproject.toml.
RUN_STAMP := $(VENV)/.installed-run
STAMP     := $(VENV)/.installed
PIP       := $(BIN)/python -m pip install --quiet --disable-pip-version-check
UV        := uv==0.13.9
# `make lock LOCK_ARGS=--upgrade` moves every pin to the newest release.
LOCK_ARGS ?=
COMPILE    = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
             --generate-hashes --custom-compile-command 'make lock' --quiet $(LOCK_ARGS)
# `make run PORT=8080` (otherwise LOYALTY_PORT, or 8000)
PORT ?=
# The npm clients the suite drives against a live server (tests/api/test_third_party_clients.py).
JS_CLIENTS := tests/clients/js
JS_STAMP   := $(JS_CLIENTS)/node_modules/.installed

.PHONY: run test lint format schema install lock clean bench graphiql-assets

$(RUN_STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r requirements.lock
	$(PIP) --no-deps -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP) requirements-dev.lock
	$(PIP) --require-hashes -r requirements-dev.lock
	touch $(STAMP)

## Pin pyproject.toml's dependencies again: the dev lock first, then serving within its pins.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) '$(UV)'
	$(COMPILE) --extra dev -o requirements-dev.lock
	$(COMPILE) -c requirements-dev.lock -o requirements.lock

# Without npm the tests that need Node skip, saying why (under CI=true they fail instead).
$(JS_STAMP): $(JS_CLIENTS)/package.json $(JS_CLIENTS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(JS_CLIENTS) && npm ci --no-audit --no-fund && touch node_modules/.installed; \
	else \
	  echo "npm not found: tests that drive Node clients will skip (apt-get install nodejs npm)"; \
	fi

install: $(STAMP) $(JS_STAMP)

## Set up, migrate the embedded database, seed the demo program and serve GraphQL.
run: $(RUN_STAMP)
	$(BIN)/loyalty migrate
	$(BIN)/loyalty demo
	$(BIN)/loyalty serve $(if $(PORT),--port $(PORT))

## Set up and run every check: lint, types, schema freshness, the whole test suite.
test: $(STAMP) $(JS_STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Regenerate schema.graphql from the code.
schema: $(STAMP)
	$(BIN)/loyalty schema > schema.graphql

## Fetch the pinned GraphiQL and React builds (committed in api/static/graphiql/) again.
graphiql-assets:
	tools/fetch_graphiql.sh

## Benchmarks (by hand; needs PostgreSQL, wrk and Node): writes docs/PERFORMANCE.md.
## HTTP scenarios, then live-update fan-out, then the expiry job over 1M lots.
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(BIN)/python bench/subscriptions.py $(SUBSCRIPTION_ARGS)
	$(BIN)/python bench/expiry.py $(EXPIRY_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache $(JS_CLIENTS)/node_modules
