# Two commands for a new user: `make run` (the demo district) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTHON ?= python3
export FLASK_APP := wsgi

.PHONY: setup run prod test lint db clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(BIN)/.installed

db: setup
	$(BIN)/flask db upgrade

# Migrations, the demo district (a second run writes nothing), then gunicorn on $(PORT).
run: db
	$(BIN)/flask seed-demo
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 0.0.0.0:$(PORT) wsgi:app

# Production on this machine in one command (README "Production"): nginx on $(PROD_PORT) in front of
# $(WEB) gunicorn processes, $(WORKERS) job worker(s), PostgreSQL and Redis (its own under instance/prod
# unless DATABASE_URL / REDIS_URL are set), all under honcho; Ctrl-C stops everything. Needs SECRET_KEY.
PROD_PORT ?= 8000
WEB ?= 2
WORKERS ?= 1
prod: setup
	deploy/run start --port $(PROD_PORT) --web $(WEB) --workers $(WORKERS)

test: setup
	$(BIN)/pytest

# ruff, and the import contracts in pyproject.toml (imports flow one way; a new cycle fails).
lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache
