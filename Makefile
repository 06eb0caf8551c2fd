# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint format schema install clean bench graphiql-assets

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate the embedded database, seed the demo program and serve GraphQL.
run: $(STAMP)
	$(BIN)/loyalty migrate
	$(BIN)/loyalty demo
	$(BIN)/loyalty serve

## Set up and run every check: lint, types, schema freshness, the whole test suite.
test: $(STAMP) lint
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
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
