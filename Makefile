# Two commands for a new user: `make run` (the demo district) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PYTHON ?= python3
export FLASK_APP := wsgi

.PHONY: setup run test lint db clean

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

test: setup
	$(BIN)/pytest

# ruff, and the import contracts in pyproject.toml (imports flow one way; a new cycle fails).
lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache
