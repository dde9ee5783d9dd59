# Two commands for a newcomer: `make run` serves the service, `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export DATABASE_URL ?= sqlite+aiosqlite:///./giamngheo.db

.PHONY: run test lint typecheck pytest install contract bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m api.cli setup
	PORT=$(PORT) $(BIN)/python -m api.cli serve

lint: $(STAMP)
	$(BIN)/ruff check api tests bench db
	$(BIN)/ruff format --check api tests bench

typecheck: $(STAMP)
	$(BIN)/mypy api tests bench

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
pytest: $(STAMP)
	env -u TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/pytest -q; fi

test: lint typecheck pytest

contract: $(STAMP)
	$(BIN)/python -m api.cli export-contract

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.sync
	$(BIN)/python -m bench.benefits
	$(BIN)/python -m bench.plans

clean:
	rm -rf $(VENV) giamngheo.db giamngheo.db-shm giamngheo.db-wal
