# Flowcast — `make run` to try it, `make test` to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-stamp
FLOWCAST_HOST ?= 127.0.0.1
FLOWCAST_PORT ?= 8000
export FLOWCAST_HOST FLOWCAST_PORT

.PHONY: help install run test test-postgresql test-sqlite lint bench check-deploy test-services clean

help:
	@echo "make run           set up, load demo data, start web + worker + beat"
	@echo "make test          set up, run every test on throwaway PostgreSQL and Redis, then"
	@echo "                   again on SQLite (the database of make run)"
	@echo "make lint          ruff (format + lint), mypy, import layers, migrations up to date"
	@echo "make bench         run the benchmarks in bench/ (figures, not pass/fail)"
	@echo "make check-deploy  Django's deployment checks with production settings"
	@echo "make install       the .venv virtualenv with every dependency (idempotent)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The console on this machine: SQLite and the filesystem broker unless DATABASE_URL /
# CELERY_BROKER_URL say otherwise. DEBUG is on unless set.
run: export DEBUG ?= true
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo
	$(BIN)/python manage.py ensure_admin --url http://$(FLOWCAST_HOST):$(FLOWCAST_PORT)/admin/
	PATH="$(BIN):$$PATH" exec $(BIN)/honcho start --env /dev/null -f Procfile

test: test-postgresql test-sqlite

test-postgresql: install test-services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on a SQLite file set up as `make run` sets it up, for the code's
# SQLite branches; tests about PostgreSQL itself (marked postgresql) are left out. A
# PYTEST_ARGS selection of such tests only leaves this pass nothing to run (pytest's
# exit status 5), which passes; without a selection, an empty pass fails.
test-sqlite: install test-services
	FLOWCAST_TEST_DB=sqlite $(BIN)/python -m pytest $(PYTEST_ARGS)$(if \
		$(strip $(PYTEST_ARGS)), || [ $$? -eq 5 ])

test-services:
	@bash bin/ensure-test-services

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

bench: install test-services
	@for script in bench/*_bench.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

check-deploy: install
	DEBUG=false SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	FLOWCAST_SECRETS_KEY="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	ALLOWED_HOSTS=flowcast.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var staticfiles db.sqlite3 db.sqlite3-wal db.sqlite3-shm
